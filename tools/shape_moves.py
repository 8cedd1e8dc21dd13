"""The pull-up and dip shape faults moved into clean recordings, in the world landmarks.

Used by `tools/range_moved_in.py` (the measured table in docs/form_rules.md) and by the
tests. Each move takes a whole recording and an amount and returns the moved recording;
the image landmarks (views, visibility) are left as they were, since the shape rules
read the world landmarks only.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from gymcorner.coach.events import FeedbackEvent
from gymcorner.config import Config
from gymcorner.motion.geometry import angle_deg
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.pipeline import Pipeline

ARMS = (
    (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, (L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB)),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, (L.RIGHT_PINKY, L.RIGHT_INDEX, L.RIGHT_THUMB)),
)
LEGS = (
    (L.LEFT_HIP, (L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX)),
    (L.RIGHT_HIP, (L.RIGHT_KNEE, L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX)),
)
HEAD = tuple(range(L.MOUTH_RIGHT + 1))


def _rotate(v: np.ndarray, axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rodrigues: `v` turned by `angle_rad` about the unit `axis`."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    out: np.ndarray = v * c + np.cross(axis, v) * s + axis * float(np.dot(axis, v)) * (1 - c)
    return out


def _with_world(s: PoseSample, w: np.ndarray) -> PoseSample:
    return replace(s, world=w.astype(np.float32))


def elbows_bent(samples: list[PoseSample], bend_deg: float) -> list[PoseSample]:
    """Each elbow never opens past the recording's straightest angle for that arm less
    `bend_deg`: on frames where it would, the wrist and hand turn about the elbow, in the
    arm's plane, until the angle is that cap (the hang kept bent by `bend_deg`)."""
    caps = []
    for shoulder, elbow, wrist, _ in ARMS:
        angles = [angle_deg(s.world[shoulder], s.world[elbow], s.world[wrist]) for s in samples if s.world is not None]
        caps.append(np.nanmax(angles) - bend_deg if angles else math.inf)
    out = []
    for s in samples:
        if s.world is None:
            out.append(s)
            continue
        w = s.world.astype(np.float64).copy()
        for (shoulder, elbow, wrist, hand), cap in zip(ARMS, caps, strict=True):
            angle = angle_deg(w[shoulder], w[elbow], w[wrist])
            if math.isnan(angle) or angle <= cap:
                continue
            upper, fore = w[shoulder] - w[elbow], w[wrist] - w[elbow]
            normal = np.cross(fore, upper)  # closing the angle turns the forearm toward the upper arm
            if float(np.linalg.norm(normal)) < 1e-9:
                normal = np.cross(fore, np.array([0.0, 0.0, 1.0]))
            axis = normal / np.linalg.norm(normal)
            turn = math.radians(angle - cap)
            for p in (wrist, *hand):
                w[p] = w[elbow] + _rotate(w[p] - w[elbow], axis, turn)
        out.append(_with_world(s, w))
    return out


def rep_events(samples: list[PoseSample], exercise: str, config: Config | None = None) -> list[FeedbackEvent]:
    """The rep events of a replay of the whole pipeline with `exercise` fixed."""
    config = config.model_copy(deep=True) if config is not None else Config()
    config.coach.exercise = exercise
    pipeline = Pipeline(config)
    return [e for s in samples for e in pipeline.process(s).coach.events if e.kind == "rep"]


def legs_swung(samples: list[PoseSample], swing_deg: float, exercise: str = "pull_up") -> list[PoseSample]:
    """The legs (knees, ankles, feet) turned forward about each hip by up to `swing_deg`
    over each rep's pull: half a sine from the rep's start to its top, from the clean
    replay's rep events. Forward: the way the nose points from the shoulders, level,
    square to the hip line."""
    pulls = [(float(e.details["start_t"]), float(e.details["bottom_t"])) for e in rep_events(samples, exercise)]
    out = []
    for s in samples:
        amount = 0.0
        for start, top in pulls:
            if start <= s.t_s <= top and top > start:
                amount = swing_deg * math.sin(math.pi * (s.t_s - start) / (top - start))
        if s.world is None or amount == 0.0:
            out.append(s)
            continue
        w = s.world.astype(np.float64).copy()
        across = w[L.LEFT_HIP] - w[L.RIGHT_HIP]
        across[1] = 0.0
        if float(np.linalg.norm(across)) == 0.0:
            out.append(s)
            continue
        axis = across / np.linalg.norm(across)
        facing = w[L.NOSE] - (w[L.LEFT_SHOULDER] + w[L.RIGHT_SHOULDER]) / 2
        down = np.array([0.0, 1.0, 0.0])
        sign = 1.0 if float(np.dot(_rotate(down, axis, 0.5), facing)) > float(np.dot(down, facing)) else -1.0
        for hip, points in LEGS:
            for p in points:
                w[p] = w[hip] + _rotate(w[p] - w[hip], axis, sign * math.radians(amount))
        out.append(_with_world(s, w))
    return out


def _ramp(value: float, start: float, full: float) -> float:
    return min(1.0, max(0.0, (value - start) / (full - start)))


def shoulders_shrugged(samples: list[PoseSample], widths: float) -> list[PoseSample]:
    """The ears-to-shoulders distance shortened by `widths` shoulder widths at a dip's
    bottom: the head (points 0-10) moved toward the shoulders, scaled with the dip's phase
    from the world elbow angle (none at 20° of flexion, all of it from 80°)."""
    out = []
    for s in samples:
        if s.world is None:
            out.append(s)
            continue
        w = s.world.astype(np.float64).copy()
        elbow = float(np.mean([angle_deg(w[a], w[b], w[c]) for a, b, c, _ in ARMS]))
        width = float(np.linalg.norm(w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER]))
        ears = (w[L.LEFT_EAR] + w[L.RIGHT_EAR]) / 2
        shoulders = (w[L.LEFT_SHOULDER] + w[L.RIGHT_SHOULDER]) / 2
        towards = shoulders - ears
        norm = float(np.linalg.norm(towards))
        if math.isnan(elbow) or norm == 0.0:
            out.append(s)
            continue
        w[list(HEAD)] += towards / norm * widths * width * _ramp(180.0 - elbow, 20.0, 80.0)
        out.append(_with_world(s, w))
    return out
