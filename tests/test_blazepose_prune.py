"""The landmark network without its segmentation head computes the same landmarks, bit for bit.

Real model files (`gymcorner models fetch`) and a real crop of a labelled clip: the pruned
model runs next to the whole one on the same input tensor.
"""

from __future__ import annotations

import cv2
import numpy as np
from shared_data import clip_path
from test_litert_pose import require_pose_models

from gymcorner.vision.blazepose import prune
from gymcorner.vision.blazepose.landmarks import INPUT_SIZE, READ_OUTPUTS
from gymcorner.vision.blazepose.runtime import DETECTOR_MODEL, LANDMARK_MODEL
from gymcorner.vision.face import open_interpreter

MASK = (1, INPUT_SIZE, INPUT_SIZE, 1)


def shapes(interpreter: object) -> list[tuple[int, ...]]:
    return sorted(tuple(int(d) for d in o["shape"]) for o in interpreter.get_output_details())  # type: ignore[attr-defined]


def real_frame() -> np.ndarray:
    """Frame 30 of a labelled squat clip: a person in full view."""
    capture = cv2.VideoCapture(str(clip_path("kaiakol_exercises/squat/correct/squat_correct_003.mp4")))
    for _ in range(30):
        ok, frame = capture.read()
        assert ok
    capture.release()
    return frame


def crop_tensor() -> np.ndarray:
    """The middle of a real frame, as the landmark network's input."""
    frame = real_frame()
    h, w = frame.shape[:2]
    side = min(h, w)
    square = frame[(h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2]
    rgb = cv2.cvtColor(cv2.resize(square, (INPUT_SIZE, INPUT_SIZE)), cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) / 255.0)[None]


def outputs(interpreter: object, tensor: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    it = interpreter
    it.set_tensor(it.get_input_details()[0]["index"], tensor)  # type: ignore[attr-defined]
    it.invoke()  # type: ignore[attr-defined]
    return {tuple(int(d) for d in o["shape"]): it.get_tensor(o["index"]).copy() for o in it.get_output_details()}  # type: ignore[attr-defined]


def test_the_pruned_landmark_model_drops_only_the_mask_and_computes_the_rest_bit_for_bit() -> None:
    path = require_pose_models() / LANDMARK_MODEL
    whole = open_interpreter(path, 2)
    assert MASK in shapes(whole)
    pruned_bytes = prune.keep_outputs(path.read_bytes(), READ_OUTPUTS)
    assert pruned_bytes is not None
    pruned = open_interpreter(path, 2, pruned_bytes)
    assert shapes(pruned) == sorted(READ_OUTPUTS)
    assert len(pruned.get_tensor_details()) < len(whole.get_tensor_details())
    tensor = crop_tensor()
    expected, got = outputs(whole, tensor), outputs(pruned, tensor)
    assert float(got[(1, 1)].reshape(-1)[0]) > 0.5  # a person: the comparison is of real landmarks
    for shape in READ_OUTPUTS:
        np.testing.assert_array_equal(got[shape], expected[shape])


def test_nothing_to_drop_a_missing_output_or_a_file_that_is_no_model_leave_the_model_as_it_is() -> None:
    models = require_pose_models()
    detector = open_interpreter(models / DETECTOR_MODEL, 1)
    assert prune.keep_outputs((models / DETECTOR_MODEL).read_bytes(), shapes(detector)) is None
    landmark = (models / LANDMARK_MODEL).read_bytes()
    assert prune.keep_outputs(landmark, [*READ_OUTPUTS[:3], (1, 7)]) is None  # the caller's check names it
    assert prune.keep_outputs(b"not a model at all, just bytes" * 10, READ_OUTPUTS) is None
