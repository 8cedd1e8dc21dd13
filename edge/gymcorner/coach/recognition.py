"""Exercise recognition from a short window of landmark frames.

Why this shape: the live coach must pick the right analyser (squat, push-up, ...) without
being told, and the offline `eval` must name each clip's exercise. Both see the same thing,
a stream of `PoseSample`s, so recognition is one pure function of a window of frames
(`window_features`) and a small model stored as plain JSON (`RecognizerModel`; the file
is read at the edge, `gymcorner.assets`).

The features themselves (what is measured per frame and per window, and why) are in
`coach.features`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gymcorner.coach.exercises import SELECTABLE, Exercise
from gymcorner.coach.features import (
    FEATURE_NAMES,
    FRAME_FEATURE_NAMES,
    VISIBILITY_MIN,
    frame_features,
    sample_points,
    window_features,
)
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.landmarks import PoseSample

# The model's classes, in its output order (the model JSON stores the same strings):
# every exercise a person can do, and OTHER for "none of them".
LABELS: tuple[Exercise, ...] = (*SELECTABLE, Exercise.OTHER)
OTHER = Exercise.OTHER
MODEL_FORMAT = "gymcorner-exercise-recognizer"

WINDOW_S = 1.5  # one slow rep, or two fast ones
MIN_PROBABILITY = 0.5  # a top class less likely than all the others together is not a verdict
MIN_FRAMES = 8  # fewer tracked frames than this in a window: no opinion
HOP_S = 0.25  # offline window step


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
    """One live verdict. `stable`: `label` has been the top class for `stable_s` seconds
    with a mean probability of at least `min_probability` over that time, the coach's cue
    to switch analysers; a top class the model is unsure of never becomes stable, so the
    exercise stays unknown (and the label-free counter counts). `ready`: the window held
    enough tracked frames."""

    t_s: float
    label: Exercise
    probabilities: dict[str, float]
    stable: bool
    ready: bool


class ExerciseRecognizer:
    """Live recognition: a sliding window of the last `window_s` seconds of frames.

    The window summary and the model run at most every `interval_s` (by the samples' own
    clock), because the exercise cannot change faster than that and an edge device has
    better uses for the time. The per-frame features of the frames since the last run are
    computed then, in one vectorised batch (the same numbers as frame by frame, a third of
    the cost), or earlier when whether the window is ready depends on them.
    """

    def __init__(
        self,
        model: RecognizerModel,
        stable_s: float = 1.5,
        interval_s: float = 0.1,
        min_probability: float = MIN_PROBABILITY,
    ) -> None:
        self.model = model
        self.stable_s = float(stable_s)
        self.interval_s = float(interval_s)
        self.min_probability = float(min_probability)
        self._top_sum, self._top_n = 0.0, 0  # the top class's probabilities since it became top
        self._frames: deque[tuple[float, FloatArray, FloatArray, float]] = deque()
        self._pending: deque[tuple[float, FloatArray]] = deque()  # (t, points) not yet featurised
        self._top: Exercise | None = None
        self._top_since_s = 0.0
        self._proba: FloatArray | None = None
        self._proba_t_s = -math.inf

    def reset(self) -> None:
        self._frames.clear()
        self._pending.clear()
        self._top = None
        self._proba = None
        self._proba_t_s = -math.inf

    def update(self, sample: PoseSample) -> Recognition:
        t = float(sample.t_s)
        if self._frames and t < self._frames[-1][0]:
            self.reset()  # time went backwards: a new source or a replay restarted
        while self._frames and self._frames[0][0] <= t - self.model.window_s:
            self._frames.popleft()
        while self._pending and self._pending[0][0] <= t - self.model.window_s:
            self._pending.popleft()
        if sample.image is not None:
            self._pending.append((t, sample_points(sample)))
        due = self._proba is None or t - self._proba_t_s >= self.interval_s
        if due or len(self._frames) < MIN_FRAMES <= len(self._frames) + len(self._pending):
            self._featurise_pending()
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
            self._top_sum, self._top_n = 0.0, 0
        self._top_sum += float(proba.max())
        self._top_n += 1
        probs = {lab.value: float(p) for lab, p in zip(labels, proba, strict=True)}
        sure = self._top_sum / self._top_n >= self.min_probability
        return Recognition(t, top, probs, sure and t - self._top_since_s >= self.stable_s, ready)

    def _featurise_pending(self) -> None:
        if not self._pending:
            return
        times = [t for t, _ in self._pending]
        f, g, s = frame_features(np.stack([points for _, points in self._pending]))
        self._pending.clear()
        for i, t in enumerate(times):
            if np.isfinite(s[i]):
                self._frames.append((t, f[i], g[i], float(s[i])))


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
    "FRAME_FEATURE_NAMES",
    "LABELS",
    "OTHER",
    "VISIBILITY_MIN",
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
