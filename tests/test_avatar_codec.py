"""The avatar message: round trips within quantisation, size, garbage, test vectors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gymcorner.avatar.codec import (
    BONE_NAMES,
    EXERCISE_CODES,
    FRAME_SIZE,
    HEADER_SIZE,
    LANDMARK_NAMES,
    AvatarCodecError,
    AvatarFrame,
    Exercise,
    View,
    build_frame,
    decode_binary,
    encode_binary,
)
from gymcorner.avatar.codec_json import decode_json, encode_json
from gymcorner.avatar.head import HeadYaw
from gymcorner.avatar.limbs import NUM_BONES, BoneRotations
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample

VECTORS = Path(__file__).parent / "vectors" / "avatar_v1.json"
MM = 1e-3


def quaternion_angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle of the rotation between unit quaternions a and b (q and -q are one rotation)."""
    dots = np.clip(np.abs(np.sum(a * b, axis=-1)), 0.0, 1.0)
    return np.degrees(2.0 * np.arccos(dots))


def unit_quaternions(raw: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    return np.where(norms > 1e-3, raw / np.maximum(norms, 1e-12), [0.0, 0.0, 0.0, 1.0])


@st.composite
def frames(draw: st.DrawFn, present: bool | None = None) -> AvatarFrame:
    seq = draw(st.integers(0, 2**32 - 1))
    t_s = draw(st.floats(0.0, 1e7, allow_nan=False))
    view = draw(st.sampled_from(list(View)))
    exercise = draw(st.sampled_from(list(EXERCISE_CODES.values())))
    if present is None:
        present = draw(st.booleans())
    if not present:
        return AvatarFrame(seq, t_s, view=view, exercise=exercise)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    interval = draw(st.one_of(st.none(), st.integers(0, 17)))
    return AvatarFrame(
        seq=seq,
        t_s=t_s,
        head_interval=interval,
        head_delta_deg=10.0 * draw(st.integers(-17, 17)) if interval is not None else 0.0,
        head_yaw_deg=(interval - 8.5) * 10.0 if interval is not None else None,
        world_m=rng.uniform(-2.5, 2.5, (NUM_LANDMARKS, 3)),
        visibility=rng.uniform(0.0, 1.0, NUM_LANDMARKS),
        bones=unit_quaternions(rng.normal(size=(NUM_BONES, 4))),
        view=view,
        exercise=exercise,
    )


def assert_frames_close(got: AvatarFrame, want: AvatarFrame, world_tol: float, vis_tol: float, quat_deg: float) -> None:
    assert (got.seq, got.t_s, got.present, got.view, got.exercise) == (
        want.seq,
        want.t_s,
        want.present,
        want.view,
        want.exercise,
    )
    if not want.present:
        return
    assert got.head_interval == want.head_interval
    assert got.head_yaw_deg == (None if want.head_yaw_deg is None else pytest.approx(want.head_yaw_deg))
    assert got.head_delta_deg == pytest.approx(want.head_delta_deg)
    assert np.max(np.abs(got.world_m - want.world_m)) <= world_tol
    assert np.max(np.abs(got.visibility - want.visibility)) <= vis_tol
    np.testing.assert_allclose(np.linalg.norm(got.bones, axis=1), 1.0, atol=1e-9)
    assert np.max(quaternion_angle_deg(got.bones, want.bones)) < quat_deg


# --- round trips ---------------------------------------------------------------------


@given(frames())
def test_binary_round_trip_within_quantisation(frame: AvatarFrame) -> None:
    back = decode_binary(encode_binary(frame))
    assert_frames_close(back, frame, world_tol=0.5 * MM + 1e-9, vis_tol=1 / 30 + 1e-9, quat_deg=0.5)


@given(frames())
def test_json_round_trip_within_rounding(frame: AvatarFrame) -> None:
    back = decode_json(encode_json(frame))
    assert_frames_close(back, frame, world_tol=0.05 * MM + 1e-9, vis_tol=5e-4 + 1e-9, quat_deg=0.01)


def test_quantisation_errors_are_small() -> None:
    """Measured over many random frames: half a millimetre, 1/30 visibility, a hundredth of a degree."""
    rng = np.random.default_rng(7)
    world_err, vis_err, quat_err = 0.0, 0.0, 0.0
    for seq in range(500):
        frame = AvatarFrame(
            seq,
            seq / 30.0,
            head_interval=9,
            head_delta_deg=10.0,
            head_yaw_deg=5.0,
            world_m=rng.uniform(-2.0, 2.0, (NUM_LANDMARKS, 3)),
            visibility=rng.uniform(0.0, 1.0, NUM_LANDMARKS),
            bones=unit_quaternions(rng.normal(size=(NUM_BONES, 4))),
        )
        back = decode_binary(encode_binary(frame))
        world_err = max(world_err, float(np.max(np.abs(back.world_m - frame.world_m))))
        vis_err = max(vis_err, float(np.max(np.abs(back.visibility - frame.visibility))))
        quat_err = max(quat_err, float(np.max(quaternion_angle_deg(back.bones, frame.bones))))
    assert world_err <= 0.5 * MM + 1e-9
    assert vis_err <= 1 / 30 + 1e-9
    assert quat_err < 0.01


# --- sizes ---------------------------------------------------------------------------


@given(frames(present=True))
def test_full_frame_fits_300_bytes(frame: AvatarFrame) -> None:
    payload = encode_binary(frame)
    assert len(payload) == FRAME_SIZE == 295
    assert len(payload) <= 300


@given(frames(present=False))
def test_no_person_is_a_header_only_frame(frame: AvatarFrame) -> None:
    payload = encode_binary(frame)
    assert len(payload) == HEADER_SIZE == 17
    assert not decode_binary(payload).present


# --- garbage -------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(payload: bytes) -> None:
    try:
        decode_binary(payload)
    except AvatarCodecError:
        pass


@settings(max_examples=300)
@given(st.booleans(), st.binary(min_size=FRAME_SIZE - 8, max_size=FRAME_SIZE - 8))
def test_random_bodies_behind_a_valid_header_never_crash(present: bool, tail: bytes) -> None:
    payload = b"GA\x01" + bytes([1 if present else 0]) + tail[: (FRAME_SIZE if present else HEADER_SIZE) - 4]
    try:
        frame = decode_binary(payload)
    except AvatarCodecError:
        return
    if frame.present:  # whatever got through is a well-formed frame
        np.testing.assert_allclose(np.linalg.norm(frame.bones, axis=1), 1.0, atol=1e-6)


@settings(max_examples=100)
@given(frames(present=True), st.data())
def test_every_truncation_and_extension_is_rejected(frame: AvatarFrame, data: st.DataObject) -> None:
    payload = encode_binary(frame)
    cut = data.draw(st.integers(0, len(payload) - 1))
    with pytest.raises(AvatarCodecError):
        decode_binary(payload[:cut])
    with pytest.raises(AvatarCodecError):
        decode_binary(payload + b"\x00")


@settings(max_examples=200)
@given(frames(present=True), st.integers(0, FRAME_SIZE * 8 - 1))
def test_bit_flips_decode_or_raise_the_codec_error(frame: AvatarFrame, bit: int) -> None:
    payload = bytearray(encode_binary(frame))
    payload[bit // 8] ^= 1 << (bit % 8)
    try:
        decode_binary(bytes(payload))
    except AvatarCodecError:
        pass


def struct_nan() -> bytes:
    return np.array([np.nan], dtype="<f8").tobytes()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "truncated"),
        (b"XX\x01\x00" + bytes(13), "magic"),
        (b"GA\x02\x00" + bytes(13), "version 2"),
        (b"GA\x01\x80" + bytes(13), "reserved"),
        (b"GA\x01\x01" + bytes(13), "must be 295 bytes"),
        (b"GA\x01\x02" + bytes(13), "claims a known head"),
        (b"GA\x01\x00" + bytes(4) + struct_nan() + b"\x00", "t_s"),
    ],
)
def test_bad_headers_say_what_is_wrong(payload: bytes, message: str) -> None:
    with pytest.raises(AvatarCodecError, match=message):
        decode_binary(payload)


