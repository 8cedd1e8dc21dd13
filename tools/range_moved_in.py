#!/usr/bin/env python3
"""Pull-up, dip and jumping-jack range and shape faults moved into clean recordings by a known amount.

The range rules read world landmarks (`coach/ranges.py`), so the faults are moved in the
world: the nose lowered (pull-up: the chin stops under the bar), the shoulders raised
(dip: the body stops above elbow height), the wrists lowered (jumping jack: the arms stop
short of overhead), each by an amount in shoulder widths on every frame. Prints, per
recording and amount, how many cues of the rule came (the cooldown may join two reps) and
which other rules fired.

The shape rules (`coach/rep_shape.py`) are moved in the same way, in the world, and
counted per rep (the reps whose event lists the fault, of the reps counted):

* `no_full_hang`: each elbow never opens past the recording's own straightest angle for
  that arm less N degrees (the wrist and hand turned about the elbow, in the arm's plane);
* `kipping`: the legs (knees, ankles, feet) turned forward about the hips by up to N
  degrees over each rep's pull (half a sine from the rep's start to its top, timed from
  the clean replay's rep events);
* `shoulder_shrug`: the ears-to-shoulders distance shortened by N shoulder widths at the
  bottom of each dip (the head, points 0-10, moved toward the shoulders, scaled with the
  dip's phase from the world elbow angle: none at 20° of flexion, all of it from 80°; the
  arms are left alone, so depth and counting are unchanged).

`--clean` prints each clean recording's per-rep values instead, and the full-hang
threshold chosen on each recording with the other held out.

    tools/range_moved_in.py [--landmarks tests/fixtures/landmarks] [--clean] [--shape-only]
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

sys.path.insert(0, str(ROOT / "tools"))

from shape_moves import elbows_bent, legs_swung, rep_events, shoulders_shrugged  # noqa: E402

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
PULL_UPS = tuple(f"workouttracker_reps__pull-ups__pull-up_{i}" for i in (10, 5, 19))
DIPS = ("workouttracker_reps__dips__dips_8",)
SHAPE_CASES = (
    ("no_full_hang", "pull_up", elbows_bent, "degrees", (5, 10, 15, 20, 25, 30, 40), PULL_UPS),
    ("kipping", "pull_up", legs_swung, "degrees", (10, 15, 20, 30, 45, 60), PULL_UPS),
    ("shoulder_shrug", "dip", shoulders_shrugged, "shoulder widths", (0.05, 0.1, 0.15, 0.2, 0.3), DIPS),
)  # fmt: skip
SHAPE_VALUES = {"no_full_hang": "hang_elbow_deg", "kipping": "leg_swing_deg", "shoulder_shrug": "shoulder_shrug"}
HANG_STEP_DEG, HANG_MARGIN_DEG = 5.0, 5.0


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


def rep_faults(samples: list[PoseSample], exercise: str) -> list[list[str]]:
    """Each counted rep's faults, in order."""
    return [list(e.details["faults"]) for e in rep_events(samples, exercise)]


def clean_values(samples: list[PoseSample], exercise: str) -> dict[str, list[float | None]]:
    """Per rule, each counted rep's measure on its rep-end frame (None: not judged)."""
    config = Config()
    config.coach.exercise = exercise
    pipeline = Pipeline(config)
    values: dict[str, list[float | None]] = {rule: [] for rule in SHAPE_VALUES}
    for s in samples:
        frame = pipeline.process(s).coach
        if any(e.kind == "rep" for e in frame.events):
            for rule, field in SHAPE_VALUES.items():
                values[rule].append(getattr(frame.metrics, f"rep_{field}", None))
    return values


def _fmt(values: list[float | None]) -> str:
    return ", ".join("-" if v is None else f"{v:.2f}" for v in values) or "no rep"


def print_clean(landmarks: Path) -> None:
    """Each clean recording's per-rep shape values, and the full-hang threshold held out."""
    print("| recording | reps | hang elbow (deg) | leg swing (deg) | shoulder shrug (widths) |")
    print("|---|---|---|---|---|")
    hangs: dict[str, list[float]] = {}
    for name in (*PULL_UPS, *DIPS):
        path = landmarks / f"{name}.npz"
        if not path.exists():
            continue
        exercise = "dip" if name in DIPS else "pull_up"
        values = clean_values(list(load_recording(path).samples()), exercise)
        n = len(values["kipping"])
        print(f"| {name.split('__')[-1]} | {n} | {_fmt(values['no_full_hang'])} | {_fmt(values['kipping'])} | "
              f"{_fmt(values['shoulder_shrug'])} |")  # fmt: skip
        if exercise == "pull_up":
            hangs[name] = [v for v in values["no_full_hang"] if v is not None]
    # Full hang, held out: on the other recordings, the largest multiple of 5° at least
    # 5° below their lowest clean hang; then how many of this recording's hangs stay clean.
    bends = SHAPE_CASES[0][4]
    print("\n| held out | chosen on the others | held-out clean hangs above it | held out, bent by "
          + ", ".join(f"{b:g}" for b in bends) + " degrees: reps caught |")
    print("|---|---|---|---|")
    for name, own in hangs.items():
        others = [v for k, vs in hangs.items() if k != name for v in vs]
        if not others or not own:
            continue
        chosen = HANG_STEP_DEG * math.floor((min(others) - HANG_MARGIN_DEG) / HANG_STEP_DEG)
        config = Config()
        config.coach.pullup.full_hang_min_elbow_deg = chosen
        clip = list(load_recording(landmarks / f"{name}.npz").samples())
        caught = []
        for bend in bends:
            reps = [e.details["faults"] for e in rep_events(elbows_bent(clip, bend), "pull_up", config)]
            caught.append(f"{sum('no_full_hang' in r for r in reps)}/{len(reps)}")
        print(f"| {name.split('__')[-1]} | {chosen:g} | {sum(v >= chosen for v in own)}/{len(own)} | "
              f"{', '.join(caught)} |")  # fmt: skip


def print_shape(landmarks: Path) -> None:
    print("| rule | recording | reps with it per amount | caught from | other rules |")
    print("|---|---|---|---|---|")
    for rule, exercise, move, unit, amounts, names in SHAPE_CASES:
        for name in names:
            path = landmarks / f"{name}.npz"
            if not path.exists():
                continue
            clip = list(load_recording(path).samples())
            runs = {a: rep_faults(move(clip, a) if a else clip, exercise) for a in (0, *amounts)}
            cells = ", ".join(f"{a:g}: {sum(rule in r for r in runs[a])}/{len(runs[a])}" for a in (0, *amounts))
            caught = [a for a in amounts if any(rule in r for r in runs[a])]
            others = sorted({c for reps in runs.values() for r in reps for c in r} - {rule})
            print(f"| {rule} | {name.split('__')[-1]} | {cells} ({unit}) | {caught[0] if caught else 'not caught'} "
                  f"| {', '.join(others) or '-'} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landmarks", default=str(ROOT / "tests" / "fixtures" / "landmarks"))
    parser.add_argument("--clean", action="store_true", help="per-rep shape values of the clean recordings")
    parser.add_argument("--shape-only", action="store_true", help="only the shape rules (hang, kipping, shrug)")
    args = parser.parse_args()
    if args.clean:
        print_clean(Path(args.landmarks))
        return 0
    print_shape(Path(args.landmarks))
    if args.shape_only:
        return 0
    print()
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
