"""The avatar message (version 1): one frame of what drives the avatar, binary or JSON.

The layout, units and test vectors are in docs/avatar-frame.md; this module is the one
implementation of it. Binary is the default on the wire (295 bytes with a person, 17
without), JSON is the readable form for tools and debugging. Both carry the same
`AvatarFrame`, which knows nothing of the device that made it.

Coordinates are in the avatar frame (`avatar.limbs`: +x the person's right, +y up, +z the
person's forward when facing the camera, metres, hip-centred), so a Unity subscriber uses
them as they come. Decoding never trusts its input: anything that is not a well-formed
version-1 frame raises `AvatarCodecError` (a `ValueError`) saying what is wrong.
The JSON form is `avatar.codec_json`.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass

import numpy as np

from gymcorner.avatar.head import HeadYaw
from gymcorner.avatar.limbs import NUM_BONES, Bone, BoneRotations, blazepose_to_avatar
from gymcorner.coach.exercises import Exercise
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.landmarks import NUM_LANDMARKS, Landmark, PoseSample

VERSION = 1
MAGIC = b"GA"

# Header: magic, version, flags, seq, t_s, view | exercise << 4.
_HEADER = struct.Struct("<2sBBIdB")
# Body: head interval, head delta (0.1°), head yaw (0.1°).
_HEAD = struct.Struct("<Hhh")
HEADER_SIZE = _HEADER.size  # 17
_WORLD_SIZE = NUM_LANDMARKS * 3 * 2
_VISIBILITY_SIZE = (NUM_LANDMARKS + 1) // 2
_QUAT_INDEX_SIZE = (2 * NUM_BONES + 7) // 8
_QUAT_SIZE = NUM_BONES * 3 * 2
FRAME_SIZE = HEADER_SIZE + _HEAD.size + _WORLD_SIZE + _VISIBILITY_SIZE + _QUAT_INDEX_SIZE + _QUAT_SIZE  # 295

_FLAG_PRESENT = 0x01
_FLAG_HEAD_KNOWN = 0x02
_FLAGS_KNOWN = _FLAG_PRESENT | _FLAG_HEAD_KNOWN
NO_INTERVAL = 0xFFFF
SEQ_MODULUS = 1 << 32
_ANGLE_SCALE = 10.0  # int16 units per degree
_MM_PER_M = 1000.0
_INT16_MAX = 32767
_VIS_LEVELS = 15
# Smallest three: the dropped component is the largest, so the other three lie in
# [-1/sqrt(2), 1/sqrt(2)] and their squares add up to at most 3/4.
_QUAT_SCALE = _INT16_MAX * math.sqrt(2.0)
_QUAT_MAX_REST = 0.75 + 1e-3


class AvatarCodecError(ValueError):
    """An avatar payload (or frame to encode) that is not a valid version-1 frame."""


class View(enum.IntEnum):
    UNKNOWN = 0
    FRONTAL = 1
    LATERAL = 2


# The exercise nibble of the header. Codes are additive within v1 (docs/avatar-frame.md):
# never renumber one. The JSON form names an exercise by its `Exercise` value.
EXERCISE_CODES: dict[Exercise, int] = {
    Exercise.UNKNOWN: 0,
    Exercise.SQUAT: 1,
    Exercise.PUSH_UP: 2,
    Exercise.PULL_UP: 3,
    Exercise.DIP: 4,
    Exercise.PLANK: 5,
    Exercise.LUNGE: 6,
    Exercise.JUMPING_JACK: 7,
    Exercise.BICEP_CURL: 8,
    Exercise.RUSSIAN_TWIST: 9,
    Exercise.OTHER: 10,
    Exercise.BENCH_PRESS: 11,
    Exercise.FRONT_RAISE: 12,
    Exercise.SIT_UP: 13,
    Exercise.CABLE_PUSHDOWN: 14,
}
_EXERCISE_BY_CODE: dict[int, Exercise] = {code: exercise for exercise, code in EXERCISE_CODES.items()}
EXERCISE_NAMES: tuple[str, ...] = tuple(e.value for e in sorted(EXERCISE_CODES, key=EXERCISE_CODES.__getitem__))


def exercise_code(exercise: Exercise | int) -> int:
    """The wire code of an exercise (an int is taken as a code already)."""
    return EXERCISE_CODES[exercise] if isinstance(exercise, Exercise) else int(exercise)


def exercise_of(code: int) -> Exercise | None:
    """The exercise of a wire code; None for a code newer than this reader's table."""
    return _EXERCISE_BY_CODE.get(int(code))