def test_codec_error_is_a_value_error() -> None:
    assert issubclass(AvatarCodecError, ValueError)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b"{}",
        b'{"v": 2, "seq": 0, "t_s": 0, "present": false}',
        b'{"v": 1, "seq": -1, "t_s": 0, "present": false}',
        b'{"v": 1, "seq": 0, "t_s": "now", "present": false}',
        b'{"v": 1, "seq": 0, "t_s": 0, "present": "no"}',
        b'{"v": 1, "seq": 0, "t_s": 0, "present": false, "view": "upside_down"}',
        b'{"v": 1, "seq": 0, "t_s": 0, "present": true}',
        b"[" * 100000,
    ],
)
def test_bad_json_raises_the_codec_error(payload: bytes) -> None:
    with pytest.raises(AvatarCodecError):
        decode_json(payload)


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_random_text_never_crashes_the_json_reader(text: str) -> None:
    try:
        decode_json(text.encode("utf-8"))
    except AvatarCodecError:
        pass


def test_json_with_a_broken_landmark_names_it() -> None:
    message = json.loads(encode_json(full_frame()))
    message["landmarks"]["left_knee"] = [0.1, 0.2]
    with pytest.raises(AvatarCodecError, match="left_knee"):
        decode_json(json.dumps(message))
    del message["landmarks"]["left_knee"]
    with pytest.raises(AvatarCodecError, match="left_knee is missing"):
        decode_json(json.dumps(message))


