#!/usr/bin/env python3
"""Parity of a pose backend with the recorded MediaPipe landmarks of the labelled clips.

For every clip, the backend (default `litert`) runs over the same decoded frames the
fixtures in tests/fixtures/landmarks/ were recorded from (mediapipe backend, smoothing
off). Per landmark the reference calls visible (visibility >= 0.5) on a frame where both
found the person, the distance between the two is taken as a fraction of the frame
diagonal; the table gives its mean and 95th percentile per clip and over all clips, and
how often the two agree on whether a person is present.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.config import load_config  # noqa: E402
from gymcorner.motion.landmarks import PoseSample  # noqa: E402
from gymcorner.recording import Recording, load_recording  # noqa: E402
from gymcorner.vision.pose import create_estimator  # noqa: E402
from gymcorner.vision.sources import open_source  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "landmarks"
DEFAULT_MANIFEST = ROOT.parent / "shared" / "data" / "manifest.csv"
MIN_VISIBILITY = 0.5


def fixture_name(clip: str) -> str:
    """'navya_squat_form/correct/x.mp4' -> 'navya_squat_form__correct__x.npz' (as record_fixtures)."""
    return clip.replace("/", "__").rsplit(".", 1)[0] + ".npz"


def run_backend(
    video: str, backend: str = "litert", max_frames: int | None = None, config_path: str | None = None
) -> list[PoseSample]:
    """The backend's samples of every frame, through `PoseAhead` as the daemon runs it (with
    one landmark worker the same as one frame after the other; with `pose.landmark_workers`
    > 1, frames side by side)."""
    from gymcorner.vision.pose_ahead import PoseAhead

    config = load_config(Path(config_path) if config_path else None)
    config = config.model_copy(update={"pose": config.pose.model_copy(update={"backend": backend})})
    source = open_source(config.source.model_copy(update={"realtime": False, "loop": False}), video)
    estimator = create_estimator(config.pose, config.models.dir)
    samples: list[PoseSample] = []
    source.open()
    ahead = PoseAhead(source, estimator, None)
    try:
        while (item := ahead.read()) is not None:
            samples.append(item.sample)
            if max_frames is not None and len(samples) >= max_frames:
                break
    finally:
        ahead.close()
        source.close()
        estimator.close()
    return samples


def compare(reference: Recording, samples: list[PoseSample]) -> dict[str, Any]:
    """Distances (fraction of the diagonal) over the reference's visible landmarks, and presence agreement."""
    n = min(len(reference), len(samples))
    ours = Recording.from_samples(samples[:n], reference.fps)
    both = reference.present[:n] & ours.present
    ref = reference.image[:n][both]
    got = ours.image[both]
    visible = ref[:, :, 3] >= MIN_VISIBILITY
    scale = np.array([reference.width, reference.height], dtype=np.float64)
    diag = float(np.hypot(reference.width, reference.height))
    dist = np.linalg.norm((ref[:, :, :2] - got[:, :, :2]) * scale, axis=2)[visible] / diag
    return {
        "frames": n,
        "frames_compared": int(both.sum()),
        "landmarks": int(dist.size),
        "distances": dist,
        "presence_agreement": float(np.mean(reference.present[:n] == ours.present)) if n else float("nan"),
    }


def summarise(name: str, dist: np.ndarray, presence: float, frames: int) -> dict[str, Any]:
    return {
        "clip": name,
        "frames": frames,
        "landmarks": int(dist.size),
        "mean_pct": round(100 * float(dist.mean()), 3) if dist.size else None,
        "p95_pct": round(100 * float(np.percentile(dist, 95)), 3) if dist.size else None,
        "presence_agreement": round(presence, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=str(DEFAULT_MANIFEST), help="labelled clips (default: %(default)s)")
    parser.add_argument("--backend", default="litert", help="pose backend to compare (default: %(default)s)")
    parser.add_argument("--clips", type=int, metavar="N", help="only the first N clips of the manifest")
    parser.add_argument(
        "--only", action="append", metavar="TEXT", help="only clips whose path contains TEXT (repeatable)"
    )
    parser.add_argument("--json", metavar="OUT", help="write the table as JSON")
    parser.add_argument("--config", metavar="FILE", help="TOML config for the backend (e.g. [pose] landmark_workers)")
    parser.add_argument(
        "--save",
        metavar="DIR",
        help="also keep the backend's landmarks as recordings in DIR "
        "(same names as the fixtures; for tools/coach_parity.py and `gymcorner eval --landmarks`)",
    )
    args = parser.parse_args()
    manifest = Path(args.manifest)
    if not manifest.is_file():
        print(f"manifest not found: {manifest}", file=sys.stderr)
        return 1
    rows = [
        r for r in csv.DictReader(manifest.open(encoding="utf-8")) if (FIXTURES / fixture_name(r["clip"])).is_file()
    ]
    if args.only:
        rows = [r for r in rows if any(t in r["clip"] for t in args.only)]
    if args.clips:
        rows = rows[: args.clips]
    table: list[dict[str, Any]] = []
    all_dist: list[np.ndarray] = []
    agree_frames = 0.0
    total_frames = 0
    for row in tqdm(rows, desc="clips", unit="clip"):
        reference = load_recording(FIXTURES / fixture_name(row["clip"]))
        samples = run_backend(str(manifest.parent / row["clip"]), args.backend, config_path=args.config)
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            Recording.from_samples(samples, reference.fps, source=row["clip"], backend=args.backend).save(
                Path(args.save) / fixture_name(row["clip"])
            )
        result = compare(reference, samples)
        table.append(summarise(row["clip"], result["distances"], result["presence_agreement"], result["frames"]))
        all_dist.append(result["distances"])
        agree_frames += result["presence_agreement"] * result["frames"]
        total_frames += result["frames"]
    overall = summarise(
        "ALL", np.concatenate(all_dist) if all_dist else np.zeros(0), agree_frames / max(total_frames, 1), total_frames
    )
    print(f"{'clip':<70}{'frames':>7}{'mean %':>9}{'p95 %':>9}{'presence':>10}")
    for entry in [*table, overall]:
        mean = "-" if entry["mean_pct"] is None else f"{entry['mean_pct']:.3f}"
        p95 = "-" if entry["p95_pct"] is None else f"{entry['p95_pct']:.3f}"
        print(f"{entry['clip']:<70}{entry['frames']:>7}{mean:>9}{p95:>9}{entry['presence_agreement']:>10.3f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"backend": args.backend, "clips": table, "overall": overall}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
