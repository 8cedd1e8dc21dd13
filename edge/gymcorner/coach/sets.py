"""Sets, rest and the session's tally, from the coach's rep events.

A set is the reps of one exercise with less than `end_after_s` between one rep's end and
the next. When that time passes without a rep the set ends: a `set_end` event carries its
reps, how many were good (quality at least `good_min_score`), the mean quality, the mean
tempo, its heart rate when a strap is worn, and the rest that came before it. The rest is
timed from the last rep; when it reaches `rest_target_s` a `rest_over` event says so. A rep
of another exercise ends the open set at once, and so does the end of the session
(`finish`).

`SessionTally` adds every rep and set of a session up per exercise: reps, good and
faulty reps, shallow reps (range cost points), the mean quality, sets and the faults seen.

Pure: time and heart rate come in with each call.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import Exercise
from gymcorner.config import SetsConfig

UNKNOWN = Exercise.UNKNOWN.value


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _exercise_words(exercise: str) -> str:
    return exercise.replace("_", " ")


def rep_score(event: FeedbackEvent) -> int | None:
    quality = event.details.get("quality")
    return int(quality["score"]) if isinstance(quality, dict) and "score" in quality else None


@dataclass
class _OpenSet:
    exercise: str
    number: int
    start_t: float
    last_rep_end_t: float
    rest_before_s: float | None
    scores: list[int] = field(default_factory=list)
    reps: int = 0
    down_s: list[float] = field(default_factory=list)
    up_s: list[float] = field(default_factory=list)
    heart_rate: list[tuple[float, float]] = field(default_factory=list)  # (t, bpm)


class SetTracker:
    """Turns rep events into `set_end` and `rest_over` events."""

    def __init__(self, config: SetsConfig, good_min_score: int) -> None:
        self._cfg = config
        self._good = good_min_score
        self._open: _OpenSet | None = None
        self._sets_done: Counter[str] = Counter()
        self._rest_from_t: float | None = None  # the last set's last rep end, while resting
        self._rest_exercise = ""
        self._rest_announced = False
        self._recent_hr: deque[tuple[float, float]] = deque()  # outside a set: the last HR_KEEP_S
        self._targets: dict[str, int] = {}  # planned reps a set, per exercise (the member's plan)

    HR_KEEP_S = 60.0  # longer than any rep: a set's first rep is measured from its start

    @property
    def in_set(self) -> bool:
        return self._open is not None

    def reset(self) -> None:
        self.__init__(self._cfg, self._good)  # type: ignore[misc]

    def set_targets(self, reps_per_set: dict[str, int]) -> None:
        """The planned reps a set, per exercise: each `set_end` says how many of them were done."""
        self._targets = {str(k): int(v) for k, v in reps_per_set.items()}

    def update(self, t: float, events: Iterable[FeedbackEvent], heart_rate_bpm: float | None) -> list[FeedbackEvent]:
        out: list[FeedbackEvent] = []
        for event in events:
            if event.kind == "rep":
                out += self._rep(event)
        current = self._open
        hr = (t, float(heart_rate_bpm)) if heart_rate_bpm is not None and heart_rate_bpm > 0 else None
        if current is None and hr is not None:
            self._recent_hr.append(hr)
            while t - self._recent_hr[0][0] > self.HR_KEEP_S:
                self._recent_hr.popleft()
        if current is not None:
            if hr is not None:
                current.heart_rate.append(hr)
            if t - current.last_rep_end_t >= self._cfg.end_after_s:
                out.append(self._close(t, "rest"))
        elif self._rest_from_t is not None and not self._rest_announced and self._cfg.rest_target_s > 0:
            rested = t - self._rest_from_t
            if rested >= self._cfg.rest_target_s:
                self._rest_announced = True
                out.append(self._rest_over(t, rested))
        return out

    def finish(self, t: float) -> list[FeedbackEvent]:
        """The session ends: the open set ends with it."""
        out = [self._close(t, "session_end")] if self._open is not None else []
        self._rest_from_t = None
        return out

    def _rep(self, event: FeedbackEvent) -> list[FeedbackEvent]:
        out: list[FeedbackEvent] = []
        d = event.details
        start_t = float(d.get("start_t", event.t))
        end_t = float(d.get("end_t", event.t))
        if self._open is not None and self._open.exercise == UNKNOWN != event.exercise:
            self._adopt(event.exercise)  # the set counted before the exercise was known is that exercise's
        if self._open is not None and self._open.exercise != event.exercise:
            out.append(self._close(event.t, "exercise_changed"))
        if self._open is None:
            rest = None if self._rest_from_t is None else round(max(0.0, start_t - self._rest_from_t), 3)
            self._sets_done[event.exercise] += 1
            self._open = _OpenSet(event.exercise, self._sets_done[event.exercise], start_t, end_t, rest)
            self._open.heart_rate = [(ht, b) for ht, b in self._recent_hr if ht >= start_t]
            self._recent_hr.clear()
            self._rest_from_t = None
        current = self._open
        current.reps += 1
        current.last_rep_end_t = max(current.last_rep_end_t, end_t)
        score = rep_score(event)
        if score is not None:
            current.scores.append(score)
        for key, values in (("down_s", current.down_s), ("up_s", current.up_s)):
            if isinstance(d.get(key), (int, float)):
                values.append(float(d[key]))
        return out

    def _adopt(self, exercise: str) -> None:
        current = self._open
        assert current is not None
        self._sets_done[UNKNOWN] -= 1
        self._sets_done[exercise] += 1
        current.exercise, current.number = exercise, self._sets_done[exercise]

    def _close(self, t: float, reason: str) -> FeedbackEvent:
        s = self._open
        assert s is not None
        self._open = None
        self._rest_from_t, self._rest_exercise, self._rest_announced = s.last_rep_end_t, s.exercise, False
        good = sum(score >= self._good for score in s.scores)
        mean_quality = _mean([float(x) for x in s.scores])
        bpm = [b for ht, b in s.heart_rate if s.start_t <= ht <= s.last_rep_end_t]
        heart = {"mean_bpm": round(sum(bpm) / len(bpm), 1), "peak_bpm": round(max(bpm), 1)} if bpm else None
        what = "" if s.exercise == UNKNOWN else f" of {_exercise_words(s.exercise)}"  # a movement never taught
        target = self._targets.get(s.exercise)
        done = f"{s.reps} of {target} reps" if target else _plural(s.reps, "rep")
        words = [f"Set {s.number} done: {done}{what}"]
        if s.scores:
            words.append(f"{good} good, quality {mean_quality:.0f}")
        if heart is not None:
            words.append(f"heart rate up to {heart['peak_bpm']:.0f}")
        rest = f" Rest {self._cfg.rest_target_s:.0f} s." if self._cfg.rest_target_s > 0 and reason == "rest" else ""
        return FeedbackEvent(
            t=t,
            code="set_end",
            text=", ".join(words) + "." + rest,
            kind="set",
            severity="info",
            exercise=s.exercise,
            details={
                "set": s.number,
                "reps": s.reps,
                "good_reps": good if s.scores else None,
                "mean_quality": mean_quality,
                "down_s": _mean(s.down_s),
                "up_s": _mean(s.up_s),
                "start_t": round(s.start_t, 3),
                "end_t": round(s.last_rep_end_t, 3),
                "duration_s": round(s.last_rep_end_t - s.start_t, 3),
                "rest_before_s": s.rest_before_s,
                "heart_rate": heart,
                "rest_target_s": self._cfg.rest_target_s,
                "target_reps": target,
                "ended_by": reason,
            },
        )

    def _rest_over(self, t: float, rested: float) -> FeedbackEvent:
        exercise = self._rest_exercise
        following = self._sets_done[exercise] + 1
        return FeedbackEvent(
            t=t,
            code="rest_over",
            text=f"Rest over ({rested:.0f} s): ready for set {following}"
            + ("." if exercise == UNKNOWN else f" of {_exercise_words(exercise)}."),
            kind="info",
            severity="info",
            exercise=exercise,
            details={"rest_s": round(rested, 3), "next_set": following},
        )


@dataclass
class _ExerciseTally:
    reps: int = 0
    scored: int = 0
    good_reps: int = 0
    faulty_reps: int = 0
    shallow_reps: int = 0
    quality_sum: float = 0.0
    sets: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def add_rep(self, event: FeedbackEvent, good_min_score: int) -> None:
        self.reps += 1
        faults = [str(f) for f in event.details.get("faults", [])]
        self.faulty_reps += bool(faults)
        self.faults.update(faults)
        score = rep_score(event)
        if score is not None:
            self.scored += 1
            self.quality_sum += score
            self.good_reps += score >= good_min_score
            causes = {d.get("cause") for d in event.details["quality"].get("deductions", [])}
            self.shallow_reps += "range" in causes

    def to_dict(self) -> dict[str, Any]:
        return {
            "reps": self.reps,
            "good_reps": self.good_reps if self.scored else None,
            "faulty_reps": self.faulty_reps,
            "shallow_reps": self.shallow_reps if self.scored else None,
            "mean_quality": round(self.quality_sum / self.scored, 1) if self.scored else None,
            "sets": self.sets,
            "faults": dict(sorted(self.faults.items())),
        }


class SessionTally:
    """Per exercise: reps, good / faulty / shallow reps, mean quality, sets, faults.

    Reps counted before the exercise was known (`unknown`) belong to the exercise of the
    set they end up in: a set's `set_end` names it."""

    def __init__(self, good_min_score: int) -> None:
        self._good = good_min_score
        self._reps: list[tuple[str, FeedbackEvent]] = []
        self._sets: Counter[str] = Counter()
        self._unattributed: list[int] = []  # indices of this set's reps counted while unknown

    def reset(self) -> None:
        self._reps.clear()
        self._sets.clear()
        self._unattributed.clear()

    def add(self, event: FeedbackEvent, exercise: str = "") -> None:
        if event.kind == "set":
            self._sets[event.exercise] += 1
            if event.exercise != UNKNOWN:
                for i in self._unattributed:
                    self._reps[i] = (event.exercise, self._reps[i][1])
            self._unattributed.clear()
        elif event.kind == "rep":
            name = event.exercise or exercise
            if name == UNKNOWN:
                self._unattributed.append(len(self._reps))
            self._reps.append((name, event))

    def _tallies(self) -> dict[str, _ExerciseTally]:
        tallies: dict[str, _ExerciseTally] = {}
        for name, event in self._reps:
            tallies.setdefault(name, _ExerciseTally()).add_rep(event, self._good)
        for name, n in self._sets.items():
            tallies.setdefault(name, _ExerciseTally()).sets = n
        return tallies

    def reps(self) -> int:
        return len(self._reps)

    def reps_by_exercise(self) -> dict[str, int]:
        return {name: t.reps for name, t in self._tallies().items() if t.reps}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: t.to_dict() for name, t in self._tallies().items()}
