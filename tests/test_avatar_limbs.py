"""Limb rotations: shortest-arc quaternions, slerp, the avatar frame, holding."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gymcorner.avatar.limbs import (
    BONES,
    NUM_BONES,
    Bone,
    LimbRotationTracker,
    blazepose_to_avatar,
    from_to_rotation,
    quaternion_from_axis_angle,
    quaternion_multiply,
    rotate_vector,
    slerp_unit,
)
from gymcorner.config import AvatarConfig
from gymcorner.motion.landmarks import NUM_LANDMARKS, Landmark, PoseSample

FIXTURES = Path(__file__).parent / "fixtures" / "landmarks"

coordinate = st.floats(-10.0, 10.0, allow_nan=False)
vectors = st.tuples(coordinate, coordinate, coordinate).map(np.array).filter(lambda v: np.linalg.norm(v) > 1e-3)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def angle_between(u: np.ndarray, v: np.ndarray) -> float:
    return math.atan2(np.linalg.norm(np.cross(u, v)), float(np.dot(u, v)))


# --- from-to rotation ----------------------------------------------------------------


@given(vectors, vectors)
def test_from_to_turns_u_onto_v(u: np.ndarray, v: np.ndarray) -> None:
    q = from_to_rotation(u, v)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-12)
    assert q[3] >= -1e-12  # shortest arc: at most a half turn
    np.testing.assert_allclose(rotate_vector(q, unit(u)), unit(v), atol=1e-9)
    # and the angle is the angle between them (nothing more: no extra twist)
    assert 2.0 * math.acos(min(1.0, q[3])) == pytest.approx(angle_between(u, v), abs=1e-6)


@given(vectors, st.floats(0.01, 100.0))
def test_from_to_antiparallel_is_a_half_turn(u: np.ndarray, scale: float) -> None:
    q = from_to_rotation(u, -scale * u)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-12)
    assert q[3] == pytest.approx(0.0, abs=1e-9)
    assert float(np.dot(q[:3], unit(u))) == pytest.approx(0.0, abs=1e-9)  # axis perpendicular to u
    np.testing.assert_allclose(rotate_vector(q, unit(u)), -unit(u), atol=1e-9)


@given(vectors, st.floats(0.01, 100.0))
def test_from_to_parallel_is_identity(u: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(from_to_rotation(u, scale * u), [0.0, 0.0, 0.0, 1.0], atol=1e-7)


def test_from_to_rejects_a_zero_vector() -> None:
    with pytest.raises(ValueError):
        from_to_rotation(np.zeros(3), np.array([1.0, 0.0, 0.0]))


def test_seed_formula_is_not_a_rotation() -> None:
    """The seed's QFTR(u, v) = u × v / (|u||v|) has no scalar part and fails past 90°."""
    u, v = np.array([1.0, 0.0, 0.0]), np.array([-1.0, 1e-3, 0.0])
    assert np.linalg.norm(np.cross(u, v)) < 0.01  # nearly a half turn, yet almost zero
    np.testing.assert_allclose(rotate_vector(from_to_rotation(u, v), u), unit(v), atol=1e-9)


@given(vectors, vectors, vectors)
def test_product_composes_rotations(axis_a: np.ndarray, axis_b: np.ndarray, v: np.ndarray) -> None:
    a = quaternion_from_axis_angle(axis_a, 0.7)
    b = quaternion_from_axis_angle(axis_b, -1.9)
    np.testing.assert_allclose(
        rotate_vector(quaternion_multiply(a, b), v), rotate_vector(a, rotate_vector(b, v)), atol=1e-9
    )


def test_unity_sense_of_a_positive_yaw() -> None:
    """Quaternion.AngleAxis(90, up) * forward == right in Unity; the same numbers here."""
    q = quaternion_from_axis_angle(np.array([0.0, 1.0, 0.0]), math.radians(90.0))
    np.testing.assert_allclose(rotate_vector(q, np.array([0.0, 0.0, 1.0])), [1.0, 0.0, 0.0], atol=1e-12)


# --- slerp ---------------------------------------------------------------------------


@given(vectors, vectors)
def test_slerp_endpoints(u: np.ndarray, v: np.ndarray) -> None:
    np.testing.assert_allclose(slerp_unit(u, v, 0.0), unit(u), atol=1e-9)
    np.testing.assert_allclose(slerp_unit(u, v, 1.0), unit(v), atol=1e-9)


@given(vectors, vectors, st.floats(0.0, 1.0))
def test_slerp_moves_at_constant_angular_speed(u: np.ndarray, v: np.ndarray, t: float) -> None:
    assume(angle_between(u, v) < math.pi - 1e-3)  # opposite directions: any great circle is right
    w = slerp_unit(u, v, t)
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=1e-9)
    total = angle_between(u, v)
    assert angle_between(u, w) == pytest.approx(t * total, abs=1e-6)
    assert angle_between(w, v) == pytest.approx((1.0 - t) * total, abs=1e-6)


