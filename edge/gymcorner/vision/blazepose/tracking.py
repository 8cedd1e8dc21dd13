"""Steadying the two alignment points that place the next frame's ROI.

MediaPipe filters these points even with landmark smoothing off, and heavily (a One Euro
filter at 0.01 Hz at rest): a crop that jitters makes every landmark jitter, while a
crop that lags by a few pixels costs nothing because the ROI has a margin. Speeds are
measured in ROI sizes per second so the filter behaves the same near and far.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from gymcorner.vision.blazepose.roi import Roi

MIN_CUTOFF_HZ = 0.01
BETA = 10.0
D_CUTOFF_HZ = 1.0
DEFAULT_RATE_HZ = 30.0  # used until two timestamps give the real rate


def _alpha(cutoff_hz: float, rate_hz: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau * rate_hz)


class AlignmentFilter:
    """One Euro filter over the two alignment points (x, y, z in frame pixels, z like x)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._t_s: float | None = None
        self._rate_hz = DEFAULT_RATE_HZ
        self._raw: np.ndarray | None = None
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def apply(self, points: np.ndarray, t_s: float, width: int, height: int) -> np.ndarray:
        """(2, 3) frame-normalised points -> filtered, same layout."""
        unscaled = Roi.from_alignment_points(points[0], points[1], width, height, margin=1.0)
        scale = np.array([width, height, width], dtype=np.float64)
        px = points * scale
        if unscaled.side_px < 1e-6:
            return points.copy()
        if self._t_s is not None and t_s <= self._t_s:
            return points.copy()  # time must move forward; a repeated frame passes through
        if self._t_s is not None:
            self._rate_hz = 1.0 / (t_s - self._t_s)
        self._t_s = t_s
        if self._raw is None or self._value is None or self._speed is None:
            speed = np.zeros_like(px)
            self._speed = speed
            self._value = px
        else:
            speed = (px - self._raw) / unscaled.side_px * self._rate_hz
            a_d = _alpha(D_CUTOFF_HZ, self._rate_hz)
            self._speed = a_d * speed + (1 - a_d) * self._speed
            cutoff = MIN_CUTOFF_HZ + BETA * np.abs(self._speed)
            a = 1.0 / (1.0 + self._rate_hz / (2 * math.pi * cutoff))
            self._value = a * px + (1 - a) * self._value
        self._raw = px
        return self._value / scale


@dataclass(frozen=True)
class _Result:
    """What one frame's landmark result does to the track: found (alignment points) or lost;
    None: nothing (no detection, or a frame skipped)."""

    alignment: np.ndarray | None
    t_s: float
    size: tuple[int, int]


class Track:
    """The tracked person's ROI frame after frame, the same whatever order frames finish in.

    Frames are numbered in the order they were read (`ticket`). Frame n starts from the ROI
    the results of frames up to n - `lag` left: n - 1 with one worker (the serial tracker),
    n - 2 with two, and so on. Results are applied in frame order: one that finishes early
    waits in `pending` for the frames before it. So a clip gives the same landmarks on every
    run, however the threads are scheduled. A frame whose result never comes (its estimate
    failed) is `skip`ped by its caller; a wait longer than `STALL_S` (a caller that did not)
    goes on from the newest ROI rather than hang.
    """

    STALL_S = 5.0
    _KEEP = 8  # ROIs kept before the newest applied frame (lag is at most 4)

    def __init__(self, lag: int = 1) -> None:
        if lag < 1:
            raise ValueError("lag must be 1 or more")
        self.lag = lag
        self._ready = threading.Condition()
        self._filter = AlignmentFilter()
        self._issued = 0
        self._applied = -1  # the newest frame number applied, in order
        self._roi_after: dict[int, tuple[Roi, tuple[int, int]] | None] = {-1: None}
        self._pending: dict[int, _Result | None] = {}

    def ticket(self) -> int:
        """The next frame's number (call in the order frames are read)."""
        with self._ready:
            number = self._issued
            self._issued += 1
            return number

    def start(self, number: int, size: tuple[int, int]) -> Roi | None:
        """The ROI frame `number` starts from: None when nobody is tracked (run the detector)
        or the track is in another frame size's pixels."""
        wanted = number - self.lag
        with self._ready:
            if not self._ready.wait_for(lambda: self._applied >= wanted, self.STALL_S):
                wanted = self._applied  # a frame before it never came back: go on from the newest
            entry = self._roi_after.get(wanted, self._roi_after.get(self._applied))
        if entry is None or entry[1] != size:
            return None
        return entry[0]

    def finish(self, number: int, result: _Result | None) -> None:
        """Frame `number`'s result, applied once every frame before it is."""
        with self._ready:
            if number <= self._applied:
                return  # a frame given up on by `start`'s stall: too late to count
            self._pending[number] = result
            while self._applied + 1 in self._pending:
                self._apply(self._applied + 1, self._pending.pop(self._applied + 1))
            self._ready.notify_all()

    def found(self, number: int, alignment: np.ndarray, t_s: float, size: tuple[int, int]) -> None:
        self.finish(number, _Result(alignment, t_s, size))

    def lost(self, number: int, t_s: float, size: tuple[int, int]) -> None:
        self.finish(number, _Result(None, t_s, size))

    def skip(self, number: int) -> None:
        """Frame `number` changes nothing (no detection, or its estimate failed)."""
        self.finish(number, None)

    def reset(self) -> None:
        """Forget the tracked person (the frames already numbered keep their order)."""
        with self._ready:
            self._filter.reset()
            self._roi_after[self._applied] = None

    def _apply(self, number: int, result: _Result | None) -> None:
        previous = self._roi_after.get(self._applied)
        if result is None:
            after = previous
        elif result.alignment is None:
            self._filter.reset()
            after = None
        else:
            if previous is not None and previous[1] != result.size:
                self._filter.reset()
            width, height = result.size
            centre, scale_point = self._filter.apply(result.alignment, result.t_s, width, height)
            after = (Roi.from_alignment_points(centre, scale_point, width, height), result.size)
        self._applied = number
        self._roi_after[number] = after
        self._roi_after.pop(number - self._KEEP - 1, None)  # frames are applied one after another

