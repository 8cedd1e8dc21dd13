#!/usr/bin/env python3
"""Faults moved by a known amount into clean recordings: from what size each rule catches
them, and which other rules fire meanwhile.

Each case takes recordings of clips labelled clean (tests/fixtures/landmarks), moves some
landmarks on every frame by `amount` body lengths in the image, replays the whole pipeline
with the clip's exercise, and lists the rule names raised. A rule that tells two faults
apart (push-up hips sag vs pike) should raise only the one moved in.

    tools/moved_in_faults.py [--landmarks tests/fixtures/landmarks] [--json OUT] [--rule NAME ...]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.commands.analyze import analyze_samples  # noqa: E402
from gymcorner.config import Config  # noqa: E402
from gymcorner.motion.geometry import angle_deg, knee_flexion_deg  # noqa: E402
from gymcorner.motion.landmarks import Landmark as L  # noqa: E402
from gymcorner.motion.landmarks import PoseSample  # noqa: E402
from gymcorner.recording import load_recording  # noqa: E402

Move = Callable[[PoseSample, float], PoseSample]


def _mid(px: np.ndarray, a: L, b: L) -> np.ndarray:
    return (px[a] + px[b]) / 2


def _shift(s: PoseSample, points: list[int], dx_px: np.ndarray, dy_px: np.ndarray) -> PoseSample:
    assert s.image is not None
    image = s.image.copy()
    image[points, 0] += (dx_px / s.width).astype(np.float32)
    image[points, 1] += (dy_px / s.height).astype(np.float32)
    return replace(s, image=image)


def head_down(s: PoseSample, torso_lengths: float) -> PoseSample:
    """Face and ears moved straight down by `torso_lengths` × hip-shoulder distance."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    shoulders, hips = _mid(px, L.LEFT_SHOULDER, L.RIGHT_SHOULDER), _mid(px, L.LEFT_HIP, L.RIGHT_HIP)
    torso = float(np.linalg.norm(shoulders - hips))
    head = list(range(L.MOUTH_RIGHT + 1))
    return _shift(s, head, np.zeros(len(head)), np.full(len(head), torso_lengths * torso))


def hips_down(s: PoseSample, line_lengths: float) -> PoseSample:
    """Hips moved down (+) or up (-) by `line_lengths` × the shoulder-ankle distance."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    shoulders, ankles = _mid(px, L.LEFT_SHOULDER, L.RIGHT_SHOULDER), _mid(px, L.LEFT_ANKLE, L.RIGHT_ANKLE)
    length = float(np.linalg.norm(shoulders - ankles))
    hips = [L.LEFT_HIP, L.RIGHT_HIP]
    return _shift(s, hips, np.zeros(2), np.full(2, line_lengths * length))


def hips_up(s: PoseSample, line_lengths: float) -> PoseSample:
    return hips_down(s, -line_lengths)


def feet_back(s: PoseSample, femurs: float) -> PoseSample:
    """Heels and toes moved against the way the feet point by `femurs` femur lengths."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    left, right = px[L.LEFT_HIP] - px[L.LEFT_KNEE], px[L.RIGHT_HIP] - px[L.RIGHT_KNEE]
    femur = float(np.linalg.norm(left) + np.linalg.norm(right)) / 2
    out = s
    for heel, toe in ((L.LEFT_HEEL, L.LEFT_FOOT_INDEX), (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX)):
        forward = math.copysign(1.0, float(px[toe, 0] - px[heel, 0]))
        out = _shift(out, [heel, toe], np.full(2, -forward * femurs * femur), np.zeros(2))
    return out


def _ramp(value: float, start: float, full: float) -> float:
    return min(1.0, max(0.0, (value - start) / (full - start)))


