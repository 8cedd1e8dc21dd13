"""Limb rotations as shortest-arc quaternions (from-to rotation + slerp), plus the avatar frame.

The avatar frame
----------------
Everything the avatar package emits is expressed in one frame, the frame of a Unity
humanoid standing in its rest pose: **+x the person's right, +y up, +z the person's
forward when they face the camera** (left-handed, as Unity is). BlazePose world landmarks
are right-handed: x towards the image's right, y *down*, z away from the camera, origin
between the hips (checked on our recordings: world x correlates with image x at r ≥ 0.95
on every clip, the nose has y < 0 and the ankles y > 0, and in the back-view clips
squat_7/squat_8 the nose has a larger z than the ear midpoint, i.e. it is farther away).
A person facing an unmirrored camera has their right side on the image's left (left
shoulder at the larger image x in front views, at the smaller one in back views — also
checked), so the conversion is a plain negation of all three axes::

    avatar = -blazepose_world          # (x, y, z) -> (-x, -y, -z)

which is a reflection (determinant -1): exactly the handedness change from BlazePose's
right-handed frame to Unity's left-handed one. The avatar therefore faces +z when the
person faces the camera, and a person turning to *their* right turns the avatar to +x
(a positive rotation about +y in Unity). A mirrored ("selfie") camera feed swaps the
person's sides and is not what this assumes.

Quaternions are (x, y, z, w), Hamilton convention, the same numbers Unity's `Quaternion`
holds: `Quaternion * Vector3` in Unity gives the same components as `rotate_vector` here.

Rest pose and bones
-------------------
The rest pose is Unity's humanoid T-pose: arms straight out to the sides (left arm along
-x, right arm along +x, forearms continuing the upper arms), legs straight down (-y),
spine straight up (+y, hip midpoint -> shoulder midpoint). For each bone,

    r = from_to_rotation(d_init, slerp(d_init, d_curr, k))

is the rotation, in the avatar's root frame, that carries the rest direction onto the
current one (the app applies it as `bone.rotation = root * r * rest_rotation`).
k = `AvatarConfig.slerp_k` (1.0 follows the landmarks fully): k < 1 stops each bone a fixed fraction of
the way from its rest direction, it is *not* temporal smoothing (that is the landmark
filter's job upstream).
Two points fix a direction, not a twist about it; the shortest arc adds no twist.

Two shortcuts that look right are not: QFTR(u, v) = (u × v) / (|u||v|) is only the
sine-scaled axis, not a quaternion (no scalar part, and wrong for angles over 90°), and a
straight lerp in place of SLERP leaves the unit sphere. Here both are the correct
constructions.

Visibility rule: a bone is measured only when every landmark at both of its ends has
visibility >= `min_visibility` and finite coordinates; otherwise it keeps the rotation it
had on the previous frame (identity before it was ever seen). A frame without a person
keeps every bone as it was. In side views the far limbs are often below the threshold
from the first frame on (squat_14: right elbow and wrist at visibility 0.01-0.17
throughout), so they stay in the T-pose; `BoneRotations.measured` tells the app which
bones are live.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from gymcorner.config import AvatarConfig
from gymcorner.motion.arrays import AnyFloatArray, BoolArray, FloatArray
from gymcorner.motion.geometry import cross
from gymcorner.motion.landmarks import NUM_LANDMARKS, Landmark, PoseSample

_PARALLEL_EPS = 1e-9


def blazepose_to_avatar(world: AnyFloatArray) -> FloatArray:
    """BlazePose world coordinates (..., 3) -> avatar frame (see the module docstring)."""
    return -np.asarray(world, dtype=np.float64)


# --- quaternion and unit-vector maths -------------------------------------------------


def _unit_rows(v: FloatArray) -> FloatArray:
    """Normalise the last axis of v (..., 3); a zero or non-finite vector is a caller's bug."""
    v = np.asarray(v, dtype=np.float64)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms < _PARALLEL_EPS):
        raise ValueError(f"cannot normalise a zero or non-finite vector {v!r}")
    unit: FloatArray = v / norms
    return unit


