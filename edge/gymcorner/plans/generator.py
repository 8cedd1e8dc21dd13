"""A rule-based, explainable plan generator: the next sessions from a member's profile,
goal and recent history.

Every number in a plan comes from one rule below, and every plan item carries the reason
in plain words and the guideline the rule follows (`GUIDELINES`; the full references are
in docs/plans.md). Nothing is learned and nothing is random: the same profile and history
give the same plan.

The rules, in order:

1. **Exercises** by goal and level, from what the box can coach. Older members (65+) get no
   jumping jacks (impact), moderate loads (at least 10 reps a set) and a balance note.
2. **Sets, reps and rest** by goal: the rep range and rest interval of the goal, the number
   of sets by level.
3. **Where to start**: the rep target of the member's last session of that exercise, else
   the bottom of the goal's range.
4. **Progression** when the last two sessions of the exercise were completed (every set at
   its target) with clean form (at least `CLEAN_SHARE` good reps): two more reps a set; at the
   top of the range, one more set (up to the level's maximum) and back to the bottom.
5. **Regression** when the last session's form was poor (more than `FAULTY_SHARE` of reps
   faulty, or mean quality below `POOR_QUALITY`): two reps fewer a set, and the most
   frequent fault named so the coach watches it.
6. **Repeat** when reps were missed (less than `COMPLETED_SHARE` of the target done).
7. **Deload** when the quality has fallen over each of the last three sessions, or when the
   heart rate reached 90 % of the member's maximum in the last one: one set fewer, rest longer.
8. **Schedule**: sessions on non-consecutive days (at least 48 hours apart), as many a week
   as the level's frequency.

Pure: dates and history come in as data; the storage layer and the dashboard feed it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Goal = Literal["strength", "hypertrophy", "endurance", "general_fitness", "weight_loss"]
Level = Literal["beginner", "intermediate", "advanced"]

CLEAN_SHARE = 0.8  # good reps / reps for "clean form"
FAULTY_SHARE = 0.3  # faulty reps / reps above which form is "poor"
POOR_QUALITY = 60.0  # mean quality below which form is "poor"
COMPLETED_SHARE = 0.8  # reps done / reps targeted below which reps were "missed"
HIGH_HR_SHARE = 0.9  # peak heart rate / maximum from which the session was very hard
OLDER_ADULT_AGE = 65
OLDER_ADULT_MIN_REPS = 10  # moderate intensity: 10-15 reps a set


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"

GUIDELINES: dict[str, str] = {
    "acsm-2009": "ACSM position stand: progression models in resistance training for healthy adults (2009)",
    "acsm-gl": "ACSM's Guidelines for Exercise Testing and Prescription: resistance training frequency and recovery",
    "who-2020": "WHO guidelines on physical activity and sedentary behaviour (2020)",
    "form-first": "gymcorner: form before volume (the coach's own fault counts)",
}


@dataclass(frozen=True)
class Profile:
    name: str
    goal: Goal = "general_fitness"
    level: Level = "beginner"
    year_of_birth: int | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    max_hr_bpm: float | None = None  # measured; else 208 - 0.7 x age when the age is known

    def age(self, today: dt.date) -> int | None:
        return None if self.year_of_birth is None else today.year - self.year_of_birth

    def max_hr(self, today: dt.date) -> float | None:
        if self.max_hr_bpm is not None:
            return self.max_hr_bpm
        age = self.age(today)
        return None if age is None else 208.0 - 0.7 * age


@dataclass(frozen=True)
class SetDone:
    reps: int
    target_reps: int | None = None
    good_reps: int | None = None
    mean_quality: float | None = None
    faults: dict[str, int] = field(default_factory=dict)
    peak_hr_bpm: float | None = None


@dataclass(frozen=True)
class SessionDone:
    day: dt.date
    sets: dict[str, list[SetDone]]  # per exercise, in order


@dataclass(frozen=True)
class PlanItem:
    exercise: str
    sets: int
    reps: int  # per set; for a plank, seconds held
    rest_s: int
    reasons: tuple[str, ...]
    guidelines: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "sets": self.sets,
            "reps": self.reps,
            "unit": "s" if self.exercise == "plank" else "reps",
            "rest_s": self.rest_s,
            "reasons": list(self.reasons),
            "guidelines": [{"id": g, "title": GUIDELINES[g]} for g in self.guidelines],
        }


@dataclass(frozen=True)
class PlannedSession:
    day: dt.date
    items: tuple[PlanItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Plan:
    member: str
    sessions: tuple[PlannedSession, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"member": self.member, "sessions": [s.to_dict() for s in self.sessions], "notes": list(self.notes)}

    def next_target(self, exercise: str) -> PlanItem | None:
        """The next session's item for `exercise` (what the coach and the app are told)."""
        for item in self.sessions[0].items if self.sessions else ():
            if item.exercise == exercise:
                return item
        return None


@dataclass(frozen=True)
class _GoalRule:
    reps: tuple[int, int]  # range per set
    rest_s: int
    why: str


