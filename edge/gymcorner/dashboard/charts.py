"""Charts as inline SVG, drawn on the server: no chart library, no script, no CDN.

Each function takes plain numbers (one entry per session, oldest first) and returns one
`<svg>` element whose marks carry a class (`bar`, `point`; a line chart's `line` and
dashed `trend`) and a `<title>` (the value, as a tooltip and for screen readers). Every
text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 40
PALETTE = ("#2a9d8f", "#e76f51", "#264653", "#e9c46a", "#8d5fd3", "#f4a261", "#3a86ff")


@dataclass(frozen=True)
class ExerciseMeans:
    """One exercise's reps of one session: their means (None: no rep of it carried the value)."""

    depth: float | None = None  # the reps' peak phase (1: the full range of the exercise)
    down_s: float | None = None  # mean seconds of a rep's way down (the eccentric part)
    up_s: float | None = None  # and of its way up


NO_MEANS = ExerciseMeans()


@dataclass(frozen=True)
class SessionPoint:
    """One session as the charts see it: means over its reps, its heart rate (None: not known).
    Depth and tempo are per exercise: a squat's depth and a push-up's are different measures."""

    label: str  # the session's day and time, shown under its mark
    reps: Mapping[str, int]  # per exercise
    mean_quality: float | None
    faults: int
    per_exercise: Mapping[str, ExerciseMeans] = field(default_factory=dict)  # depth and tempo
    hr_mean_bpm: float | None = None
    hr_peak_bpm: float | None = None

    def of(self, exercise: str) -> ExerciseMeans:
        return self.per_exercise.get(exercise, NO_MEANS)


@dataclass(frozen=True)
class Series:
    """One line of a line chart: its name (legend and tooltips) and one value per session."""

    name: str
    values: Sequence[float | None]  # None: no value that session, a gap in the line
    colour: str
    digits: int = 1
    unit: str = ""


def _frame(
    kind: str,
    title: str,
    body: list[str],
    top: float,
    legend: Sequence[tuple[str, str]] = (),
    counts: bool = True,
    low: float = 0.0,
    exercise: str | None = None,
) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    axis = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#888"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        tick = low + (top - low) * frac
        if counts and abs(tick - round(tick)) > 1e-9:
            continue  # a count axis has whole numbers only
        y = TOP + plot_h * (1 - frac)
        axis.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">{_num(tick)}</text>'
        )
    keys = []
    for i, (name, colour) in enumerate(legend):
        x = LEFT + 8 + i * 110
        keys.append(
            f'<rect x="{x}" y="2" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="11" font-size="11" fill="#333">{escape(name)}</text>'
        )
    caption = (
        f'<text class="caption" x="{WIDTH - RIGHT}" y="11" text-anchor="end" font-size="12" font-weight="bold" '
        f'fill="#222">{escape(title)}</text>'
    )
    about = f' data-exercise="{escape(exercise)}"' if exercise is not None else ""
    return (
        f'<svg class="chart chart-{kind}"{about} role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join([caption, *axis, *keys, *body])
        + "</svg>"
    )


def _num(value: float) -> str:
    """An axis label: whole numbers plain, small fractions with what they need (0.5, 1.25)."""
    if abs(value - round(value)) < 1e-9 or value >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _slots(n: int) -> tuple[float, float]:
    """The x of the first session's slot and the slot width."""
    width = (WIDTH - LEFT - RIGHT) / max(n, 1)
    return LEFT, width


