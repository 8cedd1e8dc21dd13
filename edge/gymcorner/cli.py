"""The `gymcorner` command and its subcommands.

Each subcommand is a small function that loads the config, calls one module and prints
its result. Errors the product raises on purpose (`GymcornerError`) are printed as one
line by `__main__` and exit with status 1; `--validate-config` exits 0 or 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable

from gymcorner import __version__
from gymcorner.coach.reps import PHASES
from gymcorner.commands.output import write_json
from gymcorner.config import DEFAULT_CONFIG_PATH, Config, load_config

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
EPILOG = "Configuration: TOML (see configs/default.toml); every key is optional and has a working default."



def _count(text: str) -> int:
    """An argparse type: a whole number of at least 1 (argparse prints the one-line error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more")
    return value

def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help=f"TOML config file (default: built-in defaults, as in {DEFAULT_CONFIG_PATH.name})",
    )


def _add_report_outputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="OUT", help="write the summary as JSON")
    p.add_argument("--frames", metavar="OUT.csv", help="write one CSV row per frame (view, active faults)")


def _load(args: argparse.Namespace) -> Config:
    if getattr(args, "site", None):  # run --site: field calibration laid over the config
        from gymcorner.calibration.site import load_with_site

        return load_with_site(args.config, args.site)
    return load_config(args.config) if args.config else load_config(None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gymcorner",
        description="Gym-corner coaching device: watches a person exercise, coaches their form, "
        "and drives their avatar over MQTT.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"gymcorner {__version__}")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="override logging.level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="the daemon: camera/video -> pose -> coach -> MQTT",
        description="Run the coaching daemon until Ctrl-C or SIGTERM (or the end of a video file). "
        "Publishes status, avatar and feedback on MQTT under <base_topic>/<device id>/.",
    )
    _add_config(run)
    run.add_argument(
        "--source",
        "-s",
        metavar="S",
        help="camera index, /dev/videoN, video file, rtsp/http URL, picamera2:N or 'gst:<pipeline> ! appsink'",
    )
    run.add_argument("--validate-config", action="store_true", help="check the config, print the verdict, exit 0/1")
    run.add_argument("--loop", action="store_true", help="restart a video file at its end (demo, soak)")
    run.add_argument("--realtime", action="store_true", help="pace a video file at its own frame rate")
    run.add_argument("--site", metavar="FILE", help="site calibration from `gymcorner calibrate` (skipped if absent)")
    run.set_defaults(func=cmd_run)

    analyze = sub.add_parser(
        "analyze",
        help="offline report of one clip",
        description="Run the whole pipeline over one video and report the view, the feedback events "
        "and the processing speed.",
    )
    analyze.add_argument("video", help="video file")
    _add_config(analyze)
    _add_report_outputs(analyze)
    analyze.add_argument("--annotate", metavar="OUT.mp4", help="write the clip with skeleton, view and messages")
    analyze.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    analyze.set_defaults(func=cmd_analyze)

    record = sub.add_parser(
        "record",
        help="save a clip's pose landmarks to .npz",
        description="Run only the pose model over a video and save its landmarks (replayable without a model).",
    )
    record.add_argument("video", help="video file")
    record.add_argument("--out", "-o", required=True, metavar="F.npz", help="output recording")
    _add_config(record)
    record.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    record.set_defaults(func=cmd_record)

    replay = sub.add_parser(
        "replay",
        help="run the pipeline over a recording (no model needed)",
        description="Replay recorded landmarks through smoothing, coach and avatar; same output as analyze.",
    )
    replay.add_argument("recording", help=".npz written by `gymcorner record`")
    _add_config(replay)
    _add_report_outputs(replay)
    replay.set_defaults(func=cmd_replay)

    reference = sub.add_parser(
        "reference",
        help="a trainer's gold reference rep, compared with each rep",
        description="Record a trainer's reference rep; set coach.reference_file to compare every rep with it.",
    )
    ref_sub = reference.add_subparsers(dest="reference_command", metavar="ACTION", required=True)
    ref_record = ref_sub.add_parser("record", help="take one rep of a clip as the reference")
    ref_record.add_argument("video", help="video of the trainer doing the exercise")
    ref_record.add_argument("--exercise", required=True, choices=sorted(PHASES), help="the exercise in the clip")
    ref_record.add_argument("--out", "-o", default="reference.json", help="output JSON (default: %(default)s)")
    ref_record.add_argument("--rep", type=int, default=1, help="which complete rep to take (default: %(default)s)")
    _add_config(ref_record)
    ref_record.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    ref_record.set_defaults(func=cmd_reference_record)

    evaluate = sub.add_parser(
        "eval",
        help="accuracy over a manifest of labelled clips",
        description="Run the pipeline over every clip of a manifest (../shared/data/manifest.csv format): "
        "exercise accuracy and confusion, rep-count MAE / exact / off-by-one (live and offline counters), "
        "fault sensitivity and specificity, processing fps.",
    )
    evaluate.add_argument("manifest", help="CSV with clip, exercise, reps, rep_confidence, visible_faults columns")
    _add_config(evaluate)
    evaluate.add_argument("--json", metavar="OUT", help="write summary and per-clip results as JSON")
    evaluate.add_argument(
        "--landmarks",
        metavar="DIR",
        help="use recorded landmarks (tools/record_fixtures.py) instead of running the model",
    )
    evaluate.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=cmd_eval)

    bench = sub.add_parser(
        "bench",
        help="per-stage speed on one clip",
        description="Time every stage per frame (decode, pose, smooth, coach, encode, publish): p50/p95, fps, "
        "peak RSS and avatar bytes per frame.",
    )
    bench.add_argument("video", help="video file")
    _add_config(bench)
    bench.add_argument("--backend", metavar="NAME", help="pose backend (default: pose.backend from config)")
    bench.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    bench.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    bench.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    bench.add_argument(
        "--compare",
        action="store_true",
        help="also run the mediapipe backend and the plain mediapipe loop (when mediapipe is installed) and "
        "the landmark network alone, each in its own process: fps, stages, peak RSS, venv size",
    )
    bench.add_argument(
        "--rounds",
        type=_count,
        default=1,
        metavar="N",
        help="with --compare: run the variants N times, interleaved, and report medians and the ratio of each "
        "round's own runs (a steadier figure on a machine whose speed drifts; default: %(default)s)",
    )
    bench.set_defaults(func=cmd_bench)

    from gymcorner.commands import emotion_eval
    from gymcorner.vision import models  # light: no OpenCV/LiteRT until run

    models.add_parser(sub)
    sub.choices["models"].set_defaults(func=cmd_models)
    emotion_eval.add_parser(sub)
    sub.choices["eval-emotion"].set_defaults(func=cmd_eval_emotion)

    from gymcorner.commands import (  # parsers only; the work is imported when run
        calibrate,
        doctor,
        eval_counting,  # numpy only
    )

    eval_counting.add_parser(sub).set_defaults(func=eval_counting.cmd_eval_counting)
    from gymcorner.commands import plan  # pure rules + pydantic

    plan.add_parser(sub).set_defaults(func=plan.cmd_plan)

    calibrate.add_parser(sub).set_defaults(func=calibrate.cmd_calibrate)
    doctor.add_parser(sub).set_defaults(func=doctor.cmd_doctor)

    from gymcorner.transport import webviewer  # stdlib only; serves the page in the package

    webviewer.add_parser(sub)
    from gymcorner.dashboard import cli as dashboard_cli  # starlette and uvicorn load only when it runs

    dashboard_cli.add_parser(sub)
    from gymcorner.history import cli as history_cli  # stdlib only until a command runs

    history_cli.add_parsers(sub)
    _accept_log_level_after_any_subcommand(sub)
    return parser


