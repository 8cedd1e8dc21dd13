#!/usr/bin/env python3
"""The lunge's per-rep rules (depth, step width, front knee) on real lunges, clean and with
the fault moved in by a known amount (tools/lunge_moves.py).

Reps, each fed through the coach's `LungeAnalyser` from a fresh start, ending on its last
frame (where the rules judge it):

* `ec_stage`: Exercise-Correction `lunge_stage.test.csv` (side view; frame assumed
  1280x720, tools/form_csv.py). A lunge is a run of rows between two `I` (init: standing)
  blocks that holds a `D` (down) block: the labels find each lunge and its bottom. Runs
  tagged `M` (mid: "before go down") only are listed apart, not scored. First half of the
  rows to choose, second to report (whole lunges).
* `ec_err`: Exercise-Correction `lunge_err.test.csv` blocks (C and L: knee over toe, at
  depth); each block one rep; first half / second half as tools/eval_form_csv.py splits it.
* `countix_train`: Countix training salient poses of lunges (one frame per rep end,
  pixels, 33 videos): of each video's two salient sets the one with the lower hip is taken
  as the bottoms; each frame one rep; the view from the image widths (as the view tracker's
  image half: frontal within 35° of square-on, lateral from 42°), and that estimate stands
  in for the world yaw the widths' 10° gate reads. Chosen on.
* `countix_test`: the Countix test arrays of lunges (20 videos, min-max normalised per frame
  and axis: heights over heights and widths over widths are kept, nothing else), reps as the
  box's label-free counter finds them (fps assumed 30). A video counts as front-on when its
  median shoulder span is at least 0.45 of the body's width (nothing finer is left in the
  arrays); its frames are then taken as square-on. Reported on.

No rep in these data is labelled with any of these faults: the clean rates below are how
often a rule fires on real lunges whose form nobody checked for it (Exercise-Correction:
one person recording their own lunges; Countix: workout videos), i.e. an upper bound on the
false-alarm rate. For each rule and data set, `chosen` is the grid value nearest the clean
reps that flags none of the choose part (none: no grid value does).

    tools/lunge_bottoms.py [--data ../shared/data] [--rule NAME ...] [--values]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))
sys.path.insert(0, str(ROOT / "tools"))

from form_csv import read_blocks, split_blocks  # noqa: E402
from lunge_moves import feet_apart, feet_in_line, hips_up, knee_in  # noqa: E402

from gymcorner.coach.analysers import LungeAnalyser  # noqa: E402
from gymcorner.coach.any_reps import AnyRepCounter  # noqa: E402
from gymcorner.coach.lunge import LUNGE_RULES, LungeMetrics  # noqa: E402
from gymcorner.coach.lunge_bottom import bottom_measures  # noqa: E402
from gymcorner.commands.eval_counting import BENCHMARK_CONFIG, load_poses, pose_samples  # noqa: E402
from gymcorner.config import CoachConfig  # noqa: E402
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample  # noqa: E402
from gymcorner.motion.landmarks import Landmark as L  # noqa: E402
from gymcorner.motion.view import View, ViewState, apparent_off_square_deg  # noqa: E402

UNKNOWN = ViewState(View.UNKNOWN, "unknown", math.nan)
SQUARE_ON = ViewState(View.FRONTAL, "camera", 0.0)  # Countix test arrays: assumed, not measured
FRONT_SHARE = 0.45  # Countix test: median shoulder span / body width for a front-on video


@dataclass(frozen=True)
class Rep:
    source: str
    part: str  # "choose" or "report"
    name: str
    view: str  # "side", "front", "three-quarter"
    samples: list[PoseSample]
    views: list[ViewState]


@dataclass(frozen=True)
class Case:
    rule: str
    value: Callable[[LungeMetrics], float | None]  # the rule's measure at the rep's bottom
    param: str  # LungeConfig field
    grid: tuple[float, ...]
    above: bool  # True: values above the threshold are the fault
    move: Callable[[PoseSample, float, bool], PoseSample]
    amounts: tuple[float, ...]
    unit: str


CASES = (
    Case("shallow_depth", lambda m: m.rep_hip_above_knee_shins, "depth_max_hip_above_knee_shins",
         (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8), True, hips_up, (0.1, 0.2, 0.3, 0.4, 0.6, 0.8), "front-shin heights"),
    Case("narrow_step", lambda m: m.rep_step_width_shoulders, "narrow_step_shoulders",
         (0.4, 0.3, 0.2, 0.1), False, lambda s, a, _side: feet_in_line(s, a), (0.2, 0.4, 0.6, 0.8, 1.0),
         "shoulder spans"),
    Case("wide_step", lambda m: m.rep_step_width_shoulders, "wide_step_shoulders",
         (1.0, 1.25, 1.5, 1.75, 2.0, 2.5), True, lambda s, a, _side: feet_apart(s, a), (0.2, 0.4, 0.6, 0.8, 1.0),
         "shoulder spans"),
    Case("knee_valgus", lambda m: m.rep_knee_inside_line_shoulders, "knee_valgus_shoulders",
         (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), True, lambda s, a, _side: knee_in(s, a), (0.1, 0.2, 0.3, 0.4, 0.5),
         "shoulder spans"),
)  # fmt: skip


def stage_lunges(path: Path) -> tuple[list[Rep], list[str]]:
    blocks = read_blocks(path, 1280, 720)
    choose, _ = split_blocks(blocks)
    first_report_row = blocks[len(choose)].first_row if len(choose) < len(blocks) else math.inf
    reps, mid_only = [], []
    run: list = []
    for b in [*blocks, None]:
        if b is not None and b.label != "I":
            run.append(b)
            continue
        if run:
            rows = f"rows {run[0].first_row}-{run[-1].first_row + len(run[-1].samples) - 1}"
            samples = [s for blk in run for s in blk.samples]
            samples = [PoseSample(i / 30, s.width, s.height, s.image, None) for i, s in enumerate(samples)]
            if any(blk.label == "D" for blk in run):
                part = "choose" if run[0].first_row < first_report_row else "report"
                reps.append(Rep("ec_stage", part, rows, "side", samples, [UNKNOWN] * len(samples)))
            else:
                mid_only.append(rows)
        run = []
    return reps, mid_only


def err_blocks(path: Path) -> list[Rep]:
    choose, report = split_blocks(read_blocks(path, 1280, 720))
    return [Rep("ec_err", part, f"{b.label} rows {b.first_row}-{b.first_row + len(b.samples) - 1}", "side",
                b.samples, [UNKNOWN] * len(b.samples))
            for part, blocks in (("choose", choose), ("report", report)) for b in blocks]  # fmt: skip


def _image_view(s: PoseSample, config: CoachConfig) -> tuple[str, ViewState]:
    off = apparent_off_square_deg(s, config.view.square_on_width_ratio)  # no world landmarks: the image's guess
    if off <= config.view.frontal_max_yaw_deg:
        return "front", ViewState(View.FRONTAL, "camera", off)
    if off >= config.view.lateral_min_yaw_deg:
        return "side", ViewState(View.LATERAL, "unknown", off)
    return "three-quarter", ViewState(View.UNKNOWN, "unknown", off)


def salient_bottoms(path: Path, config: CoachConfig) -> list[Rep]:
    frames: dict[tuple[str, str], list[np.ndarray]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if row[1] != "lunge":
                continue
            _, _, salient, video = row[0].split("/")[:4]
            frames.setdefault((video, salient), []).append(np.array(row[2:], dtype=np.float64).reshape(-1, 3))
    ones = np.ones(NUM_LANDMARKS)

    def depth(p: np.ndarray) -> float:
        d = bottom_measures(p[:, :2], ones, 0.5).hip_above_knee_shins
        return d if d is not None else math.inf

    reps = []
    for video in sorted({v for v, _ in frames}, key=lambda v: int("".join(c for c in v if c.isdigit()))):
        sets = [frames.get((video, f"salient{i}"), []) for i in (1, 2)]
        bottoms = min(sets, key=lambda fs: float(np.median([depth(p) for p in fs])) if fs else math.inf)
        for i, p in enumerate(bottoms):
            image = np.column_stack((p, ones)).astype(np.float32)
            s = PoseSample(0.0, 1, 1, image, None)
            view, state = _image_view(s, config)
            reps.append(Rep("countix_train", "choose", f"{video} #{i + 1}", view, [s], [state]))
    return reps


def countix_test_reps(folder: Path, fps: float = 30.0) -> list[Rep]:
    reps = []
    for path in sorted(folder.glob("lunge*.npy"), key=lambda p: int(p.stem[5:])):
        samples = list(pose_samples(load_poses(path), fps))
        present = [s for s in samples if s.image is not None]
        share = float(np.median([abs(float(s.image[L.LEFT_SHOULDER, 0] - s.image[L.RIGHT_SHOULDER, 0]))
                                 for s in present if s.image is not None]))  # fmt: skip
        view = "front" if share >= FRONT_SHARE else "three-quarter" if share >= 0.15 else "side"
        state = SQUARE_ON if view == "front" else UNKNOWN
        counter = AnyRepCounter(BENCHMARK_CONFIG)
        for n, counted in enumerate((c for s in samples for c in counter.update(s)), start=1):
            window = [s for s in samples if counted.start_t <= s.t_s <= counted.end_t and s.image is not None]
            if window:
                reps.append(Rep("countix_test", "report", f"{path.stem} #{n}", view, window, [state] * len(window)))
    return reps


def judge(rep: Rep, config: CoachConfig, move: Callable[[PoseSample], PoseSample] | None = None
          ) -> tuple[LungeMetrics | None, set[str]]:  # fmt: skip
    """The rep's end-frame metrics and the rules it raised there."""
    analyser = LungeAnalyser(config)
    metrics, fired = None, set()
    last = len(rep.samples) - 1
    for i, (s, view) in enumerate(zip(rep.samples, rep.views, strict=True)):
        analysis = analyser.update(move(s) if move else s, view, i < last, i == last)
        if i == last:
            metrics = analysis.metrics  # type: ignore[assignment]
            fired = {e.code for e in analysis.events}
    return metrics, fired  # type: ignore[return-value]


