"""Class-prior calibration of the FER model, fitted on one FER2013 test half and reported on
the other: a bias per class added to the log-probabilities (flip-averaged, whole-image
crops), fitted by maximum likelihood (scipy L-BFGS).

    .venv/bin/python tools/fer_calibration.py ../shared/data/fer2013_test [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import minimize

from gymcorner.commands.emotion_eval import metrics
from gymcorner.vision.emotion import CLASSES, EmotionClassifier
from gymcorner.vision.face import whole_image_crop
from gymcorner.vision.models import default_models_dir, model_path


def fit_bias(logp: np.ndarray, y: np.ndarray) -> np.ndarray:
    def nll(b: np.ndarray) -> float:
        z = logp + b
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    return minimize(nll, np.zeros(len(CLASSES)), method="L-BFGS-B").x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with (args.dir / "labels.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    clf = EmotionClassifier(model_path(default_models_dir(None), "emotion_model_quantized.tflite"), flip_average=True)
    logp = np.log(
        np.clip(
            np.array(
                [
                    clf.probabilities(whole_image_crop(cv2.imread(str(args.dir / r["path"]), cv2.IMREAD_GRAYSCALE)))
                    for r in rows
                ]
            ),
            1e-7,
            1,
        )
    )
    y = np.array([CLASSES.index(r["label"]) for r in rows])
    usage = np.array([r["usage"] for r in rows])
    report = {}
    for fit_on, report_on in (("PublicTest", "PrivateTest"), ("PrivateTest", "PublicTest")):
        bias = fit_bias(logp[usage == fit_on], y[usage == fit_on])
        te = usage == report_on
        before = metrics(y[te].tolist(), logp[te].argmax(axis=1).tolist())
        after = metrics(y[te].tolist(), (logp[te] + bias).argmax(axis=1).tolist())
        report[f"{fit_on}->{report_on}"] = {
            "bias": dict(zip(CLASSES, bias.round(3).tolist(), strict=False)),
            "before": before,
            "after": after,
        }
        print(
            f"fit {fit_on} -> report {report_on}: accuracy {before['accuracy']:.4f} -> {after['accuracy']:.4f}, "
            f"macro F1 {before['macro_f1']:.4f} -> {after['macro_f1']:.4f}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
