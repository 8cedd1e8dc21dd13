"""`gymcorner eval-emotion DIR`: accuracy of the recogniser over labelled face images.

DIR holds one sub-folder per FER class (angry, disgust, fear, happy, neutral, sad,
surprise). Each image goes through the live path (face found, aligned, classified); an
image where no face is found is taken as a tight face crop and classified whole, so the
accuracy is always over every image (`n_no_face` says how many). `--cropped` classifies
every image whole (sets of face crops such as FER2013's 48x48). When DIR has a
`labels.csv` with a `usage` column (FER2013: PublicTest / PrivateTest), the accuracy of
each half is reported too, so a setting chosen on one half can be reported on the other.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gymcorner.commands.output import write_json
from gymcorner.errors import GymcornerError

if TYPE_CHECKING:
    from gymcorner.vision.emotion import EmotionRecogniser

# FER2013's order, as the model emits it (same tuple as vision.emotion.CLASSES, kept here so
# that building the CLI parser does not import OpenCV).
CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp"}


def list_images(root: Path) -> list[tuple[Path, str]]:
    """(image, class) pairs of DIR/<class>/*, classes named as in FER."""
    items = [
        (p, cls)
        for cls in CLASSES
        if (root / cls).is_dir()
        for p in sorted((root / cls).iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not items:
        raise GymcornerError(f"{root}: no images in sub-folders named {', '.join(sorted(CLASSES))}")
    return items


def _usage_of(root: Path) -> dict[str, str]:
    path = root / "labels.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["path"]: row["usage"] for row in csv.DictReader(fh) if row.get("usage")}


def metrics(y_true: list[int], y_pred: list[int]) -> dict[str, Any]:
    """Accuracy, macro F1, per-class precision/recall/F1/support, confusion (rows: truth)."""
    k = len(CLASSES)
    cm = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=False):
        cm[t, p] += 1
    per_class: dict[str, dict[str, float]] = {}
    for i, cls in enumerate(CLASSES):
        tp, predicted, support = cm[i, i], cm[:, i].sum(), cm[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[cls] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support),
        }
    present = [c for c in CLASSES if per_class[c]["support"]]
    return {
        "accuracy": float(np.trace(cm) / max(cm.sum(), 1)),
        "macro_f1": float(np.mean([per_class[c]["f1"] for c in present])) if present else 0.0,
        "per_class": per_class,
        "confusion": {"classes": list(CLASSES), "rows_truth": cm.tolist()},
    }


def evaluate(root: Path, recogniser: EmotionRecogniser, cropped: bool = False) -> dict[str, Any]:
    import cv2

    root = Path(root)
    items = list_images(root)
    usage = _usage_of(root)
    y_true: list[int] = []
    y_pred: list[int] = []
    halves: dict[str, tuple[list[int], list[int]]] = {}
    n_no_face = 0
    busy_s = 0.0
    for path, cls in items:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise GymcornerError(f"{path}: not a readable image")
        t0 = time.perf_counter()
        result = recogniser.recognise_crop(image) if cropped else recogniser.recognise(image, fallback_whole=True)
        busy_s += time.perf_counter() - t0
        assert result is not None
        n_no_face += 0 if cropped or result.face_found else 1
        truth, pred = CLASSES.index(cls), CLASSES.index(result.label)
        y_true.append(truth)
        y_pred.append(pred)
        half = usage.get(path.relative_to(root).as_posix())
        if half:
            halves.setdefault(half, ([], []))
            halves[half][0].append(truth)
            halves[half][1].append(pred)
    report = metrics(y_true, y_pred)
    report.update(
        dir=str(root),
        mode="cropped" if cropped else "detect",
        n_images=len(items),
        n_no_face=n_no_face,
        ms_per_image=round(1000 * busy_s / len(items), 3),
        flip_average=recogniser.classifier.flip_average,
        by_usage={h: metrics(t, p)["accuracy"] for h, (t, p) in sorted(halves.items())},
    )
    return report


def format_report(r: dict[str, Any]) -> str:
    lines = [
        f"{r['dir']}: {r['n_images']} images ({r['mode']}), no face found in {r['n_no_face']}, "
        f"{r['ms_per_image']} ms per image",
        f"accuracy {r['accuracy']:.4f}   macro F1 {r['macro_f1']:.4f}"
        + "".join(f"   {h} {a:.4f}" for h, a in r["by_usage"].items()),
        f"{'class':<10}{'prec':>7}{'recall':>8}{'F1':>7}{'n':>6}",
    ]
    for cls, m in r["per_class"].items():
        lines.append(f"{cls:<10}{m['precision']:>7.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}{m['support']:>6d}")
    lines.append("confusion (rows truth, columns predicted): " + " ".join(c[:3] for c in CLASSES))
    for cls, row in zip(CLASSES, r["confusion"]["rows_truth"], strict=False):
        lines.append(f"  {cls:<9}" + "".join(f"{v:>6d}" for v in row))
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "eval-emotion",
        help="accuracy of the emotion recogniser over labelled face images",
        description="Run the emotion recogniser over DIR/<class>/* (FER class names) and print accuracy, "
        "per-class precision/recall/F1 and the confusion matrix.",
    )
    p.add_argument("dir", help="folder with one sub-folder per class")
    p.add_argument("--config", "-c", metavar="FILE", help="TOML config (motivation.* settings)")
    p.add_argument("--json", metavar="OUT", help="write the report as JSON")
    p.add_argument("--cropped", action="store_true", help="classify every image whole (face-crop sets)")
    p.add_argument("--no-flip", action="store_true", help="one pass, no mirror-image averaging")


def run(args: argparse.Namespace) -> int:
    from gymcorner.config import load_config
    from gymcorner.vision.emotion import EmotionRecogniser
    from gymcorner.vision.models import default_models_dir

    config = load_config(args.config)
    emo = config.motivation.emotion
    recogniser = EmotionRecogniser(
        default_models_dir(config.models.dir),
        emo.min_face_score,
        emo.crop_scale,
        emo.flip_average and not args.no_flip,
        emo.crop_offset_y,
    )
    report = evaluate(Path(args.dir), recogniser, cropped=args.cropped)
    write_json(args.json, report)
    print(format_report(report))
    return 0
