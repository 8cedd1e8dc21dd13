"""The MQTT client in a process of its own, so traffic on `cmd` never takes the frame loop's GIL.

A flood of commands is parsed, validated, shed and answered by Python code on paho's
network thread. In the daemon's process that thread held the GIL in long stretches while
the frame loop, which takes the GIL back after every OpenCV and LiteRT call, waited: under
5,000 pings the avatar stream fell from 30 to about 20 frames a second although a core was
idle. `MqttProcess` runs the very same `MqttPublisher` in a child process and stands in
for it in the daemon (the same methods): each call is one message over a pipe, commands
and log lines come back over another, and the operating system, not the GIL, shares the
cores between the two.

What stays as it was: feedback ids are assigned here (`<device>-<boot>-<seq>`) so
`publish_feedback` returns at once; payloads are checked here, so a value that is not JSON
still raises in the caller; a broker setting that cannot work (a missing CA file, a bad
host name) raises `ConfigError` from `start()`. The child runs niced (`CHILD_NICE`), so
when the cores are busy the frame loop comes first. The child ignores SIGINT and SIGTERM (the
daemon's shutdown publishes the session and the retained "offline" through it first) and
exits when the daemon closes it, or at once, without a clean disconnect, when the daemon's
end of the pipe closes because the daemon died: then the broker publishes the last will.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import signal
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from gymcorner.config import MqttConfig
from gymcorner.errors import ConfigError
from gymcorner.transport.commands import Command
from gymcorner.transport.intake import dumps
from gymcorner.transport.mqtt import MqttPublisher
from gymcorner.transport.topics import (
    StatusState,
    Topics,
    check_feedback_id,
    check_reply_fields,
    check_status,
    check_subtopic,
)

_log = logging.getLogger("gymcorner.transport.mqtt")

START_TIMEOUT_S = 30.0  # the child imports paho and pydantic, then connects asynchronously
STATS_TIMEOUT_S = 2.0
RECEIVE_SLICE_S = 0.01  # a thread waiting for an answer re-checks this often, without the lock
COMMAND_POLL_S = 0.2  # the child's forwarder waits this long for a command before re-checking
# The child yields the CPU to the frame loop: under a flood of 5,000 pings the avatar stream
# held 29.0-29.3 frames a second against 30 idle at nice 10 (24.4-27.2 at 5, 19-25 at 0), on
# 2 cores with the broker and the flooding app beside it; the flood's answers take longer
# (5-6 s instead of 3-4), and the broker holds the backlog meanwhile.
CHILD_NICE = 10


class MqttProcess:
    """`MqttPublisher`'s interface, served by a `MqttPublisher` in a child process."""

    def __init__(self, config: MqttConfig, device_id: str) -> None:
        self._config = config
        self.device_id = device_id
        self.topics = Topics.for_device(config.base_topic, device_id)
        self.boot_id = secrets.token_hex(4)
        self._next_seq = 1
        ctx = multiprocessing.get_context("spawn")  # never fork a process that has threads
        child_in, self._to_child = ctx.Pipe(duplex=False)  # (read end, write end)
        self._from_child, child_out = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_child_main,
            args=(config, device_id, self.boot_id, logging.getLogger().getEffectiveLevel(), child_in, child_out),
            name="gymcorner-mqtt",
            daemon=True,
        )
        self._child_in, self._child_out = child_in, child_out
        self._send_lock = threading.Lock()  # the frame loop and the wearables thread both publish
        self._recv_lock = threading.Lock()
        self._commands: deque[Command] = deque()
        self._control: dict[str, Any] = {}  # the child's answers (ready, error, stats, closed) by kind
        self._started = self._closed = False

    def __repr__(self) -> str:
        c = self._config
        return f"MqttProcess(device={self.device_id!r}, broker={c.host}:{c.port}, tls={c.tls})"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the child and wait until its client is set up (not connected: that is async)."""
        if self._started:
            return
        self._started = True
        self._process.start()
        self._child_in.close()  # the child's ends: only the child holds them now
        self._child_out.close()
        arrived = self._wait_for(("ready", "error"), time.monotonic() + START_TIMEOUT_S)
        if arrived is None:
            raise ConfigError(f"the MQTT process did not start within {START_TIMEOUT_S:g} s")
        kind, value = arrived
        if kind == "error":
            self._process.join(5.0)
            raise ConfigError(str(value))

    def close(self, timeout_s: float = 5.0) -> None:
        """What `MqttPublisher.close` does (flush, offline status, disconnect), then the child ends."""
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        if self._process.is_alive():
            try:
                self._send("close", timeout_s)
                self._wait_for(("closed",), time.monotonic() + timeout_s + 5.0)
            except (OSError, EOFError, TimeoutError):
                pass
        self._process.join(5.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5.0)
        self._to_child.close()
        self._from_child.close()

    # ------------------------------------------------------------ publish API

    def publish_status(self, state: StatusState, **fields: Any) -> None:
        check_status(state, fields)  # a bad value raises here, in the caller, not in the child
        self._send("publish_status", state, fields)

    def publish_avatar(self, payload: bytes) -> None:
        self._send("publish_avatar", bytes(payload))

    def publish_feedback(self, event: Mapping[str, Any]) -> str:
        body = dict(event)
        if body.get("id") is None:
            with self._send_lock:
                body["id"] = f"{self.device_id}-{self.boot_id}-{self._next_seq}"
                self._next_seq += 1
        event_id = body["id"]
        check_feedback_id(event_id)
        dumps(body)
        self._send("publish_feedback", body)
        return str(event_id)

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        body = dict(summary)
        dumps(body)
        self._send("publish_session", body)

    def publish_json(self, subtopic: str, body: Mapping[str, Any], qos: int = 0, retain: bool = False) -> None:
        check_subtopic(subtopic)
        dumps(body)
        self._send("publish_json", subtopic, dict(body), qos, retain)

    def publish_discovery(self, messages: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self._send("publish_discovery", [(t, dict(b)) for t, b in messages])

    def poll_commands(self, limit: int | None = None) -> list[Command]:
        """Commands the child validated and accepted, at most `limit` (never blocks)."""
        self._drain()
        out: list[Command] = []
        with self._recv_lock:
            while self._commands and (limit is None or len(out) < limit):
                out.append(self._commands.popleft())
        return out

    def reply(self, command: Command, ok: bool, **fields: Any) -> None:
        check_reply_fields(fields)
        self._send("reply", command, ok, fields)

    def stats(self) -> dict[str, Any]:
        """The child publisher's counters (a round trip over the pipes, at most STATS_TIMEOUT_S)."""
        with self._recv_lock:
            self._control.pop("stats", None)
        self._send("stats")
        arrived = self._wait_for(("stats",), time.monotonic() + STATS_TIMEOUT_S)
        return dict(arrived[1]) if arrived is not None else {"connected": False}

    # ------------------------------------------------------------ the pipes

    def _send(self, *message: Any) -> None:
        with self._send_lock:
            try:
                self._to_child.send(message)
            except (OSError, ValueError) as err:  # the child is gone: the link is down, not the coach
                _log.debug("MQTT process unreachable: %s", err)

    def _drain(self) -> None:
        """Take in what the child sent, never waiting: the frame loop calls this. If another
        thread is reading the pipe just now, the commands are picked up next turn."""
        if not self._recv_lock.acquire(blocking=False):
            return
        try:
            items = []
            while self._from_child.poll(0):
                items.append(self._take_locked())
        except (EOFError, OSError):
            pass
        finally:
            self._recv_lock.release()
        for kind, value in items:
            self._after(kind, value)

    def _wait_for(self, kinds: tuple[str, ...], deadline: float) -> tuple[str, Any] | None:
        """The first of `kinds` the child sends (whichever thread took it in), or None at
        `deadline`. The lock is held only for short polls, so the frame loop's `_drain` is
        never kept waiting while another thread waits here."""
        while True:
            items = []
            with self._recv_lock:
                for kind in kinds:
                    if kind in self._control:
                        return kind, self._control.pop(kind)
                try:
                    while self._from_child.poll(0):
                        items.append(self._take_locked())
                except (EOFError, OSError):
                    return None
            for kind, value in items:
                self._after(kind, value)
            if items:
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                self._from_child.poll(min(RECEIVE_SLICE_S, remaining))  # wait for data, unlocked
            except (EOFError, OSError):
                return None

    def _take_locked(self) -> tuple[str, Any]:
        """One message, known to be there (poll under the same lock): commands and counters
        are kept for the callers that wait for them."""
        kind, value = self._from_child.recv()
        if kind == "command":
            self._commands.append(value)
        elif kind != "log":  # ready, error, stats, closed: kept for the caller waiting for it
            self._control[kind] = value
        return kind, value

    @staticmethod
    def _after(kind: str, value: Any) -> None:
        if kind == "log":  # the child's log lines, through the daemon's logging
            level, name, text = value
            logging.getLogger(name).log(level, "%s", text)


