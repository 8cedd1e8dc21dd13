#!/usr/bin/env python3
"""Measure landmark smoothing on real recordings: jitter when still, lag when moving.

The product's default filter is chosen from these numbers (docs/smoothing.md). Every
filter runs through the product's own `LandmarkSmoother`, exactly as the daemon would run
it, over recordings made by our pipeline (`gymcorner record`, MediaPipe smoothing off).

Metrics are taken per joint-frame of the main joints (shoulders, elbows, wrists, hips,
knees, ankles) while visible (visibility >= --min-visibility), in pixel space (x, y) and
in world space (x, y, z metres), as % of the clip's torso length in that space (median
mid-shoulder to mid-hip distance), so clips of any resolution and distance compare. The
still/moving segmentation is done once per clip, in pixel space, on the raw track:

* still: a joint whose track, smoothed by a centred Gaussian (--still-sigma-s), moves
  slower than --still-speed torso lengths/s for at least --min-still-s (per joint: a
  knee is still while the hands talk, and each filter acts per element anyway).
  Jitter = RMS frame-to-frame displacement there, after removing the slow drift (a
  --trend-sigma-s Gaussian of the raw track), so a slow sway is not counted as jitter.
  Jitter reduction = 1 - jitter(filtered) / jitter(raw).
* moving: a joint moving faster than --moving-speed torso lengths/s for at least
  --min-moving-s. The reference is the raw track smoothed by a centred Gaussian
  (--reference-sigma-s): zero phase, so it has no lag. Lag = the shift (ms) that
  maximises the normalised cross-correlation, pooled over all moving segments of the
  clip, between the filtered track and the reference (parabolic sub-frame peak; the raw
  track scores 0). Moving error = RMS distance between filtered track and reference.
* error: the same RMS distance over every visible joint-frame (still, slow, turning and
  moving alike): how far the filter strays from the lag-free reference overall.

Each metric is computed per clip; the table shows the median over the clips that have
such segments (every clip votes once, whatever its length). The pick, per family: the
least (pixel-space) lag among the configurations whose jitter reduction reaches
--min-jitter-reduction in both pixel and world space (lags within 1 ms are a tie, won by
the smaller overall error); the overall default is whichever family winner has less lag.

Run from the repository root:
    PYTHONPATH=edge .venv/bin/python tools/compare_smoothing.py --json out/smoothing.json
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    from gymcorner.config import SmoothingConfig
except ImportError:  # run without PYTHONPATH: use the checkout's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "edge"))
    from gymcorner.config import SmoothingConfig

from gymcorner.errors import RecordingError
from gymcorner.motion.filters import DEFAULT_MAX_GAP_S, make_smoother
from gymcorner.motion.landmarks import Landmark
from gymcorner.recording import Recording, load_recording

MAIN_JOINTS = np.array(
    [
        Landmark.LEFT_SHOULDER,
        Landmark.RIGHT_SHOULDER,
        Landmark.LEFT_ELBOW,
        Landmark.RIGHT_ELBOW,
        Landmark.LEFT_WRIST,
        Landmark.RIGHT_WRIST,
        Landmark.LEFT_HIP,
        Landmark.RIGHT_HIP,
        Landmark.LEFT_KNEE,
        Landmark.RIGHT_KNEE,
        Landmark.LEFT_ANKLE,
        Landmark.RIGHT_ANKLE,
    ]
)
MIN_LAG_SEGMENT_FRAMES = 8
LAG_TIE_MS = 1.0  # lags closer than this are not told apart; the overall error decides


@dataclass(frozen=True)
class Params:
    min_visibility: float = 0.6
    still_sigma_s: float = 0.1
    trend_sigma_s: float = 0.25
    still_speed: float = 0.2
    min_still_s: float = 0.6
    moving_speed: float = 0.5
    min_moving_s: float = 0.25
    reference_sigma_s: float = 0.05
    max_lag_s: float = 0.6
    min_jitter_reduction: float = 0.6


PARAM_HELP = {
    "min_visibility": "a joint takes part only at or above this visibility",
    "still_sigma_s": "Gaussian sigma (s) of the track whose speed finds still and moving joints",
    "trend_sigma_s": "Gaussian sigma (s) of the slow drift removed before measuring jitter",
    "still_speed": "still below this speed (torso lengths/s)",
    "min_still_s": "shortest still segment (s)",
    "moving_speed": "moving at or above this speed (torso lengths/s)",
    "min_moving_s": "shortest moving segment (s)",
    "reference_sigma_s": "Gaussian sigma (s) of the zero-phase reference for lag and error",
    "max_lag_s": "largest lag searched (s)",
    "min_jitter_reduction": "a pick must cut jitter by this fraction in pixel and world space",
}


@dataclass
class ClipMetrics:
    still_pairs: int = 0
    moving_frames: int = 0
    by_filter: dict[str, dict[str, float]] = field(default_factory=dict)


def gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Centred (zero-phase) Gaussian along axis 0; the kernel is renormalised at the ends."""
    if sigma_frames <= 0:
        return x.astype(np.float64)
    half = math.ceil(3 * sigma_frames)
    n = x.shape[0]
    acc = np.zeros(x.shape, dtype=np.float64)
    weight = np.zeros(n, dtype=np.float64)
    for k in range(-half, half + 1):
        w = math.exp(-0.5 * (k / sigma_frames) ** 2)
        lo, hi = max(0, -k), min(n, n - k)
        if lo < hi:
            acc[lo:hi] += w * x[lo + k : hi + k]
            weight[lo:hi] += w
    return acc / weight.reshape((n,) + (1,) * (x.ndim - 1))


