"""A rep between two fixed thresholds: the hysteresis that the squat coach's depth
judgement (`squat.DescentTracker`) and field calibration (`calibration.measure`) share.

A cycle begins on the first value at or above `enter_at`, keeps its peak, and ends on the
first value below `leave_below` (set lower, so noise about one threshold cannot end and
restart it). Missing values (None) leave the state as it is. The live rep counter
(`reps.LiveRepCounter`) is a different machine on purpose: its thresholds move with the
person's own start level, which fixed degrees cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")  # what marks a frame: an index, a time


@dataclass(frozen=True)
class Cycle(Generic[K]):
    start: K
    end: K
    peak: float


class ThresholdCycle(Generic[K]):
    def __init__(self, enter_at: float, leave_below: float) -> None:
        self.enter_at, self.leave_below = enter_at, leave_below
        self._started: tuple[K] | None = None  # (key,) of the first frame, while in a cycle
        self._peak = 0.0

    @property
    def active(self) -> bool:
        return self._started is not None

    def reset(self) -> None:
        self._started, self._peak = None, 0.0

    def update(self, key: K, value: float | None) -> Cycle[K] | None:
        """Feed one frame; the finished cycle on the frame it ends, else None."""
        if value is None:
            return None
        if self._started is None and value >= self.enter_at:
            self._started = (key,)
        if self._started is None:
            return None
        self._peak = max(self._peak, value)
        if value < self.leave_below:
            cycle = Cycle(self._started[0], key, self._peak)
            self.reset()
            return cycle
        return None
