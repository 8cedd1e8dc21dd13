#!/usr/bin/env python3
"""Sensitivity and specificity of the plank, bicep-curl and lunge form rules on the
Exercise-Correction landmark CSVs, with thresholds chosen on one part and reported on another.

Each labelled block (a run of consecutive rows with one label, tools/form_csv.py) is fed
through the exercise's analyser from a fresh start, as a clip; the block counts as flagged
when the rule raises its event. The rows have no file id, so the file is split into two
contiguous halves of whole blocks: the threshold is chosen on the first (the grid value
with the best sensitivity + specificity over blocks, ties: the middle one) and the rule is
scored on the second with it. The frame size is assumed (`--size`, default 1280x720: on
it the labelled-correct planks sit where our own pipeline puts the clean plank clips of
../shared/data, hips about 0.06 line-lengths above the line), the time step is 1/30 s.

    tools/eval_form_csv.py [--data ../shared/data/exercise_correction_landmarks] [--size 1280x720] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))
sys.path.insert(0, str(ROOT / "tools"))

from form_csv import Block, read_blocks, split_blocks  # noqa: E402

from gymcorner.coach.analysers import CurlAnalyser, LungeAnalyser, PlankAnalyser  # noqa: E402
from gymcorner.config import CoachConfig  # noqa: E402
from gymcorner.motion.view import ViewTracker  # noqa: E402


@dataclass(frozen=True)
class Check:
    file: str
    exercise: str
    code: str
    positive: str  # the label that means this fault
    negative: str  # the label that means correct form
    param: str  # CoachConfig section.field
    grid: tuple[float, ...]
    analyser: Callable[[CoachConfig], Any]


CHECKS = (
    Check("plank_test.csv", "plank", "hips_sag", "L", "C", "plank.hips_sag_line",
          (-0.06, -0.04, -0.02, 0.0, 0.02, 0.04, 0.06), PlankAnalyser),
    Check("plank_test.csv", "plank", "hips_pike", "H", "C", "plank.hips_pike_line",
          (0.1, 0.15, 0.2, 0.25, 0.3), PlankAnalyser),
    Check("bicep_test.csv", "bicep_curl", "lean_back", "L", "C", "curl.lean_back_max_deg",
          (5.0, 10.0, 15.0, 20.0, 25.0), CurlAnalyser),
    Check("bicep_test.csv", "bicep_curl", "elbow_drift", "", "C", "curl.elbow_drift_max_deg",
          (20.0, 30.0, 40.0, 60.0), CurlAnalyser),
    Check("lunge_err.test.csv", "lunge", "knee_over_toes", "L", "C", "lunge.knee_over_toes_femur",
          (-0.2, -0.15, -0.1, -0.05, 0.0, 0.05, 0.1), LungeAnalyser),
    Check("lunge_err.test.csv", "lunge", "torso_lean", "", "C", "lunge.torso_lean_max_deg",
          (20.0, 30.0, 40.0), LungeAnalyser),
)  # fmt: skip


def with_value(param: str, value: float) -> CoachConfig:
    config = CoachConfig()
    section, name = param.split(".")
    setattr(getattr(config, section), name, value)
    return config


def flagged(block: Block, check: Check, config: CoachConfig) -> bool:
    analyser = check.analyser(config)
    view = ViewTracker(config.view)
    for s in block.samples:
        if any(e.code == check.code for e in analyser.update(s, view.update(s), False, False).events):
            return True
    return False


def rates(blocks: list[Block], check: Check, fired: dict[int, bool]) -> tuple[int, int, int, int]:
    """(caught, positives, false alarms, negatives) over blocks."""
    pos = [b for b in blocks if b.label == check.positive]
    neg = [b for b in blocks if b.label == check.negative]
    return sum(fired[b.first_row] for b in pos), len(pos), sum(fired[b.first_row] for b in neg), len(neg)


def choose(blocks: list[Block], check: Check, fired: dict[float, dict[int, bool]]) -> float:
    best: list[float] = []
    best_j = -1.0
    for v in check.grid:
        tp, p, fp, n = rates(blocks, check, fired[v])
        j = (tp / p if p else 0.0) + ((n - fp) / n if n else 0.0)
        if j > best_j + 1e-9:
            best, best_j = [v], j
        elif abs(j - best_j) <= 1e-9:
            best.append(v)
    return best[len(best) // 2]


def fmt(hits: int, total: int) -> str:
    return f"{hits / total:.2f} ({hits}/{total})" if total else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "exercise_correction_landmarks"))
    parser.add_argument("--size", default="1280x720", help="assumed frame size WxH")
    parser.add_argument("--json", help="write the table as JSON")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    out = []
    print(f"frame size assumed {width}x{height}; blocks = runs of one label; "
          "choose on the first half, report on the second")
    print("| exercise | rule | positive label | threshold | chosen on | choose: sensitivity | choose: specificity "
          "| report: sensitivity | report: specificity | default |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for check in CHECKS:
        blocks = read_blocks(Path(args.data) / check.file, width, height)
        first, second = split_blocks(blocks)
        fired = {v: {b.first_row: flagged(b, check, with_value(check.param, v)) for b in blocks} for v in check.grid}
        chosen = choose(first, check, fired) if check.positive else None
        default = getattr(getattr(CoachConfig(), check.param.split(".")[0]), check.param.split(".")[1])
        used = chosen if chosen is not None else default
        tp1, p1, fp1, n1 = rates(first, check, fired[used] if used in fired else
                                 {b.first_row: flagged(b, check, with_value(check.param, used)) for b in blocks})
        fired_used = fired[used] if used in fired else {b.first_row: flagged(b, check, with_value(check.param, used))
                                                        for b in blocks}  # fmt: skip
        tp2, p2, fp2, n2 = rates(second, check, fired_used)
        how = "first half" if chosen is not None else "no labelled positives: default"
        print(f"| {check.exercise} | {check.code} | {check.positive or '-'} | {used:g} | {how} | {fmt(tp1, p1)} | "
              f"{fmt(n1 - fp1, n1)} | {fmt(tp2, p2)} | {fmt(n2 - fp2, n2)} | {default:g} |")  # fmt: skip
        out.append({"exercise": check.exercise, "rule": check.code, "positive": check.positive, "threshold": used,
                    "chosen": chosen is not None, "choose": [tp1, p1, fp1, n1], "report": [tp2, p2, fp2, n2],
                    "blocks": [len(first), len(second)]})  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
