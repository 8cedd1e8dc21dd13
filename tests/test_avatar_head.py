"""Head yaw quantisation: intervals, deltas, clipping, the yaw estimate and its sign."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gymcorner.avatar.head import (
    HeadYawTracker,
    face_yaw_deg,
    interval_yaw_deg,
    x_to_interval,
    yaw_to_x,
)
from gymcorner.avatar.limbs import quaternion_from_axis_angle, rotate_vector
from gymcorner.config import AvatarConfig
from gymcorner.motion.landmarks import NUM_LANDMARKS, Landmark, PoseSample

X_MIN, X_MAX, N = -0.44, 0.44, 18
WIDTH = (X_MAX - X_MIN) / N
FIXTURES = Path(__file__).parent / "fixtures" / "landmarks"


def centre(k: int) -> float:
    return X_MIN + (k + 0.5) * WIDTH


# --- quantisation --------------------------------------------------------------------


def test_interval_width_is_the_seeds_delta() -> None:
    assert WIDTH == pytest.approx(0.0489, abs=1e-4)


@pytest.mark.parametrize("k", range(1, N))
def test_interval_boundaries(k: int) -> None:
    boundary = X_MIN + k * WIDTH
    assert x_to_interval(boundary + 1e-9) == k
    assert x_to_interval(boundary - 1e-9) == k - 1


@pytest.mark.parametrize(
    ("x", "k"),
    [(X_MIN, 0), (X_MAX, N - 1), (0.0 + 1e-9, 9), (0.0 - 1e-9, 8), (-1.0, 0), (1.0, N - 1), (-0.4, 0), (0.4, 17)],
)
def test_interval_of_x_clips_outside_the_range(x: float, k: int) -> None:
    assert x_to_interval(x) == k


@pytest.mark.parametrize(("k", "yaw"), [(0, -85.0), (8, -5.0), (9, 5.0), (17, 85.0)])
def test_interval_yaw_is_the_centre_offset(k: int, yaw: float) -> None:
    assert interval_yaw_deg(k) == yaw


@pytest.mark.parametrize(
    ("yaw", "x"), [(0.0, 0.0), (90.0, 0.44), (-90.0, -0.44), (45.0, 0.22), (150.0, 0.44), (-135.0, -0.44)]
)
def test_yaw_maps_linearly_onto_x(yaw: float, x: float) -> None:
    assert yaw_to_x(yaw) == pytest.approx(x)


@pytest.mark.parametrize("k", range(N))
def test_each_interval_is_ten_degrees_of_yaw(k: int) -> None:
    """Linear x keeps the seed's arithmetic: the band [-90+10k, -80+10k) is interval k."""
    assert x_to_interval(yaw_to_x(-85.0 + 10.0 * k)) == k
    assert interval_yaw_deg(k) == pytest.approx(-85.0 + 10.0 * k)


# --- deltas --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k_before", "k_after", "delta"),
    [(8, 9, 10.0), (9, 8, -10.0), (5, 5, 0.0), (3, 7, 40.0), (12, 9, -30.0), (0, 17, 170.0), (17, 0, -170.0)],
)
def test_delta_is_ten_degrees_per_interval(k_before: int, k_after: int, delta: float) -> None:
    tracker = HeadYawTracker()
    tracker.update_x(centre(k_before))
    head = tracker.update_x(centre(k_after))
    assert head.interval == k_after
    assert head.delta_deg == pytest.approx(delta)
    assert head.yaw_deg == pytest.approx(interval_yaw_deg(k_after))


@pytest.mark.parametrize(("x", "k", "clipped"), [(0.6, 17, 0.44), (5.0, 17, 0.44), (-0.5, 0, -0.44)])
def test_x_beyond_the_range_is_clipped(x: float, k: int, clipped: float) -> None:
    head = HeadYawTracker().update_x(x)
    assert (head.interval, head.x) == (k, pytest.approx(clipped))


