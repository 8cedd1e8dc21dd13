"""Logins kept on the server, CSRF tokens and login rate limiting.

Why server-side sessions: the cookie holds only a random token (256 bits); the user, the
role, the CSRF token and both expiry times live here, so logging out or an expiry ends a
login for good, and a stolen cookie is worth nothing after `idle_s`. They are kept in
memory: a restart of the dashboard logs everyone out, which is the safe direction.

The clock is injected (`now`), so tests move time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
class Login:
    user_id: int
    name: str
    role: str
    member_id: int | None
    csrf: str
    started_at: float
    seen_at: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Logins:
    idle_s: float
    max_s: float
    now: Clock = time.monotonic
    _by_digest: dict[str, Login] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, user_id: int, name: str, role: str, member_id: int | None) -> tuple[str, Login]:
        """A new login; returns the cookie's token (kept here only as its SHA-256)."""
        token = secrets.token_urlsafe(32)
        t = self.now()
        login = Login(user_id, name, role, member_id, secrets.token_urlsafe(32), t, t)
        with self._lock:
            self._by_digest[_digest(token)] = login
        return token, login

    def get(self, token: str | None) -> Login | None:
        """The live login for a cookie's token, its idle timer restarted; None when expired."""
        if not token:
            return None
        t = self.now()
        key = _digest(token)
        with self._lock:
            login = self._by_digest.get(key)
            if login is None:
                return None
            if t - login.seen_at > self.idle_s or t - login.started_at > self.max_s:
                del self._by_digest[key]
                return None
            login.seen_at = t
            return login

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_digest.pop(_digest(token), None)

    def end_user(self, user_id: int) -> None:
        """Every login of one user (a password changed)."""
        with self._lock:
            for key in [k for k, v in self._by_digest.items() if v.user_id == user_id]:
                del self._by_digest[key]


@dataclass
class LoginLimiter:
    """At most `failures` failed logins per `window_s` for one user name and for one client
    address; past that every attempt is refused (429) without looking at the password."""

    failures: int
    window_s: float = 60.0
    now: Clock = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, t: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and t - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after_s(self, *keys: str) -> float:
        """0 when an attempt may go ahead, else the seconds until one may."""
        t = self.now()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, t)
                if len(times) >= self.failures:
                    wait = max(wait, self.window_s - (t - times[0]))
            if len(self._seen) > 10_000:  # bounded: forget keys with nothing recent
                for key in [k for k, v in self._seen.items() if not self._recent(k, t)]:
                    del self._seen[key]
        return wait

    def failed(self, *keys: str) -> None:
        t = self.now()
        with self._lock:
            for key in keys:
                self._recent(key, t).append(t)

    def succeeded(self, user_key: str) -> None:
        with self._lock:
            self._seen.pop(user_key, None)
