"""Head yaw quantised into 18 intervals of 10°: x in [-0.44, 0.44], turned in 10° steps.

What x is
---------
The head is driven from "the x-coordinate of the face": x = 0 facing forward,
x = +0.44 turned 90° to the right, x = -0.44 turned 90° to the left, and [-0.44, 0.44] cut
into 18 equal intervals (Δ ≈ 0.049), each worth 10° of head rotation. It does not say how x
is measured, so we measure the face's yaw and map it onto that scale:

* **Yaw** is the direction the face points in the horizontal plane, relative to the
  camera's axis (0 = facing the camera; positive = turned to the person's own right),
  from the world landmarks in the avatar frame (see `avatar.limbs`). Two cues are added
  as raw 3-D vectors: the nose minus the ear midpoint (about 10 cm, points forward) and
  the ear line (left ear minus right ear, about 15 cm) crossed with the neck's up
  direction (ear midpoint minus shoulder midpoint), which also points forward. Raw sums
  weight each cue by its length in the plane, so a cue that tilts out of it fades out
  instead of adding noise; the neck's up (not the world's) keeps the ear cue right when
  the head leans or hangs upside down (a pike). On our raw (unfiltered) recordings the
  two cues jitter alike when the face is level (1-12° frame to frame on squats), and
  where it bows the sum halves the nose cue's jitter (push-up_10: 3.6° against 8.0°,
  pushfit wrong112: 3.1° against 8.4°). Camera-relative
  (not torso-relative) yaw is what that x describes, and it matches the limb rotations, whose
  bone rotations are camera-relative too.
* **x = 0.44 · yaw / 90°** (linear, each side scaled by its own limit). Linear keeps the
  scale's own arithmetic exact: 18 intervals × 10° = 180° = the range. A sine map would
  make the centre intervals 6° wide and the outer ones 27°, while still turning the
  avatar 10° per interval.
* Yaw beyond ±90° is clipped to the end intervals; beyond ±`facing_away_deg` (default
  120°) the person shows the back of their head, the face yaw is not observable (the
  estimate flips between ±180°), and the head is reported unknown.

Quantising the step Δx = x_t - x_{t-1} instead (as a pseudo-listing of this scheme does)
would make a still head snap back to one interval; we quantise x itself:
k_t = floor((x_t - x_min) / Δ), θ_t = (k_t - k_{t-1}) · 10°.

Sign, checked on real clips
---------------------------
Positive yaw turns the face towards the **left of the camera image** (for an unmirrored
camera: a person facing the camera who turns to their right looks towards image-left).
Evidence from lateral squat recordings, measured yaw 10th/50th/90th percentile over all
frames, against the nose's image offset from the ear midpoint (independent, 2-D; offsets
given as 10th-90th percentile):

* faces image-left (nose 21-28 px left of the ears): workouttracker squat_14 frames
  0-100: +80/+83/+86° (interval 17, x ≈ +0.41); squat_11 frames 0-143: +40/+59/+89°;
  navya squat_correct_strongher_side frames 0-485: +90/+92/+95° (clipped, x = +0.44).
* faces image-right (nose 16-28 px right of the ears): kaiakol squat_incorrect_002
  frames 0-46: -92/-87/-79° (interval 0); navya squat_incorrect_videoplayback1 frames
  0-196: -95/-90/-85°.

Over the 37 recordings in tests/fixtures/landmarks (squats, push-ups, dips, pull-ups,
planks), 19 show a clearly sideways face (|yaw| >= 45° and a nose offset of 10 px or
more, for 10 frames or more); on them the sign agrees in 2,097 of 2,098 frames
(`tests/test_avatar_head.py` checks it).
Back views (squat_7, squat_8, squat_29) measure about ±150-175° and are reported
unknown, as are push-ups and planks with the face towards the floor.

Tracker state and deltas
------------------------
`HeadYawTracker` starts with the head at rest, the middle of the range ((n-1)/2, between
two intervals when n is even), so the first known frame turns it from rest, and the sum
of every `delta_deg` ever emitted always equals the current `yaw_deg`: a subscriber that
applies deltas and one that applies the absolute `yaw_deg` see the same head. Unknown
frames emit delta 0 and keep the last known interval as the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.avatar.limbs import blazepose_to_avatar
from gymcorner.config import AvatarConfig
from gymcorner.motion.arrays import AnyFloatArray
from gymcorner.motion.geometry import cross, midpoint
from gymcorner.motion.landmarks import Landmark, PoseSample

_HEAD_LANDMARKS = (
    Landmark.NOSE,
    Landmark.LEFT_EAR,
    Landmark.RIGHT_EAR,
    Landmark.LEFT_SHOULDER,
    Landmark.RIGHT_SHOULDER,
)
_QUARTER_TURN_DEG = 90.0


def face_yaw_deg(
    world: AnyFloatArray,
    visibility: AnyFloatArray,
    min_visibility: float = 0.5,
    max_pitch_deg: float = 60.0,
) -> float | None:
    """Face yaw relative to the camera, degrees in (-180, 180]; None when not measurable.

    world: (33, 3) BlazePose world landmarks; visibility: (33,). Positive = turned to the
    person's right (towards image-left). None when the nose, an ear or a shoulder is below
    `min_visibility` or not finite, or when the face points steeply down or up (more than
    `max_pitch_deg` from the horizontal): a face looking at the floor (push-ups, planks)
    has no horizontal direction to speak of.
    """
    idx = list(_HEAD_LANDMARKS)
    if not np.all(np.asarray(visibility)[idx] >= min_visibility):  # NaN counts as not visible
        return None
    points = blazepose_to_avatar(np.asarray(world)[idx])
    if not np.all(np.isfinite(points)):
        return None
    nose, left_ear, right_ear, left_shoulder, right_shoulder = points
    ear_mid = midpoint(left_ear, right_ear)
    head_up = ear_mid - midpoint(left_shoulder, right_shoulder)
    up_norm = float(np.linalg.norm(head_up))
    if up_norm < 1e-6:
        return None
    nose_cue = nose - ear_mid
    # The face's forward is the head's up crossed with its left (up × left = forward in the
    # avatar frame). Using the neck's up rather than the world's keeps the cue right when
    # the head leans or hangs upside down (a pike), and shrinks it when the face turns down.
    ear_cue = cross(head_up / up_norm, left_ear - right_ear)
    forward = nose_cue + ear_cue
    horizontal = math.hypot(forward[0], forward[2])
    if horizontal < 1e-6 or abs(math.degrees(math.atan2(forward[1], horizontal))) > max_pitch_deg:
        return None
    # Avatar frame: +z forward, +x the person's right; a right turn carries +z to +x.
    return math.degrees(math.atan2(forward[0], forward[2]))


def yaw_to_x(yaw_deg: float, x_min: float = -0.44, x_max: float = 0.44) -> float:
    """The head x for a yaw: linear, ±90° on x_max / x_min, clipped to [x_min, x_max]."""
    scale = x_max if yaw_deg >= 0 else -x_min
    return min(max(scale * yaw_deg / _QUARTER_TURN_DEG, x_min), x_max)


def x_to_interval(x: float, x_min: float = -0.44, x_max: float = 0.44, intervals: int = 18) -> int:
    """Index k in 0..intervals-1 of the equal interval holding x (values outside are clipped)."""
    k = math.floor((x - x_min) * intervals / (x_max - x_min))
    return min(max(k, 0), intervals - 1)


def interval_yaw_deg(k: int, intervals: int = 18, step_deg: float = 10.0) -> float:
    """Absolute yaw of interval k: its offset from the range's middle, in steps."""
    return (k - (intervals - 1) / 2.0) * step_deg


