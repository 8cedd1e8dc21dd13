"""A member's sessions as the charts see them: one `SessionPoint` per session from the rows
`Store.member_data` returns (reps, sets, the sessions' own summaries), means over the reps
that carry a value, the session's heart rate from its summary or else from its sets.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from gymcorner.dashboard.charts import SessionPoint

CHART_SESSIONS = 30  # the newest sessions a member's charts show
Row = dict[str, Any]


def points_of(data: dict[str, Any]) -> list[SessionPoint]:
    """The newest CHART_SESSIONS sessions of `member_data`, oldest first, as the charts see them."""
    reps_of = _by_session(data["reps"])
    sets_of = _by_session(data["sets"])
    points = []
    for s in data["sessions"][-CHART_SESSIONS:]:
        reps = reps_of.get(s["id"], [])
        faults = sum(len(faults_of(r.get("faults"))) for r in reps)
        counts = Counter(str(r.get("exercise") or "unknown") for r in reps)
        label = time.strftime("%m-%d %H:%M", time.gmtime(float(s["started_at"])))
        hr_mean, hr_peak = _heart_rate(s, sets_of.get(s["id"], []))
        points.append(
            SessionPoint(
                label,
                dict(counts),
                _mean(reps, "quality_score"),
                faults,
                mean_depth=_mean(reps, "depth"),
                down_s=_mean(reps, "down_s"),
                up_s=_mean(reps, "up_s"),
                hr_mean_bpm=hr_mean,
                hr_peak_bpm=hr_peak,
            )
        )
    return points


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
