"""Body geometry measured in pixel space (image landmarks) or metres (world landmarks).

Angles are never computed on normalised x, y: those have different units on any
non-square frame. Every function takes a (33, 2) array of pixel positions (from
`PoseSample.pixels()`) or a (33, 3) world array, and returns plain floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gymcorner.motion.arrays import AnyFloatArray, Array
from gymcorner.motion.landmarks import Landmark as L


def angle_deg(a: AnyFloatArray, b: AnyFloatArray, c: AnyFloatArray) -> float:
    """Angle ABC at vertex b, in degrees (0..180); NaN when a side has zero length."""
    ba = np.asarray(a, dtype=np.float64) - b
    bc = np.asarray(c, dtype=np.float64) - b
    norm = float(np.linalg.norm(ba) * np.linalg.norm(bc))
    if norm == 0.0:
        return math.nan
    cos = float(np.dot(ba, bc)) / norm
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def cross(a: Array, b: Array) -> Array:
    """Cross products of 3-vectors along the last axis (shapes broadcast): the one cross product
    of the code. The same multiplications and subtractions as `np.cross`, so the same bits,
    without its general-axis set-up, which costs more than the arithmetic on a few vectors
    (about 0.1 ms a call: the avatar's bones took four calls a frame)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def distance(a: AnyFloatArray, b: AnyFloatArray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - b))


def midpoint(a: Array, b: Array, *, one_sided: bool = False) -> Array:
    """The point halfway between a and b (element-wise, any shape): the one midpoint of the code.

    With `one_sided`, an element that is NaN on one side only takes the other side's value:
    for a left/right pair where one landmark is hidden, the visible one stands in for the
    middle (NaN only when both are missing).
    """
    out = (a + b) / 2
    if one_sided:
        out = np.where(np.isnan(out), np.where(np.isnan(a), b, a), out)
    return out


def horizontal_span(px: AnyFloatArray, left: L, right: L) -> float:
    """|x_left - x_right| in pixels: the span the stance-width and knee-varus rules compare."""
    return float(abs(px[left, 0] - px[right, 0]))


def torso_length(px: AnyFloatArray) -> float:
    """Shoulder midpoint to hip midpoint: a body scale that survives any camera yaw."""
    return distance(midpoint(px[L.LEFT_SHOULDER], px[L.RIGHT_SHOULDER]), midpoint(px[L.LEFT_HIP], px[L.RIGHT_HIP]))


def knee_flexion_deg(px: AnyFloatArray, side: str) -> float:
    """0 with a straight leg, growing as the knee bends (180 - hip-knee-ankle angle)."""
    hip, knee, ankle = _leg(side)
    return 180.0 - angle_deg(px[hip], px[knee], px[ankle])


def knee_flexion_3d_deg(world: AnyFloatArray, side: str) -> float:
    """Knee flexion from world landmarks: independent of the camera's direction, so it is
    the one to trust in a frontal view, where the thigh is foreshortened in the image."""
    hip, knee, ankle = _leg(side)
    return 180.0 - angle_deg(world[hip], world[knee], world[ankle])


def hip_angle_deg(px: AnyFloatArray, side: str) -> float:
    """Shoulder-hip-knee angle: 180 standing tall, smaller as the hip folds."""
    shoulder = L.LEFT_SHOULDER if side == "left" else L.RIGHT_SHOULDER
    hip, knee, _ = _leg(side)
    return angle_deg(px[shoulder], px[hip], px[knee])


def trunk_lean_deg(px: AnyFloatArray, side: str) -> float:
    """Angle of the hip->shoulder line from the image vertical (camera assumed upright)."""
    shoulder = L.LEFT_SHOULDER if side == "left" else L.RIGHT_SHOULDER
    hip = L.LEFT_HIP if side == "left" else L.RIGHT_HIP
    dx, dy = px[shoulder] - px[hip]
    return math.degrees(math.atan2(abs(float(dx)), -float(dy))) if (dx or dy) else math.nan


def shin_lean_deg(px: AnyFloatArray, side: str) -> float:
    """Angle of the ankle->knee line from the image vertical: how far the knee travels forward."""
    _, knee, ankle = _leg(side)
    dx, dy = px[knee] - px[ankle]
    return math.degrees(math.atan2(abs(float(dx)), -float(dy))) if (dx or dy) else math.nan


def femur_length(px: AnyFloatArray, side: str) -> float:
    hip, knee, _ = _leg(side)
    return distance(px[hip], px[knee])


def hip_above_knee(px: AnyFloatArray, side: str) -> float:
    """How far the hip is above the knee, in femur lengths (negative: below the knee)."""
    hip, knee, _ = _leg(side)
    femur = femur_length(px, side)
    return float(px[knee, 1] - px[hip, 1]) / femur if femur > 0 else math.nan


def body_yaw_deg(world: AnyFloatArray) -> float:
    """Which way the body faces the camera, from the shoulder and hip lines (world x-z).

    0 = facing the camera, ±180 = back to the camera, ±90 = side-on. The two lines are
    averaged so that a twisted torso does not decide the view alone.
    """
    line = (world[L.LEFT_SHOULDER] - world[L.RIGHT_SHOULDER]) + (world[L.LEFT_HIP] - world[L.RIGHT_HIP])
    return math.degrees(math.atan2(float(line[2]), float(line[0])))


def best_seen_side(vis: AnyFloatArray, sides: Mapping[str, tuple[L, ...]], min_visibility: float) -> str | None:
    """The side whose points are all at least `min_visibility`, the better seen (highest
    mean visibility) if both are; None when neither is fully seen."""
    seen = [s for s, points in sides.items() if float(vis[list(points)].min()) >= min_visibility]
    return max(seen, key=lambda s: float(vis[list(sides[s])].mean())) if seen else None


def _leg(side: str) -> tuple[L, L, L]:
    if side == "left":
        return L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE
    return L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE
