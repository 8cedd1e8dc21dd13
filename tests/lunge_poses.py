"""Synthetic split-squat lunges in 3-D, seen by a camera turned `yaw_deg` about the person.

The person stands in a split stance, left foot forward, and lowers the hips between the
feet and back up; the knees are placed by the bone lengths (femur and shin 0.45 m), the
front one bending forward, the back one down. World landmarks are the 3-D points (metres,
hip-centred, y down, z towards the camera), the image an orthographic view of them (1 m =
`PX_PER_M` px on a 1000x1000 frame), so the view tracker, the rep counter (world knee
angles) and the image rules all see one consistent body. At yaw 0 the person faces the
camera; at 90 the camera sees their left side, facing image right.

Faults are put in by name: `bottom_hip_above_knee_m` (how far above the front knee the hips
stop), `step_width_m` (the ankles' sideways distance), `knee_in_m` (the front knee moved
towards the midline at the bottom, in proportion to the depth reached).
"""

from __future__ import annotations

import math

import numpy as np

from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L

FEMUR = SHIN = 0.45
ANKLE_Y = 0.08  # ankle height above the floor
SHOULDER_HALF, HIP_HALF = 0.2, 0.15  # shoulder span 0.4 m
STEP_M = 0.9  # front ankle ahead of the back ankle
PX_PER_M = 500.0
FPS = 30.0


def _v(x: float, y: float, z: float) -> np.ndarray:
    return np.array([x, y, z])


def _knee(hip: np.ndarray, ankle: np.ndarray, pole: np.ndarray) -> np.ndarray:
    """The knee femur from the hip and shin from the ankle, bent towards `pole`."""
    axis = ankle - hip
    d = float(np.linalg.norm(axis))
    u = axis / d
    if d >= FEMUR + SHIN:
        return hip + u * FEMUR
    along = (FEMUR**2 - SHIN**2 + d**2) / (2 * d)
    off = math.sqrt(max(FEMUR**2 - along**2, 0.0))
    n = pole - (pole @ u) * u
    return hip + u * along + n / np.linalg.norm(n) * off


def lunge_points(hip_drop: float, step_width_m: float = 0.3, knee_in_m: float = 0.0) -> dict[L, np.ndarray]:
    """The body (x: the person's left, y up, z forward) with the hips `hip_drop` (0 standing,
    1 at the depth where the front thigh is level) of the way down."""
    front_ankle = np.array([step_width_m / 2, ANKLE_Y, STEP_M / 2])
    back_ankle = np.array([-step_width_m / 2, ANKLE_Y + 0.05, -STEP_M / 2])
    hip_z = 0.05
    top_y = ANKLE_Y + math.sqrt((FEMUR + SHIN - 0.02) ** 2 - (STEP_M / 2) ** 2)  # legs almost straight
    level_y = ANKLE_Y + SHIN  # hips at the height of a knee over an upright shin
    hip_y = top_y + (level_y - top_y) * hip_drop
    hips = {L.LEFT_HIP: np.array([HIP_HALF, hip_y, hip_z]), L.RIGHT_HIP: np.array([-HIP_HALF, hip_y, hip_z])}
    front_knee = _knee(hips[L.LEFT_HIP], front_ankle, np.array([0.0, 0.0, 1.0]))
    front_knee[0] -= knee_in_m * max(hip_drop, 0.0)
    back_knee = _knee(hips[L.RIGHT_HIP], back_ankle, np.array([0.0, -1.0, 0.3]))
    shoulders_y = hip_y + 0.5
    pts = {
        **hips,
        L.LEFT_KNEE: front_knee, L.RIGHT_KNEE: back_knee, L.LEFT_ANKLE: front_ankle, L.RIGHT_ANKLE: back_ankle,
        L.LEFT_HEEL: front_ankle + _v(0.0, -0.05, -0.07), L.LEFT_FOOT_INDEX: front_ankle + _v(0.0, -0.07, 0.16),
        L.RIGHT_HEEL: back_ankle + _v(0.0, 0.03, -0.07), L.RIGHT_FOOT_INDEX: back_ankle + _v(0.0, -0.12, 0.12),
        L.LEFT_SHOULDER: np.array([SHOULDER_HALF, shoulders_y, hip_z]),
        L.RIGHT_SHOULDER: np.array([-SHOULDER_HALF, shoulders_y, hip_z]),
        L.LEFT_ELBOW: np.array([SHOULDER_HALF + 0.03, shoulders_y - 0.28, hip_z]),
        L.RIGHT_ELBOW: np.array([-SHOULDER_HALF - 0.03, shoulders_y - 0.28, hip_z]),
        L.LEFT_WRIST: np.array([SHOULDER_HALF + 0.03, shoulders_y - 0.52, hip_z + 0.05]),
        L.RIGHT_WRIST: np.array([-SHOULDER_HALF - 0.03, shoulders_y - 0.52, hip_z + 0.05]),
        L.NOSE: np.array([0.0, shoulders_y + 0.25, hip_z + 0.1]),
        L.LEFT_EAR: np.array([0.07, shoulders_y + 0.27, hip_z]),
        L.RIGHT_EAR: np.array([-0.07, shoulders_y + 0.27, hip_z]),
    }  # fmt: skip
    return {k: np.asarray(v, dtype=np.float64) for k, v in pts.items()}


def seen(pts: dict[L, np.ndarray], t_s: float, yaw_deg: float = 0.0) -> PoseSample:
    """The body seen by a camera in front of it turned by `yaw_deg` (90: its left side)."""
    p = np.zeros((NUM_LANDMARKS, 3))
    filled = np.zeros(NUM_LANDMARKS, dtype=bool)
    for lm, v in pts.items():
        p[lm], filled[lm] = v, True
    hip_c = (p[L.LEFT_HIP] + p[L.RIGHT_HIP]) / 2
    p[~filled] = hip_c
    r = math.radians(yaw_deg)
    # Camera axes: x right in the image, y down, z towards the camera. At yaw 0 the person's
    # left (+x) is on the image's right (a mirror), their forward (+z) towards the camera.
    cam = np.column_stack((p[:, 0] * math.cos(r) + p[:, 2] * math.sin(r), -p[:, 1],
                           -p[:, 0] * math.sin(r) + p[:, 2] * math.cos(r)))  # fmt: skip
    world = cam - np.array([cam[L.LEFT_HIP] + cam[L.RIGHT_HIP]]) / 2
    image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, 0] = (500.0 + cam[:, 0] * PX_PER_M) / 1000.0
    image[:, 1] = (950.0 + cam[:, 1] * PX_PER_M) / 1000.0
    image[:, 3] = 0.99
    return PoseSample(t_s, 1000, 1000, image, world.astype(np.float32))


def lunges(
    reps: int = 2,
    bottom_drop: float = 1.0,
    yaw_deg: float = 0.0,
    step_width_m: float = 0.3,
    knee_in_m: float = 0.0,
    start_s: float = 0.0,
) -> list[PoseSample]:
    """1 s standing, then per rep 1 s down to `bottom_drop`, 0.3 s held, 1 s up, 1 s standing."""
    return [
        seen(lunge_points(d, step_width_m, knee_in_m), start_s + i / FPS, yaw_deg)
        for i, d in enumerate(drop_schedule(reps, bottom_drop))
    ]


def drop_schedule(reps: int, bottom_drop: float) -> list[float]:
    """How far down the hips are on each frame of `lunges`."""
    drops = [0.0] * 30
    for _ in range(reps):
        down = [bottom_drop * i / 30 for i in range(31)]
        drops += down + [bottom_drop] * 9 + down[::-1] + [0.0] * 30
    return drops


def rep_flags(reps: int, bottom_drop: float) -> list[tuple[bool, bool]]:
    """(in a rep, the rep ends here) per frame of `lunges`: a rep while the hips are down,
    ending on the first frame back up (as the coach tells the analyser)."""
    drops = drop_schedule(reps, bottom_drop)
    return [(d > 0, d == 0 and i > 0 and drops[i - 1] > 0) for i, d in enumerate(drops)]