GOALS: dict[str, _GoalRule] = {
    "strength": _GoalRule((6, 10), 150, "strength: fewer, harder reps with long rests (2-3 min)"),
    "hypertrophy": _GoalRule((8, 12), 90, "muscle growth: 8-12 reps with 1-2 min rests"),
    "endurance": _GoalRule((15, 25), 45, "muscular endurance: 15 or more reps with short rests (under 1 min)"),
    "general_fitness": _GoalRule((10, 15), 75, "general fitness: 10-15 reps at a moderate effort"),
    "weight_loss": _GoalRule((12, 20), 45, "weight loss: more reps, short rests, to keep the heart rate up"),
}
PLANK_HOLD_S: dict[str, tuple[int, int]] = {"beginner": (20, 40), "intermediate": (30, 60), "advanced": (45, 90)}
SETS: dict[str, tuple[int, int]] = {"beginner": (1, 3), "intermediate": (2, 4), "advanced": (3, 5)}
START_SETS: dict[str, int] = {"beginner": 2, "intermediate": 3, "advanced": 3}
SESSIONS_PER_WEEK: dict[str, int] = {"beginner": 2, "intermediate": 3, "advanced": 4}

EXERCISES: dict[str, dict[str, tuple[str, ...]]] = {
    "beginner": {
        "default": ("squat", "push_up", "lunge", "plank"),
        "endurance": ("squat", "push_up", "jumping_jack", "plank"),
        "weight_loss": ("squat", "jumping_jack", "lunge", "plank"),
    },
    "intermediate": {
        "default": ("squat", "push_up", "lunge", "pull_up", "plank"),
        "endurance": ("squat", "push_up", "jumping_jack", "lunge", "plank"),
        "weight_loss": ("squat", "jumping_jack", "push_up", "lunge", "plank"),
    },
    "advanced": {
        "default": ("squat", "push_up", "pull_up", "dip", "lunge", "plank"),
        "endurance": ("squat", "push_up", "jumping_jack", "pull_up", "lunge", "plank"),
        "weight_loss": ("squat", "jumping_jack", "push_up", "pull_up", "lunge", "plank"),
    },
}


def _exercises(profile: Profile, today: dt.date) -> tuple[tuple[str, ...], list[str]]:
    table = EXERCISES[profile.level]
    chosen = table.get(profile.goal, table["default"])
    notes = []
    age = profile.age(today)
    if age is not None and age >= OLDER_ADULT_AGE:
        chosen = tuple(e for e in chosen if e != "jumping_jack")
        notes.append(
            f"Age {age}: no jumping jacks (impact); add balance work (standing on one leg, heel-to-toe walk) "
            "on 3 or more days a week [who-2020]."
        )
    return chosen, notes


def _history(sessions: Sequence[SessionDone], exercise: str) -> list[list[SetDone]]:
    """The member's sets of `exercise`, one list per session, newest first."""
    ordered = sorted(sessions, key=lambda s: s.day, reverse=True)
    return [s.sets[exercise] for s in ordered if s.sets.get(exercise)]


def _completed(sets: list[SetDone]) -> float:
    targeted = [s for s in sets if s.target_reps]
    if not targeted:
        return 1.0
    return sum(min(s.reps, s.target_reps or 0) for s in targeted) / sum(s.target_reps or 0 for s in targeted)


def _good_share(sets: list[SetDone]) -> float | None:
    scored = [s for s in sets if s.good_reps is not None]
    reps = sum(s.reps for s in scored)
    return None if not reps else sum(s.good_reps or 0 for s in scored) / reps


def _faulty_share(sets: list[SetDone]) -> float:
    reps = sum(s.reps for s in sets)
    faulty = sum(min(s.reps, sum(s.faults.values())) for s in sets)
    return faulty / reps if reps else 0.0


def _quality(sets: list[SetDone]) -> float | None:
    scored = [(s.mean_quality, s.reps) for s in sets if s.mean_quality is not None and s.reps]
    total = sum(n for _, n in scored)
    return None if not total else sum(q * n for q, n in scored if q is not None) / total


def _top_fault(sets: list[SetDone]) -> str | None:
    faults: Counter[str] = Counter()
    for s in sets:
        faults.update(s.faults)
    return faults.most_common(1)[0][0] if faults else None


def _clean(sets: list[SetDone]) -> bool:
    good = _good_share(sets)
    return _completed(sets) >= 1.0 and good is not None and good >= CLEAN_SHARE


def _poor(sets: list[SetDone]) -> bool:
    quality = _quality(sets)
    return _faulty_share(sets) > FAULTY_SHARE or (quality is not None and quality < POOR_QUALITY)


