"""The `litert` pose backend: detector once, then the landmark network tracks on its own.

Per frame: if there is no ROI from the previous frame, the person detector finds one (score
>= min_detection_confidence); the landmark network runs on that ROI; if its pose presence
is above min_tracking_confidence the person is reported and the next ROI comes from this
frame's (filtered) alignment points, so the detector sleeps while tracking holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gymcorner.config import PoseConfig
from gymcorner.errors import ConfigError, FrameError, Reason
from gymcorner.motion.landmarks import PoseSample
from gymcorner.vision.blazepose.detector import FULL_BODY_SCALE_POINT, HIP_CENTRE, PoseDetector
from gymcorner.vision.blazepose.landmarks import LandmarkNetwork
from gymcorner.vision.blazepose.roi import Roi
from gymcorner.vision.blazepose.runtime import pose_model_paths
from gymcorner.vision.blazepose.tracking import AlignmentFilter
from gymcorner.vision.pose import register_backend

SUPPORTED_COMPLEXITY = 1  # pose_landmark_full; the lite and heavy files are not provisioned


def checked_frame(image: np.ndarray) -> np.ndarray:
    """The frame as a contiguous uint8 array of 1, 3 (BGR) or 4 (BGRA) channels, or FrameError.

    Colour conversion is left to the crops (224x224 and 256x256), never done on the frame.
    """
    if not isinstance(image, np.ndarray):
        raise FrameError(f"pose input must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise FrameError(f"pose input must be uint8 (8-bit BGR), got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise FrameError(f"pose input must be HxW (gray), HxWx3 (BGR) or HxWx4 (BGRA), got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise FrameError(f"pose input is empty (shape {image.shape})")
    return np.ascontiguousarray(image)


class LiteRtPose:
    """BlazePose (detector + full landmark model) on LiteRT; implements PoseEstimator."""

    name = "litert"

    def __init__(self, config: PoseConfig, models_dir: Path | None = None) -> None:
        if config.model_complexity != SUPPORTED_COMPLEXITY:
            raise ConfigError(
                f"pose.model_complexity = {config.model_complexity}: the litert backend runs the full "
                f"landmark model only (model_complexity = {SUPPORTED_COMPLEXITY})",
                Reason.CONFIG_INVALID,
            )
        detector_path, landmark_path = pose_model_paths(models_dir)
        self._detector = PoseDetector(detector_path, config.num_threads)
        self._landmarks = LandmarkNetwork(landmark_path, config.num_threads)
        self._min_detection = config.min_detection_confidence
        self._min_tracking = config.min_tracking_confidence
        self._max_side_px = config.max_input_side_px
        self._filter = AlignmentFilter()
        self._roi: Roi | None = None
        self._frame_size: tuple[int, int] | None = None
        self._detector_ms = self._landmark_ms = 0.0

    def stage_ms(self) -> dict[str, float]:
        """The last frame's network invoke times (0 for a network that did not run)."""
        return {"detector_invoke": self._detector_ms, "landmark_invoke": self._landmark_ms}

    @property
    def detector_invocations(self) -> int:
        return self._detector.network.invocations

    @property
    def landmark_invocations(self) -> int:
        return self._landmarks.network.invocations

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> PoseSample:
        image = self.prepare(image_bgr)
        height, width = image.shape[:2]
        return self.infer(image, width, height, t_s)

    def prepare(self, image_bgr: np.ndarray) -> np.ndarray:
        """Checks only: the crops are cut from the original frame inside `infer`, so there is
        no full-frame resize or colour conversion to time here."""
        return checked_frame(image_bgr)

    def infer(self, image: np.ndarray, width: int, height: int, t_s: float) -> PoseSample:
        """Detector (when not tracking), crop, landmark network, projection, next ROI.

        The size is taken from the image itself; a change of size (another source) drops
        the tracked ROI, which is in the old frame's pixels.
        """
        height, width = image.shape[:2]
        if self._frame_size != (width, height):
            self.reset()
            self._frame_size = (width, height)
        roi = self._roi
        self._detector_ms = self._landmark_ms = 0.0
        if roi is None:
            detection = self._detector.detect(image, self._min_detection, self._max_side_px)
            self._detector_ms = self._detector.network.last_invoke_ms
            if detection is None:
                return PoseSample(t_s, width, height)
            roi = Roi.from_alignment_points(
                detection.keypoints[HIP_CENTRE], detection.keypoints[FULL_BODY_SCALE_POINT], width, height
            )
        result = self._landmarks.run(image, roi, self._max_side_px)
        self._landmark_ms = self._landmarks.network.last_invoke_ms
        if not result.presence > self._min_tracking:
            self._roi = None
            self._filter.reset()
            return PoseSample(t_s, width, height)
        centre, scale_point = self._filter.apply(result.alignment, t_s, width, height)
        self._roi = Roi.from_alignment_points(centre, scale_point, width, height)
        return PoseSample(t_s, width, height, result.image, result.world)

    def reset(self) -> None:
        """Forget the tracked person: the next frame runs the detector."""
        self._roi = None
        self._filter.reset()

    def close(self) -> None:
        self.reset()


@register_backend("litert")
def _create(config: PoseConfig, models_dir: Path | None) -> LiteRtPose:
    return LiteRtPose(config, models_dir)