def true_runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """[start, stop) of each run of True at least min_len long."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=False) if b - a >= min_len]


def present_runs(rec: Recording) -> list[tuple[int, int]]:
    """Stretches with a person and no long gap: the filters restart between them."""
    runs = []
    for a, b in true_runs(rec.present, 1):
        cuts = np.flatnonzero(np.diff(rec.t_s[a:b]) > DEFAULT_MAX_GAP_S) + 1
        bounds = [a, *(a + cuts), b]
        runs += [(int(s), int(e)) for s, e in itertools.pairwise(bounds)]
    return runs


def keep_long(mask: np.ndarray, min_len: int) -> np.ndarray:
    """mask (n,) or (n, k) keeping only the runs (along axis 0) at least min_len long."""
    if mask.ndim == 2:
        return np.stack([keep_long(mask[:, k], min_len) for k in range(mask.shape[1])], axis=1)
    out = np.zeros_like(mask)
    for a, b in true_runs(mask, min_len):
        out[a:b] = True
    return out


def pooled_lag_frames(filtered: np.ndarray, reference: np.ndarray, segments, max_shift: int) -> float:
    """Shift (frames, sub-frame) maximising the pooled normalised cross-correlation.

    segments: (joint, start, stop, run_start, run_stop); the reference is read anywhere in
    the person's run, the filtered track only inside the moving, visible segment.
    """
    shifts = np.arange(-max_shift // 3, max_shift + 1)
    score = np.full(shifts.shape, np.nan)
    for i, s in enumerate(shifts):
        num = den_f = den_r = 0.0
        for j, a, b, ra, rb in segments:
            lo, hi = max(a, ra + s), min(b, rb + s)
            if hi - lo < MIN_LAG_SEGMENT_FRAMES:
                continue
            f = filtered[lo:hi, j] - filtered[lo:hi, j].mean(axis=0)
            r = reference[lo - s : hi - s, j] - reference[lo - s : hi - s, j].mean(axis=0)
            num += float(np.sum(f * r))
            den_f += float(np.sum(f * f))
            den_r += float(np.sum(r * r))
        if den_f > 0 and den_r > 0:
            score[i] = num / math.sqrt(den_f * den_r)
    if np.all(np.isnan(score)):
        return math.nan
    k = int(np.nanargmax(score))
    if 0 < k < len(shifts) - 1 and not np.isnan(score[k - 1 : k + 2]).any():
        y0, y1, y2 = score[k - 1 : k + 2]
        curvature = y0 - 2 * y1 + y2
        if curvature < 0:
            return float(shifts[k] + 0.5 * (y0 - y2) / curvature)
    return float(shifts[k])


@dataclass
class Track:
    """One space's main-joint positions (n, 12, D), its scale and its zero-phase copies."""

    raw: np.ndarray
    torso: float
    slow: np.ndarray  # smoothed for the speed that finds still and moving segments
    trend: np.ndarray  # heavily smoothed: the slow drift a still segment may keep
    reference: np.ndarray  # lightly smoothed: the lag-free target in moving segments