def verdict(rep: Rep, m: LungeMetrics | None, rule: str, config: CoachConfig) -> bool | None:
    (r,) = [r for r in LUNGE_RULES if r.code == rule]
    if m is None or rep.views[-1].view.value not in r.views:
        return None
    return r.check(m, config.lunge)


def with_value(param: str, value: float) -> CoachConfig:
    config = CoachConfig()
    setattr(config.lunge, param, value)
    return config


def _fmt(hits: int, total: int) -> str:
    return f"{hits}/{total}" if total else "-"


def scored(reps: list[Rep], case: Case, config: CoachConfig) -> tuple[int, int]:
    verdicts = [verdict(r, judge(r, config)[0], case.rule, config) for r in reps]
    return sum(v is True for v in verdicts), sum(v is not None for v in verdicts)


def chosen(values: list[float], case: Case) -> float | None:
    """The grid value nearest the clean values that flags none of them."""
    for v in sorted(case.grid, reverse=not case.above):
        if all((x <= v) if case.above else (x >= v) for x in values):
            return v
    return None


def moved_by(case: Case, amount: float, side: bool) -> Callable[[PoseSample], PoseSample]:
    return lambda s: case.move(s, amount, side)


def report(groups: dict[tuple[str, str], list[Rep]], cases: list[Case], show_values: bool) -> None:
    default = CoachConfig()
    print(
        "| rule | data (part) | views judged | clean: fired / judged at the default | values at the bottom "
        "(min, median, max) | chosen on this part |"
    )
    print("|---|---|---|---|---|---|")
    for case in cases:
        for (source, part), reps in groups.items():
            pairs = [(r, judge(r, default)[0]) for r in reps]
            judged = [(r, m) for r, m in pairs if verdict(r, m, case.rule, default) is not None]
            if not judged:
                continue
            values = [float(v) for _, m in judged if m is not None and (v := case.value(m)) is not None]
            fired = sum(verdict(r, m, case.rule, default) is True for r, m in judged)
            views = ", ".join(sorted({r.view for r, _ in judged}))
            pick = chosen(values, case) if part == "choose" else None
            spread = f"{min(values):.2f}, {float(np.median(values)):.2f}, {max(values):.2f}"
            print(f"| {case.rule} | {source} ({part}) | {views} | {_fmt(fired, len(judged))} | {spread} | "
                  f"{'-' if part != 'choose' else pick if pick is not None else 'none'} |")  # fmt: skip
            if show_values:
                listed = [(r.name, case.value(m)) for r, m in judged if m is not None]
                print("  " + "; ".join(f"{name}: {v:.2f}" for name, v in listed if v is not None))
    print()
    print(
        "| rule moved in | data (part) | reps judged | amount (unit): reps raising it at the default "
        "[median value at the bottom] |"
    )
    print("|---|---|---|---|")
    for case in cases:
        for (source, part), reps in groups.items():
            side = source.startswith("ec_")
            base = [r for r in reps if verdict(r, judge(r, default)[0], case.rule, default) is not None]
            if not base:
                continue
            cells = []
            for a in case.amounts:
                moved = [(r, judge(r, default, moved_by(case, a, side))[0]) for r in base]
                hits = sum(verdict(r, m, case.rule, default) is True for r, m in moved)
                values = [v for _, m in moved if m is not None and (v := case.value(m)) is not None]
                median = f" [{float(np.median(values)):.2f}]" if values else ""
                cells.append(f"{a:g}: {hits}/{len(base)}{median}")
            print(f"| {case.rule} | {source} ({part}) | {len(base)} | {', '.join(cells)} ({case.unit}) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--rule", action="append", help="only this rule (repeatable)")
    parser.add_argument("--values", action="store_true", help="list every rep's value")
    args = parser.parse_args()
    data = Path(args.data)
    config = CoachConfig()
    stage, mid_only = stage_lunges(data / "exercise_correction_landmarks" / "lunge_stage.test.csv")
    reps = [*stage, *err_blocks(data / "exercise_correction_landmarks" / "lunge_err.test.csv"),
            *salient_bottoms(data / "countix_fitness" / "annotation_pose" / "train.csv", config),
            *countix_test_reps(data / "countix_fitness" / "test_poses")]  # fmt: skip
    groups: dict[tuple[str, str], list[Rep]] = {}
    for r in reps:
        groups.setdefault((r.source, r.part), []).append(r)
    print("reps: " + ", ".join(f"{s} {p} {len(g)} ({', '.join(sorted({r.view for r in g}))})"
                               for (s, p), g in groups.items()))  # fmt: skip
    print(f"ec_stage runs tagged mid only (not scored): {', '.join(mid_only)}\n")
    cases = [c for c in CASES if not args.rule or c.rule in args.rule]
    report(groups, cases, args.values)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