def _any_perpendicular(u: FloatArray) -> FloatArray:
    """Unit vectors orthogonal to unit u (..., 3), chosen deterministically.

    Crossing with the coordinate axis least aligned with u keeps the result well away from
    zero length whatever u is.
    """
    least_aligned = np.eye(3)[np.argmin(np.abs(u), axis=-1)]
    return _unit_rows(cross(u, least_aligned))


def _arc(u: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rotation axes (unit) and angles (radians, in [0, pi]) of the shortest arcs u -> v.

    atan2 of |u × v| and u · v is accurate at every angle (acos is not, near 0 and pi).
    Antiparallel vectors have no unique axis; any perpendicular one is a shortest arc.
    """
    normal = cross(u, v)
    sin_angle = np.linalg.norm(normal, axis=-1)
    angle = np.arctan2(sin_angle, np.sum(u * v, axis=-1))
    parallel = sin_angle <= _PARALLEL_EPS
    axis = normal / np.where(parallel, 1.0, sin_angle)[..., None]
    if np.any(parallel):
        axis = np.where(parallel[..., None], _any_perpendicular(u), axis)
    return axis, angle


def quaternion_from_axis_angle(axis: FloatArray, angle_rad: float) -> FloatArray:
    half = 0.5 * angle_rad
    xyz = _unit_rows(axis) * np.sin(half)
    return np.array([xyz[0], xyz[1], xyz[2], np.cos(half)])


def from_to_rotation(u: FloatArray, v: FloatArray) -> FloatArray:
    """Unit quaternions (x, y, z, w) of the shortest rotations turning directions u onto v.

    u, v: (..., 3), any non-zero length; returns (..., 4). Parallel inputs give the
    identity; antiparallel ones a half turn about a perpendicular axis.
    """
    axis, angle = _arc(_unit_rows(u), _unit_rows(v))
    half = 0.5 * angle
    return np.concatenate((axis * np.sin(half)[..., None], np.cos(half)[..., None]), axis=-1)


def slerp_unit(u: FloatArray, v: FloatArray, t: float) -> FloatArray:
    """Spherical interpolation between directions u (t = 0) and v (t = 1), unit length.

    Moves along the great circle at constant angular speed, so t is the fraction of the
    angle covered; for antiparallel inputs the circle through the same perpendicular axis
    as `from_to_rotation` is used, so the two functions agree. Works row-wise on (..., 3).
    """
    u_n, v_n = _unit_rows(u), _unit_rows(v)
    axis, angle = _arc(u_n, v_n)
    turned = (t * angle)[..., None]
    # Rodrigues' rotation of u about an axis perpendicular to it.
    rotated: FloatArray = np.cos(turned) * u_n + np.sin(turned) * cross(axis, u_n)
    return rotated


def quaternion_multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product a * b of (x, y, z, w) quaternions (apply b first, then a)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def rotate_vector(q: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate vector v by unit quaternion q (x, y, z, w)."""
    xyz, w = np.asarray(q[:3], dtype=np.float64), float(q[3])
    v = np.asarray(v, dtype=np.float64)
    t: FloatArray = 2.0 * cross(xyz, v)
    rotated: FloatArray = v + w * t + cross(xyz, t)
    return rotated


# --- bones ---------------------------------------------------------------------------


class Bone(enum.IntEnum):
    """Bone order of `BoneRotations.quaternions` and of the avatar message."""

    SPINE = 0
    LEFT_UPPER_ARM = 1
    RIGHT_UPPER_ARM = 2
    LEFT_FOREARM = 3
    RIGHT_FOREARM = 4
    LEFT_THIGH = 5
    RIGHT_THIGH = 6
    LEFT_SHIN = 7
    RIGHT_SHIN = 8


NUM_BONES = len(Bone)

_LEFT = (-1.0, 0.0, 0.0)
_RIGHT = (1.0, 0.0, 0.0)
_UP = (0.0, 1.0, 0.0)
_DOWN = (0.0, -1.0, 0.0)


@dataclass(frozen=True)
class BoneSpec:
    """A bone as data: its ends (each the mean of some landmarks) and its T-pose direction."""

    bone: Bone
    start: tuple[Landmark, ...]
    end: tuple[Landmark, ...]
    rest_direction: tuple[float, float, float]


BONES: tuple[BoneSpec, ...] = (
    BoneSpec(
        Bone.SPINE,
        (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
        (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER),
        _UP,
    ),
    BoneSpec(Bone.LEFT_UPPER_ARM, (Landmark.LEFT_SHOULDER,), (Landmark.LEFT_ELBOW,), _LEFT),
    BoneSpec(Bone.RIGHT_UPPER_ARM, (Landmark.RIGHT_SHOULDER,), (Landmark.RIGHT_ELBOW,), _RIGHT),
    BoneSpec(Bone.LEFT_FOREARM, (Landmark.LEFT_ELBOW,), (Landmark.LEFT_WRIST,), _LEFT),
    BoneSpec(Bone.RIGHT_FOREARM, (Landmark.RIGHT_ELBOW,), (Landmark.RIGHT_WRIST,), _RIGHT),
    BoneSpec(Bone.LEFT_THIGH, (Landmark.LEFT_HIP,), (Landmark.LEFT_KNEE,), _DOWN),
    BoneSpec(Bone.RIGHT_THIGH, (Landmark.RIGHT_HIP,), (Landmark.RIGHT_KNEE,), _DOWN),
    BoneSpec(Bone.LEFT_SHIN, (Landmark.LEFT_KNEE,), (Landmark.LEFT_ANKLE,), _DOWN),
    BoneSpec(Bone.RIGHT_SHIN, (Landmark.RIGHT_KNEE,), (Landmark.RIGHT_ANKLE,), _DOWN),
)
assert tuple(spec.bone for spec in BONES) == tuple(Bone), "BONES must list every bone in Bone order"

IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


@dataclass(frozen=True)
class BoneRotations:
    """One frame's bone rotations.

    quaternions: (NUM_BONES, 4) unit (x, y, z, w) in Bone order, rotation from the T-pose
    direction in the avatar frame. measured: (NUM_BONES,) bool, True where the bone was
    measured on this frame, False where it was held from an earlier frame (or is identity).
    """

    quaternions: FloatArray
    measured: BoolArray

    def __getitem__(self, bone: Bone) -> FloatArray:
        q: FloatArray = self.quaternions[bone]
        return q


def _endpoint_weights(ends: str) -> FloatArray:
    """(NUM_BONES, 33) matrix averaging each bone's start (or end) landmarks."""
    weights = np.zeros((NUM_BONES, NUM_LANDMARKS))
    for spec in BONES:
        landmarks = list(getattr(spec, ends))
        weights[spec.bone, landmarks] = 1.0 / len(landmarks)
    return weights


# Bone vectors of all bones at once: _DIRECTION_WEIGHTS @ points (33, 3) -> (NUM_BONES, 3).
_DIRECTION_WEIGHTS = _endpoint_weights("end") - _endpoint_weights("start")
_USES_LANDMARK = (_endpoint_weights("end") + _endpoint_weights("start")) > 0
_REST_DIRECTIONS = np.array([spec.rest_direction for spec in BONES])


class LimbRotationTracker:
    """Limb rotations over a stream of samples, holding each bone through low-visibility frames."""

    def __init__(self, config: AvatarConfig | None = None, min_visibility: float = 0.5) -> None:
        self._slerp_k = (config or AvatarConfig()).slerp_k
        self._min_visibility = float(min_visibility)
        self._quaternions = np.tile(IDENTITY, (NUM_BONES, 1))

    def reset(self) -> None:
        """Back to the rest pose (identity for every bone)."""
        self._quaternions = np.tile(IDENTITY, (NUM_BONES, 1))

    def update(self, sample: PoseSample) -> BoneRotations:
        measured = np.zeros(NUM_BONES, dtype=bool)
        if sample.world is not None:
            points = blazepose_to_avatar(sample.world)
            unusable = ~(sample.visibility() >= self._min_visibility) | ~np.all(np.isfinite(points), axis=1)
            directions = _DIRECTION_WEIGHTS @ np.where(unusable[:, None], 0.0, points)
            measured = ~np.any(_USES_LANDMARK & unusable, axis=1)
            measured &= np.linalg.norm(directions, axis=1) > 1e-6  # ends on one spot: no direction
            if measured.any():
                rest = _REST_DIRECTIONS[measured]
                target = slerp_unit(rest, directions[measured], self._slerp_k)
                self._quaternions[measured] = from_to_rotation(rest, target)
        return BoneRotations(self._quaternions.copy(), measured)