def cmd_run(args: argparse.Namespace, stop: threading.Event) -> int:
    # Logging first: loading the config already has things to say (e.g. no site calibration
    # yet); the config's own level applies once it is read, unless --log-level was given.
    _setup_logging(args.log_level or "INFO")
    if args.validate_config:
        from gymcorner.errors import ConfigError

        try:
            config = _load(args)
        except ConfigError as err:
            print(f"config invalid: {err}", file=sys.stderr)
            return 1
        print(f"config ok: {args.config or '(defaults)'} (device {config.device.id})")
        return 0
    config = _load(args)
    if args.source:
        config.source.uri = args.source
    if args.loop:
        config.source.loop = True
    if args.realtime:
        config.source.realtime = True
    logging.getLogger().setLevel(args.log_level or config.logging.level)
    from gymcorner.app import App

    return App(config, stop).run()


def cmd_analyze(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands.offline import analyze_clip, format_summary

    summary = analyze_clip(_load(args), args.video, args.json, args.frames, args.annotate, args.quiet)
    print(format_summary(summary))
    return 0


def cmd_record(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands.offline import record_clip

    rec = record_clip(_load(args), args.video, args.out, args.quiet)
    print(f"recorded {len(rec)} frames ({int(rec.present.sum())} with a person) to {args.out}")
    return 0


def cmd_replay(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands.offline import format_summary, replay_recording

    print(format_summary(replay_recording(_load(args), args.recording, args.json, args.frames)))
    return 0


def cmd_reference_record(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands.offline import record_reference

    info = record_reference(_load(args), args.video, args.exercise, args.out, args.rep, args.quiet)
    print(
        f"reference: rep {info['rep']} of {info['reps_found']} complete {args.exercise} reps, "
        f"tolerance {info['tolerance']} torso lengths -> {info['out']}\n"
        f'use it with [coach] reference_file = "{info["out"]}"'
    )
    return 0


def cmd_eval(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands.evaluate import format_eval, run_eval

    result = run_eval(args.manifest, _load(args), args.landmarks, args.quiet)
    write_json(args.json, result)
    print(format_eval(result))
    return 0


def cmd_bench(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands.bench import format_bench, run_bench
    from gymcorner.commands.bench_compare import format_compare, run_compare

    config = _load(args)
    if args.backend:
        config.pose.backend = args.backend
    if args.compare:
        log = (lambda _m: None) if args.quiet else print
        result = run_compare(config, args.video, args.max_frames, log=log, rounds=args.rounds)
    else:
        result = run_bench(config, args.video, args.max_frames, args.quiet)
    write_json(args.json, result)
    print(format_compare(result) if args.compare else format_bench(result))
    return 0


def cmd_models(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.vision import models

    return models.run(args)


def cmd_eval_emotion(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.commands import emotion_eval

    return emotion_eval.run(args)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _accept_log_level_after_any_subcommand(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`gymcorner run --log-level DEBUG` as well as `gymcorner --log-level DEBUG run`.

    SUPPRESS as the default keeps a value given before the subcommand when none follows it."""
    for subparser in set(sub.choices.values()):
        if "--log-level" not in subparser._option_string_actions:
            subparser.add_argument(
                "--log-level",
                choices=LOG_LEVELS,
                default=argparse.SUPPRESS,
                help="override logging.level (also accepted before the subcommand)",
            )


def main(argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, threading.Event], int] = args.func
    if args.command != "run":
        _setup_logging(args.log_level or "WARNING")
    return func(args, stop or threading.Event())
