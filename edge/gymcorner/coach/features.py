"""Window features for exercise recognition: what is measured, and why.

Features use only the 2-D image landmarks (x, y in isotropic pixel units), because half of
the training data (the exercise_correction CSVs) has no world landmarks. They are made
independent of what should not matter:

* body size and distance from the camera: every length is divided by a body scale
  (max(torso length, 1.3 x shoulder width), which changes little between front and side
  views);
* position in the frame: only differences between landmarks and spreads over time;
* which way the person faces and left/right: angles are mirror-symmetric (|dx|), and every
  left/right pair is reduced to its mean and its absolute difference;
* missing landmarks (low visibility, or the CSVs' subsets): a feature that needs a hidden
  landmark is NaN, and the model treats NaN as "average" (0 after standardisation). The
  training tool shows the model the same frames with the CSVs' masks, so a missing knee
  says nothing about the exercise.

Gravity is kept on purpose: whether the torso is upright or horizontal is what separates a
squat from a push-up, so the image vertical is the reference for segment inclinations.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np

from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.geometry import midpoint
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L

VISIBILITY_MIN = 0.5  # below this BlazePose is guessing; the landmark counts as missing

# (left, right) landmark pairs
_SH = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
_EL = (L.LEFT_ELBOW, L.RIGHT_ELBOW)
_WR = (L.LEFT_WRIST, L.RIGHT_WRIST)
_HIP = (L.LEFT_HIP, L.RIGHT_HIP)
_KN = (L.LEFT_KNEE, L.RIGHT_KNEE)
_AN = (L.LEFT_ANKLE, L.RIGHT_ANKLE)
# landmark groups whose movement over the window is measured ("which landmarks move")
_GROUPS: tuple[tuple[str, tuple[L, ...]], ...] = (
    ("nose", (L.NOSE,)), ("shoulders", _SH), ("elbows", _EL), ("wrists", _WR),
    ("hips", _HIP), ("knees", _KN), ("ankles", _AN),
)
_HIPS_GROUP = [name for name, _ in _GROUPS].index("hips")
# the landmarks whose bounding box gives the body's aspect ratio
_BBOX = (L.NOSE, *_SH, *_HIP, *_KN, *_AN)


def _angle_deg(a: FloatArray, b: FloatArray, c: FloatArray) -> FloatArray:
    """Interior angle a-b-c at b, degrees; (T, 2) inputs. Mirror- and scale-free."""
    v1, v2 = a - b, c - b
    n = np.linalg.norm(v1, axis=-1) * np.linalg.norm(v2, axis=-1)
    cos = np.sum(v1 * v2, axis=-1) / np.where(n > 1e-9, n, np.nan)
    deg: FloatArray = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return deg


def _incline_deg(frm: FloatArray, to: FloatArray) -> FloatArray:
    """Angle of the segment frm->to from image 'up' (0 up, 90 level, 180 down), mirror-free."""
    d = to - frm
    deg: FloatArray = np.degrees(np.arctan2(np.abs(d[..., 0]), -d[..., 1]))
    return deg


def _sym(left: FloatArray, right: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A left/right pair as (mean, |difference|): unchanged when the sides swap."""
    return midpoint(left, right, one_sided=True), np.abs(left - right)


FRAME_FEATURE_NAMES: tuple[str, ...] = (
    "elbow_angle", "elbow_angle_asym", "shoulder_angle", "shoulder_angle_asym",
    "hip_angle", "hip_angle_asym", "knee_angle", "knee_angle_asym",
    "torso_incline", "upper_arm_incline", "upper_arm_incline_asym", "forearm_incline",
    "forearm_incline_asym", "thigh_incline", "thigh_incline_asym", "shin_incline",
    "shin_incline_asym", "wrist_above_shoulder", "wrist_above_shoulder_asym",
    "wrist_above_nose", "nose_above_hip", "shoulder_above_hip", "hip_above_ankle",
    "knee_above_ankle", "wrist_spread", "elbow_spread", "knee_spread", "ankle_spread",
    "wrist_to_hip", "wrist_to_shoulder", "wrist_above_ankle", "body_log_aspect",
)


