"""Lunge analyser: the front knee's travel past the toes and the trunk's lean, on synthetic
side-on lunges with the knee moved by a known amount, and on the report half of the
Exercise-Correction lunge CSV (C correct / L knee over toe)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from poses import sample
from shared_data import SHARED_DATA

from gymcorner.coach.analysers import ANALYSERS, LungeAnalyser
from gymcorner.coach.exercises import Exercise
from gymcorner.config import CoachConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewTracker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from form_csv import read_blocks, split_blocks

FEMUR = 200.0
TOE = 110.0  # toes ahead of the ankle


def lunge(
    knee_ahead_femur: float, torso_lean_deg: float = 5.0, flexion_deg: float = 90.0
) -> dict[L, tuple[float, float]]:
    """Side-on, facing right. The front knee sits `knee_ahead_femur` femur lengths ahead of
    the front toes, the front thigh at `flexion_deg` to the shin; the back leg behind."""
    toe = np.array([700.0, 900.0])
    ankle = toe - [TOE, 0.0]
    knee = np.array([toe[0] + knee_ahead_femur * FEMUR, 0.0])
    knee[1] = ankle[1] - math.sqrt(max(200.0**2 - (knee[0] - ankle[0]) ** 2, 1.0))
    shin_dir = (knee - ankle) / np.linalg.norm(knee - ankle)
    a = math.radians(flexion_deg)  # turn the shin's direction back by the flexion: the thigh, knee -> hip
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    hip = knee + FEMUR * (rot @ shin_dir)
    t = math.radians(torso_lean_deg)
    shoulder = hip + 300 * np.array([math.sin(t), -math.cos(t)])
    back_knee, back_ankle = hip + np.array([-120.0, 160.0]), hip + np.array([-300.0, 230.0])
    pts = {
        L.LEFT_HIP: (hip[0] + 3, hip[1]), L.RIGHT_HIP: (hip[0] - 3, hip[1]),
        L.LEFT_SHOULDER: (shoulder[0] + 3, shoulder[1]), L.RIGHT_SHOULDER: (shoulder[0] - 3, shoulder[1]),
        L.LEFT_KNEE: tuple(knee), L.LEFT_ANKLE: tuple(ankle), L.LEFT_HEEL: (ankle[0] - 30, ankle[1] + 15),
        L.LEFT_FOOT_INDEX: tuple(toe),
        L.RIGHT_KNEE: tuple(back_knee), L.RIGHT_ANKLE: tuple(back_ankle),
        L.RIGHT_HEEL: (back_ankle[0] - 30, back_ankle[1] + 10), L.RIGHT_FOOT_INDEX: (back_ankle[0] + 60, back_ankle[1] + 40),
        L.NOSE: (shoulder[0] + 40, shoulder[1] - 100),
    }  # fmt: skip
    return {k: (float(x), float(y)) for k, (x, y) in pts.items()}


def run(samples: list[PoseSample]) -> list[str]:
    analyser = LungeAnalyser(CoachConfig())
    tracker = ViewTracker(CoachConfig().view)
    return [e.code for s in samples for e in analyser.update(s, tracker.update(s), False, False).events]


def held(pose: dict[L, tuple[float, float]], n: int = 20) -> list[PoseSample]:
    return [sample(pose, t_s=i / 30) for i in range(n)]


def test_registered() -> None:
    assert ANALYSERS[Exercise.LUNGE] is LungeAnalyser


@pytest.mark.parametrize("ahead", [-0.4, -0.1, 0.2])
def test_front_knee_travel_is_measured_in_femur_lengths(ahead: float) -> None:
    s = sample(lunge(ahead))
    m = LungeAnalyser(CoachConfig()).update(s, ViewTracker(CoachConfig().view).update(s), False, False).metrics
    assert m is not None
    assert m.knee_ahead_of_toes_femur == pytest.approx(ahead, abs=0.01)  # type: ignore[union-attr]
    assert m.front_knee_flexion_deg == pytest.approx(90, abs=1)  # type: ignore[union-attr]


def test_knee_over_toes_fires_only_past_the_threshold_and_while_lunging() -> None:
    limit = CoachConfig().lunge.knee_over_toes_femur
    assert run(held(lunge(limit - 0.15))) == []
    assert run(held(lunge(limit + 0.15))) == ["knee_over_toes"]
    assert run(held(lunge(limit + 0.15, flexion_deg=20))) == []  # standing in a split stance, not lunging


def test_torso_lean() -> None:
    limit = CoachConfig().lunge.torso_lean_max_deg
    assert run(held(lunge(-0.4, torso_lean_deg=limit - 10))) == []
    assert run(held(lunge(-0.4, torso_lean_deg=limit + 10))) == ["torso_lean"]


def test_knee_over_toes_on_the_report_half_of_the_labelled_csv() -> None:
    path = SHARED_DATA / "exercise_correction_landmarks" / "lunge_err.test.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present (../shared/data)")
    _, report = split_blocks(read_blocks(path, 1280, 720))
    assert {b.label for b in report} == {"C", "L"}
    for b in report:
        assert ("knee_over_toes" in run(b.samples)) == (b.label == "L"), b.first_row
