"""Form rules declared as data, served by one generic engine.

A rule is a frozen dataclass: which views it applies to, which landmarks must be
visible, a predicate over the frame's metrics and the config, and how many consecutive
frames the predicate must hold (3 consecutive observations for a narrow stance, 10
consecutive frames for knee varus). The engine keeps one persistence counter per rule and emits an
event once per onset: when the counter first reaches its hold, and again only after the
fault has cleared and the cooldown has passed. The cooldown keeps the cues from repeating;
it does not hide the fault from the rep it happened in: `onsets()` names every fault that
began on the last frame, cue or not, so that each rep lists all of its faults.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from gymcorner.coach.events import FeedbackEvent

M = TypeVar("M")  # the metrics type of one exercise
C = TypeVar("C")  # the threshold config of one exercise


@dataclass(frozen=True)
class FormRule(Generic[M, C]):
    code: str
    text: str
    views: frozenset[str]
    check: Callable[[M, C], bool | None]  # None: cannot be judged on this frame
    hold_frames: Callable[[C], int]
    reason: str | None = None
    details: Callable[[M], dict[str, Any]] = field(default=lambda m: {})
    variant: str | None = None  # tells apart two rules for one fault, e.g. judged from two views

    @property
    def key(self) -> str:
        key = f"{self.code}:{self.reason}" if self.reason else self.code
        return f"{key}@{self.variant}" if self.variant else key


@dataclass
class _RuleState:
    count: int = 0
    active: bool = False
    last_emit_t: float = -math.inf


class RuleEngine(Generic[M, C]):
    """Evaluates a tuple of rules frame by frame; pure apart from its counters."""

    def __init__(
        self,
        rules: tuple[FormRule[M, C], ...],
        cooldown_s: float,
        exercise: str,
        messages: dict[str, str] | None = None,
    ) -> None:
        self._rules = rules
        self._cooldown_s = cooldown_s
        self._exercise = exercise
        self._messages = messages or {}
        self._state = {rule.key: _RuleState() for rule in rules}
        self._onsets: list[str] = []

    @property
    def rules(self) -> tuple[FormRule[M, C], ...]:
        return self._rules

    def onsets(self) -> list[str]:
        """The faults (a rule's reason, else its code) that began on the last update,
        including those whose cue the cooldown held back."""
        return list(self._onsets)

    def active_codes(self) -> list[str]:
        return [key for key, st in self._state.items() if st.active]

    def reset(self) -> None:
        for st in self._state.values():
            st.count, st.active = 0, False

    def update(self, t_s: float, view: str, metrics: M | None, config: C) -> list[FeedbackEvent]:
        events: list[FeedbackEvent] = []
        self._onsets = []
        for rule in self._rules:
            st = self._state[rule.key]
            verdict = rule.check(metrics, config) if metrics is not None and view in rule.views else None
            if not verdict or metrics is None:  # (metrics is never None when verdict is truthy)
                # False clears the fault; None (not visible, wrong view, no person) also
                # breaks the run of consecutive frames: persistence means consecutive.
                st.count, st.active = 0, False
                continue
            st.count += 1
            if st.active or st.count < rule.hold_frames(config):
                continue
            st.active = True
            self._onsets.append(rule.reason or rule.code)
            if t_s - st.last_emit_t < self._cooldown_s:
                continue
            st.last_emit_t = t_s
            details = dict(rule.details(metrics))
            if rule.reason:
                details["reason"] = rule.reason
            events.append(
                FeedbackEvent(
                    t=t_s,
                    code=rule.code,
                    text=self._messages.get(rule.key, self._messages.get(rule.code, rule.text)),
                    kind="form",
                    severity="warning",
                    view=view,
                    exercise=self._exercise,
                    details=details,
                )
            )
        return events
