"""Build a training split for `gymcorner eval-counting` from the countix_fitness train annotations.

The benchmark ships per-frame poses only for its test videos. For the training videos it
has (a) the start and end frame of every repetition (`annotation/pose_train.csv`,
L1, L2 = start and end of the first repetition, L3, L4 the second, ...) and (b) real BlazePose
landmarks of several frames at each end (`annotation_pose/train.csv`, pixels). This tool
rebuilds one pose stream per training video: from the video's own start pose to its own far
pose and back within each of its own repetition intervals, with landmark jitter, a slow random sway and
dropped frames, then min-max normalised per frame exactly like the test arrays. The result
has real bodies, real exercises and real rhythms (irregular ones included), and it never
looks at a test video, so counter parameters can be chosen on it.

    python tools/countix_train_streams.py ../shared/data/countix_fitness /tmp/countix_train
    gymcorner eval-counting /tmp/countix_train/poses /tmp/countix_train/train.csv
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def _salient_poses(path: Path) -> dict[str, dict[str, list[np.ndarray]]]:
    poses: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: {"salient1": [], "salient2": []})
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            parts = row[0].split("/")
            poses[parts[3]][parts[2]].append(np.array(row[2:101], float).reshape(33, 3))
    return poses


def training_videos(countix: Path) -> Iterator[tuple[str, str, list[int], dict[str, list[np.ndarray]]]]:
    """(type, video name, repetition keys (an even number), salient poses) of every
    training video that has both ends annotated and at least one repetition."""
    salient = _salient_poses(countix / "annotation_pose" / "train.csv")
    with (countix / "annotation" / "pose_train.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["name"]
            ends = salient.get(name)
            keys = [int(float(v)) for k, v in row.items() if k and k.startswith("L") and v]
            if ends is None or not ends["salient1"] or not ends["salient2"] or len(keys) < 2:
                continue
            yield row["type"], name, keys[: 2 * (len(keys) // 2)], ends


def _normalise(frame: np.ndarray) -> np.ndarray:
    lo, hi = frame.min(axis=0), frame.max(axis=0)
    return (frame - lo) / np.where(hi - lo > 0, hi - lo, 1.0)


def build_stream(keys: list[int], ends: dict[str, list[np.ndarray]], rng: np.random.Generator) -> np.ndarray:
    """(frames, 99) float32: `pixel_stream`, normalised per frame like the test arrays,
    with a few frames of no person."""
    out = pixel_stream(keys, ends, rng)
    n = len(out)
    frames = np.array([_normalise(p) for p in out]).reshape(n, 99)
    frames[rng.random(n) < 0.02] = 0.0  # no person found on a few frames
    return frames.astype(np.float32)


def pixel_stream(keys: list[int], ends: dict[str, list[np.ndarray]], rng: np.random.Generator) -> np.ndarray:
    """(frames, 33, 3) landmarks in pixels: repetition k runs from keys[2k] to keys[2k+1]
    (the RepCount convention), from the video's start pose to its far pose (a random share
    of the way, so reps differ in depth) and back; rest at the start pose between
    repetitions; a slow sway and per-landmark jitter on top."""
    start = np.median(np.array(ends["salient1"]), axis=0)
    far = np.median(np.array(ends["salient2"]), axis=0)
    reps = sorted((min(a, b), max(a, b)) for a, b in zip(keys[0::2], keys[1::2], strict=False))
    n = reps[-1][1] + int(rng.integers(15, 60)) + 1
    depth = np.zeros(n)
    for a, b in reps:
        if b - a < 2:
            continue
        u = (np.arange(a, b + 1) - a) / (b - a)
        depth[a : b + 1] = np.maximum(depth[a : b + 1], rng.uniform(0.75, 1.05) * (0.5 - 0.5 * np.cos(2 * np.pi * u)))
    out = start[None] + depth[:, None, None] * (far - start)[None]
    scale = float(np.ptp(start[:, 1])) or 100.0
    # a slow sway of the whole body (a bounded random walk) and per-landmark jitter
    sway = np.cumsum(rng.normal(0, 0.002 * scale, (n, 1, 3)), axis=0)
    sway -= np.linspace(0, 1, n)[:, None, None] * sway[-1]
    out += sway * rng.uniform(0.5, 1.5, (1, 33, 3)) + rng.normal(0, 0.006 * scale, out.shape)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("countix", type=Path, help="the countix_fitness folder")
    ap.add_argument("out", type=Path, help="output folder (poses/ and train.csv)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    (args.out / "poses").mkdir(parents=True, exist_ok=True)
    rows = []
    for kind, name, keys, ends in training_videos(args.countix):
        np.save(args.out / "poses" / (Path(name).stem + ".npy"), build_stream(keys, ends, rng))
        rows.append({"type": kind, "name": name, "count": len(keys) // 2})
    with (args.out / "train.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["type", "name", "count"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} training streams -> {args.out}")


if __name__ == "__main__":
    main()
