"""Camera view inference: frontal vs lateral, with hysteresis and persistence.

The classic test: feet in front of the hip means the camera sees the person from the
side; the hip between the feet means it sees them from the front. We measure the same
thing as how far the body is turned from square-on to the camera, averaging two
independent estimates: the yaw of the shoulder and hip lines in world landmarks (3D,
but BlazePose's depth is weakest exactly from behind) and the apparent width of those
lines in the image relative to the torso length (2D: a side-on body looks narrow). The
image test (hip midpoint between the ankles) must also hold for a frontal view. A person
with their back to the camera is "frontal" with `facing = "away"`: the frontal rules hold there too, mirrored.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from gymcorner.config import ViewConfig
from gymcorner.motion.geometry import body_yaw_deg, horizontal_span, midpoint, torso_length
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_TORSO = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)


class View(str, enum.Enum):
    UNKNOWN = "unknown"
    FRONTAL = "frontal"
    LATERAL = "lateral"


@dataclass(frozen=True)
class ViewState:
    view: View
    facing: str  # "camera", "away", "left", "right" (image side the person faces), "unknown"
    yaw_deg: float  # body yaw to the camera, 0 = square-on, ±180 = back to the camera


def off_square_deg(yaw_deg: float) -> float:
    """0 when square to the camera (front or back), 90 when side-on."""
    a = abs(yaw_deg) % 180.0
    return min(a, 180.0 - a)


def apparent_off_square_deg(sample: PoseSample, square_on_ratio: float) -> float:
    """Turn from square-on implied by how wide the shoulders and hips look (image)."""
    px = sample.pixels()
    torso = torso_length(px)
    if torso <= 0:
        return math.nan
    width = horizontal_span(px, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) + horizontal_span(px, L.LEFT_HIP, L.RIGHT_HIP)
    return math.degrees(math.acos(min(1.0, width / torso / square_on_ratio)))


def facing_of(yaw_deg: float, off_deg: float, cfg: ViewConfig) -> str:
    if off_deg <= cfg.frontal_max_yaw_deg:
        return "camera" if abs(yaw_deg) < 90 else "away"
    return "right" if yaw_deg > 0 else "left"


def hip_between_feet(sample: PoseSample, margin: float) -> bool:
    px = sample.pixels()
    left, right = sorted((float(px[L.LEFT_ANKLE, 0]), float(px[L.RIGHT_ANKLE, 0])))
    slack = margin * (right - left)
    hip_x = float(midpoint(px[L.LEFT_HIP], px[L.RIGHT_HIP])[0])
    return left - slack <= hip_x <= right + slack


class ViewTracker:
    """Decides the view frame by frame; a new view must hold for `hold_frames` frames."""

    def __init__(self, config: ViewConfig) -> None:
        self._cfg = config
        self._view = View.UNKNOWN
        self._candidate = View.UNKNOWN
        self._count = 0
        self._last = ViewState(View.UNKNOWN, "unknown", math.nan)

    @property
    def state(self) -> ViewState:
        return self._last

    def reset(self) -> None:
        self.__init__(self._cfg)  # type: ignore[misc]

    def update(self, sample: PoseSample) -> ViewState:
        observed = self._observe(sample)
        if observed is None:
            return self._last if sample.present else ViewState(self._view, "unknown", math.nan)
        candidate, yaw, off = observed
        if candidate == self._view:
            self._count = 0
        elif candidate == self._candidate:
            self._count += 1
        else:
            self._candidate, self._count = candidate, 1
        if candidate != self._view and self._count >= self._cfg.hold_frames:
            self._view, self._count = candidate, 0
        self._last = ViewState(self._view, facing_of(yaw, off, self._cfg), yaw)
        return self._last

    def _observe(self, sample: PoseSample) -> tuple[View, float, float] | None:
        if sample.image is None or sample.world is None:
            return None
        if float(sample.image[list(_TORSO), 3].min()) < self._cfg.min_visibility:
            return None
        yaw = body_yaw_deg(sample.world)
        apparent = apparent_off_square_deg(sample, self._cfg.square_on_width_ratio)
        if math.isnan(yaw) or math.isnan(apparent):
            return None
        off = (off_square_deg(yaw) + apparent) / 2.0
        if self._view == View.UNKNOWN:
            # First decision: split the hysteresis band in the middle.
            middle = (self._cfg.frontal_max_yaw_deg + self._cfg.lateral_min_yaw_deg) / 2
            frontal = off < middle
        elif off <= self._cfg.frontal_max_yaw_deg:
            frontal = True
        elif off >= self._cfg.lateral_min_yaw_deg:
            frontal = False
        else:
            return self._view, yaw, off
        feet_seen = float(sample.image[[L.LEFT_ANKLE, L.RIGHT_ANKLE], 3].min()) >= self._cfg.min_visibility
        if frontal and feet_seen and not hip_between_feet(sample, self._cfg.hip_between_feet_margin):
            return None  # square-on but the hip is not between the feet: no evidence either way
        return (View.FRONTAL if frontal else View.LATERAL), yaw, off
