#!/usr/bin/env python3
"""Pull-up, dip and jumping-jack range faults moved into clean recordings by a known amount.

The range rules read world landmarks (`coach/ranges.py`), so the faults are moved in the
world: the nose lowered (pull-up: the chin stops under the bar), the shoulders raised
(dip: the body stops above elbow height), the wrists lowered (jumping jack: the arms stop
short of overhead), each by an amount in shoulder widths on every frame. Prints, per
recording and amount, how many cues of the rule came (the cooldown may join two reps) and
which other rules fired.

    tools/range_moved_in.py [--landmarks tests/fixtures/landmarks]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.config import Config  # noqa: E402
from gymcorner.motion.landmarks import Landmark as L  # noqa: E402
from gymcorner.motion.landmarks import PoseSample  # noqa: E402
from gymcorner.pipeline import Pipeline  # noqa: E402
from gymcorner.recording import load_recording  # noqa: E402

AMOUNTS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0)
CASES = (
    ("chin_below_bar", "pull_up", (L.NOSE,), 1.0,
     ("workouttracker_reps__pull-ups__pull-up_10", "workouttracker_reps__pull-ups__pull-up_5",
      "workouttracker_reps__pull-ups__pull-up_19")),
    ("shallow_dip", "dip", (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), -1.0, ("workouttracker_reps__dips__dips_8",)),
    ("arms_not_overhead", "jumping_jack", (L.LEFT_WRIST, L.RIGHT_WRIST), 1.0,
     ("kaiakol_exercises__jumpingjack__correct__jumpingjack_correct_001",)),
)  # fmt: skip


def world_moved(samples: list[PoseSample], points: tuple[L, ...], dy_widths: float) -> list[PoseSample]:
    out = []
    for s in samples:
        if s.world is None:
            out.append(s)
            continue
        w = s.world.astype(np.float64).copy()
        w[list(points), 1] += dy_widths * float(np.linalg.norm(w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER]))
        out.append(replace(s, world=w.astype(np.float32)))
    return out


def raised(samples: list[PoseSample], exercise: str) -> list[str]:
    config = Config()
    config.coach.exercise = exercise
    pipeline = Pipeline(config)
    return [e.code for s in samples for e in pipeline.process(s).coach.events if e.kind == "form"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landmarks", default=str(ROOT / "tests" / "fixtures" / "landmarks"))
    args = parser.parse_args()
    print("| rule | recording | cues per amount (shoulder widths) | caught from | other rules |")
    print("|---|---|---|---|---|")
    for rule, exercise, points, sign, names in CASES:
        for name in names:
            path = Path(args.landmarks) / f"{name}.npz"
            if not path.exists():
                continue
            clip = list(load_recording(path).samples())
            runs = {a: raised(world_moved(clip, points, sign * a), exercise) for a in (0.0, *AMOUNTS)}
            caught = [a for a in AMOUNTS if rule in runs[a]]
            others = sorted({c for r in runs.values() for c in r} - {rule})
            cells = ", ".join(f"{a:g}: {runs[a].count(rule)}" for a in (0.0, *AMOUNTS))
            print(f"| {rule} | {name.split('__')[-1]} | {cells} | {caught[0] if caught else 'not caught'} | "
                  f"{', '.join(others) or '-'} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
