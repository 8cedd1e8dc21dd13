"""Exercise recognition from a short window of landmark frames.

Why this shape: the live coach must pick the right analyser (squat, push-up, ...) without
being told, and the offline `eval` must name each clip's exercise. Both see the same thing,
a stream of `PoseSample`s, so recognition is one pure function of a window of frames
(`window_features`) and a small model stored as plain JSON (`RecognizerModel`; the file
is read at the edge, `gymcorner.assets`).

Features use only the 2-D image landmarks (x, y in isotropic pixel units), because half of
the training data (the exercise_correction CSVs) has no world landmarks. They are made
independent of what should not matter:

* body size and distance from the camera: every length is divided by a body scale
  (max(torso length, 1.3 x shoulder width), which changes little between front and side
  views);
* position in the frame: only differences between landmarks and spreads over time;
* which way the person faces and left/right: angles are mirror-symmetric (|dx|), and every
  left/right pair is reduced to its mean and its absolute difference;
* missing landmarks (low visibility, or the CSVs' subsets): a feature that needs a hidden
  landmark is NaN, and the model treats NaN as "average" (0 after standardisation). The
  training tool shows the model the same frames with the CSVs' masks, so a missing knee
  says nothing about the exercise.

Gravity is kept on purpose: whether the torso is upright or horizontal is what separates a
squat from a push-up, so the image vertical is the reference for segment inclinations.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from gymcorner.coach.exercises import SELECTABLE, Exercise
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.geometry import midpoint
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L

# The model's classes, in its output order (the model JSON stores the same strings):
# every exercise a person can do, and OTHER for "none of them".
LABELS: tuple[Exercise, ...] = (*SELECTABLE, Exercise.OTHER)
OTHER = Exercise.OTHER
MODEL_FORMAT = "gymcorner-exercise-recognizer"

VISIBILITY_MIN = 0.5  # below this BlazePose is guessing; the landmark counts as missing
WINDOW_S = 1.5  # one slow rep, or two fast ones
MIN_FRAMES = 8  # fewer tracked frames than this in a window: no opinion
HOP_S = 0.25  # offline window step

# (left, right) landmark pairs
_SH = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
_EL = (L.LEFT_ELBOW, L.RIGHT_ELBOW)
_WR = (L.LEFT_WRIST, L.RIGHT_WRIST)
_HIP = (L.LEFT_HIP, L.RIGHT_HIP)
_KN = (L.LEFT_KNEE, L.RIGHT_KNEE)
_AN = (L.LEFT_ANKLE, L.RIGHT_ANKLE)
# landmark groups whose movement over the window is measured ("which landmarks move")
_GROUPS: tuple[tuple[str, tuple[L, ...]], ...] = (
    ("nose", (L.NOSE,)), ("shoulders", _SH), ("elbows", _EL), ("wrists", _WR),
    ("hips", _HIP), ("knees", _KN), ("ankles", _AN),
)
_HIPS_GROUP = [name for name, _ in _GROUPS].index("hips")
# the landmarks whose bounding box gives the body's aspect ratio
_BBOX = (L.NOSE, *_SH, *_HIP, *_KN, *_AN)


def _angle_deg(a: FloatArray, b: FloatArray, c: FloatArray) -> FloatArray:
    """Interior angle a-b-c at b, degrees; (T, 2) inputs. Mirror- and scale-free."""
    v1, v2 = a - b, c - b
    n = np.linalg.norm(v1, axis=-1) * np.linalg.norm(v2, axis=-1)
    cos = np.sum(v1 * v2, axis=-1) / np.where(n > 1e-9, n, np.nan)
    deg: FloatArray = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return deg


def _incline_deg(frm: FloatArray, to: FloatArray) -> FloatArray:
    """Angle of the segment frm->to from image 'up' (0 up, 90 level, 180 down), mirror-free."""
    d = to - frm
    deg: FloatArray = np.degrees(np.arctan2(np.abs(d[..., 0]), -d[..., 1]))
    return deg


def _sym(left: FloatArray, right: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A left/right pair as (mean, |difference|): unchanged when the sides swap."""
    return midpoint(left, right, one_sided=True), np.abs(left - right)


FRAME_FEATURE_NAMES: tuple[str, ...] = (
    "elbow_angle", "elbow_angle_asym", "shoulder_angle", "shoulder_angle_asym",
    "hip_angle", "hip_angle_asym", "knee_angle", "knee_angle_asym",
    "torso_incline", "upper_arm_incline", "upper_arm_incline_asym", "forearm_incline",
    "forearm_incline_asym", "thigh_incline", "thigh_incline_asym", "shin_incline",
    "shin_incline_asym", "wrist_above_shoulder", "wrist_above_shoulder_asym",
    "wrist_above_nose", "nose_above_hip", "shoulder_above_hip", "hip_above_ankle",
    "knee_above_ankle", "wrist_spread", "elbow_spread", "knee_spread", "ankle_spread",
    "wrist_to_hip", "wrist_to_shoulder", "wrist_above_ankle", "body_log_aspect",
)


