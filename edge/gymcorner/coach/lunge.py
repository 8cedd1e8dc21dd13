"""The lunge coach, from the side: the front knee stays behind the toes, the trunk upright.

The front leg is the one whose toes are further forward (forward: the way the feet point,
heel -> toe). During a lunge (the front knee bent at least `min_flexion_deg`):

* knee over toes: the front knee's distance ahead of its toes, in femur lengths (+ ahead).
  A knee that reaches the vertical through the toes is already the labelled fault in the
  Exercise-Correction data, so the threshold sits just behind the toes;
* torso lean: the trunk (hip -> shoulder) from the vertical, degrees.

From the front neither can be seen (`side_on` False): nothing is judged there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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


def lunge_metrics(sample: PoseSample, min_visibility: float, side_on_max_ratio: float) -> LungeMetrics | None:
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility().astype(np.float64)
    if any(float(vis[list(pts)].min()) < min_visibility for pts in _LEGS.values()):
        return LungeMetrics()
    heel_to_toe = sum(float(px[toe, 0] - px[heel, 0]) for _, _, _, heel, toe in _LEGS.values())
    if heel_to_toe == 0:
        return LungeMetrics()
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
    return LungeMetrics(
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


_SIDE_VIEWS = frozenset({"lateral", "unknown"})

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
)