LANDMARK_NAMES: tuple[str, ...] = tuple(lm.name.lower() for lm in Landmark)
BONE_NAMES: tuple[str, ...] = tuple(b.name.lower() for b in Bone)


@dataclass(frozen=True, eq=False)
class AvatarFrame:
    """One avatar frame. `world_m` is None when no person is in view (a header-only frame).

    seq: uint32 message counter (wraps). t_s: the source frame's timestamp, seconds.
    head_interval / head_delta_deg / head_yaw_deg: head-yaw quantisation (interval and yaw None when
    the head is unknown). world_m: (33, 3) metres, avatar frame. visibility: (33,) in
    [0, 1]. bones: (9, 4) unit quaternions (x, y, z, w) in `Bone` order. view, exercise:
    `View` / `Exercise` codes (0-15; readers keep codes they do not know as integers).
    """

    seq: int
    t_s: float
    head_interval: int | None = None
    head_delta_deg: float = 0.0
    head_yaw_deg: float | None = None
    world_m: FloatArray | None = None
    visibility: FloatArray | None = None
    bones: FloatArray | None = None
    view: int = View.UNKNOWN
    exercise: int = EXERCISE_CODES[Exercise.UNKNOWN]

    @property
    def present(self) -> bool:
        return self.world_m is not None


def build_frame(
    sample: PoseSample,
    head: HeadYaw | None,
    bones: BoneRotations | FloatArray | None,
    seq: int,
    view: int = View.UNKNOWN,
    exercise: Exercise | int = Exercise.UNKNOWN,
) -> AvatarFrame:
    """The frame for one processed sample; never raises on odd landmark values.

    Non-finite landmarks are sent as the origin with visibility 0 and coordinates beyond
    the int16 millimetre range are clipped, so a glitch in one landmark cannot stop the
    stream. seq is taken modulo 2**32.
    """
    seq = int(seq) % SEQ_MODULUS
    view, exercise = int(view) & 0x0F, exercise_code(exercise) & 0x0F
    if sample.world is None:
        return AvatarFrame(seq, float(sample.t_s), view=view, exercise=exercise)
    world = blazepose_to_avatar(sample.world)
    visibility = np.nan_to_num(np.asarray(sample.visibility(), dtype=np.float64), nan=0.0)
    bad = ~np.all(np.isfinite(world), axis=1)
    world[bad] = 0.0
    visibility[bad] = 0.0
    limit_m = _INT16_MAX / _MM_PER_M
    world = np.clip(world, -limit_m, limit_m)
    if isinstance(bones, BoneRotations):
        quaternions = bones.quaternions
    elif bones is None:
        quaternions = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    else:
        quaternions = np.asarray(bones, dtype=np.float64)
    known = head if head is not None and head.interval is not None else None
    return AvatarFrame(
        seq=seq,
        t_s=float(sample.t_s),
        head_interval=known.interval if known else None,
        head_delta_deg=float(known.delta_deg) if known else 0.0,
        head_yaw_deg=known.yaw_deg if known else None,
        world_m=world,
        visibility=np.clip(visibility, 0.0, 1.0),
        bones=np.array(quaternions, dtype=np.float64),
        view=view,
        exercise=exercise,
    )


# --- binary ---------------------------------------------------------------------------


def _angle_units(value_deg: float, name: str) -> int:
    if not math.isfinite(value_deg) or not -_INT16_MAX <= round(value_deg * _ANGLE_SCALE) <= _INT16_MAX:
        raise AvatarCodecError(f"{name} = {value_deg} does not fit the int16 tenths of a degree field")
    return round(value_deg * _ANGLE_SCALE)


