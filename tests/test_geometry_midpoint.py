"""motion.geometry: the one midpoint of the code (plain and one-sided) and the one cross product."""

from __future__ import annotations

import numpy as np
import pytest

from gymcorner.motion.geometry import cross, midpoint, torso_length
from gymcorner.motion.landmarks import NUM_LANDMARKS
from gymcorner.motion.landmarks import Landmark as L


def test_plain_midpoint_is_halfway_and_keeps_nan() -> None:
    a, b = np.array([0.0, 2.0, np.nan]), np.array([4.0, 2.0, 1.0])
    np.testing.assert_array_equal(midpoint(a, b), [2.0, 2.0, np.nan])


def test_one_sided_midpoint_takes_the_visible_side() -> None:
    a = np.array([[0.0, 0.0], [np.nan, np.nan], [np.nan, np.nan]])
    b = np.array([[2.0, 4.0], [3.0, 5.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(midpoint(a, b, one_sided=True), [[1.0, 2.0], [3.0, 5.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(midpoint(b, a, one_sided=True), midpoint(a, b, one_sided=True))


def test_midpoint_keeps_float32_landmarks_in_float32() -> None:
    a, b = np.array([1.0, 2.0], np.float32), np.array([2.0, 3.0], np.float32)
    out = midpoint(a, b)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([1.5, 2.5], np.float32))


def test_torso_length_is_shoulder_middle_to_hip_middle() -> None:
    px = np.zeros((NUM_LANDMARKS, 2))
    px[L.LEFT_SHOULDER], px[L.RIGHT_SHOULDER] = (0.0, 0.0), (2.0, 0.0)
    px[L.LEFT_HIP], px[L.RIGHT_HIP] = (0.0, 3.0), (2.0, 3.0)
    assert torso_length(px) == 3.0


def test_best_seen_side_is_the_fully_visible_side_seen_best() -> None:
    import numpy as np

    from gymcorner.motion.geometry import best_seen_side
    from gymcorner.motion.landmarks import Landmark as L

    sides = {"left": (L.LEFT_SHOULDER, L.LEFT_HIP), "right": (L.RIGHT_SHOULDER, L.RIGHT_HIP)}
    vis = np.zeros(33)
    vis[[L.LEFT_SHOULDER, L.LEFT_HIP]] = (0.6, 0.9)
    vis[[L.RIGHT_SHOULDER, L.RIGHT_HIP]] = (0.8, 0.8)
    assert best_seen_side(vis, sides, 0.5) == "right"  # both seen: the higher mean
    assert best_seen_side(vis, sides, 0.7) == "right"  # the left shoulder drops out
    assert best_seen_side(vis, sides, 0.85) is None


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "dtype"),
    [
        ((3,), (3,), np.float64),
        ((7, 3), (7, 3), np.float64),
        ((5, 3), (3,), np.float64),
        ((2, 4, 3), (4, 3), np.float32),
    ],
)
def test_cross_gives_the_same_bits_as_numpy_s_for_any_broadcast(shape_a, shape_b, dtype) -> None:
    rng = np.random.default_rng(11)
    a = (rng.standard_normal(shape_a) * 10 ** rng.uniform(-6, 6, shape_a)).astype(dtype)
    b = (rng.standard_normal(shape_b) * 10 ** rng.uniform(-6, 6, shape_b)).astype(dtype)
    got, expected = cross(a, b), np.cross(a, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()
    assert not cross(a, a).any()  # a vector crossed with itself is zero, exactly
