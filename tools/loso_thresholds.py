#!/usr/bin/env python3
"""Leave-one-source-out check of one form rule's threshold on a clip manifest.

For every candidate value of a coach threshold, `gymcorner eval`'s per-clip run
(recorded landmarks, recognised exercise, the whole pipeline) says whether the rule
fired on each clip. Then, for each source (the first path component of a clip) held out
in turn, the value is chosen on the *other* sources only (best sensitivity + specificity
on their clips; ties: the middle of the tied values) and the rule is scored on the held-out
source with it. The pooled held-out numbers are what the rule does on sources it was not
tuned on; the value chosen on every source together is printed as a check on the default
(a fold whose training sources hold no positive falls back to the default, and says so).

    tools/loso_thresholds.py push_up/head_drop pushup.head_drop_front_ear_spans 0.3 0.5 0.7 0.9 1.1 \\
        [--manifest ../shared/data/manifest.csv] [--landmarks tests/fixtures/landmarks] [--json OUT]

Positives: clips whose `visible_faults` name the rule's fault; negatives: clips labelled
clean (no visible fault). Clips with a label no rule judges ('unclear', 'other:...') and
other faults' clips are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.commands.evaluate import FAULT_CODES, evaluate_clip, label_state, read_manifest  # noqa: E402
from gymcorner.config import Config  # noqa: E402


def source(clip: str) -> str:
    return clip.split("/", 1)[0]


def with_value(config: Config, param: str, value: float) -> Config:
    """A copy of `config` with coach.<param> (dotted) set to `value`."""
    out = config.model_copy(deep=True)
    *path, name = param.split(".")
    section: Any = out.coach
    for part in path:
        section = getattr(section, part)
    if not hasattr(section, name):
        raise SystemExit(f"coach.{param}: no such setting")
    setattr(section, name, type(getattr(section, name))(value))
    return out


def score(clips: list[dict[str, Any]], value: float) -> tuple[int, int, int, int]:
    """(caught, positives, false positives, clean) at one value."""
    pos = [c for c in clips if c["role"] == "positive"]
    neg = [c for c in clips if c["role"] == "clean"]
    return (
        sum(c["fired"][value] for c in pos),
        len(pos),
        sum(c["fired"][value] for c in neg),
        len(neg),
    )


def choose(clips: list[dict[str, Any]], values: list[float]) -> float | None:
    """The value with the best sensitivity + specificity on `clips`; None without positives."""
    best: list[float] = []
    best_j = -1.0
    for v in values:
        tp, p, fp, n = score(clips, v)
        if not p:
            return None
        j = tp / p + ((n - fp) / n if n else 1.0)
        if j > best_j + 1e-9:
            best, best_j = [v], j
        elif abs(j - best_j) <= 1e-9:
            best.append(v)
    return best[len(best) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rule", help="exercise/rule name as gymcorner eval reports it, e.g. squat/too_deep")
    parser.add_argument("param", help="coach setting, dotted, e.g. squat.too_deep_hip_below_knee_femur")
    parser.add_argument("values", nargs="+", type=float)
    parser.add_argument("--manifest", default=str(ROOT.parent / "shared" / "data" / "manifest.csv"))
    parser.add_argument("--landmarks", default=str(ROOT / "tests" / "fixtures" / "landmarks"))
    parser.add_argument("--json", help="write the folds as JSON")
    args = parser.parse_args()
    exercise, name = args.rule.split("/", 1)
    labels = {label for label, code in FAULT_CODES.items() if code == name}
    manifest = Path(args.manifest)
    rows = [r for r in read_manifest(manifest) if r["exercise"] == exercise]
    base = Config()
    values = sorted(args.values)
    clips: list[dict[str, Any]] = []
    for row in rows:
        faults = [f for f in row["visible_faults"].split(";") if f]
        role = "positive" if labels & set(faults) else "clean" if label_state(faults) == "clean" else None
        if role is None:
            continue
        fired = {}
        for v in values:
            result = evaluate_clip(row, manifest.parent, Path(args.landmarks), with_value(base, args.param, v))
            fired[v] = name in result.faults_pred
        clips.append({"clip": row["clip"], "source": source(row["clip"]), "role": role, "fired": fired})
    print(f"{args.rule}  coach.{args.param}  values {values}")
    print("| held-out source | chosen on the others | held-out caught | held-out clean with it |")
    print("|---|---|---|---|")
    folds = []
    totals = [0, 0, 0, 0]
    for src in sorted({c["source"] for c in clips}):
        train = [c for c in clips if c["source"] != src]
        test = [c for c in clips if c["source"] == src]
        chosen = choose(train, values)
        default = float(getattr_path(base, args.param))
        used = chosen if chosen is not None else default
        tp, p, fp, n = score(test, used)
        totals = [a + b for a, b in zip(totals, (tp, p, fp, n), strict=True)]
        how = f"{used:g}" if chosen is not None else f"{used:g} (default: no positives there)"
        print(f"| {src} | {how} | {tp}/{p} | {fp}/{n} |")
        folds.append({"held_out": src, "chosen": chosen, "used": used, "caught": tp, "positives": p, "fp": fp,
                      "clean": n})  # fmt: skip
    tp, p, fp, n = totals
    sens = f"{tp / p:.2f}" if p else "n/a"
    spec = f"{(n - fp) / n:.2f}" if n else "n/a"
    print(f"pooled held-out: sensitivity {sens} ({tp}/{p}), specificity {spec} ({n - fp}/{n})")
    whole = choose(clips, values)
    print(f"chosen on every source: {whole if whole is not None else 'n/a (no positives)'}; "
          f"default in config: {getattr_path(base, args.param)}")  # fmt: skip
    for c in clips:
        print(f"  {c['role']:<8} {c['clip']}: fires at {[v for v in values if c['fired'][v]]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rule": args.rule, "param": args.param, "folds": folds,
                                               "clips": [{**c, "fired": {str(k): v for k, v in c["fired"].items()}}
                                                         for c in clips]}, indent=2))  # fmt: skip
    return 0


def getattr_path(config: Config, param: str) -> Any:
    section: Any = config.coach
    for part in param.split("."):
        section = getattr(section, part)
    return section


if __name__ == "__main__":
    raise SystemExit(main())
