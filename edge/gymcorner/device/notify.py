"""systemd notification protocol (sd_notify): READY, WATCHDOG, STATUS, STOPPING.

Why by hand with the stdlib `socket` module rather than a package: the protocol is one
datagram of `KEY=value` lines sent to the AF_UNIX socket named in `$NOTIFY_SOCKET`
(a path, or an abstract name starting with '@'). That is a dozen lines; the packages
that wrap it either need libsystemd headers to build (`systemd-python`) or are unmaintained
one-file copies of the same dozen lines (`sdnotify`). Nothing here may ever raise into the
frame loop or block it: the socket is non-blocking and every error is swallowed (logged
once), because a daemon started outside systemd has no socket and must run all the same.

The watchdog interval comes from `$WATCHDOG_USEC` (set by systemd when the unit has
`WatchdogSec=`); `Notifier.watchdog()` is cheap to call on every frame and sends at most
one ping per half interval, as sd_watchdog_enabled(3) recommends.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

_log = logging.getLogger(__name__)


def _address(name: str) -> str | bytes:
    """'@name' is a Linux abstract socket: a leading NUL byte on the wire."""
    return b"\0" + name[1:].encode() if name.startswith("@") else name


def watchdog_interval_s(environ: Mapping[str, str], pid: int) -> float | None:
    """The watchdog period systemd asks for, or None when there is none (or it is for another pid)."""
    usec = environ.get("WATCHDOG_USEC")
    if not usec:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner and owner.isdigit() and int(owner) != pid:
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1e6 if value > 0 else None


class Notifier:
    """Talks to systemd when started by it; does nothing (cheaply) otherwise."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        self._clock = clock
        self._socket_name = env.get("NOTIFY_SOCKET") or None
        self._sock: socket.socket | None = None
        self._failed = False
        self.watchdog_s = watchdog_interval_s(env, os.getpid())
        self._last_ping: float | None = None
        self._status = ""

    @property
    def enabled(self) -> bool:
        return self._socket_name is not None and not self._failed

    def send(self, **fields: str | int) -> bool:
        """Send one datagram of KEY=value lines; False when there is no systemd to hear it."""
        if not self.enabled:
            return False
        payload = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto(payload, _address(self._socket_name or ""))
            return True
        except OSError as err:
            # Never let the service manager's socket take the daemon down; say it once.
            _log.warning("sd_notify to %s failed (%s); notifications off", self._socket_name, err)
            self._failed = True
            self.close()
            return False

    def ready(self, status: str = "") -> bool:
        """READY=1: the unit becomes 'active'. Call once the camera and model are up."""
        fields: dict[str, str | int] = {"ready": 1, "mainpid": os.getpid()}
        if status:
            fields["status"] = status
            self._status = status
        return self.send(**fields)

    def status(self, text: str) -> bool:
        """STATUS=...: the line `systemctl status` shows. Repeats are not re-sent."""
        text = " ".join(text.split())  # one line, whatever the caller passed
        if text == self._status:
            return False
        self._status = text
        return self.send(status=text)

    def watchdog(self) -> bool:
        """WATCHDOG=1, at most once per half watchdog interval; call it from the frame loop."""
        if self.watchdog_s is None or not self.enabled:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.watchdog_s / 2:
            return False
        self._last_ping = now
        return self.send(watchdog=1)

    def stopping(self, status: str = "stopping") -> bool:
        return self.send(stopping=1, status=status)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
