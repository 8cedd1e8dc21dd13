"""The bicep-curl coach: the torso stays still and the elbows stay at the sides.

Seen from the side (the arm nearer the camera is measured):

* lean back: the trunk (hip -> shoulder) tilted backwards from the vertical, in degrees,
  + when the shoulders are behind the hips. Which way is "back" comes from the face: the
  nose is in front of the shoulders. Swinging the weight up with the back is the fault;
* elbow drift: the upper arm (shoulder -> elbow) swung forward of the trunk line, in
  degrees, + when the elbow is in front of the body. Judged only while the elbow is bent
  (a curl in progress), where the upper arm should hang along the trunk.

From the front neither angle can be seen (the lean and the drift point at the camera), so
neither is judged there (`side_on` False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.coach.rules import FormRule
from gymcorner.config import CurlConfig
from gymcorner.motion import geometry as geo
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_SIDES = {
    "left": (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_HIP),
    "right": (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_HIP),
}


@dataclass(frozen=True)
class CurlMetrics:
    side_on: bool = False
    lean_back_deg: float | None = None
    elbow_drift_deg: float | None = None
    elbow_flexion_deg: float | None = None  # 0 with a straight arm


def _signed_deg(frm: FloatArray, to: FloatArray, forward: float) -> float:
    """Angle of frm->to from the image vertical (up), + towards `forward` (±1 in image x)."""
    d = to - frm
    return math.degrees(math.atan2(forward * float(d[0]), -float(d[1])))


def curl_metrics(sample: PoseSample, min_visibility: float, side_on_max_ratio: float) -> CurlMetrics | None:
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility().astype(np.float64)
    side = geo.best_seen_side(vis, _SIDES, min_visibility)
    if side is None or vis[L.NOSE] < min_visibility:
        return CurlMetrics()
    shoulder, elbow, wrist, hip = (px[i] for i in _SIDES[side])
    torso = float(np.linalg.norm(shoulder - hip))
    if torso <= 0:
        return CurlMetrics()
    shoulder_span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    forward = math.copysign(1.0, float(px[L.NOSE, 0] - shoulder[0]))
    trunk_deg = _signed_deg(hip, shoulder, forward)  # + leaning forward
    # the upper arm hanging along the trunk points from the shoulder towards the hip
    arm_deg = _signed_deg(elbow, shoulder, forward)  # direction elbow->shoulder, like hip->shoulder
    return CurlMetrics(
        side_on=shoulder_span / torso < side_on_max_ratio,
        lean_back_deg=-trunk_deg,
        elbow_drift_deg=trunk_deg - arm_deg,
        elbow_flexion_deg=180.0 - geo.angle_deg(shoulder, elbow, wrist),
    )


def _lean_back(m: CurlMetrics, c: CurlConfig) -> bool | None:
    if m.lean_back_deg is None or not m.side_on:
        return None
    return m.lean_back_deg > c.lean_back_max_deg


def _elbow_drift(m: CurlMetrics, c: CurlConfig) -> bool | None:
    if m.elbow_drift_deg is None or m.elbow_flexion_deg is None or not m.side_on:
        return None
    return m.elbow_flexion_deg >= c.curling_min_flexion_deg and m.elbow_drift_deg > c.elbow_drift_max_deg


_SIDE_VIEWS = frozenset({"lateral", "unknown"})

CURL_RULES: tuple[FormRule[CurlMetrics, CurlConfig], ...] = (
    FormRule(
        code="lean_back",
        text="Leaning back: keep your torso still and upright; lift with the arms, not the back.",
        views=_SIDE_VIEWS,
        check=_lean_back,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"lean_back_deg": m.lean_back_deg},
    ),
    FormRule(
        code="elbow_drift",
        text="Elbows drifting forward: keep them pinned at your sides through the curl.",
        views=_SIDE_VIEWS,
        check=_elbow_drift,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"elbow_drift_deg": m.elbow_drift_deg},
    ),
)
