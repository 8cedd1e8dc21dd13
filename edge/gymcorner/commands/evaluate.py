"""`gymcorner eval MANIFEST.csv`: accuracy of recognition, rep counting and form faults.

For every clip of a manifest (the format of ../shared/data/manifest.csv) it runs the
pipeline (decode + pose, or a recorded landmark file with `--landmarks DIR`), recognises
the exercise over the whole clip, counts reps with both counters (live state machine and
offline peaks), and collects the form faults the coach raised. Clips whose rep labels are
low-confidence are scored separately, never dropped silently.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from gymcorner.coach.analysers import rule_names
from gymcorner.coach.any_reps import AnyRepCounter
from gymcorner.coach.exercises import SELECTABLE, Exercise
from gymcorner.coach.reps import PHASES, count_reps_offline
from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config
from gymcorner.errors import ConfigError
from gymcorner.motion.filters import make_smoother
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import Recording, load_recording

# Manifest fault vocabulary -> the rule name (an event's reason, else its code) raised for it.
FAULT_CODES: dict[str, str] = {
    "forward_lean": "forward_lean",
    "knees_over_toes": "knees_over_toes",
    "hips_sag": "hips_sag",
    "hips_pike": "hips_pike",
    "head_drop": "head_drop",
    "too_deep": "too_deep",
}
COUNTED: tuple[Exercise, ...] = tuple(PHASES)  # the exercises the live counter has a phase for
REQUIRED_COLUMNS = {"clip", "exercise", "reps", "rep_confidence", "visible_faults"}


@dataclass
class ClipResult:
    clip: str
    exercise: Exercise
    exercise_pred: Exercise
    reps: int
    reps_pred: int  # live counter (the default)
    reps_pred_offline: int
    rep_confidence: str
    partial: bool
    faults: list[str]
    faults_pred: list[str]
    frames: int
    processing_fps: float
    reps_pred_any: int = 0  # label-free live counter (coach/any_reps.py): needs no exercise
    in_training_set: bool = False  # the shipped recogniser was trained on this clip: its verdict is in-sample

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as err:
        raise ConfigError(f"manifest not found: {p}") from err
    missing = REQUIRED_COLUMNS - set(rows[0].keys() if rows else ())
    if missing:
        raise ConfigError(f"{p}: not a clip manifest (missing columns: {', '.join(sorted(missing))})")
    for line, row in enumerate(rows, start=2):
        if row["exercise"] not in SELECTABLE:
            known = ", ".join(e.value for e in SELECTABLE)
            raise ConfigError(f"{p}:{line}: exercise {row['exercise']!r} is not one of {known}")
    return rows


def _fixture_name(clip: str) -> str:
    return clip.replace("/", "__").rsplit(".", 1)[0] + ".npz"


def _samples(row: dict[str, str], root: Path, landmarks: Path | None, config: Config) -> tuple[Recording, float]:
    """Landmarks of one clip: from a recording when given, else decode + pose (timed)."""
    if landmarks is not None and (landmarks / _fixture_name(row["clip"])).exists():
        return load_recording(landmarks / _fixture_name(row["clip"])), 0.0
    from gymcorner.commands.offline import record_clip

    started = time.perf_counter()
    rec = record_clip(config, str(root / row["clip"]), None, quiet=True)
    return rec, time.perf_counter() - started


def evaluate_clip(row: dict[str, str], root: Path, landmarks: Path | None, config: Config) -> ClipResult:
    from gymcorner.assets import load_recognizer_model
    from gymcorner.coach.recognition import classify_clip

    rec, pose_s = _samples(row, root, landmarks, config)
    started = time.perf_counter()
    smoother = make_smoother(config.smoothing)
    smoothed: list[PoseSample] = [smoother.smooth(s) for s in rec.samples()]
    model = load_recognizer_model()
    predicted, _ = classify_clip(smoothed, model)
    trained_on = set(model.meta.get("trained_on", {}).get("clips", []))
    run_config = config.model_copy(deep=True)
    run_config.coach.exercise = predicted if predicted in SELECTABLE else Exercise.SQUAT
    report = analyze_samples(rec.samples(), run_config, row["clip"])
    live = report.reps if predicted in COUNTED else 0
    offline = len(count_reps_offline(smoothed, rec.fps, config.coach.reps)) if predicted in COUNTED else 0
    any_counter = AnyRepCounter()
    for sample in smoothed:
        any_counter.update(sample)
    elapsed = pose_s + time.perf_counter() - started
    faults_pred = sorted({e.details.get("reason", e.code) for e in report.events if e.kind == "form"})
    labelled = [f for f in row.get("visible_faults", "").split(";") if f]
    return ClipResult(
        clip=row["clip"],
        exercise=Exercise(row["exercise"]),
        exercise_pred=predicted,
        reps=int(row["reps"]),
        reps_pred=live,
        reps_pred_offline=offline,
        reps_pred_any=any_counter.count,
        rep_confidence=row["rep_confidence"],
        partial="partial_" in row.get("notes", ""),
        faults=labelled,
        faults_pred=faults_pred,
        frames=len(rec),
        processing_fps=round(len(rec) / elapsed, 1) if elapsed > 0 else 0.0,
        in_training_set=row["clip"] in trained_on,
    )


def _rep_scores(pairs: list[tuple[int, int]]) -> dict[str, float | int | None]:
    if not pairs:
        return {"clips": 0, "mae": None, "exact_rate": None, "off_by_one_rate": None}
    err = np.array([abs(p - t) for t, p in pairs])
    return {
        "clips": len(pairs),
        "mae": round(float(err.mean()), 3),
        "exact_rate": round(float((err == 0).mean()), 3),
        "off_by_one_rate": round(float((err <= 1).mean()), 3),
    }


def _accuracy(results: list[ClipResult]) -> float | None:
    return round(float(np.mean([r.exercise == r.exercise_pred for r in results])), 4) if results else None


def summarise(results: list[ClipResult]) -> dict[str, Any]:
    confident = [r for r in results if r.rep_confidence != "low"]
    labels = sorted({r.exercise for r in results} | {r.exercise_pred for r in results})
    confusion = {t: {p: 0 for p in labels} for t in labels}
    for r in results:
        confusion[r.exercise][r.exercise_pred] += 1
    counted = [r for r in confident if r.exercise in COUNTED]
    summary: dict[str, Any] = {
        "clips": len(results),
        "exercise_accuracy": round(float(np.mean([r.exercise == r.exercise_pred for r in results])), 4),
        "clips_in_training_set": sum(r.in_training_set for r in results),
        "exercise_accuracy_held_out": _accuracy([r for r in results if not r.in_training_set]),
        "confusion": confusion,
    }
    for name, attr in (("live", "reps_pred"), ("offline", "reps_pred_offline"), ("any", "reps_pred_any")):
        overall = _rep_scores([(r.reps, getattr(r, attr)) for r in counted])
        complete = _rep_scores([(r.reps, getattr(r, attr)) for r in counted if r.reps > 0])
        per_ex: dict[str, Any] = defaultdict(dict)
        for ex in sorted({r.exercise for r in counted}):
            per_ex[ex] = _rep_scores([(r.reps, getattr(r, attr)) for r in counted if r.exercise == ex])
        summary[f"reps_{name}"] = {"all": overall, "complete_reps": complete, "per_exercise": dict(per_ex)}
    zero = [r for r in confident if r.reps == 0]
    summary.update(
        rep_mae=summary["reps_live"]["all"]["mae"],
        rep_exact_rate=summary["reps_live"]["all"]["exact_rate"],
        rep_off_by_one_rate=summary["reps_live"]["all"]["off_by_one_rate"],
        rep_exact_rate_complete=summary["reps_live"]["complete_reps"]["exact_rate"],
        phantom_reps=int(sum(r.reps_pred for r in zero)),
        phantom_reps_excluding_partial=int(sum(r.reps_pred for r in zero if not r.partial)),
        phantom_reps_any=int(sum(r.reps_pred_any for r in zero)),
        phantom_reps_any_excluding_partial=int(sum(r.reps_pred_any for r in zero if not r.partial)),
        zero_rep_clips=len(zero),
        faults=_fault_scores(results),
        processing_fps=round(float(np.median([r.processing_fps for r in results])), 1) if results else 0.0,
        low_confidence=_rep_scores([(r.reps, r.reps_pred) for r in results if r.rep_confidence == "low"]),
    )
    return summary


def label_state(faults: list[str]) -> str:
    """'clean' (no visible fault labelled), 'faulty' (every label one we judge) or
    'unjudged' (a label such as 'unclear' or 'other:...' that no rule answers)."""
    if not faults:
        return "clean"
    return "faulty" if all(f in FAULT_CODES for f in faults) else "unjudged"


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def _fault_scores(results: list[ClipResult]) -> dict[str, Any]:
    """Per exercise and rule: sensitivity over the clips labelled with its fault, and
    specificity over the clips labelled clean, counting every rule name raised there
    (not only those with a positive label somewhere). A fault raised on a faulty clip
    that is not among its labels is a confusion. Clips with an unjudgeable label
    ('unclear', 'other:...') are left out of both and listed."""
    names: dict[str, set[str]] = defaultdict(set)
    for r in results:
        names[r.exercise] |= set(rule_names(r.exercise)) | set(r.faults_pred)
        names[r.exercise] |= {FAULT_CODES[f] for f in r.faults if f in FAULT_CODES}
    rules: dict[str, Any] = {}
    for exercise in sorted(names):
        clips = [r for r in results if r.exercise == exercise]
        clean = [r for r in clips if label_state(r.faults) == "clean"]
        for name in sorted(names[exercise]):
            positives = [r for r in clips if name in {FAULT_CODES.get(f) for f in r.faults}]
            tp = sum(name in r.faults_pred for r in positives)
            fp = [r.clip for r in clean if name in r.faults_pred]
            rules[f"{exercise}/{name}"] = {
                "exercise": str(exercise),
                "rule": name,
                "positives": len(positives),
                "caught": tp,
                "sensitivity": _rate(tp, len(positives)),
                "negatives": len(clean),
                "false_positives": len(fp),
                "specificity": _rate(len(clean) - len(fp), len(clean)),
                "false_positive_clips": fp,
            }
    confusions = []
    for r in results:
        other = sorted(set(r.faults_pred) - {FAULT_CODES.get(f) for f in r.faults})
        if label_state(r.faults) == "faulty" and other:
            confusions.append({"clip": r.clip, "labelled": r.faults, "raised": other})
    clean_all = [r for r in results if label_state(r.faults) == "clean"]
    return {
        "rules": rules,
        "labels": {
            label: {
                "positives": sum(label in r.faults for r in results),
                "caught": sum(label in r.faults and code in r.faults_pred for r in results),
            }
            for label, code in FAULT_CODES.items()
        },
        "clean_clips": len(clean_all),
        "clean_clips_with_faults": {r.clip: r.faults_pred for r in clean_all if r.faults_pred},
        "confusions": confusions,
        "unjudged_clips": [r.clip for r in results if label_state(r.faults) == "unjudged"],
    }


def run_eval(
    manifest: str | Path, config: Config, landmarks: str | Path | None = None, quiet: bool = False
) -> dict[str, Any]:
    rows = read_manifest(manifest)
    root = Path(manifest).parent
    lm = Path(landmarks) if landmarks else None
    results = [
        evaluate_clip(row, root, lm, config)
        for row in tqdm(rows, desc="eval", unit="clip", disable=quiet, leave=False, dynamic_ncols=True)
    ]
    return {"summary": summarise(results), "clips": [r.to_json() for r in results]}


def _rep_row(r: dict[str, Any]) -> str:
    return f"{r['clips']:>5}  {r['mae']:>5.2f}   {r['exact_rate']:>5.2f}   {r['off_by_one_rate']:>5.2f}"


def format_eval(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [
        f"clips: {s['clips']}   exercise accuracy: {s['exercise_accuracy']:.3f}   processing: {s['processing_fps']} fps"
    ]
    trained = s.get("clips_in_training_set", 0)
    if trained:
        held_out = s.get("exercise_accuracy_held_out")
        rest = f"; on the other {s['clips'] - trained}: {held_out:.3f}" if held_out is not None else ""
        lines.append(
            f"  in-sample: the shipped recogniser was trained on {trained} of these {s['clips']} clips{rest}. "
            "Accuracy on people it has never seen: docs/recognition.md (leave one source out)."
        )
    labels = list(s["confusion"])
    width = max(len(x) for x in labels) + 1
    lines.append("confusion (rows: labelled, columns: predicted)")
    lines.append(" " * width + " ".join(f"{x[:6]:>6}" for x in labels))
    for t in labels:
        lines.append(f"{t:<{width}}" + " ".join(f"{s['confusion'][t][p]:>6}" for p in labels))
    lines.append("reps (confident labels)   counter   clips   MAE   exact   off-by-one")
    for name in ("live", "offline", "any"):
        for scope in ("all", "complete_reps"):
            r = s[f"reps_{name}"][scope]
            if r["clips"]:
                lines.append(f"  {scope:<22}  {name:<8} {_rep_row(r)}")
        for ex, r in s[f"reps_{name}"]["per_exercise"].items():
            lines.append(f"    {ex:<20}  {name:<8} {_rep_row(r)}")
    lines.append(
        f"phantom reps on {s['zero_rep_clips']} zero-rep clips: {s['phantom_reps']} "
        f"({s['phantom_reps_excluding_partial']} excluding clips that start or end mid-rep); "
        f"label-free counter: {s['phantom_reps_any']} ({s['phantom_reps_any_excluding_partial']})"
    )
    low = s["low_confidence"]
    if low["clips"]:
        lines.append(f"low-confidence rep labels (scored apart): {low['clips']} clips, MAE {low['mae']:.2f}")
    lines.extend(format_faults(s["faults"]))
    lines.append("per clip: exercise -> predicted, reps -> live / offline / label-free, faults predicted")
    for c in result["clips"]:
        mark = "" if c["exercise"] == c["exercise_pred"] else "  <- exercise"
        lines.append(
            f"  {c['clip'][:58]:<58} {c['exercise']:>13} -> {c['exercise_pred']:<13} "
            f"{c['reps']:>2} -> {c['reps_pred']:>2} / {c['reps_pred_offline']:>2} / {c['reps_pred_any']:>2}  "
            f"{','.join(c['faults_pred']) or '-'}{mark}"
        )
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return " n/a" if x is None else f"{x:.2f}"


def format_faults(f: dict[str, Any]) -> list[str]:
    lines = ["faults per rule (sensitivity: labelled clips caught; specificity: clean clips without it)"]
    for key, r in f["rules"].items():
        lines.append(
            f"  {key:<28} sensitivity {_pct(r['sensitivity'])} ({r['caught']}/{r['positives']})  "
            f"specificity {_pct(r['specificity'])} ({r['negatives'] - r['false_positives']}/{r['negatives']})"
        )
    with_faults = f["clean_clips_with_faults"]
    lines.append(f"clean clips with any fault raised: {len(with_faults)} of {f['clean_clips']}")
    lines.extend(f"  {clip}: {', '.join(codes)}" for clip, codes in with_faults.items())
    lines.append(f"confusions (raised on a faulty clip, not its label): {len(f['confusions'])}")
    for c in f["confusions"]:
        lines.append(f"  {c['clip']}: labelled {';'.join(c['labelled'])}, raised {', '.join(c['raised'])}")
    if f["unjudged_clips"]:
        lines.append(f"left out (label not judgeable): {', '.join(f['unjudged_clips'])}")
    return lines
