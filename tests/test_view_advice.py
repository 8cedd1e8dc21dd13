"""The coach says when the camera's view cannot see an exercise's main faults (view_limited)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from poses import frontal, lateral, sample
from shared_data import LANDMARKS

from gymcorner.coach.analysers import RULES, rule_names
from gymcorner.coach.coach import Coach
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.squat import SQUAT_RULES
from gymcorner.coach.view_advice import MAIN_FAULTS, ViewAdvisor, view_limit
from gymcorner.config import CoachConfig, ViewConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording

FPS = 30.0


def frames(pts, seconds: float, start: float = 0.0) -> list[PoseSample]:
    return [sample(pts, t_s=start + i / FPS) for i in range(round(seconds * FPS))]


def squat_coach(after_s: float = 6.0) -> Coach:
    cfg = CoachConfig(exercise="squat", view=ViewConfig(hold_frames=1, limited_after_s=after_s))
    return Coach(cfg)


def advice(coach: Coach, samples: list[PoseSample]) -> list:  # type: ignore[type-arg]
    return [e for s in samples for e in coach.update(s).events if e.code == "view_limited"]


@pytest.mark.parametrize("exercise", sorted(MAIN_FAULTS, key=str))
def test_every_main_fault_is_a_rule_of_its_exercise(exercise: Exercise) -> None:
    # A renamed rule must not drop silently out of the advice.
    assert set(MAIN_FAULTS[exercise]) <= set(rule_names(exercise))


def test_from_the_front_a_squat_cannot_show_knee_travel_or_lean() -> None:
    limit = view_limit(Exercise.SQUAT, "frontal", SQUAT_RULES)
    assert limit is not None
    assert set(limit.unseen) == {"knees_over_toes", "forward_lean"}  # depth is judged from the front too
    assert limit.turn_to == "lateral"
    assert "Turn side-on to the camera" in limit.text()
    assert "knees over toes" in limit.text()


def test_a_push_up_filmed_from_the_front_cannot_show_the_body_line() -> None:
    limit = view_limit(Exercise.PUSH_UP, "frontal", RULES[Exercise.PUSH_UP])
    assert limit is not None and set(limit.unseen) == {"hips_sag", "hips_pike"}  # range is seen from anywhere
    assert limit.turn_to == "lateral"
    assert view_limit(Exercise.PUSH_UP, "lateral", RULES[Exercise.PUSH_UP]) is None


def test_a_real_push_up_filmed_from_the_front_gets_the_advice() -> None:
    path = LANDMARKS / "pushfit_pushup_form__wrong__wrong112.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    clip = list(load_recording(path).samples())
    duration = clip[-1].t_s - clip[0].t_s + 1 / 30
    looped = [replace(s, t_s=s.t_s + k * duration) for k in range(2) for s in clip]  # 10 s of front-view reps
    coach = Coach(CoachConfig(exercise="push_up"))
    limited = [e for s in looped for e in coach.update(s).events if e.code == "view_limited"]
    assert len(limited) == 1
    assert limited[0].details["cannot_check"] == ["hips_sag", "hips_pike"]
    assert "Turn side-on" in limited[0].text


def test_the_side_view_sees_every_main_squat_fault() -> None:
    assert view_limit(Exercise.SQUAT, "lateral", SQUAT_RULES) is None


def test_the_advice_follows_the_rules_views() -> None:
    # The same exercise with its lateral rules made frontal-only: now the side view is limited.
    frontal_only = tuple(replace(r, views=frozenset({"frontal"})) for r in SQUAT_RULES)
    limit = view_limit(Exercise.SQUAT, "lateral", frontal_only)
    assert limit is not None and set(limit.unseen) == set(MAIN_FAULTS[Exercise.SQUAT])
    assert limit.turn_to == "frontal" and limit.text().endswith("can be checked.")
    assert "Face the camera" in limit.text()


def test_one_event_after_a_while_in_the_front_view() -> None:
    coach = squat_coach(after_s=6.0)
    events = advice(coach, frames(frontal(), 12.0))
    assert len(events) == 1
    (event,) = events
    assert event.kind == "info" and event.severity == "info" and event.exercise == "squat"
    assert 6.0 <= event.t < 6.2
    assert "knees_over_toes" in event.details["cannot_check"]
    assert event.details["turn_to"] == "lateral"


def test_not_before_the_time_is_up() -> None:
    assert advice(squat_coach(after_s=6.0), frames(frontal(), 5.5)) == []


def test_turning_side_on_meanwhile_starts_the_wait_again() -> None:
    coach = squat_coach(after_s=6.0)
    samples = frames(frontal(), 4.0) + frames(lateral(), 1.0, start=4.0) + frames(frontal(), 4.0, start=5.0)
    assert advice(coach, samples) == []


def test_once_per_exercise_and_session() -> None:
    coach = squat_coach(after_s=2.0)
    first = advice(coach, frames(frontal(), 3.0) + frames(lateral(), 1.0, start=3.0) + frames(frontal(), 4.0, start=4))
    assert len(first) == 1
    coach.reset()  # a new person: a new session
    assert len(advice(coach, frames(frontal(), 3.0, start=10.0))) == 1


def test_the_advice_is_no_rep_fault_and_no_form_event() -> None:
    coach = squat_coach(after_s=1.0)
    events = [e for s in frames(frontal(), 2.0) + frames(frontal(hip_y=720, knee_y=800), 1.0, start=2.0)
              + frames(frontal(), 2.0, start=3.0) for e in coach.update(s).events]  # fmt: skip
    assert [e.code for e in events if e.kind == "info"] == ["view_limited"]
    assert all("view_limited" not in e.details.get("faults", []) for e in events if e.kind == "rep")


def test_unknown_view_neither_counts_nor_breaks_the_run() -> None:
    advisor = ViewAdvisor(limited_after_s=3.0)
    rules = RULES[Exercise.SQUAT]
    out = []
    for i in range(150):  # 5 s: frontal, then unknown from 1 s to 4 s, then frontal again
        view = "unknown" if 30 <= i < 120 else "frontal"
        out += advisor.update(i / FPS, Exercise.SQUAT, view, rules)
    assert [round(e.t, 2) for e in out] == [4.0]  # the run began at 0 s and was never broken


def test_nothing_while_the_exercise_is_unknown() -> None:
    advisor = ViewAdvisor(limited_after_s=1.0)
    out = [e for i in range(90) for e in advisor.update(i / FPS, Exercise.UNKNOWN, "frontal", ())]
    assert out == []
    # ... and the wait starts when the exercise becomes known
    out = [e for i in range(90, 150) for e in advisor.update(i / FPS, Exercise.SQUAT, "frontal", RULES[Exercise.SQUAT])]
    assert [round(e.t, 2) for e in out] == [4.0]


def test_a_real_squat_filmed_from_behind_gets_the_advice_once() -> None:
    path = LANDMARKS / "workouttracker_reps__squats__squat_8.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    clip = list(load_recording(path).samples())
    duration = clip[-1].t_s - clip[0].t_s + 1 / 24
    looped = [replace(s, t_s=s.t_s + k * duration) for k in range(3) for s in clip]  # three sets of the same rep
    coach = Coach(CoachConfig(exercise="squat"))
    events = [e for s in looped for e in coach.update(s).events]
    limited = [e for e in events if e.code == "view_limited"]
    assert len(limited) == 1 and limited[0].view == "frontal"
    assert "knees_over_toes" in limited[0].details["cannot_check"]
    assert 6.0 <= limited[0].t <= 9.0


def test_the_advice_is_spoken() -> None:
    from mqtt_helpers import wait_until

    from gymcorner.coach.events import FeedbackEvent
    from gymcorner.config import load_config
    from gymcorner.motivation.service import Motivation
    from gymcorner.motivation.speech import Speaker

    motivation = Motivation(load_config(None))
    motivation.speaker = Speaker(command=["true"])
    try:
        advice_event = FeedbackEvent(t=6.0, code="view_limited", text="Turn side-on.", kind="info", severity="info")
        other_info = FeedbackEvent(t=6.5, code="something_else", text="Not said.", kind="info", severity="info")
        set_end = FeedbackEvent(t=9.0, code="set_end", text="Set 1 done.", kind="set")
        motivation.hear([advice_event, other_info, set_end], 0)
        wait_until(lambda: len(motivation.speaker.spoken) == 2, what="two lines spoken")
        assert motivation.speaker.spoken == [advice_event.text, set_end.text]  # the other info is not said
    finally:
        motivation.close()
