"""Plank and bicep-curl analysers: synthetic poses with the fault moved in by a known
amount, the hold timer, and the Exercise-Correction landmark CSVs (labelled blocks)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from poses import sample
from shared_data import SHARED_DATA

from gymcorner.coach.analysers import ANALYSERS, CurlAnalyser, PlankAnalyser, rule_names
from gymcorner.coach.exercises import Exercise
from gymcorner.config import CoachConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewTracker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from form_csv import read_blocks, split_blocks

CSV_DIR = SHARED_DATA / "exercise_correction_landmarks"


def plank(hip_offset: float, incline_deg: float = 5.0) -> dict[L, tuple[float, float]]:
    """Side-on forearm plank facing left: shoulder-ankle line `incline_deg` from horizontal,
    the hip `hip_offset` × its length below the line (negative: above)."""
    shoulder = np.array([250.0, 500.0])
    direction = np.array([math.cos(math.radians(incline_deg)), math.sin(math.radians(incline_deg))])
    ankle = shoulder + 500 * direction
    normal = np.array([-direction[1], direction[0]])  # points down in the image
    hip = shoulder + 250 * direction + normal * hip_offset * 500
    pts: dict[L, tuple[float, float]] = {}
    for dx, side in ((3.0, "LEFT"), (-3.0, "RIGHT")):
        for name, p in (("SHOULDER", shoulder), ("HIP", hip), ("ANKLE", ankle), ("KNEE", (hip + ankle) / 2)):
            pts[L[f"{side}_{name}"]] = (float(p[0]) + dx, float(p[1]))
        pts[L[f"{side}_ELBOW"]] = (float(shoulder[0]) + dx, float(shoulder[1]) + 110)
    pts[L.NOSE] = (float(shoulder[0]) - 60, float(shoulder[1]) - 10)
    return pts


def run(analyser: object, samples: list[PoseSample]) -> list[str]:
    tracker = ViewTracker(CoachConfig().view)
    codes = []
    for s in samples:
        codes += [e.code for e in analyser.update(s, tracker.update(s), False, False).events]  # type: ignore[attr-defined]
    return codes


def held(pose: dict[L, tuple[float, float]], n: int = 30) -> list[PoseSample]:
    return [sample(pose, t_s=i / 30) for i in range(n)]


def test_both_are_registered_and_their_rules_listed() -> None:
    assert ANALYSERS[Exercise.PLANK] is PlankAnalyser and ANALYSERS[Exercise.BICEP_CURL] is CurlAnalyser
    assert set(rule_names(Exercise.PLANK)) == {"hips_sag", "hips_pike"}
    assert set(rule_names(Exercise.BICEP_CURL)) == {"lean_back", "elbow_drift"}


def test_plank_hip_offset_is_measured_in_line_lengths() -> None:
    analyser = PlankAnalyser(CoachConfig())
    tracker = ViewTracker(CoachConfig().view)
    for offset in (-0.2, 0.0, 0.1):
        s = sample(plank(offset))
        m = analyser.update(s, tracker.update(s), False, False).metrics
        assert m is not None and m.hip_below_line == pytest.approx(offset, abs=0.01)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-0.06, []), (0.0, []), (0.08, ["hips_sag"]), (-0.3, ["hips_pike"])],
)
def test_plank_body_line(offset: float, expected: list[str]) -> None:
    cfg = CoachConfig().plank
    assert cfg.hips_sag_line < 0.08 and cfg.hips_pike_line < 0.3
    assert run(PlankAnalyser(CoachConfig()), held(plank(offset))) == expected


def test_plank_not_judged_when_not_holding_a_plank() -> None:
    # the same sag, with the body standing up steeply (not a plank): not a plank fault
    assert run(PlankAnalyser(CoachConfig()), held(plank(0.1, incline_deg=70))) == []


def test_plank_hold_time_runs_with_the_frames_and_restarts_after_a_break() -> None:
    analyser = PlankAnalyser(CoachConfig())
    tracker = ViewTracker(CoachConfig().view)
    poses = [plank(-0.05)] * 20 + [plank(-0.05, incline_deg=70)] * 3 + [plank(-0.05)] * 10
    holds = []
    for i, p in enumerate(poses):
        s = sample(p, t_s=i * 0.1)
        holds.append(analyser.update(s, tracker.update(s), False, False).metrics.hold_s)  # type: ignore[union-attr]
    assert holds[19] == pytest.approx(1.9)
    assert holds[20:23] == [None, None, None]
    assert holds[-1] == pytest.approx(0.9)


def curler(lean_back_deg: float, drift_deg: float, flexion_deg: float = 90.0) -> dict[L, tuple[float, float]]:
    """Side-on, facing right: trunk tilted back by `lean_back_deg`, upper arm swung
    `drift_deg` forward of the trunk line, elbow bent `flexion_deg`."""
    hip = np.array([500.0, 700.0])
    back = math.radians(lean_back_deg)

    def down(angle: float) -> np.ndarray:  # unit vector from straight down, + towards the front (+x)
        return np.array([math.sin(angle), math.cos(angle)])

    shoulder = hip - 300 * down(back)
    elbow = shoulder + 150 * down(back + math.radians(drift_deg))
    wrist = elbow + 130 * down(back + math.radians(drift_deg + flexion_deg))
    pts: dict[L, tuple[float, float]] = {}
    for dx, side in ((3.0, "LEFT"), (-3.0, "RIGHT")):
        for name, p in (("SHOULDER", shoulder), ("HIP", hip), ("ELBOW", elbow), ("WRIST", wrist)):
            pts[L[f"{side}_{name}"]] = (float(p[0]) + dx, float(p[1]))
    pts[L.NOSE] = (float(shoulder[0]) + 50, float(shoulder[1]) - 60)
    return pts


def test_curl_angles_are_measured() -> None:
    analyser = CurlAnalyser(CoachConfig())
    tracker = ViewTracker(CoachConfig().view)
    s = sample(curler(20, 35, 90))
    m = analyser.update(s, tracker.update(s), False, False).metrics
    assert m is not None
    assert m.lean_back_deg == pytest.approx(20, abs=0.5)  # type: ignore[union-attr]
    assert m.elbow_drift_deg == pytest.approx(35, abs=0.5)  # type: ignore[union-attr]
    assert m.elbow_flexion_deg == pytest.approx(90, abs=1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("lean", "drift", "flexion", "expected"),
    [
        (0, 5, 90, []),
        (25, 5, 90, ["lean_back"]),
        (-10, 5, 90, []),  # leaning forward is not leaning back
        (0, 45, 90, ["elbow_drift"]),
        (0, 45, 10, []),  # arm hanging straight: no curl in progress, drift not judged
    ],
)
def test_curl_rules(lean: float, drift: float, flexion: float, expected: list[str]) -> None:
    assert run(CurlAnalyser(CoachConfig()), held(curler(lean, drift, flexion))) == expected


def blocks_or_skip(name: str) -> list:  # type: ignore[type-arg]
    path = CSV_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not present (../shared/data)")
    return read_blocks(path, 1280, 720)


def flagged(analyser_type: type, block: object, code: str) -> bool:
    return code in run(analyser_type(CoachConfig()), block.samples)  # type: ignore[attr-defined]


def test_plank_rules_on_the_report_half_of_the_labelled_csv() -> None:
    """Thresholds were chosen on the first half (tools/eval_form_csv.py); this is the second."""
    _, report = split_blocks(blocks_or_skip("plank_test.csv"))
    long_enough = [b for b in report if len(b.samples) >= CoachConfig().plank.hold_frames]
    by_label = {lab: [b for b in long_enough if b.label == lab] for lab in "CHL"}
    assert all(by_label.values())
    assert all(flagged(PlankAnalyser, b, "hips_sag") for b in by_label["L"])
    assert all(flagged(PlankAnalyser, b, "hips_pike") for b in by_label["H"])
    assert not any(flagged(PlankAnalyser, b, "hips_sag") or flagged(PlankAnalyser, b, "hips_pike") for b in by_label["C"])


def test_curl_lean_back_on_the_report_half_of_the_labelled_csv() -> None:
    _, report = split_blocks(blocks_or_skip("bicep_test.csv"))
    assert {b.label for b in report} == {"C", "L"}
    for b in report:
        assert flagged(CurlAnalyser, b, "lean_back") == (b.label == "L")