def _labels(points: Sequence[SessionPoint]) -> list[str]:
    x0, w = _slots(len(points))
    step = max(1, len(points) // 8)  # at most ~8 labels, so they never overlap
    return [
        f'<text class="label" x="{x0 + w * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
        f'font-size="10" fill="#555">{escape(p.label)}</text>'
        for i, p in enumerate(points)
        if i % step == 0
    ]


def _y(value: float, top: float, low: float = 0.0) -> float:
    """The y of `value` on an axis from `low` (the bottom) to `top`."""
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h * (1 - ((value - low) / (top - low) if top > low else 0))


def x_of(index: int, sessions: int) -> float:
    """The x of the middle of session `index`'s slot (of `sessions`)."""
    x0, w = _slots(sessions)
    return x0 + w * (index + 0.5)


def reps_chart(points: Sequence[SessionPoint]) -> str:
    """Reps per session, one bar per exercise side by side."""
    exercises = sorted({e for p in points for e in p.reps})
    colours = {e: PALETTE[i % len(PALETTE)] for i, e in enumerate(exercises)}
    top = float(max((n for p in points for n in p.reps.values()), default=0)) or 1.0
    x0, w = _slots(len(points))
    bar_w = w * 0.8 / max(len(exercises), 1)
    body = []
    for i, p in enumerate(points):
        for j, exercise in enumerate(exercises):
            n = p.reps.get(exercise, 0)
            if not n:
                continue
            x = x0 + w * i + w * 0.1 + bar_w * j
            y = _y(n, top)
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{_y(0, top) - y:.1f}" '
                f'fill="{colours[exercise]}"><title>{escape(p.label)}: {n} {escape(exercise)} reps</title></rect>'
            )
    return _frame("reps", "Reps per session, per exercise", body + _labels(points), top, list(colours.items()))


def quality_chart(points: Sequence[SessionPoint]) -> str:
    """Mean rep quality (0-100) per session, as a line with its trend; sessions without
    scores are gaps."""
    series = Series("mean quality", [p.mean_quality for p in points], "#2a9d8f", digits=0)
    return line_chart("quality", "Mean rep quality per session (0-100)", points, [series], 0.0, 100.0, trend=True)


def depth_chart(points: Sequence[SessionPoint], exercise: str) -> str:
    """One exercise's mean rep depth per session (their peak phase: 1 is the exercise's full
    range), with its trend; a session without reps of it is a gap."""
    series = Series("mean depth", [p.of(exercise).depth for p in points], "#264653", digits=2)
    top = max([1.0, *(v for v in series.values if v is not None)])
    title = f"{exercise}: mean rep depth per session (1: full range)"
    return line_chart("depth", title, points, [series], 0.0, top, trend=True, exercise=exercise)


def tempo_chart(points: Sequence[SessionPoint], exercise: str) -> str:
    """One exercise's mean seconds down and up per rep, per session: two lines."""
    down = Series("down", [p.of(exercise).down_s for p in points], "#e76f51", unit=" s")
    up = Series("up", [p.of(exercise).up_s for p in points], "#2a9d8f", unit=" s")
    seen = [v for v in (*down.values, *up.values) if v is not None]
    top = max(1.0, math.ceil(max(seen, default=0.0) * 2) / 2)  # half seconds
    title = f"{exercise}: rep tempo per session (seconds down, up)"
    return line_chart("tempo", title, points, [down, up], 0.0, top, exercise=exercise)


def heart_rate_chart(points: Sequence[SessionPoint]) -> str:
    """Mean and peak heart rate per session (bpm), on an axis around what was measured."""
    mean = Series("mean", [p.hr_mean_bpm for p in points], "#2a9d8f", digits=0, unit=" bpm")
    peak = Series("peak", [p.hr_peak_bpm for p in points], "#a4161a", digits=0, unit=" bpm")
    seen = [v for v in (*mean.values, *peak.values) if v is not None]
    low = max(0.0, math.floor((min(seen, default=60.0) - 10) / 10) * 10)
    top = math.ceil((max(seen, default=180.0) + 10) / 10) * 10.0
    return line_chart("heart-rate", "Heart rate per session (bpm)", points, [mean, peak], low, top)


def line_chart(
    kind: str,
    title: str,
    points: Sequence[SessionPoint],
    series: Sequence[Series],
    low: float,
    top: float,
    trend: bool = False,
    exercise: str | None = None,
) -> str:
    """Lines over the sessions, one per series: a `point` per value (its value as the tooltip),
    a gap where a session has none, and with `trend` a dashed least-squares line per series.
    `exercise`: the one exercise the chart is about (its `data-exercise`)."""
    body: list[str] = []
    for line in series:
        body += _lines(line, len(points), low, top) + _marks(line, points, low, top)
        if trend:
            body += _trend(line, len(points), low, top)
    if not any(v is not None for line in series for v in line.values):
        body.append(
            f'<text class="empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" font-size="12" '
            'fill="#777">nothing recorded yet</text>'
        )
    legend = [(line.name, line.colour) for line in series] if len(series) > 1 else []
    return _frame(kind, title, body + _labels(points), top, legend, counts=False, low=low, exercise=exercise)


