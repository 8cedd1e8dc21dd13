"""The person detector: SSD anchors, box decoding, weighted non-maximum suppression.

Constants are those of MediaPipe's pose detection graph for `pose_detection.tflite`. The
detector box is the face; what matters are its first two keypoints, the hip centre and a
point whose distance and direction give the full-body circle (see roi.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gymcorner.vision.blazepose.roi import Roi
from gymcorner.vision.blazepose.runtime import Network

INPUT_SIZE = 224
NUM_ANCHORS = 2254
NUM_KEYPOINTS = 4
ANCHOR_STRIDES = (8, 16, 32, 32, 32)
ANCHOR_MIN_SCALE = 0.1484375
ANCHOR_MAX_SCALE = 0.75
SCORE_CLIP = 100.0  # raw logits are clipped before the sigmoid, as the graph does
NMS_MIN_IOU = 0.3
# The detector's keypoints: 0 and 1 place the full-body ROI, 2 and 3 an upper-body one (unused).
HIP_CENTRE = 0
FULL_BODY_SCALE_POINT = 1


@dataclass(frozen=True)
class Detection:
    """One person, in normalised coordinates of the original frame (letterbox removed)."""

    score: float
    box: np.ndarray  # (4,) xmin, ymin, xmax, ymax
    keypoints: np.ndarray  # (4, 2) x, y


def ssd_anchor_centres() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1].

    MediaPipe's SSD anchor generator with fixed anchor size: every anchor is 1x1, so only
    centres matter. Consecutive layers with the same stride share one grid; each layer adds
    two anchors per cell (aspect ratio 1 plus the interpolated-scale anchor), so the 7x7 grid
    of the three stride-32 layers carries six anchors per cell.
    """
    centres: list[np.ndarray] = []
    layer = 0
    while layer < len(ANCHOR_STRIDES):
        stride = ANCHOR_STRIDES[layer]
        same = 0
        while layer + same < len(ANCHOR_STRIDES) and ANCHOR_STRIDES[layer + same] == stride:
            same += 1
        cells = int(np.ceil(INPUT_SIZE / stride))
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, 2 * same, axis=0))
        layer += same
    out = np.concatenate(centres).astype(np.float32)
    assert out.shape == (NUM_ANCHORS, 2)
    return out


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (N, 4) xyxy, keypoints (N, 4, 2) and scores (N,) of anchors scoring >= min_score.

    The network regresses x, y, w, h and keypoint offsets in input pixels (scale 224),
    relative to each anchor centre.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = scores >= min_score
    raw = raw_boxes.reshape(-1, 4 + 2 * NUM_KEYPOINTS)[keep] / INPUT_SIZE
    centre = anchors[keep]
    cxy = raw[:, 0:2] + centre
    half = raw[:, 2:4] / 2.0
    boxes = np.concatenate([cxy - half, cxy + half], axis=1)
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + centre[:, None, :]
    return boxes, keypoints, scores[keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, max_detections: int = 1
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Weighted NMS: each kept detection is the score-weighted mean of its overlapping cluster.

    Averaging the cluster (instead of keeping its best member) steadies the keypoints that
    place the ROI. The score stays the best member's.
    """
    order = np.argsort(-scores, kind="stable")
    remaining = order
    out: list[tuple[float, np.ndarray, np.ndarray]] = []
    while remaining.size and len(out) < max_detections:
        top = remaining[0]
        overlap = _iou(boxes[top], boxes[remaining]) > NMS_MIN_IOU
        overlap[0] = True
        cluster = remaining[overlap]
        weights = scores[cluster] / scores[cluster].sum()
        box = (boxes[cluster] * weights[:, None]).sum(axis=0)
        kps = (keypoints[cluster] * weights[:, None, None]).sum(axis=0)
        out.append((float(scores[top]), box, kps))
        remaining = remaining[~overlap]
    return out


def letterbox(width: int, height: int) -> tuple[Roi, float, float]:
    """The whole frame as a centred square ROI (the 224x224 input keeps the aspect ratio),
    and the horizontal and vertical padding, each side, as a fraction of the input."""
    side = float(max(width, height))
    return Roi(width / 2.0, height / 2.0, side, 0.0), (1.0 - width / side) / 2.0, (1.0 - height / side) / 2.0


class PoseDetector:
    """Runs `pose_detection.tflite` on a frame and returns the best person, or None."""

    def __init__(self, path: Path, num_threads: int) -> None:
        self.network = Network(path, num_threads)
        self._boxes = self.network.output_index((1, NUM_ANCHORS, 4 + 2 * NUM_KEYPOINTS), path)
        self._scores = self.network.output_index((1, NUM_ANCHORS, 1), path)
        self._anchors = ssd_anchor_centres()

    def detect(self, image: np.ndarray, min_score: float, max_side_px: int | None = None) -> Detection | None:
        height, width = image.shape[:2]
        square, pad_x, pad_y = letterbox(width, height)
        # One warp of the frame straight to 224x224 (padding black): no full-frame colour conversion.
        crop = square.crop(image, INPUT_SIZE, max_side_px, border=cv2.BORDER_CONSTANT)
        tensor = to_rgb(crop).astype(np.float32) * (2.0 / 255.0) - 1.0
        raw_boxes, raw_scores = self.network.run(tensor[None], (self._boxes, self._scores))
        boxes, keypoints, scores = decode(raw_boxes, raw_scores, self._anchors, min_score)
        found = weighted_nms(boxes, keypoints, scores, max_detections=1)
        if not found:
            return None
        score, box, kps = found[0]
        scale = np.array([1.0 - 2 * pad_x, 1.0 - 2 * pad_y])
        pad = np.array([pad_x, pad_y])
        box = ((box.reshape(2, 2) - pad) / scale).reshape(4)
        return Detection(score, box, (kps - pad) / scale)


def to_rgb(crop: np.ndarray) -> np.ndarray:
    """A small crop (gray, BGR or BGRA) as RGB: conversions happen on crops, never on frames."""
    if crop.ndim == 2:
        return cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
    if crop.shape[2] == 4:
        return cv2.cvtColor(crop, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
