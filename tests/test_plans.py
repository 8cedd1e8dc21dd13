"""The plan generator: each rule on a history made for it, and two different members."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from gymcorner.plans.generator import GUIDELINES, Profile, SessionDone, SetDone, generate_plan

TODAY = dt.date(2026, 12, 1)


def day(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def squats(*sets: SetDone, ago: int) -> SessionDone:
    return SessionDone(day(ago), {"squat": list(sets)})


def clean(reps: int, target: int | None = None, quality: float = 92.0) -> SetDone:
    return SetDone(reps=reps, target_reps=target or reps, good_reps=reps, mean_quality=quality)


def item(plan, exercise: str = "squat"):
    found = plan.next_target(exercise)
    assert found is not None, f"{exercise} not planned"
    return found


def test_a_new_beginner_starts_at_the_bottom_of_the_range_with_reasons_and_sources() -> None:
    plan = generate_plan(Profile("ana", goal="hypertrophy", level="beginner"), [], TODAY)
    assert [i.exercise for i in plan.sessions[0].items] == ["squat", "push_up", "lunge", "plank"]
    squat = item(plan)
    assert (squat.sets, squat.reps, squat.rest_s) == (2, 8, 90)
    assert any("first time" in r for r in squat.reasons)
    assert item(plan, "plank").to_dict()["unit"] == "s"
    for planned in plan.sessions:
        for i in planned.items:
            assert i.reasons and all(g in GUIDELINES for g in i.guidelines)
    days = [s.day for s in plan.sessions]
    assert days[0] == TODAY and all((b - a).days >= 2 for a, b in itertools.pairwise(days))


def test_two_clean_complete_sessions_progress_two_reps_then_a_set() -> None:
    profile = Profile("ben", goal="hypertrophy", level="beginner")
    history = [squats(clean(10), clean(10), ago=4), squats(clean(10), clean(10), ago=2)]
    squat = item(generate_plan(profile, history, TODAY))
    assert (squat.sets, squat.reps) == (2, 12) and any("progress" in r for r in squat.reasons)
    at_top = [squats(clean(12), clean(12), ago=4), squats(clean(12), clean(12), ago=2)]
    squat = item(generate_plan(profile, at_top, TODAY))
    assert (squat.sets, squat.reps) == (3, 8) and any("one more set" in r for r in squat.reasons)


def test_one_clean_session_is_not_enough_to_progress() -> None:
    profile = Profile("ben", goal="hypertrophy", level="beginner")
    history = [squats(clean(10, quality=50.0), ago=4), squats(clean(10), clean(10), ago=2)]
    history[0] = squats(SetDone(10, 10, good_reps=5, mean_quality=70.0), ago=4)
    squat = item(generate_plan(profile, history, TODAY))
    assert squat.reps == 10 and any("keep" in r for r in squat.reasons)


def test_poor_form_regresses_and_names_the_fault_the_coach_watches() -> None:
    profile = Profile("cy", goal="general_fitness", level="intermediate")
    faulty = SetDone(12, 12, good_reps=4, mean_quality=55.0, faults={"knee_valgus": 6, "forward_lean": 2})
    squat = item(generate_plan(profile, [squats(faulty, faulty, ago=2)], TODAY))
    assert squat.reps == 10 and "form-first" in squat.guidelines
    assert any("knee valgus" in r for r in squat.reasons)


def test_poor_form_at_the_bottom_of_the_range_says_the_target_stays_instead_of_claiming_a_cut() -> None:
    profile = Profile("ed", goal="strength", level="beginner")  # strength: 6-10 reps a set
    faulty = SetDone(6, 6, good_reps=3, mean_quality=70.0, faults={"knee_valgus": 3})
    squat = item(generate_plan(profile, [squats(faulty, ago=2)], TODAY))
    assert squat.reps == 6
    (form,) = [r for r in squat.reasons if r.startswith("form first")]
    assert "the same 6 reps, the bottom of the range," in form and "fewer" not in form
    one_above = SetDone(7, 7, good_reps=3, mean_quality=70.0, faults={"knee_valgus": 4})
    squat = item(generate_plan(profile, [squats(one_above, ago=2)], TODAY))
    assert squat.reps == 6 and any("1 fewer rep a set" in r for r in squat.reasons)


def test_missed_reps_repeat_the_target() -> None:
    profile = Profile("di", goal="general_fitness", level="beginner")
    missed = SetDone(8, 14, good_reps=8, mean_quality=90.0)
    squat = item(generate_plan(profile, [squats(missed, missed, ago=2)], TODAY))
    assert squat.reps == 14 and any("repeat" in r for r in squat.reasons)


def test_falling_quality_or_a_very_high_heart_rate_deload() -> None:
    profile = Profile("ed", goal="strength", level="intermediate", year_of_birth=1986)  # max 208 - 0.7*40 = 180
    falling = [squats(clean(8, quality=q), clean(8, quality=q), clean(8, quality=q), ago=a) for q, a in
               ((90.0, 6), (85.0, 4), (80.0, 2))]  # fmt: skip
    squat = item(generate_plan(profile, falling, TODAY))
    assert (squat.sets, squat.rest_s) == (2, 180) and any("deload" in r for r in squat.reasons)
    hard = SetDone(8, 8, good_reps=8, mean_quality=90.0, peak_hr_bpm=170.0)  # 94 % of 180
    squat = item(generate_plan(profile, [squats(hard, hard, hard, ago=2)], TODAY))
    assert squat.sets == 2 and any("170 bpm" in r for r in squat.reasons)


def test_two_members_get_different_plans_for_different_reasons() -> None:
    young = Profile("fay", goal="weight_loss", level="beginner", year_of_birth=2000)
    older = Profile("gus", goal="strength", level="intermediate", year_of_birth=1955)
    young_plan, older_plan = generate_plan(young, [], TODAY), generate_plan(older, [], TODAY)
    assert "jumping_jack" in [i.exercise for i in young_plan.sessions[0].items]
    assert "jumping_jack" not in [i.exercise for i in older_plan.sessions[0].items]
    assert any("balance" in n for n in older_plan.notes)
    assert item(young_plan).rest_s < item(older_plan).rest_s
    assert young_plan.to_dict() != older_plan.to_dict()


def test_the_first_session_waits_48_hours_after_the_last_one() -> None:
    plan = generate_plan(Profile("hal"), [squats(clean(10), ago=1)], TODAY)
    assert plan.sessions[0].day == TODAY + dt.timedelta(days=1)


def test_a_plan_has_at_least_one_session() -> None:
    with pytest.raises(ValueError):
        generate_plan(Profile("ivy"), [], TODAY, sessions=0)


def test_an_older_member_gets_moderate_loads() -> None:
    plan = generate_plan(Profile("jo", goal="strength", level="intermediate", year_of_birth=1955), [], TODAY)
    squat = item(plan)
    assert squat.reps == 10 and "who-2020" in squat.guidelines
    young = item(generate_plan(Profile("jo", goal="strength", level="intermediate", year_of_birth=1995), [], TODAY))
    assert young.reps == 6


def test_the_plan_command_prints_reasons_writes_json_and_refuses_bad_files(tmp_path, capsys) -> None:
    import json

    from gymcorner.cli import main
    from gymcorner.errors import ConfigError

    profile = tmp_path / "ana.toml"
    profile.write_text('name = "ana"\ngoal = "endurance"\nlevel = "beginner"\nyear_of_birth = 1990\n')
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{"day": "2026-11-29", "sets": {"squat": [{"reps": 15, "target_reps": 15}]}}]))
    out = tmp_path / "plan.json"
    assert main(["plan", str(profile), "--history", str(history), "--today", "2026-12-01", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "plan for ana" in text and "why:" in text and "[acsm-2009]" in text
    written = json.loads(out.read_text())
    assert written["member"] == "ana" and written["sessions"][0]["day"] == "2026-12-01"
    squat = next(i for i in written["sessions"][0]["items"] if i["exercise"] == "squat")
    assert squat["reps"] == 15 and squat["reasons"] and squat["guidelines"][0]["id"] == "acsm-2009"

    history.write_text(json.dumps([{"day": "yesterday", "sets": {}}]))
    with pytest.raises(ConfigError, match=r"history.json: 0\.day"):
        main(["plan", str(profile), "--history", str(history)])
    profile.write_text('name = "ana"\nlevel = "expert"\n')
    with pytest.raises(ConfigError, match=r"ana.toml: level"):
        main(["plan", str(profile)])
    profile.write_text("name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        main(["plan", str(profile)])
