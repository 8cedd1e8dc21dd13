"""Offline report of one clip: what `analyze` and `replay` print and write.

Collects the pipeline's per-frame results into the clip summary (JSON) and the
per-frame table (CSV). Pure bookkeeping: the caller owns the loop and the files.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import AUTO, SELECTABLE, Exercise
from gymcorner.coach.sets import SessionTally
from gymcorner.config import Config
from gymcorner.motion.filters import make_smoother
from gymcorner.motion.landmarks import PoseSample
from gymcorner.pipeline import FrameResult, Pipeline

CSV_COLUMNS = ("frame", "t_s", "person", "exercise", "view", "facing", "phase", "reps", "faults")


@dataclass
class ClipReport:
    clip: str
    backend: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[FeedbackEvent] = field(default_factory=list)
    views: Counter[str] = field(default_factory=Counter)
    facings: Counter[str] = field(default_factory=Counter)
    exercises: Counter[str] = field(default_factory=Counter)
    reps: int = 0
    good_min_score: int = 80  # [coach.quality]: a good rep in the session summary

    def add(self, index: int, result: FrameResult) -> None:
        coach = result.coach
        view = coach.view.view.value
        if result.raw.present:
            self.views[view] += 1
            self.facings[coach.view.facing] += 1
        self.exercises[coach.exercise] += int(result.raw.present)
        self.reps = coach.reps
        self.rows.append(
            {
                "frame": index,
                "t_s": round(result.raw.t_s, 4),
                "person": int(result.raw.present),
                "view": view,
                "exercise": coach.exercise,
                "facing": coach.view.facing,
                "phase": "" if coach.phase is None else round(coach.phase, 3),
                "reps": coach.reps,
                "faults": "|".join(coach.active),
            }
        )
        self.events.extend(coach.events)

    def finish(self, pipeline: Pipeline) -> None:
        """The clip is over: the set in progress ends with it (its `set_end` event)."""
        if self.rows:
            self.events.extend(pipeline.finish(float(self.rows[-1]["t_s"])))

    def session(self) -> dict[str, Any]:
        """Per exercise: reps, good / faulty / shallow reps, mean quality, sets."""
        tally = SessionTally(self.good_min_score)
        for event in self.events:
            tally.add(event)
        return tally.to_dict()

    @property
    def frames(self) -> int:
        return len(self.rows)

    def main_view(self) -> str:
        """The view seen on most frames with a person, ignoring 'unknown'."""
        known = [(n, v) for v, n in self.views.items() if v != "unknown"]
        return max(known)[1] if known else "unknown"

    def main_exercise(self) -> str:
        """The exercise coached on most frames with a person, ignoring the frames before
        the recogniser was sure (a push-up set is a push-up set even if that took 2 s)."""
        known = [(n, e) for e, n in self.exercises.items() if e != Exercise.UNKNOWN and n > 0]
        return str(max(known)[1]) if known else Exercise.UNKNOWN.value

    def to_dict(self, duration_s: float, processing_fps: float) -> dict[str, Any]:
        facing = [(n, f) for f, n in self.facings.items() if f != "unknown"]
        return {
            "clip": self.clip,
            "backend": self.backend,
            "frames": self.frames,
            "frames_with_person": sum(r["person"] for r in self.rows),
            "duration_s": round(duration_s, 3),
            "processing_fps": round(processing_fps, 2),
            "exercise": self.main_exercise(),
            "reps": self.reps,
            "view": self.main_view(),
            "facing": max(facing)[1] if facing else "unknown",
            "view_frames": dict(self.views),
            "session": self.session(),
            "events": [_event_json(e) for e in self.events],
        }

    def write_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)


def _event_json(event: FeedbackEvent) -> dict[str, Any]:
    d = {"t": round(event.t, 3), "code": event.code, "text": event.text, "kind": event.kind}
    if "reason" in event.details:
        d["reason"] = event.details["reason"]
    d["view"] = event.view
    d["details"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in event.details.items()}
    return d


def for_whole_clip(samples: list[PoseSample], config: Config) -> Config:
    """A file is seen whole: in `auto` mode, classify the whole clip first and coach it as that
    exercise, as `gymcorner eval` does. Live, the coach waits for the recogniser to settle
    (about 1.5-2 s) before any exercise-specific cue; a short clip would end before that."""
    if config.coach.exercise != AUTO:
        return config
    from gymcorner.assets import load_recognizer_model
    from gymcorner.coach.recognition import classify_clip

    smoother = make_smoother(config.smoothing)
    label, _ = classify_clip([smoother.smooth(s) for s in samples], load_recognizer_model())
    if label not in SELECTABLE:
        return config
    fixed = config.model_copy(deep=True)
    fixed.coach.exercise = label
    return fixed


def analyze_samples(samples: Iterable[PoseSample], config: Config, clip: str, backend: str = "") -> ClipReport:
    """Run recorded samples through the pipeline (no model): the heart of `replay` and
    `analyze`; in `auto` mode the clip is classified whole first (`for_whole_clip`)."""
    seq = list(samples)
    pipeline = Pipeline(for_whole_clip(seq, config))
    report = ClipReport(clip, backend, good_min_score=config.coach.quality.good_min_score)
    for index, sample in enumerate(seq):
        report.add(index, pipeline.process(sample))
    report.finish(pipeline)
    return report
