"""A member's sessions as the charts see them: one `SessionPoint` per session from the rows
`Store.member_data` returns (reps, sets, the sessions' own summaries), means over the reps
that carry a value (depth and tempo per exercise), the session's heart rate from its summary
or else from its sets.

A rep's `depth` is its deepest joint-angle phase (1: the exercise's full range) only for
the exercises the coach has a phase for (`coach.reps.PHASES`: squat, push-up ...). The
others (bench press, front raise, sit-up, cable pushdown, russian twist, and reps counted
while the exercise was unknown) are counted by the label-free counter, whose `depth` is
the movement's amplitude in units of its own recent range: no depth chart for those.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from gymcorner.coach.reps import PHASES
from gymcorner.dashboard.charts import ExerciseMeans, SessionPoint

CHART_SESSIONS = 30  # the newest sessions a member's charts show
Row = dict[str, Any]
PHASE_DEPTH = frozenset(str(e) for e in PHASES)  # the exercises whose rep depth is a phase


def has_phase_depth(exercise: str) -> bool:
    """Whether `exercise`'s reps carry a phase depth (1: full range), rather than an amplitude."""
    return exercise in PHASE_DEPTH


def exercises_of(points: list[SessionPoint]) -> list[str]:
    """The exercises the sessions have reps of, the most reps first (then by name)."""
    total: Counter[str] = Counter()
    for p in points:
        total.update(p.reps)
    return sorted((x for x, n in total.items() if n), key=lambda x: (-total[x], x))


def points_of(data: dict[str, Any]) -> list[SessionPoint]:
    """The newest CHART_SESSIONS sessions of `member_data`, oldest first, as the charts see them."""
    reps_of = _by_session(data["reps"])
    sets_of = _by_session(data["sets"])
    points = []
    for s in data["sessions"][-CHART_SESSIONS:]:
        reps = reps_of.get(s["id"], [])
        faults = sum(len(faults_of(r.get("faults"))) for r in reps)
        per_exercise: dict[str, list[Row]] = {}
        for r in reps:
            per_exercise.setdefault(_exercise(r), []).append(r)
        label = time.strftime("%m-%d %H:%M", time.gmtime(float(s["started_at"])))
        hr_mean, hr_peak = _heart_rate(s, sets_of.get(s["id"], []))
        points.append(
            SessionPoint(
                label,
                {x: len(rows) for x, rows in per_exercise.items()},
                _mean(reps, "quality_score"),
                faults,
                per_exercise={
                    x: ExerciseMeans(
                        _mean(rows, "depth") if has_phase_depth(x) else None,  # an amplitude is no depth
                        _mean(rows, "down_s"),
                        _mean(rows, "up_s"),
                    )
                    for x, rows in per_exercise.items()
                },
                hr_mean_bpm=hr_mean,
                hr_peak_bpm=hr_peak,
            )
        )
    return points


def _exercise(rep: Row) -> str:
    return str(rep.get("exercise") or "unknown")


def _by_session(rows: list[Row]) -> dict[int, list[Row]]:
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(int(row["session_id"]), []).append(row)
    return grouped


def _mean(rows: list[Row], column: str) -> float | None:
    """The mean of a column over the rows that have it; None when none has."""
    values = [float(r[column]) for r in rows if r.get(column) is not None]
    return sum(values) / len(values) if values else None


def _heart_rate(session: Row, sets: list[Row]) -> tuple[float | None, float | None]:
    """The session's mean and peak bpm (from its summary); its sets' when the summary has none."""
    mean, peak = session.get("hr_mean_bpm"), session.get("hr_peak_bpm")
    peaks = [float(x["hr_peak_bpm"]) for x in sets if x.get("hr_peak_bpm") is not None]
    return (
        float(mean) if mean is not None else _mean(sets, "hr_mean_bpm"),
        float(peak) if peak is not None else (max(peaks) if peaks else None),
    )


def faults_of(value: Any) -> list[str]:
    """A rep's faults column (JSON text, or a list already) as a list of fault names."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(f) for f in value] if isinstance(value, list) else []
