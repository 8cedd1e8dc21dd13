"""Form analysers: one per exercise that has form rules, chosen from one registry.

An analyser measures one frame and runs its exercise's rules. It is told whether a rep
is in progress and whether one ended on this frame (the coach runs the rep counter
first), because some rules judge only during a rep (a push-up's body line) or once per
rep (its depth). The coach adds what it returns to the rep's faults. An exercise missing
from `ANALYSERS` is still counted, it just has no form rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from gymcorner.coach.curl import CURL_RULES, CurlMetrics, curl_metrics
from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.lunge import LUNGE_RULES, LungeMetrics, lunge_metrics
from gymcorner.coach.lunge_bottom import BottomMeasures, BottomTracker, RepBottom
from gymcorner.coach.plank import PLANK_RULES, HoldTimer, PlankMetrics, plank_metrics
from gymcorner.coach.pushup import PUSHUP_RULES, PushupMetrics, pushup_metrics
from gymcorner.coach.ranges import DIP_RULES, JUMPING_JACK_RULES, PULLUP_RULES, RangeMetrics, RepWindow, range_metrics
from gymcorner.coach.rep_shape import RepShapeWindow, shape_frame
from gymcorner.coach.rules import FormRule, RuleEngine
from gymcorner.coach.squat import SQUAT_RULES, SquatCoach
from gymcorner.coach.squat_metrics import SquatMetrics
from gymcorner.config import CoachConfig, CurlConfig, LungeConfig, PlankConfig, PushupConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewState, off_square_deg

Metrics = SquatMetrics | PushupMetrics | PlankMetrics | CurlMetrics | LungeMetrics | RangeMetrics


@dataclass(frozen=True)
class Analysis:
    """One frame's measurements, the form events raised on it and the faults now active."""

    metrics: Metrics | None = None
    events: list[FeedbackEvent] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    onsets: list[str] = field(default_factory=list)  # faults begun on this frame, cue or not (cooldown)


class Analyser(Protocol):
    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis: ...

    def reset(self) -> None: ...


class SquatAnalyser:
    """The squat coach's rules; its depth is judged per descent, not per counted rep."""

    def __init__(self, config: CoachConfig) -> None:
        self._coach = SquatCoach(config)

    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis:
        frame = self._coach.update(sample, view)
        return Analysis(frame.metrics, list(frame.events), frame.active, frame.onsets)

    def reset(self) -> None:
        self._coach.reset()


class PushupAnalyser:
    """Body line while a rep is in progress; on the frame a rep ends, its deepest point."""

    def __init__(self, config: CoachConfig) -> None:
        self._cfg = config
        self._engine: RuleEngine[PushupMetrics, PushupConfig] = RuleEngine(
            PUSHUP_RULES, config.cooldown_s, Exercise.PUSH_UP, config.messages
        )
        self._rep_shoulder_depth: float | None = None  # deepest shoulder_below_elbow of this rep
        self._rep_bottom: tuple[float, float | None] | None = None  # lowest shoulders of the rep: (y px, elbow span)

    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis:
        cfg = self._cfg.pushup
        m = pushup_metrics(sample, self._cfg.min_visibility, cfg.side_on_max_ratio)
        if m is not None and in_rep and m.shoulder_below_elbow is not None:
            depth = self._rep_shoulder_depth
            self._rep_shoulder_depth = m.shoulder_below_elbow if depth is None else max(depth, m.shoulder_below_elbow)
        if m is not None and in_rep and m.shoulders_y_px is not None:
            # The bottom is where the shoulders are lowest; the elbows are judged there only
            # if both are seen there (from a three-quarter view the far one is often hidden).
            if self._rep_bottom is None or m.shoulders_y_px > self._rep_bottom[0]:
                self._rep_bottom = (m.shoulders_y_px, m.elbow_span_shoulders)
        if m is not None:
            m = replace(m, in_rep=in_rep)
            if rep_ended:
                bottom_elbows = self._rep_bottom[1] if self._rep_bottom is not None else None
                m = replace(m, rep_depth_reached=self._rep_shoulder_depth, rep_bottom_elbow_span=bottom_elbows)
        if rep_ended:
            self._rep_shoulder_depth = None
            self._rep_bottom = None
        events = self._engine.update(sample.t_s, view.view.value, m, cfg)
        return Analysis(m, events, self._engine.active_codes(), self._engine.onsets())

    def reset(self) -> None:
        self._engine.reset()
        self._rep_shoulder_depth = None
        self._rep_bottom = None


class PlankAnalyser:
    """A plank is held, not repeated: the hold is timed and its body line judged throughout."""

    def __init__(self, config: CoachConfig) -> None:
        self._cfg = config
        self._engine: RuleEngine[PlankMetrics, PlankConfig] = RuleEngine(
            PLANK_RULES, config.cooldown_s, Exercise.PLANK, config.messages
        )
        self._timer = HoldTimer()

    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis:
        m = plank_metrics(sample, self._cfg.min_visibility, self._cfg.plank)
        if m is not None:
            m = replace(m, hold_s=self._timer.update(sample.t_s, m.holding))
        else:
            self._timer.update(sample.t_s, False)
        events = self._engine.update(sample.t_s, view.view.value, m, self._cfg.plank)
        return Analysis(m, events, self._engine.active_codes(), self._engine.onsets())

    def reset(self) -> None:
        self._engine.reset()
        self._timer.reset()


