"""The plank coach: how long the hold lasts, and a straight body line while it does.

Seen from the side, the hip's distance from the shoulder-ankle line (in lengths of that
line, + below it: hips sag, a hollow back; - above it: hips pike) is judged on every frame
of a hold. A hold is the body held along a line near the horizontal with shoulders, hips
and ankles of one side visible; its time runs from the first such frame and ends at the
first frame that is not (the clock comes in with the frames). From the front the line
cannot be seen, so nothing is judged there (`side_on` False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.coach.pushup import below_line
from gymcorner.coach.rules import FormRule
from gymcorner.config import PlankConfig
from gymcorner.motion import geometry as geo
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_SIDES = {
    "left": (L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_ANKLE),
    "right": (L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_ANKLE),
}


@dataclass(frozen=True)
class PlankMetrics:
    side_on: bool = False
    holding: bool = False
    hip_below_line: float | None = None  # in shoulder-ankle lengths; + sag, - pike
    body_incline_deg: float | None = None  # shoulder-ankle line from the horizontal
    hold_s: float | None = None  # time in the current hold, on frames of a hold


def plank_metrics(sample: PoseSample, min_visibility: float, config: PlankConfig) -> PlankMetrics | None:
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility().astype(np.float64)
    side = geo.best_seen_side(vis, _SIDES, min_visibility)
    if side is None:
        return PlankMetrics()
    shoulder, hip, ankle = (px[i] for i in _SIDES[side])
    line = ankle - shoulder
    length = float(np.linalg.norm(line))
    if length <= 0:
        return PlankMetrics()
    incline = math.degrees(math.atan2(abs(float(line[1])), abs(float(line[0]))))
    shoulder_span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    side_on = shoulder_span / length < config.side_on_max_ratio
    below = below_line(shoulder, ankle, hip)
    return PlankMetrics(
        side_on=side_on,
        holding=incline <= config.max_incline_deg,
        hip_below_line=below,
        body_incline_deg=incline,
    )


class HoldTimer:
    """Time in the current hold: from its first frame, reset by any frame that is not one."""

    def __init__(self) -> None:
        self._start_t: float | None = None

    def reset(self) -> None:
        self._start_t = None

    def update(self, t_s: float, holding: bool) -> float | None:
        if not holding:
            self._start_t = None
            return None
        if self._start_t is None:
            self._start_t = t_s
        return t_s - self._start_t


def _sag(m: PlankMetrics, c: PlankConfig) -> bool | None:
    if m.hip_below_line is None or not m.side_on:
        return None
    return m.holding and m.hip_below_line > c.hips_sag_line


def _pike(m: PlankMetrics, c: PlankConfig) -> bool | None:
    if m.hip_below_line is None or not m.side_on:
        return None
    return m.holding and m.hip_below_line < -c.hips_pike_line


_SIDE_VIEWS = frozenset({"lateral", "unknown"})


def _line(m: PlankMetrics) -> dict[str, float | None]:
    return {"hip_below_line": m.hip_below_line, "hold_s": m.hold_s}


PLANK_RULES: tuple[FormRule[PlankMetrics, PlankConfig], ...] = (
    FormRule(
        code="hips_sag",
        text="Hips sagging: squeeze your glutes and brace, one straight line from shoulders to heels.",
        views=_SIDE_VIEWS,
        check=_sag,
        hold_frames=lambda c: c.hold_frames,
        details=_line,
    ),
    FormRule(
        code="hips_pike",
        text="Hips too high: lower them until shoulders, hips and heels are in one line.",
        views=_SIDE_VIEWS,
        check=_pike,
        hold_frames=lambda c: c.hold_frames,
        details=_line,
    ),
)