def frame_features(points: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-frame posture features for (T, 33, 2) isotropic points (NaN = missing).

    Returns (features (T, F), group positions (T, G, 2), body scale (T,)); the last two
    feed the window's movement features. Frames without a usable scale are all NaN.
    """
    p = np.asarray(points, dtype=np.float64)

    def side(pair: tuple[L, L]) -> tuple[FloatArray, FloatArray]:
        return p[:, pair[0]], p[:, pair[1]]

    (ls, rs), (le, re), (lw, rw) = side(_SH), side(_EL), side(_WR)
    (lh, rh), (lk, rk), (la, ra) = side(_HIP), side(_KN), side(_AN)
    nose = p[:, L.NOSE]
    # a left/right pair's middle; the visible side when only one is, NaN when neither
    mid = partial(midpoint, one_sided=True)
    msh, mhip, mwr, man, mkn = mid(ls, rs), mid(lh, rh), mid(lw, rw), mid(la, ra), mid(lk, rk)
    torso = np.linalg.norm(msh - mhip, axis=-1)
    shoulder_w = np.linalg.norm(ls - rs, axis=-1)
    scale = np.fmax(torso, 1.3 * shoulder_w)
    scale = np.where(scale > 1e-6, scale, np.nan)

    def y(q: FloatArray) -> FloatArray:  # image y in body scales (down is positive)
        out: FloatArray = q[:, 1] / scale
        return out

    def x(q: FloatArray) -> FloatArray:
        out: FloatArray = q[:, 0] / scale
        return out

    cols: list[FloatArray] = []
    for left, right in (((ls, le, lw), (rs, re, rw)), ((le, ls, lh), (re, rs, rh)),
                        ((ls, lh, lk), (rs, rh, rk)), ((lh, lk, la), (rh, rk, ra))):
        cols.extend(_sym(_angle_deg(*left), _angle_deg(*right)))
    cols.append(_incline_deg(mhip, msh))
    for (l0, l1), (r0, r1) in (((ls, le), (rs, re)), ((le, lw), (re, rw)),
                               ((lh, lk), (rh, rk)), ((lk, la), (rk, ra))):
        cols.extend(_sym(_incline_deg(l0, l1), _incline_deg(r0, r1)))
    cols.extend(_sym(y(ls) - y(lw), y(rs) - y(rw)))
    cols += [y(nose) - y(mwr), y(mhip) - y(nose), y(mhip) - y(msh), y(man) - y(mhip), y(man) - y(mkn)]
    cols += [np.abs(x(lw) - x(rw)), np.abs(x(le) - x(re)), np.abs(x(lk) - x(rk)), np.abs(x(la) - x(ra))]

    def dist(a: FloatArray, b: FloatArray) -> FloatArray:
        out: FloatArray = np.linalg.norm(a - b, axis=-1) / scale
        return out

    cols += [mid(dist(lw, lh), dist(rw, rh)), mid(dist(lw, ls), dist(rw, rs)), y(man) - y(mwr)]
    box = p[:, list(_BBOX)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        span = np.nanmax(box, axis=1) - np.nanmin(box, axis=1)
        cols.append(np.log(np.maximum(span[:, 0], 1e-3 * scale) / np.maximum(span[:, 1], 1e-3 * scale)))
    feats = np.stack(cols, axis=1)
    feats[np.isnan(scale)] = np.nan
    groups = np.stack([mid(p[:, g[0]], p[:, g[-1]]) for _, g in _GROUPS], axis=1)
    return feats, groups, scale


def _movement_names() -> tuple[str, ...]:
    names = []
    for ref in ("frame", "hip"):
        for g, _ in _GROUPS:
            names += [f"{g}_move_x_{ref}", f"{g}_move_y_{ref}"]
    return tuple(names)


FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"{n}_mean" for n in FRAME_FEATURE_NAMES)
    + tuple(f"{n}_std" for n in FRAME_FEATURE_NAMES)
    + tuple(f"{n}_range" for n in FRAME_FEATURE_NAMES)
    + _movement_names()
)


def _nan_quantiles(x: FloatArray, qs: tuple[float, ...]) -> list[FloatArray]:
    """Column quantiles ignoring NaN (linear interpolation, as np.nanpercentile), without
    nanpercentile's per-column loop: this runs live, ten times a second."""
    srt = np.sort(x, axis=0)  # NaN sorts last
    n = np.isfinite(x).sum(axis=0)
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        a = np.take_along_axis(srt, lo[None], axis=0)[0]
        b = np.take_along_axis(srt, hi[None], axis=0)[0]
        out.append(np.where(n > 0, a + (b - a) * (pos - lo), np.nan))
    return out


def window_features(feats: FloatArray, groups: FloatArray, scale: FloatArray) -> FloatArray:
    """Summarise one window of `frame_features` output into one vector (FEATURE_NAMES).

    Posture: mean, standard deviation and 10-90 % range of each frame feature. Movement:
    the spread over time of each landmark group, in the image and relative to the hips,
    divided by the window's median body scale (so a still camera and a zoom differ, but a
    near and a far person do not). Order statistics, so the frame rate does not matter.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(feats, axis=0)
        std = np.nanstd(feats, axis=0)
        lo, hi = _nan_quantiles(feats, (0.1, 0.9))
        s = np.nanmedian(scale)
        hip = groups[:, _HIPS_GROUP : _HIPS_GROUP + 1]
        move_frame = np.nanstd(groups, axis=0) / s
        move_hip = np.nanstd(groups - hip, axis=0) / s
    return np.concatenate([mean, std, hi - lo, move_frame.ravel(), move_hip.ravel()])


def sample_points(sample: PoseSample) -> FloatArray:
    """(33, 2) landmark positions in pixels (isotropic units); NaN where hidden or absent."""
    if sample.image is None:
        return np.full((NUM_LANDMARKS, 2), np.nan)
    pts = sample.image[:, :2].astype(np.float64) * np.array([sample.width, sample.height], dtype=np.float64)
    pts[sample.image[:, 3] < VISIBILITY_MIN] = np.nan
    return pts


@dataclass(frozen=True)
class RecognizerModel:
    """Standardisation + a stack of dense layers (relu ..., softmax), all plain arrays."""

    labels: tuple[Exercise, ...]
    feature_names: tuple[str, ...]
    mean: FloatArray
    std: FloatArray
    layers: tuple[tuple[FloatArray, FloatArray], ...]
    window_s: float = WINDOW_S
    meta: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """(N, F) features (NaN allowed) -> (N, C) class probabilities."""
        z = (np.atleast_2d(x) - self.mean) / self.std
        h = np.where(np.isfinite(z), z, 0.0)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        proba: FloatArray = e / e.sum(axis=1, keepdims=True)
        return proba

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT, "version": 1, "labels": list(self.labels),
            "feature_names": list(self.feature_names), "window_s": self.window_s,
            "mean": self.mean.tolist(), "std": self.std.tolist(),
            "layers": [{"weights": w.tolist(), "bias": b.tolist()} for w, b in self.layers],
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RecognizerModel:
        if doc.get("format") != MODEL_FORMAT or doc.get("version") != 1:
            raise ValueError("not a version-1 exercise recognizer model")
        names = tuple(doc["feature_names"])
        if names != FEATURE_NAMES:
            raise ValueError("model was trained on different features; retrain it")
        unknown = [lab for lab in doc["labels"] if lab not in {e.value for e in Exercise}]
        if unknown:
            raise ValueError(f"model labels {unknown} are not exercises this version knows")
        labels = tuple(Exercise(lab) for lab in doc["labels"])
        layers = tuple((np.asarray(ly["weights"], float), np.asarray(ly["bias"], float)) for ly in doc["layers"])
        return cls(labels, names, np.asarray(doc["mean"], float),
                   np.asarray(doc["std"], float), layers, float(doc["window_s"]), dict(doc.get("meta", {})))


@dataclass(frozen=True)
class Recognition:
    """One live verdict. `stable`: `label` has been the top class for `stable_s` seconds,
    the coach's cue to switch analysers. `ready`: the window held enough tracked frames."""

    t_s: float
    label: Exercise
    probabilities: dict[str, float]
    stable: bool
    ready: bool


class ExerciseRecognizer:
    """Live recognition: a sliding window of the last `window_s` seconds of frames.

    Per-frame features are computed once per frame; the window summary and the model run
    at most every `interval_s` (by the samples' own clock), because the exercise cannot
    change faster than that and an edge device has better uses for the time.
    """

    def __init__(self, model: RecognizerModel, stable_s: float = 1.5, interval_s: float = 0.1) -> None:
        self.model = model
        self.stable_s = float(stable_s)
        self.interval_s = float(interval_s)
        self._frames: deque[tuple[float, FloatArray, FloatArray, float]] = deque()
        self._top: Exercise | None = None
        self._top_since_s = 0.0
        self._proba: FloatArray | None = None
        self._proba_t_s = -math.inf

    def reset(self) -> None:
        self._frames.clear()
        self._top = None
        self._proba = None
        self._proba_t_s = -math.inf

    def update(self, sample: PoseSample) -> Recognition:
        t = float(sample.t_s)
        if self._frames and t < self._frames[-1][0]:
            self.reset()  # time went backwards: a new source or a replay restarted
        while self._frames and self._frames[0][0] <= t - self.model.window_s:
            self._frames.popleft()
        if sample.image is not None:
            f, g, s = frame_features(sample_points(sample)[None])
            if np.isfinite(s[0]):
                self._frames.append((t, f[0], g[0], float(s[0])))
        labels = self.model.labels
        ready = len(self._frames) >= MIN_FRAMES
        if not ready:
            self._proba = None
            proba = np.array([1.0 if lab == OTHER else 0.0 for lab in labels])
        elif self._proba is not None and t - self._proba_t_s < self.interval_s:
            proba = self._proba
        else:
            feats = np.stack([fr[1] for fr in self._frames])
            groups = np.stack([fr[2] for fr in self._frames])
            scale = np.array([fr[3] for fr in self._frames])
            proba = self.model.predict_proba(window_features(feats, groups, scale))[0]
            self._proba, self._proba_t_s = proba, t
        top = labels[int(np.argmax(proba))]
        if top != self._top:
            self._top, self._top_since_s = top, t
        probs = {lab.value: float(p) for lab, p in zip(labels, proba, strict=True)}
        return Recognition(t, top, probs, t - self._top_since_s >= self.stable_s, ready)


def clip_windows(t_s: FloatArray, points: FloatArray, window_s: float = WINDOW_S,
                 hop_s: float = HOP_S) -> FloatArray:
    """Window feature vectors (N, F) over a whole recording: (T,) times, (T, 33, 2) points.

    A clip shorter than one window gives one window over all of it, so even a 1-s clip
    gets a verdict.
    """
    feats, groups, scale = frame_features(points)
    ok = np.isfinite(scale)
    t, feats, groups, scale = np.asarray(t_s, float)[ok], feats[ok], groups[ok], scale[ok]
    if len(t) < MIN_FRAMES:
        return np.zeros((0, len(FEATURE_NAMES)))
    starts = np.arange(t[0], max(t[-1] - window_s, t[0]) + 1e-9, hop_s)
    out = []
    for t0 in starts:
        sel = (t >= t0) & (t < t0 + window_s)
        if sel.sum() >= MIN_FRAMES:
            out.append(window_features(feats[sel], groups[sel], scale[sel]))
    return np.array(out).reshape(len(out), len(FEATURE_NAMES))


STATIC_LABELS = frozenset({Exercise.PLANK, OTHER})
MOVEMENT_SHARE = 0.3


def classify_windows(model: RecognizerModel, windows: FloatArray) -> tuple[Exercise, dict[str, float]]:
    """Clip verdict from its windows: the mean window probability and its top label, except
    that a movement exercise that tops at least MOVEMENT_SHARE of the windows beats a
    static verdict (plank, other). Why: a set of push-ups holds the top plank between
    reps, and a set of squats starts and ends standing; a plank clip has no push-up reps.
    """
    if len(windows) == 0:
        probs = {lab.value: float(lab == OTHER) for lab in model.labels}
        return OTHER, probs
    proba = model.predict_proba(windows)
    mean = proba.mean(axis=0)
    probs = {lab.value: float(p) for lab, p in zip(model.labels, mean, strict=True)}
    label = model.labels[int(np.argmax(mean))]
    if label in STATIC_LABELS:
        tops = np.bincount(np.argmax(proba, axis=1), minlength=len(model.labels)) / len(proba)
        moving = [(tops[i], lab) for i, lab in enumerate(model.labels) if lab not in STATIC_LABELS]
        share, best = max(moving)
        if share >= MOVEMENT_SHARE:
            label = best
    return label, probs


def classify_clip(samples: Iterable[PoseSample], model: RecognizerModel) -> tuple[Exercise, dict[str, float]]:
    """Offline: the exercise of a whole clip (mean of its window probabilities)."""
    seq: Sequence[PoseSample] = list(samples)
    if not seq:
        return classify_windows(model, np.zeros((0, len(FEATURE_NAMES))))
    t = np.array([s.t_s for s in seq])
    pts = np.stack([sample_points(s) for s in seq])
    return classify_windows(model, clip_windows(t, pts, model.window_s))


def model_size(model: RecognizerModel) -> int:
    """Number of stored parameters (for the docs and the report)."""
    return int(sum(w.size + b.size for w, b in model.layers) + model.mean.size + model.std.size)


__all__ = [
    "FEATURE_NAMES",
    "LABELS",
    "OTHER",
    "ExerciseRecognizer",
    "Recognition",
    "RecognizerModel",
    "classify_clip",
    "classify_windows",
    "clip_windows",
    "frame_features",
    "model_size",
    "sample_points",
    "window_features",
]
