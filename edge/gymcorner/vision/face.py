"""Face finding and alignment: BlazeFace (short range) run directly with LiteRT.

The detector is MediaPipe's own face detection model, provisioned by `gymcorner models
fetch`; running it with LiteRT rather than through the MediaPipe graph keeps the edge
runtime lean and lets the checksummed file in the models directory be the one used. The
decoding follows the model's SSD anchor layout (128x128 input, strides 8/16/16/16, 896
anchors, a box and 6 keypoints per anchor).

Alignment rotates the face so the eyes are level, then crops a square around the box:
the emotion model was trained on upright, tightly cropped faces, and a tilted head costs
it accuracy. Crops stay in memory; nothing here writes an image anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gymcorner.errors import ModelError

INPUT_SIZE = 128
_STRIDES = (8, 16, 16, 16)


def open_interpreter(path: Path, num_threads: int = 1, content: bytes | None = None) -> Any:
    """A TFLite interpreter: LiteRT (`ai-edge-litert`) first, `tflite_runtime` as the fallback.

    `content`: the model's bytes (derived from the file at `path`, which names it in errors)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]
        except ImportError as err:
            raise ModelError("no TFLite runtime: pip install ai-edge-litert (or tflite-runtime)") from err
    try:
        if content is None:
            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        else:
            interpreter = Interpreter(model_content=content, num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise ModelError(f"cannot load model {path}: {err}; delete it and run `gymcorner models fetch`") from err
    return interpreter


def _anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1], in the order the model emits them."""
    centres: list[tuple[float, float]] = []
    i = 0
    while i < len(_STRIDES):
        stride = _STRIDES[i]
        same = 0
        while i < len(_STRIDES) and _STRIDES[i] == stride:
            same += 1
            i += 1
        grid = INPUT_SIZE // stride
        per_cell = 2 * same  # one aspect ratio + the interpolated one, per merged layer
        for y in range(grid):
            for x in range(grid):
                centres.extend([((x + 0.5) / grid, (y + 0.5) / grid)] * per_cell)
    return np.asarray(centres, dtype=np.float32)


@dataclass(frozen=True)
class Face:
    """One detected face in image pixels."""

    score: float
    box_xywh: tuple[float, float, float, float]  # centre x, centre y, width, height
    right_eye: tuple[float, float]  # the person's right eye (on the image's left in a selfie view)
    left_eye: tuple[float, float]


class FaceDetector:
    """Finds the most confident face in an image (one person per corner)."""

    def __init__(self, model: Path, min_score: float = 0.5) -> None:
        self._it = open_interpreter(model)
        inp = self._it.get_input_details()[0]
        self._input = inp["index"]
        outs = self._it.get_output_details()
        self._reg = next(o["index"] for o in outs if o["shape"][-1] == 16)
        self._cls = next(o["index"] for o in outs if o["shape"][-1] == 1)
        self._anchors = _anchors()
        self.min_score = min_score

    def detect(self, image: np.ndarray) -> Face | None:
        """`image`: BGR (H, W, 3) or grayscale (H, W) uint8."""
        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        side = max(h, w)
        pad_x, pad_y = (side - w) / 2, (side - h) / 2  # letterbox: the model wants a square
        square = cv2.copyMakeBorder(
            rgb, int(pad_y), side - h - int(pad_y), int(pad_x), side - w - int(pad_x), cv2.BORDER_CONSTANT
        )
        x = cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
        self._it.set_tensor(self._input, (x / 127.5 - 1.0)[None])
        self._it.invoke()
        raw = self._it.get_tensor(self._reg)[0]
        logits = np.clip(self._it.get_tensor(self._cls)[0, :, 0], -100, 100)
        best = int(np.argmax(logits))
        score = float(1.0 / (1.0 + math.exp(-logits[best])))
        if score < self.min_score:
            return None
        r = raw[best] / INPUT_SIZE
        a = self._anchors[best]

        def px(nx: float, ny: float) -> tuple[float, float]:
            return (nx * side - int(pad_x), ny * side - int(pad_y))

        cx, cy = px(r[0] + a[0], r[1] + a[1])
        return Face(
            score=score,
            box_xywh=(cx, cy, float(r[2] * side), float(r[3] * side)),
            right_eye=px(r[4] + a[0], r[5] + a[1]),
            left_eye=px(r[6] + a[0], r[7] + a[1]),
        )

    def close(self) -> None:
        self._it = None


def align_face(
    image: np.ndarray, face: Face, size: int = 64, crop_scale: float = 1.15, offset_y: float = -0.05
) -> np.ndarray:
    """Grayscale (size, size) crop, eyes level, the face box scaled by `crop_scale` filling it.

    The defaults were chosen on FER2013's PublicTest half (crop scale 1.0-1.6 and shifts of
    ±0.05 box heights tried) to frame a detected face the way FER2013's crops are framed."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    (rx, ry), (lx, ly) = face.right_eye, face.left_eye
    angle_deg = math.degrees(math.atan2(ly - ry, lx - rx))
    cx, cy, bw, bh = face.box_xywh
    # shift along the face's own vertical axis (after levelling the eyes)
    theta = math.radians(angle_deg)
    cx, cy = cx - math.sin(theta) * offset_y * bh, cy + math.cos(theta) * offset_y * bh
    side = max(bw, bh) * crop_scale
    m = cv2.getRotationMatrix2D((cx, cy), angle_deg, size / max(side, 1.0))
    m[0, 2] += size / 2 - cx
    m[1, 2] += size / 2 - cy
    return cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def whole_image_crop(image: np.ndarray, size: int = 64) -> np.ndarray:
    """An image taken as a tight face crop already (FER2013's 48x48 faces)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)
