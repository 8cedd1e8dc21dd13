"""Squat heel lift (side view) and lateral shift (front view), judged once per descent.

Both are departures from how the person stood just before the descent began, so that
shoes, a camera a little off level or a stance a little off centre are not faults:

* heel lift: the heel's height above the toe of the leg nearer the camera, in femur
  lengths; standing it is a small constant (the shoe), rising when the heel leaves the floor;
* lateral shift: the hip centre's sideways offset from the midpoint of the ankles, in
  shoulder spans; it grows when the person sits into one leg.

`Departure` keeps the value of the last frame the person stood (before the descent began:
its threshold is well into the bend), the largest departure from it during the descent,
and reports it on the frame the descent ends.
"""

from __future__ import annotations

import numpy as np

from gymcorner.motion.arrays import AnyFloatArray
from gymcorner.motion.landmarks import Landmark as L

_FEET = {"left": (L.LEFT_HEEL, L.LEFT_FOOT_INDEX), "right": (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX)}
_SHIFT = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_ANKLE, L.RIGHT_ANKLE)


def heel_above_toe_femur(
    px: AnyFloatArray, vis: AnyFloatArray, side: str, femur_px: float, min_vis: float
) -> float | None:
    heel, toe = _FEET[side]
    if min(float(vis[heel]), float(vis[toe])) < min_vis or femur_px <= 0:
        return None
    return float(px[toe, 1] - px[heel, 1]) / femur_px


def hip_shift_shoulders(px: AnyFloatArray, vis: AnyFloatArray, min_vis: float) -> float | None:
    if float(np.min(vis[list(_SHIFT)])) < min_vis:
        return None
    span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    if span <= 0:
        return None
    hips = float(px[L.LEFT_HIP, 0] + px[L.RIGHT_HIP, 0]) / 2
    ankles = float(px[L.LEFT_ANKLE, 0] + px[L.RIGHT_ANKLE, 0]) / 2
    return (hips - ankles) / span


class Departure:
    """The largest departure of a value during a descent from its last standing value,
    reported on the frame that descent ends (`signed`: only increases count, else either way)."""

    def __init__(self, signed: bool) -> None:
        self._signed = signed
        self._before: float | None = None
        self._largest: float | None = None
        self._was_active = False

    def reset(self) -> None:
        self._before, self._largest, self._was_active = None, None, False

    def update(self, in_descent: bool, standing: bool, value: float | None) -> float | None:
        ended = self._was_active and not in_descent
        self._was_active = in_descent
        if ended:
            largest, self._largest = self._largest, None
            return largest
        if not in_descent:
            if value is not None and standing:
                self._before = value
            return None
        if value is not None and self._before is not None:
            change = value - self._before if self._signed else abs(value - self._before)
            self._largest = change if self._largest is None else max(self._largest, change)
        return None
