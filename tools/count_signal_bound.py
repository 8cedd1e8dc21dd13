#!/usr/bin/env python3
"""How much of the label-free counter's error is the choice of signal?

Runs the counter `gymcorner eval-counting` runs (`AnyRepCounter(BENCHMARK_CONFIG)`) over a
benchmark in the countix_fitness format and, besides its own count, counts every cycle each
candidate signal's `CycleCounter` accepts (principal projection, elbows, shoulders, hips,
knees), whether or not that candidate was the one followed. Prints the MAE and OBO of the
live count, of each candidate on its own, and the bound of picking per video the candidate
closest to the truth (it reads the label: a bound, not a method).

    PYTHONPATH=edge .venv/bin/python tools/count_signal_bound.py \\
        ../shared/data/countix_fitness/test_poses ../shared/data/countix_fitness/annotation/test.csv [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from tqdm import tqdm  # noqa: E402

from gymcorner.coach import any_reps  # noqa: E402
from gymcorner.coach.any_reps import SIGNALS, AnyRepCounter  # noqa: E402
from gymcorner.coach.cycles import CycleCounter  # noqa: E402
from gymcorner.commands.eval_counting import (  # noqa: E402
    BENCHMARK_CONFIG,
    PoseFileError,
    load_poses,
    pose_samples,
    read_annotations,
)


class _Tally(CycleCounter):
    """A CycleCounter that also counts every cycle it accepts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accepted = 0

    def _accept(self, t: float, start: float) -> tuple[float, float, float] | None:
        cycle = super()._accept(t, start)
        if cycle is not None:
            self.accepted += 1
        return cycle


def count_candidates(poses: Any, fps: float) -> tuple[int, dict[str, int]]:
    """(the live count, accepted cycles of each candidate) over one video."""
    seen: dict[int, tuple[str, _Tally]] = {}  # every counter made (new ones at each start over)
    any_reps.CycleCounter = _Tally  # type: ignore[misc]  # the candidates it makes count their cycles
    try:
        counter = AnyRepCounter(BENCHMARK_CONFIG)
        for sample in pose_samples(poses, fps):
            counter.update(sample)
            for name, c in zip(SIGNALS, counter._counters, strict=True):
                assert isinstance(c, _Tally)
                seen[id(c)] = (name, c)
    finally:
        any_reps.CycleCounter = CycleCounter  # type: ignore[misc]
    tallies = dict.fromkeys(SIGNALS, 0)
    for name, c in seen.values():
        tallies[name] += c.accepted
    return counter.count, tallies


def scores(pairs: list[tuple[int, float]]) -> dict[str, float]:
    return {
        "mae": round(sum(abs(p - t) / t for t, p in pairs) / len(pairs), 3),
        "obo": round(sum(abs(p - t) <= 1 for t, p in pairs) / len(pairs), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("poses_dir", type=Path)
    ap.add_argument("annotations", type=Path)
    ap.add_argument("--fps", type=float, default=30.0, help="frame rate of the arrays (default: %(default)s)")
    ap.add_argument("--json", type=Path, help="write the figures and the per-video counts here")
    args = ap.parse_args(argv)
    videos = []
    for row in tqdm(read_annotations(args.annotations), desc="videos", unit="video"):
        true = int(row["count"])
        if true <= 0:
            continue
        try:
            poses = load_poses(args.poses_dir / (Path(row["name"]).stem + ".npy"))
        except (PoseFileError, OSError):
            continue
        live, per = count_candidates(poses, args.fps)
        videos.append({"name": row["name"], "type": row["type"], "count": true, "live": live, "candidates": per})
    if not videos:
        print("no video could be read", file=sys.stderr)
        return 1
    table: dict[str, dict[str, float]] = {"live": scores([(v["count"], v["live"]) for v in videos])}
    for name in SIGNALS:
        table[name] = scores([(v["count"], v["candidates"][name]) for v in videos])
    table["closest candidate (bound)"] = scores(
        [(v["count"], min(v["candidates"].values(), key=lambda c, t=v["count"]: abs(c - t))) for v in videos]
    )
    print(f"{len(videos)} videos")
    for name, s in table.items():
        print(f"{name:28s} MAE {s['mae']:.3f}  OBO {s['obo']:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"n": len(videos), "scores": table, "videos": videos}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
