"""The emotion recogniser on real FER2013 test faces (../shared/data/fer2013_test).

A small, fixed sample (the first images of each class in PrivateTest) keeps the test
quick; `gymcorner eval-emotion` measures the whole split. Skipped where the images or the
model files are absent.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_data import SHARED_DATA
from test_emotion_models import require_models

from gymcorner.cli import main
from gymcorner.commands.emotion_eval import CLASSES as EVAL_CLASSES
from gymcorner.commands.emotion_eval import metrics
from gymcorner.vision.emotion import CLASSES, EmotionRecogniser, summarise

FER = SHARED_DATA / "fer2013_test"
PER_CLASS = 12


def fer_sample() -> dict[str, list[Path]]:
    if not (FER / "labels.csv").is_file():
        pytest.skip(f"FER2013 test images not present ({FER}); they ship beside the project in CI")
    by_class: dict[str, list[Path]] = {c: [] for c in CLASSES}
    with (FER / "labels.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["usage"] == "PrivateTest" and len(by_class[row["label"]]) < PER_CLASS:
                by_class[row["label"]].append(FER / row["path"])
    return by_class


@pytest.fixture(scope="module")
def recogniser() -> EmotionRecogniser:
    return EmotionRecogniser(require_models())


def test_class_order_is_the_same_everywhere() -> None:
    assert CLASSES == EVAL_CLASSES and len(set(CLASSES)) == 7


def test_fer_faces_are_recognised_well_above_chance(recogniser: EmotionRecogniser) -> None:
    sample = fer_sample()
    truth, pred = [], []
    for cls, paths in sample.items():
        for path in paths:
            result = recogniser.recognise_crop(cv2.imread(str(path)))
            assert abs(sum(result.probs.values()) - 1.0) < 1e-6 and -1 <= result.valence <= 1
            truth.append(cls)
            pred.append(result.label)
    accuracy = float(np.mean([t == p for t, p in zip(truth, pred, strict=False)]))
    assert accuracy > 0.45  # chance is 1/7; the model measures about 0.66 on the whole split
    happy = [p for t, p in zip(truth, pred, strict=False) if t == "happy"]
    assert happy.count("happy") > len(happy) / 2


def test_faces_are_found_in_most_fer_images_and_no_face_in_a_blank(recogniser: EmotionRecogniser) -> None:
    paths = [p for ps in fer_sample().values() for p in ps]
    found = sum(recogniser.find_face(cv2.imread(str(p))) is not None for p in paths)
    assert found > len(paths) * 0.6
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert recogniser.recognise(blank) is None
    fallback = recogniser.recognise(blank, fallback_whole=True)
    assert fallback is not None and not fallback.face_found


def test_a_face_in_a_larger_frame_is_found_where_it_is(recogniser: EmotionRecogniser) -> None:
    face = cv2.resize(cv2.imread(str(fer_sample()["happy"][0])), (160, 160))
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[200:360, 400:560] = face
    found = recogniser.find_face(frame)
    assert found is not None
    cx, cy, w, _ = found.box_xywh
    assert 400 < cx < 560 and 200 < cy < 360 and 40 < w < 240


def test_eval_emotion_over_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_models()
    for cls, paths in fer_sample().items():
        (tmp_path / "set" / cls).mkdir(parents=True)
        for p in paths[:3]:
            (tmp_path / "set" / cls / p.name).symlink_to(p)
    out = tmp_path / "report.json"
    assert main(["eval-emotion", str(tmp_path / "set"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n_images"] == 21 and 0 <= report["n_no_face"] <= 21
    assert set(report["per_class"]) == set(CLASSES) and 0 <= report["macro_f1"] <= 1
    assert sum(map(sum, report["confusion"]["rows_truth"])) == 21
    assert "accuracy" in capsys.readouterr().out


def test_metrics_by_hand() -> None:
    m = metrics([3, 3, 3, 0], [3, 3, 0, 0])  # happy x3 (one missed as angry), angry x1
    assert m["accuracy"] == 0.75
    assert m["per_class"]["happy"] == {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    assert m["per_class"]["angry"]["precision"] == 0.5 and m["per_class"]["angry"]["recall"] == 1.0
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


def test_summary_valence_follows_the_probabilities() -> None:
    happy = summarise(np.array([0, 0, 0, 1, 0, 0, 0.0]))
    fearful = summarise(np.array([0, 0, 0.9, 0, 0, 0, 0.1]))
    assert happy.label == "happy" and happy.valence > 0.5
    assert fearful.label == "fear" and fearful.valence < -0.5
