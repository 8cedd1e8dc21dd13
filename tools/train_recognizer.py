#!/usr/bin/env python3
"""Train and evaluate the exercise recognizer (gymcorner.coach.recognition).

Data: (a) our recorded landmarks of the labelled clips (tests/fixtures/landmarks/*.npz,
labels from ../shared/data/manifest.csv), with a few hand-marked idle stretches relabelled
`other`; (b) the exercise_correction_landmarks CSVs (squat, plank, lunge, bicep curl; a
subset of the 33 landmarks each, no frame size: the aspect is estimated, see
`estimate_aspect`); (c) the countix_fitness training poses (squat, push-up, pull-up, lunge,
bench press, front raise, sit-up, cable pushdown; `load_countix_units`). Evaluation
never puts one source in both train and test (leave one source out); classes that only
one source has are evaluated by a within-source split, reported separately.
The shipped model is then trained on everything.

    .venv/bin/python tools/train_recognizer.py            # evaluate, train, write the JSON
    .venv/bin/python tools/train_recognizer.py --no-eval  # only train and write
Deterministic: fixed seeds, full-batch training.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))
sys.path.insert(0, str(ROOT / "tools"))

from gymcorner.assets import DEFAULT_MODEL_PATH  # noqa: E402
from gymcorner.coach import recognition as rec  # noqa: E402
from gymcorner.motion.landmarks import Landmark, PoseSample  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "landmarks"
CSV_DIR = DATA / "exercise_correction_landmarks"
CSV_FPS = 30.0  # not stated by the source; MediaPipe demos run at about this rate
CSV_SOURCE = "exercise_correction_landmarks"
STAGE_GAP_S = 0.3  # the dropped transition between a squat's up and down rows, roughly
CSV_LABELS = {
    "squat_train.csv": "squat",
    "squat_test.csv": "squat",
    "plank_test.csv": "plank",
    "lunge_err.test.csv": "lunge",
    "lunge_stage.test.csv": "lunge",
    "bicep_test.csv": "bicep_curl",
}

# Idle stretches inside labelled clips (frame ranges, end exclusive), relabelled `other`.
# From the manifest notes: standing and talking before the squats; the pike rests between
# the push-up sets; the montage scene where the athlete puts on a dip belt.
OTHER_FRAMES: dict[str, list[tuple[int, int]]] = {
    "navya_squat_form/correct/squat_correct_strongher_side.mp4": [(0, 100)],
    "workouttracker_reps/push-ups/videoplayback.mp4": [
        (650, 730),
        (900, 1000),
        (1130, 1215),
        (1315, 1415),
        (1525, 1600),
    ],
    "workouttracker_reps/dips/videoplayback.mp4": [(50, 85)],
}
# Stretches left out of training and of the unit evaluation (kept in the whole-clip
# verdict): a push-up clip's long static top-plank holds look exactly like a straight-arm
# plank, so teaching them as `push_up` would teach that a held plank is a push-up.
AMBIGUOUS_FRAMES: dict[str, list[tuple[int, int]]] = {
    "pushfit_pushup_form/wrong/wrong26.mp4": [(0, 176), (248, 397)],
}
# The landmark subsets of the CSVs; fixture windows are also trained with these masks.
_BASE = ["NOSE", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_HIP", "RIGHT_HIP"]
_LEGS = ["LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE"]
_ARMS = ["LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST"]
_FEET = ["LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"]
MASKS = [_BASE + _LEGS, _BASE + _LEGS + _FEET, _BASE + _ARMS, _BASE + _ARMS + _LEGS + _FEET]


@dataclass
class Unit:
    """One evaluation unit: a clip, an idle stretch of a clip, or a CSV segment."""

    name: str
    clip: str  # the recording it comes from (several units may share one)
    source: str
    label: str
    t_s: np.ndarray
    points: np.ndarray  # (T, 33, 2) isotropic, NaN = hidden


def estimate_aspect(image: np.ndarray) -> float:
    """Frame width/height for landmark rows that do not say it.

    A bone keeps its length while it turns in the image plane only when x is scaled by
    the true aspect, so the aspect that minimises the variance of the log bone lengths is
    an estimate. It reads high on our own recordings (true 1.78 -> 1.6-3.0, true 0.56 ->
    0.6-0.7), so it is only used to choose between portrait 9:16 and landscape 16:9.
    """
    bones = [(11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (11, 23), (12, 24)]
    best = (np.inf, 1.0)
    for aspect in np.exp(np.linspace(np.log(0.3), np.log(3.0), 61)):
        total, n = 0.0, 0
        for i, j in bones:
            d = image[:, j, :2] - image[:, i, :2]
            ok = np.isfinite(d).all(1) & (image[:, i, 3] > 0.5) & (image[:, j, 3] > 0.5)
            if ok.sum() >= 10:
                total += np.log(np.hypot(aspect * d[ok, 0], d[ok, 1]) + 1e-6).var() * ok.sum()
                n += int(ok.sum())
        if n and total / n < best[0]:
            best = (total / n, aspect)
    return 16 / 9 if best[1] >= 1.0 else 9 / 16


def to_points(image: np.ndarray, width: float, height: float) -> np.ndarray:
    pts = image[..., :2].astype(np.float64) * np.array([width, height])
    pts[~(image[..., 3] >= rec.VISIBILITY_MIN)] = np.nan
    return pts


def load_fixture_units(manifest: Path) -> tuple[list[Unit], list[Unit]]:
    """(whole clips, evaluation units): idle stretches split off as `other` units."""
    clips, units = [], []
    with manifest.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        path = FIXTURES / (row["clip"].replace("/", "__").rsplit(".", 1)[0] + ".npz")
        if not path.is_file():
            print(f"warning: no recording for {row['clip']}", file=sys.stderr)
            continue
        d = np.load(path)
        pts = to_points(d["image"], float(d["width"]), float(d["height"]))
        source = row["clip"].split("/")[0]
        t = d["t_s"].astype(float)
        clips.append(Unit(row["clip"], row["clip"], source, row["exercise"], t, pts))
        idle = np.zeros(len(t), bool)
        for a, b in AMBIGUOUS_FRAMES.get(row["clip"], []):
            idle[a:b] = True
        for k, (a, b) in enumerate(OTHER_FRAMES.get(row["clip"], [])):
            idle[a:b] = True
            units.append(Unit(f"{row['clip']}#other{k}", row["clip"], source, rec.OTHER, t[a:b], pts[a:b]))
        units.append(Unit(row["clip"], row["clip"], source, row["exercise"], t[~idle], pts[~idle]))
    return clips, units


def load_csv_units(min_rows: int = 90) -> list[Unit]:
    """CSV rows as units of at least `min_rows` consecutive rows (3 s at CSV_FPS).

    The rows jump where the author cut: between videos, and in the stage files (squat
    up/down, lunge init/mid/down) between stages, whose transition frames were dropped. In
    a stage file a cut becomes a short time gap (STAGE_GAP_S), so a window sees the
    standing-bottom-standing movement; elsewhere it becomes a gap longer than a window,
    so no window mixes two videos.
    """
    units = []
    for name, label in CSV_LABELS.items():
        with (CSV_DIR / name).open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        image = np.full((len(body), 33, 4), np.nan)
        values = np.array([[float(v) for v in r[1:]] for r in body])
        for k, col in enumerate(header[1:]):
            lm, coord = col.rsplit("_", 1)
            image[:, Landmark[lm.upper()], "xyzv".index(coord)] = values[:, k]
        aspect = estimate_aspect(image)
        stages = name.startswith("squat") or "stage" in name
        step = np.nanmean(np.abs(np.diff(image[:, :, :2], axis=0)), axis=(1, 2))
        labels = [r[0] for r in body]
        cut = (step > 0.05) | (np.array(labels[1:]) != np.array(labels[:-1]))
        gap_s = STAGE_GAP_S if stages else 2 * rec.WINDOW_S
        t = (np.arange(len(body)) + np.concatenate([[0], np.cumsum(cut)]) * gap_s * CSV_FPS) / CSV_FPS
        bounds = np.concatenate([[0], np.nonzero(cut)[0] + 1, [len(body)]])
        start = 0
        for b in bounds[1:]:
            if b - start >= min_rows or b == len(body):
                if b - start >= min_rows // 3:
                    pts = to_points(image[start:b], aspect, 1.0)
                    units.append(Unit(f"{name}#{start}", name, CSV_SOURCE, label, t[start:b] - t[start], pts))
                start = b
    return units


COUNTIX_DIR = DATA / "countix_fitness"
COUNTIX_SOURCE = "countix_fitness"
COUNTIX_FPS = 30.0  # Countix clips are 24-30 fps; the keys are frame numbers
COUNTIX_LABELS = {
    "bench_pressing": "bench_press",
    "front_raise": "front_raise",
    "lunge": "lunge",
    "pull_ups": "pull_up",
    "push_up": "push_up",
    "rope_pushdown": "cable_pushdown",
    "sit_up": "sit_up",
    "squat": "squat",
}
COUNTIX_MARGIN = 15  # frames kept before the first and after the last repetition


def load_countix_units(seed: int = 0) -> list[Unit]:
    """The countix_fitness training videos as pose streams in pixels.

    Only two poses of each training video are published (the two ends of its
    repetitions, several frames each, real BlazePose landmarks in pixels) with the frame
    numbers of every repetition; `countix_train_streams.pixel_stream` moves the body
    between them through its own repetitions (jitter and sway added). All 33 landmarks
    count as visible (the data has no visibility). The test videos are never used.
    """
    from countix_train_streams import pixel_stream, training_videos

    rng = np.random.default_rng(seed)
    units = []
    for kind, name, keys, ends in training_videos(COUNTIX_DIR):
        label = COUNTIX_LABELS.get(kind)
        if label is None:
            continue
        stream = pixel_stream(keys, ends, rng)[..., :2]
        a = max(0, min(keys) - COUNTIX_MARGIN)
        b = min(len(stream), max(keys) + COUNTIX_MARGIN)
        t = np.arange(b - a) / COUNTIX_FPS
        units.append(Unit(f"countix/{name}", f"countix/{name}", COUNTIX_SOURCE, label, t, stream[a:b].astype(float)))
    return units


def masked(points: np.ndarray, keep: list[str]) -> np.ndarray:
    out = np.full_like(points, np.nan)
    idx = [Landmark[n] for n in keep]
    out[:, idx] = points[:, idx]
    return out


_CACHE: dict[tuple[str, int, bool], list[np.ndarray]] = {}


def unit_windows(unit: Unit, augment: bool) -> list[np.ndarray]:
    """Window features of a unit; with augment, also under each CSV landmark mask (fixtures).
    Cached: every fold of the evaluation reuses them."""
    key = (unit.name, len(unit.t_s), augment)
    if key not in _CACHE:
        variants = [unit.points]
        if augment and unit.source != CSV_SOURCE:
            variants += [masked(unit.points, m) for m in MASKS]
        _CACHE[key] = [rec.clip_windows(unit.t_s, v) for v in variants]
    return _CACHE[key]


# Optional (--still-deg): a window in which no joint angle changes by that many degrees is
# a person holding still, which is what `other` and `plank` look like, so such windows of
# movement classes can be left out of training (lunge keeps them: the split stance is the
# lunge, and most of its CSV rows are held stages). Off: with 10 deg, 30/41 clips held out
# by source against 31/41 without.
STILL_DEG = 0.0
SETTINGS = {"still_deg": STILL_DEG, "l2": 3e-3}  # set from the command line
KEEP_STILL = {"plank", "other", "lunge"}
_RANGES = [rec.FEATURE_NAMES.index(f"{a}_angle_range") for a in ("elbow", "shoulder", "hip", "knee")]


def moving(win: np.ndarray) -> np.ndarray:
    r = np.nan_to_num(win[:, _RANGES], nan=0.0)
    return r.max(axis=1) >= SETTINGS["still_deg"]


def build(units: list[Unit], augment: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack windows; weight so each class, and each source within a class, counts alike,
    and a long clip counts as about sqrt(its length) short ones."""
    xs, ys, ws, keys = [], [], [], []
    for u in units:
        for win in unit_windows(u, augment):
            if u.label not in KEEP_STILL:
                win = win[moving(win)]
            if len(win):
                xs.append(win)
                ys += [rec.LABELS.index(u.label)] * len(win)
                ws += [1.0 / np.sqrt(len(win))] * len(win)
                keys += [(u.label, u.source)] * len(win)
    w = np.array(ws)
    for key in set(keys):
        sel = np.array([k == key for k in keys])
        n_sources = len({s for lab, s in set(keys) if lab == key[0]})
        w[sel] /= w[sel].sum() * n_sources
    return np.concatenate(xs), np.array(ys), w / w.mean()


