"""The coach: which exercise, how many reps, and what to say.

One object per person. Each frame: the camera view -> the exercise -> the rep counter ->
the exercise's analyser (form rules, from `analysers.ANALYSERS`) -> events, including one
"rep" event per complete repetition (number, start/bottom/end time, depth, tempo, faults,
quality score: `quality.py`) -> sets and rest (`sets.py`: "set_end", "rest_over").
Pure: everything arrives with the sample (and the heart rate, when a strap is worn).

The exercise is fixed in config (or by `set_exercise`), or follows the recogniser: it is
`Exercise.UNKNOWN` until the recogniser's label has been stable for its `stable_s`, and
while it is unknown no form rule runs, so nobody doing push-ups is told to squat deeper.
Reps done meanwhile are not lost: on the switch the last `HISTORY_S` of samples are
replayed into the new exercise's counter and analyser, so those reps are reported with
their faults and a descent already under way is judged whole. Of the cues raised during
the replay only those whose fault still holds are said (the others would be late). The
`unknown_counter` slot takes a counter that needs no exercise label (`LabelFreeCounter`,
what the daemon uses in `auto` mode): it counts during UNKNOWN, taught exercise or not, so
reps are announced as they end; on the switch the replay still runs, and only the reps it
finds that the label-free counter did not announce are reported (the form cues still come
from the replay).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Protocol

from gymcorner.coach.analysers import RULES, Analyser, Analysis, Metrics, make_analyser
from gymcorner.coach.any_reps import AnyRepCounter
from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import AUTO, Exercise
from gymcorner.coach.quality import RepQuality, score_rep
from gymcorner.coach.reference import ReferenceComparer, ReferenceRep
from gymcorner.coach.reps import PHASES, LiveRepCounter, Rep
from gymcorner.coach.sets import SetTracker
from gymcorner.coach.view_advice import ViewAdvisor
from gymcorner.config import CoachConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import ViewState, ViewTracker

# Exercises that are held, not repeated: no counter runs (a plank's noise is not reps).
HELD: frozenset[Exercise] = frozenset({Exercise.PLANK})


class RepCounting(Protocol):
    """What the coach needs of a rep counter (`LiveRepCounter` is one)."""

    count: int
    phase: float | None

    @property
    def in_rep(self) -> bool: ...

    def update(self, sample: PoseSample) -> Rep | None: ...

    def note_fault(self, code: str) -> None: ...

    def reset(self) -> None: ...


class UnknownCounting(RepCounting, Protocol):
    """A counter for while the exercise is unknown; it says which reps it has announced."""

    def announced_since(self, t_s: float) -> list[Rep]: ...


class LabelFreeCounter:
    """The label-free counter (`any_reps.AnyRepCounter`) as the coach's counter while the
    exercise is unknown: it counts any repeated movement, exercise taught or not. Its reps
    carry no faults (no form rule runs meanwhile); `depth` is the movement's amplitude in
    units of its recent range. The reps of the last `KEEP_S` are kept, so that a switch to a
    known exercise does not count them again."""

    KEEP_S = 30.0

    def __init__(self, counter: AnyRepCounter | None = None) -> None:
        self._counter = counter if counter is not None else AnyRepCounter()
        self.count = 0
        self.phase: float | None = None
        self._announced: deque[Rep] = deque()
        self._pending: deque[Rep] = deque()  # two reps ending on one frame: the second goes out on the next

    @property
    def in_rep(self) -> bool:
        return False

    def note_fault(self, code: str) -> None:
        return None

    def reset(self) -> None:
        self._counter = AnyRepCounter(self._counter.cfg)
        self.count = 0
        self._announced.clear()
        self._pending.clear()

    def update(self, sample: PoseSample) -> Rep | None:
        for counted in self._counter.update(sample):
            self.count += 1
            rep = Rep(self.count, counted.start_t, counted.bottom_t, counted.end_t, counted.amplitude)
            self._pending.append(rep)
            self._announced.append(rep)
        while self._announced and sample.t_s - self._announced[0].end_t > self.KEEP_S:
            self._announced.popleft()
        return self._pending.popleft() if self._pending else None

    def announced_since(self, t_s: float) -> list[Rep]:
        return [r for r in self._announced if r.end_t >= t_s]


def _overlaps(a: Rep, b: Rep) -> bool:
    return min(a.end_t, b.end_t) > max(a.start_t, b.start_t)


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


def rep_event(rep: Rep, exercise: Exercise, view: str, quality: RepQuality | None = None) -> FeedbackEvent:
    tempo = f"{rep.down_s:.1f} s down, {rep.up_s:.1f} s up"
    faults = f"; watch: {', '.join(rep.faults)}" if rep.faults else ""
    score = f", {quality.summary()}" if quality is not None else ""
    return FeedbackEvent(
        t=rep.end_t,
        code="rep",
        text=f"Rep {rep.number}: {tempo}{score}{faults}.",
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
            **({"quality": quality.to_dict()} if quality is not None else {}),
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
        unknown_counter: UnknownCounting | None = None,
    ) -> None:
        self._cfg = config
        self._view = ViewTracker(config.view)
        self._recognizer = recognizer
        self._recent: deque[tuple[PoseSample, ViewState]] = deque()  # the last HISTORY_S, for a switch
        self._reference = ReferenceComparer(reference) if reference is not None else None
        self._unknown_counter = unknown_counter
        # counts the exercises that have no joint-angle phase; the same object as the
        # unknown-time counter when there is one, so its count carries through the switch
        self._label_free: UnknownCounting = unknown_counter if unknown_counter is not None else LabelFreeCounter()
        self._exercise = Exercise.UNKNOWN if config.exercise == AUTO else Exercise(config.exercise)
        self._counter: RepCounting | None = None
        self._analyser: Analyser | None = None
        self._sets = SetTracker(config.sets, config.quality.good_min_score)
        self._view_advice = ViewAdvisor(config.view.limited_after_s)  # where to stand, once per exercise
        self._counted_before_switch: list[Rep] = []  # announced while unknown: not to be counted again
        self._last_rep_end_t = -float("inf")  # end of the last rep announced, any exercise
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
        self._sets.reset()
        self._view_advice.reset()
        self._last_rep_end_t = -float("inf")
        self._switch(self._exercise)

    def set_targets(self, reps_per_set: dict[str, int]) -> None:
        """The member's planned reps a set, per exercise (their plan for this session)."""
        self._sets.set_targets(reps_per_set)

    def finish(self, t_s: float) -> list[FeedbackEvent]:
        """The session ends at `t_s`: the set in progress ends with it (its `set_end`)."""
        return self._sets.finish(t_s)

    def _rep_event(self, rep: Rep, view: str) -> FeedbackEvent:
        """The rep's event, with its quality score when the exercise is known."""
        quality = None
        if self._exercise in PHASES:
            quality = score_rep(rep, self._exercise, self._cfg.reps.min_depth, self._cfg.quality)
        return rep_event(rep, self._exercise, view, quality)

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
        replay_from = -float("inf")
        continues = False  # the counter has counted the recent samples already
        if exercise in PHASES:
            self._counter = LiveRepCounter(exercise, self._cfg.reps)
        elif exercise in HELD:
            self._counter = None
        else:
            # Taught to recognise but without a joint-angle phase (bench press, front raise,
            # sit-up, cable pushdown, russian twist): the label-free counter counts it. If it
            # counted while the exercise was unknown it goes on; otherwise it starts afresh,
            # from the end of the last rep announced.
            self._counter = self._label_free
            continues = leaving_unknown and self._label_free is self._unknown_counter
            if not continues:
                self._label_free.reset()
                replay_from = self._last_rep_end_t
        reps: list[Rep] = []
        cues: dict[str, FeedbackEvent] = {}
        active: list[str] = []
        for sample, view in self._recent:
            if sample.t_s <= replay_from:
                continue
            rep, analysis = self._count_and_judge(sample, view, count=not continues)
            if rep is not None and not rep.partial:
                reps.append(rep)
            cues.update((rule_key(e), e) for e in analysis.events)
            active = analysis.active
        if counted_meanwhile and not continues and self._counter is not None and self._unknown_counter is not None:
            reps = self._not_yet_announced(reps, self._unknown_counter, self._counter)
        return reps, [e for key, e in cues.items() if key in active]

    def _not_yet_announced(self, replayed: list[Rep], meanwhile: UnknownCounting, counter: RepCounting) -> list[Rep]:
        """Of the reps the replay found, those the label-free counter did not announce (a rep
        it counted overlaps in time); numbering goes on from its count."""
        since = self._recent[0][0].t_s if self._recent else -float("inf")
        announced = meanwhile.announced_since(since)
        fresh = [r for r in replayed if not any(_overlaps(r, a) for a in announced)]
        fresh = [replace(r, number=meanwhile.count + i) for i, r in enumerate(fresh, start=1)]
        counter.count = meanwhile.count + len(fresh)
        self._counted_before_switch = announced
        return fresh

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

    def _count_and_judge(self, sample: PoseSample, view: ViewState, count: bool = True) -> tuple[Rep | None, Analysis]:
        """Counter first, then the analyser (told about the rep); a rep ending on this
        frame carries the faults raised on it, a rep in progress collects them. With
        `count` False (a replay of frames the counter has already seen) only the analyser runs."""
        counter = self._counter
        rep = counter.update(sample) if counter is not None and count else None
        if rep is not None and not rep.partial and counter is not None and self._counted_before_switch:
            if any(_overlaps(rep, earlier) for earlier in self._counted_before_switch):
                counter.count -= 1  # the rep in progress at the switch had been announced already
                rep = None
        if self._counted_before_switch and sample.t_s - self._counted_before_switch[-1].end_t > self.HISTORY_S:
            self._counted_before_switch = []
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

    def update(self, sample: PoseSample, heart_rate_bpm: float | None = None) -> CoachFrame:
        """One frame; `heart_rate_bpm` (a strap's latest reading, if any) goes into the set's summary."""
        view = self._view.update(sample)
        if self._reference is not None:
            self._reference.observe(sample.t_s, sample.world)
        caught_up, ongoing = self._follow_recognizer(sample)
        self._remember(sample, view)  # after a switch: the replay covers earlier frames only
        rep, analysis = self._count_and_judge(sample, view)
        counter = self._counter
        counted = [self._rep_event(earlier, view.view.value) for earlier in caught_up]
        if caught_up:
            self._last_rep_end_t = max(r.end_t for r in caught_up)
        if rep is not None and not rep.partial:
            counted.append(self._rep_event(rep, view.view.value))
            self._last_rep_end_t = rep.end_t
            if self._reference is not None:
                counted += self._reference.compare(rep, self._exercise, view.view.value)
        advice = self._view_advice.update(sample.t_s, self._exercise, view.view.value, RULES.get(self._exercise, ()))
        # A set that these reps end (another exercise's) is reported before them.
        events = ongoing + analysis.events + advice + self._sets.update(sample.t_s, counted, heart_rate_bpm) + counted
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
