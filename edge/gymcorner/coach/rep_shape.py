"""How a pull-up or a dip rep was done, beyond its range: the hang, the legs, the shoulders.

Three per-rep measures, each read from world landmarks (metres, y down with a level
camera) and divided by a body length or given as an angle, so that body size does not
matter:

* the hang before a pull-up: the straightest elbow (both arms' mean world angle) on the
  frames before the rep began, i.e. while the rep counter was at its start level. The
  hang at the bottom of a pull-up falls between two reps (after one rep ends, before the
  next begins), so each rep is judged on the hang it started from; the last hang of a set,
  after its last rep, is not judged.
* the leg swing of a pull-up: how far the thighs' angle from the vertical (both legs'
  mean) moved over the rep's window (largest minus smallest). A kip drives the knees up
  and forward and back; a strict pull-up, bent knees or crossed feet included, keeps the
  thighs where they are. A held L-sit moves nothing and is not a swing.
* the shoulders of a dip: how much the ears-to-shoulders distance (3D, square to the
  shoulder line, in shoulder widths) shrank from the lockout before the rep (its largest on the frames before the
  rep began) to the bottom (its smallest during the rep): shoulders shrugged up toward
  the ears.

The window is the same as the range rules' (from the end of the previous rep to the end
of this one); the frames before the rep began are those the counter was not yet in the
rep. A rep is judged on a measure only when the measure was seen on 80 % of the frames
it is read from (hidden wrists at the hang are no hang), and on at least 3 of them.
Pure: numbers in, numbers out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.geometry import angle_deg
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_ARMS = ((L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST))
_THIGHS = ((L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_HIP, L.RIGHT_KNEE))
_NECKS = ((L.LEFT_EAR, L.LEFT_SHOULDER), (L.RIGHT_EAR, L.RIGHT_SHOULDER))
MIN_SEEN = 0.8  # fraction of the frames a measure is read from that must show it
MIN_FRAMES = 3  # and on at least this many: a rep that began on its window's first frame has no hang


@dataclass(frozen=True)
class ShapeFrame:
    """One frame's measures; None where its landmarks are not all seen."""

    elbow_deg: float | None = None  # both arms' mean world elbow angle (180: straight)
    thigh_deg: float | None = None  # both thighs' mean angle from the downward vertical
    neck_shoulder_widths: float | None = None  # ear to shoulder square to the shoulder line, sides' mean, / width


@dataclass(frozen=True)
class RepShape:
    """A rep's verdict inputs, on the frame it ends; None: not judged (not seen enough)."""

    hang_elbow_deg: float | None = None
    leg_swing_deg: float | None = None
    shoulder_shrug_widths: float | None = None


def thigh_from_vertical_deg(world: FloatArray, hip: L, knee: L) -> float:
    """0 with the thigh hanging straight down, 90 with it level (either way: forward or back)."""
    v = world[knee] - world[hip]
    n = float(np.linalg.norm(v))
    if n <= 0:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, float(v[1]) / n))))


def shape_frame(sample: PoseSample, min_visibility: float) -> ShapeFrame | None:
    if sample.image is None or sample.world is None or not np.isfinite(sample.world).all():
        return None
    w = sample.world.astype(np.float64)
    vis = sample.visibility()

    def seen(*points: L) -> bool:
        return bool(min(float(vis[p]) for p in points) >= min_visibility)

    elbow = None
    if all(seen(*arm) for arm in _ARMS):
        angles = [angle_deg(w[a], w[b], w[c]) for a, b, c in _ARMS]
        elbow = float(np.mean(angles)) if not any(math.isnan(x) for x in angles) else None
    thigh = None
    if all(seen(*leg) for leg in _THIGHS):
        angles = [thigh_from_vertical_deg(w, h, k) for h, k in _THIGHS]
        thigh = float(np.mean(angles)) if not any(math.isnan(x) for x in angles) else None
    neck = None
    line = w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER]
    width = float(np.linalg.norm(line))
    if width > 0 and seen(L.LEFT_SHOULDER, L.RIGHT_SHOULDER):
        sides = [_off_the_line(w[ear] - w[sh], line / width) for ear, sh in _NECKS if seen(ear)]
        neck = float(np.mean(sides)) / width if sides else None
    return ShapeFrame(elbow, thigh, neck)


def _off_the_line(v: FloatArray, across: FloatArray) -> float:
    """Length of `v` square to the shoulder line: an ear sits inside its shoulder by a
    fixed amount that a shrug does not change, and which would otherwise floor the distance."""
    return float(np.linalg.norm(v - float(np.dot(v, across)) * across))


class _Extremes:
    """Largest and smallest of one measure over some frames, and on how many it was seen."""

    def __init__(self) -> None:
        self.frames = 0
        self.seen = 0
        self.high = -math.inf
        self.low = math.inf

    def add(self, value: float | None) -> None:
        self.frames += 1
        if value is not None:
            self.seen += 1
            self.high, self.low = max(self.high, value), min(self.low, value)

    @property
    def enough(self) -> bool:
        return self.seen >= max(MIN_FRAMES, MIN_SEEN * self.frames)


class RepShapeWindow:
    """Collects one rep's window, split at the frame the counter entered the rep."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._hang = _Extremes()  # elbow angle, frames before the rep began
        self._legs = _Extremes()  # thigh angle, the whole window
        self._neck_top = _Extremes()  # neck length, frames before the rep began
        self._neck_rep = _Extremes()  # neck length, frames of the rep

    def update(self, frame: ShapeFrame | None, in_rep: bool, rep_ended: bool) -> RepShape | None:
        """The rep's shape on the frame it ends (that frame opens the next window), else None."""
        out = self._judge() if rep_ended else None
        if rep_ended:
            self.reset()
        f = frame if frame is not None else ShapeFrame()
        self._legs.add(f.thigh_deg)
        if in_rep:
            self._neck_rep.add(f.neck_shoulder_widths)
        else:
            self._hang.add(f.elbow_deg)
            self._neck_top.add(f.neck_shoulder_widths)
        return out

    def _judge(self) -> RepShape:
        hang = self._hang.high if self._hang.enough else None
        swing = self._legs.high - self._legs.low if self._legs.enough else None
        shrug = None
        if self._neck_top.enough and self._neck_rep.enough:
            shrug = self._neck_top.high - self._neck_rep.low
        return RepShape(hang, swing, shrug)
