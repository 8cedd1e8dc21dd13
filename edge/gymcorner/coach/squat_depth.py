"""Squat depth seen from any direction: how far the hip comes down towards knee height.

From the side the femur shows at its full length on every frame, so "hip above the knee,
in femur lengths" is read straight off the image. From the front (or behind) the thigh
points at the camera as the person sits down and its image shrinks to nothing at
parallel, but the hip-knee height difference is still seen true (a level camera sees
vertical distances the same from every direction). What is missing is the scale: the
femur's length is taken while the person stands (the thigh is then upright, seen whole),
as the largest hip-knee distance of the last `_STANDING_WINDOW_S` outside a descent, so
that a person stepping back or forward is followed within that time. A "descent" held
longer than `_MAX_DESCENT_S` is no squat (a person who stepped back at once looks like one
whose hips dropped) and is dropped unjudged.

A descent is the hip dropping towards the knee by `front_descent_drop_femur`; it ends when
the hip is back within `front_descent_end_drop_femur` of its standing height, and its
deepest point is then judged (`squat.SQUAT_RULES`, frontal `shallow_depth`).
"""

from __future__ import annotations

from collections import deque

from gymcorner.coach.hysteresis import ThresholdCycle
from gymcorner.config import SquatConfig

_STANDING_WINDOW_S = 5.0  # the standing femur: the longest hip-knee distance seen in this time
_MAX_DESCENT_S = 10.0  # longer than any squat's bottom: something else changed (distance, camera)


class HipDropTracker:
    """Hip height above the knee in standing-femur lengths, frame by frame, and the
    deepest value of each descent on the frame it ends."""

    def __init__(self, config: SquatConfig) -> None:
        self._cycle: ThresholdCycle[None] = ThresholdCycle(
            config.front_descent_drop_femur, config.front_descent_end_drop_femur
        )
        self._standing: deque[tuple[float, float]] = deque()  # (t_s, femur px) outside a descent
        self._descent_t: float | None = None

    @property
    def active(self) -> bool:
        """A descent is under way."""
        return self._cycle.active

    def reset(self) -> None:
        self._cycle.reset()
        self._standing.clear()
        self._descent_t = None

    def update(self, t_s: float, height_px: float | None, femur_px: float | None) -> tuple[float | None, float | None]:
        """(this frame's hip above knee in standing femurs, the ended descent's deepest or None)."""
        if height_px is None or femur_px is None or femur_px <= 0:
            return None, None
        if self._cycle.active and self._descent_t is not None and t_s - self._descent_t > _MAX_DESCENT_S:
            self._cycle.reset()  # no squat lasts this long: start again from this frame
            self._standing.clear()
        if not self._cycle.active:
            self._standing.append((t_s, femur_px))
            while t_s - self._standing[0][0] > _STANDING_WINDOW_S:
                self._standing.popleft()
        femur = max(f for _, f in self._standing) if self._standing else femur_px
        above = height_px / femur
        descent = self._cycle.update(None, 1.0 - above)  # how far the hip has come down, in femurs
        if not self._cycle.active:
            self._descent_t = None
        elif self._descent_t is None:
            self._descent_t = t_s
        return above, (None if descent is None else 1.0 - descent.peak)
