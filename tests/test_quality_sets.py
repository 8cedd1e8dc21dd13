"""Quality per rep, sets and rest, heart-rate zones: unit behaviour and real recorded reps."""

from __future__ import annotations

from pathlib import Path

import pytest

from gymcorner.coach.coach import Coach
from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.quality import score_rep
from gymcorner.coach.reps import Rep
from gymcorner.coach.sets import SessionTally, SetTracker
from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config, QualityConfig, SetsConfig
from gymcorner.config.wearables import WearablesConfig
from gymcorner.motion.filters import make_smoother
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording
from gymcorner.wearables.hr import ZoneTracker
from gymcorner.wearables.readings import HeartRateReading
from gymcorner.wearables.state import WearableState

FIXTURES = Path(__file__).parent / "fixtures" / "landmarks"
PUSH_UPS = FIXTURES / "workouttracker_reps__push-ups__push-up_10.npz"
MIN_DEPTH = 0.6
Q = QualityConfig()


def rep(depth: float = 1.0, faults: tuple[str, ...] = (), down_s: float = 1.0, number: int = 1) -> Rep:
    return Rep(number, 10.0, 10.0 + down_s, 11.0 + down_s, depth, faults)


# ------------------------------------------------------------------ quality


def test_a_clean_full_rep_scores_100_and_says_nothing_cost_points() -> None:
    quality = score_rep(rep(depth=1.2), "squat", MIN_DEPTH, Q)
    assert quality.score == 100 and quality.deductions == ()
    assert quality.summary() == "quality 100"


def test_range_costs_more_the_shallower_the_rep() -> None:
    scores = [score_rep(rep(depth=d), "squat", MIN_DEPTH, Q).score for d in (0.9, 0.8, 0.7, 0.6)]
    assert scores[0] == 100 and scores == sorted(scores, reverse=True) and len(set(scores)) == 4
    assert scores[-1] == 100 - Q.range_points  # the shallowest rep that still counts
    (deduction,) = score_rep(rep(depth=0.7), "squat", MIN_DEPTH, Q).deductions
    assert deduction.cause == "range"


def test_each_fault_costs_its_points_and_a_range_fault_is_not_charged_twice() -> None:
    two = score_rep(rep(faults=("hips_sag", "knee_valgus")), "push_up", MIN_DEPTH, Q)
    assert two.score == 100 - 2 * Q.fault_points
    assert {d.cause for d in two.deductions} == {"hips_sag", "knee_valgus"}
    shallow = score_rep(rep(depth=0.7, faults=("partial_range",)), "push_up", MIN_DEPTH, Q)
    assert [d.cause for d in shallow.deductions] == ["range"]
    assert shallow.score == 100 - max(
        Q.fault_points, score_rep(rep(depth=0.7), "push_up", MIN_DEPTH, Q).deductions[0].points
    )
    custom = Q.model_copy(update={"fault_points_by_code": {"narrow_stance": 5}})
    assert score_rep(rep(faults=("narrow_stance",)), "squat", MIN_DEPTH, custom).score == 95
    many = score_rep(rep(depth=0.6, faults=("a", "b", "c", "d"), down_s=0.1), "squat", MIN_DEPTH, Q)
    assert many.score == 0  # never below zero


def test_a_dropped_lowering_costs_tempo_only_where_the_lowering_must_be_controlled() -> None:
    fast = score_rep(rep(down_s=0.1), "squat", MIN_DEPTH, Q)
    assert [d.cause for d in fast.deductions] == ["tempo"] and fast.score == 100 - Q.tempo_points
    assert score_rep(rep(down_s=0.1), "jumping_jack", MIN_DEPTH, Q).score == 100


# ------------------------------------------------------------------ sets and rest