def fit_model(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    hidden: int = 0,
    l2: float = 3e-3,
    iters: int = 800,
    lr: float = 0.03,
    seed: int = 0,
) -> rec.RecognizerModel:
    """Weighted softmax regression (or one relu layer + softmax) by full-batch Adam.

    Full batch and a seeded initialisation make a run reproducible bit for bit on one
    machine. NaN features become 0 after standardisation, as in `predict_proba`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (masked landmarks)
        mean = np.nan_to_num(np.nanmean(x, axis=0))
        std = np.nan_to_num(np.nanstd(x, axis=0))
    std[std < 1e-9] = 1.0
    z = np.nan_to_num((x - mean) / std)
    n_cls = len(rec.LABELS)
    onehot = np.eye(n_cls)[y]
    rng = np.random.default_rng(seed)
    sizes = [z.shape[1]] + ([hidden] if hidden else []) + [n_cls]
    params = []
    for a, b in itertools.pairwise(sizes):
        params += [rng.normal(0, np.sqrt(2.0 / a), (a, b)) * (0.1 if b == n_cls else 1.0), np.zeros(b)]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    wn = w / w.sum()
    for it in range(1, iters + 1):
        acts = [z]
        for k in range(0, len(params) - 2, 2):
            acts.append(np.maximum(acts[-1] @ params[k] + params[k + 1], 0.0))
        logits = acts[-1] @ params[-2] + params[-1]
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        delta = (prob - onehot) * wn[:, None]
        grads = [None] * len(params)
        for k in range(len(params) - 2, -1, -2):
            grads[k] = acts[k // 2].T @ delta + 2 * l2 * params[k]
            grads[k + 1] = delta.sum(axis=0)
            if k:
                delta = (delta @ params[k].T) * (acts[k // 2] > 0)
        for k, g in enumerate(grads):
            m1[k] = 0.9 * m1[k] + 0.1 * g
            m2[k] = 0.999 * m2[k] + 0.001 * g * g
            params[k] -= lr * (m1[k] / (1 - 0.9**it)) / (np.sqrt(m2[k] / (1 - 0.999**it)) + 1e-8)
    layers = tuple((params[k], params[k + 1]) for k in range(0, len(params), 2))
    return rec.RecognizerModel(rec.LABELS, rec.FEATURE_NAMES, mean, std, layers, rec.WINDOW_S)


def predict_units(model: rec.RecognizerModel, units: list[Unit]) -> list[str]:
    return [rec.classify_windows(model, unit_windows(u, False)[0])[0] for u in units]


def confusion(true: list[str], pred: list[str]) -> str:
    labs = [lab for lab in rec.LABELS if lab in true or lab in pred]
    short = {lab: lab[:6] for lab in labs}
    lines = ["true \\ pred".ljust(14) + " ".join(short[p].rjust(6) for p in labs)]
    for t in labs:
        row = [sum(1 for a, b in zip(true, pred, strict=False) if a == t and b == p) for p in labs]
        if sum(row):
            lines.append(t.ljust(14) + " ".join(str(v).rjust(6) for v in row))
    return "\n".join(lines)


def accuracy(true: list[str], pred: list[str]) -> str:
    n = len(true)
    k = sum(a == b for a, b in zip(true, pred, strict=False))
    return f"{k}/{n} = {k / n:.3f}" if n else "n/a"


# The same footage published by two sources (the manifest's notes say so): held out together,
# or a source held out would still be trained on under its twin's name.
TWINS: tuple[frozenset[str], ...] = (
    frozenset({
        "workouttracker_reps/squats/squat_11.mp4",
        "kaiakol_exercises/squat/correct/squat_correct_001.avi",
        "kaiakol_exercises/squat/correct/squat_correct_003.mp4",
    }),
    frozenset({"workouttracker_reps/squats/squat_29.mp4", "kaiakol_exercises/squat/correct/squat_correct_008.avi"}),
)  # fmt: skip


def twins_of(clip_names: set[str]) -> set[str]:
    """The clips that share footage with any of `clip_names` (themselves included)."""
    return clip_names | {c for group in TWINS if group & clip_names for c in group}


def live_verdicts(model: rec.RecognizerModel, unit: Unit, gates: tuple[float, ...]) -> list[str]:
    """What the live coach would switch to on this clip, per confidence gate: the first
    stable label of `ExerciseRecognizer` fed frame by frame (OTHER does not switch), or
    "unknown" when none becomes stable."""
    out = []
    for gate in gates:
        recognizer = rec.ExerciseRecognizer(model, min_probability=gate)
        verdict = "unknown"
        for t, pts in zip(unit.t_s, unit.points, strict=True):
            image = np.zeros((33, 4), np.float32)
            seen = np.isfinite(pts).all(axis=1)
            image[seen, :2], image[seen, 3] = pts[seen], 1.0
            r = recognizer.update(PoseSample(t_s=float(t), image=image, width=1, height=1))
            if r.stable and r.label != rec.OTHER:
                verdict = str(r.label)
                break
        out.append(verdict)
    return out


LIVE_GATES = (0.0, rec.MIN_PROBABILITY)


def leave_one_source_out(clips: list[Unit], units: list[Unit], hidden: int) -> dict:
    sources = sorted({u.source for u in units})
    class_sources = {lab: {u.source for u in units if u.label == lab} for lab in rec.LABELS}
    res = {"clip_true": [], "clip_pred": [], "unit_true": [], "unit_pred": [], "unit_testable": []}
    for s in sources:
        held_out = twins_of({u.clip for u in units if u.source == s})
        train = [u for u in units if u.source != s and u.clip not in held_out]
        model = fit_model(*build(train, augment=True), hidden=hidden, l2=SETTINGS["l2"])
        held_clips = [c for c in clips if c.source == s]
        held_units = [u for u in units if u.source == s]
        res["clip_true"] += [c.label for c in held_clips]
        res["clip_pred"] += predict_units(model, held_clips)
        res["live"] = res.get("live", []) + [live_verdicts(model, c, LIVE_GATES) for c in held_clips]
        res["clip_names"] = res.get("clip_names", []) + [c.name for c in held_clips]
        res["clip_testable"] = res.get("clip_testable", []) + [bool(class_sources[c.label] - {s}) for c in held_clips]
        res["unit_true"] += [u.label for u in held_units]
        res["unit_pred"] += predict_units(model, held_units)
        res["unit_testable"] += [bool(class_sources[u.label] - {s}) for u in held_units]
        print(f"  held out {s}: {len(held_units)} units", file=sys.stderr)
    return res


def within_source(units: list[Unit], single: list[str], hidden: int, folds: int = 4) -> tuple[list, list]:
    """Group k-fold over units of the single-source classes (the rest always trains).
    A class with one clip is cut into two halves in time, so it has two units."""
    pool = []
    for lab in single:
        mine = [u for u in units if u.label == lab]
        if len(mine) == 1:
            u, half = mine[0], len(mine[0].t_s) // 2
            mine = [
                Unit(u.name + "#a", u.clip, u.source, lab, u.t_s[:half], u.points[:half]),
                Unit(u.name + "#b", u.clip, u.source, lab, u.t_s[half:], u.points[half:]),
            ]
        pool += [(i % folds, u) for i, u in enumerate(mine)]
    rest = [u for u in units if u.label not in single]
    true, pred = [], []
    for f in range(folds):
        test = [u for k, u in pool if k == f]
        if not test:
            continue
        model = fit_model(*build(rest + [u for k, u in pool if k != f], augment=True), hidden=hidden, l2=SETTINGS["l2"])
        true += [u.label for u in test]
        pred += predict_units(model, test)
    return true, pred


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", type=Path, default=DATA / "manifest.csv")
    ap.add_argument("--out", type=Path, default=Path(str(DEFAULT_MODEL_PATH)), help="model JSON to write")
    ap.add_argument("--hidden", type=int, default=0, help="hidden units (0: multinomial logistic regression)")
    ap.add_argument(
        "--still-deg",
        type=float,
        default=STILL_DEG,
        help="drop movement-class training windows whose joint angles change less (0: keep all)",
    )
    ap.add_argument("--l2", type=float, default=3e-3, help="weight decay")
    ap.add_argument("--no-eval", action="store_true", help="skip the source-held-out evaluation")
    ap.add_argument("--no-countix", action="store_true", help="leave the countix_fitness training poses out")
    ap.add_argument("--json", type=Path, help="also write the evaluation numbers here")
    args = ap.parse_args(argv)
    SETTINGS["still_deg"] = args.still_deg
    SETTINGS["l2"] = args.l2

    clips, units = load_fixture_units(args.manifest)
    units += load_csv_units()
    if not args.no_countix:
        units += load_countix_units()
    counts = {lab: sum(u.label == lab for u in units) for lab in rec.LABELS}
    print("units per class:", ", ".join(f"{k} {v}" for k, v in counts.items()))
    report: dict = {}
    if not args.no_eval:
        res = leave_one_source_out(clips, units, args.hidden)
        print("\n== Leave one source out: the 41 recorded clips, whole-clip verdict ==")
        print("accuracy, all 41 clips", accuracy(res["clip_true"], res["clip_pred"]))
        ok = res["clip_testable"]
        print(
            "accuracy, clips whose class another source also has",
            accuracy(
                [a for a, k in zip(res["clip_true"], ok, strict=False) if k],
                [b for b, k in zip(res["clip_pred"], ok, strict=False) if k],
            ),
        )
        print(confusion(res["clip_true"], res["clip_pred"]))
        for name, a, b in zip(res["clip_names"], res["clip_true"], res["clip_pred"], strict=False):
            if a != b:
                print(f"  wrong: {name}: {a} -> {b}")
        print("\n== Leave one source out: what the live coach switches to (first stable label) ==")
        for k, gate in enumerate(LIVE_GATES):
            verdicts = [v[k] for v in res["live"]]
            right = sum(v == t for v, t in zip(verdicts, res["clip_true"], strict=True))
            unknown = sum(v == "unknown" for v in verdicts)
            wrong = len(verdicts) - right - unknown
            print(f"  min_probability {gate:.2f}: right {right}, wrong {wrong}, unknown {unknown}")
        for name, truth, v in zip(res["clip_names"], res["clip_true"], res["live"], strict=True):
            if any(x != truth for x in v):
                print(f"  {name}: {truth} -> " + " / ".join(v))
        t = [a for a, ok in zip(res["unit_true"], res["unit_testable"], strict=False) if ok]
        p = [b for b, ok in zip(res["unit_pred"], res["unit_testable"], strict=False) if ok]
        print("\n== Leave one source out: all units whose class another source also has ==")
        print("(clips without their idle stretches, idle stretches as `other`, CSV segments)")
        print("accuracy", accuracy(t, p))
        print(confusion(t, p))
        single = [lab for lab in rec.LABELS if counts[lab] and len({u.source for u in units if u.label == lab}) == 1]
        print("\nclasses with one source (not testable across sources):", ", ".join(single))
        wt, wp = within_source(units, single, args.hidden)
        print("\n== WITHIN-SOURCE split (group 4-fold by clip/segment) for those classes ==")
        print("accuracy", accuracy(wt, wp))
        print(confusion(wt, wp))
        report = {
            "loso_clips": {"true": res["clip_true"], "pred": res["clip_pred"]},
            "loso_units": {"true": t, "pred": p},
            "within_source": {"true": wt, "pred": wp},
            "single_source_classes": single,
        }
    x, y, w = build(units, augment=True)
    model = fit_model(x, y, w, hidden=args.hidden, l2=args.l2)
    meta = {
        "trained_on": {
            "windows": len(y),
            "units_per_class": counts,
            "clips": sorted({c.clip for c in clips}),  # so `gymcorner eval` can say what is in-sample
            "csv_units": sum(1 for u in units if u.source == CSV_SOURCE),
        },
        "hidden": args.hidden,
        "tool": "tools/train_recognizer.py",
    }
    model = rec.RecognizerModel(
        model.labels, model.feature_names, model.mean, model.std, model.layers, model.window_s, meta
    )
    pred = predict_units(model, clips)
    print("\nshipped model on its own training clips (not an evaluation):", accuracy([c.label for c in clips], pred))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({rec.model_size(model)} parameters, {args.out.stat().st_size} bytes)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
