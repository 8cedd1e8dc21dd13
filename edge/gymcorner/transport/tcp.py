"""TCP JSON-lines link: the MQTT payloads served straight to apps on the LAN (the socket link a Unity app reads).

Each line is `{"topic": "<status|avatar|feedback|session>", "payload": {...}}` followed by
`\\n` (schema: docs/schemas/tcp-line.json); the payload is exactly what MQTT carries, with the
avatar in its JSON form. Apps that cannot run an MQTT client (a bare Unity scene) connect
with a plain socket and read lines.

Why it is shaped like this:

* The frame loop must never wait on a client (DESIGN principle 4). `publish_*` serialises
  once, appends the line to each client's queue under a lock and wakes the I/O thread by a
  byte on a socketpair; only the I/O thread touches client sockets, all non-blocking, driven
  by `selectors`.
* A slow client costs only itself: once it has `avatar_backlog_frames` avatar lines unsent
  it **skips** new avatar frames (a late pose is worse than none; counted per client). It is
  **dropped** after `drop_after_skipped_frames` skips in a row (a stalled app, not a hiccup),
  or once its unsent lines exceed `client_buffer_bytes` (feedback is never skipped, so a
  client that cannot keep up with it is closed rather than lied to).
* Each client socket's kernel send buffer is kept small (`SNDBUF_BYTES`), so back-pressure
  shows up in our queue within a second of JSON avatar lines instead of megabytes of stale
  poses piling up in the kernel.
* Like MQTT's retained messages, a client that connects receives the current status and
  the latest session summary first.
* Input from clients is read and discarded (bounded): commands go over MQTT's `cmd` topic.
"""

from __future__ import annotations

import json
import logging
import secrets
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gymcorner.avatar.codec import AvatarFrame
from gymcorner.avatar.codec_json import encode_json
from gymcorner.config import TcpLinkConfig
from gymcorner.errors import ConfigError

_log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
LineKind = Literal["status", "avatar", "feedback", "session"]
_READ_CHUNK = 4096
_SEND_CHUNK = 65536
SNDBUF_BYTES = 65536
LISTEN_BACKLOG = 128  # connections the kernel completes while we are busy; a burst of apps reconnecting
CONNECTION_SUMMARY_EVERY_S = 60.0  # one INFO line at most this often about clients that came and went


def encode_line(topic: LineKind, payload: Mapping[str, Any] | bytes) -> bytes:
    """One line of the link; `payload` is a mapping or an already-encoded JSON object."""
    body = (
        payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    )
    return b'{"topic":"' + topic.encode() + b'","payload":' + body + b"}\n"


@dataclass
class _Client:
    sock: socket.socket
    peer: str
    lines: deque[tuple[LineKind, bytes]] = field(default_factory=deque)
    head_offset: int = 0  # bytes of lines[0] already written
    pending_bytes: int = 0
    avatar_pending: int = 0
    sent_lines: int = 0
    skipped_avatar: int = 0
    skipped_in_a_row: int = 0
    closed: bool = False