class CurlAnalyser:
    """Torso and upper arm, every frame (curl reps are counted by the generic counter)."""

    def __init__(self, config: CoachConfig) -> None:
        self._cfg = config
        self._engine: RuleEngine[CurlMetrics, CurlConfig] = RuleEngine(
            CURL_RULES, config.cooldown_s, Exercise.BICEP_CURL, config.messages
        )

    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis:
        m = curl_metrics(sample, self._cfg.min_visibility, self._cfg.curl.side_on_max_ratio)
        events = self._engine.update(sample.t_s, view.view.value, m, self._cfg.curl)
        return Analysis(m, events, self._engine.active_codes(), self._engine.onsets())

    def reset(self) -> None:
        self._engine.reset()


class LungeAnalyser:
    """Front knee and trunk, every frame of a lunge (reps are counted by the generic counter);
    depth, step width and front knee on the frame a rep ends, from its bottom."""

    def __init__(self, config: CoachConfig) -> None:
        self._cfg = config
        self._engine: RuleEngine[LungeMetrics, LungeConfig] = RuleEngine(
            LUNGE_RULES, config.cooldown_s, Exercise.LUNGE, config.messages
        )
        self._bottom = BottomTracker()

    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis:
        m = lunge_metrics(sample, self._cfg.min_visibility, self._cfg.lunge.side_on_max_ratio)
        frame = None
        if m is not None:
            measures = BottomMeasures(m.hip_above_knee_shins, m.step_width_shoulders, m.knee_inside_line_shoulders)
            frame = RepBottom(measures, off_square_deg(view.yaw_deg))
        bottom = self._bottom.update(frame, in_rep, rep_ended)
        if m is not None and bottom is not None:
            m = m.with_rep_bottom(bottom)
        events = self._engine.update(sample.t_s, view.view.value, m, self._cfg.lunge)
        return Analysis(m, events, self._engine.active_codes(), self._engine.onsets())

    def reset(self) -> None:
        self._engine.reset()
        self._bottom.reset()


class RangeAnalyser:
    """Range of motion per rep (pull-up, dip, jumping jack), and the pull-up's hang and legs
    and the dip's shoulders (`rep_shape`): judged on the frame a rep ends."""

    def __init__(self, config: CoachConfig, exercise: Exercise) -> None:
        self._cfg = config
        self._exercise = exercise
        rules, self._thresholds = _RANGE[exercise](config)
        self._engine: RuleEngine[RangeMetrics, Any] = RuleEngine(rules, config.cooldown_s, exercise, config.messages)
        self._window = RepWindow()
        self._shape = RepShapeWindow()

    def update(self, sample: PoseSample, view: ViewState, in_rep: bool, rep_ended: bool) -> Analysis:
        m = self._window.update(range_metrics(sample, self._cfg.min_visibility), rep_ended)
        shape = self._shape.update(shape_frame(sample, self._cfg.min_visibility), in_rep, rep_ended)
        if m is not None and shape is not None:
            m = replace(
                m,
                rep_hang_elbow_deg=shape.hang_elbow_deg,
                rep_leg_swing_deg=shape.leg_swing_deg,
                rep_shoulder_shrug=shape.shoulder_shrug_widths,
            )
        events = self._engine.update(sample.t_s, view.view.value, m, self._thresholds)
        return Analysis(m, events, self._engine.active_codes(), self._engine.onsets())

    def reset(self) -> None:
        self._engine.reset()
        self._window.reset()
        self._shape.reset()


_RANGE: dict[Exercise, Callable[[CoachConfig], tuple[tuple[FormRule[RangeMetrics, Any], ...], Any]]] = {
    Exercise.PULL_UP: lambda c: (PULLUP_RULES, c.pullup),
    Exercise.DIP: lambda c: (DIP_RULES, c.dip),
    Exercise.JUMPING_JACK: lambda c: (JUMPING_JACK_RULES, c.jumping_jack),
}


ANALYSERS: dict[Exercise, Callable[[CoachConfig], Analyser]] = {
    Exercise.SQUAT: SquatAnalyser,
    Exercise.PUSH_UP: PushupAnalyser,
    Exercise.PLANK: PlankAnalyser,
    Exercise.BICEP_CURL: CurlAnalyser,
    Exercise.LUNGE: LungeAnalyser,
    Exercise.PULL_UP: lambda c: RangeAnalyser(c, Exercise.PULL_UP),
    Exercise.DIP: lambda c: RangeAnalyser(c, Exercise.DIP),
    Exercise.JUMPING_JACK: lambda c: RangeAnalyser(c, Exercise.JUMPING_JACK),
}


# The rules each analyser runs, by exercise: what `gymcorner eval` scores per rule.
RULES: dict[Exercise, tuple[FormRule[Any, Any], ...]] = {
    Exercise.SQUAT: SQUAT_RULES,
    Exercise.PUSH_UP: PUSHUP_RULES,
    Exercise.PLANK: PLANK_RULES,
    Exercise.BICEP_CURL: CURL_RULES,
    Exercise.LUNGE: LUNGE_RULES,
    Exercise.PULL_UP: PULLUP_RULES,
    Exercise.DIP: DIP_RULES,
    Exercise.JUMPING_JACK: JUMPING_JACK_RULES,
}


def rule_names(exercise: Exercise) -> tuple[str, ...]:
    """The names an exercise's faults are reported by (a rule's reason, else its code)."""
    return tuple(dict.fromkeys(rule.reason or rule.code for rule in RULES.get(exercise, ())))


def make_analyser(exercise: Exercise, config: CoachConfig) -> Analyser | None:
    """The exercise's analyser; None when it has no form rules (or is not known yet)."""
    factory = ANALYSERS.get(exercise)
    return factory(config) if factory is not None else None