@dataclass(frozen=True)
class HeadYaw:
    """One frame of head-yaw quantisation.

    x: the quantised coordinate (clipped to the range), None when unknown.
    interval: k_t in 0..n-1, None when unknown.
    delta_deg: θ_t = (k_t - k_{t-1}) · step; 0 when unchanged or unknown.
    yaw_deg: absolute yaw of the interval centre, None when unknown (needs no history).
    measured_yaw_deg: the continuous camera-relative yaw before clipping, when measured.
    """

    x: float | None
    interval: int | None
    delta_deg: float
    yaw_deg: float | None
    measured_yaw_deg: float | None = None

    @property
    def known(self) -> bool:
        return self.interval is not None


class HeadYawTracker:
    """Head-yaw quantisation over a stream of samples (config-driven; see the module docstring).

    hysteresis: fraction of an interval x must pass beyond the current interval's edge
    before the index changes. 0 (the default) is plain quantisation.
    """

    def __init__(
        self,
        config: AvatarConfig | None = None,
        min_visibility: float = 0.5,
        facing_away_deg: float = 120.0,
        hysteresis: float = 0.0,
    ) -> None:
        cfg = config or AvatarConfig()
        self.x_min = cfg.head_x_min
        self.x_max = cfg.head_x_max
        self.intervals = cfg.head_intervals
        self.step_deg = cfg.head_step_deg
        self.min_visibility = float(min_visibility)
        self.facing_away_deg = float(facing_away_deg)
        self.hysteresis = float(hysteresis)
        self._reference = (self.intervals - 1) / 2.0
        self._interval: int | None = None

    def reset(self) -> None:
        """Head back at rest; the next known frame turns it from the middle of the range."""
        self._reference = (self.intervals - 1) / 2.0
        self._interval = None

    def update(self, sample: PoseSample) -> HeadYaw:
        if sample.world is None:
            return self.update_x(None)
        yaw = face_yaw_deg(sample.world, sample.visibility(), self.min_visibility)
        if yaw is None or abs(yaw) > self.facing_away_deg:
            return self.update_x(None, measured_yaw_deg=yaw)
        return self.update_x(yaw_to_x(yaw, self.x_min, self.x_max), measured_yaw_deg=yaw)

    def update_x(self, x: float | None, measured_yaw_deg: float | None = None) -> HeadYaw:
        """Quantise an x the caller measured; None means the head is unknown now."""
        if x is None or not math.isfinite(x):
            return HeadYaw(None, None, 0.0, None, measured_yaw_deg)
        x = min(max(x, self.x_min), self.x_max)
        k = self._quantise(x)
        delta_deg = (k - self._reference) * self.step_deg
        self._reference = float(k)
        self._interval = k
        return HeadYaw(x, k, delta_deg, interval_yaw_deg(k, self.intervals, self.step_deg), measured_yaw_deg)

    def _quantise(self, x: float) -> int:
        k = x_to_interval(x, self.x_min, self.x_max, self.intervals)
        if self._interval is None or self.hysteresis <= 0 or k == self._interval:
            return k
        width = (self.x_max - self.x_min) / self.intervals
        low = self.x_min + self._interval * width - self.hysteresis * width
        high = self.x_min + (self._interval + 1) * width + self.hysteresis * width
        return self._interval if low <= x < high else k
