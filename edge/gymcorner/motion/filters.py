"""Landmark smoothing: a fixed-window causal moving average and the One Euro filter.

BlazePose's landmarks jitter by a few pixels from frame to frame even when the person
stands still; the avatar shakes and distance rules flicker around their thresholds.
Smoothing trades that jitter for lag, and `tools/compare_smoothing.py` measures the trade
on real recordings (docs/smoothing.md), which is where the defaults come from.

Pure core: no clock, no I/O. Time comes in with each sample (`t_s`), so a replayed
recording is smoothed bit for bit as it was live, and a dropped frame or a paused stream
is handled by the timestamps, not by counting calls.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from gymcorner.config import SmoothingConfig
from gymcorner.motion.arrays import Array, FloatArray
from gymcorner.motion.landmarks import PoseSample

# A pause longer than this starts a filter afresh: after half a second the old estimate
# says nothing useful about where the joints are now, and blending towards it would drag
# the first frames back to a stale pose.
DEFAULT_MAX_GAP_S = 0.5

# Floor of the body size that scales the speed, so a degenerate pose (every landmark on
# one point) cannot divide by zero.
_MIN_BODY_SIZE_PX = 1.0


def smoothing_factor(cutoff_hz: float | FloatArray, dt_s: float) -> FloatArray:
    """Weight of the new value in a first-order low-pass with this cutoff, for a step dt.

    The exponential smoother y += a (x - y) is the discrete form of an RC low-pass with
    time constant tau = 1 / (2 pi f_c); a = dt / (dt + tau) keeps the cutoff right when
    the frame interval varies (Casiez et al., CHI 2012).
    """
    r = 2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64) * dt_s
    return r / (r + 1.0)


def _as_float(value: Array) -> tuple[FloatArray, np.dtype[Any]]:
    """Float64 working copy plus the dtype to hand back (floats keep their own)."""
    arr = np.asarray(value)
    out_dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float64)
    return arr.astype(np.float64), out_dtype


class _Timeline:
    """Decides, from consecutive timestamps, whether a filter continues, repeats or restarts."""

    def __init__(self, max_gap_s: float) -> None:
        if not max_gap_s > 0:
            raise ValueError(f"max_gap_s must be > 0, got {max_gap_s}")
        self.max_gap_s = max_gap_s
        self.last_t_s: float | None = None

    def step(self, t_s: float) -> tuple[str, float]:
        """('start' | 'repeat' | 'continue', dt_s) for a sample at t_s.

        'start' on the first sample, when time runs backwards (a looped file, a restarted
        camera) or after a gap longer than max_gap_s; 'repeat' when the timestamp equals
        the previous one (a duplicated frame carries no new time, so nothing may move).
        """
        if not math.isfinite(t_s):
            raise ValueError(f"sample timestamp must be finite, got {t_s}")
        last = self.last_t_s
        if last is None or t_s < last or t_s - last > self.max_gap_s:
            self.last_t_s = t_s
            return "start", 0.0
        if t_s == last:
            return "repeat", 0.0
        self.last_t_s = t_s
        return "continue", t_s - last

    def reset(self) -> None:
        self.last_t_s = None


class LandmarkFilter(Protocol):
    """What LandmarkSmoother drives: one causal filter over arrays of a fixed shape."""

    def update(self, value: Array, t_s: float, speed: FloatArray | None = None) -> Array: ...

    def reset(self) -> None: ...


class MovingAverageFilter:
    """A fixed-window causal moving average: the plain baseline the One Euro filter beats.

    Output is the mean of the last `window_frames` inputs (fewer while the window fills),
    so a step reaches its new level exactly after window_frames samples and the delay is
    (window_frames - 1) / 2 frames whatever the motion. Works on arrays of any shape.
    """

    def __init__(self, window_frames: int, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        if window_frames < 1:
            raise ValueError(f"window_frames must be >= 1, got {window_frames}")
        self.window_frames = int(window_frames)
        self._timeline = _Timeline(max_gap_s)
        self._history: deque[FloatArray] = deque(maxlen=self.window_frames)
        self._last_out: FloatArray | None = None

    def update(self, value: Array, t_s: float, speed: FloatArray | None = None) -> Array:
        """Filtered value at t_s; `speed` is accepted for a uniform interface and unused."""
        x, out_dtype = _as_float(value)
        if self._history and x.shape != self._history[0].shape:
            raise ValueError(f"shape changed from {self._history[0].shape} to {x.shape}")
        kind, _ = self._timeline.step(t_s)
        if kind == "repeat" and self._last_out is not None:
            return self._last_out.astype(out_dtype)
        if kind == "start":
            self._history.clear()
        self._history.append(x)
        self._last_out = np.mean(np.stack(self._history), axis=0)
        return self._last_out.astype(out_dtype)

    def reset(self) -> None:
        self._timeline.reset()
        self._history.clear()
        self._last_out = None


class VelocityEstimator:
    """Low-passed (cutoff_hz) finite-difference velocity of an array: One Euro's speed stage.

    Zero on the first sample and after a restart (nothing is known yet); unchanged on a
    repeated timestamp. The difference is taken on the raw input, as in the authors' and
    MediaPipe's implementations, so the estimate does not feed back on the filter's lag.
    """

    def __init__(self, cutoff_hz: float, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        if not cutoff_hz > 0:
            raise ValueError(f"cutoff_hz must be > 0, got {cutoff_hz}")
        self.cutoff_hz = float(cutoff_hz)
        self._timeline = _Timeline(max_gap_s)
        self._last_raw: FloatArray | None = None
        self._velocity: FloatArray | None = None

    def update(self, value: Array, t_s: float) -> Array:
        x = np.asarray(value, dtype=np.float64)
        kind, dt_s = self._timeline.step(t_s)
        if kind == "start" or self._last_raw is None or self._velocity is None or x.shape != self._last_raw.shape:
            self._last_raw, self._velocity = x, np.zeros_like(x)
        elif kind == "continue":
            raw_velocity = (x - self._last_raw) / dt_s
            self._velocity = self._velocity + smoothing_factor(self.cutoff_hz, dt_s) * (raw_velocity - self._velocity)
            self._last_raw = x
        return self._velocity

    def reset(self) -> None:
        self._timeline.reset()
        self._last_raw = self._velocity = None


class OneEuroFilter:
    """One Euro filter (Casiez, Roussel, Vogel, CHI 2012), element-wise over arrays.

    A first-order low-pass whose cutoff rises with speed: cutoff = min_cutoff_hz +
    beta * |speed|. At rest it smooths hard (jitter gone); in motion it opens up (lag
    small). Each element gets its own cutoff, so a still ankle stays smoothed while the
    wrist of the same frame swings. By default the speed is the filter's own low-passed
    (d_cutoff_hz) derivative of each element; a caller that measures motion better
    elsewhere passes `speed` (broadcast against the value) and that drives the cutoff
    instead, in whatever units the caller gives beta.
    """

    def __init__(
        self,
        min_cutoff_hz: float,
        beta: float,
        d_cutoff_hz: float,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
    ) -> None:
        if not min_cutoff_hz > 0 or not d_cutoff_hz > 0 or not beta >= 0:
            raise ValueError(
                f"need min_cutoff_hz > 0, d_cutoff_hz > 0, beta >= 0; got {min_cutoff_hz}, {d_cutoff_hz}, {beta}"
            )
        self.min_cutoff_hz = float(min_cutoff_hz)
        self.beta = float(beta)
        self.d_cutoff_hz = float(d_cutoff_hz)
        self._timeline = _Timeline(max_gap_s)
        self._velocity = VelocityEstimator(d_cutoff_hz, max_gap_s)
        self._estimate: FloatArray | None = None

    def update(self, value: Array, t_s: float, speed: FloatArray | None = None) -> Array:
        x, out_dtype = _as_float(value)
        if self._estimate is not None and x.shape != self._estimate.shape:
            raise ValueError(f"shape changed from {self._estimate.shape} to {x.shape}")
        kind, dt_s = self._timeline.step(t_s)
        own_speed = np.abs(self._velocity.update(x, t_s)) if speed is None else None
        if kind == "repeat" and self._estimate is not None:
            return self._estimate.astype(out_dtype)
        if kind == "start" or self._estimate is None:
            self._estimate = x.copy()
            return self._estimate.astype(out_dtype)
        rate = own_speed if speed is None else np.abs(speed)
        assert rate is not None  # own_speed is measured whenever no speed is given
        cutoff_hz = self.min_cutoff_hz + self.beta * rate
        self._estimate = self._estimate + smoothing_factor(cutoff_hz, dt_s) * (x - self._estimate)
        return self._estimate.astype(out_dtype)

    def reset(self) -> None:
        self._timeline.reset()
        self._velocity.reset()
        self._estimate = None


def _body_size_px(xy_px: FloatArray) -> float:
    """Mean of the landmark bounding box's width and height: the person's size on screen."""
    return max(float(np.ptp(xy_px, axis=0).mean()), _MIN_BODY_SIZE_PX)


class LandmarkSmoother:
    """Smooths a stream of PoseSamples: image x, y, z and world x, y, z of every landmark.

    Units. Image x, y are normalised by different frame sides, so equal numbers are
    unequal distances on a non-square frame. The image landmarks are filtered in pixels
    (z, which BlazePose scales like x, times the width), so the filter is isotropic.

    Speed. With One Euro, each landmark's cutoff is driven by its speed in the image
    plane: the norm of its low-passed pixel velocity divided by the body size in pixels
    (beta is per body size per second, the same near or far, at any resolution, in any
    direction). That one speed drives the landmark's image z and world x, y, z too:
    depth and world coordinates are several times noisier than the image x, y, and their
    own noisy derivatives would hold their filters open when the person is still (the
    measurements in docs/smoothing.md). Motion purely towards the camera is the price:
    it is smoothed as if still.

    Visibility is a confidence, not a position: it passes through untouched. "No person"
    resets everything, so a new person never inherits the old one's state.
    """

    def __init__(self, make_filter: Callable[[], LandmarkFilter] | None, speed_cutoff_hz: float | None = None) -> None:
        self._image_filter = make_filter() if make_filter is not None else None
        self._world_filter = make_filter() if make_filter is not None else None
        self._plane_velocity = VelocityEstimator(speed_cutoff_hz) if speed_cutoff_hz is not None else None
        self._frame_size: tuple[int, int] | None = None

    def reset(self) -> None:
        for part in (self._image_filter, self._world_filter, self._plane_velocity):
            if part is not None:
                part.reset()
        self._frame_size = None

    def smooth(self, sample: PoseSample) -> PoseSample:
        image_filter, world_filter = self._image_filter, self._world_filter
        if image_filter is None or world_filter is None:
            return sample
        if sample.image is None or not np.all(np.isfinite(sample.image[:, :3])):
            self.reset()  # nobody there, or a NaN that would poison the state for good
            return sample
        if self._frame_size != (sample.width, sample.height):
            self.reset()  # pixels of another resolution are not comparable
            self._frame_size = (sample.width, sample.height)
        to_px = np.array([sample.width, sample.height, sample.width], dtype=np.float64)
        xyz_px = sample.image[:, :3].astype(np.float64) * to_px
        speed = self._landmark_speed(xyz_px[:, :2], sample.t_s)
        image = sample.image.copy()
        image[:, :3] = image_filter.update(xyz_px, sample.t_s, speed) / to_px
        world = sample.world
        if world is None or not np.all(np.isfinite(world)):
            world_filter.reset()
        else:
            world = world_filter.update(world, sample.t_s, speed)
        return replace(sample, image=image, world=world)

    def _landmark_speed(self, xy_px: FloatArray, t_s: float) -> FloatArray | None:
        """(33, 1) image-plane speed of each landmark in body sizes per second."""
        if self._plane_velocity is None:
            return None
        velocity_px_s = self._plane_velocity.update(xy_px, t_s)
        speed: FloatArray = np.linalg.norm(velocity_px_s, axis=1, keepdims=True) / _body_size_px(xy_px)
        return speed


def make_smoother(config: SmoothingConfig) -> LandmarkSmoother:
    """The smoother the config asks for ("none" passes samples through unchanged)."""
    if config.filter == "moving_average":
        return LandmarkSmoother(lambda: MovingAverageFilter(config.window_frames))
    if config.filter == "one_euro":
        return LandmarkSmoother(
            lambda: OneEuroFilter(config.min_cutoff_hz, config.beta, config.d_cutoff_hz),
            speed_cutoff_hz=config.d_cutoff_hz,
        )
    return LandmarkSmoother(None)
