"""Which exercise the coach coaches: nothing exercise-specific until the recogniser is sure,
no rep lost meanwhile, and a given exercise (config or `set_exercise`) at once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from poses import lateral, sample
from shared_data import LANDMARKS

from gymcorner.coach.coach import Coach, LabelFreeCounter
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.pushup import PUSHUP_RULES
from gymcorner.coach.squat import SQUAT_RULES
from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import CoachConfig, Config, ViewConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording

FPS = 30.0
SQUAT_CODES = {r.code for r in SQUAT_RULES}
PUSHUP_CODES = {r.code for r in PUSHUP_RULES}


@dataclass(frozen=True)
class Verdict:
    label: Exercise
    stable: bool


class ScriptedRecognizer:
    """Says `label`, and is sure of it from `stable_from_s` on."""

    def __init__(self, label: Exercise, stable_from_s: float) -> None:
        self.label, self.stable_from_s = label, stable_from_s

    def update(self, s: PoseSample) -> Verdict:
        return Verdict(self.label, s.t_s >= self.stable_from_s)


def deep_squats(n: int) -> list[PoseSample]:
    """Stand, then n deep squats with shins far past the toes (a knees-over-toes fault)."""
    path = [0.0] * 10
    for _ in range(n):
        path += [100.0 * i / 15 for i in range(1, 16)] + [100.0 * (1 - i / 15) for i in range(1, 16)] + [0.0] * 5
    return [sample(lateral(knee_flexion_deg=f), t_s=i / FPS) for i, f in enumerate(path)]


def config(exercise: str = "auto") -> CoachConfig:
    return CoachConfig(exercise=exercise, view=ViewConfig(hold_frames=1))


def test_no_form_rule_runs_until_the_recogniser_is_sure_and_no_rep_is_lost() -> None:
    frames = deep_squats(3)
    sure_at = frames[-1].t_s - 0.2  # after the third rep has ended
    coach = Coach(config(), ScriptedRecognizer(Exercise.SQUAT, sure_at))
    results = [coach.update(s) for s in frames]
    before = [r for r in results if r.t_s < sure_at]
    assert {r.exercise for r in before} == {Exercise.UNKNOWN}
    assert all(not r.events and not r.active and r.metrics is None for r in before)
    assert results[-1].exercise is Exercise.SQUAT
    reps = [e for r in results for e in r.events if e.kind == "rep"]
    assert [e.details["rep"] for e in reps] == [1, 2, 3]  # counted on the switch, from the recent frames
    assert results[-1].reps == 3


def test_a_fixed_exercise_is_coached_from_the_first_frame() -> None:
    frames = deep_squats(1)
    coach = Coach(config("squat"))
    results = [coach.update(s) for s in frames]
    assert {r.exercise for r in results} == {Exercise.SQUAT}
    assert results[-1].reps == 1


def test_set_exercise_forces_the_exercise_at_once() -> None:
    frames = deep_squats(2)
    coach = Coach(config(), ScriptedRecognizer(Exercise.PUSH_UP, stable_from_s=1e9))
    assert coach.update(frames[0]).exercise is Exercise.UNKNOWN
    coach.set_exercise(Exercise.SQUAT)
    results = [coach.update(s) for s in frames[1:]]
    assert {r.exercise for r in results} == {Exercise.SQUAT}
    assert results[-1].reps == 2


def auto_report(name: str) -> tuple[list, int, str]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path.name} not recorded")
    report = analyze_samples(load_recording(path).samples(), Config(), name)
    return report.events, report.reps, report.main_exercise()


def test_a_push_up_set_gets_no_squat_cue_and_its_reps_counted() -> None:
    # 30 push-ups from the side (manifest: high confidence); started as a squat coach, the
    # coach used to tell this man to squat deeper before recognising the push-ups.
    events, reps, exercise = auto_report("workouttracker_reps__push-ups__videoplayback")
    form = [e for e in events if e.kind == "form"]
    assert not [e for e in form if e.code in SQUAT_CODES or e.exercise != Exercise.PUSH_UP]
    # The manifest labels this clip clean: the downward-dog rests between its sets used to
    # raise hips_pike and partial_range here (tests/test_pushup_head.py holds the rule side).
    assert {e.code for e in form} <= PUSHUP_CODES and not form
    assert reps == 30 and exercise == "push_up"


def test_a_squat_set_gets_no_push_up_cue_and_its_reps_counted() -> None:
    events, reps, exercise = auto_report("navya_squat_form__correct__squat_correct_strongher_side")
    assert not [e for e in events if e.code in PUSHUP_CODES or (e.kind == "form" and e.exercise != Exercise.SQUAT)]
    assert reps == 5 and exercise == "squat"


@pytest.mark.parametrize("sure_after_reps", [1, 2, 4])
def test_the_label_free_counter_counts_meanwhile_and_no_rep_is_counted_twice(sure_after_reps: int) -> None:
    frames = deep_squats(5)
    per_rep = (len(frames) - 10) // 5
    sure_at = frames[10 + per_rep * sure_after_reps + 3].t_s  # just after that rep's end
    coach = Coach(config(), ScriptedRecognizer(Exercise.SQUAT, sure_at), unknown_counter=LabelFreeCounter())
    results = [coach.update(s) for s in frames]
    rep_events = [(r.t_s, e) for r in results for e in r.events if e.kind == "rep"]
    early = [e.details["rep"] for t, e in rep_events if t < sure_at]
    assert early, "the label-free counter announces reps before the exercise is known"
    assert all(e.exercise == Exercise.UNKNOWN for t, e in rep_events if t < sure_at)
    assert [e.details["rep"] for _, e in rep_events] == [1, 2, 3, 4, 5] and results[-1].reps == 5
    for _, e in rep_events:  # each rep announced soon after it ended (live), none twice
        assert e.t - e.details["end_t"] <= 0.5 or e.exercise == Exercise.SQUAT


def test_a_movement_the_box_was_never_taught_is_counted() -> None:
    """A recogniser that never knows the exercise (OTHER): the label-free counter still counts."""
    frames = deep_squats(4)
    coach = Coach(config(), ScriptedRecognizer(Exercise.OTHER, 0.0), unknown_counter=LabelFreeCounter())
    results = [coach.update(s) for s in frames]
    assert results[-1].exercise == Exercise.UNKNOWN and results[-1].reps == 4
    assert not [e for r in results for e in r.events if e.kind == "form"]


def test_a_recognised_exercise_without_a_phase_is_counted_by_the_label_free_counter() -> None:
    """Bench press, front raise, sit-up, cable pushdown: recognised, no joint-angle phase of
    their own. Once recognised the label-free counter goes on counting them: nothing lost
    at the switch, nothing counted twice."""
    frames = deep_squats(4)
    sure_at = frames[10 + 2 * 35 + 3].t_s  # after the second movement
    coach = Coach(config(), ScriptedRecognizer(Exercise.BENCH_PRESS, sure_at), unknown_counter=LabelFreeCounter())
    results = [coach.update(s) for s in frames]
    reps = [e for r in results for e in r.events if e.kind == "rep"]
    assert [e.details["rep"] for e in reps] == [1, 2, 3, 4]
    assert results[-1].exercise == Exercise.BENCH_PRESS and results[-1].reps == 4
    assert {e.exercise for e in reps[2:]} == {Exercise.BENCH_PRESS}


def test_a_fixed_exercise_without_a_phase_is_counted_and_a_plank_is_not() -> None:
    frames = deep_squats(3)
    coach = Coach(config("front_raise"))
    counted = [coach.update(s) for s in frames]
    assert counted[-1].reps == 3
    plank = Coach(config("plank"))
    held = [plank.update(s) for s in frames]
    assert held[-1].reps == 0 and not [e for r in held for e in r.events if e.kind == "rep"]


def test_after_a_taught_exercise_the_label_free_counter_does_not_count_its_reps_again() -> None:
    """Squats (their own counter), then the recogniser says sit-up: the squats already
    announced are not counted again by the label-free counter that takes over."""
    frames = deep_squats(3)
    still = [sample(lateral(knee_flexion_deg=0.0), t_s=frames[-1].t_s + i / FPS) for i in range(1, 31)]
    recognizer = ScriptedRecognizer(Exercise.SQUAT, 0.0)
    coach = Coach(config(), recognizer, unknown_counter=LabelFreeCounter())
    results = [coach.update(s) for s in frames]
    assert results[-1].exercise == Exercise.SQUAT and results[-1].reps == 3
    recognizer.label = Exercise.SIT_UP  # the person has moved on (the recent squats are replayed)
    tail = [coach.update(s) for s in still]
    assert tail[-1].exercise == Exercise.SIT_UP and tail[-1].reps == 0
    assert not [e for r in tail for e in r.events if e.kind == "rep"]


SHORT_CLIPS = [
    "kaiakol_exercises__squat__correct__squat_correct_006",
    "kaiakol_exercises__squat__incorrect__squat_incorrect_002",
    "kaiakol_exercises__squat__incorrect__squat_incorrect_004",
    "pushfit_pushup_form__correct__correct47",
]


@pytest.mark.parametrize("stem", SHORT_CLIPS)
def test_the_daemon_counts_a_rep_done_before_it_knows_the_exercise_as_it_ends(stem: str) -> None:
    """One rep in a clip shorter than the recogniser takes to be sure: the live pipeline
    (auto mode, as the daemon runs it) announces it within half a second of its end."""
    from gymcorner.pipeline import Pipeline

    pipeline = Pipeline(Config())
    announced = []
    for s in load_recording(LANDMARKS / f"{stem}.npz").samples():
        announced += [(s.t_s, e) for e in pipeline.process(s).coach.events if e.kind == "rep"]
    assert len(announced) == 1, [e.details for _, e in announced]
    t, event = announced[0]
    assert t - event.details["end_t"] <= 0.5
