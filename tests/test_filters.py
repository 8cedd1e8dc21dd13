"""Landmark filters: the properties the coach and the avatar rely on.

The numbers that choose the defaults come from tools/compare_smoothing.py on real
recordings (docs/smoothing.md); these tests pin the behaviour that makes those numbers
mean something: constants stay put, a step settles when it should, the One Euro cutoff is
the one asked for, and a new person never inherits the previous one's pose.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gymcorner.config import SmoothingConfig
from gymcorner.motion.filters import (
    DEFAULT_MAX_GAP_S,
    LandmarkSmoother,
    MovingAverageFilter,
    OneEuroFilter,
    make_smoother,
    smoothing_factor,
)
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample

FRAME_DT_S = 1 / 30
FILTER_MAKERS = {
    "moving_average": lambda: MovingAverageFilter(5),
    "one_euro": lambda: OneEuroFilter(min_cutoff_hz=1.0, beta=10.0, d_cutoff_hz=1.0),
}
finite_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


def run(filt, values, dt_s: float = FRAME_DT_S) -> list[np.ndarray]:
    return [filt.update(v, i * dt_s) for i, v in enumerate(values)]


def person(value: float, t_s: float, width: int = 640, height: int = 480) -> PoseSample:
    image = np.full((NUM_LANDMARKS, 4), value, dtype=np.float32)
    image[:, 3] = 0.9
    world = np.full((NUM_LANDMARKS, 3), value, dtype=np.float32)
    # A body-sized spread, so the speed scale is that of a real person.
    image[:, 1] += np.linspace(0, 0.5, NUM_LANDMARKS, dtype=np.float32)
    world[:, 1] += np.linspace(0, 1.5, NUM_LANDMARKS, dtype=np.float32)
    return PoseSample(t_s, width, height, image, world)


# --- moving average ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(level=finite_values, window=st.integers(1, 15), steps=st.integers(1, 40), shape=shapes)
def test_moving_average_of_a_constant_is_the_constant(level, window, steps, shape):
    filt = MovingAverageFilter(window)
    value = np.full(shape, level)
    for out in run(filt, [value] * steps):
        np.testing.assert_allclose(out, value, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("window", [1, 2, 3, 5, 9, 30])
def test_moving_average_reaches_a_step_after_window_frames(window):
    filt = MovingAverageFilter(window)
    before, after = np.zeros(3), np.full(3, 7.5)
    run(filt, [before] * 20)
    outs = [filt.update(after, (20 + i) * FRAME_DT_S) for i in range(window)]
    np.testing.assert_allclose(outs[-1], after, rtol=1e-12)
    if window > 1:
        assert np.all(outs[-2] < after)  # and not a frame earlier


@pytest.mark.parametrize("window", [1, 3, 5, 9])
def test_moving_average_delays_a_ramp_by_half_its_window(window):
    filt = MovingAverageFilter(window)
    outs = run(filt, [np.array(float(i)) for i in range(50)])
    assert float(outs[-1]) == pytest.approx(49 - (window - 1) / 2)


# --- One Euro ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    level=finite_values,
    shape=shapes,
    min_cutoff_hz=st.floats(0.01, 30),
    beta=st.floats(0, 1000),
    steps=st.integers(1, 40),
)
def test_one_euro_of_a_constant_is_the_constant(level, shape, min_cutoff_hz, beta, steps):
    filt = OneEuroFilter(min_cutoff_hz, beta, 1.0)
    value = np.full(shape, level)
    for out in run(filt, [value] * steps):
        np.testing.assert_array_equal(out, value)


@pytest.mark.parametrize("cutoff_hz", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("dt_s", [1 / 60, 1 / 30, 0.1])
def test_one_euro_without_beta_is_a_first_order_low_pass(cutoff_hz, dt_s):
    tau_s = 1 / (2 * math.pi * cutoff_hz)
    alpha = 1 / (1 + tau_s / dt_s)  # closed form for an RC low-pass sampled every dt
    assert smoothing_factor(cutoff_hz, dt_s) == pytest.approx(alpha)
    filt = OneEuroFilter(cutoff_hz, beta=0.0, d_cutoff_hz=1.0, max_gap_s=1.0)
    filt.update(np.zeros(2), 0.0)
    outs = [filt.update(np.ones(2), (n + 1) * dt_s) for n in range(5)]
    for n, out in enumerate(outs, start=1):
        np.testing.assert_allclose(out, 1 - (1 - alpha) ** n, rtol=1e-12)


@pytest.mark.parametrize("cutoff_hz", [0.5, 1.0, 3.0])
def test_one_euro_without_beta_lags_a_ramp_by_its_time_constant(cutoff_hz):
    filt = OneEuroFilter(cutoff_hz, beta=0.0, d_cutoff_hz=1.0)
    speed = 2.0
    outs = run(filt, [np.array(speed * i * FRAME_DT_S) for i in range(600)])
    lag_s = (speed * 599 * FRAME_DT_S - float(outs[-1])) / speed
    assert lag_s == pytest.approx(1 / (2 * math.pi * cutoff_hz), rel=1e-6)


def test_more_beta_means_less_lag_on_a_ramp():
    lags = []
    for beta in [0.0, 0.3, 1.0, 3.0, 10.0, 100.0]:
        filt = OneEuroFilter(1.0, beta, 1.0)
        outs = run(filt, [np.array(0.5 * i * FRAME_DT_S) for i in range(90)])
        lags.append(0.5 * 89 * FRAME_DT_S - float(outs[-1]))
    assert all(a > b for a, b in itertools.pairwise(lags)), lags
    assert lags[-1] > 0  # causal: it never runs ahead of a ramp


def test_one_euro_cutoff_is_per_element():
    """A still element stays smoothed while another one of the same array moves fast."""
    filt = OneEuroFilter(1.0, 10.0, 1.0)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, size=(60, 1))
    values = [np.array([noise[i, 0], 3.0 * i * FRAME_DT_S]) for i in range(60)]
    mixed = np.array(run(filt, values))
    alone = np.array(run(OneEuroFilter(1.0, 10.0, 1.0), [v[:1] for v in values]))
    np.testing.assert_allclose(mixed[:, 0], alone[:, 0])


# --- both filters -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILTER_MAKERS))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (3,), (33, 3), (2, 3, 4)])
def test_shape_and_dtype_are_preserved(name, dtype, shape):
    filt = FILTER_MAKERS[name]()
    for i in range(4):
        out = filt.update(np.full(shape, i, dtype=dtype), i * FRAME_DT_S)
        assert out.shape == shape and out.dtype == dtype


@pytest.mark.parametrize("name", sorted(FILTER_MAKERS))
def test_filters_are_deterministic(name):
    values = list(np.random.default_rng(1).normal(size=(50, 33, 3)))
    first = run(FILTER_MAKERS[name](), values)
    again = FILTER_MAKERS[name]()
    second = run(again, values)
    again.reset()
    third = run(again, values)
    for a, b, c in zip(first, second, third, strict=False):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(sorted(FILTER_MAKERS)),
    values=st.lists(hnp.arrays(np.float64, (4,), elements=finite_values), min_size=1, max_size=30),
    dts=st.lists(st.sampled_from([0.0, 1e-6, 1 / 30, 0.2, 0.49, 5.0]), min_size=30, max_size=30),
)
def test_finite_inputs_give_finite_outputs(name, values, dts):
    filt = FILTER_MAKERS[name]()
    t_s = 0.0
    for value, dt_s in zip(values, dts, strict=False):
        t_s += dt_s
        assert np.all(np.isfinite(filt.update(value, t_s)))


@pytest.mark.parametrize("name", sorted(FILTER_MAKERS))
def test_a_repeated_timestamp_changes_nothing(name):
    filt = FILTER_MAKERS[name]()
    run(filt, [np.zeros(3)] * 5)
    before = filt.update(np.ones(3), 5 * FRAME_DT_S)
    repeat = filt.update(np.full(3, 100.0), 5 * FRAME_DT_S)
    np.testing.assert_array_equal(repeat, before)
    assert np.all(np.isfinite(repeat))


@pytest.mark.parametrize("name", sorted(FILTER_MAKERS))
@pytest.mark.parametrize("jump_s", [DEFAULT_MAX_GAP_S + 0.01, 10.0, -1.0])
def test_a_long_gap_or_time_going_back_restarts(name, jump_s):
    filt = FILTER_MAKERS[name]()
    run(filt, [np.zeros(3)] * 10)
    out = filt.update(np.full(3, 4.0), 9 * FRAME_DT_S + jump_s)
    np.testing.assert_array_equal(out, np.full(3, 4.0))


@pytest.mark.parametrize("name", sorted(FILTER_MAKERS))
def test_a_short_gap_keeps_the_state(name):
    filt = FILTER_MAKERS[name]()
    run(filt, [np.zeros(3)] * 10)
    out = filt.update(np.full(3, 4.0), 9 * FRAME_DT_S + DEFAULT_MAX_GAP_S - 0.01)
    assert np.all(out < 4.0)


@pytest.mark.parametrize("name", sorted(FILTER_MAKERS))
def test_bad_input_is_refused(name):
    filt = FILTER_MAKERS[name]()
    filt.update(np.zeros(3), 0.0)
    with pytest.raises(ValueError):
        filt.update(np.zeros(4), FRAME_DT_S)
    with pytest.raises(ValueError):
        filt.update(np.zeros(3), math.nan)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        MovingAverageFilter(0)
    with pytest.raises(ValueError):
        OneEuroFilter(0.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        OneEuroFilter(1.0, -1.0, 1.0)


# --- landmark smoother ------------------------------------------------------------------

SMOOTHING_CONFIGS = {
    "moving_average": SmoothingConfig(filter="moving_average", window_frames=5),
    "one_euro": SmoothingConfig(filter="one_euro", min_cutoff_hz=1.0, beta=10.0),
}


def test_none_passes_samples_through():
    smoother = make_smoother(SmoothingConfig(filter="none"))
    for i in range(5):
        sample = person(0.1 * i, i * FRAME_DT_S)
        assert smoother.smooth(sample) is sample
    empty = PoseSample(1.0, 640, 480)
    assert smoother.smooth(empty) is empty


@pytest.mark.parametrize("name", sorted(SMOOTHING_CONFIGS))
def test_a_new_person_does_not_inherit_the_old_one(name):
    smoother = make_smoother(SMOOTHING_CONFIGS[name])
    for i in range(30):
        smoother.smooth(person(0.2, i * FRAME_DT_S))
    newcomer = person(0.6, 31 * FRAME_DT_S)
    inherited = smoother.smooth(newcomer)
    assert not np.allclose(inherited.image, newcomer.image)  # the state matters...

    smoother = make_smoother(SMOOTHING_CONFIGS[name])
    for i in range(30):
        smoother.smooth(person(0.2, i * FRAME_DT_S))
    nobody = PoseSample(30 * FRAME_DT_S, 640, 480)
    assert smoother.smooth(nobody) is nobody
    fresh = smoother.smooth(newcomer)  # ...and "no person" clears it
    np.testing.assert_allclose(fresh.image, newcomer.image, rtol=1e-6)
    np.testing.assert_allclose(fresh.world, newcomer.world, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(SMOOTHING_CONFIGS))
def test_smoother_keeps_layout_and_visibility(name):
    smoother = make_smoother(SMOOTHING_CONFIGS[name])
    rng = np.random.default_rng(2)
    for i in range(20):
        sample = person(0.3, i * FRAME_DT_S)
        image = sample.image + rng.normal(0, 0.01, sample.image.shape).astype(np.float32)
        image[:, 3] = rng.uniform(0, 1, NUM_LANDMARKS)
        sample = PoseSample(sample.t_s, 640, 480, image, sample.world)
        out = smoother.smooth(sample)
        assert out.image.shape == (NUM_LANDMARKS, 4) and out.image.dtype == np.float32
        assert out.world.shape == (NUM_LANDMARKS, 3) and out.world.dtype == np.float32
        np.testing.assert_array_equal(out.image[:, 3], image[:, 3])
        assert out.t_s == sample.t_s and (out.width, out.height) == (640, 480)


def test_one_euro_treats_horizontal_and_vertical_pixels_alike():
    """On a 16:9 frame, the same pixel motion along x or y is smoothed the same."""
    width, height = 1280, 720
    speed_px_s = 300.0
    lags = {}
    for axis, side in ((0, width), (1, height)):
        smoother = make_smoother(SmoothingConfig(filter="one_euro", min_cutoff_hz=1.0, beta=10.0))
        for i in range(20):
            sample = person(0.3, i * FRAME_DT_S, width, height)
            image = sample.image.copy()
            image[:, axis] += speed_px_s * i * FRAME_DT_S / side
            out = smoother.smooth(PoseSample(sample.t_s, width, height, image, sample.world))
        lags[axis] = float((image[0, axis] - out.image[0, axis]) * side)
    assert lags[0] == pytest.approx(lags[1], rel=1e-3)
    assert lags[0] > 0


def test_world_may_be_missing_while_the_image_is_there():
    smoother = make_smoother(SMOOTHING_CONFIGS["one_euro"])
    sample = person(0.3, 0.0)
    out = smoother.smooth(PoseSample(0.0, 640, 480, sample.image, None))
    assert out.world is None and out.image is not None


def test_a_new_frame_size_restarts_the_smoother():
    smoother = make_smoother(SMOOTHING_CONFIGS["one_euro"])
    for i in range(10):
        smoother.smooth(person(0.2, i * FRAME_DT_S))
    other = person(0.7, 10 * FRAME_DT_S, width=1920, height=1080)
    np.testing.assert_allclose(smoother.smooth(other).image, other.image, rtol=1e-6)


def test_make_smoother_follows_the_config():
    assert isinstance(make_smoother(SmoothingConfig()), LandmarkSmoother)
    sample = person(0.2, 0.0)
    for name, config in SMOOTHING_CONFIGS.items():
        out = make_smoother(config).smooth(sample)
        np.testing.assert_allclose(out.image, sample.image, rtol=1e-6, err_msg=name)


def test_a_given_speed_drives_the_one_euro_cutoff():
    min_cutoff_hz, beta, dt_s = 1.0, 10.0, FRAME_DT_S
    filt = OneEuroFilter(min_cutoff_hz, beta, d_cutoff_hz=1.0)
    filt.update(np.zeros(3), 0.0, speed=np.zeros(3))
    speed = np.array([0.0, 0.5, 2.0])
    out = filt.update(np.ones(3), dt_s, speed=speed)
    np.testing.assert_allclose(out, smoothing_factor(min_cutoff_hz + beta * speed, dt_s))


def test_noisy_world_coordinates_of_a_still_person_stay_smoothed():
    """The image-plane speed, not the world's own noise, decides how much world smoothing."""
    rng = np.random.default_rng(3)
    smoother = make_smoother(SmoothingConfig(filter="one_euro", min_cutoff_hz=1.0, beta=10.0))
    raw, smoothed = [], []
    for i in range(120):
        sample = person(0.3, i * FRAME_DT_S)
        world = sample.world + rng.normal(0, 0.03, sample.world.shape).astype(np.float32)
        out = smoother.smooth(PoseSample(sample.t_s, 640, 480, sample.image, world))
        raw.append(world)
        smoothed.append(out.world)
    step = lambda a: np.std(np.diff(np.array(a[30:]), axis=0))  # noqa: E731
    assert step(smoothed) < 0.2 * step(raw)


def test_image_motion_opens_the_world_filter():
    def world_lag(beta: float) -> float:
        smoother = make_smoother(SmoothingConfig(filter="one_euro", min_cutoff_hz=1.0, beta=beta))
        for i in range(30):
            sample = person(0.3 + 0.02 * i, i * FRAME_DT_S)  # image and world move together
            out = smoother.smooth(sample)
        return float(sample.world[0, 0] - out.world[0, 0])

    assert 0 < world_lag(30.0) < 0.5 * world_lag(0.0)
