#!/usr/bin/env python3
"""Squat depth from the front, heel lift and lateral shift: the evidence for their thresholds.

The frontal rule measures the hip's height above the knee in standing-femur lengths
(`coach/squat_depth.py`); the side rule measures the deepest knee flexion (< 75° is
shallow). The hip-height measure reads the same from the side, so on side-on recordings
both are seen on every frame:

1. calibration, held out by source: on the other sources' side-on frames, the hip height
   at which the knee is bent 70-80° (median) is the threshold; on the held-out source,
   the held-out source's own median is printed beside it;
2. specificity: every descent of every squat recording, by view, and the rules raised;
3. shallow squats moved in: each clean recording replayed with every frame deeper than a
   cap (hip height above the knee, standing femurs) replaced by the last frame at the cap,
   i.e. the same person stopping at that depth; which depth rules fire, per cap;
4. the Exercise-Correction squat rows (filmed from the front; stage labels up/down, no
   depth label): per `down` block, its deepest hip height above the knee in femurs (the
   longest hip-knee distance of the `up` block before it), against the threshold, and its
   largest lateral shift (shoulder spans, from the last `up` row before it);
5. heel lift and lateral shift of clean descents, per source, thresholds held out by source.

    tools/squat_depth_front.py [--landmarks tests/fixtures/landmarks] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))
sys.path.insert(0, str(ROOT / "tools"))

from gymcorner.config import Config  # noqa: E402
from gymcorner.motion.landmarks import Landmark as L  # noqa: E402
from gymcorner.motion.landmarks import PoseSample  # noqa: E402
from gymcorner.pipeline import Pipeline  # noqa: E402
from gymcorner.recording import load_recording  # noqa: E402

CSV_DIR = ROOT.parent / "shared" / "data" / "exercise_correction_landmarks"
CAPS = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
BAND_DEG = (70.0, 80.0)
DEPTH_RULES = ("shallow_depth",)


def replay(samples: list[PoseSample], front_max: float | None = None) -> dict[str, Any]:
    """Per-frame (view, 2D knee flexion, hip height in standing femurs), and the depth
    verdicts per view ('lateral'/'frontal': the shallow_depth events raised from it)."""
    config = Config()
    config.coach.exercise = "squat"
    if front_max is not None:
        config.coach.squat.front_depth_max_hip_above_knee_femur = front_max
    pipeline = Pipeline(config)
    frames, raised, bottoms, heel, shift = [], [], [], [], []
    for s in samples:
        coach = pipeline.process(s).coach
        m = coach.metrics
        frames.append((coach.view.view.value, getattr(m, "knee_flexion_deg", None),
                       getattr(m, "hip_above_knee_standing_femur", None)))  # fmt: skip
        bottom = getattr(m, "descent_bottom_hip_above_knee_femur", None)
        if getattr(m, "descent_heel_lift_femur", None) is not None and coach.view.view.value == "lateral":
            heel.append(m.descent_heel_lift_femur)  # type: ignore[union-attr]
        if getattr(m, "descent_lateral_shift_shoulders", None) is not None and coach.view.view.value == "frontal":
            shift.append(m.descent_lateral_shift_shoulders)  # type: ignore[union-attr]
        if bottom is not None:
            bottoms.append(bottom)
        raised += [(e.view, e.details.get("reason", e.code)) for e in coach.events if e.kind == "form"]
    return {"frames": frames, "raised": raised, "bottoms": bottoms, "heel": heel, "shift": shift}


def capped(samples: list[PoseSample], heights: list[float | None], cap: float) -> list[PoseSample]:
    """Every frame whose hip came lower than `cap` replaced by the last frame at the cap."""
    out, held = [], None
    for s, h in zip(samples, heights, strict=True):
        if h is not None and h >= cap:
            held = s
        if h is not None and h < cap and held is not None:
            out.append(replace(held, t_s=s.t_s))
        else:
            out.append(s)
    return out


def csv_down_blocks(path: Path) -> tuple[list[float], list[float]]:
    """Per down block: (deepest hip height above the knee in standing femurs, largest
    sideways move of the hip centre from the ankles' midpoint since the last up frame, in
    shoulder spans)."""
    from form_csv import read_blocks  # tools/form_csv.py

    legs = ((L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_HIP, L.RIGHT_KNEE))
    deepest, shifts, standing_femur, standing_offset = [], [], None, None
    for block in read_blocks(path, 1280, 720):
        heights, femurs, offsets = [], [], []
        for s in block.samples:
            px = s.pixels().astype(np.float64)
            heights.append(float(np.mean([px[k, 1] - px[h, 1] for h, k in legs])))
            femurs.append(float(np.mean([np.linalg.norm(px[k] - px[h]) for h, k in legs])))
            span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
            hips = float(px[L.LEFT_HIP, 0] + px[L.RIGHT_HIP, 0]) / 2
            ankles = float(px[L.LEFT_ANKLE, 0] + px[L.RIGHT_ANKLE, 0]) / 2
            offsets.append((hips - ankles) / span if span > 0 else float("nan"))
        if block.label == "up":
            standing_femur, standing_offset = max(femurs), offsets[-1]
        else:
            deepest.append(min(heights) / (standing_femur or max(femurs)))
            if standing_offset is not None:
                shifts.append(max(abs(o - standing_offset) for o in offsets))
    return deepest, shifts


def band_median(frames: list[tuple[str, float | None, float | None]]) -> list[float]:
    lo, hi = BAND_DEG
    return [h for v, f, h in frames if v == "lateral" and f is not None and h is not None and lo < f < hi]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landmarks", default=str(ROOT / "tests" / "fixtures" / "landmarks"))
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args()
    clean = {
        p.stem: list(load_recording(p).samples())
        for p in sorted(Path(args.landmarks).glob("*squat*.npz"))
        if "__incorrect__" not in p.stem and "squat_correct_011" not in p.stem  # 011: rep not seen (doc)
    }
    base = {name: replay(samples) for name, samples in clean.items()}
    sources = sorted({name.split("__")[0] for name in base})
    out: dict[str, Any] = {"calibration": {}, "clean": {}, "moved_in": {}}

    print("## 1. threshold chosen on the other sources' side-on frames (knee 70-80°), held-out source")
    for held in sources:
        others = [h for n, r in base.items() if not n.startswith(held) for h in band_median(r["frames"])]
        own = [h for n, r in base.items() if n.startswith(held) for h in band_median(r["frames"])]
        chosen = float(np.median(others))
        own_median = float(np.median(own)) if own else float("nan")
        print(f"  {held}: chosen {chosen:.3f} (n={len(others)}); its own frames {own_median:.3f} (n={len(own)})")
        out["calibration"][held] = {"chosen": chosen, "own_median": float(np.median(own)) if own else None}
    everything = [h for r in base.values() for h in band_median(r["frames"])]
    print(f"  all sources: {np.median(everything):.3f} (n={len(everything)})")

    print("\n## 2. clean recordings: depth faults raised (the default thresholds)")
    for name, r in base.items():
        views = sorted({v for v, _, _ in r["frames"] if v != "unknown"})
        depth = [x for x in r["raised"] if x[1] in DEPTH_RULES]
        print(f"  {name}: views {views}; raised {sorted(set(r['raised'])) or '-'}; depth {depth or '-'}")
        out["clean"][name] = {"views": views, "raised": sorted(set(r["raised"]))}

    print("\n## 3. shallow squats moved in (cap: hip height above the knee, standing femurs)")
    threshold = Config().coach.squat.front_depth_max_hip_above_knee_femur
    print("cell: cap: views whose shallow_depth rule fired [descents the hip-height measure calls shallow /")
    print("descents, deepest image knee flexion]")
    print("| recording | view | per cap |")
    print("|---|---|---|")
    for name, samples in clean.items():
        heights = [h for _, _, h in base[name]["frames"]]
        views = sorted({v for v, _, _ in base[name]["frames"] if v != "unknown"})
        cells, rows = [], {}
        for cap in CAPS:
            r = replay(capped(samples, heights, cap))
            depth = sorted({v for v, code in r["raised"] if code in DEPTH_RULES})
            peaks = [f for v, f, h in r["frames"] if f is not None]
            front = sum(b > threshold for b in r["bottoms"])  # the hip-height verdict, whatever the view
            rows[str(cap)] = {"depth_views": depth, "max_knee_flexion_deg": max(peaks) if peaks else None,
                              "hip_height_shallow_descents": front, "descents": len(r["bottoms"])}  # fmt: skip
            flex = f", {max(peaks):.0f}°" if peaks else ""
            cells.append(f"{cap:g}: {'+'.join(depth) or '-'} [{front}/{len(r['bottoms'])}{flex}]")
        print(f"| {name.split('__')[-1]} | {'/'.join(views)} | {'; '.join(cells)} |")
        out["moved_in"][name] = rows
    print("\n## 4. Exercise-Correction squat rows, per down block (frame size assumed 1280x720)")
    out["csv"] = {}
    csv_shift: dict[str, list[float]] = {}
    for csv_name in ("squat_test.csv", "squat_train.csv"):
        deepest, shifts = csv_down_blocks(CSV_DIR / csv_name)
        shallow = sum(d > threshold for d in deepest)
        print(f"  {csv_name}: {len(deepest)} down blocks, deepest hip height {min(deepest):.2f}..{max(deepest):.2f}; "
              f"shallow at {threshold:g}: {shallow}; lateral shift {min(shifts):.3f}..{max(shifts):.3f} "
              f"({len(shifts)} blocks after an up block)")  # fmt: skip
        out["csv"][csv_name] = {"deepest": deepest, "shift": shifts}
        csv_shift[csv_name] = shifts
    print("\n## 5. heel lift (side view) and lateral shift (front view) of clean descents; the threshold chosen")
    print("   on the other sources: the smallest of 0.1, 0.15, ... above all of their clean descents")
    grid = [round(0.05 * i, 2) for i in range(2, 13)]
    heel_by = {src: [h for n, r in base.items() if n.startswith(src) for h in r["heel"]] for src in sources}
    shift_by = {src: [x for n, r in base.items() if n.startswith(src) for x in r["shift"]] for src in sources}
    shift_by["exercise_correction"] = csv_shift["squat_train.csv"] + csv_shift["squat_test.csv"]
    for rule, by in (("heel_lift", heel_by), ("lateral_shift", shift_by)):
        print(f"  {rule}: clean per source " + "; ".join(f"{k}: {sorted(round(v, 3) for v in vals)}"
                                                         for k, vals in by.items() if vals))  # fmt: skip
        for held, vals in by.items():
            if not vals:
                continue
            others = [v for k, o in by.items() if k != held for v in o]
            chosen = next(g for g in grid if g > max(others))
            print(f"    held out {held}: chosen {chosen:g}; its clean descents above it: "
                  f"{sum(v > chosen for v in vals)}/{len(vals)}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