@given(vectors, vectors, st.floats(0.0, 1.0))
def test_algorithm_2_turns_a_fraction_k_of_the_way(u: np.ndarray, v: np.ndarray, k: float) -> None:
    assume(angle_between(u, v) < math.pi - 1e-3)
    q = from_to_rotation(u, slerp_unit(u, v, k))
    assert 2.0 * math.acos(min(1.0, q[3])) == pytest.approx(k * angle_between(u, v), abs=1e-6)


def test_slerp_antiparallel_goes_through_a_perpendicular() -> None:
    u = np.array([0.0, 1.0, 0.0])
    mid = slerp_unit(u, -u, 0.5)
    assert float(np.dot(mid, u)) == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.norm(mid) == pytest.approx(1.0)


# --- avatar frame and bones ----------------------------------------------------------


def test_blazepose_to_avatar_negates_and_flips_handedness() -> None:
    world = np.array([[0.1, -0.5, 0.2]])
    np.testing.assert_allclose(blazepose_to_avatar(world), [[-0.1, 0.5, -0.2]])
    assert np.linalg.det(-np.eye(3)) == pytest.approx(-1.0)


def person(arms: str = "t_pose") -> np.ndarray:
    """BlazePose world landmarks (x image-right, y down, z away) of a person facing the camera.

    Their left side is on the image's right (+x); "t_pose" holds the arms out sideways,
    "down" lets them hang.
    """
    world = np.zeros((NUM_LANDMARKS, 3))
    for side, x in (("LEFT", 1.0), ("RIGHT", -1.0)):
        world[Landmark[f"{side}_HIP"]] = (0.1 * x, 0.0, 0.0)
        world[Landmark[f"{side}_KNEE"]] = (0.1 * x, 0.45, 0.0)
        world[Landmark[f"{side}_ANKLE"]] = (0.1 * x, 0.9, 0.0)
        world[Landmark[f"{side}_SHOULDER"]] = (0.18 * x, -0.5, 0.0)
        if arms == "t_pose":
            world[Landmark[f"{side}_ELBOW"]] = (0.45 * x, -0.5, 0.0)
            world[Landmark[f"{side}_WRIST"]] = (0.7 * x, -0.5, 0.0)
        else:
            world[Landmark[f"{side}_ELBOW"]] = (0.18 * x, -0.2, 0.0)
            world[Landmark[f"{side}_WRIST"]] = (0.18 * x, 0.05, 0.0)
    return world


def sample_of(world: np.ndarray | None, visibility: np.ndarray | None = None) -> PoseSample:
    if world is None:
        return PoseSample(0.0, 640, 480)
    image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, 3] = 1.0 if visibility is None else visibility
    return PoseSample(0.0, 640, 480, image, world.astype(np.float32))


def test_bone_table_follows_the_enum() -> None:
    assert [spec.bone for spec in BONES] == list(Bone)
    assert NUM_BONES == 9


def test_t_pose_is_the_rest_pose() -> None:
    rotations = LimbRotationTracker().update(sample_of(person("t_pose")))
    np.testing.assert_allclose(rotations.quaternions, np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1)), atol=1e-6)
    assert rotations.measured.all()


def test_hanging_arms_turn_down_and_legs_stay() -> None:
    rotations = LimbRotationTracker().update(sample_of(person("down")))
    down = np.array([0.0, -1.0, 0.0])
    for bone in (Bone.LEFT_UPPER_ARM, Bone.RIGHT_UPPER_ARM, Bone.LEFT_FOREARM, Bone.RIGHT_FOREARM):
        rest = np.array(BONES[bone].rest_direction)
        np.testing.assert_allclose(rotate_vector(rotations[bone], rest), down, atol=1e-6)
    # the left arm (rest -x) swings down by a +90° turn about +z (the Hamilton formula)
    np.testing.assert_allclose(
        rotations[Bone.LEFT_UPPER_ARM], quaternion_from_axis_angle(np.array([0.0, 0.0, 1.0]), math.pi / 2), atol=1e-6
    )
    np.testing.assert_allclose(rotations[Bone.LEFT_THIGH], [0.0, 0.0, 0.0, 1.0], atol=1e-6)


def test_slerp_k_stops_part_way() -> None:
    rotations = LimbRotationTracker(AvatarConfig(slerp_k=0.5)).update(sample_of(person("down")))
    assert 2.0 * math.degrees(math.acos(rotations[Bone.LEFT_UPPER_ARM][3])) == pytest.approx(45.0)