def test_first_frame_turns_from_rest_and_unknown_frames_hold() -> None:
    tracker = HeadYawTracker()
    first = tracker.update_x(centre(9))
    assert first.delta_deg == pytest.approx(5.0)  # from the middle of the range (8.5)
    lost = tracker.update_x(None)
    assert (lost.x, lost.interval, lost.delta_deg, lost.yaw_deg, lost.known) == (None, None, 0.0, None, False)
    back = tracker.update_x(centre(11))
    assert back.delta_deg == pytest.approx(20.0)  # from the last known interval, 9


@given(st.lists(st.one_of(st.none(), st.floats(-1.0, 1.0)), min_size=1, max_size=40))
def test_deltas_always_add_up_to_the_absolute_yaw(xs: list[float | None]) -> None:
    tracker = HeadYawTracker()
    total, last_yaw = 0.0, 0.0
    for x in xs:
        head = tracker.update_x(x)
        total += head.delta_deg
        if head.known:
            last_yaw = head.yaw_deg
            assert head.delta_deg == pytest.approx(round(head.delta_deg / 5.0) * 5.0)
    assert total == pytest.approx(last_yaw)


def test_config_drives_the_tracker() -> None:
    tracker = HeadYawTracker(AvatarConfig(head_x_min=-1.0, head_x_max=1.0, head_intervals=4, head_step_deg=30.0))
    assert tracker.update_x(-0.9).interval == 0
    head = tracker.update_x(0.9)
    assert (head.interval, head.delta_deg, head.yaw_deg) == (3, 90.0, 45.0)


def test_hysteresis_holds_the_interval_near_an_edge() -> None:
    tracker = HeadYawTracker(hysteresis=0.25)
    tracker.update_x(centre(9))
    edge = X_MIN + 10 * WIDTH
    assert tracker.update_x(edge + 0.2 * WIDTH).interval == 9
    assert tracker.update_x(edge + 0.3 * WIDTH).interval == 10


# --- the yaw estimate ----------------------------------------------------------------


