"""The bottom of each lunge, from any view: how deep it went, how wide the feet stood, where
the front knee went.

A lunge is judged once per rep, on the frame the rep counter ends it, from the rep's bottom:
its frame with the front hip lowest towards the front knee. The front leg is the one whose
knee stands higher above its own ankle (the front shin upright, the back knee sinking to the
floor), which tells the legs apart from the side, the front and behind alike. Each measure
divides a height by a height or a width by a width of the same frame, so that it scales with
the body and its distance to the camera:

* depth: the front hip's height above the front knee, in heights of the front shin (knee
  above ankle): about 1 standing, 0 with the thigh level. The upright shin shows its whole
  length to every side (the front thigh, pointing at a frontal camera, is foreshortened: its
  length is no scale there). From the side hip and knee are as far from the camera, and the
  measure is true. From the front the hip is a femur further away than the knee, so a camera
  above knee height sees the hip higher than it is: a level thigh reads (c - k) / k ×
  femur / (d + femur) for a camera c high and d from the knee, k the knee's height (c 1 m,
  d 3 m: about 0.15; c 1.5 m, d 2 m: about 0.4);
* step width (front): the ankles' horizontal distance in shoulder spans;
* front knee caving in (front): the front knee's horizontal distance from the image line
  hip -> ankle at the knee's height, towards the body's midline (+ inside), shoulder spans. A
  knee that bends straight forward stays in the plane of that line and the camera's axis, so
  a frontal camera sees it on the line at any depth, wherever the foot was put; it leaves the
  line only by caving in or bowing out. At the bottom the knee is up to a femur ahead of the
  hip, so a body turned by θ shows femur × sin θ of that as an offset (about 0.2 shoulder
  spans at 10°).

The widths are judged only with the body square to the camera at the bottom, by the world
landmarks' yaw (`ViewState.yaw_deg`): the step of a lunge is about two femurs long, and a
body turned by θ shows sin θ of it as width. (The view tracker's other estimate, from the
image widths, reads 0° whenever shoulders and hips look wider for the torso than the
standing average it assumes: on 28 of 75 front-ish Countix lunge bottoms.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.motion.arrays import AnyFloatArray
from gymcorner.motion.landmarks import Landmark as L

_LEGS = (
    (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE),
)
# The front shin is the depth's scale only while its height is at least this share of the
# shoulders' height above the front ankle (about 0.45 at a lunge's bottom, 0.3 standing): a
# kneeling or mis-tracked front leg gives no depth rather than a division by almost nothing.
_MIN_SHIN_SHARE = 0.2


@dataclass(frozen=True)
class BottomMeasures:
    """One frame's depth and widths; None where the landmarks needed were not seen."""

    hip_above_knee_shins: float | None = None
    step_width_shoulders: float | None = None
    knee_inside_line_shoulders: float | None = None


def front_leg(px: AnyFloatArray) -> int:
    """0 (left) or 1 (right): the leg whose knee stands higher above its ankle."""
    rises = [float(px[ankle, 1] - px[knee, 1]) for _hip, knee, ankle in _LEGS]
    return int(np.argmax(rises))


def bottom_measures(px: AnyFloatArray, vis: AnyFloatArray, min_visibility: float) -> BottomMeasures:
    """Depth and widths of one frame (pixels, y down)."""
    if any(float(vis[list(leg)].min()) < min_visibility for leg in _LEGS):
        return BottomMeasures()
    front = front_leg(px)
    hip, knee, ankle = _LEGS[front]
    other_hip = _LEGS[1 - front][0]
    shoulders = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    if float(vis[list(shoulders)].min()) < min_visibility:
        return BottomMeasures()
    shin = float(px[ankle, 1] - px[knee, 1])
    body = float(px[ankle, 1] - (px[L.LEFT_SHOULDER, 1] + px[L.RIGHT_SHOULDER, 1]) / 2)
    depth = float(px[knee, 1] - px[hip, 1]) / shin if shin > 0 and shin >= _MIN_SHIN_SHARE * body else None
    span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    if span <= 0:
        return BottomMeasures(depth)
    width = abs(float(px[L.LEFT_ANKLE, 0] - px[L.RIGHT_ANKLE, 0])) / span
    inside = None
    drop = float(px[ankle, 1] - px[hip, 1])
    if drop > 0 and px[other_hip, 0] != px[hip, 0]:
        inward = math.copysign(1.0, float(px[other_hip, 0] - px[hip, 0]))  # towards the body's midline
        t = float(px[knee, 1] - px[hip, 1]) / drop
        line_x = float(px[hip, 0]) + t * float(px[ankle, 0] - px[hip, 0])
        inside = inward * (float(px[knee, 0]) - line_x) / span
    return BottomMeasures(depth, width, inside)


@dataclass(frozen=True)
class RepBottom:
    """What a rep's bottom frame showed, handed on on the frame the rep ends."""

    measures: BottomMeasures
    off_square_deg: float  # the body's turn from square-on there, world yaw (NaN: not known)


class BottomTracker:
    """Keeps the frame of the rep in progress with the hip lowest towards the front knee."""

    def __init__(self) -> None:
        self._best: RepBottom | None = None

    def reset(self) -> None:
        self._best = None

    def update(self, frame: RepBottom | None, in_rep: bool, rep_ended: bool) -> RepBottom | None:
        """The ended rep's bottom on the frame it ends (this frame included), else None."""
        depth = frame.measures.hip_above_knee_shins if frame is not None else None
        if (in_rep or rep_ended) and frame is not None and depth is not None:
            best = self._best.measures.hip_above_knee_shins if self._best is not None else None
            if best is None or depth < best:
                self._best = frame
        if rep_ended:
            ended, self._best = self._best, None
            return ended
        if not in_rep:
            self._best = None
        return None
