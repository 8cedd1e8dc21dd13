#!/usr/bin/env python3
"""Run `gymcorner analyze` over every squat clip of a manifest and print a Markdown table:
clip, labelled view, view found, labelled faults, events raised, processing fps.

    .venv/bin/python tools/squat_report.py [--manifest ../shared/data/manifest.csv] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.commands.offline import analyze_clip  # noqa: E402
from gymcorner.config import load_config  # noqa: E402

# The manifest's view vocabulary mapped onto the coach's two analysable views.
EXPECTED_VIEW = {"frontal": "frontal", "back": "frontal", "lateral": "lateral"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=str(ROOT.parent / "shared" / "data" / "manifest.csv"))
    parser.add_argument("--config", help="TOML config (default: built-in defaults)")
    parser.add_argument("--json", help="write every clip's summary as JSON")
    args = parser.parse_args()
    manifest = Path(args.manifest)
    rows = [r for r in csv.DictReader(manifest.open(encoding="utf-8")) if r["exercise"] == "squat"]
    config = load_config(args.config)
    results = []
    print("| clip | labelled view | view found | agrees | labelled faults | events raised | fps |")
    print("|---|---|---|---|---|---|---|")
    for row in tqdm(rows, desc="squat clips", unit="clip", file=sys.stderr):
        summary = analyze_clip(config, str(manifest.parent / row["clip"]), quiet=True)
        results.append({"manifest": row, "summary": summary})
        expected = EXPECTED_VIEW.get(row["view"])
        found = summary["view"] + (" (away)" if summary["facing"] == "away" else "")
        agrees = "n/a" if expected is None else ("yes" if expected == summary["view"] else "**no**")
        events = ", ".join(
            f"{e['t']:.1f}s {e['code']}" + (f"/{e['reason']}" if e.get("reason") else "") for e in summary["events"]
        )
        print(
            f"| {row['clip']} | {row['view']} | {found} | {agrees} | {row['visible_faults'] or '-'} | "
            f"{events or '-'} | {summary['processing_fps']:.0f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
