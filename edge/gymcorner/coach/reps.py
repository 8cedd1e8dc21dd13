"""Repetition counting: a live state machine and an offline peak counter.

Live (`LiveRepCounter`): a movement-phase signal per exercise, 0 at the start position
and 1 at the far end of the movement, from joint angles measured on the world landmarks
(the same from any camera direction). A hysteresis state machine counts a rep when the
phase leaves the start level by at least `min_excursion` and comes back within
`return_fraction` of that excursion. The start level is the lowest phase of the last
`start_window_s`, so a person whose elbows never fully lock (fast push-ups) or whose
camera reads a bent joint at rest still counts; the excursion gate keeps the noise of a
still person from counting. Nothing counts until the person has been tracked for
`ready_s`, and a rep in progress is dropped when its landmarks stay hidden longer than
`max_gap_s` (walking out of frame).

Offline (`count_reps_offline`): the L2 distance of each frame's normalised pose
from the start pose, Gaussian-smoothed; each peak that rises from, and falls back to, the
start level is one complete repetition.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from gymcorner.coach.exercises import Exercise
from gymcorner.config import RepsConfig
from gymcorner.motion.arrays import AnyFloatArray, FloatArray
from gymcorner.motion.geometry import angle_deg, midpoint
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

Triplet = tuple[L, L, L]

_KNEES: tuple[Triplet, ...] = ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE))
_ELBOWS: tuple[Triplet, ...] = (
    (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST),
)
_ARMS_UP: tuple[Triplet, ...] = (
    (L.LEFT_HIP, L.LEFT_SHOULDER, L.LEFT_ELBOW),
    (L.RIGHT_HIP, L.RIGHT_SHOULDER, L.RIGHT_ELBOW),
)


@dataclass(frozen=True)
class PhaseSpec:
    """How one exercise's phase is read: flexion of these joints, from top_deg to bottom_deg.

    Flexion is 180° minus the joint angle (0 with a straight limb). For arm raises the
    angle itself is used (`flexion=False`): 0 with the arms down.
    """

    joints: tuple[Triplet, ...]
    top_deg: float
    bottom_deg: float
    flexion: bool = True


PHASES: dict[Exercise, PhaseSpec] = {
    # World-space knee flexion reads ~15-28° standing, 90-150° at the bottom of a squat.
    Exercise.SQUAT: PhaseSpec(_KNEES, top_deg=25.0, bottom_deg=90.0),
    Exercise.LUNGE: PhaseSpec(_KNEES, top_deg=25.0, bottom_deg=85.0),
    Exercise.PUSH_UP: PhaseSpec(_ELBOWS, top_deg=20.0, bottom_deg=80.0),
    Exercise.DIP: PhaseSpec(_ELBOWS, top_deg=20.0, bottom_deg=80.0),
    Exercise.PULL_UP: PhaseSpec(_ELBOWS, top_deg=30.0, bottom_deg=110.0),
    Exercise.BICEP_CURL: PhaseSpec(_ELBOWS, top_deg=30.0, bottom_deg=110.0),
    Exercise.JUMPING_JACK: PhaseSpec(_ARMS_UP, top_deg=30.0, bottom_deg=130.0, flexion=False),
}


def movement_phase(sample: PoseSample, spec: PhaseSpec, min_visibility: float) -> float | None:
    """0 at the start position, 1 at the far end; None when the joints are not visible."""
    if sample.image is None or sample.world is None:
        return None
    vis = sample.image[:, 3]
    world = sample.world.astype(np.float64)
    angles = []
    for a, b, c in spec.joints:
        if min(vis[a], vis[b], vis[c]) < min_visibility:
            continue
        angle = angle_deg(world[a], world[b], world[c])
        if not math.isnan(angle):
            angles.append(180.0 - angle if spec.flexion else angle)
    if not angles:
        return None
    value = float(np.mean(angles))
    return (value - spec.top_deg) / (spec.bottom_deg - spec.top_deg)


@dataclass(frozen=True)
class Rep:
    number: int
    start_t: float
    bottom_t: float
    end_t: float
    depth: float  # deepest phase reached (1.0 = the exercise's nominal bottom)
    faults: tuple[str, ...] = ()
    partial: bool = False  # never reached min_depth: reported, not counted

    @property
    def down_s(self) -> float:
        return self.bottom_t - self.start_t

    @property
    def up_s(self) -> float:
        return self.end_t - self.bottom_t


@dataclass
class _Descent:
    start_t: float
    bottom_t: float
    depth: float
    level: float  # the start level this rep left from
    faults: set[str] = field(default_factory=set)


class LiveRepCounter:
    """Counts complete reps of one exercise from smoothed samples; pure apart from its state."""

    def __init__(self, exercise: Exercise | str, config: RepsConfig) -> None:
        if exercise not in PHASES:
            raise ValueError(f"no rep phase defined for {exercise!r}")
        self.exercise = Exercise(exercise)
        self._spec = PHASES[self.exercise]
        self._cfg = config
        self.count = 0
        self.phase: float | None = None
        self._tracked_since: float | None = None
        self._last_seen_t: float | None = None
        self._recent: deque[tuple[float, float]] = deque()  # (t, phase) at the start level
        self._start_level: float | None = None
        self._last_top_t: float | None = None
        self._descent: _Descent | None = None

    def reset(self) -> None:
        self.__init__(self.exercise, self._cfg)  # type: ignore[misc]

    def note_fault(self, code: str) -> None:
        """A form fault seen now belongs to the rep in progress (if any)."""
        if self._descent is not None:
            self._descent.faults.add(code)

    @property
    def in_rep(self) -> bool:
        return self._descent is not None

    def update(self, sample: PoseSample) -> Rep | None:
        t, cfg = sample.t_s, self._cfg
        phase = movement_phase(sample, self._spec, cfg.min_visibility)
        self.phase = phase
        if phase is None:
            if self._last_seen_t is not None and t - self._last_seen_t > cfg.max_gap_s:
                self._forget()  # walked out, or out of frame: start over when back
            return None
        if self._tracked_since is None or (self._last_seen_t is not None and t - self._last_seen_t > cfg.max_gap_s):
            self._forget()
            self._tracked_since = t
        self._last_seen_t = t
        if self._descent is None:
            self._at_start(t, phase)
            return None
        d = self._descent
        if phase > d.depth:
            d.depth, d.bottom_t = phase, t
        excursion = d.depth - d.level
        if phase - d.level <= cfg.return_fraction * excursion:
            self._descent = None
            self._last_top_t = t
            self._recent.clear()
            self._recent.append((t, phase))
            faults = tuple(sorted(d.faults))
            if d.depth < cfg.min_depth:
                return Rep(self.count, d.start_t, d.bottom_t, t, round(d.depth, 3), faults, partial=True)
            self.count += 1
            return Rep(self.count, d.start_t, d.bottom_t, t, round(d.depth, 3), faults)
        return None

    def _at_start(self, t: float, phase: float) -> None:
        cfg = self._cfg
        self._recent.append((t, phase))
        while self._recent and t - self._recent[0][0] > cfg.start_window_s:
            self._recent.popleft()
        level = min(p for _, p in self._recent)
        if phase - level < cfg.return_fraction * cfg.min_excursion:
            self._last_top_t = t  # still at (or back near) the start position
        ready = self._tracked_since is not None and t - self._tracked_since >= cfg.ready_s
        if ready and level <= cfg.max_start_phase and phase - level >= cfg.min_excursion:
            self._descent = _Descent(self._last_top_t if self._last_top_t is not None else t, t, phase, level)
        return None

    def _forget(self) -> None:
        self._tracked_since, self._descent, self._last_top_t = None, None, None
        self._recent.clear()


def _gaussian_kernel(sigma_frames: float) -> FloatArray:
    radius = max(1, round(3 * sigma_frames))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma_frames) ** 2)
    kernel: FloatArray = k / k.sum()
    return kernel


_POSE_JOINTS = (
    L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST,
    L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE,
)  # fmt: skip


def pose_vector(world: AnyFloatArray) -> FloatArray | None:
    """The pose vector the gold reference compares: main joints, hip-centred, in torso lengths, and
    turned about the vertical so the hip line points along +x: two people (or one person
    on two days) facing different ways compare equal when their poses are."""
    w = world.astype(np.float64)
    hip = midpoint(w[L.LEFT_HIP], w[L.RIGHT_HIP])
    torso = float(np.linalg.norm(midpoint(w[L.LEFT_SHOULDER], w[L.RIGHT_SHOULDER]) - hip))
    if not np.isfinite(torso) or torso <= 0:
        return None
    line = w[L.LEFT_HIP] - w[L.RIGHT_HIP]
    theta = math.atan2(float(line[2]), float(line[0]))
    c, s = math.cos(theta), math.sin(theta)
    p = w[list(_POSE_JOINTS)] - hip
    turned = np.column_stack((p[:, 0] * c + p[:, 2] * s, p[:, 1], -p[:, 0] * s + p[:, 2] * c))
    return (turned / torso).ravel()


def distance_signal(samples: list[PoseSample], start_frames: int = 3) -> FloatArray:
    """L2 distance of every frame's pose from the start pose (NaN where no person)."""
    vectors = [pose_vector(s.world) if s.world is not None else None for s in samples]
    valid = [v for v in vectors if v is not None]
    if not valid:
        return np.full(len(samples), np.nan)
    start = np.mean(valid[:start_frames], axis=0)
    return np.array([np.linalg.norm(v - start) if v is not None else np.nan for v in vectors])


