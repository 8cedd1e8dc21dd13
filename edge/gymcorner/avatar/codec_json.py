"""The avatar message's JSON form (version 1): the same `AvatarFrame` as the binary one, readable.

Names for landmarks, bones, view and exercise (docs/avatar-frame.md); for tools, debugging
and subscribers that would rather not unpack bytes. Decoding never trusts its input: a
payload that is not a well-formed version-1 frame raises `AvatarCodecError` saying what
is wrong and where.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import numpy as np

from gymcorner.avatar.codec import (
    BONE_NAMES,
    EXERCISE_CODES,
    EXERCISE_NAMES,
    LANDMARK_NAMES,
    NO_INTERVAL,
    SEQ_MODULUS,
    VERSION,
    AvatarCodecError,
    AvatarFrame,
    View,
    checked_array,
    exercise_of,
)
from gymcorner.avatar.limbs import NUM_BONES
from gymcorner.coach.exercises import Exercise
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.landmarks import NUM_LANDMARKS


def _code_name(enum_type: type[enum.IntEnum], code: int) -> str | int:
    try:
        return enum_type(code).name.lower()
    except ValueError:
        return int(code)  # a code newer than this writer's table: keep the number


def _exercise_name(code: int) -> str | int:
    exercise = exercise_of(code)
    return exercise.value if exercise is not None else int(code)  # newer than this table: the number


def encode_json(frame: AvatarFrame) -> bytes:
    """Readable version-1 frame: UTF-8 JSON, names for landmarks, bones, view, exercise."""
    message: dict[str, Any] = {
        "v": VERSION,
        "seq": int(frame.seq),
        "t_s": float(frame.t_s),
        "present": frame.present,
        "view": _code_name(View, frame.view),
        "exercise": _exercise_name(frame.exercise),
    }
    if frame.present:
        world = checked_array(frame.world_m, (NUM_LANDMARKS, 3), "world_m")
        visibility = checked_array(frame.visibility, (NUM_LANDMARKS,), "visibility")
        bones = checked_array(frame.bones, (NUM_BONES, 4), "bones")
        known = frame.head_interval is not None
        message["head"] = {
            "interval": int(frame.head_interval) if known else None,  # type: ignore[arg-type]
            "delta_deg": round(float(frame.head_delta_deg), 3) if known else 0.0,
            "yaw_deg": round(float(frame.head_yaw_deg or 0.0), 3) if known else None,
        }
        message["landmarks"] = {
            name: [round(float(c), 4) for c in world[i]] + [round(float(visibility[i]), 3)]
            for i, name in enumerate(LANDMARK_NAMES)
        }
        message["bones"] = {name: [round(float(c), 6) for c in bones[i]] for i, name in enumerate(BONE_NAMES)}
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _field(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise AvatarCodecError(f"avatar JSON: {where}{key} is missing")
    return obj[key]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AvatarCodecError(f"avatar JSON: {where} must be a finite number, got {value!r}")
    return float(value)


def _integer(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AvatarCodecError(f"avatar JSON: {where} must be an integer in {low}..{high}, got {value!r}")
    return value


def _exercise_from_json(value: Any) -> int:
    if isinstance(value, str):
        try:
            return EXERCISE_CODES[Exercise(value.lower())]
        except ValueError:
            names = ", ".join(EXERCISE_NAMES)
            raise AvatarCodecError(f"avatar JSON: exercise {value!r} is not one of {names}") from None
    return _integer(value, "exercise", 0, 15)


def _code(value: Any, enum_type: type[enum.IntEnum], where: str) -> int:
    if isinstance(value, str):
        try:
            return int(enum_type[value.upper()])
        except KeyError:
            names = ", ".join(m.name.lower() for m in enum_type)
            raise AvatarCodecError(f"avatar JSON: {where} {value!r} is not one of {names}") from None
    return _integer(value, where, 0, 15)


def _vectors(obj: Any, names: tuple[str, ...], width: int, where: str) -> FloatArray:
    if not isinstance(obj, dict):
        raise AvatarCodecError(f"avatar JSON: {where} must be an object keyed by name")
    unknown = sorted(set(obj) - set(names))
    if unknown:
        raise AvatarCodecError(f"avatar JSON: {where} has unknown names {unknown}")
    rows = np.empty((len(names), width))
    for i, name in enumerate(names):
        row = _field(obj, name, f"{where}.")
        if not isinstance(row, list) or len(row) != width:
            raise AvatarCodecError(f"avatar JSON: {where}.{name} must be a list of {width} numbers")
        rows[i] = [_number(c, f"{where}.{name}") for c in row]
    return rows


def decode_json(payload: bytes | str) -> AvatarFrame:
    """Parse a version-1 JSON frame; raises AvatarCodecError on anything malformed.

    Unknown top-level keys are ignored (later v1 writers may add optional keys).
    """
    try:
        message = json.loads(payload)
    except (ValueError, TypeError, RecursionError) as err:  # bad UTF-8 or JSON, deep nesting
        raise AvatarCodecError(f"avatar JSON: not valid UTF-8 JSON: {err}") from err
    if not isinstance(message, dict):
        raise AvatarCodecError("avatar JSON: the payload must be an object")
    version = _field(message, "v", "")
    if version != VERSION:
        raise AvatarCodecError(f"avatar JSON version {version!r} is not supported (this reader knows {VERSION})")
    seq = _integer(_field(message, "seq", ""), "seq", 0, SEQ_MODULUS - 1)
    t_s = _number(_field(message, "t_s", ""), "t_s")
    present = _field(message, "present", "")
    if not isinstance(present, bool):
        raise AvatarCodecError(f"avatar JSON: present must be true or false, got {present!r}")
    view = _code(message.get("view", 0), View, "view")
    exercise = _exercise_from_json(message.get("exercise", 0))
    if not present:
        return AvatarFrame(seq, t_s, view=view, exercise=exercise)
    head = _field(message, "head", "")
    if not isinstance(head, dict):
        raise AvatarCodecError("avatar JSON: head must be an object")
    interval = _field(head, "interval", "head.")
    if interval is not None:
        interval = _integer(interval, "head.interval", 0, NO_INTERVAL - 1)
    yaw = _field(head, "yaw_deg", "head.")
    if (interval is None) != (yaw is None):
        raise AvatarCodecError("avatar JSON: head.interval and head.yaw_deg must both be set or both be null")
    landmarks = _vectors(_field(message, "landmarks", ""), LANDMARK_NAMES, 4, "landmarks")
    bones = _vectors(_field(message, "bones", ""), BONE_NAMES, 4, "bones")
    norms = np.linalg.norm(bones, axis=1)
    if np.any(np.abs(norms - 1.0) > 1e-3):
        raise AvatarCodecError("avatar JSON: bones must be unit quaternions")
    visibility = landmarks[:, 3]
    if np.any((visibility < 0) | (visibility > 1)):
        raise AvatarCodecError("avatar JSON: landmark visibility must lie in [0, 1]")
    return AvatarFrame(
        seq=seq,
        t_s=t_s,
        head_interval=interval,
        head_delta_deg=_number(_field(head, "delta_deg", "head."), "head.delta_deg"),
        head_yaw_deg=None if yaw is None else _number(yaw, "head.yaw_deg"),
        world_m=landmarks[:, :3].copy(),
        visibility=visibility.copy(),
        bones=bones / norms[:, None],
        view=view,
        exercise=exercise,
    )
