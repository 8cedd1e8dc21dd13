"""Feedback events: what the coach says, as data (published on the `feedback` topic)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FeedbackEvent:
    t: float  # frame time, seconds
    code: str  # stable machine code, e.g. "knee_valgus"
    text: str  # what a person reads or hears
    kind: str = "form"  # "form" | "info" | "rep" | "coach"
    severity: str = "warning"  # "warning" | "info"
    view: str = "unknown"
    exercise: str = "squat"
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["t"] = round(self.t, 3)
        return d
