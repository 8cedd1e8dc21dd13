"""Steadying the two alignment points that place the next frame's ROI.

MediaPipe filters these points even with landmark smoothing off, and heavily (a One Euro
filter at 0.01 Hz at rest): a crop that jitters makes every landmark jitter, while a
crop that lags by a few pixels costs nothing because the ROI has a margin. Speeds are
measured in ROI sizes per second so the filter behaves the same near and far.
"""

from __future__ import annotations

import math

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
