"""`analyze`, `record` and `replay`: the pipeline on one clip, with a progress bar."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from gymcorner.commands.analyze import ClipReport, analyze_samples, for_whole_clip
from gymcorner.config import Config
from gymcorner.motion.landmarks import PoseSample
from gymcorner.pipeline import Pipeline
from gymcorner.recording import Recording, load_recording
from gymcorner.vision.pose import create_estimator
from gymcorner.vision.sources import FrameSource, open_source


def _progress(source: FrameSource, label: str, quiet: bool) -> tqdm:
    return tqdm(total=source.frame_count, desc=label, unit="frame", disable=quiet, leave=False, dynamic_ncols=True)


def analyze_clip(
    config: Config,
    video: str,
    json_out: str | None = None,
    frames_csv: str | None = None,
    annotate_out: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Estimate every frame of `video`, classify the clip (in `auto` mode), then smooth and
    coach every frame; return the clip summary. The annotated video is drawn on a second
    decode, so no frame is held in memory."""
    started = time.perf_counter()
    recording = record_clip(config, video, None, quiet)
    samples = list(recording.samples())
    pipeline = Pipeline(for_whole_clip(samples, config))
    report = ClipReport(Path(video).name, recording.backend, good_min_score=config.coach.quality.good_min_score)
    results = []
    for index, sample in enumerate(samples):
        results.append(pipeline.process(sample))
        report.add(index, results[-1])
    report.finish(pipeline)
    elapsed = time.perf_counter() - started
    if annotate_out:
        _annotate(config, video, annotate_out, results)
    frame_s = 1.0 / recording.fps if recording.fps else 0.0
    duration = float(recording.t_s[-1] - recording.t_s[0] + frame_s) if len(recording) else 0.0
    summary = report.to_dict(duration, report.frames / elapsed if elapsed > 0 else 0.0)
    _write_outputs(report, summary, json_out, frames_csv)
    return summary


def _annotate(config: Config, video: str, out: str, results: list[Any]) -> None:
    """Draw each frame's result onto the video's frames, decoded a second time."""
    from gymcorner.commands.annotate import Annotator

    source = open_source(config.source.model_copy(update={"realtime": False, "loop": False}), video)
    annotator = Annotator(out, source.fps or 30.0, source.size or (640, 480))
    try:
        for frame, result in zip(source, results, strict=False):
            annotator.write(frame.image, result)
    finally:
        source.close()
        annotator.close()


def record_clip(config: Config, video: str, out: str | None, quiet: bool = False) -> Recording:
    """Run only the pose model over a clip and keep the landmarks (for replay and fixtures)."""
    source = open_source(config.source.model_copy(update={"realtime": False, "loop": False}), video)
    estimator = create_estimator(config.pose, config.models.dir)
    samples: list[PoseSample] = []
    try:
        with _progress(source, Path(video).name, quiet) as bar:
            for frame in source:
                samples.append(estimator.estimate(frame.image, frame.t_s))
                bar.update(1)
    finally:
        source.close()
        estimator.close()
    recording = Recording.from_samples(samples, source.fps or 30.0, Path(video).name, estimator.name)
    if out is not None:
        recording.save(out)
    return recording


def replay_recording(
    config: Config, path: str, json_out: str | None = None, frames_csv: str | None = None
) -> dict[str, Any]:
    """The pipeline over recorded landmarks: no camera, no model, same result every time."""
    recording = load_recording(path)
    started = time.perf_counter()
    report = analyze_samples(recording.samples(), config, recording.source or Path(path).name, recording.backend)
    elapsed = time.perf_counter() - started
    duration = float(recording.t_s[-1] - recording.t_s[0] + 1.0 / recording.fps) if len(recording) else 0.0
    summary = report.to_dict(duration, report.frames / elapsed if elapsed > 0 else 0.0)
    _write_outputs(report, summary, json_out, frames_csv)
    return summary


def _write_outputs(report: ClipReport, summary: dict[str, Any], json_out: str | None, frames_csv: str | None) -> None:
    if json_out:
        Path(json_out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if frames_csv:
        report.write_csv(frames_csv)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"clip: {summary['clip']}  frames: {summary['frames']}  duration: {summary['duration_s']:.2f} s  "
        f"processing: {summary['processing_fps']:.1f} fps",
        f"exercise: {summary['exercise']}  reps: {summary['reps']}  view: {summary['view']} "
        f"(facing {summary['facing']})  person on {summary['frames_with_person']} frames",
    ]
    if not summary["events"]:
        lines.append("events: none")
    for e in summary["events"]:
        lines.append(f"  {e['t']:7.2f} s  {e['code']:<18} {e['text']}")
    for exercise, s in summary.get("session", {}).items():
        quality = "" if s["mean_quality"] is None else f", mean quality {s['mean_quality']:.0f}"
        good = "" if s["good_reps"] is None else f"{s['good_reps']} good, "
        lines.append(
            f"session: {exercise}: {_count(s['reps'], 'rep')} in {_count(s['sets'], 'set')} "
            f"({good}{s['faulty_reps']} with faults{quality})"
        )
    return "\n".join(lines)


def record_reference(
    config: Config, video: str, exercise: str, out: str, rep_number: int = 1, quiet: bool = False
) -> dict[str, Any]:
    """A trainer's reference rep from a clip: the chosen rep's start and bottom poses.

    The tolerance is the configured minimum or 1.5 times the largest difference between
    the chosen rep and the clip's other reps, whichever is larger: the spread of the
    trainer's own reps sets how strict the reference is."""
    import numpy as np

    from gymcorner.assets import save_reference
    from gymcorner.coach.reference import ReferenceComparer, build_reference
    from gymcorner.coach.reps import LiveRepCounter
    from gymcorner.errors import RecordingError
    from gymcorner.motion.filters import make_smoother

    recording = record_clip(config, video, None, quiet)
    smoother = make_smoother(config.smoothing)
    counter = LiveRepCounter(exercise, config.coach.reps)
    history, reps = [], []
    for sample in recording.samples():
        s = smoother.smooth(sample)
        history.append((s.t_s, s.world))
        rep = counter.update(s)
        if rep is not None and not rep.partial:
            reps.append(rep)
    if len(reps) < rep_number:
        raise RecordingError(f"{video}: found {len(reps)} complete {exercise} reps, cannot take rep {rep_number}")
    chosen = reps[rep_number - 1]
    reference = build_reference(history, chosen, exercise, config.coach.reference_min_tolerance, Path(video).name)
    comparer = ReferenceComparer(reference)
    comparer.HISTORY_S = float("inf")
    for t, world in history:
        comparer.observe(t, world)
    spread = [
        float(np.linalg.norm(pose - ref))
        for other in reps
        if other is not chosen
        for pose, ref in (
            (comparer._at(other.start_t), reference.start_pose),
            (comparer._at(other.bottom_t), reference.bottom_pose),
        )
        if pose is not None
    ]
    tolerance = max(config.coach.reference_min_tolerance, 1.5 * max(spread, default=0.0))
    reference = build_reference(history, chosen, exercise, round(tolerance, 3), Path(video).name)
    save_reference(reference, out)
    return {"reps_found": len(reps), "rep": rep_number, "tolerance": reference.tolerance, "out": out}