def rep_event(n: int, start_t: float, end_t: float, exercise: str = "squat", score: int | None = 100) -> FeedbackEvent:
    details: dict = {"rep": n, "start_t": start_t, "bottom_t": (start_t + end_t) / 2, "end_t": end_t}
    details.update(depth=1.0, down_s=(end_t - start_t) / 2, up_s=(end_t - start_t) / 2, faults=[])
    if score is not None:
        details["quality"] = {
            "score": score,
            "deductions": [] if score == 100 else [{"cause": "x", "points": 100 - score}],
        }
    return FeedbackEvent(t=end_t, code="rep", text="", kind="rep", severity="info", exercise=exercise, details=details)


def run(
    tracker: SetTracker, reps: dict[float, FeedbackEvent], until_s: float, bpm=lambda t: None
) -> list[FeedbackEvent]:
    """Frames every 0.1 s; a rep event arrives on the frame at its end time."""
    out = []
    for i in range(round(until_s * 10) + 1):
        t = round(i * 0.1, 1)
        out += tracker.update(t, [reps[t]] if t in reps else [], bpm(t))
    return out


def test_a_set_ends_after_the_rest_and_the_rest_is_timed_and_announced() -> None:
    tracker = SetTracker(SetsConfig(end_after_s=10.0, rest_target_s=30.0), good_min_score=80)
    first = {2.0: rep_event(1, 0.5, 2.0), 4.0: rep_event(2, 2.5, 4.0, score=60), 6.0: rep_event(3, 4.5, 6.0, score=90)}
    second = {56.0: rep_event(4, 54.0, 56.0)}
    events = run(tracker, {**first, **second}, until_s=80.0)
    codes = [(e.t, e.code) for e in events]
    assert codes == [(16.0, "set_end"), (36.0, "rest_over"), (66.0, "set_end")]
    one, rest, two = events
    expected = {
        "set": 1,
        "reps": 3,
        "good_reps": 2,
        "mean_quality": round(250 / 3, 3),
        "start_t": 0.5,
        "end_t": 6.0,
        "rest_before_s": None,
        "ended_by": "rest",
    }
    assert {k: one.details[k] for k in expected} == expected
    assert "Set 1 done: 3 reps of squat" in one.text and "Rest 30 s" in one.text
    assert rest.details == {"rest_s": 30.0, "next_set": 2} and "set 2" in rest.text
    assert two.details["set"] == 2 and two.details["rest_before_s"] == 48.0  # last rep end 6.0 -> next start 54.0


def test_another_exercise_or_the_session_end_ends_the_open_set_at_once() -> None:
    tracker = SetTracker(SetsConfig(end_after_s=10.0), good_min_score=80)
    reps = {2.0: rep_event(1, 0.5, 2.0), 4.0: rep_event(1, 2.5, 4.0, exercise="push_up")}
    events = run(tracker, reps, until_s=5.0)
    assert [(e.code, e.exercise, e.details["ended_by"], e.details["reps"]) for e in events] == [
        ("set_end", "squat", "exercise_changed", 1)
    ]
    (end,) = tracker.finish(5.0)
    assert (end.exercise, end.details["set"], end.details["ended_by"]) == ("push_up", 1, "session_end")
    assert tracker.finish(6.0) == []  # nothing open any more


def test_the_set_heart_rate_is_taken_from_its_first_rep_start_to_its_last_rep_end() -> None:
    tracker = SetTracker(SetsConfig(end_after_s=5.0), good_min_score=80)
    reps = {4.0: rep_event(1, 2.0, 4.0), 6.0: rep_event(2, 4.0, 6.0)}

    def bpm(t: float) -> float | None:
        if t < 2.0:
            return 90.0  # before the set
        if t <= 6.0:
            return 120.0 + (t - 2.0) * 5  # 120 -> 140 during it
        return 170.0  # after its last rep: not part of the set

    (end,) = run(tracker, reps, until_s=12.0, bpm=bpm)
    assert end.details["heart_rate"] == {"mean_bpm": 130.0, "peak_bpm": 140.0}


