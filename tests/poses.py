"""Synthetic poses for the pure-core tests: a person built from a few named numbers.

Positions are pixels on a 1000x1000 frame (y down) and are turned into a PoseSample
(normalised image landmarks + world landmarks in metres, 1 px = 1 mm), so every rule
can be checked against a pose whose geometry is known exactly.
"""

from __future__ import annotations

import math

import numpy as np

from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L

SIZE = 1000


def _empty() -> np.ndarray:
    return np.zeros((NUM_LANDMARKS, 2), dtype=np.float64)


def frontal(
    shoulder_w: float = 400,
    hip_w: float = 260,
    knee_w: float = 300,
    ankle_w: float = 420,
    hip_y: float = 550,
    knee_y: float = 750,
    facing_away: bool = False,
) -> dict[L, tuple[float, float]]:
    """A person square to the camera; the person's left is on the image's right (mirror)."""
    c = 500.0
    side = -1 if facing_away else 1
    pts = {
        L.NOSE: (c, 180),
        L.LEFT_SHOULDER: (c + side * shoulder_w / 2, 300),
        L.RIGHT_SHOULDER: (c - side * shoulder_w / 2, 300),
        L.LEFT_ELBOW: (c + side * shoulder_w / 2 + 20, 420),
        L.RIGHT_ELBOW: (c - side * shoulder_w / 2 - 20, 420),
        L.LEFT_WRIST: (c + side * shoulder_w / 2 + 20, 520),
        L.RIGHT_WRIST: (c - side * shoulder_w / 2 - 20, 520),
        L.LEFT_HIP: (c + side * hip_w / 2, hip_y),
        L.RIGHT_HIP: (c - side * hip_w / 2, hip_y),
        L.LEFT_KNEE: (c + side * knee_w / 2, knee_y),
        L.RIGHT_KNEE: (c - side * knee_w / 2, knee_y),
        L.LEFT_ANKLE: (c + side * ankle_w / 2, 950),
        L.RIGHT_ANKLE: (c - side * ankle_w / 2, 950),
        L.LEFT_HEEL: (c + side * ankle_w / 2, 965),
        L.RIGHT_HEEL: (c - side * ankle_w / 2, 965),
        L.LEFT_FOOT_INDEX: (c + side * (ankle_w / 2 + 10), 980),
        L.RIGHT_FOOT_INDEX: (c - side * (ankle_w / 2 + 10), 980),
    }
    return pts


def lateral(
    knee_flexion_deg: float = 0.0,
    trunk_lean_deg: float = 10.0,
    shin_lean_deg: float | None = None,
    facing: str = "right",
    thigh: float = 220.0,
    shin: float = 220.0,
    torso: float = 280.0,
) -> dict[L, tuple[float, float]]:
    """A person side-on, facing image right or left, with the given joint angles."""
    s = 1.0 if facing == "right" else -1.0
    shin_lean = knee_flexion_deg / 2 if shin_lean_deg is None else shin_lean_deg
    ankle = np.array([500.0, 950.0])
    a = math.radians(shin_lean)
    knee = ankle + np.array([s * shin * math.sin(a), -shin * math.cos(a)])
    # Thigh direction: rotate the shin's up-vector back by the flexion angle.
    b = math.radians(shin_lean - knee_flexion_deg)
    hip = knee + np.array([s * thigh * math.sin(b), -thigh * math.cos(b)])
    t = math.radians(trunk_lean_deg)
    shoulder = hip + np.array([s * torso * math.sin(t), -torso * math.cos(t)])
    pts: dict[L, tuple[float, float]] = {}
    for dx, left, right in ((4.0, "LEFT", "RIGHT"),):
        for name, p in (("SHOULDER", shoulder), ("HIP", hip), ("KNEE", knee), ("ANKLE", ankle)):
            pts[L[f"{left}_{name}"]] = (p[0] + dx, p[1])
            pts[L[f"{right}_{name}"]] = (p[0] - dx, p[1])
        for side in (left, right):
            pts[L[f"{side}_HEEL"]] = (ankle[0] - s * 30, 965)
            pts[L[f"{side}_FOOT_INDEX"]] = (ankle[0] + s * 120, 975)
            pts[L[f"{side}_ELBOW"]] = (shoulder[0] + s * 60, shoulder[1] + 100)
            pts[L[f"{side}_WRIST"]] = (shoulder[0] + s * 150, shoulder[1] + 100)
    pts[L.NOSE] = (shoulder[0] + s * 40, shoulder[1] - 110)
    return pts


def sample(
    pts: dict[L, tuple[float, float]],
    t_s: float = 0.0,
    visibility: float = 0.99,
    low_visibility: tuple[L, ...] = (),
    yaw_deg: float | None = None,
) -> PoseSample:
    """PoseSample from pixel positions; world = pixels in mm rotated by `yaw_deg` about y."""
    px = _empty()
    for lm, (x, y) in pts.items():
        px[lm] = (x, y)
    # Landmarks not given sit at the hip centre (never used by the rules under test).
    hip_c = (px[L.LEFT_HIP] + px[L.RIGHT_HIP]) / 2
    for i in range(NUM_LANDMARKS):
        if L(i) not in pts:
            px[i] = hip_c
    image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, :2] = px / SIZE
    image[:, 3] = visibility
    for lm in low_visibility:
        image[lm, 3] = 0.1
    if yaw_deg is None:
        # Frontal poses are square-on; lateral ones (narrow shoulders) side-on.
        yaw_deg = 0.0 if abs(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]) > 100 else 90.0
    # World: x from image x (the person's left on image right when facing the camera),
    # y down, z towards the camera; then turn the body by yaw about the vertical.
    w = np.zeros((NUM_LANDMARKS, 3), dtype=np.float64)
    w[:, 0] = (px[:, 0] - hip_c[0]) / 1000.0
    w[:, 1] = (px[:, 1] - hip_c[1]) / 1000.0
    if yaw_deg == 90.0:
        # Side-on: the left-right body axis points at the camera.
        span = np.where(np.array([L(i).name.startswith("LEFT") for i in range(NUM_LANDMARKS)]), 0.1, -0.1)
        w[:, 2] = span
    else:
        r = math.radians(yaw_deg)
        x, z = w[:, 0].copy(), w[:, 2].copy()
        w[:, 0] = x * math.cos(r) - z * math.sin(r)
        w[:, 2] = x * math.sin(r) + z * math.cos(r)
    return PoseSample(t_s, SIZE, SIZE, image, w.astype(np.float32))


def run(coach: object, samples: list[PoseSample]) -> list:  # type: ignore[type-arg]
    """Feed samples to a coach, return every event it emitted."""
    events = []
    for s in samples:
        events.extend(coach.update(s).events)  # type: ignore[attr-defined]
    return events