def count_reps_offline(samples: list[PoseSample], fps: float, config: RepsConfig) -> list[tuple[int, int, int]]:
    """Complete reps as (start, peak, end) frame indices, from the smoothed distance signal.

    A peak counts when it rises at least `offline_min_prominence` (torso lengths) above
    the start level on both sides, so a clip that begins or ends mid-rep does not count
    the cut repetition.
    """
    d = distance_signal(samples)
    if np.isnan(d).all() or len(d) < 3:
        return []
    idx = np.arange(len(d))
    good = ~np.isnan(d)
    d = np.interp(idx, idx[good], d[good])
    smooth = np.convolve(np.pad(d, 64, mode="edge"), _gaussian_kernel(config.offline_sigma_s * fps), "same")[64:-64]
    prominence = config.offline_min_prominence
    reps: list[tuple[int, int, int]] = []
    low_i = 0  # index of the lowest point since the last counted rep
    peak_i: int | None = None
    for i in range(1, len(smooth)):
        if peak_i is None:
            if smooth[i] < smooth[low_i]:
                low_i = i
            elif smooth[i] - smooth[low_i] >= prominence:
                peak_i = i
        else:
            if smooth[i] > smooth[peak_i]:
                peak_i = i
            elif smooth[peak_i] - smooth[i] >= prominence and smooth[i] <= smooth[low_i] + prominence:
                # back near the start level: one complete rep; find where it ends (the valley)
                end = i
                while end + 1 < len(smooth) and smooth[end + 1] <= smooth[end]:
                    end += 1
                reps.append((low_i, peak_i, end))
                low_i, peak_i = end, None
    return reps
