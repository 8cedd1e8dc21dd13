"""`gymcorner eval` over a manifest, on our recorded landmarks (no model run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from shared_data import LANDMARKS, SHARED_DATA, manifest_rows

from gymcorner.cli import main as cli_main
from gymcorner.commands.evaluate import ClipResult, summarise
from gymcorner.errors import ConfigError


def result(
    exercise: str, pred: str, reps: int, got: int, conf: str = "high", faults=(), faults_pred=(), clip: str = ""
) -> ClipResult:
    return ClipResult(
        clip=clip or f"{exercise}-{reps}-{got}.mp4", exercise=exercise, exercise_pred=pred, reps=reps, reps_pred=got,
        reps_pred_offline=got, rep_confidence=conf, partial=False, faults=list(faults),
        faults_pred=list(faults_pred), frames=10, processing_fps=30.0,
    )  # fmt: skip


def test_summary_numbers() -> None:
    s = summarise(
        [
            result("squat", "squat", 5, 5),
            result("squat", "squat", 2, 3, faults=["forward_lean"], faults_pred=["forward_lean"]),
            result("push_up", "squat", 4, 1),
            result("plank", "plank", 0, 0),
            result("squat", "squat", 0, 1),
            result("dip", "dip", 5, 14, conf="low"),
        ]
    )
    assert s["exercise_accuracy"] == pytest.approx(5 / 6, abs=1e-3)
    assert s["confusion"]["push_up"]["squat"] == 1
    # confident counted clips: squat 5/5, 2/3, 0/1, push_up 4/1 -> errors 0, 1, 1, 3
    assert s["rep_mae"] == pytest.approx(5 / 4)
    assert s["rep_exact_rate"] == pytest.approx(1 / 4)
    assert s["rep_off_by_one_rate"] == pytest.approx(3 / 4)
    assert s["phantom_reps"] == 1  # the squat clip with 0 reps counted 1 (the plank has no counter)
    assert s["low_confidence"]["clips"] == 1 and s["low_confidence"]["mae"] == 9
    lean = s["faults"]["rules"]["squat/forward_lean"]
    # one labelled clip, caught; the two squat clips with no fault label are the negatives
    assert (lean["positives"], lean["caught"], lean["negatives"], lean["false_positives"]) == (1, 1, 2, 0)
    assert lean["sensitivity"] == 1.0 and lean["specificity"] == 1.0


def test_every_fault_on_a_clean_clip_is_a_false_positive_and_a_wrong_one_a_confusion() -> None:
    s = summarise(
        [
            result("squat", "squat", 1, 1, clip="a"),  # clean, nothing raised
            result("squat", "squat", 1, 1, faults_pred=["narrow_stance"], clip="b"),  # clean: a rule nobody labelled
            result("squat", "squat", 1, 1, faults_pred=["no_such_rule"], clip="c"),  # clean: even an unknown code
            result("squat", "squat", 1, 1, faults=["too_deep"], faults_pred=["too_deep", "forward_lean"], clip="d"),
            result("squat", "squat", 1, 1, faults=["unclear"], faults_pred=["knee_valgus"], clip="e"),  # not judged
            result("push_up", "push_up", 1, 1, faults=["head_drop"], clip="f"),  # missed
        ]
    )["faults"]
    rules = s["rules"]
    assert rules["squat/narrow_stance"]["specificity"] == pytest.approx(2 / 3, abs=1e-3)
    assert rules["squat/narrow_stance"]["sensitivity"] is None  # no clip is labelled with it
    assert rules["squat/no_such_rule"]["false_positives"] == 1
    assert rules["squat/knee_valgus"]["false_positives"] == 0  # the 'unclear' clip is neither clean nor faulty
    assert rules["squat/too_deep"]["sensitivity"] == 1.0
    assert rules["squat/forward_lean"]["false_positives"] == 0  # raised on a faulty clip: a confusion instead
    assert rules["push_up/head_drop"]["sensitivity"] == 0.0
    assert s["clean_clips"] == 3 and s["clean_clips_with_faults"] == {"b": ["narrow_stance"], "c": ["no_such_rule"]}
    assert s["confusions"] == [{"clip": "d", "labelled": ["too_deep"], "raised": ["forward_lean"]}]
    assert s["unjudged_clips"] == ["e"]
    assert s["labels"]["head_drop"] == {"positives": 1, "caught": 0}


def test_a_file_that_is_not_a_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="not a clip manifest"):
        cli_main(["eval", str(bad), "-q"])
    with pytest.raises(ConfigError, match="manifest not found"):
        cli_main(["eval", str(tmp_path / "none.csv"), "-q"])


def test_eval_on_recorded_landmarks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        r for r in manifest_rows() if (LANDMARKS / (r["clip"].replace("/", "__").rsplit(".", 1)[0] + ".npz")).exists()
    ]
    if not rows:
        pytest.skip(f"needs {SHARED_DATA / 'manifest.csv'} and the recorded landmarks")
    picked = [
        r for r in rows if "strongher" in r["clip"] or "correct111" in r["clip"] or "plank_correct_001" in r["clip"]
    ]
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    out = tmp_path / "eval.json"
    assert cli_main(["eval", str(manifest), "--landmarks", str(LANDMARKS), "--json", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    summary = doc["summary"]
    for key in ("exercise_accuracy", "rep_mae", "rep_exact_rate", "rep_off_by_one_rate", "phantom_reps", "faults"):
        assert key in summary
    clips = {Path(c["clip"]).name: c for c in doc["clips"]}
    assert {"clip", "exercise", "exercise_pred", "reps", "reps_pred", "faults_pred"} <= next(
        iter(clips.values())
    ).keys()
    assert clips["squat_correct_strongher_side.mp4"]["exercise_pred"] == "squat"
    assert clips["squat_correct_strongher_side.mp4"]["reps_pred"] == 5
    assert clips["correct111.mp4"]["reps_pred"] == 16
    assert clips["plank_correct_001.mp4"]["reps_pred"] == 0
    printed = capsys.readouterr().out
    assert "exercise accuracy" in printed
    # these clips are in the shipped recogniser's training set: eval says so, and scores no held-out figure
    assert all(c["in_training_set"] for c in doc["clips"]) and summary["clips_in_training_set"] == 3
    assert summary["exercise_accuracy_held_out"] is None
    assert "in-sample: the shipped recogniser was trained on 3 of these 3 clips" in printed


def test_held_out_accuracy_counts_only_clips_the_recogniser_never_saw() -> None:
    seen = result("squat", "squat", 1, 1)
    seen.in_training_set = True
    s = summarise([seen, result("push_up", "squat", 1, 1), result("squat", "squat", 2, 2)])
    assert s["clips_in_training_set"] == 1 and s["exercise_accuracy_held_out"] == 0.5