def test_low_visibility_bones_keep_their_last_rotation() -> None:
    tracker = LimbRotationTracker(min_visibility=0.5)
    hidden = np.ones(NUM_LANDMARKS)
    hidden[Landmark.LEFT_WRIST] = 0.2
    first = tracker.update(sample_of(person("down"), hidden))
    np.testing.assert_allclose(first[Bone.LEFT_FOREARM], [0.0, 0.0, 0.0, 1.0])  # never seen: identity
    assert not first.measured[Bone.LEFT_FOREARM] and first.measured[Bone.LEFT_UPPER_ARM]
    tracker.update(sample_of(person("down")))
    held = tracker.update(sample_of(person("t_pose"), hidden))
    arm_down = quaternion_from_axis_angle(np.array([0.0, 0.0, 1.0]), math.pi / 2)
    np.testing.assert_allclose(held[Bone.LEFT_FOREARM], arm_down, atol=1e-6)  # held from the frame before
    np.testing.assert_allclose(held[Bone.LEFT_UPPER_ARM], [0.0, 0.0, 0.0, 1.0], atol=1e-6)  # measured anew


def test_no_person_holds_every_bone() -> None:
    tracker = LimbRotationTracker()
    before = tracker.update(sample_of(person("down")))
    after = tracker.update(sample_of(None))
    np.testing.assert_allclose(after.quaternions, before.quaternions)
    assert not after.measured.any()
    tracker.reset()
    np.testing.assert_allclose(tracker.update(sample_of(None)).quaternions[:, 3], 1.0)


def test_standing_spine_points_up_in_the_avatar_frame() -> None:
    """BlazePose y points down: shoulders have a smaller y than hips, the spine goes up."""
    rotations = LimbRotationTracker().update(sample_of(person()))
    np.testing.assert_allclose(rotate_vector(rotations[Bone.SPINE], np.array([0.0, 1.0, 0.0])), [0, 1, 0], atol=1e-6)


_RECORDINGS = sorted(FIXTURES.glob("*.npz"))


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.stem) for p in _RECORDINGS]
    or [pytest.param(None, marks=pytest.mark.skip(reason=f"no landmark recordings in {FIXTURES}"))],
)
def test_recordings_give_unit_quaternions_and_an_upright_spine(path: Path) -> None:
    from gymcorner.recording import load_recording

    tracker = LimbRotationTracker()
    spine_up = []
    for sample in load_recording(path).samples():
        rotations = tracker.update(sample)
        np.testing.assert_allclose(np.linalg.norm(rotations.quaternions, axis=1), 1.0, atol=1e-9)
        if rotations.measured[Bone.SPINE]:
            spine_up.append(rotate_vector(rotations[Bone.SPINE], np.array([0.0, 1.0, 0.0]))[1])
    if not spine_up:
        pytest.skip(f"{path.name}: the spine is never visible")
    # Whatever the exercise, the torso is not upside down for most of a clip.
    assert np.median(spine_up) > -0.5


@given(st.lists(st.tuples(vectors, vectors), min_size=1, max_size=6), st.floats(0.0, 1.0))
def test_batches_match_single_vectors(pairs: list[tuple[np.ndarray, np.ndarray]], t: float) -> None:
    us = np.array([u for u, _ in pairs])
    vs = np.array([v for _, v in pairs])
    vs[0] = -us[0]  # always include an antiparallel row
    batch_q, batch_w = from_to_rotation(us, vs), slerp_unit(us, vs, t)
    for i in range(len(pairs)):
        np.testing.assert_allclose(batch_q[i], from_to_rotation(us[i], vs[i]), atol=1e-12)
        np.testing.assert_allclose(batch_w[i], slerp_unit(us[i], vs[i], t), atol=1e-12)


def test_nan_landmarks_or_visibility_hold_the_bone() -> None:
    tracker = LimbRotationTracker()
    tracker.update(sample_of(person("down")))
    world = person("t_pose")
    world[Landmark.LEFT_ELBOW] = np.nan
    visibility = np.ones(NUM_LANDMARKS)
    visibility[Landmark.RIGHT_KNEE] = np.nan
    rotations = tracker.update(sample_of(world, visibility))
    assert not rotations.measured[[Bone.LEFT_UPPER_ARM, Bone.LEFT_FOREARM, Bone.RIGHT_THIGH, Bone.RIGHT_SHIN]].any()
    assert rotations.measured[[Bone.SPINE, Bone.RIGHT_UPPER_ARM, Bone.LEFT_THIGH]].all()
    np.testing.assert_allclose(rotations[Bone.RIGHT_UPPER_ARM], [0.0, 0.0, 0.0, 1.0], atol=1e-6)
    assert rotations[Bone.LEFT_UPPER_ARM][3] == pytest.approx(math.cos(math.pi / 4))  # still hanging
