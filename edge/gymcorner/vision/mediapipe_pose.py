"""MediaPipe BlazePose through the legacy solution graph (`mediapipe.solutions.pose`).

The 0.10.21 (x86-64) / 0.10.18 (aarch64) wheels carry the pose detector and the
landmark models inside the package, so nothing is fetched at run time. MediaPipe's own
landmark smoothing is switched off: our filters (motion/filters.py) do that job, measured,
and replaying a recording must give the same result as the live path.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from gymcorner.config import PoseConfig
from gymcorner.errors import ModelError
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.vision.pose import register_backend

_MODEL_FILES = {
    0: "pose_landmark/pose_landmark_lite.tflite",
    1: "pose_landmark/pose_landmark_full.tflite",
    2: "pose_landmark/pose_landmark_heavy.tflite",
}


def model_paths(model_complexity: int) -> list[Path]:
    """The model files the graph will load, inside the installed mediapipe package."""
    import mediapipe

    modules = Path(mediapipe.__file__).parent / "modules"
    return [modules / "pose_detection/pose_detection.tflite", modules / _MODEL_FILES[model_complexity]]


class MediaPipePose:
    name = "mediapipe"

    def __init__(self, config: PoseConfig) -> None:
        # MediaPipe's C++ side logs start-up chatter to stderr through glog; keep warnings
        # and errors only, unless the user set their own level.
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            import mediapipe as mp
        except ImportError as err:
            raise ModelError(
                "pose backend 'mediapipe' (the reference) needs the mediapipe package, which has no wheel for "
                "Python 3.13: pip install --no-deps -r requirements/reference.txt, or use pose.backend = 'litert'"
            ) from err
        missing = [str(p) for p in model_paths(config.model_complexity) if not p.is_file()]
        if missing:
            raise ModelError(
                f"BlazePose model file missing: {missing[0]} (install mediapipe 0.10.21 on x86-64 or 0.10.18 on "
                "aarch64: these wheels ship the models; newer ones download them at run time)"
            )
        self._max_side = config.max_input_side_px
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=config.model_complexity,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> PoseSample:
        height, width = image_bgr.shape[:2]
        return self.infer(self.prepare(image_bgr), width, height, t_s)

    def prepare(self, image_bgr: np.ndarray) -> np.ndarray:
        """Downscale (if larger than max_input_side_px) and convert to RGB: the non-model part."""
        height, width = image_bgr.shape[:2]
        scale = self._max_side / max(height, width)
        frame = image_bgr
        if scale < 1.0:
            frame = cv2.resize(image_bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def infer(self, rgb: np.ndarray, width: int, height: int, t_s: float) -> PoseSample:
        """The model's own work: the BlazePose graph on a prepared RGB frame."""
        result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return PoseSample(t_s, width, height)
        image = np.array([(lm.x, lm.y, lm.z, lm.visibility) for lm in result.pose_landmarks.landmark], dtype=np.float32)
        world = np.full((NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
        if result.pose_world_landmarks is not None:
            world = np.array([(lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks.landmark], dtype=np.float32)
        return PoseSample(t_s, width, height, image, world)

    def close(self) -> None:
        self._pose.close()


@register_backend("mediapipe")
def _create(config: PoseConfig, models_dir: Path | None) -> MediaPipePose:  # its models are in the package
    return MediaPipePose(config)
