"""The push-up coach: straight body and full depth, judged during each rep.

Body line: the hip's distance from the shoulder-ankle line, in lengths of that line,
positive when the hip hangs below it ("hips sag", a hollow back) and negative when it
rises above it ("hips pike"). Judged only while a rep is in progress and the camera sees
the body from the side (the shoulders look narrow against the body's length): a pike
held between sets is a rest, not a fault, and from the front the line cannot be seen.
Depth: the shoulders must come down to elbow height at the bottom of each rep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gymcorner.coach.rules import FormRule
from gymcorner.config import PushupConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_SIDES = {
    "left": (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_HIP, L.LEFT_ANKLE),
    "right": (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_HIP, L.RIGHT_ANKLE),
}


@dataclass(frozen=True)
class PushupMetrics:
    side_on: bool = False
    in_rep: bool = False
    hip_below_line: float | None = None  # in shoulder-ankle lengths; + sag, - pike
    shoulder_below_elbow: float | None = None  # in upper-arm lengths; >= 0 at full depth
    rep_depth_reached: float | None = None  # set on the frame a rep ends: deepest shoulder_below_elbow


def pushup_metrics(sample: PoseSample, min_visibility: float, side_on_max_ratio: float) -> PushupMetrics | None:
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility()
    sides = [s for s, pts in _SIDES.items() if float(vis[list(pts)].min()) >= min_visibility]
    if not sides:
        return PushupMetrics()
    side = max(sides, key=lambda s: float(vis[list(_SIDES[s])].mean()))
    shoulder, elbow, hip, ankle = (px[i] for i in _SIDES[side])
    line = ankle - shoulder
    length = float(np.linalg.norm(line))
    if length <= 0:
        return PushupMetrics()
    # Signed distance of the hip from the line; the sign is "down" in the image whichever
    # way the person faces.
    cross = line[0] * (hip[1] - shoulder[1]) - line[1] * (hip[0] - shoulder[0])
    below = float(np.sign(line[0]) * cross / length / length) if line[0] != 0 else 0.0
    shoulder_span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    side_on = shoulder_span / length < side_on_max_ratio
    upper_arm = float(np.linalg.norm(elbow - shoulder))
    depth = float(shoulder[1] - elbow[1]) / upper_arm if upper_arm > 0 else None
    return PushupMetrics(side_on=side_on, hip_below_line=below, shoulder_below_elbow=depth)


def _sag(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.hip_below_line is None or not m.side_on:
        return None
    return m.in_rep and m.hip_below_line > c.hips_sag_line


def _pike(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.hip_below_line is None or not m.side_on:
        return None
    return m.in_rep and m.hip_below_line < -c.hips_pike_line


def _shallow(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.rep_depth_reached is None:
        return None
    return m.rep_depth_reached < -c.depth_tolerance_upper_arm


_ANY_VIEW = frozenset({"frontal", "lateral", "unknown"})

PUSHUP_RULES: tuple[FormRule[PushupMetrics, PushupConfig], ...] = (
    FormRule(
        code="hips_sag",
        text="Hips sagging: brace your core and keep a straight line from shoulders to heels.",
        views=_ANY_VIEW,
        check=_sag,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"hip_below_line": m.hip_below_line},
    ),
    FormRule(
        code="hips_pike",
        text="Hips too high: lower your hips into one straight line with your shoulders and heels.",
        views=_ANY_VIEW,
        check=_pike,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"hip_below_line": m.hip_below_line},
    ),
    FormRule(
        code="partial_range",
        text="Partial push-up: lower your chest until your shoulders reach elbow height.",
        views=_ANY_VIEW,
        check=_shallow,
        hold_frames=lambda c: 1,
        details=lambda m: {"shoulder_below_elbow": m.rep_depth_reached},
    ),
)
