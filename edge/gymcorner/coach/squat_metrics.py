"""What the squat rules measure on one frame (`SquatMetrics`), in pixel space.

Landmarks below the coach's `min_visibility` are never used: a measure whose points are
not all seen is None, and the rule that needs it does not judge that frame. Lateral
distances are in femur lengths of the leg nearer the camera, frontal spans in pixels
(the rules divide them by the shoulder span).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.coach.squat_balance import heel_above_toe_femur, hip_shift_shoulders
from gymcorner.motion import geometry as geo
from gymcorner.motion.arrays import AnyFloatArray
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_SIDES = {
    "left": (L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    "right": (L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
}


@dataclass(frozen=True)
class SquatMetrics:
    """One frame's measurements; None where the landmarks needed were not visible."""

    shoulder_span_px: float | None = None
    ankle_span_px: float | None = None
    knee_span_px: float | None = None
    knee_flexion_deg: float | None = None  # image plane: exact side-on, foreshortened from the front
    knee_flexion_3d_deg: float | None = None  # world landmarks: the same from any direction
    side: str | None = None  # the leg nearer the camera, used for lateral measures
    trunk_lean_deg: float | None = None
    shin_lean_deg: float | None = None
    hip_above_knee_femur: float | None = None
    knee_ahead_of_toes_femur: float | None = None
    descent_max_flexion_deg: float | None = None  # set on the frame a descent ends
    hip_angle_deg: float | None = None  # trunk-thigh angle (shoulder-hip-knee), image plane
    # Set once per descent, when the ascent is under way, from its deepest frame:
    bottom_hip_above_knee_femur: float | None = None
    bottom_knee_ahead_of_toes_femur: float | None = None
    bottom_hip_angle_deg: float | None = None
    # Depth from any view (`squat_depth`): hip-knee height and femur in the image, the
    # hip's height above the knee in standing-femur lengths, and a descent's deepest:
    hip_knee_height_px: float | None = None
    femur_px: float | None = None
    hip_above_knee_standing_femur: float | None = None
    descent_bottom_hip_above_knee_femur: float | None = None  # set on the frame a descent ends
    # Balance (`squat_balance`): per frame, and the largest change of a descent on the frame it ends:
    heel_above_toe_femur: float | None = None  # side view, the leg nearer the camera
    hip_shift_shoulders: float | None = None  # front view: hip centre right of the ankles' midpoint
    descent_heel_lift_femur: float | None = None
    descent_lateral_shift_shoulders: float | None = None

    def rounded(self) -> dict[str, float | str | None]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _visible(vis: AnyFloatArray, points: tuple[L, ...], threshold: float) -> bool:
    return bool(np.all(vis[list(points)] >= threshold))


def squat_metrics(sample: PoseSample, min_visibility: float) -> SquatMetrics | None:
    """Measure what the squat rules need; landmarks below `min_visibility` are never used."""
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility()

    def ok(*points: L) -> bool:
        return _visible(vis, points, min_visibility)


    shoulders_seen = ok(L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    shoulder = geo.horizontal_span(px, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) if shoulders_seen else None
    ankles = geo.horizontal_span(px, L.LEFT_ANKLE, L.RIGHT_ANKLE) if ok(L.LEFT_ANKLE, L.RIGHT_ANKLE) else None
    knees = geo.horizontal_span(px, L.LEFT_KNEE, L.RIGHT_KNEE) if ok(L.LEFT_KNEE, L.RIGHT_KNEE) else None

    # The leg nearer the camera is the better seen one; a leg counts only if fully visible.
    legs = [s for s in ("left", "right") if ok(*_SIDES[s][1:4])]
    flexion = float(np.mean([geo.knee_flexion_deg(px, s) for s in legs])) if legs else None
    flexion_3d = None
    if legs and sample.world is not None and np.isfinite(sample.world).all():
        flexion_3d = float(np.mean([geo.knee_flexion_3d_deg(sample.world.astype(np.float64), s) for s in legs]))
    side = max(legs, key=lambda s: float(vis[list(_SIDES[s][:4])].mean())) if legs else None
    height = femur_px = None
    if legs:
        height = float(np.mean([px[_SIDES[s][2], 1] - px[_SIDES[s][1], 1] for s in legs]))
        femur_px = float(np.mean([geo.femur_length(px, s) for s in legs]))

    lean = shin = above = ahead = hip_angle = heel_up = None
    if side is not None:
        sh, _hip, knee, _ankle, heel, toe = _SIDES[side]
        if ok(sh):
            lean = geo.trunk_lean_deg(px, side)
            hip_angle = geo.hip_angle_deg(px, side)
        shin = geo.shin_lean_deg(px, side)
        above = geo.hip_above_knee(px, side)
        femur = geo.femur_length(px, side)
        heel_up = heel_above_toe_femur(px, vis, side, femur, min_visibility)
        if ok(heel, toe) and femur > 0:
            forward = math.copysign(1.0, float(px[toe, 0] - px[heel, 0]))  # which way the feet point
            ahead = forward * float(px[knee, 0] - px[toe, 0]) / femur
    return SquatMetrics(
        shoulder,
        ankles,
        knees,
        flexion,
        flexion_3d,
        side,
        lean,
        shin,
        above,
        ahead,
        hip_angle_deg=hip_angle,
        hip_knee_height_px=height,
        femur_px=femur_px,
        heel_above_toe_femur=heel_up,
        hip_shift_shoulders=hip_shift_shoulders(px, vis, min_visibility),
    )
