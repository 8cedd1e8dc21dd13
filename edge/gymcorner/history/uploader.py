"""The daemon's own upload to a chain's server (`[history] upload_url`), off the frame path.

A thread wakes every `upload_every_s`, opens the box's file (its own connection) and the
server, and runs the same idempotent `upload` as `gymcorner history sync` (what the box
deleted first, then its new sessions). A server that is away is logged once (until it is
back) and tried again next round: the box keeps its sessions and its deletions and sends
them when it can. Nothing here can stop or slow the coaching.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from gymcorner.errors import HistoryError
from gymcorner.history.postgres import open_postgres, redact
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.sync import upload

_log = logging.getLogger(__name__)


class Uploader:
    def __init__(
        self, path: Path, url: str, every_s: float, connect_timeout_s: float = 10.0, device_id: str | None = None
    ) -> None:
        self.path = path
        self.device_id = device_id
        self.url = url
        self.every_s = every_s
        self.connect_timeout_s = connect_timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="history-upload", daemon=True)
        self._lock = threading.Lock()
        self._counts = {"rounds": 0, "sessions": 0, "failed": 0}
        self._last_error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, "last_error": self._last_error}

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop after the round in progress (a round blocked on the network is left behind: the
        thread is a daemon, and the next start uploads what this one did not)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.upload_once()

    def upload_once(self) -> None:
        try:
            local = open_sqlite(self.path, migrate=False)
            try:
                remote = open_postgres(self.url, self.connect_timeout_s)
                try:
                    report = upload(local, remote, self.device_id)
                finally:
                    remote.close()
            finally:
                local.close()
        except HistoryError as err:
            with self._lock:
                self._counts["failed"] += 1
                first = self._last_error is None
                self._last_error = str(err)
            if first:
                _log.warning("history upload failed, the box keeps its sessions and retries: %s", err)
            return
        with self._lock:
            self._counts["rounds"] += 1
            self._counts["sessions"] += report.sessions
            recovered, self._last_error = self._last_error is not None, None
        if recovered:
            _log.info("history upload to %s works again", redact(self.url))
        if report.happened():
            _log.info("history: %s", report.line(redact(self.url)))
