"""BlazePose landmark names and the per-frame pose sample every pure module consumes."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from gymcorner.motion.arrays import LandmarkArray

NUM_LANDMARKS = 33


class Landmark(enum.IntEnum):
    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


@dataclass(frozen=True)
class PoseSample:
    """One frame's pose, with the frame's own timestamp.

    image: (33, 4) float32 — x, y normalised to [0, 1] of the frame, z (BlazePose's relative
    depth, same scale as x), visibility in [0, 1]. world: (33, 3) float32 metres,
    hip-centred. Both are None when no person was found. width/height are the frame's
    pixel size, needed to measure angles and distances in pixel space (normalised x and y
    have different units on any non-square frame).
    """

    t_s: float
    width: int
    height: int
    image: LandmarkArray | None = None
    world: LandmarkArray | None = None

    @property
    def present(self) -> bool:
        return self.image is not None

    def pixels(self) -> LandmarkArray:
        """(33, 2) landmark positions in pixels."""
        if self.image is None:
            raise ValueError("no person in this sample")
        return self.image[:, :2] * np.array([self.width, self.height], dtype=np.float32)

    def visibility(self) -> LandmarkArray:
        if self.image is None:
            return np.zeros(NUM_LANDMARKS, dtype=np.float32)
        return self.image[:, 3]
