"""Lunge faults moved into real lunges by a known amount (tools/lunge_bottoms.py uses them).

Each move takes one frame (image landmarks; for the Countix arrays, min-max normalised per
axis and frame) and returns it with the fault put in, measured in body lengths of that
frame, so the amount means the same on every frame and in every data set:

* `hips_up`: the upper body (points 0-24: face, arms, shoulders, hips) raised by `amount`
  heights of the front shin. From the side (`side=True`) each knee is then placed where the
  thigh and shin, their image lengths kept, reach from the new hip to the foot (the knee
  stays on its side of the hip-ankle line; a leg that cannot reach is straightened): the
  same person stopping higher. From the front the knees and feet are left where they are
  (the front thigh points at the camera, its length is not seen).
* `feet_in_line`: the back foot (ankle, heel, toe) moved sideways towards the front
  ankle by `amount` shoulder spans, at most onto its line, the back knee by half as much.
* `feet_apart`: the back foot moved away from the front ankle the same way.
* `knee_in`: the front knee moved towards the body's midline by `amount` shoulder spans.

The front leg is the pure core's (`coach/lunge_bottom.front_leg`): the knee higher above
its ankle.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from gymcorner.coach.lunge_bottom import front_leg
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

LEGS = (
    (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
)


def _with_pixels(s: PoseSample, px: np.ndarray) -> PoseSample:
    assert s.image is not None
    image = s.image.copy()
    image[:, 0] = (px[:, 0] / s.width).astype(np.float32)
    image[:, 1] = (px[:, 1] / s.height).astype(np.float32)
    return replace(s, image=image)


def _knee_between(hip: np.ndarray, ankle: np.ndarray, knee: np.ndarray, femur: float, shin: float) -> np.ndarray:
    """Where a knee with these bone lengths sits between hip and ankle, on the old knee's side."""
    axis = ankle - hip
    d = float(np.linalg.norm(axis))
    if d == 0:
        return knee
    u = axis / d
    if d >= femur + shin:
        return hip + u * femur * d / (femur + shin)  # cannot reach: straight, bones in proportion
    along = (femur**2 - shin**2 + d**2) / (2 * d)
    off = math.sqrt(max(femur**2 - along**2, 0.0))
    normal = np.array([-u[1], u[0]])
    side = math.copysign(1.0, float((knee - hip) @ normal)) if float((knee - hip) @ normal) != 0 else 1.0
    return hip + u * along + normal * off * side


def hips_up(s: PoseSample, shins: float, side: bool) -> PoseSample:
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    f = front_leg(px)
    shin_h = float(px[LEGS[f][2], 1] - px[LEGS[f][1], 1])
    if shin_h <= 0:
        return s
    out = px.copy()
    out[: L.RIGHT_HIP + 1, 1] -= shins * shin_h
    if side:
        for hip, knee, ankle, _heel, _toe in LEGS:
            femur = float(np.linalg.norm(px[hip] - px[knee]))
            shin = float(np.linalg.norm(px[knee] - px[ankle]))
            out[knee] = _knee_between(out[hip], px[ankle], px[knee], femur, shin)
    return _with_pixels(s, out)


def _shoulder_span(px: np.ndarray) -> float:
    return abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))


def _back_foot_sideways(s: PoseSample, spans: float, towards: bool) -> PoseSample:
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    f = front_leg(px)
    front_ankle = float(px[LEGS[f][2], 0])
    _hip, knee, ankle, heel, toe = LEGS[1 - f]
    gap = float(px[ankle, 0]) - front_ankle
    move = spans * _shoulder_span(px)
    if towards:
        move = -math.copysign(min(move, abs(gap)), gap)
    else:
        move = math.copysign(move, gap) if gap != 0 else move
    out = px.copy()
    out[[ankle, heel, toe], 0] += move
    out[knee, 0] += move / 2
    return _with_pixels(s, out)


def feet_in_line(s: PoseSample, spans: float) -> PoseSample:
    return _back_foot_sideways(s, spans, towards=True)


def feet_apart(s: PoseSample, spans: float) -> PoseSample:
    return _back_foot_sideways(s, spans, towards=False)


def knee_in(s: PoseSample, spans: float) -> PoseSample:
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    f = front_leg(px)
    hip, knee = LEGS[f][0], LEGS[f][1]
    inward = math.copysign(1.0, float(px[LEGS[1 - f][0], 0] - px[hip, 0]))
    out = px.copy()
    out[knee, 0] += inward * spans * _shoulder_span(px)
    return _with_pixels(s, out)
