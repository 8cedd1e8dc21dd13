"""The lunge coach: the front knee and the trunk from the side, every frame; each rep's
bottom from any view.

Every frame, from the side (the front leg: the one whose toes are further forward, forward
being the way the feet point, heel -> toe), while the front knee bends at least
`min_flexion_deg`:

* knee over toes: the front knee's distance ahead of its toes, in femur lengths (+ ahead).
  A knee that reaches the vertical through the toes is already the labelled fault in the
  Exercise-Correction data, so the threshold sits just behind the toes;
* torso lean: the trunk (hip -> shoulder) from the vertical, degrees.

From the front neither can be seen (`side_on` False): they are not judged there.

Once per rep, on the frame the rep counter ends it, from the rep's bottom
(`lunge_bottom.py`): a shallow lunge (front hip high above the front knee; any view), feet
on one line or too wide apart, and the front knee caving in (front view, the body square to
the camera).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gymcorner.coach.lunge_bottom import RepBottom, bottom_measures
from gymcorner.coach.rules import FormRule
from gymcorner.config import LungeConfig
from gymcorner.motion import geometry as geo
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_LEGS = {
    "left": (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    "right": (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
}


@dataclass(frozen=True)
class LungeMetrics:
    side_on: bool = False
    front_knee_flexion_deg: float | None = None
    knee_ahead_of_toes_femur: float | None = None
    torso_lean_deg: float | None = None
    # This frame's depth and widths (`lunge_bottom`), any view:
    hip_above_knee_shins: float | None = None
    step_width_shoulders: float | None = None
    knee_inside_line_shoulders: float | None = None
    # Set on the frame a rep ends, from the rep's bottom:
    rep_hip_above_knee_shins: float | None = None
    rep_step_width_shoulders: float | None = None
    rep_knee_inside_line_shoulders: float | None = None
    rep_off_square_deg: float | None = None  # the body's turn from square-on at the bottom

    def with_rep_bottom(self, bottom: RepBottom) -> LungeMetrics:
        b = bottom.measures
        off = bottom.off_square_deg if math.isfinite(bottom.off_square_deg) else None
        return replace(
            self,
            rep_hip_above_knee_shins=b.hip_above_knee_shins,
            rep_step_width_shoulders=b.step_width_shoulders,
            rep_knee_inside_line_shoulders=b.knee_inside_line_shoulders,
            rep_off_square_deg=off,
        )


def lunge_metrics(sample: PoseSample, min_visibility: float, side_on_max_ratio: float) -> LungeMetrics | None:
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility().astype(np.float64)
    b = bottom_measures(px, vis, min_visibility)
    base = LungeMetrics(
        hip_above_knee_shins=b.hip_above_knee_shins,
        step_width_shoulders=b.step_width_shoulders,
        knee_inside_line_shoulders=b.knee_inside_line_shoulders,
    )
    if any(float(vis[list(pts)].min()) < min_visibility for pts in _LEGS.values()):
        return base
    heel_to_toe = sum(float(px[toe, 0] - px[heel, 0]) for _, _, _, heel, toe in _LEGS.values())
    if heel_to_toe == 0:
        return base
    forward = math.copysign(1.0, heel_to_toe)
    front = max(_LEGS, key=lambda s: forward * float(px[_LEGS[s][4], 0]))
    hip, knee, ankle, _heel, toe = _LEGS[front]
    femur = float(np.linalg.norm(px[hip] - px[knee]))
    shoulders = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    lean = None
    side_on = False
    if float(vis[list(shoulders)].min()) >= min_visibility:
        sh = (px[L.LEFT_SHOULDER] + px[L.RIGHT_SHOULDER]) / 2
        hp = (px[L.LEFT_HIP] + px[L.RIGHT_HIP]) / 2
        torso = float(np.linalg.norm(sh - hp))
        dx, dy = sh - hp
        lean = math.degrees(math.atan2(abs(float(dx)), -float(dy))) if torso > 0 else None
        side_on = torso > 0 and abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0])) / torso < side_on_max_ratio
    return replace(
        base,
        side_on=side_on,
        front_knee_flexion_deg=180.0 - geo.angle_deg(px[hip], px[knee], px[ankle]),
        knee_ahead_of_toes_femur=forward * float(px[knee, 0] - px[toe, 0]) / femur if femur > 0 else None,
        torso_lean_deg=lean,
    )


def _lunging(m: LungeMetrics, c: LungeConfig) -> bool:
    return m.front_knee_flexion_deg is not None and m.front_knee_flexion_deg >= c.min_flexion_deg


def _knee_over_toes(m: LungeMetrics, c: LungeConfig) -> bool | None:
    if m.knee_ahead_of_toes_femur is None or not m.side_on:
        return None
    return _lunging(m, c) and m.knee_ahead_of_toes_femur > c.knee_over_toes_femur


def _torso_lean(m: LungeMetrics, c: LungeConfig) -> bool | None:
    if m.torso_lean_deg is None or not m.side_on:
        return None
    return _lunging(m, c) and m.torso_lean_deg > c.torso_lean_max_deg


def _shallow(m: LungeMetrics, c: LungeConfig) -> bool | None:
    if m.rep_hip_above_knee_shins is None:
        return None
    return m.rep_hip_above_knee_shins > c.depth_max_hip_above_knee_shins


def _square_on(m: LungeMetrics, c: LungeConfig) -> bool:
    return m.rep_off_square_deg is not None and m.rep_off_square_deg <= c.widths_max_off_square_deg


def _narrow_step(m: LungeMetrics, c: LungeConfig) -> bool | None:
    if m.rep_step_width_shoulders is None or not _square_on(m, c):
        return None
    return m.rep_step_width_shoulders < c.narrow_step_shoulders


def _wide_step(m: LungeMetrics, c: LungeConfig) -> bool | None:
    if m.rep_step_width_shoulders is None or not _square_on(m, c):
        return None
    return m.rep_step_width_shoulders > c.wide_step_shoulders


def _knee_valgus(m: LungeMetrics, c: LungeConfig) -> bool | None:
    if m.rep_knee_inside_line_shoulders is None or not _square_on(m, c):
        return None
    return m.rep_knee_inside_line_shoulders > c.knee_valgus_shoulders


_SIDE_VIEWS = frozenset({"lateral", "unknown"})
_FRONT_VIEWS = frozenset({"frontal"})
_ANY_VIEW = frozenset({"frontal", "lateral", "unknown"})


def _widths(m: LungeMetrics) -> dict[str, float | None]:
    return {"step_width_shoulders": m.rep_step_width_shoulders, "off_square_deg": m.rep_off_square_deg}


LUNGE_RULES: tuple[FormRule[LungeMetrics, LungeConfig], ...] = (
    FormRule(
        code="knee_over_toes",
        text="Front knee past your toes: take a longer step and drop the back knee straight down.",
        views=_SIDE_VIEWS,
        check=_knee_over_toes,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"knee_ahead_of_toes_femur": m.knee_ahead_of_toes_femur},
    ),
    FormRule(
        code="torso_lean",
        text="Leaning forward: keep your chest up and your trunk upright over the hips.",
        views=_SIDE_VIEWS,
        check=_torso_lean,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"torso_lean_deg": m.torso_lean_deg},
    ),
    FormRule(
        code="shallow_depth",
        text="Lunge deeper: lower your back knee towards the floor until your front thigh is level.",
        views=_ANY_VIEW,
        check=_shallow,
        hold_frames=lambda c: 1,
        details=lambda m: {"hip_above_knee_shins": m.rep_hip_above_knee_shins},
    ),
    FormRule(
        code="narrow_step",
        text="Feet on one line: step forward with your feet hip-width apart, as if on two rails.",
        views=_FRONT_VIEWS,
        check=_narrow_step,
        hold_frames=lambda c: 1,
        details=_widths,
    ),
    FormRule(
        code="wide_step",
        text="Feet too far apart sideways: step straight forward, feet about hip-width apart.",
        views=_FRONT_VIEWS,
        check=_wide_step,
        hold_frames=lambda c: 1,
        details=_widths,
    ),
    FormRule(
        code="knee_valgus",
        text="Front knee caving in: push it out over your middle toes.",
        views=_FRONT_VIEWS,
        check=_knee_valgus,
        hold_frames=lambda c: 1,
        details=lambda m: {
            "knee_inside_line_shoulders": m.rep_knee_inside_line_shoulders,
            "off_square_deg": m.rep_off_square_deg,
        },
    ),
)