def head_world(yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """BlazePose world landmarks of a head and shoulders turned yaw_deg to the person's right.

    pitch_deg bows the whole upper body forward about the shoulders (90° = a push-up's
    neck, level with the floor, face down). Built in the avatar frame (+x right, +y up,
    +z forward), then converted to BlazePose's (x image-right, y down, z away from the
    camera) by negation.
    """
    local = {
        Landmark.NOSE: (0.0, 0.23, 0.10),
        Landmark.LEFT_EAR: (-0.075, 0.25, 0.0),
        Landmark.RIGHT_EAR: (0.075, 0.25, 0.0),
        Landmark.LEFT_SHOULDER: (-0.18, 0.0, -0.03),
        Landmark.RIGHT_SHOULDER: (0.18, 0.0, -0.03),
    }
    pitch = quaternion_from_axis_angle(np.array([1.0, 0.0, 0.0]), math.radians(pitch_deg))
    yaw = quaternion_from_axis_angle(np.array([0.0, 1.0, 0.0]), math.radians(yaw_deg))
    avatar = np.zeros((NUM_LANDMARKS, 3))
    for landmark, point in local.items():
        avatar[landmark] = rotate_vector(yaw, rotate_vector(pitch, np.array(point)))
    return -avatar


def visible() -> np.ndarray:
    return np.ones(NUM_LANDMARKS)


@pytest.mark.parametrize("yaw", [0.0, 10.0, -25.0, 45.0, -60.0, 85.0, -90.0, 119.0, 180.0])
def test_face_yaw_recovers_a_synthetic_head(yaw: float) -> None:
    measured = face_yaw_deg(head_world(yaw), visible())
    assert measured is not None
    assert math.remainder(measured - yaw, 360.0) == pytest.approx(0.0, abs=3.0)


def test_positive_yaw_looks_towards_image_left() -> None:
    """The documented sign: turned to the person's right = nose left of the ears in the image."""
    world = head_world(60.0)
    ear_mid_x = 0.5 * (world[Landmark.LEFT_EAR, 0] + world[Landmark.RIGHT_EAR, 0])
    assert world[Landmark.NOSE, 0] < ear_mid_x  # BlazePose x grows to the image's right
    assert face_yaw_deg(world, visible()) > 0


@pytest.mark.parametrize(
    "landmark", [Landmark.NOSE, Landmark.LEFT_EAR, Landmark.RIGHT_EAR, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
)
def test_low_visibility_makes_the_yaw_unknown(landmark: Landmark) -> None:
    visibility = visible()
    visibility[landmark] = 0.3
    assert face_yaw_deg(head_world(20.0), visibility, min_visibility=0.5) is None
    assert face_yaw_deg(head_world(20.0), visibility, min_visibility=0.2) is not None


def test_face_towards_the_floor_is_unknown() -> None:
    assert face_yaw_deg(head_world(30.0, pitch_deg=80.0), visible()) is None
    assert face_yaw_deg(head_world(30.0, pitch_deg=30.0), visible()) is not None


def sample_of(world: np.ndarray | None, t_s: float = 0.0) -> PoseSample:
    if world is None:
        return PoseSample(t_s, 640, 480)
    image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, 3] = 1.0
    return PoseSample(t_s, 640, 480, image, world.astype(np.float32))


def test_tracker_from_samples() -> None:
    tracker = HeadYawTracker()
    assert tracker.update(sample_of(head_world(0.0))).interval in (8, 9)
    turned = tracker.update(sample_of(head_world(82.0)))
    assert (turned.interval, turned.yaw_deg) == (17, 85.0)
    assert turned.measured_yaw_deg == pytest.approx(82.0, abs=3.0)
    assert not tracker.update(sample_of(None)).known
    away = tracker.update(sample_of(head_world(170.0)))
    assert not away.known and away.delta_deg == 0.0
    assert tracker.update(sample_of(head_world(100.0))).interval == 17  # past 90°, not yet away


# --- real recordings -----------------------------------------------------------------

def sideways_sign_agreement(path: Path) -> tuple[int, int]:
    """(agreeing, total) frames where the face is clearly sideways in a recording.

    Sideways: |yaw| >= 45° and the nose at least 10 px from the ear midpoint in the image.
    Agreeing: positive yaw with the nose left of the ears, or negative yaw with it right.
    """
    from gymcorner.recording import load_recording

    tracker = HeadYawTracker()
    agree = total = 0
    for sample in load_recording(path).samples():
        head = tracker.update(sample)
        if not head.known or sample.image is None or abs(head.measured_yaw_deg) < 45.0:
            continue
        pixels = sample.pixels()
        offset_px = pixels[Landmark.NOSE, 0] - 0.5 * (pixels[Landmark.LEFT_EAR, 0] + pixels[Landmark.RIGHT_EAR, 0])
        if abs(offset_px) < 10.0:
            continue
        total += 1
        agree += (head.measured_yaw_deg > 0) == (offset_px < 0)
    return agree, total


def test_yaw_sign_agrees_with_the_image_on_recordings() -> None:
    """The documented sign holds on every real clip that shows a sideways face (>= 10 frames)."""
    recordings = sorted(FIXTURES.glob("*.npz"))
    if not recordings:
        pytest.skip(f"no landmark recordings in {FIXTURES}")
    checked, wrong = [], []
    for path in recordings:
        agree, total = sideways_sign_agreement(path)
        if total >= 10:
            checked.append(path.name)
            if agree / total < 0.9:
                wrong.append(f"{path.name}: {agree} of {total}")
    if not checked:
        pytest.skip("no recording shows a sideways face for 10 frames")
    assert not wrong, f"yaw sign disagrees with the image on: {wrong}"
