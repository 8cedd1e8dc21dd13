"""Test helpers for MQTT: a real Mosquitto broker process and a recording paho subscriber.

Why real parts: the publisher's promises (retained status, last will, no feedback loss
across a broker restart) are about a broker's behaviour, which a mock would only restate.
Waits poll with generous timeouts; tests assert behaviour, never durations.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

WAIT_S = 10.0


def find_mosquitto() -> str | None:
    """The broker binary; Debian installs it in /usr/sbin, which is not on every user's PATH."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("mosquitto", path=search)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout_s: float = WAIT_S, what: str = "condition") -> None:
    """Poll `predicate` until true; fail the test with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class MosquittoBroker:
    """One mosquitto process on a fixed loopback port; `stop()` then `start()` restarts it there.

    `persistence=True` keeps retained messages and persistent client sessions across a
    restart (saved on SIGTERM), which lets a test own a subscriber session that no message
    can slip past, whichever client reconnects first."""

    binary: str
    workdir: Path
    port: int
    host: str = "127.0.0.1"
    persistence: bool = False
    users: dict[str, str] = field(default_factory=dict)
    extra_config: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [f"listener {self.port} {self.host}", f"persistence {str(self.persistence).lower()}"]
        if self.persistence:
            lines += [f"persistence_location {self.workdir}/", "persistence_file mosquitto.db"]
        if self.users:
            password_file = self.workdir / "passwords"
            password_file.write_text("")
            for user, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(password_file), user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise mosquitto drops to 'mosquitto', who cannot write here
        lines += ["log_type error", "log_type warning", "log_type notice", "log_type information"]
        lines += list(self.extra_config)
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> None:
        if self.running:
            return
        config = self._write_config()
        log = self.log_path.open("ab")
        self._process = subprocess.Popen([self.binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + WAIT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start:\n{self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto not accepting on port {self.port}") from None
                time.sleep(0.02)

    def pause(self) -> None:
        """SIGSTOP: the broker stops reading its sockets, so publishers feel back-pressure."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Graceful stop (SIGTERM: persistent state is saved); SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # in case a test paused it
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(WAIT_S)


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int

    def json(self) -> Any:
        return json.loads(self.payload)


class MqttSubscriber:
    """A paho client that records every message per topic and re-subscribes on reconnect."""

    def __init__(
        self,
        host: str,
        port: int,
        topics: str | Iterable[str],
        *,
        client_id: str = "",
        clean_session: bool = True,
        qos: int = 1,
    ) -> None:
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        self.qos = qos
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._subscribed = threading.Event()
        self._subacks = 0  # one per (re)connect: a clean session must subscribe again after each
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
        )
        self._client.reconnect_delay_set(0.05, 0.5)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def __enter__(self) -> MqttSubscriber:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self, wait_subscribed: bool = True) -> MqttSubscriber:
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if wait_subscribed and not self._subscribed.wait(WAIT_S):
            raise AssertionError(f"subscriber not subscribed to {self.topics} within {WAIT_S:g} s")
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if not reason.is_failure:
            client.subscribe([(topic, self.qos) for topic in self.topics])

    def _on_subscribe(self, *_args: Any) -> None:
        with self._lock:
            self._subacks += 1
        self._subscribed.set()

    def subscriptions(self) -> int:
        """How many times the broker has acknowledged this client's subscription (once per connect)."""
        with self._lock:
            return self._subacks

    def wait_resubscribed(self, after: int, timeout_s: float = WAIT_S) -> None:
        """Wait for a subscription newer than `after`: the client is back after a broker restart."""
        wait_until(lambda: self.subscriptions() > after, timeout_s, f"{self.topics} subscribed again")

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self._messages.append(Received(message.topic, bytes(message.payload), message.retain, message.qos))

    def messages(self, topic: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self._messages if topic is None or m.topic == topic]

    def wait_for_messages(self, topic: str, count: int, timeout_s: float = WAIT_S) -> list[Received]:
        wait_until(lambda: len(self.messages(topic)) >= count, timeout_s, f"{count} messages on {topic}")
        return self.messages(topic)

    def wait_for_json(self, topic: str, predicate: Callable[[Any], bool], timeout_s: float = WAIT_S) -> Any:
        """The first JSON message on `topic` that satisfies `predicate`."""
        found: list[Any] = []

        def matched() -> bool:
            found[:] = [m.json() for m in self.messages(topic) if predicate(m.json())]
            return bool(found)

        wait_until(matched, timeout_s, f"a matching message on {topic}")
        return found[0]

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(WAIT_S)

    def publish_many(self, topic: str, payloads: Iterable[bytes], qos: int = 1, timeout_s: float = 60.0) -> None:
        """Publish back to back (a flood), then wait until the broker has acknowledged them all."""
        infos = [self._client.publish(topic, payload, qos=qos) for payload in payloads]
        wait_until(lambda: all(info.is_published() for info in infos), timeout_s, f"{len(infos)} publishes acked")