def test_json_ignores_unknown_top_level_keys_and_keeps_unknown_codes() -> None:
    message = json.loads(encode_json(AvatarFrame(3, 1.5)))
    message["added_later"] = {"x": 1}
    message["exercise"] = 15  # a code this reader does not know yet
    frame = decode_json(json.dumps(message))
    assert (frame.seq, frame.exercise) == (3, 15)
    assert json.loads(encode_json(frame))["exercise"] == 15


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2**32},
        {"t_s": math.nan},
        {"view": 16},
        {"head_delta_deg": 1e6},
        {"world_m": np.full((NUM_LANDMARKS, 3), 40.0)},
        {"world_m": np.full((NUM_LANDMARKS, 3), np.nan)},
        {"visibility": np.ones(5)},
        {"bones": np.zeros((NUM_BONES, 4))},
    ],
)
def test_encoding_a_bad_frame_raises_the_codec_error(change: dict) -> None:
    fields = {**full_frame().__dict__, **change}
    with pytest.raises(AvatarCodecError):
        encode_binary(AvatarFrame(**fields))


# --- build_frame ---------------------------------------------------------------------


def full_frame() -> AvatarFrame:
    rng = np.random.default_rng(1)
    return AvatarFrame(
        seq=1,
        t_s=2.0,
        head_interval=9,
        head_delta_deg=10.0,
        head_yaw_deg=5.0,
        world_m=rng.uniform(-1, 1, (NUM_LANDMARKS, 3)),
        visibility=rng.uniform(0, 1, NUM_LANDMARKS),
        bones=unit_quaternions(rng.normal(size=(NUM_BONES, 4))),
    )


def test_build_frame_converts_and_sanitises() -> None:
    world = np.full((NUM_LANDMARKS, 3), 0.25, dtype=np.float32)
    world[5] = np.nan
    image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, 3] = 0.9
    sample = PoseSample(12.5, 640, 480, image, world)
    head = HeadYaw(x=0.05, interval=10, delta_deg=10.0, yaw_deg=15.0)
    bones = BoneRotations(np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1)), np.ones(NUM_BONES, dtype=bool))
    frame = build_frame(sample, head, bones, seq=2**32 + 5, view=View.LATERAL, exercise=Exercise.SQUAT)
    assert (frame.seq, frame.t_s, frame.present) == (5, 12.5, True)
    assert (frame.head_interval, frame.head_delta_deg, frame.head_yaw_deg) == (10, 10.0, 15.0)
    np.testing.assert_allclose(frame.world_m[0], [-0.25, -0.25, -0.25])  # avatar frame = -BlazePose
    np.testing.assert_allclose(frame.world_m[5], 0.0)
    assert frame.visibility[5] == 0.0 and frame.visibility[0] == pytest.approx(0.9)
    decoded = decode_binary(encode_binary(frame))
    assert (decoded.view, decoded.exercise) == (View.LATERAL, EXERCISE_CODES[Exercise.SQUAT])
    assert json.loads(encode_json(frame))["exercise"] == "squat"


def test_build_frame_without_a_person_or_head() -> None:
    empty = build_frame(PoseSample(1.0, 640, 480), None, None, seq=7)
    assert not empty.present and len(encode_binary(empty)) == HEADER_SIZE
    image = np.ones((NUM_LANDMARKS, 4), dtype=np.float32)
    sample = PoseSample(1.0, 640, 480, image, np.zeros((NUM_LANDMARKS, 3), dtype=np.float32))
    unknown = HeadYaw(None, None, 0.0, None)
    frame = decode_binary(encode_binary(build_frame(sample, unknown, None, seq=8)))
    assert (frame.head_interval, frame.head_yaw_deg, frame.head_delta_deg) == (None, None, 0.0)
    np.testing.assert_allclose(frame.bones[:, 3], 1.0)


def test_json_uses_readable_names() -> None:
    message = json.loads(encode_json(full_frame()))
    assert message["v"] == 1
    assert list(message["landmarks"]) == list(LANDMARK_NAMES)
    assert LANDMARK_NAMES[0] == "nose" and "left_foot_index" in LANDMARK_NAMES
    assert list(message["bones"]) == list(BONE_NAMES)
    assert set(message["head"]) == {"interval", "delta_deg", "yaw_deg"}


# --- test vectors --------------------------------------------------------------------


def load_vectors() -> list[dict]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def test_there_are_vectors_with_and_without_a_person() -> None:
    vectors = load_vectors()
    assert len(vectors) >= 2
    assert {decode_binary(bytes.fromhex(v["hex"])).present for v in vectors} == {True, False}


@pytest.mark.parametrize("index", range(2))
def test_vectors_round_trip(index: int) -> None:
    vector = load_vectors()[index]
    payload = bytes.fromhex(vector["hex"])
    from_json = decode_json(json.dumps(vector["json"]))
    assert encode_binary(from_json) == payload  # the JSON pins every byte of the binary form
    assert_frames_close(decode_binary(payload), from_json, world_tol=1e-9, vis_tol=1e-3, quat_deg=0.01)
    assert encode_binary(decode_binary(payload)) == payload
