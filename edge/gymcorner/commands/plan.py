"""`gymcorner plan`: a member's next sessions from a profile file and their history.

The profile is TOML or JSON (name, goal, level, year_of_birth, weight_kg, height_cm,
max_hr_bpm); the history is JSON, a list of sessions
`{"day": "2026-11-28", "sets": {"squat": [{"reps": 10, "target_reps": 10, "good_reps": 9,
"mean_quality": 88, "faults": {"knee_valgus": 1}, "peak_hr_bpm": 151}]}}`. Bad input is one
line naming the file and the field.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from gymcorner.commands.output import write_json
from gymcorner.errors import ConfigError
from gymcorner.plans.generator import GUIDELINES, Plan, Profile, SessionDone, generate_plan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (Jetson)
    import tomli as tomllib


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read ({err})") from err
    try:
        return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'} ({err})") from err


def _validate(adapter: TypeAdapter[Any], data: Any, path: Path) -> Any:
    try:
        return adapter.validate_python(data, strict=False)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from err


def load_profile(path: str | Path) -> Profile:
    p = Path(path)
    profile: Profile = _validate(TypeAdapter(Profile), _read(p), p)
    return profile


def load_history(path: str | Path | None) -> list[SessionDone]:
    if path is None:
        return []
    p = Path(path)
    history: list[SessionDone] = _validate(TypeAdapter(list[SessionDone]), _read(p), p)
    return history


def format_plan(plan: Plan) -> str:
    lines = [f"plan for {plan.member}"]
    for session in plan.sessions:
        lines.append(f"{session.day.isoformat()}:")
        for item in session.items:
            unit = "s" if item.exercise == "plank" else "reps"
            lines.append(f"  {item.exercise:<13} {item.sets} x {item.reps} {unit}, rest {item.rest_s} s")
    first = plan.sessions[0]
    lines.append("why:")
    for item in first.items:
        lines.append(f"  {item.exercise}: " + "; ".join(item.reasons) + f" [{', '.join(item.guidelines)}]")
    lines += [f"note: {n}" for n in plan.notes]
    cited = {g for note in plan.notes for g in GUIDELINES if f"{g}]" in note or f"{g}," in note}
    used = sorted({g for item in first.items for g in item.guidelines} | cited)
    lines += [f"[{g}] {GUIDELINES[g]}" for g in used]
    return "\n".join(lines)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "plan",
        help="a member's next sessions, each choice with its reason",
        description="Plan the next sessions from a profile (goal, level, age) and the member's history: exercise "
        "choice, sets, reps and rest; progression after two complete sessions with clean form, regression when "
        "form was poor, a deload when quality falls or the heart rate ran very high. Every choice is explained "
        "and names the guideline it follows (docs/plans.md).",
    )
    p.add_argument("profile", help="profile file (.toml or .json)")
    p.add_argument("--history", metavar="FILE", help="past sessions (JSON list; see docs/plans.md)")
    add_plan_options(p)
    return p


def add_plan_options(p: argparse.ArgumentParser) -> None:
    """--sessions, --today and --json, for `plan` and `members plan` alike."""
    p.add_argument("--sessions", type=int, default=3, help="how many sessions to plan (default: %(default)s)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="plan from this day (default: today)")
    p.add_argument("--json", metavar="OUT", help="write the plan as JSON")


def print_plan(profile: Profile, history: list[SessionDone], args: argparse.Namespace) -> None:
    """Plan as `add_plan_options` asked, print it and write its JSON."""
    try:
        today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    except ValueError as err:
        raise ConfigError(f"--today: {err}") from err
    if args.sessions < 1:
        raise ConfigError("--sessions must be at least 1")
    plan = generate_plan(profile, history, today, args.sessions)
    write_json(args.json, plan.to_dict())
    print(format_plan(plan))


def cmd_plan(args: argparse.Namespace, stop: threading.Event) -> int:
    print_plan(load_profile(args.profile), load_history(args.history), args)
    return 0