def test_no_heart_rate_and_no_quality_are_reported_as_unknown() -> None:
    tracker = SetTracker(SetsConfig(end_after_s=5.0), good_min_score=80)
    (end,) = run(tracker, {2.0: rep_event(1, 0.5, 2.0, score=None)}, until_s=8.0)
    assert (
        end.details["heart_rate"] is None and end.details["good_reps"] is None and end.details["mean_quality"] is None
    )


def test_session_tally_counts_good_faulty_and_shallow_reps_per_exercise() -> None:
    tally = SessionTally(good_min_score=80)
    shallow = rep_event(2, 2.0, 3.0, score=70)
    shallow.details["quality"]["deductions"] = [{"cause": "range", "points": 30}]
    faulty = rep_event(3, 3.0, 4.0, score=70)
    faulty.details["faults"] = ["hips_sag"]
    for event in (rep_event(1, 0.0, 1.0), shallow, faulty, rep_event(1, 5.0, 6.0, exercise="push_up")):
        tally.add(event)
    tally.add(FeedbackEvent(t=9.0, code="set_end", text="", kind="set", exercise="squat"))
    tally.add(FeedbackEvent(t=9.0, code="knee_valgus", text="", kind="form", exercise="squat"))
    assert tally.reps() == 4 and tally.reps_by_exercise() == {"squat": 3, "push_up": 1}
    assert tally.to_dict()["squat"] == {
        "reps": 3,
        "good_reps": 1,
        "faulty_reps": 1,
        "shallow_reps": 1,
        "mean_quality": 80.0,
        "sets": 1,
        "faults": {"hips_sag": 1},
    }


# ------------------------------------------------------------------ on real recorded reps


def pushups(after_s: float = 0.0) -> list[PoseSample]:
    rec = load_recording(PUSH_UPS)
    return [PoseSample(s.t_s + after_s, s.width, s.height, s.image, s.world) for s in rec.samples()]


def push_up_config(**sets: float) -> Config:
    config = Config()
    config.coach.exercise = Exercise.PUSH_UP
    config.coach.sets = SetsConfig(**sets)
    return config


def test_real_push_ups_two_sets_with_a_rest_between_and_every_rep_scored() -> None:
    config = push_up_config(end_after_s=8.0, rest_target_s=20.0)
    samples = pushups() + pushups(after_s=60.0)
    report = analyze_samples(samples, config, "two sets")
    reps = [e for e in report.events if e.code == "rep"]
    assert len(reps) >= 4
    for event in reps:
        quality = event.details["quality"]
        assert 0 <= quality["score"] <= 100
        assert quality["score"] == 100 - sum(d["points"] for d in quality["deductions"])
    sets = [e for e in report.events if e.code == "set_end"]
    assert [e.details["set"] for e in sets] == [1, 2]
    assert [e.details["ended_by"] for e in sets] == ["rest", "session_end"]
    assert sum(e.details["reps"] for e in sets) == len(reps)
    assert sets[1].details["rest_before_s"] > 50.0
    rests = [e for e in report.events if e.code == "rest_over"]
    assert len(rests) == 1 and sets[0].t < rests[0].t < sets[1].t
    session = report.to_dict(0.0, 0.0)["session"]["push_up"]
    assert session["reps"] == len(reps) and session["sets"] == 2
    assert session["good_reps"] == sum(e.details["quality"]["score"] >= 80 for e in reps)


def test_the_coach_carries_the_heart_rate_into_the_set() -> None:
    config = push_up_config(end_after_s=3.0)
    coach = Coach(config.coach)
    smoother = make_smoother(config.smoothing)
    events: list[FeedbackEvent] = []
    for sample in pushups():
        events += coach.update(smoother.smooth(sample), heart_rate_bpm=100.0 + sample.t_s).events
    events += coach.finish(pushups()[-1].t_s)
    (end,) = [e for e in events if e.code == "set_end"]
    heart = end.details["heart_rate"]
    assert heart is not None and 100.0 < heart["mean_bpm"] < heart["peak_bpm"] <= 100.0 + end.details["end_t"]


# ------------------------------------------------------------------ heart-rate zones