def frame_features(points: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-frame posture features for (T, 33, 2) isotropic points (NaN = missing).

    Returns (features (T, F), group positions (T, G, 2), body scale (T,)); the last two
    feed the window's movement features. Frames without a usable scale are all NaN.
    """
    p = np.asarray(points, dtype=np.float64)

    def side(pair: tuple[L, L]) -> tuple[FloatArray, FloatArray]:
        return p[:, pair[0]], p[:, pair[1]]

    (ls, rs), (le, re), (lw, rw) = side(_SH), side(_EL), side(_WR)
    (lh, rh), (lk, rk), (la, ra) = side(_HIP), side(_KN), side(_AN)
    nose = p[:, L.NOSE]
    # a left/right pair's middle; the visible side when only one is, NaN when neither
    mid = partial(midpoint, one_sided=True)
    msh, mhip, mwr, man, mkn = mid(ls, rs), mid(lh, rh), mid(lw, rw), mid(la, ra), mid(lk, rk)
    torso = np.linalg.norm(msh - mhip, axis=-1)
    shoulder_w = np.linalg.norm(ls - rs, axis=-1)
    scale = np.fmax(torso, 1.3 * shoulder_w)
    scale = np.where(scale > 1e-6, scale, np.nan)

    def y(q: FloatArray) -> FloatArray:  # image y in body scales (down is positive)
        out: FloatArray = q[:, 1] / scale
        return out

    def x(q: FloatArray) -> FloatArray:
        out: FloatArray = q[:, 0] / scale
        return out

    cols: list[FloatArray] = []
    for left, right in (((ls, le, lw), (rs, re, rw)), ((le, ls, lh), (re, rs, rh)),
                        ((ls, lh, lk), (rs, rh, rk)), ((lh, lk, la), (rh, rk, ra))):
        cols.extend(_sym(_angle_deg(*left), _angle_deg(*right)))
    cols.append(_incline_deg(mhip, msh))
    for (l0, l1), (r0, r1) in (((ls, le), (rs, re)), ((le, lw), (re, rw)),
                               ((lh, lk), (rh, rk)), ((lk, la), (rk, ra))):
        cols.extend(_sym(_incline_deg(l0, l1), _incline_deg(r0, r1)))
    cols.extend(_sym(y(ls) - y(lw), y(rs) - y(rw)))
    cols += [y(nose) - y(mwr), y(mhip) - y(nose), y(mhip) - y(msh), y(man) - y(mhip), y(man) - y(mkn)]
    cols += [np.abs(x(lw) - x(rw)), np.abs(x(le) - x(re)), np.abs(x(lk) - x(rk)), np.abs(x(la) - x(ra))]

    def dist(a: FloatArray, b: FloatArray) -> FloatArray:
        out: FloatArray = np.linalg.norm(a - b, axis=-1) / scale
        return out

    cols += [mid(dist(lw, lh), dist(rw, rh)), mid(dist(lw, ls), dist(rw, rs)), y(man) - y(mwr)]
    box = p[:, list(_BBOX)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        span = np.nanmax(box, axis=1) - np.nanmin(box, axis=1)
        cols.append(np.log(np.maximum(span[:, 0], 1e-3 * scale) / np.maximum(span[:, 1], 1e-3 * scale)))
    feats = np.stack(cols, axis=1)
    feats[np.isnan(scale)] = np.nan
    groups = np.stack([mid(p[:, g[0]], p[:, g[-1]]) for _, g in _GROUPS], axis=1)
    return feats, groups, scale


def _movement_names() -> tuple[str, ...]:
    names = []
    for ref in ("frame", "hip"):
        for g, _ in _GROUPS:
            names += [f"{g}_move_x_{ref}", f"{g}_move_y_{ref}"]
    return tuple(names)


FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"{n}_mean" for n in FRAME_FEATURE_NAMES)
    + tuple(f"{n}_std" for n in FRAME_FEATURE_NAMES)
    + tuple(f"{n}_range" for n in FRAME_FEATURE_NAMES)
    + _movement_names()
)


def _nan_quantiles(x: FloatArray, qs: tuple[float, ...]) -> list[FloatArray]:
    """Column quantiles ignoring NaN (linear interpolation, as np.nanpercentile), without
    nanpercentile's per-column loop: this runs live, ten times a second."""
    srt = np.sort(x, axis=0)  # NaN sorts last
    n = np.isfinite(x).sum(axis=0)
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        a = np.take_along_axis(srt, lo[None], axis=0)[0]
        b = np.take_along_axis(srt, hi[None], axis=0)[0]
        out.append(np.where(n > 0, a + (b - a) * (pos - lo), np.nan))
    return out


def window_features(feats: FloatArray, groups: FloatArray, scale: FloatArray) -> FloatArray:
    """Summarise one window of `frame_features` output into one vector (FEATURE_NAMES).

    Posture: mean, standard deviation and 10-90 % range of each frame feature. Movement:
    the spread over time of each landmark group, in the image and relative to the hips,
    divided by the window's median body scale (so a still camera and a zoom differ, but a
    near and a far person do not). Order statistics, so the frame rate does not matter.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(feats, axis=0)
        std = np.nanstd(feats, axis=0)
        lo, hi = _nan_quantiles(feats, (0.1, 0.9))
        s = np.nanmedian(scale)
        hip = groups[:, _HIPS_GROUP : _HIPS_GROUP + 1]
        move_frame = np.nanstd(groups, axis=0) / s
        move_hip = np.nanstd(groups - hip, axis=0) / s
    return np.concatenate([mean, std, hi - lo, move_frame.ravel(), move_hip.ravel()])


def sample_points(sample: PoseSample) -> FloatArray:
    """(33, 2) landmark positions in pixels (isotropic units); NaN where hidden or absent."""
    if sample.image is None:
        return np.full((NUM_LANDMARKS, 2), np.nan)
    pts = sample.image[:, :2].astype(np.float64) * np.array([sample.width, sample.height], dtype=np.float64)
    pts[sample.image[:, 3] < VISIBILITY_MIN] = np.nan
    return pts


__all__ = [
    "FEATURE_NAMES",
    "FRAME_FEATURE_NAMES",
    "VISIBILITY_MIN",
    "frame_features",
    "sample_points",
    "window_features",
]