def _lines(line: Series, n: int, low: float, top: float) -> list[str]:
    """The polylines of one series: a new one after every gap, none for a lone value."""
    runs: list[list[str]] = [[]]
    for i, value in enumerate(line.values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{x_of(i, n):.1f},{_y(value, top, low):.1f}")
    return [
        f'<polyline class="line" data-series="{escape(line.name)}" fill="none" stroke="{line.colour}" '
        f'stroke-width="2" points="{" ".join(run)}"/>'
        for run in runs
        if len(run) > 1
    ]


def _marks(line: Series, points: Sequence[SessionPoint], low: float, top: float) -> list[str]:
    return [
        f'<circle class="point" data-series="{escape(line.name)}" cx="{x_of(i, len(points)):.1f}" '
        f'cy="{_y(value, top, low):.1f}" r="4" fill="{line.colour}"><title>{escape(p.label)}: '
        f"{escape(line.name)} {value:.{line.digits}f}{escape(line.unit)}</title></circle>"
        for i, (p, value) in enumerate(zip(points, line.values, strict=False))
        if value is not None
    ]


def trend_of(values: Sequence[float | None]) -> tuple[float, float] | None:
    """Least squares over (session index, value), gaps left out: (value at index 0, change a
    session); None with fewer than two values."""
    known = [(float(i), v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return None
    mean_x = sum(x for x, _ in known) / len(known)
    mean_y = sum(y for _, y in known) / len(known)
    spread = sum((x - mean_x) ** 2 for x, _ in known)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in known) / spread
    return mean_y - slope * mean_x, slope


def _trend(line: Series, n: int, low: float, top: float) -> list[str]:
    fit = trend_of(line.values)
    if fit is None:
        return []
    at0, slope = fit
    ends = [i for i, v in enumerate(line.values) if v is not None]
    first, last = ends[0], ends[-1]
    y1 = _y(min(max(at0 + slope * first, low), top), top, low)
    y2 = _y(min(max(at0 + slope * last, low), top), top, low)
    return [
        f'<line class="trend" data-series="{escape(line.name)}" x1="{x_of(first, n):.1f}" y1="{y1:.1f}" '
        f'x2="{x_of(last, n):.1f}" y2="{y2:.1f}" stroke="{line.colour}" stroke-width="1.5" stroke-dasharray="5 4" '
        f'opacity="0.7"><title>{escape(line.name)} trend: {slope:+.{line.digits + 1}f}{escape(line.unit)} '
        "a session</title></line>"
    ]


def faults_chart(points: Sequence[SessionPoint]) -> str:
    """Form faults raised per session (each fault of each rep counts once)."""
    top = float(max((p.faults for p in points), default=0)) or 1.0
    x0, w = _slots(len(points))
    body = []
    for i, p in enumerate(points):
        y = _y(p.faults, top)
        body.append(
            f'<rect class="bar" x="{x0 + w * (i + 0.2):.1f}" y="{y:.1f}" width="{w * 0.6:.1f}" '
            f'height="{_y(0, top) - y:.1f}" fill="#e76f51"><title>{escape(p.label)}: {p.faults} faults</title></rect>'
        )
    return _frame("faults", "Form faults per session", body + _labels(points), top)


ZONE_FILLS = ("#dbeafe", "#d1fae5", "#fef3c7", "#fed7aa", "#fecaca")  # zones 1-5, light: the line stays readable
CURVE_POINTS = 600  # at most this many points in a curve's line (about one a pixel)
HR_GAP_S = 5.0  # samples further apart than this are a gap in the line (the strap dropped out)


def zone_bounds(max_hr_bpm: float) -> list[tuple[int, float, float]]:
    """The five training zones as (zone, low bpm, high bpm): 50-60 % ... 90-100 % of the maximum
    (gymcorner.wearables.hr.hr_zone's model)."""
    return [(z, max_hr_bpm * (z + 4) / 10, max_hr_bpm * (z + 5) / 10) for z in range(1, 6)]


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def time_ticks(end_s: float, most: int = 7) -> list[float]:
    """Round times from 0 to `end_s` for a time axis: the smallest step of TICK_STEPS_S that
    gives at most `most` labels (1 s, 2 s, 5 s ... 1 h apart)."""
    step = next((s for s in TICK_STEPS_S if end_s / s < most), TICK_STEPS_S[-1] * math.ceil(end_s / 3600 / most))
    return [float(t) for t in range(0, int(end_s) + 1, int(step))]


def _runs(samples: Sequence[tuple[float, float]], gap_s: float) -> list[list[tuple[float, float]]]:
    """Consecutive samples, split where two are more than `gap_s` apart, each run thinned to
    its share of CURVE_POINTS (means of neighbours, so a peak is flattened, not dropped at random)."""
    runs: list[list[tuple[float, float]]] = []
    for t, v in samples:
        if not runs or t - runs[-1][-1][0] > gap_s:
            runs.append([])
        runs[-1].append((t, v))
    step = max(1, math.ceil(len(samples) / CURVE_POINTS))
    if step == 1:
        return runs
    return [
        [
            (sum(t for t, _ in run[i : i + step]) / len(run[i : i + step]),
             sum(v for _, v in run[i : i + step]) / len(run[i : i + step]))
            for i in range(0, len(run), step)
        ]
        for run in runs
    ]  # fmt: skip


def hr_curve_chart(samples: Sequence[tuple[float, float]], max_hr_bpm: float | None) -> str:
    """A session's heart rate over time: `samples` are (seconds since the session's first frame,
    bpm), oldest first. With the member's maximum heart rate known the five zones are bands
    behind the line (`rect.zone`, each with its range as the tooltip); the peak is a mark."""
    values = [v for _, v in samples]
    low = max(0.0, math.floor((min(values, default=60.0) - 10) / 10) * 10)
    top = math.ceil((max(values, default=180.0) + 10) / 10) * 10.0
    end_s = max((t for t, _ in samples), default=0.0) or 1.0
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + plot_w * t / end_s

    body: list[str] = []
    if max_hr_bpm:
        for zone, zone_low, zone_high in zone_bounds(max_hr_bpm):
            shown_low, shown_high = max(zone_low, low), min(zone_high, top)
            if shown_high <= shown_low:
                continue  # outside what the axis shows
            y1, y2 = _y(shown_high, top, low), _y(shown_low, top, low)
            body.append(
                f'<rect class="zone" data-zone="{zone}" x="{LEFT}" y="{y1:.1f}" width="{plot_w}" '
                f'height="{y2 - y1:.1f}" fill="{ZONE_FILLS[zone - 1]}"><title>zone {zone}: {zone_low:.0f}-'
                f"{zone_high:.0f} bpm ({(zone + 4) * 10}-{(zone + 5) * 10} % of {max_hr_bpm:.0f})</title></rect>"
                f'<text x="{WIDTH - RIGHT - 4}" y="{y2 - 3:.1f}" text-anchor="end" font-size="10" '
                f'fill="#555">zone {zone}</text>'
            )
    for run in _runs(samples, HR_GAP_S):
        coords = " ".join(f"{x(t):.1f},{_y(v, top, low):.1f}" for t, v in run)
        body.append(
            f'<polyline class="line" data-series="heart rate" fill="none" stroke="#a4161a" stroke-width="2" '
            f'points="{coords}"/>'
        )
    if samples:
        peak_t, peak = max(samples, key=lambda s: s[1])
        mean = sum(values) / len(values)
        body.append(
            f'<circle class="point peak" cx="{x(peak_t):.1f}" cy="{_y(peak, top, low):.1f}" r="4" fill="#a4161a">'
            f"<title>peak {peak:.0f} bpm at {_clock(peak_t)}; mean {mean:.0f} bpm over {len(samples)} samples"
            "</title></circle>"
        )
    else:
        body.append(
            f'<text class="empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" font-size="12" '
            'fill="#777">nothing recorded yet</text>'
        )
    for tick in time_ticks(end_s):
        body.append(
            f'<text class="label" x="{x(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="10" fill="#555">{_clock(tick)}</text>'
        )
    return _frame("hr-curve", "Heart rate during the session (bpm; minutes:seconds)", body, top, counts=False, low=low)
