"""The rotated square region the landmark network sees, and the maps in and out of it.

Two alignment points place it: a centre (the hip centre) and a point whose distance from
the centre is the radius of a circle around the whole body and whose direction is the
body's up axis. The ROI side is that circle's diameter with a margin, rotated so the body
stands upright in the crop. The same rule builds the ROI from the detector's keypoints and,
while tracking, from the landmark network's two extra alignment points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ROI_MARGIN = 1.25  # the full-body circle's diameter is widened by this much, as in training
TARGET_ANGLE_RAD = math.pi / 2  # the centre-to-scale-point vector should point up in the crop


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


@dataclass(frozen=True)
class Roi:
    """A square in frame pixels: centre, side, and rotation (radians, clockwise on screen)."""

    cx_px: float
    cy_px: float
    side_px: float
    rotation: float

    @classmethod
    def from_alignment_points(
        cls, centre: np.ndarray, scale_point: np.ndarray, width: int, height: int, margin: float = ROI_MARGIN
    ) -> Roi:
        """From two points in normalised frame coordinates; distances are taken in pixels."""
        size = np.array([width, height], dtype=np.float64)
        c = np.asarray(centre[:2], dtype=np.float64) * size
        p = np.asarray(scale_point[:2], dtype=np.float64) * size
        dx, dy = p - c
        rotation = normalize_radians(TARGET_ANGLE_RAD - math.atan2(-dy, dx))
        return cls(float(c[0]), float(c[1]), 2.0 * math.hypot(dx, dy) * margin, rotation)

    def crop_matrix(self, out_size: int) -> np.ndarray:
        """2x3 affine map from frame pixels to crop pixels: the ROI's corners land on the
        crop's corners (0, 0) .. (out_size, out_size), top edge first."""
        s = out_size / max(self.side_px, 1e-6)
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        rot = np.array([[cos, sin], [-sin, cos]]) * s
        offset = np.array([out_size / 2.0, out_size / 2.0]) - rot @ np.array([self.cx_px, self.cy_px])
        return np.hstack([rot, offset[:, None]])

    def crop(
        self, image: np.ndarray, out_size: int, max_side_px: int | None = None, border: int = cv2.BORDER_REPLICATE
    ) -> np.ndarray:
        """The ROI warped straight out of the original frame to out_size x out_size.

        One affine warp whatever the frame size: the frame itself is never resized or
        colour-converted. On a frame larger than `max_side_px` (the size the reference
        pipeline shrinks frames to first) the ROI's box is area-averaged down to the crop's
        scale first (`_area_shrunk`), because bilinear sampling alone skips pixels when a big
        ROI shrinks five times or more, and that aliasing moves the landmarks.
        """
        height, width = image.shape[:2]
        if max_side_px is not None and max(width, height) > max_side_px:
            shrunk = self._area_shrunk(image, out_size)
            if shrunk is not None:
                small, matrix = shrunk
                return cv2.warpAffine(small, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=border)
        return cv2.warpAffine(
            image, self.crop_matrix(out_size), (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=border
        )

    def _area_shrunk(self, image: np.ndarray, out_size: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The ROI's bounding box halved by area averaging until the crop shrinks it less than
        twice, and the affine map from that small image to the crop.

        Halving with INTER_AREA is OpenCV's fast exact-factor path (well under a millisecond
        for a 1000 px box), and the warp then reads a few hundred pixels a side, where
        warping the big frame directly costs several milliseconds. Every frame pixel still
        contributes, so there is no aliasing. None when the ROI needs no halving or lies
        outside the frame."""
        height, width = image.shape[:2]
        k = out_size / max(self.side_px, 1e-6)  # crop pixels per frame pixel
        if k >= 0.5:
            return None
        turn = abs(math.cos(self.rotation)) + abs(math.sin(self.rotation))
        half = 0.5 * self.side_px * turn + 4.0 / k  # the rotated square's box, a few crop pixels wider
        x0, x1 = max(0, math.floor(self.cx_px - half)), min(width, math.ceil(self.cx_px + half))
        y0, y1 = max(0, math.floor(self.cy_px - half)), min(height, math.ceil(self.cy_px + half))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        small, factor = image[y0:y1, x0:x1], 1
        while k * factor < 0.5 and min(small.shape[:2]) >= 4:
            h2, w2 = small.shape[0] // 2, small.shape[1] // 2
            small = cv2.resize(small[: 2 * h2, : 2 * w2], (w2, h2), interpolation=cv2.INTER_AREA)
            factor *= 2
        # A small-image pixel q averages the frame pixels around p = (q + 0.5) * factor - 0.5 + origin.
        crop = self.crop_matrix(out_size)
        linear = crop[:, :2] * factor
        offset = crop[:, :2] @ np.array([0.5 * factor - 0.5 + x0, 0.5 * factor - 0.5 + y0]) + crop[:, 2]
        return small, np.hstack([linear, offset[:, None]])

    def project(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """(N, 3) crop-normalised x, y, z -> frame-normalised x, y and z.

        z is scaled like x (by the ROI width as a fraction of the frame width), so depth
        keeps the unit of the image x axis, as MediaPipe reports it.
        """
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        x = points[:, 0] - 0.5
        y = points[:, 1] - 0.5
        out = np.empty_like(points)
        out[:, 0] = (cos * x - sin * y) * self.side_px / width + self.cx_px / width
        out[:, 1] = (sin * x + cos * y) * self.side_px / height + self.cy_px / height
        out[:, 2] = points[:, 2] * self.side_px / width
        return out

    def rotate_world(self, world: np.ndarray) -> np.ndarray:
        """World landmarks (metres, predicted in the upright crop) turned back by the ROI's
        rotation about the camera axis, so 'up' matches the frame again."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        out = world.copy()
        out[:, 0] = cos * world[:, 0] - sin * world[:, 1]
        out[:, 1] = sin * world[:, 0] + cos * world[:, 1]
        return out
