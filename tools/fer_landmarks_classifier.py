"""The seed's approach on FER2013: face landmarks -> a linear classifier, fitted on one half
of the test split and reported on the other (never fitted and reported on the same images).

Landmarks come from MediaPipe's Face Mesh model (`face_landmark.tflite`, provisioned by
`gymcorner models fetch`) run with LiteRT on each 48x48 face (the whole image is the face
crop). Features: the 468 points, centred, levelled on the eyes and scaled by the distance
between the eyes. Classifier: multinomial logistic regression with an L2 penalty (scipy
L-BFGS), the penalty chosen by a 5-fold split of the fitting half only.

    .venv/bin/python tools/fer_landmarks_classifier.py ../shared/data/fer2013_test --json out.json
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import minimize

from gymcorner.commands.emotion_eval import CLASSES, metrics
from gymcorner.vision.face import open_interpreter
from gymcorner.vision.models import default_models_dir, model_path

RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # Face Mesh indices


def landmarks(root: Path, rows: list[dict[str, str]], model: Path) -> np.ndarray:
    it = open_interpreter(model)
    inp = it.get_input_details()[0]["index"]
    out = next(o["index"] for o in it.get_output_details() if o["shape"][-1] == 1404)
    pts = np.zeros((len(rows), 468, 3), np.float32)
    for i, row in enumerate(rows):
        gray = cv2.imread(str(root / row["path"]), cv2.IMREAD_GRAYSCALE)
        rgb = cv2.cvtColor(cv2.resize(gray, (192, 192), interpolation=cv2.INTER_LINEAR), cv2.COLOR_GRAY2RGB)
        it.set_tensor(inp, (rgb.astype(np.float32) / 255.0)[None])
        it.invoke()
        pts[i] = it.get_tensor(out).reshape(468, 3)
    return pts


def features(pts: np.ndarray) -> np.ndarray:
    """Centred, eye-levelled, scaled by the eye distance: pose and size out, shape in."""
    xy = pts[:, :, :2] - pts[:, :, :2].mean(axis=1, keepdims=True)
    eye = pts[:, LEFT_EYE_OUTER, :2] - pts[:, RIGHT_EYE_OUTER, :2]
    dist = np.linalg.norm(eye, axis=1)[:, None, None] + 1e-6
    ang = np.arctan2(eye[:, 1], eye[:, 0])
    c, s = np.cos(-ang)[:, None], np.sin(-ang)[:, None]
    rot = np.stack([c * xy[:, :, 0] - s * xy[:, :, 1], s * xy[:, :, 0] + c * xy[:, :, 1]], axis=2)
    z = pts[:, :, 2:] - pts[:, :, 2:].mean(axis=1, keepdims=True)
    return np.concatenate([rot / dist, z / dist], axis=2).reshape(len(pts), -1)


def fit_softmax(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    k, d = len(CLASSES), x.shape[1] + 1
    xb = np.hstack([x, np.ones((len(x), 1))])
    onehot = np.eye(k)[y]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        w = w.reshape(d, k)
        z = xb @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        nll = -np.log(p[np.arange(len(y)), y] + 1e-12).mean() + 0.5 * l2 * (w[:-1] ** 2).sum()
        grad = xb.T @ (p - onehot) / len(y)
        grad[:-1] += l2 * w[:-1]
        return float(nll), grad.ravel()

    return minimize(loss, np.zeros(d * k), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x.reshape(d, k)


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.argmax(np.hstack([x, np.ones((len(x), 1))]) @ w, axis=1)


def choose_l2(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    folds = np.random.default_rng(seed).permutation(len(y)) % 5
    best = (-1.0, 1e-3)
    for l2 in (1e-4, 1e-3, 1e-2, 1e-1):
        acc = np.mean(
            [
                (predict(fit_softmax(x[folds != f], y[folds != f], l2), x[folds == f]) == y[folds == f]).mean()
                for f in range(5)
            ]
        )
        best = max(best, (float(acc), l2))
    return best[1]


def main() -> int:
    parser = argparse.ArgumentParser(description="Face landmarks -> linear classifier on FER2013 (held-out halves).")
    parser.add_argument("dir", type=Path, help="fer2013_test folder with labels.csv (usage column)")
    parser.add_argument("--json", type=Path, help="write both directions' reports")
    args = parser.parse_args()
    with (args.dir / "labels.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    y = np.array([CLASSES.index(r["label"]) for r in rows])
    usage = np.array([r["usage"] for r in rows])
    x = features(landmarks(args.dir, rows, model_path(default_models_dir(None), "face_landmark.tflite")))
    report = {}
    for fit_on, report_on in (("PublicTest", "PrivateTest"), ("PrivateTest", "PublicTest")):
        tr, te = usage == fit_on, usage == report_on
        mean, std = x[tr].mean(axis=0), x[tr].std(axis=0) + 1e-6  # statistics of the fitting half only
        xtr, xte = (x[tr] - mean) / std, (x[te] - mean) / std
        l2 = choose_l2(xtr, y[tr])
        w = fit_softmax(xtr, y[tr], l2)
        m = metrics(y[te].tolist(), predict(w, xte).tolist())
        m.update(fit_on=fit_on, report_on=report_on, l2=l2, n_fit=int(tr.sum()), n_report=int(te.sum()))
        report[f"{fit_on}->{report_on}"] = m
        print(
            f"fit {fit_on} -> report {report_on}: accuracy {m['accuracy']:.4f} macro F1 {m['macro_f1']:.4f} "
            f"(l2 {l2}) per-class F1 " + " ".join(f"{c} {v['f1']:.3f}" for c, v in m["per_class"].items())
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
