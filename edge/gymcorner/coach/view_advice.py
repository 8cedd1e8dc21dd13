"""Where to stand: the coach says so when the camera's view cannot see an exercise's
main faults.

Each form rule already declares the views it can judge from (`FormRule.views`); this
module declares, per exercise, which of its faults are the main ones, and derives from
the rules which of those a view cannot see and which view would. When the exercise is
known and the person has stayed for `ViewConfig.limited_after_s` in a view that leaves a
main fault unjudged, one `view_limited` info event (once per exercise and session) names
those faults and says how to turn. Frames of an unknown view (the person turning, the
tracker not yet sure) neither count nor break the run; a view that sees every main fault
does. Pure: time comes with the frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.rules import FormRule

# The faults a member comes to the corner to have checked, per exercise (rule names: a
# rule's reason, else its code). Faults not listed still run from the views that see them.
MAIN_FAULTS: dict[Exercise, tuple[str, ...]] = {
    Exercise.SQUAT: ("shallow_depth", "knees_over_toes", "forward_lean"),
    Exercise.PUSH_UP: ("hips_sag", "hips_pike", "partial_range"),
    Exercise.PLANK: ("hips_sag", "hips_pike"),
    Exercise.BICEP_CURL: ("lean_back",),
    Exercise.LUNGE: ("shallow_depth", "knee_over_toes", "knee_valgus", "torso_lean", "narrow_step"),
    Exercise.PULL_UP: ("chin_below_bar", "no_full_hang", "kipping"),
    Exercise.DIP: ("shallow_dip", "shoulder_shrug"),
}

# How each fault is named in the sentence (the rule name with spaces otherwise).
FAULT_PHRASES: dict[str, str] = {
    "shallow_depth": "depth",
    "forward_lean": "forward lean",
    "knees_over_toes": "knees over toes",
    "knee_over_toes": "front knee over toes",
    "knee_valgus": "knees caving in",
    "narrow_step": "step width",
    "wide_step": "step width",
    "hips_sag": "sagging hips",
    "hips_pike": "piked hips",
    "partial_range": "range",
    "lean_back": "leaning back",
    "torso_lean": "torso lean",
    "chin_below_bar": "chin over the bar",
    "no_full_hang": "the full hang",
    "kipping": "leg swing",
    "shallow_dip": "depth",
    "shoulder_shrug": "shrugged shoulders",
}

# The views a person can be asked to turn to, and how to say it.
TURN_TO: dict[str, str] = {
    "lateral": "Turn side-on to the camera so {faults} can be checked.",
    "frontal": "Face the camera so {faults} can be checked.",
}
VIEW_NAMES = {"frontal": "the front", "lateral": "the side"}


def _name(rule: FormRule[Any, Any]) -> str:
    return rule.reason or rule.code


def views_seeing(rules: Iterable[FormRule[Any, Any]]) -> dict[str, frozenset[str]]:
    """Rule name -> the views any of its rules judges from (one name may have several rules)."""
    seen: dict[str, frozenset[str]] = {}
    for rule in rules:
        seen[_name(rule)] = seen.get(_name(rule), frozenset()) | rule.views
    return seen


@dataclass(frozen=True)
class ViewLimit:
    """What a view cannot see of an exercise's main faults, and the view that would."""

    view: str
    unseen: tuple[str, ...]
    turn_to: str | None  # None: no one view sees them all; the one that sees the most otherwise

    def text(self) -> str:
        phrases = [FAULT_PHRASES.get(f, f.replace("_", " ")) for f in self.unseen]
        listed = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        where = VIEW_NAMES.get(self.view, self.view)
        tip = TURN_TO[self.turn_to].format(faults=listed) if self.turn_to in TURN_TO else ""
        return f"From {where} the coach cannot check {listed}. {tip}".strip()


def view_limit(exercise: Exercise, view: str, rules: Iterable[FormRule[Any, Any]]) -> ViewLimit | None:
    """The main faults of `exercise` that no rule judges from `view`; None when it sees them all."""
    seen = views_seeing(rules)
    main = [f for f in MAIN_FAULTS.get(exercise, ()) if f in seen]
    unseen = tuple(f for f in main if view not in seen[f])
    if not unseen:
        return None
    best = max(TURN_TO, key=lambda v: (sum(v in seen[f] for f in unseen), v == "lateral"))
    return ViewLimit(view, unseen, best if any(best in seen[f] for f in unseen) else None)


class ViewAdvisor:
    """Follows the view while an exercise is known; one `view_limited` event per exercise
    and session (until `reset`)."""

    def __init__(self, limited_after_s: float) -> None:
        self._after_s = limited_after_s
        self._advised: set[Exercise] = set()
        self._exercise = Exercise.UNKNOWN
        self._since: tuple[str, float] | None = None  # (limited view, its first frame's time)

    def reset(self) -> None:
        self._advised.clear()
        self._exercise, self._since = Exercise.UNKNOWN, None

    def update(
        self, t_s: float, exercise: Exercise, view: str, rules: Iterable[FormRule[Any, Any]]
    ) -> list[FeedbackEvent]:
        if exercise != self._exercise:
            self._exercise, self._since = exercise, None
        if exercise in (Exercise.UNKNOWN, Exercise.OTHER) or exercise in self._advised:
            return []
        if view not in TURN_TO:  # unknown view: neither counts nor breaks the run
            return []
        limit = view_limit(exercise, view, rules)
        if limit is None:
            self._since = None
            return []
        if self._since is None or self._since[0] != view:
            self._since = (view, t_s)
        waited_s = t_s - self._since[1]
        if waited_s < self._after_s:
            return []
        self._advised.add(exercise)
        return [
            FeedbackEvent(
                t=t_s,
                code="view_limited",
                text=limit.text(),
                kind="info",
                severity="info",
                view=view,
                exercise=exercise,
                details={"cannot_check": list(limit.unseen), "turn_to": limit.turn_to, "in_view_s": round(waited_s, 3)},
            )
        ]
