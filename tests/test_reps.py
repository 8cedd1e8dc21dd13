"""Repetition counting: the live state machine on synthetic and real landmarks, and the
offline peak counter."""

from __future__ import annotations

import functools

import pytest
from poses import lateral, sample
from shared_data import LANDMARKS, fixture_name, manifest_rows

from gymcorner.coach.coach import Coach
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.hysteresis import ThresholdCycle
from gymcorner.coach.reps import (
    PHASES,
    LiveRepCounter,
    count_reps_offline,
    movement_phase,
)
from gymcorner.config import CoachConfig, Config, RepsConfig, ViewConfig
from gymcorner.motion.filters import make_smoother
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording

FPS = 30.0


def squat_path(depths: list[float], frames_per_leg: int = 15, hold: int = 10) -> list[float]:
    """Knee flexion over time: stand, then for each depth go down and back up."""
    path = [0.0] * hold
    for d in depths:
        path += [d * i / frames_per_leg for i in range(1, frames_per_leg + 1)]
        path += [d * (1 - i / frames_per_leg) for i in range(1, frames_per_leg + 1)]
        path += [0.0] * 5
    return path


def samples(path: list[float], start_t: float = 0.0, hidden: set[int] = frozenset()) -> list[PoseSample]:
    out = []
    for i, flexion in enumerate(path):
        t = start_t + i / FPS
        out.append(PoseSample(t, 1000, 1000) if i in hidden else sample(lateral(knee_flexion_deg=flexion), t_s=t))
    return out


def count(path_samples: list[PoseSample], cfg: RepsConfig | None = None) -> tuple[int, list]:
    counter = LiveRepCounter("squat", cfg or RepsConfig())
    reps = [r for r in (counter.update(s) for s in path_samples) if r is not None]
    return counter.count, reps


def test_phase_runs_from_start_to_bottom() -> None:
    standing = movement_phase(sample(lateral(knee_flexion_deg=25)), PHASES["squat"], 0.5)
    deep = movement_phase(sample(lateral(knee_flexion_deg=90)), PHASES["squat"], 0.5)
    assert standing == pytest.approx(0.0, abs=0.05) and deep == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("n", [1, 3, 7])
def test_counts_complete_reps(n: int) -> None:
    total, reps = count(samples(squat_path([100.0] * n)))
    assert total == n and [r.number for r in reps] == list(range(1, n + 1))


def test_rep_carries_times_depth_and_tempo() -> None:
    _, (rep,) = count(samples(squat_path([100.0])))
    assert rep.start_t < rep.bottom_t < rep.end_t
    assert rep.bottom_t == pytest.approx((10 + 14) / FPS, abs=1.5 / FPS)  # the deepest frame
    assert rep.depth == pytest.approx((100 - 25) / 65, abs=0.05)
    assert rep.down_s > 0 and rep.up_s > 0


def test_small_movements_are_not_reps_and_partial_ones_are_flagged() -> None:
    assert count(samples(squat_path([40.0] * 3)))[0] == 0  # fidgeting: under the excursion gate
    total, reps = count(samples(squat_path([55.0])))
    assert total == 0 and len(reps) == 1 and reps[0].partial


def test_nothing_counts_before_the_person_is_tracked_long_enough() -> None:
    # Walks in already moving: the first movement starts before ready_s has passed.
    path = squat_path([100.0], hold=0)
    assert count(samples(path), RepsConfig(ready_s=1.0))[0] == 0


def test_a_rep_is_dropped_when_the_person_leaves_the_frame() -> None:
    path = squat_path([100.0])
    # Hidden from just after the bottom for 1.5 s of frames, longer than max_gap_s.
    gap = set(range(26, 26 + 45))
    seq = samples(path[:26]) + [PoseSample(26 / FPS + i / FPS, 1000, 1000) for i in range(45)]
    seq += samples(path[26:], start_t=(26 + 45) / FPS)
    assert count(seq)[0] == 0
    assert gap  # (the gap is longer than max_gap_s = 1 s)


def test_faults_seen_during_a_rep_belong_to_it() -> None:
    counter = LiveRepCounter("squat", RepsConfig())
    reps = []
    for i, s in enumerate(samples(squat_path([100.0, 100.0]))):
        if i == 20:
            counter.note_fault("forward_lean")
        rep = counter.update(s)
        if rep:
            reps.append(rep)
    assert [r.faults for r in reps] == [("forward_lean",), ()]


