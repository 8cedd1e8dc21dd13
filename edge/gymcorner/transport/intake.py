"""Command intake: what arrives on `cmd` becomes at most one command for the frame loop and
exactly one reply.

It runs on the MQTT client's network thread (`receive`) and is drained by the frame loop
(`poll`). Acted on once: a retained message is never a command (the broker would hand it
over again on every reconnect); an empty payload (an app clearing a retained message) is
nothing at all. Bounded twice: a token bucket (`COMMAND_RATE_PER_S`, burst `COMMAND_BURST`)
and the frame loop's queue (`COMMAND_QUEUE_COMMANDS`); what either sheds is answered `busy`
at once, on the network thread, so a flood never reaches the frame loop. Every answer goes
through `send_reply`, the publisher's bounded reply queue.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from gymcorner.transport.commands import PROTOCOL_VERSION, Command, CommandName, InvalidCommand, parse_command

_log = logging.getLogger("gymcorner.transport.mqtt")

COMMAND_QUEUE_COMMANDS = 64  # valid commands waiting for the frame loop; beyond, "busy"
COMMAND_RATE_PER_S = 20.0  # sustained commands a device accepts; an app sends a few a minute
COMMAND_BURST = 64  # commands accepted at once before the rate applies
BUSY_ERROR = "busy: too many commands, retry later"
BUSY_LOG_EVERY_S = 60.0  # at most one warning line a minute while commands are shed


def dumps(body: Any) -> bytes:
    """Compact JSON; NaN/Infinity are refused because they are not JSON (Unity rejects them)."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


class TokenBucket:
    """`rate_per_s` tokens a second up to `burst`; `take(now_s)` spends one if there is one."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self._rate_per_s = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last_s: float | None = None

    def take(self, now_s: float) -> bool:
        if self._last_s is not None:
            self._tokens = min(self._burst, self._tokens + max(0.0, now_s - self._last_s) * self._rate_per_s)
        self._last_s = now_s
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class CommandIntake:
    """Validates, rate-limits and queues one device's commands; answers what it cannot take."""

    def __init__(self, device_id: str, topic: str, send_reply: Callable[[bytes], None]) -> None:
        self._device_id = device_id
        self._topic = topic
        self._send_reply = send_reply
        self._commands: queue.Queue[Command] = queue.Queue(maxsize=COMMAND_QUEUE_COMMANDS)
        self._bucket = TokenBucket(COMMAND_RATE_PER_S, COMMAND_BURST)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("commands_rejected", "commands_busy", "commands_retained_ignored"), 0)
        self._busy_next_log_s = 0.0
        self._busy_tails: dict[CommandName, bytes] = {}

    def receive(self, payload: bytes, retained: bool) -> None:
        """One message from `cmd` (the network thread)."""
        if retained:
            self._ignore_retained(payload)
            return
        if not payload:  # an app clearing a retained command: nothing to do or answer
            return
        try:
            command = parse_command(payload)
        except InvalidCommand as err:
            self._reject(err.command_id, str(err))
            return
        if not self._bucket.take(time.monotonic()):
            self._shed(command)
            return
        try:
            self._commands.put_nowait(command)
        except queue.Full:
            self._shed(command)

    def poll(self, limit: int | None = None) -> list[Command]:
        """Validated commands received since the last call, at most `limit` (never blocks)."""
        commands: list[Command] = []
        while limit is None or len(commands) < limit:
            try:
                commands.append(self._commands.get_nowait())
            except queue.Empty:
                return commands
        return commands

    def wait(self, timeout_s: float) -> Command | None:
        """The next accepted command, waiting at most `timeout_s`; None when none came."""
        try:
            return self._commands.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def _reject(self, command_id: str | None, reason: str) -> None:
        body = {"v": PROTOCOL_VERSION, "id": command_id, "ok": False, "error": reason, "device": self._device_id}
        with self._lock:
            self._counts["commands_rejected"] += 1
        _log.debug("MQTT command rejected: %s", reason)
        self._send_reply(dumps(body))

    def _shed(self, command: Command) -> None:
        """Answer a valid command the device has no room for: `busy`, so the app may retry.

        A flood is answered one reply per command, so this reply is built from bytes made
        once per command name: only the id is encoded each time."""
        tail = self._busy_tails.get(command.name)
        if tail is None:
            body = {"cmd": command.name.value, "ok": False, "busy": True, "error": BUSY_ERROR}
            tail = dumps({**body, "device": self._device_id})[1:]
            self._busy_tails[command.name] = tail
        payload = b'{"v":%d,"id":%s,%s' % (PROTOCOL_VERSION, dumps(command.id), tail)
        now_s = time.monotonic()
        with self._lock:
            self._counts["commands_busy"] += 1
            total = self._counts["commands_busy"]
            due = now_s >= self._busy_next_log_s
            if due:
                self._busy_next_log_s = now_s + BUSY_LOG_EVERY_S
        if due:
            _log.warning(
                "MQTT commands arriving faster than %g/s (burst %d): answering the excess 'busy' (%d so far)",
                COMMAND_RATE_PER_S,
                COMMAND_BURST,
                total,
            )
        self._send_reply(payload)

    def _ignore_retained(self, payload: bytes) -> None:
        """A retained command would be acted on again after every reconnect: never act on one."""
        if not payload:
            return  # the broker never delivers an empty retained message; nothing to count
        with self._lock:
            self._counts["commands_retained_ignored"] += 1
        _log.warning(
            "MQTT ignored a retained message on %s (%d bytes): commands must be published with "
            "retain off; clear it by publishing an empty retained message",
            self._topic,
            len(payload),
        )
