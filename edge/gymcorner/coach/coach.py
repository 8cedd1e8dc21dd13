"""The coach: which exercise, which analyser, how many reps, and what to say.

One object per person. Each frame: the camera view; the exercise (fixed in config, or
the recogniser's label once it is stable: the coach switches analysers only then); the
exercise's form rules; the live rep counter, which collects the faults seen during a rep
and emits one "rep" event per complete repetition (number, start/bottom/end time, depth,
tempo, faults). Pure: everything arrives with the sample.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.reference import ReferenceComparer, ReferenceRep
from gymcorner.coach.pushup import PUSHUP_RULES, PushupMetrics, pushup_metrics
from gymcorner.coach.reps import PHASES, LiveRepCounter, Rep
from gymcorner.coach.rules import RuleEngine
from gymcorner.coach.squat import SquatCoach, SquatMetrics
from gymcorner.config import CoachConfig, PushupConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewState, ViewTracker


@dataclass(frozen=True)
class CoachFrame:
    """What the coach concluded about one frame."""

    t_s: float
    view: ViewState
    metrics: SquatMetrics | PushupMetrics | None
    events: list[FeedbackEvent]
    active: list[str]
    exercise: str = "unknown"
    reps: int = 0
    phase: float | None = None


def rep_event(rep: Rep, exercise: str, view: str) -> FeedbackEvent:
    tempo = f"{rep.down_s:.1f} s down, {rep.up_s:.1f} s up"
    faults = f"; watch: {', '.join(rep.faults)}" if rep.faults else ""
    return FeedbackEvent(
        t=rep.end_t,
        code="rep",
        text=f"Rep {rep.number}: {tempo}{faults}.",
        kind="rep",
        severity="info",
        view=view,
        exercise=exercise,
        details={
            "rep": rep.number,
            "start_t": round(rep.start_t, 3),
            "bottom_t": round(rep.bottom_t, 3),
            "end_t": round(rep.end_t, 3),
            "depth": rep.depth,
            "down_s": round(rep.down_s, 3),
            "up_s": round(rep.up_s, 3),
            "faults": list(rep.faults),
        },
    )


class Coach:
    HISTORY_S = 8.0  # covers the recogniser's window + its stability time, with margin
    def __init__(self, config: CoachConfig, recognizer: Any = None, reference: ReferenceRep | None = None) -> None:
        self._cfg = config
        self._view = ViewTracker(config.view)
        self._squat = SquatCoach(config)
        self._pushup: RuleEngine[PushupMetrics, PushupConfig] = RuleEngine(
            PUSHUP_RULES, config.cooldown_s, "push_up", config.messages
        )
        self._recognizer = recognizer
        self._recent: deque[PoseSample] = deque()  # the last HISTORY_S of samples, for a switch
        self._reference = ReferenceComparer(reference) if reference is not None else None
        # Following the recogniser, the coach starts as a squat coach (the exercise a gym
        # corner sees most) and switches once another exercise is recognised steadily.
        self._exercise = config.exercise if config.exercise != "auto" else "squat"
        self._counter: LiveRepCounter | None = None
        self._rep_shoulder_depth: float | None = None
        self._switch(self._exercise)

    @property
    def exercise(self) -> str:
        return self._exercise

    def reset(self) -> None:
        self._view.reset()
        self._squat.reset()
        self._pushup.reset()
        self._switch(self._exercise)

    def set_exercise(self, exercise: str) -> None:
        self._switch(exercise)

    def _switch(self, exercise: str) -> list[Rep]:
        """Start analysing `exercise`; the reps it already did while the recogniser made up
        its mind are counted from the recent samples, so switching loses no rep."""
        self._exercise = exercise
        self._counter = LiveRepCounter(exercise, self._cfg.reps) if exercise in PHASES else None
        self._rep_shoulder_depth = None
        if self._counter is None:
            return []
        replayed = [self._counter.update(s) for s in self._recent]
        return [r for r in replayed if r is not None and not r.partial]

    def update(self, sample: PoseSample) -> CoachFrame:
        view = self._view.update(sample)
        if self._reference is not None:
            self._reference.observe(sample.t_s, sample.world)
        caught_up: list[Rep] = []
        if self._recognizer is not None:
            recognition = self._recognizer.update(sample)
            if recognition.stable and recognition.label not in (self._exercise, "other"):
                caught_up = self._switch(recognition.label)
            self._recent.append(sample)
            while self._recent and sample.t_s - self._recent[0].t_s > self.HISTORY_S:
                self._recent.popleft()
        metrics: SquatMetrics | PushupMetrics | None = None
        events: list[FeedbackEvent] = []
        active: list[str] = []
        if self._exercise == "squat":
            frame = self._squat.update(sample, view)
            metrics, events, active = frame.metrics, list(frame.events), frame.active
        counter = self._counter
        for event in events:
            if counter is not None:
                counter.note_fault(event.details.get("reason", event.code))
        rep = counter.update(sample) if counter is not None else None
        if self._exercise == "push_up":
            metrics, push_events = self._pushup_frame(sample, view, rep)
            events += push_events
            active = self._pushup.active_codes()
            if rep is not None:  # the rep ended on this frame: its faults include this frame's
                rep = replace(rep, faults=tuple(sorted(set(rep.faults) | {e.code for e in push_events})))
            elif counter is not None:
                for event in push_events:
                    counter.note_fault(event.code)
        for earlier in caught_up:
            events.append(rep_event(earlier, self._exercise, view.view.value))
        if rep is not None and not rep.partial:
            events.append(rep_event(rep, self._exercise, view.view.value))
            if self._reference is not None:
                events += self._reference.compare(rep, self._exercise, view.view.value)
        return CoachFrame(
            sample.t_s,
            view,
            metrics,
            events,
            active,
            self._exercise,
            counter.count if counter is not None else 0,
            counter.phase if counter is not None else None,
        )

    def _pushup_frame(
        self, sample: PoseSample, view: ViewState, rep: Rep | None
    ) -> tuple[PushupMetrics | None, list[FeedbackEvent]]:
        cfg = self._cfg.pushup
        m = pushup_metrics(sample, self._cfg.min_visibility, cfg.side_on_max_ratio)
        in_rep = self._counter is not None and self._counter.in_rep
        if m is not None and in_rep and m.shoulder_below_elbow is not None:
            depth = self._rep_shoulder_depth
            self._rep_shoulder_depth = m.shoulder_below_elbow if depth is None else max(depth, m.shoulder_below_elbow)
        if m is not None:
            m = replace(m, in_rep=in_rep)
            if rep is not None:
                m = replace(m, rep_depth_reached=self._rep_shoulder_depth)
        if rep is not None:
            self._rep_shoulder_depth = None
        events = self._pushup.update(sample.t_s, view.view.value, m, cfg)
        return m, events