def torso_length(points: np.ndarray) -> float:
    """Median distance from mid-shoulder to mid-hip (all 33 landmarks, any visibility)."""
    mid_shoulder = (points[:, Landmark.LEFT_SHOULDER] + points[:, Landmark.RIGHT_SHOULDER]) / 2
    mid_hip = (points[:, Landmark.LEFT_HIP] + points[:, Landmark.RIGHT_HIP]) / 2
    return float(np.nanmedian(np.linalg.norm(mid_shoulder - mid_hip, axis=1))) if len(points) else math.nan


class ClipAnalysis:
    """One recording: its segments and references, computed once, then each filter's metrics."""

    def __init__(self, rec: Recording, params: Params) -> None:
        self.rec, self.params = rec, params
        self.dt_s = float(np.median(np.diff(rec.t_s))) if len(rec) > 1 else 1.0 / max(rec.fps, 1.0)
        self.runs = present_runs(rec)
        vis = np.nan_to_num(rec.image[:, MAIN_JOINTS, 3])
        self.visible = rec.present[:, None] & (vis >= params.min_visibility)
        self.tracks = {
            "image": self._track(self.pixels(rec.image), torso_length(self.pixels_all(rec.image[rec.present]))),
            "world": self._track(self.world(rec.world), torso_length(rec.world[rec.present].astype(np.float64))),
        }
        frames = lambda s: max(2, round(s / self.dt_s))  # noqa: E731
        speed = self._joint_speed(self.tracks["image"])
        margin = math.ceil(2 * params.reference_sigma_s / self.dt_s)
        inner = np.zeros(len(rec), dtype=bool)
        same_run = np.zeros(len(rec), dtype=bool)  # frame i and i-1 in one run
        for a, b in self.runs:
            inner[a + margin : b - margin] = True
            same_run[a + 1 : b] = True
        # Per joint: a knee may be still while the wrists talk, and each filter acts per element.
        self.still = keep_long(self.visible & (speed < params.still_speed), frames(params.min_still_s))
        self.moving = keep_long(self.visible & (speed >= params.moving_speed), frames(params.min_moving_s))
        self.moving &= inner[:, None]
        self.tracked = self.visible & inner[:, None]
        self.pairs = self.still & np.roll(self.still, 1, axis=0) & same_run[:, None]
        self.lag_segments = [
            (j, ra + a, ra + b, ra, rb)
            for ra, rb in self.runs
            for j in range(len(MAIN_JOINTS))
            for a, b in true_runs(self.moving[ra:rb, j], MIN_LAG_SEGMENT_FRAMES)
        ]

    def pixels_all(self, image: np.ndarray) -> np.ndarray:
        return image[..., :2].astype(np.float64) * np.array([self.rec.width, self.rec.height])

    def pixels(self, image: np.ndarray) -> np.ndarray:
        return self.pixels_all(image[:, MAIN_JOINTS])

    @staticmethod
    def world(world: np.ndarray) -> np.ndarray:
        return world[:, MAIN_JOINTS].astype(np.float64)

    def _track(self, raw: np.ndarray, torso: float) -> Track:
        slow, trend, reference = (np.full_like(raw, np.nan) for _ in range(3))
        for a, b in self.runs:
            slow[a:b] = gaussian_smooth(raw[a:b], self.params.still_sigma_s / self.dt_s)
            trend[a:b] = gaussian_smooth(raw[a:b], self.params.trend_sigma_s / self.dt_s)
            reference[a:b] = gaussian_smooth(raw[a:b], self.params.reference_sigma_s / self.dt_s)
        return Track(raw, torso if torso > 0 else math.nan, slow, trend, reference)

    def _joint_speed(self, track: Track) -> np.ndarray:
        """(n, 12) speed of each main joint's smoothed track, torso lengths/s (NaN: unknown)."""
        speed = np.full(track.raw.shape[:2], np.nan)
        for a, b in self.runs:
            if b - a >= 2:
                speed[a:b] = np.linalg.norm(np.gradient(track.slow[a:b], self.dt_s, axis=0), axis=-1) / track.torso
        return speed

    def measure(self, config: SmoothingConfig) -> dict[str, float]:
        smoother = make_smoother(config)
        image, world = [], []
        for sample in map(smoother.smooth, self.rec.samples()):
            image.append(sample.image if sample.image is not None else np.full((33, 4), np.nan, np.float32))
            world.append(sample.world if sample.world is not None else np.full((33, 3), np.nan, np.float32))
        out = {}
        for space, filtered in (("image", self.pixels(np.stack(image))), ("world", self.world(np.stack(world)))):
            for key, value in self._metrics(self.tracks[space], filtered).items():
                out[key if space == "image" else f"world_{key}"] = value
        return out

    def _metrics(self, track: Track, filtered: np.ndarray) -> dict[str, float]:
        out = {"jitter_pct": math.nan, "lag_ms": math.nan, "moving_error_pct": math.nan, "error_pct": math.nan}
        if self.tracked.any():
            err = np.linalg.norm(filtered - track.reference, axis=-1)[self.tracked]
            out["error_pct"] = 100 * math.sqrt(float(np.mean(err**2))) / track.torso
        if self.pairs.any():
            wobble = filtered - track.trend  # the slow motion left in a still segment is not jitter
            step = np.linalg.norm(wobble - np.roll(wobble, 1, axis=0), axis=-1)
            out["jitter_pct"] = 100 * math.sqrt(float(np.mean(step[self.pairs] ** 2))) / track.torso
        if self.moving.any():
            err = np.linalg.norm(filtered - track.reference, axis=-1)[self.moving]
            out["moving_error_pct"] = 100 * math.sqrt(float(np.mean(err**2))) / track.torso
        if self.lag_segments:
            max_shift = round(self.params.max_lag_s / self.dt_s)
            lag_frames = pooled_lag_frames(filtered, track.reference, self.lag_segments, max_shift)
            out["lag_ms"] = 1000 * self.dt_s * lag_frames
        return out


