#!/usr/bin/env python3
"""Record the pose landmarks of every clip in a manifest into tests/fixtures/landmarks/.

These small .npz files are what our own pipeline derives from the labelled clips in
../shared/data; the tests replay them without a model or the clips. Re-run after a
change to the pose backend or the frame sources (and review the golden-file diffs).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.commands.offline import record_clip  # noqa: E402
from gymcorner.config import load_config  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "landmarks"


def fixture_name(clip: str) -> str:
    """'navya_squat_form/correct/x.mp4' -> 'navya_squat_form__correct__x.npz'."""
    return clip.replace("/", "__").rsplit(".", 1)[0] + ".npz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=str(ROOT.parent / "shared" / "data" / "manifest.csv"))
    parser.add_argument("--out", default=str(FIXTURES), help="output folder (default: %(default)s)")
    parser.add_argument("--exercise", action="append", help="only clips of this exercise (repeatable)")
    parser.add_argument("--only-missing", action="store_true", help="skip clips already recorded")
    args = parser.parse_args()
    manifest = Path(args.manifest)
    if not manifest.is_file():
        print(f"manifest not found: {manifest}", file=sys.stderr)
        return 1
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    if args.exercise:
        rows = [r for r in rows if r["exercise"] in args.exercise]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = load_config(None)
    for row in tqdm(rows, desc="clips", unit="clip"):
        target = out / fixture_name(row["clip"])
        if args.only_missing and target.exists():
            continue
        record_clip(config, str(manifest.parent / row["clip"]), str(target), quiet=True)
    print(f"{len(rows)} recordings in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
