"""`gymcorner calibrate`: field calibration of one corner, from a camera or a video file.

Guided on a live camera (stand still, then squat three times, with progress as each squat
is measured); on a video file it reads the clip to its end, which is how it is tested on
real clips. The measuring and deriving are pure (`calibration/measure.py`,
`calibration/derive.py`); this module only captures frames, prints, and writes files:
the site config (`--out`, loaded by `gymcorner run --site`), a PNG plot next to it, and
optionally the landmarks of the deepest squat as the gold reference rep (`--gold`).

`--if-requested` is for the systemd unit's ExecStartPre: it calibrates only when the
daemon left a request (a long press on the button), and returns at once otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module for its parser only: keep it light
    from gymcorner.calibration.derive import Check, Threshold
    from gymcorner.calibration.measure import Measurements
    from gymcorner.config import Config
    from gymcorner.motion.landmarks import PoseSample

STAND_S = 3.0
DEFAULT_OUT = "site.toml"
_LUMA_WEIGHTS_BGR = (0.114, 0.587, 0.299)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = sub.add_parser(
        "calibrate",
        help="field calibration: measure the person in the corner, write site thresholds",
        description="Checks the framing (whole body, distance, lighting), detects the camera view, measures "
        "the person standing and over a few squats, derives the squat thresholds and writes a site config "
        "that `gymcorner run --site FILE` loads. Works on a camera or a video file.",
    )
    p.add_argument(
        "--source",
        "-s",
        metavar="S",
        help="camera index, /dev/videoN, video file, URL, picamera2:N or gst:<pipeline> (default: source.uri)",
    )
    p.add_argument(
        "--out", "-o", default=DEFAULT_OUT, metavar="FILE", help=f"site config to write (default {DEFAULT_OUT})"
    )
    p.add_argument("--plot", metavar="FILE.png", help="plot of the measurements (default: next to --out)")
    p.add_argument("--gold", metavar="FILE.npz", help="also keep the deepest squat's landmarks as the reference rep")
    p.add_argument("--config", "-c", metavar="FILE", help="TOML config (thresholds start from it)")
    p.add_argument("--reps", type=int, default=3, help="squats to measure on a live camera (default 3)")
    p.add_argument("--max-s", type=float, default=90.0, help="give up on a live camera after this long")
    p.add_argument("--if-requested", action="store_true", help="only when the daemon asked (systemd ExecStartPre)")
    p.add_argument("--quiet", "-q", action="store_true", help="no prompts or progress bar")
    return p


@dataclass
class Calibration:
    measurements: Measurements
    checks: list[Check]
    thresholds: list[Threshold]
    written: bool
    plotted: bool = False


def luma(image_bgr: Any) -> float:
    """Mean brightness 0..255 on every 8th pixel: enough to tell a dark corner from a lit one."""
    import numpy as np

    return float((image_bgr[::8, ::8, :3].reshape(-1, 3) @ np.array(_LUMA_WEIGHTS_BGR)).mean())


def capture(
    config: Config, stop: threading.Event, reps_wanted: int, max_s: float, quiet: bool
) -> tuple[list[PoseSample], list[float], str]:
    """Frames -> pose samples (and brightness); guided prompts on a live source."""
    from tqdm import tqdm

    from gymcorner.calibration.measure import RepCounter
    from gymcorner.vision.pose import create_estimator
    from gymcorner.vision.sources import open_source

    source = open_source(config.source.model_copy(update={"realtime": False, "loop": False}))
    estimator = create_estimator(config.pose, config.models.dir)
    squat = config.coach.squat
    counter = RepCounter(squat.squat_min_knee_flexion_deg, squat.rep_top_knee_flexion_deg)
    samples: list[PoseSample] = []
    lumas: list[float] = []
    say = (lambda text: None) if quiet else print
    live = source.is_live
    bar = tqdm(total=source.frame_count, desc="calibrating", unit="frame", disable=quiet or live, leave=False)
    if live:
        say(f"Step 1/2: stand in the middle of the corner, whole body in view, and hold still ({STAND_S:g} s).")
    t0: float | None = None
    squatting = False
    try:
        from gymcorner.coach.squat_metrics import squat_metrics

        for frame in source:
            if stop.is_set():
                break
            sample = estimator.estimate(frame.image, frame.t_s)
            samples.append(sample)
            lumas.append(luma(frame.image))
            bar.update(1)
            if not live:
                continue
            t0 = frame.t_s if t0 is None else t0
            elapsed = frame.t_s - t0
            if elapsed >= STAND_S:
                if not squatting:
                    say(f"Step 2/2: now squat {reps_wanted} times at your own pace, as deep as is comfortable.")
                    squatting = True
                m = squat_metrics(sample, config.coach.min_visibility)
                if counter.update(len(samples) - 1, m.knee_flexion_deg if m else None) is not None:
                    say(f"  squat {counter.count} of {reps_wanted} measured")
            if counter.count >= reps_wanted or elapsed > max_s:
                break
    finally:
        bar.close()
        source.close()
        estimator.close()
    return samples, lumas, source.description


def calibrate(
    samples: list[PoseSample],
    lumas: list[float],
    config: Config,
    source: str,
    out: str | Path,
    plot: str | Path,
    gold: str | Path | None = None,
    stamp: str | None = None,
) -> Calibration:
    """Measure, check, derive; write the site config and plot when anything was derived."""
    from gymcorner.calibration.derive import derive_thresholds, framing_checks
    from gymcorner.calibration.measure import measure
    from gymcorner.calibration.report import save_plot, site_toml

    m = measure(samples, lumas, config)
    checks = framing_checks(m)
    thresholds = derive_thresholds(m, config.coach.squat)
    written = any(t.derived for t in thresholds)
    stamp = stamp or dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if written:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(site_toml(m, thresholds, source, stamp), encoding="utf-8")
    plotted = save_plot(
        m,
        thresholds,
        plot,
        f"calibration: {source} ({m.view.value} view, {len(m.reps)} squat{'' if len(m.reps) == 1 else 's'})",
    )
    if gold and m.reps:
        from gymcorner.recording import Recording

        best = max(m.reps, key=lambda r: r.deepest_flexion_deg)
        fps = (len(samples) - 1) / (m.t_s[-1] - m.t_s[0]) if len(samples) > 1 and m.t_s[-1] > m.t_s[0] else 30.0
        Recording.from_samples(samples[best.start : best.end + 1], fps, source=f"{source} (gold rep)").save(gold)
    return Calibration(m, checks, thresholds, written, plotted)


def request_pending(out: Path) -> Path | None:
    """The daemon's calibration request (state directory, or beside --out), if there is one."""
    from gymcorner.device.link import REQUEST_FILE, state_directory

    for folder in (state_directory(), out.parent):
        if folder is not None and (folder / REQUEST_FILE).is_file():
            return folder / REQUEST_FILE
    return None


def cmd_calibrate(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.calibration.report import PLOT_HINT, format_summary
    from gymcorner.config import load_config

    out = Path(args.out)
    if args.if_requested:
        request = request_pending(out)
        if request is None:
            print("calibrate: no calibration requested")
            return 0
        request.unlink()
    config = load_config(args.config) if args.config else load_config(None)
    if args.source:
        config.source.uri = args.source
    plot = Path(args.plot) if args.plot else out.with_suffix(".png")
    samples, lumas, description = capture(config, stop, args.reps, args.max_s, args.quiet)
    result = calibrate(samples, lumas, config, description, out, plot, args.gold)
    print(
        format_summary(
            result.measurements,
            result.checks,
            result.thresholds,
            str(out) if result.written else "(not written: nothing could be derived)",
            str(plot) if result.plotted else f"({PLOT_HINT})",
        )
    )
    return 0 if result.written else 1