def test_zone_changes_are_steadied_on_a_boundary() -> None:
    zones = ZoneTracker(hold_s=5.0)
    assert zones.update(0.0, 3) is None and zones.update(4.9, 3) is None
    assert zones.update(5.0, 3) == (None, 3)
    # hovering on the 3/4 boundary: never 5 s in zone 4, no change
    changes = [zones.update(5.0 + i, 4 if i % 2 else 3) for i in range(1, 20)]
    assert changes == [None] * 19 and zones.zone == 3
    assert zones.update(25.0, 3) is None
    assert [zones.update(30.0 + i, 4) for i in range(6)] == [None] * 5 + [(3, 4)]  # held 5 s


def test_the_state_reports_zone_changes_once_and_the_freshest_heart_rate() -> None:
    config = WearablesConfig(
        straps={"AA:BB:CC:DD:EE:FF": "alice"}, users={"alice": {"max_hr_bpm": 200}}, zone_hold_s=2.0
    )
    state = WearableState(config)
    for i in range(5):
        state.apply(HeartRateReading("AA:BB:CC:DD:EE:FF", float(i), 130))  # 65 %: zone 2
    for i in range(5, 10):
        state.apply(HeartRateReading("AA:BB:CC:DD:EE:FF", float(i), 170))  # 85 %: zone 4
    changes = state.take_zone_changes()
    assert [(c.previous_zone, c.zone, c.bpm, c.user, c.t_s) for c in changes] == [
        (None, 2, 130, "alice", 2.0),
        (2, 4, 170, "alice", 7.0),
    ]
    assert state.take_zone_changes() == []
    assert state.heart_rate(9.5) == 170
    assert state.heart_rate(9.0 + config.stale_after_s + 0.1) is None  # stale: no heart rate


@pytest.mark.parametrize("field", ["end_after_s", "rest_target_s"])
def test_sets_settings_are_validated(field: str) -> None:
    with pytest.raises(ValueError):
        SetsConfig(**{field: -1})


def test_the_end_of_a_set_and_of_the_rest_are_spoken_a_rep_is_not() -> None:
    from mqtt_helpers import wait_until

    from gymcorner.config import load_config
    from gymcorner.motivation.service import Motivation
    from gymcorner.motivation.speech import Speaker

    motivation = Motivation(load_config(None))
    motivation.speaker = Speaker(command=["true"])
    try:
        set_end = FeedbackEvent(t=9.0, code="set_end", text="Set 1 done: 3 reps of squat.", kind="set")
        rest = FeedbackEvent(t=99.0, code="rest_over", text="Rest over.", kind="info")
        motivation.hear([rep_event(3, 6.0, 7.0), set_end, rest], 3)
        wait_until(lambda: len(motivation.speaker.spoken) == 2, what="two lines spoken")
        assert motivation.speaker.spoken == [set_end.text, rest.text]
    finally:
        motivation.close()


def test_a_set_of_a_movement_never_taught_is_summed_up_without_a_name_and_joins_a_recognised_one() -> None:
    tracker = SetTracker(SetsConfig(end_after_s=5.0, rest_target_s=10.0), good_min_score=80)
    untaught = {2.0: rep_event(1, 0.5, 2.0, exercise="unknown", score=None)}
    (end, rest) = run(tracker, untaught, until_s=20.0)
    assert end.text == "Set 1 done: 1 rep. Rest 10 s." and rest.text == "Rest over (10 s): ready for set 2."
    tally = SessionTally(good_min_score=80)
    reps = {30.0: rep_event(1, 29.0, 30.0, exercise="unknown", score=None), 32.0: rep_event(2, 31.0, 32.0)}
    events = run(tracker, reps, until_s=40.0)
    for event in [*reps.values(), *events]:
        tally.add(event)
    (squats,) = [e for e in events if e.code == "set_end"]
    assert (squats.exercise, squats.details["set"], squats.details["reps"]) == ("squat", 1, 2)
    assert tally.reps_by_exercise() == {"squat": 2}  # the rep counted before the exercise was known is a squat
