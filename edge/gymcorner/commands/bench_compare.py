"""`gymcorner bench CLIP --compare`: our pipeline beside the plain loop a public trainer runs.

Variants, measured one after the other by one command on the same clip:

* each pose backend we have (`litert`, and `mediapipe` when its package is installed),
  through the whole pipeline exactly as `gymcorner bench` times it;
* the peer loop, when mediapipe is installed: `cv2.VideoCapture -> cvtColor ->
  mp.solutions.pose.Pose.process`, decoding included, nothing else (no smoothing, no coach,
  no avatar), which is what the fps of most open-source trainers is;
* the floor: the landmark network alone, `invoke()` on a 256x256 input with the configured
  threads, the one cost no pipeline around it can avoid.

With `--rounds N` the variants run N times, interleaved, and the ratio to the peer loop
is the median of each round's own ratio (runs seconds apart), not of fps taken minutes
apart. Every variant runs in a fresh child process, so its peak RSS is its own and no variant
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
        "landmark_workers": result.get("landmark_workers", 1),
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
    """The landmark network's own invoke time on LiteRT, nothing around it: the network as the
    backend runs it (without the segmentation head it does not read)."""
    from gymcorner.vision.blazepose.landmarks import LandmarkNetwork
    from gymcorner.vision.blazepose.runtime import pose_model_paths

    _detector, path = pose_model_paths(config.models.dir)
    network = LandmarkNetwork(path, config.pose.threads).network
    data = np.random.default_rng(0).random(network.input_shape, dtype=np.float32)
    times = []
    for i in range(FLOOR_INVOKES + 10):
        network.run(data, ())
        if i >= 10:  # the first invokes pay for XNNPACK's set-up
            times.append(network.last_invoke_ms)
    return {
        "invoke_ms": percentiles(times),
        "threads": config.pose.threads,
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
    config: Config,
    video: str,
    max_frames: int | None = None,
    log: Callable[[str], None] = print,
    rounds: int = 1,
) -> dict[str, Any]:
    """Every variant `rounds` times, interleaved (litert, mediapipe, peer loop, then again).

    A shared machine's speed drifts by tens of percent over a minute, as much as the effect
    measured; a ratio taken between runs seconds apart, and its median over rounds, is what
    survives that. Each variant reports its median round (by fps), with every round's fps."""
    backends = ["litert"] + (["mediapipe"] if mediapipe_installed() else [])
    runs: dict[str, list[dict[str, Any]]] = {}
    for round_no in range(1, rounds + 1):
        tag = f" (round {round_no} of {rounds})" if rounds > 1 else ""
        for backend in backends:
            log(f"compare: pipeline with pose.backend = {backend}{tag} ...")
            pose = config.pose.model_copy(update={"backend": backend})
            runs.setdefault(backend, []).append(
                _run_child("pipeline", config.model_copy(update={"pose": pose}), video, max_frames)
            )
        if mediapipe_installed():
            log(f"compare: the peer loop (VideoCapture -> cvtColor -> mediapipe Pose.process){tag} ...")
            runs.setdefault("peer_loop", []).append(_run_child("peer", config, video, max_frames))
    log("compare: the landmark network alone ...")
    floor = _run_child("floor", config, video, max_frames)
    variants = {name: _median_run(results) for name, results in runs.items()}
    result: dict[str, Any] = {
        "clip": Path(video).name,
        "threads": config.pose.threads,
        "rounds": rounds,
        "variants": variants,
        "landmark_invoke_ms": floor.get("invoke_ms"),
        "venv": {"path": sys.prefix, "size_mb": venv_size_mb()},
    }
    peers = runs.get("peer_loop", [])
    if peers and all("fps" in p for p in peers):
        per_round = {
            name: [round(r["fps"] / p["fps"], 2) for r, p in zip(results, peers, strict=True) if "fps" in r]
            for name, results in runs.items()
        }
        result["speedup_per_round"] = per_round
        result["speedup_vs_peer"] = {k: round(float(np.median(v)), 2) for k, v in per_round.items() if v}
    return result


def _median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median fps (the lower middle one for an even count), plus every
    round's fps; the first error when a round failed."""
    failed = [r for r in results if "fps" not in r]
    if failed:
        return failed[0]
    ordered = sorted(results, key=lambda r: r["fps"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["fps_per_round"] = [r["fps"] for r in results]
    return chosen


def format_compare(result: dict[str, Any]) -> str:
    rounds = result.get("rounds", 1)
    head = f"clip {result['clip']}  pose threads {result['threads']}"
    lines = [head + (f"  {rounds} rounds, interleaved: medians" if rounds > 1 else "")]
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
            workers = v.get("landmark_workers", 1)
            per = f" (its invoke time / {workers} workers)" if workers > 1 else ""
            lines.append(
                f"{'':<36}  all but the landmark network{per}: {100 * v['outside_landmark_share']:.1f}% of frame time"
            )
    if rounds > 1:
        for name, v in result["variants"].items():
            ratios = result.get("speedup_per_round", {}).get(name)
            fps = ", ".join(f"{f:.1f}" for f in v.get("fps_per_round", []))
            lines.append(f"{name:<12}fps per round: {fps}" + (f"  x peer: {ratios}" if ratios else ""))
    floor = result.get("landmark_invoke_ms")
    if floor:
        lines.append(f"landmark network alone (LiteRT invoke): p50 {floor['p50']:.1f} ms, p95 {floor['p95']:.1f} ms")
    lines.append(f"venv {result['venv']['path']}: {result['venv']['size_mb']:.0f} MB")
    return "\n".join(lines)