def heels_up(s: PoseSample, femurs: float) -> PoseSample:
    """Heels raised by `femurs` femur lengths as the knees bend (none below 35° image knee
    flexion, all of it from 70°); toes and ankles stay."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    legs = ((L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_HIP, L.RIGHT_KNEE))
    femur = float(np.mean([np.linalg.norm(px[hip] - px[knee]) for hip, knee in legs]))
    bend = float(np.mean([knee_flexion_deg(px, side) for side in ("left", "right")]))
    lift = femurs * femur * _ramp(bend, 35.0, 70.0)
    return _shift(s, [L.LEFT_HEEL, L.RIGHT_HEEL], np.zeros(2), np.full(2, -lift))


def hips_aside(s: PoseSample, shoulder_spans: float) -> PoseSample:
    """Upper body (face, arms, shoulders, hips) moved towards image right by `shoulder_spans`
    shoulder spans, knees by half that, as the hip comes down towards the knees (none while
    the hip is a shin's height above them, all of it from 0.4 of that height)."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    pairs = ((L.LEFT_HIP, L.RIGHT_HIP), (L.LEFT_KNEE, L.RIGHT_KNEE), (L.LEFT_ANKLE, L.RIGHT_ANKLE))
    hip, knee, ankle = (float(px[a, 1] + px[b, 1]) / 2 for a, b in pairs)
    shin = ankle - knee
    down = 1.0 - (knee - hip) / shin if shin > 0 else 0.0
    dx = shoulder_spans * span * _ramp(down, 0.0, 0.6)
    upper = list(range(L.RIGHT_HIP + 1))
    knees = [L.LEFT_KNEE, L.RIGHT_KNEE]
    out = _shift(s, upper, np.full(len(upper), dx), np.zeros(len(upper)))
    return _shift(out, knees, np.full(2, dx / 2), np.zeros(2))


def elbows_out(s: PoseSample, shoulder_spans: float) -> PoseSample:
    """Each elbow moved away from the body's midline, the elbow span growing by
    `shoulder_spans` shoulder spans as the arms bend (none at a 170° elbow, all of it from
    110°, image angles averaged over both arms)."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    arms = ((L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST))
    elbow_deg = float(np.mean([angle_deg(px[a], px[b], px[c]) for a, b, c in arms]))
    grow = shoulder_spans * span * _ramp(170.0 - elbow_deg, 0.0, 60.0)
    centre = float(px[L.LEFT_SHOULDER, 0] + px[L.RIGHT_SHOULDER, 0]) / 2
    elbows = [L.LEFT_ELBOW, L.RIGHT_ELBOW]
    outward = np.array([np.sign(px[e, 0] - centre) for e in elbows])
    return _shift(s, elbows, outward * grow / 2, np.zeros(2))


@dataclass(frozen=True)
class Case:
    rule: str
    exercise: str
    move: Move
    unit: str
    amounts: tuple[float, ...]
    recordings: tuple[str, ...]


PUSH_UPS_SIDE = (
    "pushfit_pushup_form__correct__correct111",
    "pushfit_pushup_form__correct__correct1",
    "pushfit_pushup_form__correct__correct47",
    "workouttracker_reps__push-ups__push-up_1",
)
PLANKS = tuple(f"kaiakol_exercises__plank__correct__plank_correct_00{i}" for i in (1, 2))
PUSH_UPS_FRONT = ("workouttracker_reps__push-ups__push-up_23", "workouttracker_reps__push-ups__push-up_10",
                  "pushfit_pushup_form__wrong__wrong96", "pushfit_pushup_form__wrong__wrong112")  # fmt: skip
SQUATS_SIDE = ("kaiakol_exercises__squat__correct__squat_correct_001",
               "kaiakol_exercises__squat__correct__squat_correct_008",
               "navya_squat_form__correct__squat_correct_strongher_side",
               "navya_squat_form__correct__squat_correct_videoplayback",
               "workouttracker_reps__squats__squat_11", "workouttracker_reps__squats__squat_14")  # fmt: skip
SQUATS_FRONT = ("kaiakol_exercises__squat__correct__squat_correct_006", "workouttracker_reps__squats__squat_8")
CASES = (
    Case("head_drop", "push_up", head_down, "torso lengths", (0.05, 0.1, 0.2, 0.3, 0.4), PUSH_UPS_SIDE),
    Case("hips_sag", "push_up", hips_down, "line lengths", (0.02, 0.05, 0.08, 0.12), PUSH_UPS_SIDE),
    Case("hips_pike", "push_up", hips_up, "line lengths", (0.05, 0.1, 0.15, 0.2), PUSH_UPS_SIDE),
    Case("knees_over_toes", "squat", feet_back, "femur lengths", (0.1, 0.2, 0.3, 0.45, 0.6),
         ("navya_squat_form__correct__squat_correct_videoplayback",
          "navya_squat_form__correct__squat_correct_strongher_side",
          "workouttracker_reps__squats__squat_14")),
    Case("heel_lift", "squat", heels_up, "femur lengths", (0.1, 0.2, 0.3, 0.4, 0.5), SQUATS_SIDE),
    Case("lateral_shift", "squat", hips_aside, "shoulder spans", (0.1, 0.2, 0.3, 0.4, 0.5), SQUATS_FRONT),
    Case("elbow_flare", "push_up", elbows_out, "shoulder spans", (0.2, 0.4, 0.6, 0.8, 1.0), PUSH_UPS_FRONT),
    Case("hips_sag", "plank", hips_down, "line lengths", (0.02, 0.05, 0.08, 0.12), PLANKS),
    Case("hips_pike", "plank", hips_up, "line lengths", (0.1, 0.15, 0.2, 0.25), PLANKS),
)  # fmt: skip


def raised(samples: list[PoseSample], exercise: str) -> set[str]:
    config = Config()
    config.coach.exercise = exercise
    report = analyze_samples(samples, config, "moved")
    return {str(e.details.get("reason", e.code)) for e in report.events if e.kind == "form"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landmarks", default=str(ROOT / "tests" / "fixtures" / "landmarks"))
    parser.add_argument("--json", help="write the table as JSON")
    parser.add_argument("--rule", action="append", help="only the cases of this rule (repeatable)")
    args = parser.parse_args()
    rows = []
    print("| exercise | rule moved in | recording | amount (unit) | caught from | other rules raised |")
    print("|---|---|---|---|---|---|")
    for case in CASES:
        if args.rule and case.rule not in args.rule:
            continue
        for name in case.recordings:
            path = Path(args.landmarks) / f"{name}.npz"
            if not path.exists():
                continue
            clean = list(load_recording(path).samples())
            results = {0.0: raised(clean, case.exercise)}
            for amount in case.amounts:
                results[amount] = raised([case.move(s, amount) for s in clean], case.exercise)
            caught = [a for a in case.amounts if case.rule in results[a]]
            others = sorted(set().union(*results.values()) - {case.rule})
            first = f"{caught[0]:g}" if caught else "not caught"
            print(f"| {case.exercise} | {case.rule} | {name} | {', '.join(f'{a:g}' for a in case.amounts)} "
                  f"({case.unit}) | {first} | {', '.join(others) or '-'} |")  # fmt: skip
            rows.append({"exercise": case.exercise, "rule": case.rule, "recording": name, "unit": case.unit,
                         "raised": {str(a): sorted(r) for a, r in results.items()}})  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