# ----------------------------------------------------------------- the child


class _PipeLogHandler(logging.Handler):
    def __init__(self, out: Connection, lock: threading.Lock) -> None:
        super().__init__()
        self._out, self._lock = out, lock

    def emit(self, record: logging.LogRecord) -> None:
        try:
            with self._lock:
                self._out.send(("log", (record.levelno, record.name, record.getMessage())))
        except (OSError, ValueError):
            pass


def _child_main(
    config: MqttConfig, device_id: str, boot_id: str, log_level: int, inbox: Connection, out: Connection
) -> None:
    """The child: one MqttPublisher, driven by the daemon's messages on `inbox`.

    Only the daemon holds the write end of `inbox` (spawned, not forked), so EOF on it means
    the daemon is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(CHILD_NICE)
    lock = threading.Lock()
    root = logging.getLogger()
    root.handlers[:] = [_PipeLogHandler(out, lock)]
    root.setLevel(log_level)
    try:
        publisher = MqttPublisher(config, device_id, boot_id=boot_id)
        publisher.start()
    except ConfigError as err:
        with lock:
            out.send(("error", str(err)))
        return
    with lock:
        out.send(("ready", None))
    stop = threading.Event()
    forwarder = threading.Thread(
        target=_forward_commands, args=(publisher, out, lock, stop), name="gymcorner-mqtt-commands", daemon=True
    )
    forwarder.start()
    while True:
        try:
            method, *args = inbox.recv()
        except (EOFError, OSError):
            os._exit(0)  # the daemon died: no clean disconnect, so the broker sends the last will
        if method == "close":
            stop.set()
            forwarder.join(2.0)
            publisher.close(timeout_s=float(args[0]))
            with lock:
                out.send(("closed", None))
            return
        if method == "stats":
            with lock:
                out.send(("stats", publisher.stats()))
        elif method == "publish_status":
            publisher.publish_status(args[0], **args[1])
        elif method == "reply":
            publisher.reply(args[0], args[1], **args[2])
        else:
            getattr(publisher, method)(*args)


def _forward_commands(publisher: MqttPublisher, out: Connection, lock: threading.Lock, stop: threading.Event) -> None:
    while not stop.is_set():
        command = publisher.intake.wait(COMMAND_POLL_S)
        if command is not None:
            with lock:
                out.send(("command", command))
