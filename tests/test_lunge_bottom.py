"""The lunge's per-rep rules, judged at each rep's bottom: depth (any view), step width and
the front knee caving in (front view, square to the camera). Synthetic 3-D lunges
(tests/lunge_poses.py) through the analyser and the whole coach, and real lunges with the
fault moved in (tools/lunge_moves.py) from ../shared/data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lunge_poses import lunge_points, lunges, rep_flags, seen
from shared_data import SHARED_DATA

from gymcorner.coach.analysers import LungeAnalyser
from gymcorner.coach.coach import Coach
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.lunge import LUNGE_RULES
from gymcorner.coach.lunge_bottom import BottomTracker, RepBottom, bottom_measures
from gymcorner.coach.quality import RANGE_FAULTS
from gymcorner.coach.view_advice import view_limit
from gymcorner.config import CoachConfig, RepsConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewTracker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import lunge_bottoms
from lunge_moves import feet_in_line, hips_up, knee_in

SHOULDER_SPAN_M = 0.4


def measures(sample: PoseSample):  # type: ignore[no-untyped-def]
    return bottom_measures(sample.pixels().astype(float), sample.visibility(), 0.5)


def analysed(reps: int = 2, drop: float = 1.0, yaw_deg: float = 0.0, **fault: float) -> list[str]:
    """The form events the lunge analyser raises, told where each rep ends as the coach tells it."""
    config = CoachConfig(cooldown_s=0.0)
    analyser, tracker = LungeAnalyser(config), ViewTracker(config.view)
    samples = lunges(reps, drop, yaw_deg, **fault)
    codes = []
    for s, (in_rep, ended) in zip(samples, rep_flags(reps, drop), strict=True):
        codes += [e.code for e in analyser.update(s, tracker.update(s), in_rep, ended).events]
    return codes


def rep_events(samples: list[PoseSample], config: CoachConfig | None = None) -> list:  # type: ignore[type-arg]
    coach = Coach(config or CoachConfig(exercise="lunge"))
    return [e for s in samples for e in coach.update(s).events if e.kind == "rep"]


# --- the measures ------------------------------------------------------------------------


def test_depth_is_the_front_hip_above_the_front_knee_in_shin_heights_from_both_views() -> None:
    for yaw in (0.0, 90.0):
        level = measures(seen(lunge_points(1.0), 0.0, yaw)).hip_above_knee_shins
        half = measures(seen(lunge_points(0.3), 0.0, yaw)).hip_above_knee_shins
        assert level == pytest.approx(0.0, abs=0.02)  # the thigh level
        assert half == pytest.approx(0.48, abs=0.02)  # same height from the side and the front


def test_widths_are_in_shoulder_spans_and_the_knee_is_measured_from_its_hip_ankle_line() -> None:
    m = measures(seen(lunge_points(1.0, step_width_m=0.3), 0.0))
    assert m.step_width_shoulders == pytest.approx(0.3 / SHOULDER_SPAN_M)
    assert m.knee_inside_line_shoulders == pytest.approx(0.0, abs=1e-6)
    wide = measures(seen(lunge_points(1.0, step_width_m=0.8), 0.0))
    assert wide.knee_inside_line_shoulders == pytest.approx(0.0, abs=1e-6)  # a wide foot is not a caving knee
    caved = measures(seen(lunge_points(1.0, knee_in_m=0.1), 0.0))
    assert caved.knee_inside_line_shoulders == pytest.approx(0.1 / SHOULDER_SPAN_M, abs=0.01)


def test_the_bottom_is_the_frame_with_the_hip_lowest_to_the_front_knee_and_comes_once() -> None:
    tracker = BottomTracker()
    frames = [RepBottom(measures(seen(lunge_points(d), 0.0)), 0.0) for d in (0.2, 1.0, 0.5)]
    assert tracker.update(frames[0], True, False) is None
    assert tracker.update(frames[1], True, False) is None
    ended = tracker.update(frames[2], False, True)
    assert ended is frames[1]
    assert tracker.update(frames[2], False, False) is None  # between reps nothing is kept


# --- each rule, with the fault and without -----------------------------------------------


def test_shallow_depth_fires_per_rep_from_the_side_and_the_front() -> None:
    for yaw in (90.0, 0.0):
        assert "shallow_depth" not in analysed(drop=1.0, yaw_deg=yaw)
        assert analysed(drop=0.15, yaw_deg=yaw).count("shallow_depth") == 2  # once per rep


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"step_width_m": 0.04}, "narrow_step"),
        ({"step_width_m": 0.8}, "wide_step"),
        ({"knee_in_m": 0.15}, "knee_valgus"),
    ],
)
def test_front_rules_fire_square_on_and_not_on_a_clean_lunge(fault: dict[str, float], code: str) -> None:
    assert analysed(yaw_deg=0.0, **fault).count(code) == 2
    assert analysed(yaw_deg=0.0) == []


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"step_width_m": 0.04}, "narrow_step"),
        ({"step_width_m": 0.8}, "wide_step"),
        ({"knee_in_m": 0.15}, "knee_valgus"),
    ],
)
def test_front_rules_are_not_judged_from_the_side_nor_turned(fault: dict[str, float], code: str) -> None:
    assert code not in analysed(yaw_deg=90.0, **fault)  # lateral view: widths are depth to the camera
    assert code not in analysed(yaw_deg=20.0, **fault)  # frontal view, but turned past the 10° the widths allow


def test_views_and_view_advice() -> None:
    views = {r.code: r.views for r in LUNGE_RULES}
    assert views["shallow_depth"] >= {"frontal", "lateral"}
    assert {views[c] for c in ("narrow_step", "wide_step", "knee_valgus")} == {frozenset({"frontal"})}
    side = view_limit(Exercise.LUNGE, "lateral", LUNGE_RULES)
    front = view_limit(Exercise.LUNGE, "frontal", LUNGE_RULES)
    assert side is not None and set(side.unseen) == {"knee_valgus", "narrow_step"} and side.turn_to == "frontal"
    assert front is not None and set(front.unseen) == {"knee_over_toes", "torso_lean"} and front.turn_to == "lateral"
    assert "step width" in side.text()


# --- the rep event carries the fault and its deduction -----------------------------------


def test_a_caving_front_knee_is_in_the_rep_event_and_costs_its_points() -> None:
    reps = rep_events(lunges(2, knee_in_m=0.15))
    assert len(reps) == 2
    for rep in reps:
        assert rep.details["faults"] == ["knee_valgus"]
        assert rep.details["quality"] == {"score": 70, "deductions": [{"cause": "knee_valgus", "points": 30}]}
    clean = rep_events(lunges(2))
    assert [r.details["faults"] for r in clean] == [[], []]
    assert [r.details["quality"]["score"] for r in clean] == [100, 100]


def test_a_shallow_lunge_is_charged_as_range_once() -> None:
    # The rep counter's own gates (world knee flexion) lowered so that this quarter-depth
    # split squat still counts as a rep; the lunge rule judges the hips (0.58 shins up).
    config = CoachConfig(exercise="lunge", reps=RepsConfig(min_depth=0.2, min_excursion=0.15))
    assert "shallow_depth" in RANGE_FAULTS
    reps = rep_events(lunges(2, bottom_drop=0.15), config)
    assert len(reps) == 2
    for rep in reps:
        assert rep.details["faults"] == ["shallow_depth"]
        (deduction,) = rep.details["quality"]["deductions"]
        assert deduction["cause"] == "range" and deduction["points"] >= 30


# --- real lunges, the fault moved in ------------------------------------------------------


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/data)")
    return path


def _fired(reps: list, rule: str, move=None) -> tuple[int, int]:  # type: ignore[no-untyped-def,type-arg]
    config = CoachConfig()
    verdicts = [lunge_bottoms.verdict(r, lunge_bottoms.judge(r, config, move)[0], rule, config) for r in reps]
    return sum(v is True for v in verdicts), sum(v is not None for v in verdicts)


def test_real_side_lunges_are_deep_and_hips_held_high_are_caught() -> None:
    path = _need(SHARED_DATA / "exercise_correction_landmarks" / "lunge_stage.test.csv")
    reps, _ = lunge_bottoms.stage_lunges(path)
    report = [r for r in reps if r.part == "report"]
    assert len(report) == 7
    assert _fired(report, "shallow_depth") == (0, 7)
    assert _fired(report, "shallow_depth", lambda s: hips_up(s, 0.8, True)) == (7, 7)
    assert _fired(report, "shallow_depth", lambda s: hips_up(s, 0.3, True)) == (0, 7)


def test_real_front_lunges_with_the_feet_moved_in_line_or_the_knee_moved_in() -> None:
    folder = _need(SHARED_DATA / "countix_fitness" / "test_poses")
    reps = [r for r in lunge_bottoms.countix_test_reps(folder) if r.name.startswith("lunge2 ") and r.view == "front"]
    # the label-free counter's cycles of lunge2 (8 lunges labelled; it counts some twice)
    n = len(reps)
    assert 12 <= n <= 14
    assert _fired(reps, "knee_valgus") == (0, n)
    assert _fired(reps, "knee_valgus", lambda s: knee_in(s, 0.5))[0] >= n - 1
    narrow_clean, judged = _fired(reps, "narrow_step")
    assert judged == n and narrow_clean <= 2  # two clean reps already stand 0.15 and 0.25 spans wide
    assert _fired(reps, "narrow_step", lambda s: feet_in_line(s, 0.6))[0] >= n - 2


def test_faults_are_judged_per_rep_whatever_the_pace() -> None:
    # Once per rep, not per frame held: the same lunges done half as fast raise the same faults.
    slow = [PoseSample(s.t_s * 2, s.width, s.height, s.image, s.world) for s in lunges(2, knee_in_m=0.15)]
    assert [r.details["faults"] for r in rep_events(slow)] == [["knee_valgus"], ["knee_valgus"]]
