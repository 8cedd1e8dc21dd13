"""`gymcorner bench CLIP --compare`: our pipeline beside the plain loop a public trainer runs.

Variants, measured one after the other by one command on the same clip:

* each pose backend we have (`litert`, and `mediapipe` when its package is installed),
  through the whole pipeline exactly as `gymcorner bench` times it;
* the peer loop, when mediapipe is installed: `cv2.VideoCapture -> cvtColor ->
  mp.solutions.pose.Pose.process`, decoding included, nothing else (no smoothing, no coach,
  no avatar), which is what the fps of most open-source trainers is;
* the floor: the landmark network alone, `invoke()` on a 256x256 input with the configured
  threads, the one cost no pipeline around it can avoid.

Every variant runs in a fresh child process, so its peak RSS is its own and no variant
warms caches or allocators for the next. The venv size is the installed folder of the
interpreter running this (sys.prefix).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gymcorner.commands.bench import peak_rss_mb, percentiles
from gymcorner.config import Config

FLOOR_INVOKES = 200


def _pipeline_variant(config: Config, video: str, max_frames: int | None) -> dict[str, Any]:
    from gymcorner.commands.bench import run_bench

    result = run_bench(config, video, max_frames, quiet=True)
    return {
        "fps": result["processing_fps"],
        "stages_ms": {k: {"p50": v["p50"], "p95": v["p95"]} for k, v in result["stages_ms"].items()},
        "model_stages_ms": result.get("model_stages_ms", {}),
        "overhead_share": result["overhead_share"],
        "outside_landmark_share": result.get("outside_landmark_share"),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "frames": result["frames"],
    }


def _peer_variant(config: Config, video: str, max_frames: int | None) -> dict[str, Any]:
    """The plain loop, with mediapipe's own defaults (its landmark smoothing on)."""
    import cv2
    import mediapipe

    pose = mediapipe.solutions.pose.Pose(model_complexity=config.pose.model_complexity)
    capture = cv2.VideoCapture(video)
    times: dict[str, list[float]] = {"decode": [], "convert": [], "process": []}
    clock = time.perf_counter
    frames = 0
    started = clock()
    while max_frames is None or frames < max_frames:
        t0 = clock()
        ok, frame = capture.read()
        t1 = clock()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        t2 = clock()
        pose.process(rgb)
        t3 = clock()
        for key, a, b in (("decode", t0, t1), ("convert", t1, t2), ("process", t2, t3)):
            times[key].append((b - a) * 1000.0)
        frames += 1
    elapsed = clock() - started
    capture.release()
    pose.close()
    if frames == 0:
        raise ValueError(f"{video}: no frame decoded")
    return {
        "fps": round(frames / elapsed, 2),
        "stages_ms": {k: percentiles(v) for k, v in times.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "frames": frames,
    }


def _floor_variant(config: Config, video: str, max_frames: int | None) -> dict[str, Any]:
    """The landmark network's own invoke time on LiteRT, nothing around it."""
    from gymcorner.vision.blazepose.runtime import pose_model_paths
    from gymcorner.vision.face import open_interpreter

    _detector, path = pose_model_paths(config.models.dir)
    interpreter = open_interpreter(path, config.pose.num_threads)
    detail = interpreter.get_input_details()[0]
    data = np.random.default_rng(0).random(tuple(detail["shape"]), dtype=np.float32)
    times = []
    for i in range(FLOOR_INVOKES + 10):
        interpreter.set_tensor(detail["index"], data)
        t0 = time.perf_counter()
        interpreter.invoke()
        if i >= 10:  # the first invokes pay for XNNPACK's set-up
            times.append((time.perf_counter() - t0) * 1000.0)
    return {
        "invoke_ms": percentiles(times),
        "threads": config.pose.num_threads,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


VARIANTS: dict[str, Callable[[Config, str, int | None], dict[str, Any]]] = {
    "pipeline": _pipeline_variant,
    "peer": _peer_variant,
    "floor": _floor_variant,
}


def _child(kind: str, config_json: str, video: str, max_frames: int | None, out: Any) -> None:
    try:
        config = Config.model_validate_json(config_json)
        out.put(("ok", VARIANTS[kind](config, video, max_frames)))
    except Exception as err:
        out.put(("error", f"{type(err).__name__}: {err}"))


def _run_child(kind: str, config: Config, video: str, max_frames: int | None) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(kind, config.model_dump_json(), video, max_frames, queue))
    proc.start()
    status, payload = queue.get()
    proc.join()
    if status != "ok":
        return {"error": payload}
    return payload


def mediapipe_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("mediapipe") is not None


def venv_size_mb() -> float:
    total = 0
    for root, _dirs, files in os.walk(sys.prefix):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return round(total / 1e6, 1)


def run_compare(
    config: Config, video: str, max_frames: int | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    variants: dict[str, dict[str, Any]] = {}
    backends = ["litert"] + (["mediapipe"] if mediapipe_installed() else [])
    for backend in backends:
        log(f"compare: pipeline with pose.backend = {backend} ...")
        variants[backend] = _run_child(
            "pipeline",
            config.model_copy(update={"pose": config.pose.model_copy(update={"backend": backend})}),
            video,
            max_frames,
        )
    if mediapipe_installed():
        log("compare: the peer loop (VideoCapture -> cvtColor -> mediapipe Pose.process) ...")
        variants["peer_loop"] = _run_child("peer", config, video, max_frames)
    log("compare: the landmark network alone ...")
    floor = _run_child("floor", config, video, max_frames)
    result: dict[str, Any] = {
        "clip": Path(video).name,
        "threads": config.pose.num_threads,
        "variants": variants,
        "landmark_invoke_ms": floor.get("invoke_ms"),
        "venv": {"path": sys.prefix, "size_mb": venv_size_mb()},
    }
    peer = variants.get("peer_loop", {}).get("fps")
    if peer:
        result["speedup_vs_peer"] = {k: round(v["fps"] / peer, 2) for k, v in variants.items() if "fps" in v}
    return result


def format_compare(result: dict[str, Any]) -> str:
    lines = [f"clip {result['clip']}  pose threads {result['threads']}"]
    lines.append(f"{'variant':<12}{'fps':>8}{'x peer':>8}{'RSS MB':>8}  stages p50/p95 ms")
    speedup = result.get("speedup_vs_peer", {})
    for name, v in result["variants"].items():
        if "error" in v:
            lines.append(f"{name:<12}  failed: {v['error']}")
            continue
        stages = "  ".join(f"{k} {s['p50']:.1f}/{s['p95']:.1f}" for k, s in v["stages_ms"].items())
        ratio = f"{speedup[name]:.2f}" if name in speedup else "-"
        lines.append(f"{name:<12}{v['fps']:>8.1f}{ratio:>8}{v['peak_rss_mb']:>8.0f}  {stages}")
        if v.get("model_stages_ms"):
            inner = "  ".join(f"{k} {s['p50']:.1f}/{s['p95']:.1f}" for k, s in v["model_stages_ms"].items())
            lines.append(f"{'':<36}  inside pose_model: {inner}")
        if "overhead_share" in v:
            lines.append(f"{'':<36}  all but the pose model: {100 * v['overhead_share']:.1f}% of frame time")
        if v.get("outside_landmark_share") is not None:
            lines.append(
                f"{'':<36}  all but the landmark network: {100 * v['outside_landmark_share']:.1f}% of frame time"
            )
    floor = result.get("landmark_invoke_ms")
    if floor:
        lines.append(f"landmark network alone (LiteRT invoke): p50 {floor['p50']:.1f} ms, p95 {floor['p95']:.1f} ms")
    lines.append(f"venv {result['venv']['path']}: {result['venv']['size_mb']:.0f} MB")
    return "\n".join(lines)
