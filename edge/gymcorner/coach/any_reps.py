"""Counting repetitions of any movement, without knowing the exercise.

The exercise-specific counter (`coach/reps.py`) needs a joint-angle phase per exercise; a
member doing something the box was never taught (bench press, front raise, sit-up, rows)
gets nothing from it. This counter reads only the 2-D image landmarks (no world landmarks,
no visibility, any frame rate), so it also runs on a degraded camera and on public pose
benchmarks.

How: every frame gives a body-normalised pose (hip-centred, in body sizes) and a few
2-D joint angles. Several 1-D candidate signals come from them: each bilateral joint angle
(elbows, shoulders, hips, knees) and the projection of the pose on the main direction of
recent movement (the first principal component of the last `window_s`). Each candidate is
counted by its own hysteresis state machine whose thresholds sit at a fraction of that
signal's own recent range, so a partial movement far smaller than the typical one never
crosses both thresholds. Only the most periodic candidate (highest autocorrelation over the
window) announces reps; a rep is announced when its signal comes back to the rest side,
which is before the movement has settled, so latency is the smoothing delay only.

Nothing counts until the person has been tracked stably for `ready_s`; losing the person
for `max_gap_s`, a sudden jump of body position or scale (someone else, a camera moved),
or the hip drifting sideways (walking in or out) starts the tracking over; the count
itself carries on. Parameters and measured figures: docs/reps-and-form.md.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from gymcorner.coach.cycles import CycleCounter, periodicity
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.geometry import midpoint
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_POSE_POINTS = (
    L.NOSE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST,
    L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE,
)  # fmt: skip

# Bilateral joint angles (vertex in the middle); each pair is averaged into one candidate.
_ANGLES: dict[str, tuple[tuple[L, L, L], tuple[L, L, L]]] = {
    "elbow": ((L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST)),
    "shoulder": ((L.LEFT_HIP, L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.RIGHT_HIP, L.RIGHT_SHOULDER, L.RIGHT_ELBOW)),
    "hip": ((L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE)),
    "knee": ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE)),
}
PRINCIPAL = "principal"
SIGNALS = (PRINCIPAL, *_ANGLES)


@dataclass(frozen=True)
class AnyRepConfig:
    """Parameters of the label-free counter (chosen on training material, see docs)."""

    window_s: float = 8.0  # recent history for the principal direction and periodicity
    range_s: float = 4.0  # recent history for each signal's range (the thresholds)
    smooth_s: float = 0.1  # causal moving average of each candidate signal
    enter_fraction: float = 0.65  # leave rest: cross this fraction of the recent range
    return_fraction: float = 0.35  # back at rest: below this fraction of the range
    min_angle_range_deg: float = 25.0  # an angle moving less than this is still
    min_pose_range: float = 0.3  # the principal projection (body sizes) likewise
    min_period_s: float = 0.4  # periodicity is looked for between this lag and window_s / 2
    min_rep_s: float = 0.3  # a cycle shorter than this is jitter
    partial_fraction: float = 0.5  # a cycle smaller than this share of the recent full ones is partial
    amplitude_memory_s: float = 20.0  # how long full cycles are remembered for that comparison
    ready_s: float = 0.8  # tracked stably this long before anything counts
    max_gap_s: float = 1.0  # person lost longer than this: start over
    max_jump: float = 1.5  # hip centre this many body sizes from its recent position: reset
    max_scale_ratio: float = 2.0  # body size this many times above or below its recent level: reset
    max_drift_sizes: float = 0.5  # hip this far sideways from its slow average: walking, reset
    drift_s: float = 1.0  # time constant of that slow average
    jump_frames: int = 5  # ... for this many frames in a row (one-frame glitches do not reset)
    min_axis_similarity: float = 0.5  # principal direction turning further: a new movement
    min_periodicity: float = 0.3  # below this no signal has a rhythm yet
    first_rep_share: float = 0.5  # first rep of a set (none for window_s): a signal moving half as much counts
    switch_margin: float = 0.1  # another signal must be this much more periodic to take over
    max_overlap: float = 0.0  # a cycle that began before the last counted rep ended is that rep
    refit_s: float = 0.25  # how often the principal direction and periodicity are re-estimated


@dataclass(frozen=True)
class CountedRep:
    """One repetition announced by the label-free counter (field names as in `reps.Rep`)."""

    number: int
    start_t: float  # left the rest side
    bottom_t: float  # far end of the movement
    end_t: float  # back on the rest side (the moment it was announced)
    amplitude: float  # far end minus rest level, in units of the signal's recent range
    signal: str  # which candidate counted it


def _pixels(sample: PoseSample) -> FloatArray:
    assert sample.image is not None
    size = np.array([max(sample.width, 1), max(sample.height, 1)], float)
    px: FloatArray = sample.image[:, :2].astype(np.float64) * size
    return px


_ANGLE_IDX = np.array([[list(tri) for tri in pair] for pair in _ANGLES.values()])  # (4, 2, 3)


def pose_features(sample: PoseSample) -> tuple[FloatArray, FloatArray, FloatArray, float] | None:
    """Normalised 2-D pose (hip-centred, in body sizes), bilateral angles (deg), hip, body size."""
    if sample.image is None:
        return None
    xy = _pixels(sample)
    if not np.isfinite(xy).all():
        return None
    hip = midpoint(xy[L.LEFT_HIP], xy[L.RIGHT_HIP])
    points = xy[list(_POSE_POINTS)]
    # Body size: RMS spread of the main points. Unlike the torso length it does not
    # collapse when the torso points at the camera (a push-up seen from the front).
    size = float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))
    if size <= 1e-9:
        return None
    pose = ((points - hip) / size).ravel()
    ba = xy[_ANGLE_IDX[..., 0]] - xy[_ANGLE_IDX[..., 1]]
    bc = xy[_ANGLE_IDX[..., 2]] - xy[_ANGLE_IDX[..., 1]]
    norm = np.linalg.norm(ba, axis=-1) * np.linalg.norm(bc, axis=-1)
    cos = np.where(norm > 0, (ba * bc).sum(-1) / np.where(norm > 0, norm, 1.0), -1.0)
    angles = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).mean(axis=1)
    return pose, angles, hip, size


class AnyRepCounter:
    """Live, causal rep counter that needs no exercise label: `update(sample) -> reps`."""

    def __init__(self, config: AnyRepConfig | None = None) -> None:
        self.cfg = config or AnyRepConfig()
        self.count = 0
        self.selected: str | None = None
        self._reset()

    def _reset(self) -> None:
        self._stable_since: float | None = None
        self._last_seen: float | None = None
        self._prev_hip = np.zeros(2)  # recent body position and scale (slow averages)
        self._prev_size = 0.0
        self._off_frames = 0
        self._anchor_x = 0.0  # slow average of the hip's horizontal position
        self._sizes: deque[tuple[float, float]] = deque()  # (t, body size) of the last 2 * drift_s
        self._last_selected: dict[str, float] = {}  # when each signal was last the selected one
        self._first_rep_signals: set[str] = set()  # the signals that move nearly as much as the most-moving one
        self._times: deque[float] = deque()
        self._poses: deque[FloatArray] = deque()
        self._angles: deque[FloatArray] = deque()
        self._axis: FloatArray | None = None
        self._mean: FloatArray | None = None
        self._armed_axis: FloatArray | None = None  # principal direction when its rest side was read
        self._rest_pose: FloatArray | None = None  # the pose the principal's rest side was read from
        self._value = np.zeros(len(SIGNALS))
        self._next_refit = -math.inf
        self._counters = [
            CycleCounter(self.cfg.min_pose_range if name == PRINCIPAL else self.cfg.min_angle_range_deg, self.cfg)
            for name in SIGNALS
        ]
        self._last_end = -math.inf

    def update(self, sample: PoseSample) -> list[CountedRep]:
        cfg, t = self.cfg, sample.t_s
        feats = pose_features(sample)
        if feats is None:
            if self._last_seen is not None and t - self._last_seen > cfg.max_gap_s:
                self._reset()
            return []
        pose, angles, hip, size = feats
        if self._last_seen is not None and t - self._last_seen > cfg.max_gap_s:
            self._reset()
        if self._last_seen is not None and (self._jumped(hip, size) or self._walking(t, hip, size)):
            self._reset()
        dt = t - self._last_seen if self._last_seen is not None else 0.0
        self._last_seen = t
        if self._stable_since is None:
            self._stable_since, self._prev_hip, self._prev_size = t, hip, size
            self._anchor_x = float(hip[0])
        if self._poses:  # causal smoothing of the features (exponential, time constant smooth_s)
            alpha = dt / (cfg.smooth_s + dt)
            pose = self._poses[-1] + alpha * (pose - self._poses[-1])
            angles = self._angles[-1] + alpha * (angles - self._angles[-1])
        self._times.append(t)
        self._poses.append(pose)
        self._angles.append(angles)
        while t - self._times[0] > cfg.window_s:
            self._times.popleft()
            self._poses.popleft()
            self._angles.popleft()
        if t - self._stable_since < cfg.ready_s:
            return []
        if t >= self._next_refit:
            self._refit()
            self._next_refit = t + cfg.refit_s
        assert self._axis is not None and self._mean is not None
        self._value = np.concatenate((((pose - self._mean) @ self._axis,), angles))
        return self._count(t)

    def _jumped(self, hip: FloatArray, size: float) -> bool:
        """True when body position or scale has left its recent level for `jump_frames`
        frames in a row (someone else, or the camera moved); a one-frame glitch is not."""
        cfg = self.cfg
        ref = self._prev_size
        moved = float(np.linalg.norm(hip - self._prev_hip)) > cfg.max_jump * ref
        off = moved or abs(math.log(size / ref)) > math.log(cfg.max_scale_ratio)
        self._off_frames = self._off_frames + 1 if off else 0
        if not off:  # follow slow drifts (stepping closer, zooming)
            self._prev_hip = self._prev_hip + 0.2 * (hip - self._prev_hip)
            self._prev_size = ref + 0.2 * (size - ref)
        return self._off_frames >= cfg.jump_frames

    def _walking(self, t: float, hip: FloatArray, size: float) -> bool:
        """True when the body has travelled sideways more than `max_drift_sizes` from where
        it was about `drift_s` ago (walking in or out, stepping between stations): steps are
        periodic, but they are not reps. The size is the largest of the last 2 * drift_s:
        a body folded at the bottom of a squat spreads less while its hips swing back, and
        that swing is not walking."""
        cfg = self.cfg
        dt = t - (self._last_seen or t)
        self._anchor_x += dt / (cfg.drift_s + dt) * (float(hip[0]) - self._anchor_x)
        self._sizes.append((t, size))
        while t - self._sizes[0][0] > 2 * cfg.drift_s:
            self._sizes.popleft()
        reference = max(v for _, v in self._sizes)
        return abs(float(hip[0]) - self._anchor_x) > cfg.max_drift_sizes * reference

    def _refit(self) -> None:
        """Re-estimate the principal direction (sign kept), the ranges and the periodicities."""
        poses = np.array(self._poses)
        mean = poses.mean(axis=0)
        _, _, vt = np.linalg.svd(poses - mean, full_matrices=False)
        axis = vt[0]
        if self._axis is not None and float(axis @ self._axis) < 0:
            axis = -axis
        principal = self._counters[0]
        if principal.rest_high is None:
            self._armed_axis = None
        elif self._armed_axis is None:
            self._armed_axis = axis
        elif abs(float(axis @ self._armed_axis)) < self.cfg.min_axis_similarity:
            principal.rest_high, self._armed_axis = None, None  # a different movement: read its rest side again
        self._axis, self._mean = axis, mean
        series = np.column_stack(((poses - mean) @ axis, np.array(self._angles)))
        recent = series[np.asarray(self._times) >= self._times[-1] - self.cfg.range_s]
        lo, hi = np.percentile(recent, [5.0, 95.0], axis=0)
        fps = (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)
        min_lag = max(2, round(self.cfg.min_period_s * fps))
        scores: dict[str, float] = {}
        recent_times = list(self._times)[-len(recent) :]
        if principal.rest_high is not None and self._rest_pose is not None:
            principal.rest_value = float((self._rest_pose - mean) @ axis)  # the same pose, this refit's units
        for i, (name, counter) in enumerate(zip(SIGNALS, self._counters, strict=True)):
            unread = counter.rest_high is None
            counter.set_range(float(lo[i]), float(hi[i]), list(zip(recent_times, recent[:, i], strict=False)))
            if i == 0 and unread and counter.rest_high is not None:  # the pose rest was read from
                head = np.asarray(recent_times) - recent_times[0] <= 0.5
                self._rest_pose = np.median(poses[-len(recent) :][head], axis=0)
            counter.periodicity = 0.0
            if counter.span >= counter.min_range:
                # over the whole window, or the recent range's alone: a rhythm that fills the
                # last range_s counts before the posture change that preceded it (lying down
                # on the bench) has left the longer window
                counter.periodicity = max(periodicity(series[:, i], min_lag), periodicity(recent[:, i], min_lag))
                scores[name] = counter.periodicity
        if not scores:
            return
        best = max(scores, key=scores.__getitem__)
        spans = {n: self._counters[SIGNALS.index(n)].relative_span for n in scores}
        top = max(spans.values())
        self._first_rep_signals = {n for n, v in spans.items() if v >= self.cfg.first_rep_share * top}
        if scores[best] < self.cfg.min_periodicity:
            # no rhythm yet (the first rep of a set): the signal that moves most, for its kind
            self.selected = max(spans, key=spans.__getitem__)
        elif self.selected not in scores or scores[best] > scores[self.selected] + self.cfg.switch_margin:
            self.selected = best
        if self.selected is not None:
            self._last_selected[self.selected] = self._times[-1]

    def _count(self, t: float) -> list[CountedRep]:
        cfg = self.cfg
        reps: list[CountedRep] = []
        for name, counter, value in zip(SIGNALS, self._counters, self._value, strict=True):
            cycle = counter.update(t, float(value))
            if cycle is None:
                continue
            start, far_t, amplitude = cycle
            carries = name == self.selected or self._last_selected.get(name, -math.inf) >= start
            first_of_set = t - self._last_end > cfg.window_s
            if not carries and not (first_of_set and name in self._first_rep_signals):
                continue  # not the signal that carries the movement (now, or when this cycle began)
            if self._last_end - start > cfg.max_overlap * (t - start):
                continue  # mostly the movement already counted (by the previous selection)
            self.count += 1
            self._last_end = t
            reps.append(CountedRep(self.count, start, far_t, t, round(amplitude, 3), name))
        return reps