def filter_grid(windows: list[int], min_cutoffs: list[float], betas: list[float], d_cutoff_hz: float):
    yield "raw", SmoothingConfig(filter="none")
    for w in windows:
        yield f"ma w={w}", SmoothingConfig(filter="moving_average", window_frames=w)
    for fc in min_cutoffs:
        for beta in betas:
            yield (
                f"1e fc={fc:g} b={beta:g}",
                SmoothingConfig(filter="one_euro", min_cutoff_hz=fc, beta=beta, d_cutoff_hz=d_cutoff_hz),
            )


def nanmedian(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan


def summarise(clips: dict[str, ClipMetrics], labels: list[str]) -> dict[str, dict[str, float]]:
    """Median over clips of each metric, and of each clip's jitter reduction vs raw."""
    table = {}
    for label in labels:
        row: dict[str, float] = {}
        for key in clips[next(iter(clips))].by_filter[label]:
            row[key] = nanmedian([c.by_filter[label][key] for c in clips.values()])
        for prefix in ("", "world_"):
            ratios = [
                c.by_filter[label][prefix + "jitter_pct"] / c.by_filter["raw"][prefix + "jitter_pct"]
                for c in clips.values()
                if c.by_filter["raw"][prefix + "jitter_pct"] > 0
            ]
            row[prefix + "jitter_reduction"] = 1 - nanmedian(ratios)
        table[label] = row
    return table


def worst_reduction(row: dict[str, float]) -> float:
    """The smaller of the image and world jitter reductions: both feed the product."""
    return min(row["jitter_reduction"], row["world_jitter_reduction"])


def pick(table: dict[str, dict[str, float]], prefix: str, min_reduction: float) -> str:
    """Least lag (within LAG_TIE_MS, then least overall error) among those reaching
    min_reduction in both spaces; else the most reduction."""
    family = {k: v for k, v in table.items() if k.startswith(prefix)}
    ok = {k: v for k, v in family.items() if worst_reduction(v) >= min_reduction}
    if not ok:
        return max(family, key=lambda k: worst_reduction(family[k]))
    least_lag_ms = min(v["lag_ms"] for v in ok.values())
    fastest = {k: v for k, v in ok.items() if v["lag_ms"] <= least_lag_ms + LAG_TIE_MS}
    return min(fastest, key=lambda k: fastest[k]["error_pct"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recordings", nargs="*", help="recorded .npz files (default: tests/fixtures/landmarks/*.npz)")
    parser.add_argument("--json", type=Path, help="write the per-clip metrics, table and picks here")
    parser.add_argument("--ma-windows", default="1,3,5,7,9", help="moving-average windows (frames)")
    parser.add_argument("--min-cutoffs", default="0.1,0.3,0.5,0.7,1,1.5,2,4", help="One Euro min_cutoff_hz values")
    parser.add_argument(
        "--betas", default="0,1,3,5,10,20,30,100", help="One Euro beta values (per body size/s of image-plane speed)"
    )
    parser.add_argument("--d-cutoff", type=float, default=1.0, help="One Euro d_cutoff_hz")
    defaults = Params()
    for name, help_text in PARAM_HELP.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=getattr(defaults, name),
            help=f"{help_text} (default %(default)s)",
        )
    args = parser.parse_args(argv)
    params = Params(**{k: getattr(args, k) for k in Params.__dataclass_fields__})
    paths = args.recordings or sorted(
        glob.glob(str(Path(__file__).resolve().parents[1] / "tests/fixtures/landmarks/*.npz"))
    )
    if not paths:
        parser.error("no recordings given and none in tests/fixtures/landmarks (run tools/record_fixtures.py)")
    floats = lambda s: [float(v) for v in s.split(",") if v]  # noqa: E731
    grid = list(
        filter_grid(
            [int(v) for v in floats(args.ma_windows)], floats(args.min_cutoffs), floats(args.betas), args.d_cutoff
        )
    )
    clips: dict[str, ClipMetrics] = {}
    for path in paths:
        try:
            analysis = ClipAnalysis(load_recording(path), params)
        except RecordingError as err:
            parser.error(str(err))
        metrics = ClipMetrics(int(analysis.pairs.sum()), int(analysis.moving.sum()))
        if not analysis.tracks["image"].torso > 5.0:
            print(f"skip {Path(path).name}: no torso", file=sys.stderr)
            continue
        metrics.by_filter = {label: analysis.measure(cfg) for label, cfg in grid}
        clips[Path(path).stem] = metrics
        print(
            f"{Path(path).stem}: still pairs {metrics.still_pairs}, moving frames {metrics.moving_frames}",
            file=sys.stderr,
        )
    if not clips:
        parser.error("no recording had a measurable torso")
    labels = [label for label, _ in grid]
    table = summarise(clips, labels)
    picks = {
        "moving_average": pick(table, "ma ", params.min_jitter_reduction),
        "one_euro": pick(table, "1e ", params.min_jitter_reduction),
    }
    picks["overall"] = min(picks.values(), key=lambda k: table[k]["lag_ms"])
    n_still = sum(c.still_pairs > 0 for c in clips.values())
    n_moving = sum(c.moving_frames > 0 for c in clips.values())
    print(f"clips: {len(clips)}; with still segments: {n_still}; with moving segments: {n_moving}")
    print(
        "| filter | jitter (% torso/frame) | jitter reduction | lag (ms) | moving error (% torso) "
        "| error (% torso) | world jitter reduction | world lag (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label in labels:
        row = table[label]
        print(
            f"| {label} | {row['jitter_pct']:.2f} | {100 * row['jitter_reduction']:.0f} % | "
            f"{row['lag_ms']:.1f} | {row['moving_error_pct']:.2f} | {row['error_pct']:.2f} | "
            f"{100 * row['world_jitter_reduction']:.0f} % | {row['world_lag_ms']:.1f} |"
        )
    print(
        f"picks (least lag with jitter reduction >= {100 * params.min_jitter_reduction:.0f} % "
        f"in pixel and world space): {picks}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "params": params.__dict__,
                    "table": table,
                    "picks": picks,
                    "clips": {
                        k: {"still_pairs": c.still_pairs, "moving_frames": c.moving_frames, **c.by_filter}
                        for k, c in clips.items()
                    },
                },
                indent=1,
                allow_nan=True,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
