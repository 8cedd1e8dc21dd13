"""`gymcorner eval-counting POSES_DIR ANNOTATIONS.csv`: the label-free counter on a benchmark.

The benchmark format is the public repetition-counting one (Countix / RepCount in pose
form): one `.npy` per video, shape (frames, >= 99), whose first 99 values per frame are the
33 BlazePose image landmarks as (x, y, z), a frame with no person all zeros; extra columns
after those are ignored. The CSV has one row per video with `name` (`<video>.mp4` or the
array's stem), `count` (true repetitions) and optionally `type` (the exercise).

Each array is fed, frame by frame, to the same live `AnyRepCounter` the daemon would run
(frame time i / fps, visibility 1, no world landmarks); the prediction is the number of
reps it has announced when the stream ends. Scores are the benchmark's: MAE = mean of
|predicted - true| / true, OBO = share of videos within one rep. A video whose array is
missing, of the wrong shape, or holds NaN is skipped and reported, never scored as zero.
"""

from __future__ import annotations

import argparse
import csv
import math
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gymcorner.coach.any_reps import AnyRepConfig, AnyRepCounter
from gymcorner.commands.output import write_json
from gymcorner.errors import ConfigError
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample

POSE_VALUES = NUM_LANDMARKS * 3
REQUIRED_COLUMNS = ("name", "count")


class PoseFileError(ValueError):
    """One video's pose array cannot be used (reported and skipped)."""


def read_annotations(path: str | Path) -> list[dict[str, str]]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"annotations not found: {p}")
    with p.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ConfigError(f"{p}: missing column(s) {', '.join(missing)} (need name, count; type optional)")
        rows = [r for r in reader if (r.get("name") or "").strip()]
    for i, r in enumerate(rows, start=2):
        try:
            if int(float(r["count"])) < 1:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{p}: line {i}: count must be a positive number, got {r['count']!r}") from None
    return rows


def load_poses(path: Path) -> np.ndarray:
    """(frames, 33, 3) float64 landmarks; raises PoseFileError saying what is wrong."""
    if not path.is_file():
        raise PoseFileError(f"{path.name}: pose file not found")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise PoseFileError(f"{path.name}: not a readable .npy array ({err})") from err
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < POSE_VALUES:
        raise PoseFileError(f"{path.name}: shape {arr.shape}, expected (frames, >= {POSE_VALUES})")
    poses = arr[:, :POSE_VALUES].astype(np.float64)
    if not np.isfinite(poses).all():
        bad = int((~np.isfinite(poses)).any(axis=1).sum())
        raise PoseFileError(f"{path.name}: {bad} frame(s) hold NaN or infinite values")
    return poses.reshape(-1, NUM_LANDMARKS, 3)


def pose_samples(poses: np.ndarray, fps: float) -> Iterator[PoseSample]:
    """The benchmark's frames as the daemon's samples: 2-D only, visibility 1, time i / fps."""
    ones = np.ones((NUM_LANDMARKS, 1), dtype=np.float32)
    for i, frame in enumerate(poses):
        t = i / fps
        if not frame.any():
            yield PoseSample(t, 1, 1)
        else:
            yield PoseSample(t, 1, 1, np.hstack((frame.astype(np.float32), ones)))


# The arrays are min-max normalised per frame: a body walking across the frame no longer
# moves, and the hip's place in the unit box moves with the pose instead, so the walking
# gate (which needs image positions) is off; everything else is the daemon's counter.
BENCHMARK_CONFIG = AnyRepConfig(max_drift_sizes=math.inf)


def count_video(poses: np.ndarray, fps: float, config: AnyRepConfig | None = None) -> int:
    counter = AnyRepCounter(config or BENCHMARK_CONFIG)
    for sample in pose_samples(poses, fps):
        counter.update(sample)
    return counter.count


def _poses_path(root: Path, name: str) -> Path:
    return root / (Path(name).stem + ".npy")


def _scores(pairs: list[tuple[int, int]]) -> dict[str, Any]:
    if not pairs:
        return {"n": 0, "mae": None, "obo": None}
    true = np.array([t for t, _ in pairs], float)
    pred = np.array([p for _, p in pairs], float)
    err = np.abs(pred - true)
    return {"n": len(pairs), "mae": round(float((err / true).mean()), 4), "obo": round(float((err <= 1).mean()), 4)}


def run_eval_counting(
    poses_dir: str | Path, annotations: str | Path, fps: float = 30.0, quiet: bool = False,
    config: AnyRepConfig | None = None,
) -> dict[str, Any]:  # fmt: skip
    from tqdm import tqdm

    root = Path(poses_dir)
    if not root.is_dir():
        raise ConfigError(f"poses directory not found: {root}")
    if not fps > 0:
        raise ConfigError(f"--fps must be positive, got {fps}")
    rows = read_annotations(annotations)
    videos: list[dict[str, Any]] = []
    for row in tqdm(rows, desc="eval-counting", unit="video", disable=quiet, leave=False, dynamic_ncols=True):
        entry: dict[str, Any] = {
            "name": row["name"],
            "type": row.get("type") or "all",
            "count": int(float(row["count"])),
        }
        try:
            poses = load_poses(_poses_path(root, row["name"]))
        except PoseFileError as err:
            entry.update(predicted=None, error=str(err))
        else:
            entry.update(predicted=count_video(poses, fps, config), frames=len(poses))
        videos.append(entry)
    scored = [v for v in videos if v["predicted"] is not None]
    by_type: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for v in scored:
        by_type[v["type"]].append((v["count"], v["predicted"]))
    summary = _scores([(v["count"], v["predicted"]) for v in scored])
    summary["skipped"] = len(videos) - len(scored)
    return {
        "summary": summary,
        "per_type": {t: _scores(p) for t, p in sorted(by_type.items())},
        "videos": videos,
        "fps": fps,
    }


def format_eval_counting(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [f"{'type':<16} {'videos':>6} {'MAE':>7} {'OBO':>7}"]
    for name, r in result["per_type"].items():
        lines.append(f"{name:<16} {r['n']:>6} {r['mae']:>7.3f} {r['obo']:>7.3f}")
    if s["n"]:
        lines.append(f"{'overall':<16} {s['n']:>6} {s['mae']:>7.3f} {s['obo']:>7.3f}")
    else:
        lines.append("overall: no video could be scored")
    for v in result["videos"]:
        if v.get("error"):
            lines.append(f"skipped: {v['error']}")
    return "\n".join(lines)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "eval-counting",
        help="label-free rep counter on a pose benchmark (MAE / OBO)",
        description="Run the live label-free rep counter over per-video pose arrays (frames x 99+: 33 image "
        "landmarks as x, y, z; zeros for no person) and score its counts against ANNOTATIONS.csv "
        "(name, count, type): MAE = mean |predicted - true| / true, OBO = share within one rep.",
    )
    p.add_argument("poses_dir", metavar="POSES_DIR", help="folder of <video>.npy pose arrays")
    p.add_argument("annotations", metavar="ANNOTATIONS.csv", help="CSV with name, count and (optional) type")
    p.add_argument("--json", metavar="OUT", help="write summary, per-type and per-video results as JSON")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate of the arrays (default: %(default)s)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p


def cmd_eval_counting(args: argparse.Namespace, stop: threading.Event) -> int:
    result = run_eval_counting(args.poses_dir, args.annotations, args.fps, args.quiet)
    write_json(args.json, result)
    print(format_eval_counting(result))
    return 0
