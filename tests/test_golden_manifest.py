"""The golden replay files against the labels: each stored expectation's rep count and
form faults are compared with ../shared/data/manifest.csv.

The golden files lock in what the coach does today, right or wrong; this says where
that differs from what a person sees in the clip. Today's known misses are strict
xfails, so a change that fixes one fails here until its mark is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_data import FIXTURES, fixture_name, manifest_rows

from gymcorner.commands.evaluate import FAULT_CODES

EXPECTED = FIXTURES / "expected"

REP_MISSES: dict[str, str] = {
    "kaiakol_exercises__squat__correct__squat_correct_003": "starts at the bottom: the ascent alone is counted as a rep",
    "kaiakol_exercises__squat__correct__squat_correct_008": "starts mid-descent: bottom and ascent are counted as a rep",
    "workouttracker_reps__squats__squat_29": "starts mid-descent: bottom and ascent are counted as a rep",
    "workouttracker_reps__squats__squat_9": "front squat, torso behind the plate, legs cut at the shins: the rep is missed",
    "kaiakol_exercises__squat__correct__squat_correct_011": "handheld camera, two people, feet out of frame: the rep is missed",
}
FAULT_MISSES: dict[str, str] = {
    "kaiakol_exercises__squat__correct__squat_correct_011": "a narrow stance is raised on a shaky two-person clip",
    "kaiakol_exercises__squat__incorrect__squat_incorrect_002": "too_deep does not fire: the landmarks put the hip at "
    "knee height at the bottom, no deeper than clean deep squats",
}


def golden_cases() -> list[tuple[str, dict[str, str]]]:
    """(golden file stem, its manifest row) for every golden file with a labelled clip."""
    rows = {fixture_name(r["clip"]).removesuffix(".npz"): r for r in manifest_rows()}
    return [(p.stem, rows[p.stem]) for p in sorted(EXPECTED.glob("*.json")) if p.stem in rows]


CASES = golden_cases()


def params(misses: dict[str, str]) -> list:  # type: ignore[type-arg]
    out = []
    for stem, row in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=misses[stem])] if stem in misses else []
        out.append(pytest.param(stem, row, id=stem, marks=marks))
    return out


NOT_FAULTS = {"rep", "set_end", "rest_over", "view_limited"}  # counting events and advice; every other code is a fault


def golden_events(stem: str) -> list[tuple[float, str, str | None]]:
    return [tuple(e) for e in json.loads((EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))["events"]]


def labelled_faults(row: dict[str, str]) -> set[str] | None:
    """The row's faults as our codes; None when a label is one we cannot judge ('unclear')."""
    labels = {f for f in row["visible_faults"].split(";") if f}
    if any(f not in FAULT_CODES for f in labels):
        return None
    return {FAULT_CODES[f] for f in labels}


def test_every_golden_file_has_a_manifest_row() -> None:
    if not manifest_rows():
        pytest.skip("manifest not present (../shared/data)")
    stems = {p.stem for p in EXPECTED.glob("*.json")}
    assert stems and stems == {stem for stem, _ in CASES}
    assert set(REP_MISSES) | set(FAULT_MISSES) <= stems


@pytest.mark.parametrize(("stem", "row"), params(REP_MISSES))
def test_golden_rep_count_matches_the_manifest(stem: str, row: dict[str, str]) -> None:
    reps = sum(code == "rep" for _, code, _ in golden_events(stem))
    assert reps == int(row["reps"])


@pytest.mark.parametrize(("stem", "row"), params(FAULT_MISSES))
def test_golden_faults_match_the_manifest(stem: str, row: dict[str, str]) -> None:
    expected = labelled_faults(row)
    if expected is None:
        pytest.skip(f"labelled {row['visible_faults']!r}: not judgeable from the clip")
    raised = {reason or code for _, code, reason in golden_events(stem) if code not in NOT_FAULTS}
    assert raised == expected


def test_the_golden_files_are_read_as_stored() -> None:
    """The comparison reads rep events and fault reasons from the files' own format."""
    stem = "kaiakol_exercises__squat__incorrect__squat_incorrect_003"
    path = Path(EXPECTED / f"{stem}.json")
    events = golden_events(stem)
    assert path.exists() and ("rep" in {c for _, c, _ in events}) and any(r == "forward_lean" for _, _, r in events)