def test_coach_emits_one_rep_event_per_rep() -> None:
    coach = Coach(CoachConfig(exercise="squat", view=ViewConfig(hold_frames=1)))
    events = [e for s in samples(squat_path([100.0] * 2)) for e in coach.update(s).events]
    reps = [e for e in events if e.kind == "rep"]
    assert [e.details["rep"] for e in reps] == [1, 2]
    assert {"start_t", "bottom_t", "end_t", "depth", "down_s", "up_s", "faults"} <= reps[0].details.keys()
    assert reps[0].text.startswith("Rep 1:")


def test_offline_counter_counts_complete_reps_only() -> None:
    cfg = RepsConfig()
    full = samples(squat_path([100.0] * 3))
    assert len(count_reps_offline(full, FPS, cfg)) == 3
    # A clip that starts at the bottom of a rep: the cut rep is not counted.
    cut = samples(squat_path([100.0] * 2))[25:]
    assert len(count_reps_offline(cut, FPS, cfg)) == 1


# Real clips: our recorded landmarks of every manifest row whose rep count is labelled
# with high confidence (../shared/data/manifest.csv), the exercise given, against the
# label. Known misses are strict xfails: fixing one fails here until its mark goes.
LIVE_MISSES: dict[str, str] = {
    "workouttracker_reps__pull-ups__pull-up_10": "the 4th pull, reaching the top in the last frames, is counted",
    "kaiakol_exercises__squat__correct__squat_correct_003": "starts at the bottom: the ascent alone is counted as a rep",
    "kaiakol_exercises__squat__correct__squat_correct_011": "handheld camera, two people, feet out of frame: the rep is missed",
}
# The sum of |counted - labelled| over all of them, measured when the list was made.
MAX_TOTAL_ABS_ERROR = 3


def high_confidence_clips() -> list[tuple[str, Exercise, int]]:
    rows = [r for r in manifest_rows() if r["rep_confidence"] == "high" and r["exercise"] in PHASES]
    named = [(fixture_name(r["clip"]).removesuffix(".npz"), Exercise(r["exercise"]), int(r["reps"])) for r in rows]
    return [(name, ex, reps) for name, ex, reps in named if (LANDMARKS / f"{name}.npz").exists()]


REAL = high_confidence_clips()


@functools.cache
def live_count(name: str, exercise: Exercise) -> int:
    smoother = make_smoother(Config().smoothing)
    counter = LiveRepCounter(exercise, RepsConfig())
    for s in load_recording(LANDMARKS / f"{name}.npz").samples():
        counter.update(smoother.smooth(s))
    return counter.count


@pytest.mark.parametrize(
    ("name", "exercise", "expected"),
    [
        pytest.param(*clip, id=clip[0], marks=[pytest.mark.xfail(strict=True, reason=LIVE_MISSES[clip[0]])])
        if clip[0] in LIVE_MISSES
        else pytest.param(*clip, id=clip[0])
        for clip in REAL
    ],
)
def test_live_counter_on_real_clips(name: str, exercise: Exercise, expected: int) -> None:
    assert live_count(name, exercise) == expected


def test_live_counter_total_error_over_the_labelled_clips() -> None:
    if len(REAL) < 10:
        pytest.skip("the labelled clips' manifest is not present (../shared/data)")
    assert set(LIVE_MISSES) <= {name for name, _, _ in REAL}
    total = sum(abs(live_count(name, ex) - reps) for name, ex, reps in REAL)
    assert total <= MAX_TOTAL_ABS_ERROR


def test_hidden_joints_give_no_phase() -> None:
    s = sample(lateral(knee_flexion_deg=90), low_visibility=(L.LEFT_KNEE, L.RIGHT_KNEE))
    assert movement_phase(s, PHASES["squat"], 0.5) is None


def test_threshold_cycle_ignores_noise_about_one_threshold_and_missing_values() -> None:
    cycle: ThresholdCycle[int] = ThresholdCycle(enter_at=35.0, leave_below=20.0)
    flexion = [10, 36, 34, 36, None, 90, 30, 21, 19, 36, 19]
    done = [c for i, f in enumerate(flexion) if (c := cycle.update(i, f)) is not None]
    assert [(c.start, c.end, c.peak) for c in done] == [(1, 8, 90.0), (9, 10, 36.0)]
    assert not cycle.active
