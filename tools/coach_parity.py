#!/usr/bin/env python3
"""Does the coach say the same thing whichever pose backend fed it?

Two folders of recordings of the same clips (default: the mediapipe fixtures in
tests/fixtures/landmarks/ and the litert recordings `tools/pose_parity.py --save DIR` wrote)
are replayed through the whole pipeline with the default config. Per frame the coach's
output is compared: the camera view, the set of active fault codes, the exercise being
coached and the rep phase (no counter, the near half of the movement or the far half:
`phase` below or above 0.5). Per clip: the share of identical frames, the share that also
agree on the number of reps counted so far (one rep announced a frame apart makes every
later frame differ there), and both final rep counts.

    tools/coach_parity.py /work/out/litert_landmarks [--reference tests/fixtures/landmarks] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.config import load_config  # noqa: E402
from gymcorner.pipeline import Pipeline  # noqa: E402
from gymcorner.recording import load_recording  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "landmarks"


def coach_outputs(path: Path) -> list[tuple[Any, ...]]:
    pipeline = Pipeline(load_config(None))
    out = []
    for sample in load_recording(path).samples():
        frame = pipeline.process(sample).coach
        half = None if frame.phase is None else frame.phase >= 0.5
        out.append((frame.view.view.value, tuple(sorted(frame.active)), str(frame.exercise), half, frame.reps))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, help="recordings of the backend under test")
    parser.add_argument("--reference", type=Path, default=FIXTURES, help="reference recordings (default: %(default)s)")
    parser.add_argument("--json", metavar="OUT", help="write the table as JSON")
    args = parser.parse_args()
    names = sorted(p.name for p in args.other.glob("*.npz") if (args.reference / p.name).is_file())
    if not names:
        print(f"no recordings in both {args.other} and {args.reference}", file=sys.stderr)
        return 1
    rows = []
    parts = ("view", "faults", "exercise", "phase")
    differs = dict.fromkeys(parts, 0)  # frames on which that part of the output differs
    same_frames = same_with_count = total_frames = same_reps = 0
    for name in names:
        ref, got = coach_outputs(args.reference / name), coach_outputs(args.other / name)
        n = min(len(ref), len(got))
        same = sum(a[:4] == b[:4] for a, b in zip(ref[:n], got[:n], strict=False))
        for k, part in enumerate(parts):
            differs[part] += sum(a[k] != b[k] for a, b in zip(ref[:n], got[:n], strict=False))
        same_count = sum(a == b for a, b in zip(ref[:n], got[:n], strict=False))
        reps = (ref[-1][4] if ref else 0, got[-1][4] if got else 0)
        rows.append(
            {
                "clip": name,
                "frames": n,
                "identical": round(same / max(n, 1), 4),
                "identical_with_count": round(same_count / max(n, 1), 4),
                "reps_reference": reps[0],
                "reps_other": reps[1],
            }
        )
        same_frames += same
        same_with_count += same_count
        total_frames += n
        same_reps += reps[0] == reps[1]
    print(f"{'clip':<72}{'frames':>7}{'same %':>8}{'+count %':>9}{'reps':>9}")
    for r in rows:
        print(
            f"{r['clip']:<72}{r['frames']:>7}{100 * r['identical']:>8.1f}{100 * r['identical_with_count']:>9.1f}"
            f"{r['reps_reference']:>5} /{r['reps_other']:>2}"
        )
    summary = {
        "clips": len(rows),
        "frames": total_frames,
        "identical_frames": round(same_frames / total_frames, 4),
        "identical_frames_with_count": round(same_with_count / total_frames, 4),
        "same_rep_count_clips": same_reps,
        "same_rep_count_share": round(same_reps / len(rows), 4),
        "frames_differing_in": differs,
    }
    print(
        f"identical coach output (view, faults, exercise, rep phase) on {100 * summary['identical_frames']:.2f} % "
        f"of {total_frames} frames ({100 * summary['identical_frames_with_count']:.2f} % also with the same count "
        f"so far); same final rep count on {same_reps} of {len(rows)} clips "
        f"({100 * summary['same_rep_count_share']:.1f} %)"
    )
    print("frames on which it differs, by part: " + ", ".join(f"{p} {v}" for p, v in differs.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "clips": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
