"""Spoken feedback with espeak-ng on the device's speaker (optional, off by default).

One thread speaks one message at a time (each espeak-ng run is waited for, so messages
never overlap). Waiting messages are ordered: form corrections before motivation, then
oldest first; when too many wait, the least urgent is dropped, because a cue spoken long
after the rep it was about only confuses.
"""

from __future__ import annotations

import itertools
import logging
import queue
import shutil
import subprocess
import threading
from collections.abc import Sequence

from gymcorner.coach.events import FeedbackEvent

_log = logging.getLogger(__name__)

FORM, OTHER = 0, 1
MAX_WAITING = 3


def priority_of(event: FeedbackEvent) -> int:
    return FORM if event.kind == "form" else OTHER


class Speaker:
    """Speaks feedback texts through `command` + [text] (default: espeak-ng)."""

    def __init__(
        self,
        voice: str = "en",
        words_per_minute: int = 165,
        command: Sequence[str] | None = None,
        start: bool = True,
    ) -> None:
        if command is None:
            binary = shutil.which("espeak-ng")
            if binary is None:
                from gymcorner.errors import ConfigError

                raise ConfigError("motivation.speak needs espeak-ng: sudo apt-get install espeak-ng")
            command = [binary, "-v", voice, "-s", str(words_per_minute)]
        self.command = list(command)
        self._waiting: queue.PriorityQueue[tuple[int, int, str | None]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.spoken: list[str] = []
        self.dropped = 0
        self._thread = threading.Thread(target=self._work, name="speech", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        self._thread.start()

    def say(self, event: FeedbackEvent) -> None:
        """Queue an event's text; never blocks."""
        with self._lock:
            self._waiting.put((priority_of(event), next(self._seq), event.text))
            if self._waiting.qsize() > MAX_WAITING:
                items = sorted(self._drain())
                self.dropped += len(items) - MAX_WAITING
                for item in items[:MAX_WAITING]:
                    self._waiting.put(item)

    def _drain(self) -> list[tuple[int, int, str | None]]:
        items = []
        while True:
            try:
                items.append(self._waiting.get_nowait())
            except queue.Empty:
                return items

    def close(self, timeout_s: float = 10.0) -> None:
        self._waiting.put((99, next(self._seq), None))  # after everything already waiting
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)

    def _work(self) -> None:
        while True:
            _, _, text = self._waiting.get()
            if text is None:
                return
            try:
                subprocess.run([*self.command, text], check=False, timeout=30, capture_output=True)
                self.spoken.append(text)
            except (OSError, subprocess.TimeoutExpired) as err:
                _log.warning("speech failed: %s", err)
