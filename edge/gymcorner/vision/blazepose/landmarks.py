"""The landmark network: 39 points in the 256x256 crop, refined by the heatmap, decoded.

The first 33 are the BlazePose landmarks; 33 and 34 are two alignment points (hip centre
and full-body scale point) that place the next frame's ROI; the last four are unused.
Coordinates come out in crop pixels; visibility and presence as logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gymcorner.motion.landmarks import NUM_LANDMARKS
from gymcorner.vision.blazepose.detector import to_rgb
from gymcorner.vision.blazepose.roi import Roi
from gymcorner.vision.blazepose.runtime import Network

INPUT_SIZE = 256
NUM_POINTS = 39  # 33 landmarks, 2 alignment points, 4 unused
ALIGNMENT_POINTS = slice(33, 35)
HEATMAP_SIZE = 64
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class RoiLandmarks:
    """One landmark-network result, already projected to the frame."""

    presence: float
    image: np.ndarray  # (33, 4) x, y normalised to the frame, z, visibility
    world: np.ndarray  # (33, 3) metres, hip-centred, rotated back to the frame
    alignment: np.ndarray  # (2, 3) the two alignment points, frame-normalised x, y, z


def refine_with_heatmap(xy: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Move each point to the confidence-weighted centre of its heatmap near its regressed spot.

    The regression is smooth but blunt; the 64x64 heatmaps are sharper where they are sure.
    Only points whose window holds a cell with confidence >= 0.5 move. xy is crop-normalised.
    """
    n = xy.shape[0]
    centre = np.trunc(xy * HEATMAP_SIZE).astype(np.int64)  # truncation toward zero, as in C
    inside = np.all((centre >= 0) & (centre < HEATMAP_SIZE), axis=1)
    offsets = np.arange(HEATMAP_KERNEL) - (HEATMAP_KERNEL - 1) // 2
    cols = centre[:, 0:1] + offsets  # (n, k)
    rows = centre[:, 1:2] + offsets
    valid = ((cols >= 0) & (cols < HEATMAP_SIZE))[:, None, :] & ((rows >= 0) & (rows < HEATMAP_SIZE))[:, :, None]
    r = np.clip(rows, 0, HEATMAP_SIZE - 1)[:, :, None]
    c = np.clip(cols, 0, HEATMAP_SIZE - 1)[:, None, :]
    conf = _sigmoid(heatmap[r, c, np.arange(n)[:, None, None]]) * valid  # (n, k_rows, k_cols)
    total = conf.sum(axis=(1, 2))
    peak = conf.max(axis=(1, 2))
    mean_col = (conf * cols[:, None, :]).sum(axis=(1, 2)) / np.where(total > 0, total, 1.0)
    mean_row = (conf * rows[:, :, None]).sum(axis=(1, 2)) / np.where(total > 0, total, 1.0)
    move = inside & (peak >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    out = xy.copy()
    out[move, 0] = mean_col[move] / HEATMAP_SIZE
    out[move, 1] = mean_row[move] / HEATMAP_SIZE
    return out


# What the landmark network's outputs are read for: landmarks (x, y, z, visibility, presence),
# the pose flag, the heatmap that refines x and y, the world landmarks. Its fifth output, a
# segmentation mask, is not read and so not computed.
READ_OUTPUTS = ((1, NUM_POINTS * 5), (1, 1), (1, HEATMAP_SIZE, HEATMAP_SIZE, NUM_POINTS), (1, NUM_POINTS * 3))


class LandmarkNetwork:
    """Runs `pose_landmark_full.tflite` on one ROI of a frame."""

    def __init__(self, path: Path, num_threads: int) -> None:
        self.network = Network(path, num_threads, read=READ_OUTPUTS)  # no segmentation mask
        self._outputs = tuple(self.network.output_index(shape, path) for shape in READ_OUTPUTS)

    def run(self, image: np.ndarray, roi: Roi, max_side_px: int | None = None) -> RoiLandmarks:
        height, width = image.shape[:2]
        crop = roi.crop(image, INPUT_SIZE, max_side_px)
        tensor = to_rgb(crop).astype(np.float32) * (1.0 / 255.0)
        raw, flag, heatmap, raw_world = self.network.run(tensor[None], self._outputs)
        points = raw.reshape(NUM_POINTS, 5).astype(np.float64)
        xyz = points[:, :3] / INPUT_SIZE
        xyz[:, :2] = refine_with_heatmap(xyz[:, :2], heatmap[0])
        projected = roi.project(xyz, width, height)
        image_lm = np.empty((NUM_LANDMARKS, 4), dtype=np.float32)
        image_lm[:, :3] = projected[:NUM_LANDMARKS]
        image_lm[:, 3] = _sigmoid(points[:NUM_LANDMARKS, 3])
        world = roi.rotate_world(raw_world.reshape(NUM_POINTS, 3)[:NUM_LANDMARKS].astype(np.float64))
        return RoiLandmarks(
            presence=float(flag.reshape(-1)[0]),
            image=image_lm,
            world=world.astype(np.float32),
            alignment=projected[ALIGNMENT_POINTS].copy(),
        )
