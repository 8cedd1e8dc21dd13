"""Counting the cycles of one 1-D signal, and how periodic a signal is.

Pure helpers of the label-free rep counter (`coach/any_reps.py`): a hysteresis state
machine whose thresholds are fractions of the signal's own recent range, and a normalised
autocorrelation that says which of several signals carries the rhythm.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from gymcorner.motion.arrays import FloatArray

REREAD_GROWTH = 1.5  # a range this many times the one rest was read on is a bigger movement


class HysteresisSettings(Protocol):
    """The fields of `AnyRepConfig` a cycle counter reads (see there for their meaning)."""

    @property
    def enter_fraction(self) -> float: ...
    @property
    def return_fraction(self) -> float: ...
    @property
    def min_rep_s(self) -> float: ...
    @property
    def partial_fraction(self) -> float: ...
    @property
    def amplitude_memory_s(self) -> float: ...


class CycleCounter:
    """Hysteresis over one 1-D signal, thresholds relative to its own recent range."""

    def __init__(self, min_range: float, cfg: HysteresisSettings) -> None:
        self.min_range, self.cfg = min_range, cfg
        self.rest_high: bool | None = None  # which side of the range is rest
        self.away = False
        self.left_t = 0.0
        self.extreme, self.extreme_t, self.extreme_v = 0.0, 0.0, 0.0
        self.lo, self.span = 0.0, 0.0
        self.rest_value = 0.0  # where rest was read (with rest_high), in the signal's current units
        self.read_span = 0.0  # the range's span then
        self.periodicity = 0.0
        self.full: deque[tuple[float, float]] = deque()  # (end time, size) of recent full cycles

    @property
    def relative_span(self) -> float:
        return self.span / self.min_range

    def set_range(self, lo: float, hi: float, history: list[tuple[float, float]]) -> None:
        """New recent range over `history` (time, smoothed value) of the window."""
        self.lo, self.span = lo, hi - lo
        if self.span < self.min_range:
            self.away, self.rest_high = False, None
        elif history:
            # Rest is where the person was before moving. When the range has since grown past
            # that place, so that it sits in the other half now (the first squat after the last
            # strides of walking in made the range), the other end is rest. Either way the
            # window is replayed, so the rep that made the range is counted when it comes
            # back to rest.
            if self.rest_high is None:
                head = [v for t, v in history if t - history[0][0] <= 0.5]
                self.rest_value, self.read_span = float(np.median(head)), self.span
                self.rest_high = self.rest_value > lo + 0.5 * self.span
            elif (
                self.away
                or self.span < REREAD_GROWTH * self.read_span  # not a bigger movement: noise moves the range too
                or (self.rest_value > lo + 0.5 * self.span) == self.rest_high
            ):
                return
            else:
                self.rest_high, self.read_span = not self.rest_high, self.span
            self.away, self.left_t = False, history[0][0]
            for t, v in history:
                self.update(t, v)

    def update(self, t: float, v: float) -> tuple[float, float, float] | None:
        """Feed one value; (start_t, far_t, amplitude) when a cycle back to rest completes."""
        if self.span < self.min_range or self.rest_high is None:
            return None
        rel = (v - self.lo) / self.span
        far = 1.0 - rel if self.rest_high else rel  # 0 at rest, 1 at the far end
        if not self.away:
            if far >= self.cfg.enter_fraction:
                self.away, self.extreme, self.extreme_t, self.extreme_v = True, far, t, v
            elif far <= self.cfg.return_fraction:
                self.left_t = t
            return None
        if far > self.extreme:
            self.extreme, self.extreme_t, self.extreme_v = far, t, v
        if far <= self.cfg.return_fraction:
            self.away = False
            start = self.left_t
            self.left_t = t
            return self._accept(t, start)
        return None

    def _accept(self, t: float, start: float) -> tuple[float, float, float] | None:
        """A complete cycle, unless too short or much smaller than the recent full ones."""
        cfg = self.cfg
        if t - start < cfg.min_rep_s:
            return None
        size = abs(self.extreme_v - (self.lo + self.span if self.rest_high else self.lo))
        while self.full and t - self.full[0][0] > cfg.amplitude_memory_s:
            self.full.popleft()
        typical = float(np.median([a for _, a in self.full])) if self.full else 0.0
        if size < cfg.partial_fraction * typical:
            return None  # a partial movement: the range has shrunk to it, the memory has not
        self.full.append((t, size))
        return start, self.extreme_t, self.extreme


def periodicity(x: FloatArray, min_lag: int) -> float:
    """Highest normalised autocorrelation at a lag between min_lag and half the length."""
    n = len(x)
    if n < 2 * min_lag + 2:
        return 0.0
    x = x - x.mean()
    energy = float(x @ x)
    if energy <= 0:
        return 0.0
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[: n // 2 + 1]
    lags = np.arange(min_lag, n // 2 + 1)
    ac = ac[lags] / (energy * (n - lags) / n)  # unbiased: each lag over its overlap
    return float(ac.max())