class TcpLinkServer:
    """Listens on `bind_host:port` and streams every published payload to each client."""

    name = "tcp"

    def __init__(self, config: TcpLinkConfig, device_id: str, boot_id: str | None = None) -> None:
        self._config = config
        self.device_id = device_id
        self.boot_id = boot_id or secrets.token_hex(4)  # share the MQTT publisher's, so ids match
        self._lock = threading.Lock()
        self._clients: list[_Client] = []
        self._status: bytes | None = None
        self._session: bytes | None = None
        self._next_seq = 1
        self._counts = dict.fromkeys(("clients_accepted", "clients_refused", "clients_dropped", "avatar_skipped"), 0)
        self._churn = dict.fromkeys(("connected", "disconnected", "refused"), 0)  # since the last summary
        self._next_summary_s = 0.0
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ---------------------------------------------------------------- lifecycle

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the real port when the config asked for 0."""
        if self._listener is None:
            raise RuntimeError("TCP link not started")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        c = self._config
        try:
            listener = socket.create_server((c.bind_host, c.port), reuse_port=False, backlog=LISTEN_BACKLOG)
        except OSError as err:
            raise ConfigError(f"links.tcp: cannot listen on {c.bind_host}:{c.port}: {err.strerror or err}") from err
        listener.setblocking(False)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name="gymcorner-tcp-link", daemon=True)
        self._thread.start()
        _log.info("TCP JSON-lines link listening on %s:%d", *self.address)

    def close(self, flush_timeout_s: float = 2.0) -> None:
        """Tell clients the device goes offline, let them receive what is queued (that status
        and the final session), within `flush_timeout_s`; then close every client and join
        the I/O thread."""
        if self._listener is not None and not self._stopping:
            self.publish_status("offline", detail="shutdown")
        deadline = time.monotonic() + flush_timeout_s
        self._wake()
        while time.monotonic() < deadline:
            with self._lock:
                if self._stopping or not any(c.lines and not c.closed for c in self._clients):
                    break
            time.sleep(0.01)  # shutdown only: the I/O thread is writing
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(5.0)
        for client in list(self._clients):
            self._close_client(client, None)
        if self._listener is not None:
            self._listener.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # ------------------------------------------------------------- publish API

    def publish_status(self, state: str, **fields: Any) -> None:
        body = {**fields, "v": PROTOCOL_VERSION, "state": state, "device": self.device_id, "boot": self.boot_id}
        line = encode_line("status", body)
        with self._lock:
            self._status = line
        self._broadcast("status", line)

    def publish_feedback(self, event: Mapping[str, Any]) -> str | None:
        """Send one feedback event; pass the MQTT publisher's id so both links carry the same one."""
        body = dict(event)
        with self._lock:
            if body.get("id") is None:
                body["id"] = f"{self.device_id}-{self.boot_id}-t{self._next_seq}"
                self._next_seq += 1
        body.setdefault("v", PROTOCOL_VERSION)
        body.setdefault("device", self.device_id)
        self._broadcast("feedback", encode_line("feedback", body))
        return None  # its own ids ('t' series) stay on this link: MQTT's, when present, win

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        body = {**summary, "v": PROTOCOL_VERSION, "device": self.device_id}
        line = encode_line("session", body)
        with self._lock:
            self._session = line
        self._broadcast("session", line)

    def publish_avatar(self, frame: AvatarFrame) -> None:
        self._broadcast("avatar", encode_line("avatar", encode_json(frame)))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, "clients": sum(1 for c in self._clients if not c.closed)}

    # --------------------------------------------------------------- internals

    def _broadcast(self, kind: LineKind, line: bytes) -> None:
        """Queue `line` for every client; never blocks on a socket (called by the frame loop)."""
        with self._lock:
            if self._stopping or not self._clients:
                return
            for client in self._clients:
                if client.closed:
                    continue
                if kind == "avatar" and client.avatar_pending >= self._config.avatar_backlog_frames:
                    client.skipped_avatar += 1
                    client.skipped_in_a_row += 1
                    self._counts["avatar_skipped"] += 1
                    if client.skipped_in_a_row >= self._config.drop_after_skipped_frames:
                        self._drop_locked(client, f"skipped {client.skipped_in_a_row} avatar frames in a row")
                    continue
                if client.pending_bytes + len(line) > self._config.client_buffer_bytes:
                    self._drop_locked(client, f"{client.pending_bytes} bytes unsent")
                    continue
                if kind == "avatar":
                    client.skipped_in_a_row = 0
                self._queue_locked(client, kind, line)
        self._wake()

    def _drop_locked(self, client: _Client, why: str) -> None:
        client.closed = True  # the I/O thread closes the socket
        self._counts["clients_dropped"] += 1
        _log.warning("TCP client %s too slow (%s); dropping it", client.peer, why)

    def _queue_locked(self, client: _Client, kind: LineKind, line: bytes) -> None:
        client.lines.append((kind, line))
        client.pending_bytes += len(line)
        if kind == "avatar":
            client.avatar_pending += 1

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # the pipe is full, so the I/O thread is already due to wake

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                clients = list(self._clients)
            for client in clients:
                self._update_interest(client)
            self._log_summary_if_due(time.monotonic())
            for key, mask in self._selector.select(timeout=1.0):
                if key.data == "accept":
                    self._accept_pending()
                elif key.data == "wake":
                    try:
                        while self._wake_r.recv(_READ_CHUNK):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                else:
                    client: _Client = key.data
                    if mask & selectors.EVENT_READ:
                        self._read(client)
                    if mask & selectors.EVENT_WRITE and not client.closed:
                        self._write(client)

    def _update_interest(self, client: _Client) -> None:
        with self._lock:
            closed = client.closed
            wants_write = bool(client.lines)
        if closed:
            self._close_client(client, "dropped")
        else:
            self._selector.modify(
                client.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if wants_write else 0), client
            )

    def _log_summary_if_due(self, now_s: float) -> None:
        """Connections are logged one per line at DEBUG only: a client that reconnects in a
        loop must not flood the journal. INFO gets one summary per period, when any came or went."""
        if now_s < self._next_summary_s:
            return
        with self._lock:
            churn, self._churn = self._churn, dict.fromkeys(self._churn, 0)
            live = sum(1 for c in self._clients if not c.closed)
        self._next_summary_s = now_s + CONNECTION_SUMMARY_EVERY_S
        if any(churn.values()):
            _log.info(
                "TCP link: %d clients connected, %d disconnected, %d refused since the last summary; %d now",
                churn["connected"],
                churn["disconnected"],
                churn["refused"],
                live,
            )

    def _accept_pending(self) -> None:
        """Accept every connection the kernel has completed, not one per wake-up."""
        while self._accept():
            pass

    def _accept(self) -> bool:
        assert self._listener is not None
        try:
            sock, addr = self._listener.accept()
        except (BlockingIOError, OSError):
            return False
        peer = f"{addr[0]}:{addr[1]}"
        with self._lock:
            live = sum(1 for c in self._clients if not c.closed)
            if live >= self._config.max_clients:
                self._counts["clients_refused"] += 1
                self._churn["refused"] += 1
                sock.close()
                _log.debug("TCP client %s refused: %d clients already", peer, live)
                return True
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF_BYTES)
            client = _Client(sock, peer)
            for kind, line in (("status", self._status), ("session", self._session)):
                if line is not None:
                    self._queue_locked(client, kind, line)  # type: ignore[arg-type]
            self._clients.append(client)
            self._counts["clients_accepted"] += 1
            self._churn["connected"] += 1
        self._selector.register(sock, selectors.EVENT_READ, client)
        _log.debug("TCP client %s connected", peer)
        return True

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(_READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close_client(client, "disconnected")

    def _write(self, client: _Client) -> None:
        while True:
            with self._lock:
                if not client.lines:
                    return
                kind, line = client.lines[0]
                chunk = line[client.head_offset : client.head_offset + _SEND_CHUNK]
            try:
                sent = client.sock.send(chunk)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close_client(client, "connection lost")
                return
            with self._lock:
                client.head_offset += sent
                client.pending_bytes -= sent
                if client.head_offset >= len(line):
                    client.lines.popleft()
                    client.head_offset = 0
                    client.sent_lines += 1
                    if kind == "avatar":
                        client.avatar_pending -= 1
            if sent < len(chunk):
                return

    def _close_client(self, client: _Client, why: str | None) -> None:
        with self._lock:
            client.closed = True
            if client in self._clients:
                self._clients.remove(client)
                self._churn["disconnected"] += 1
            else:
                return
        try:
            self._selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()
        if why:
            _log.debug(
                "TCP client %s %s (%d lines sent, %d avatar frames skipped)",
                client.peer,
                why,
                client.sent_lines,
                client.skipped_avatar,
            )