def checked_array(value: FloatArray | None, shape: tuple[int, ...], name: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise AvatarCodecError(f"{name} has shape {array.shape}, expected {shape}")
    if not np.all(np.isfinite(array)):
        raise AvatarCodecError(f"{name} holds NaN or infinite values")
    return array


def _pack_quaternions(quaternions: FloatArray) -> tuple[bytes, bytes]:
    norms = np.linalg.norm(quaternions, axis=1)
    if np.any(norms < 1e-6):
        raise AvatarCodecError("bones holds a zero quaternion")
    unit = quaternions / norms[:, None]
    largest = np.argmax(np.abs(unit), axis=1)
    dropped = np.eye(4, dtype=bool)[largest]
    unit = np.where(unit[dropped][:, None] < 0, -unit, unit)  # q and -q: keep the largest positive
    rest = unit[~dropped].reshape(NUM_BONES, 3)
    index_bits = int(np.sum(largest.astype(np.int64) << (2 * np.arange(NUM_BONES))))
    scaled = np.clip(np.rint(rest * _QUAT_SCALE), -_INT16_MAX, _INT16_MAX).astype("<i2")
    return index_bits.to_bytes(_QUAT_INDEX_SIZE, "little"), scaled.tobytes()


def _unpack_quaternions(index_bytes: bytes, rest_bytes: bytes) -> FloatArray:
    index_bits = int.from_bytes(index_bytes, "little")
    if index_bits >> (2 * NUM_BONES):
        raise AvatarCodecError("quaternion index block has bits set beyond the last bone")
    rest = np.frombuffer(rest_bytes, dtype="<i2").reshape(NUM_BONES, 3).astype(np.float64) / _QUAT_SCALE
    squares = np.sum(rest * rest, axis=1)
    restored = np.sqrt(np.clip(1.0 - squares, 0.0, None))
    impossible = (squares > _QUAT_MAX_REST) | (np.max(np.abs(rest), axis=1) > restored + 1e-3)
    if np.any(impossible):
        raise AvatarCodecError(f"bone {BONE_NAMES[int(np.argmax(impossible))]}: not a smallest-three quaternion")
    largest = (index_bits >> (2 * np.arange(NUM_BONES))) & 0x3
    dropped = np.eye(4, dtype=bool)[largest]
    quaternions = np.empty((NUM_BONES, 4))
    quaternions[dropped] = restored
    quaternions[~dropped] = rest.ravel()
    return quaternions


def encode_binary(frame: AvatarFrame) -> bytes:
    """Version-1 binary frame (layout in docs/avatar-frame.md)."""
    if not 0 <= int(frame.seq) < SEQ_MODULUS:
        raise AvatarCodecError(f"seq {frame.seq} is outside uint32")
    if not math.isfinite(frame.t_s):
        raise AvatarCodecError(f"t_s {frame.t_s} is not finite")
    if not (0 <= int(frame.view) <= 15 and 0 <= int(frame.exercise) <= 15):
        raise AvatarCodecError(f"view {frame.view} / exercise {frame.exercise} do not fit 4 bits")
    known = frame.head_interval is not None
    flags = (_FLAG_PRESENT if frame.present else 0) | (_FLAG_HEAD_KNOWN if known and frame.present else 0)
    codes = int(frame.view) | int(frame.exercise) << 4
    header = _HEADER.pack(MAGIC, VERSION, flags, int(frame.seq), float(frame.t_s), codes)
    if not frame.present:
        return header
    if known and not 0 <= int(frame.head_interval) < NO_INTERVAL:  # type: ignore[arg-type]
        raise AvatarCodecError(f"head interval {frame.head_interval} is outside 0..65534")
    head = _HEAD.pack(
        int(frame.head_interval) if known else NO_INTERVAL,  # type: ignore[arg-type]
        _angle_units(frame.head_delta_deg, "head_delta_deg") if known else 0,
        _angle_units(frame.head_yaw_deg or 0.0, "head_yaw_deg") if known else 0,
    )
    world = checked_array(frame.world_m, (NUM_LANDMARKS, 3), "world_m")
    world_mm = np.rint(world * _MM_PER_M)
    if np.any(np.abs(world_mm) > _INT16_MAX):
        raise AvatarCodecError("world_m has a coordinate beyond ±32.767 m")
    visibility = checked_array(frame.visibility, (NUM_LANDMARKS,), "visibility")
    levels = np.rint(np.clip(visibility, 0.0, 1.0) * _VIS_LEVELS).astype(np.uint8)
    levels = np.append(levels, np.uint8(0)) if NUM_LANDMARKS % 2 else levels
    packed_visibility = (levels[0::2] | (levels[1::2] << 4)).astype(np.uint8).tobytes()
    index_block, rest_block = _pack_quaternions(checked_array(frame.bones, (NUM_BONES, 4), "bones"))
    return b"".join(
        (header, head, world_mm.astype("<i2").tobytes(), packed_visibility, index_block, rest_block)
    )


def decode_binary(payload: bytes) -> AvatarFrame:
    """Parse a version-1 binary frame; raises AvatarCodecError on anything malformed."""
    data = bytes(payload)
    if len(data) < HEADER_SIZE:
        raise AvatarCodecError(f"truncated avatar frame: {len(data)} bytes, the header alone is {HEADER_SIZE}")
    magic, version, flags, seq, t_s, codes = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise AvatarCodecError(f"not an avatar frame: magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise AvatarCodecError(f"avatar frame version {version} is not supported (this reader knows {VERSION})")
    if flags & ~_FLAGS_KNOWN:
        raise AvatarCodecError(f"avatar frame flags 0x{flags:02x} set reserved bits")
    if not math.isfinite(t_s):
        raise AvatarCodecError("avatar frame t_s is not finite")
    present = bool(flags & _FLAG_PRESENT)
    expected = FRAME_SIZE if present else HEADER_SIZE
    if len(data) != expected:
        kind = "with a person" if present else "without a person"
        raise AvatarCodecError(f"avatar frame {kind} must be {expected} bytes, got {len(data)}")
    view, exercise = codes & 0x0F, codes >> 4
    if not present:
        if flags & _FLAG_HEAD_KNOWN:
            raise AvatarCodecError("avatar frame without a person claims a known head")
        return AvatarFrame(seq, t_s, view=view, exercise=exercise)
    offset = HEADER_SIZE
    interval, delta_units, yaw_units = _HEAD.unpack_from(data, offset)
    offset += _HEAD.size
    known = bool(flags & _FLAG_HEAD_KNOWN)
    if known != (interval != NO_INTERVAL) or (not known and (delta_units or yaw_units)):
        raise AvatarCodecError("avatar frame head fields contradict the head-known flag")
    world_mm = np.frombuffer(data, dtype="<i2", count=NUM_LANDMARKS * 3, offset=offset)
    offset += _WORLD_SIZE
    packed = np.frombuffer(data, dtype=np.uint8, count=_VISIBILITY_SIZE, offset=offset)
    offset += _VISIBILITY_SIZE
    levels = np.empty(2 * _VISIBILITY_SIZE, dtype=np.uint8)
    levels[0::2], levels[1::2] = packed & 0x0F, packed >> 4
    if np.any(levels[NUM_LANDMARKS:]):
        raise AvatarCodecError("avatar frame visibility padding is not zero")
    index_block = data[offset : offset + _QUAT_INDEX_SIZE]
    offset += _QUAT_INDEX_SIZE
    bones = _unpack_quaternions(index_block, data[offset : offset + _QUAT_SIZE])
    return AvatarFrame(
        seq=seq,
        t_s=t_s,
        head_interval=interval if known else None,
        head_delta_deg=delta_units / _ANGLE_SCALE,
        head_yaw_deg=yaw_units / _ANGLE_SCALE if known else None,
        world_m=world_mm.reshape(NUM_LANDMARKS, 3).astype(np.float64) / _MM_PER_M,
        visibility=levels[:NUM_LANDMARKS].astype(np.float64) / _VIS_LEVELS,
        bones=bones,
        view=view,
        exercise=exercise,
    )
