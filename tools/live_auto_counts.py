#!/usr/bin/env python3
"""The daemon's own rep count on recorded clips, in `auto` mode, frame by frame.

`gymcorner eval` classifies each clip whole and then counts it as that exercise; the
daemon cannot: it starts knowing nothing, follows the live recogniser, and counts what it
can meanwhile. This runs exactly the daemon's pipeline (`Pipeline.process`, auto mode) over
the recorded landmarks of every manifest clip that has a fixture, and prints per clip the
manifest's reps, the reps announced, how many of them came before the exercise was known,
and how late each rep was announced after it ended (seconds of frame time), then MAE,
exact and off-by-one over the clips with a high-confidence count.

    .venv/bin/python tools/live_auto_counts.py [--manifest ../shared/data/manifest.csv]
        [--landmarks tests/fixtures/landmarks] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from statistics import median

from gymcorner.config import Config
from gymcorner.pipeline import Pipeline
from gymcorner.recording import load_recording

ROOT = Path(__file__).resolve().parents[1]


def fixture_name(clip: str) -> str:
    return clip.rsplit(".", 1)[0].replace("/", "__")


def run_clip(path: Path) -> dict[str, object]:
    pipeline = Pipeline(Config())  # auto mode: the daemon's default
    reps = early = 0
    delays: list[float] = []
    exercise = "unknown"
    for sample in load_recording(path).samples():
        result = pipeline.process(sample)
        for event in result.coach.events:
            if event.kind != "rep":
                continue
            reps += 1
            early += event.exercise == "unknown"
            delays.append(round(sample.t_s - float(event.details["end_t"]), 3))
        exercise = result.coach.exercise
    return {"reps": reps, "before_known": early, "delays_s": delays, "exercise": exercise}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", default=str(ROOT.parent / "shared" / "data" / "manifest.csv"))
    parser.add_argument("--landmarks", default=str(ROOT / "tests" / "fixtures" / "landmarks"))
    parser.add_argument("--json", metavar="OUT", help="write per-clip results and the summary")
    args = parser.parse_args(argv)
    manifest = Path(args.manifest)
    if not manifest.is_file():
        print(f"no manifest at {manifest}", file=sys.stderr)
        return 1
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    results = []
    for row in rows:
        path = Path(args.landmarks) / f"{fixture_name(row['clip'])}.npz"
        if not path.is_file() or not row["reps"].strip().isdigit():
            continue
        got = run_clip(path)
        results.append({"clip": row["clip"], "label": row["exercise"], "truth": int(row["reps"]),
                        "confidence": row["rep_confidence"], **got})  # fmt: skip
    print(f"{'clip':<62} {'label':<13} {'truth':>5} {'reps':>4} {'early':>5}  delays (s)")
    for r in results:
        delays = ", ".join(f"{d:.2f}" for d in r["delays_s"])  # type: ignore[attr-defined]
        print(f"{r['clip']:<62} {r['label']:<13} {r['truth']:>5} {r['reps']:>4} {r['before_known']:>5}  {delays}")
    high = [r for r in results if r["confidence"] == "high"]
    errors = [abs(int(r["reps"]) - int(r["truth"])) for r in high]  # type: ignore[call-overload]
    all_delays = [d for r in results for d in r["delays_s"]]  # type: ignore[attr-defined]
    summary = {
        "clips": len(results),
        "high_confidence_clips": len(high),
        "mae": round(sum(errors) / len(errors), 3) if errors else None,
        "exact": sum(e == 0 for e in errors),
        "off_by_one": sum(e <= 1 for e in errors),
        "reps_announced": len(all_delays),
        "announce_delay_median_s": round(median(all_delays), 3) if all_delays else None,
        "announce_delay_max_s": max(all_delays) if all_delays else None,
        "announced_within_0_5_s": sum(d <= 0.5 for d in all_delays),
    }
    print(json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "clips": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
