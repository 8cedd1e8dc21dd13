"""The coach: which exercise, how many reps, and what to say.

One object per person. Each frame: the camera view -> the exercise -> the rep counter ->
the exercise's analyser (form rules, from `analysers.ANALYSERS`) -> events, including one
"rep" event per complete repetition (number, start/bottom/end time, depth, tempo, faults).
Pure: everything arrives with the sample.

The exercise is fixed in config (or by `set_exercise`), or follows the recogniser: it is
`Exercise.UNKNOWN` until the recogniser's label has been stable for its `stable_s`, and
while it is unknown no form rule runs, so nobody doing push-ups is told to squat deeper.
Reps done meanwhile are not lost: on the switch the last `HISTORY_S` of samples are
replayed into the new exercise's counter and analyser, so those reps are reported with
their faults and a descent already under way is judged whole. Of the cues raised during
the replay only those whose fault still holds are said (the others would be late). The
`unknown_counter` slot takes a counter
that needs no exercise label; when given, it counts during UNKNOWN instead, and the
replay is skipped because those reps have been reported already.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Protocol

from gymcorner.coach.analysers import Analyser, Analysis, Metrics, make_analyser
from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import AUTO, Exercise
from gymcorner.coach.reference import ReferenceComparer, ReferenceRep
from gymcorner.coach.reps import PHASES, LiveRepCounter, Rep
from gymcorner.config import CoachConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewState, ViewTracker


class RepCounting(Protocol):
    """What the coach needs of a rep counter (`LiveRepCounter` is one)."""

    count: int
    phase: float | None

    @property
    def in_rep(self) -> bool: ...

    def update(self, sample: PoseSample) -> Rep | None: ...

    def note_fault(self, code: str) -> None: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class CoachFrame:
    """What the coach concluded about one frame."""

    t_s: float
    view: ViewState
    metrics: Metrics | None
    events: list[FeedbackEvent]
    active: list[str]
    exercise: Exercise = Exercise.UNKNOWN
    reps: int = 0
    phase: float | None = None


def rep_event(rep: Rep, exercise: Exercise, view: str) -> FeedbackEvent:
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


def rule_key(event: FeedbackEvent) -> str:
    """The key of the rule that raised a form event (as in `RuleEngine.active_codes`)."""
    reason = event.details.get("reason")
    return f"{event.code}:{reason}" if reason else event.code


def fault_key(event: FeedbackEvent) -> str:
    """How a form event is listed among a rep's faults: its reason, else its code."""
    return str(event.details.get("reason", event.code))


class Coach:
    HISTORY_S = 8.0  # covers the recogniser's window + its stability time, with margin

    def __init__(
        self,
        config: CoachConfig,
        recognizer: Any = None,
        reference: ReferenceRep | None = None,
        unknown_counter: RepCounting | None = None,
    ) -> None:
        self._cfg = config
        self._view = ViewTracker(config.view)
        self._recognizer = recognizer
        self._recent: deque[tuple[PoseSample, ViewState]] = deque()  # the last HISTORY_S, for a switch
        self._reference = ReferenceComparer(reference) if reference is not None else None
        self._unknown_counter = unknown_counter
        self._exercise = Exercise.UNKNOWN if config.exercise == AUTO else Exercise(config.exercise)
        self._counter: RepCounting | None = None
        self._analyser: Analyser | None = None
        self._switch(self._exercise)

    @property
    def exercise(self) -> Exercise:
        return self._exercise

    def reset(self) -> None:
        """Forget the person: nothing of theirs is replayed into the next counter."""
        self._view.reset()
        self._recent.clear()
        if self._unknown_counter is not None:
            self._unknown_counter.reset()
        self._switch(self._exercise)

    def set_exercise(self, exercise: Exercise) -> None:
        """Analyse `exercise` from this frame on (a command, or a fixed exercise)."""
        self._switch(Exercise(exercise))

    def _switch(self, exercise: Exercise) -> tuple[list[Rep], list[FeedbackEvent]]:
        """Start analysing `exercise`; the reps it already did while the recogniser made up
        its mind are counted from the recent samples, so switching loses no rep. Returns
        those reps and the cues of the faults that still hold at the end of the replay."""
        leaving_unknown = self._exercise is Exercise.UNKNOWN and exercise is not Exercise.UNKNOWN
        counted_meanwhile = self._unknown_counter is not None and leaving_unknown
        self._exercise = exercise
        self._analyser = make_analyser(exercise, self._cfg)
        if exercise is Exercise.UNKNOWN:
            self._counter = self._unknown_counter
            return [], []
        self._counter = LiveRepCounter(exercise, self._cfg.reps) if exercise in PHASES else None
        if counted_meanwhile and self._counter is not None:
            assert self._unknown_counter is not None
            self._counter.count = self._unknown_counter.count  # numbering goes on; no replay
            return [], []
        reps: list[Rep] = []
        cues: dict[str, FeedbackEvent] = {}
        active: list[str] = []
        for sample, view in self._recent:
            rep, analysis = self._count_and_judge(sample, view)
            if rep is not None and not rep.partial:
                reps.append(rep)
            cues.update((rule_key(e), e) for e in analysis.events)
            active = analysis.active
        return reps, [e for key, e in cues.items() if key in active]

    def _follow_recognizer(self, sample: PoseSample) -> tuple[list[Rep], list[FeedbackEvent]]:
        if self._recognizer is None:
            return [], []
        recognition = self._recognizer.update(sample)
        if recognition.stable and recognition.label not in (self._exercise, Exercise.OTHER):
            return self._switch(Exercise(recognition.label))
        return [], []

    def _remember(self, sample: PoseSample, view: ViewState) -> None:
        if self._recognizer is None:
            return
        self._recent.append((sample, view))
        while self._recent and sample.t_s - self._recent[0][0].t_s > self.HISTORY_S:
            self._recent.popleft()

    def _count_and_judge(self, sample: PoseSample, view: ViewState) -> tuple[Rep | None, Analysis]:
        """Counter first, then the analyser (told about the rep); a rep ending on this
        frame carries the faults raised on it, a rep in progress collects them."""
        counter = self._counter
        rep = counter.update(sample) if counter is not None else None
        analysis = Analysis()
        if self._analyser is not None:
            in_rep = counter is not None and counter.in_rep
            analysis = self._analyser.update(sample, view, in_rep, rep is not None)
        faults = {fault_key(e) for e in analysis.events} | set(analysis.onsets)  # cued or held back by cooldown
        if rep is not None:
            rep = replace(rep, faults=tuple(sorted(set(rep.faults) | faults)))
        elif counter is not None:
            for fault in sorted(faults):
                counter.note_fault(fault)
        return rep, analysis

    def update(self, sample: PoseSample) -> CoachFrame:
        view = self._view.update(sample)
        if self._reference is not None:
            self._reference.observe(sample.t_s, sample.world)
        caught_up, ongoing = self._follow_recognizer(sample)
        self._remember(sample, view)  # after a switch: the replay covers earlier frames only
        rep, analysis = self._count_and_judge(sample, view)
        counter = self._counter
        events = ongoing + analysis.events
        events += [rep_event(earlier, self._exercise, view.view.value) for earlier in caught_up]
        if rep is not None and not rep.partial:
            events.append(rep_event(rep, self._exercise, view.view.value))
            if self._reference is not None:
                events += self._reference.compare(rep, self._exercise, view.view.value)
        return CoachFrame(
            sample.t_s,
            view,
            analysis.metrics,
            events,
            analysis.active,
            self._exercise,
            counter.count if counter is not None else 0,
            counter.phase if counter is not None else None,
        )
