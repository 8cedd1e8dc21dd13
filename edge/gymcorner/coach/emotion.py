"""Emotion events: the recogniser's label on 1-second intervals, and a
salient event when one emotion holds for N consecutive intervals (4 x "fear" -> "Keep
going!"). The mapping from emotions to messages is data from the config.

Pure: time comes in with each observation (frame time); no clock, no I/O. An interval
with no face breaks a run, as does any other label; after an event the run starts again,
so a person who stays afraid hears the cue once per N intervals, not every second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gymcorner.coach.events import FeedbackEvent


@dataclass(frozen=True)
class EmotionObservation:
    t: float  # frame time of the recognised frame, seconds
    label: str | None  # FER class, None when no face was found
    valence: float = 0.0
    confidence: float = 0.0


class EmotionEvents:
    """Turns one observation per interval into salient feedback events."""

    def __init__(self, messages: Mapping[str, str], hold_intervals: int = 4, interval_s: float = 1.0) -> None:
        self.messages = dict(messages)
        self.hold_intervals = hold_intervals
        self.interval_s = interval_s
        self._label: str | None = None
        self._run = 0
        self._last_t: float | None = None

    def reset(self) -> None:
        self._label, self._run, self._last_t = None, 0, None

    def observe(self, obs: EmotionObservation) -> FeedbackEvent | None:
        """Feed one interval; returns the event when a watched emotion completes its run."""
        # A gap of more than 1.5 intervals (recogniser late, camera stalled) is not "consecutive".
        gap = self._last_t is not None and obs.t - self._last_t > 1.5 * self.interval_s
        self._last_t = obs.t
        if obs.label is None or obs.label != self._label or gap:
            self._label = obs.label
            self._run = 0 if obs.label is None else 1
        else:
            self._run += 1
        if self._label not in self.messages or self._run < self.hold_intervals:
            return None
        label, run = self._label, self._run
        self._run = 0  # re-arm: the next event needs a fresh run
        return FeedbackEvent(
            t=obs.t,
            code=f"emotion_{label}",
            text=self.messages[label],
            kind="coach",
            severity="info",
            details={
                "emotion": label, "intervals": run, "interval_s": self.interval_s, "valence": round(obs.valence, 3)
            },
        )
