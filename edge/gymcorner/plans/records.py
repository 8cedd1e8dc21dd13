"""A member's stored data (`Store.member_data`) as the plan generator's profile and history.

Each stored session becomes a `SessionDone` on the day it started (UTC); each stored set
of an exercise a `SetDone` with its reps, good reps, mean quality, peak heart rate and the
faults of its reps, and its planned reps when the session was started with the member's
plan (a set without a target counts as complete).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any, cast, get_args

from gymcorner.plans.generator import Goal, Level, Profile, SessionDone, SetDone

GOALS: tuple[str, ...] = get_args(Goal)
LEVELS: tuple[str, ...] = get_args(Level)


class ProfileError(ValueError):
    """A stored profile field the plan generator cannot use."""


def profile_of(member: Mapping[str, Any]) -> Profile:
    goal = member.get("goal") or "general_fitness"
    level = member.get("level") or "beginner"
    if goal not in GOALS:
        raise ProfileError(f"goal {goal!r} is not one of {', '.join(GOALS)}")
    if level not in LEVELS:
        raise ProfileError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    max_hr = member.get("max_hr_bpm")
    return Profile(
        name=str(member.get("display_name", "")),
        goal=cast(Goal, goal),
        level=cast(Level, level),
        year_of_birth=member.get("birth_year"),
        weight_kg=member.get("weight_kg"),
        height_cm=member.get("height_cm"),
        max_hr_bpm=float(max_hr) if max_hr is not None else None,
    )


def _faults(value: Any) -> list[str]:
    if isinstance(value, str):  # stored as JSON text by some backends
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(f) for f in value] if isinstance(value, list) else []


def history_of(data: Mapping[str, Any]) -> list[SessionDone]:
    """The member's sessions with at least one set, oldest first."""
    faults: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for rep in data.get("reps", []):
        faults[(rep["session_id"], rep["set_number"])].update(_faults(rep.get("faults")))
    sets: dict[int, dict[str, list[SetDone]]] = defaultdict(lambda: defaultdict(list))
    for row in data.get("sets", []):
        if not row.get("exercise") or not row.get("reps"):
            continue
        sets[row["session_id"]][row["exercise"]].append(
            SetDone(
                reps=int(row["reps"]),
                target_reps=row.get("target_reps"),
                good_reps=row.get("good_reps"),
                mean_quality=row.get("mean_quality"),
                faults=dict(faults[(row["session_id"], row["number"])]),
                peak_hr_bpm=row.get("hr_peak_bpm"),
            )
        )
    out = []
    for session in data.get("sessions", []):
        done = sets.get(session["id"])
        if done:
            day = dt.datetime.fromtimestamp(float(session["started_at"]), tz=dt.timezone.utc).date()
            out.append(SessionDone(day, {exercise: list(s) for exercise, s in done.items()}))
    return sorted(out, key=lambda s: s.day)
