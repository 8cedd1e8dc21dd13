"""The `litert` pose backend: detector once, then the landmark network tracks on its own.

Per frame: if there is no ROI from the previous frame, the person detector finds one (score
>= min_detection_confidence); the landmark network runs on that ROI; if its pose presence
is above min_tracking_confidence the person is reported and the next ROI comes from this
frame's (filtered) alignment points, so the detector sleeps while tracking holds.

With `pose.landmark_workers` = N > 1 there are N landmark networks, and N threads
(`PoseAhead`) may each run `infer` on consecutive frames at once: frame n then starts from
the ROI that frames up to n - N left, and results update the track in frame order
(`tracking.Track`), so the landmarks do not depend on how the threads were scheduled. One
worker is exactly the serial tracker. The detector (one interpreter) runs under a lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from gymcorner.config import PoseConfig
from gymcorner.errors import ConfigError, FrameError, Reason
from gymcorner.motion.landmarks import PoseSample
from gymcorner.vision.blazepose.detector import FULL_BODY_SCALE_POINT, HIP_CENTRE, PoseDetector
from gymcorner.vision.blazepose.landmarks import LandmarkNetwork
from gymcorner.vision.blazepose.roi import Roi
from gymcorner.vision.blazepose.runtime import pose_model_paths
from gymcorner.vision.blazepose.tracking import Track
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
        self._detector = PoseDetector(detector_path, config.threads)
        self._networks = [LandmarkNetwork(landmark_path, config.threads) for _ in range(config.landmark_workers)]
        self._detector_lock = threading.Lock()
        self._track = Track(lag=config.landmark_workers)
        self._stage = threading.local()  # each worker thread's last invoke times
        self._min_detection = config.min_detection_confidence
        self._min_tracking = config.min_tracking_confidence
        self._max_side_px = config.max_input_side_px

    @property
    def workers(self) -> int:
        """How many threads may run `infer` at once, each with its own `worker` index."""
        return len(self._networks)

    def ticket(self) -> int:
        """The next frame's number: a caller with several workers takes it in reading order
        and gives it to `infer` (or to `skip_frame` when the frame is never estimated)."""
        return self._track.ticket()

    def skip_frame(self, ticket: int) -> None:
        self._track.skip(ticket)

    def stage_ms(self) -> dict[str, float]:
        """This thread's last frame's network invoke times (0 for a network that did not run)."""
        return {
            "detector_invoke": getattr(self._stage, "detector_ms", 0.0),
            "landmark_invoke": getattr(self._stage, "landmark_ms", 0.0),
        }

    @property
    def detector_invocations(self) -> int:
        return self._detector.network.invocations

    @property
    def landmark_invocations(self) -> int:
        return sum(n.network.invocations for n in self._networks)

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> PoseSample:
        image = self.prepare(image_bgr)
        height, width = image.shape[:2]
        return self.infer(image, width, height, t_s)

    def prepare(self, image_bgr: np.ndarray) -> np.ndarray:
        """Checks only: the crops are cut from the original frame inside `infer`, so there is
        no full-frame resize or colour conversion to time here."""
        return checked_frame(image_bgr)

    def infer(
        self, image: np.ndarray, width: int, height: int, t_s: float, worker: int = 0, ticket: int | None = None
    ) -> PoseSample:
        """Detector (when not tracking), crop, landmark network `worker`, projection, next ROI.

        The size is taken from the image itself; a change of size (another source) drops
        the tracked ROI, which is in the old frame's pixels. Without a `ticket` the frame is
        the next one (a serial caller).
        """
        height, width = image.shape[:2]
        size = (width, height)
        number = self._track.ticket() if ticket is None else ticket
        stage = self._stage
        stage.detector_ms = stage.landmark_ms = 0.0
        try:
            roi = self._track.start(number, size)
            if roi is None:
                with self._detector_lock:
                    detection = self._detector.detect(image, self._min_detection, self._max_side_px)
                    stage.detector_ms = self._detector.network.last_invoke_ms
                if detection is None:
                    self._track.skip(number)
                    return PoseSample(t_s, width, height)
                roi = Roi.from_alignment_points(
                    detection.keypoints[HIP_CENTRE], detection.keypoints[FULL_BODY_SCALE_POINT], width, height
                )
            network = self._networks[worker]
            result = network.run(image, roi, self._max_side_px)
            stage.landmark_ms = network.network.last_invoke_ms
        except BaseException:
            self._track.skip(number)  # the frames after it must not wait for it
            raise
        if not result.presence > self._min_tracking:
            self._track.lost(number, t_s, size)
            return PoseSample(t_s, width, height)
        self._track.found(number, result.alignment, t_s, size)
        return PoseSample(t_s, width, height, result.image, result.world)

    def reset(self) -> None:
        """Forget the tracked person: the next frame runs the detector."""
        self._track.reset()

    def close(self) -> None:
        self.reset()


@register_backend("litert")
def _create(config: PoseConfig, models_dir: Path | None) -> LiteRtPose:
    return LiteRtPose(config, models_dir)
