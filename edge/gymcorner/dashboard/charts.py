"""Charts as inline SVG, drawn on the server: no chart library, no script, no CDN.

Each function takes plain numbers (one entry per session, oldest first) and returns one
`<svg>` element whose marks carry a class (`bar`, `point`) and a `<title>` (the value, as
a tooltip and for screen readers). Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 40
PALETTE = ("#2a9d8f", "#e76f51", "#264653", "#e9c46a", "#8d5fd3", "#f4a261", "#3a86ff")


@dataclass(frozen=True)
class SessionPoint:
    label: str  # the session's day and time, shown under its mark
    reps: Mapping[str, int]  # per exercise
    mean_quality: float | None
    faults: int


def _frame(
    kind: str, title: str, body: list[str], top: float, legend: Sequence[tuple[str, str]] = (), counts: bool = True
) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    axis = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#888"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        if counts and abs(top * frac - round(top * frac)) > 1e-9:
            continue  # a count axis has whole numbers only
        y = TOP + plot_h * (1 - frac)
        axis.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">'
            f"{_num(top * frac)}</text>"
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
    return (
        f'<svg class="chart chart-{kind}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join([caption, *axis, *keys, *body])
        + "</svg>"
    )


def _num(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 or value >= 10 else f"{value:.1f}"


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


def _y(value: float, top: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h * (1 - (value / top if top > 0 else 0))


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
    """Mean rep quality (0-100) per session, as a line; sessions without scores are gaps."""
    x0, w = _slots(len(points))
    body = []
    line: list[str] = []
    for i, p in enumerate(points):
        if p.mean_quality is None:
            if len(line) > 1:
                body.append(f'<polyline fill="none" stroke="#264653" stroke-width="2" points="{" ".join(line)}"/>')
            line = []
            continue
        x, y = x0 + w * (i + 0.5), _y(p.mean_quality, 100.0)
        line.append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2a9d8f">'
            f"<title>{escape(p.label)}: mean quality {p.mean_quality:.0f}</title></circle>"
        )
    if len(line) > 1:
        body.insert(0, f'<polyline fill="none" stroke="#264653" stroke-width="2" points="{" ".join(line)}"/>')
    return _frame("quality", "Mean rep quality per session (0-100)", body + _labels(points), 100.0, counts=False)


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
