"""From measurements to a verdict on the framing and to site thresholds (pure).

Each threshold is derived from what this person did in this corner, with a margin, and
clamped to a sane band; a threshold whose measurement is missing (the wrong view for it,
no squat seen) keeps its current value and says why. The margins: a calibration squat is
taken as good form, so a fault must be clearly worse than it —

* narrow stance (Δw): narrow below 70 % of the natural stance: 1 - Δw = 0.7 × stance;
* knee varus (Δk): knees out 0.25 shoulder widths more than the widest seen;
* knee valgus: knees in below 75 % of the narrowest knee/ankle ratio seen once bent;
* depth: shallow when a descent stays under 85 % of the median calibration depth;
* forward lean: 10° more lean over the shins than the most seen (95th percentile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.calibration.measure import Measurements
from gymcorner.config import SquatConfig
from gymcorner.motion.view import View

MIN_WHOLE_BODY_FRACTION = 0.8
BODY_HEIGHT_FRACTION = (0.35, 0.95)
LUMA = (40.0, 225.0)
MIN_REPS = 1


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Threshold:
    key: str  # field of SquatConfig
    value: float
    previous: float
    derived: bool
    why: str


def framing_checks(m: Measurements) -> list[Check]:
    """Whole body visible, distance, lighting, a view, at least one squat."""
    if m.frames_with_person == 0:
        return [Check("person", False, "no person found", "stand in front of the camera, whole body in view")]
    low, high = BODY_HEIGHT_FRACTION
    height = m.body_height_fraction
    return [
        Check(
            "whole body",
            m.whole_body_fraction >= MIN_WHOLE_BODY_FRACTION,
            f"{m.whole_body_fraction:.0%} of frames show head to ankles",
            "move the camera back or tilt it so that head and feet are in the picture",
        ),
        Check(
            "distance",
            low <= height <= high,
            f"body fills {height:.0%} of the frame height",
            "step closer to the camera" if height < low else "step back from the camera",
        ),
        Check("lighting", True, "not measured (landmarks only)")
        if math.isnan(m.median_luma)
        else Check(
            "lighting",
            LUMA[0] <= m.median_luma <= LUMA[1],
            f"median brightness {m.median_luma:.0f}/255",
            "add light to the corner" if m.median_luma < LUMA[0] else "avoid a window or lamp facing the camera",
        ),
        Check("view", m.view is not View.UNKNOWN, f"{m.view.value} view", "face the camera or stand side-on to it"),
        Check(
            "squats",
            len(m.reps) >= MIN_REPS,
            f"{len(m.reps)} squat{'' if len(m.reps) == 1 else 's'} measured",
            "squat three times, knees bent well past 35°",
        ),
    ]


def _clamp(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


def derive_thresholds(m: Measurements, current: SquatConfig) -> list[Threshold]:
    """Site thresholds; only those this calibration could measure change."""
    out: list[Threshold] = []

    def put(key: str, value: float | None, why: str, missing: str) -> None:
        previous = float(getattr(current, key))
        if value is None:
            out.append(Threshold(key, previous, previous, False, missing))
        else:
            out.append(Threshold(key, round(value, 3), previous, True, why))

    frontal = m.view is View.FRONTAL
    lateral = m.view is View.LATERAL
    reps = m.reps

    stance = m.natural_stance_sw if frontal else None
    put(
        "narrow_stance_delta_w",
        None if stance is None else _clamp(1 - 0.7 * stance, 0.05, 0.6),
        f"natural stance {stance or 0:.2f} shoulder widths",
        "needs a frontal view, standing",
    )

    knee_out = [r.max_knee_out_sw for r in reps if r.max_knee_out_sw is not None] if frontal else []
    put(
        "knee_varus_delta_k",
        _clamp(max(knee_out) + 0.25, 0.2, 1.5) if knee_out else None,
        f"knees at most {max(knee_out, default=0):+.2f} shoulder widths outside the ankles",
        "needs squats in a frontal view",
    )

    knee_in = [r.min_knee_over_ankle for r in reps if r.min_knee_over_ankle is not None] if frontal else []
    put(
        "knee_valgus_delta",
        _clamp(1 - 0.75 * min(knee_in), 0.1, 0.8) if knee_in else None,
        f"knee span at least {min(knee_in, default=0):.2f} × ankle span once bent",
        "needs squats bent past the valgus gate in a frontal view",
    )

    depths = [r.deepest_flexion_deg for r in reps if np.isfinite(r.deepest_flexion_deg)] if lateral else []
    put(
        "depth_min_knee_flexion_deg",
        _clamp(0.85 * float(np.median(depths)), 50, 110) if depths else None,
        f"median depth {float(np.median(depths)) if depths else 0:.0f}° knee flexion",
        "needs squats in a lateral view",
    )

    leans = [r.max_lean_over_shin_deg for r in reps if r.max_lean_over_shin_deg is not None] if lateral else []
    put(
        "trunk_lean_over_shin_max_deg",
        _clamp(max(leans) + 10, 15, 60) if leans else None,
        f"trunk at most {max(leans, default=0):.0f}° further forward than the shins",
        "needs squats in a lateral view",
    )
    return out