def _plan_item(
    exercise: str, profile: Profile, history: list[list[SetDone]], max_hr: float | None, age: int | None
) -> PlanItem:
    goal = GOALS[profile.goal]
    low, high = PLANK_HOLD_S[profile.level] if exercise == "plank" else goal.reps
    step = 10 if exercise == "plank" else 2
    min_sets, max_sets = SETS[profile.level]
    reasons = [goal.why if exercise != "plank" else f"plank: holds of {low}-{high} s for {_article(profile.level)}"]
    guidelines = ["acsm-2009"]
    if exercise != "plank" and age is not None and age >= OLDER_ADULT_AGE and low < OLDER_ADULT_MIN_REPS:
        low, high = OLDER_ADULT_MIN_REPS, max(high, OLDER_ADULT_MIN_REPS + 5)
        reasons.append(f"age {age}: moderate effort, {low}-{high} reps a set")
        guidelines.append("who-2020")
    last = history[0] if history else None
    if last is None:
        sets, reps = START_SETS[profile.level], low
        reasons.append(f"first time: start at the bottom of the range, {reps}, with {sets} sets")
        return PlanItem(exercise, sets, reps, goal.rest_s, tuple(reasons), tuple(guidelines))

    previous_target = max((s.target_reps or s.reps) for s in last)
    sets = max(min_sets, min(max_sets, len(last)))
    reps = min(max(previous_target, low), high) if previous_target else low
    rest = goal.rest_s
    quality = [q for q in (_quality(h) for h in history[:3]) if q is not None]
    peak = max((s.peak_hr_bpm for s in last if s.peak_hr_bpm is not None), default=None)

    if len(quality) == 3 and quality[0] < quality[1] < quality[2]:
        sets, rest = max(min_sets, sets - 1), rest + 30
        reasons.append(
            f"deload: quality fell over the last three sessions ({quality[2]:.0f} -> {quality[1]:.0f} -> "
            f"{quality[0]:.0f}); one set fewer and 30 s more rest to recover"
        )
        guidelines.append("acsm-gl")
    elif max_hr is not None and peak is not None and peak >= HIGH_HR_SHARE * max_hr:
        sets, rest = max(min_sets, sets - 1), rest + 30
        reasons.append(
            f"deload: the heart rate reached {peak:.0f} bpm, {100 * peak / max_hr:.0f} % of the maximum "
            f"({max_hr:.0f}); one set fewer and 30 s more rest"
        )
        guidelines.append("acsm-gl")
    elif _poor(last):
        fault = _top_fault(last)
        shorter = max(low, reps - step)
        cut, reps = reps - shorter, shorter
        watch = f"; the coach watches {fault.replace('_', ' ')}" if fault else ""
        if not cut:  # already at the range's bottom: say so rather than claim a cut
            change = f"the same {reps}{' s' if exercise == 'plank' else ' reps'}, the bottom of the range,"
        elif exercise == "plank":
            change = f"holds {cut} s shorter"
        else:
            change = f"{cut} fewer rep{'' if cut == 1 else 's'} a set"
        reasons.append(
            f"form first: {100 * _faulty_share(last):.0f} % of last session's reps had a fault, so "
            f"{change} until they are clean{watch}"
        )
        guidelines.append("form-first")
    elif _completed(last) < COMPLETED_SHARE:
        reasons.append(
            f"repeat: {100 * _completed(last):.0f} % of last session's target was done; the same target again"
        )
    elif len(history) >= 2 and _clean(history[0]) and _clean(history[1]):
        if reps + step <= high:
            reps += step
            reasons.append(f"progress: the last two sessions were complete with clean form; {step} more a set")
        elif sets < max_sets:
            sets, reps = sets + 1, low
            reasons.append(
                "progress: the top of the range was done cleanly twice; one more set, back to the bottom of the range"
            )
        else:
            reasons.append("at the top of the range and of the sets: keep it, or take a harder variation")
    else:
        reasons.append("keep: not yet two complete, clean sessions at this target")
    return PlanItem(exercise, sets, reps, rest, tuple(reasons), tuple(guidelines))


def generate_plan(
    profile: Profile, history: Sequence[SessionDone], today: dt.date, sessions: int = 3
) -> Plan:
    """The next `sessions` sessions for `profile`, from `today` on."""
    if sessions < 1:
        raise ValueError("a plan has at least one session")
    exercises, notes = _exercises(profile, today)
    max_hr = profile.max_hr(today)
    age = profile.age(today)
    items = tuple(_plan_item(e, profile, _history(history, e), max_hr, age) for e in exercises)
    per_week = SESSIONS_PER_WEEK[profile.level]
    gap_days = max(2, 7 // per_week)  # at least 48 h between sessions of the same muscles
    notes.append(
        f"{per_week} sessions a week, at least 48 hours apart, for {_article(profile.level)} [acsm-2009, acsm-gl]."
    )
    last_day = max((s.day for s in history), default=None)
    first = today if last_day is None or (today - last_day).days >= 2 else last_day + dt.timedelta(days=2)
    planned = tuple(
        PlannedSession(first + dt.timedelta(days=i * gap_days), items) for i in range(sessions)
    )
    return Plan(profile.name, planned, tuple(notes))
