"""`gymcorner bench`: where the time goes, stage by stage, on one clip.

Stages per frame: decode (source read), pose_prep (resize + colour conversion),
pose_model (the BlazePose graph itself), smooth, coach, encode (avatar build + binary
encoding), publish (handing payloads to the MQTT client; the network work happens on
its own thread). With `[pose] ahead` (the default, as in the daemon) decode, pose_prep and
pose_model run on the pose thread one frame ahead, and `pose_wait` is how long the frame
loop waited for them. `total_ms` is the frame loop's own time per frame; `overhead_ms` is
what it spends besides the pose model (serially: all but pose_model; ahead: all but the
wait). The shares are of the frame loop's time, so with the pose ahead they say how much of
each frame the model (or the landmark network alone) was not running.

The litert backend cuts its crops (224x224 detector, 256x256 landmarks) straight from the
original frame inside `pose_model`; its `pose_prep` is only the input checks.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from gymcorner.avatar.codec import AvatarFrame
from gymcorner.avatar.codec_json import encode_json
from gymcorner.config import Config
from gymcorner.pipeline import Pipeline
from gymcorner.vision.pose import create_estimator
from gymcorner.vision.pose_ahead import PoseAhead, timed_estimate
from gymcorner.vision.sources import open_source

STAGES = ("decode", "pose_prep", "pose_model", "pose_wait", "smooth", "coach", "encode", "publish")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


AVATAR_SAMPLE = 128


def run_bench(config: Config, video: str, max_frames: int | None = None, quiet: bool = False) -> dict[str, Any]:
    source = open_source(config.source.model_copy(update={"realtime": False, "loop": False}), video)
    estimator = create_estimator(config.pose, config.models.dir)
    pipeline = Pipeline(config)
    publisher = _make_publisher(config)
    times: dict[str, list[float]] = {s: [] for s in STAGES if config.pose.ahead or s != "pose_wait"}
    model_times: dict[str, list[float]] = {}  # inside pose_model, when the backend reports it
    totals: list[float] = []  # the frame loop's own time per frame (waits included)
    # A sample of the avatar frames, their JSON sizes measured after the clock stops: every
    # `stride`-th frame, at most 2 * AVATAR_SAMPLE (keeping all of them would add ~20 kB a
    # frame to the peak RSS this benchmark reports, which the daemon never holds).
    avatars: list[AvatarFrame] = []
    stride = 1
    binary_sizes: list[int] = []
    clock = time.perf_counter
    frames = 0
    ahead: PoseAhead | None = None
    started = clock()
    try:
        source.open()
        if config.pose.ahead:
            ahead = PoseAhead(source, estimator, None)
        bar = tqdm(total=max_frames or source.frame_count, desc="bench", unit="frame", disable=quiet, leave=False)
        while max_frames is None or frames < max_frames:
            t0 = clock()
            if ahead is not None:
                item = ahead.read()
                if item is None:
                    break
                frame, sample, worker_ms = item.frame, item.sample, item.times_ms
                worker_ms["pose_wait"] = (clock() - t0) * 1000.0
            else:
                frame = source.read()
                if frame is None:
                    break
                t_read = clock()
                sample, worker_ms = timed_estimate(estimator, frame)
                worker_ms["decode"] = (t_read - t0) * 1000.0
            t3 = clock()
            for key, ms in worker_ms.items():
                (times[key] if key in times else model_times.setdefault(key, [])).append(ms)
            smoothed = pipeline.smooth(sample)
            t4 = clock()
            coach = pipeline.coach(smoothed)
            t5 = clock()
            avatar = pipeline.avatar(smoothed, coach)
            payload = pipeline.encode(avatar)
            t6 = clock()
            if publisher is not None:
                publisher.publish_avatar(payload)
                for event in coach.events:
                    publisher.publish_feedback(event.to_dict())
            t7 = clock()
            for stage, a, b in (("smooth", t3, t4), ("coach", t4, t5), ("encode", t5, t6), ("publish", t6, t7)):
                times[stage].append((b - a) * 1000.0)
            totals.append((t7 - t0) * 1000.0)
            binary_sizes.append(len(payload))
            if frames % stride == 0:
                avatars.append(avatar)
                if len(avatars) >= 2 * AVATAR_SAMPLE:
                    avatars, stride = avatars[::2], stride * 2
            frames += 1
            bar.update(1)
        bar.close()
    finally:
        elapsed = clock() - started
        if ahead is not None:
            ahead.close()
        source.close()
        estimator.close()
        if publisher is not None:
            publisher.close()
    if frames == 0:
        raise ValueError(f"{video}: no frame decoded")
    json_sizes = [len(encode_json(a)) for a in avatars]
    if config.avatar.format != "binary":
        binary_sizes = []
    for stage in [s for s, v in times.items() if not v]:  # pose_prep: a backend without the split
        del times[stage]
    total = np.array(totals)
    # What the frame loop spends besides the pose model: serially, all but pose_model; with
    # the pose one frame ahead, all but the wait for it (that work overlaps the next pose).
    pose_part = np.array(times["pose_wait"] if ahead is not None else times["pose_model"])
    overhead = total - pose_part
    stages = {s: percentiles(v) for s, v in times.items()}
    landmark = np.array(model_times.get("landmark_invoke", []))
    workers = int(getattr(estimator, "workers", 1)) if ahead is not None else 1
    return {
        "clip": Path(video).name,
        "backend": estimator.name,
        "model_complexity": config.pose.model_complexity,
        "pose_ahead": ahead is not None,
        "frames": frames,
        "frame_size": list(source.size or (0, 0)),
        "processing_fps": round(frames / elapsed, 2),
        "stages_ms": stages,
        "total_ms": percentiles(total.tolist()),
        "pose_model_ms": stages["pose_model"],
        "overhead_ms": percentiles(overhead.tolist()),
        # share of the frame loop's time the pose model is not running (it may run beside it)
        "overhead_share": round(float(1 - np.sum(times["pose_model"]) / (workers * total.sum())), 4),
        "model_stages_ms": {k: percentiles(v) for k, v in model_times.items()},
        # everything but the landmark network's own invoke: what no faster network would remove
        # with N landmark workers the networks run side by side: N frames' invokes share the time
        "landmark_workers": workers,
        "outside_landmark_share": (
            round(float(1 - landmark.sum() / (workers * total.sum())), 4) if landmark.size else None
        ),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "avatar_bytes_per_frame": {
            "binary": round(float(np.mean(binary_sizes)), 1) if binary_sizes else None,
            "json": round(float(np.mean(json_sizes)), 1),
        },
    }


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "mean": round(float(arr.mean()), 3),
    }


def _make_publisher(config: Config) -> Any:
    if not config.mqtt.enabled:
        return None
    from gymcorner.transport.mqtt import MqttPublisher

    publisher = MqttPublisher(config.mqtt, config.device.id)
    publisher.start()
    return publisher


def format_bench(result: dict[str, Any]) -> str:
    ahead = "pose one frame ahead" if result.get("pose_ahead") else "one frame at a time"
    lines = [
        f"clip {result['clip']}  backend {result['backend']} (complexity {result['model_complexity']})  "
        f"{result['frames']} frames {result['frame_size'][0]}x{result['frame_size'][1]}  {ahead}",
        f"{'stage':<12}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}",
    ]
    for stage, p in result["stages_ms"].items():
        lines.append(f"{stage:<12}{p['p50']:>10.3f}{p['p95']:>10.3f}{p['mean']:>10.3f}")
    for label, key in (("total", "total_ms"), ("overhead", "overhead_ms")):
        p = result[key]
        lines.append(f"{label:<12}{p['p50']:>10.3f}{p['p95']:>10.3f}{p['mean']:>10.3f}")
    for stage, p in result.get("model_stages_ms", {}).items():
        lines.append(f"  {stage:<18}{p['p50']:>10.3f}{p['p95']:>10.3f}{p['mean']:>10.3f}   (inside pose_model)")
    if result.get("outside_landmark_share") is not None:
        workers = result.get("landmark_workers", 1)
        per = f" (its invoke time / {workers} workers)" if workers > 1 else ""
        lines.append(f"all but the landmark network{per}: {100 * result['outside_landmark_share']:.1f}% of frame time")
    sizes = result["avatar_bytes_per_frame"]
    lines.append(
        f"processing {result['processing_fps']:.1f} fps  overhead {100 * result['overhead_share']:.1f}% of frame time  "
        f"peak RSS {result['peak_rss_mb']:.0f} MB  avatar bytes/frame binary {sizes['binary']} json {sizes['json']}"
    )
    return "\n".join(lines)
