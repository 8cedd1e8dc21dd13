"""Range of motion per rep for pull-ups, dips and jumping jacks: did the rep go all the way?

Each is a height or a width reached at some point of the rep, so each is the largest value
of one per-frame measure over the rep's window (`RepWindow`: from the end of the previous
rep to the end of this one, so that a pull-up's hang before the rep belongs to it). All are
read from world landmarks, in metres, so that the view does not matter: the world's y axis
points down with a level camera, and lengths are divided by a body length of the same
frame (shoulder width, upper arm).

* pull-up, chin over the bar: the nose above the wrists (the hands hold the bar), shoulder
  widths;
* dip, depth: the shoulders below the elbows, upper-arm lengths (0: at elbow height);
* jumping jack, full range: the wrists above the nose, shoulder widths, and the ankles'
  horizontal distance, shoulder widths.

A rep is judged on a measure only if that measure was seen on 80 % of the rep's
frames: the largest value of a window whose landmarks were often hidden is no evidence.

The same rep-end frame carries the pull-up's hang and leg swing and the dip's shoulders
(`rep_shape.py`: the full hang, kipping and shrug rules are declared here with the range
rules, one engine per exercise).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gymcorner.coach.rules import FormRule
from gymcorner.config import DipConfig, JumpingJackConfig, PullupConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_ARMS = ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW))


@dataclass(frozen=True)
class RangeMetrics:
    """Per frame, and (the `rep_` fields) the largest value of the rep on the frame it ends."""

    nose_above_wrists: float | None = None  # shoulder widths
    shoulders_below_elbows: float | None = None  # upper-arm lengths
    wrists_above_nose: float | None = None  # shoulder widths
    ankle_span: float | None = None  # shoulder widths, horizontal
    rep_nose_above_wrists: float | None = None
    rep_shoulders_below_elbows: float | None = None
    rep_wrists_above_nose: float | None = None
    rep_ankle_span: float | None = None
    rep_hang_elbow_deg: float | None = None  # straightest elbow in the hang before the rep
    rep_leg_swing_deg: float | None = None  # thighs' angle from vertical, largest - smallest
    rep_shoulder_shrug: float | None = None  # ears-to-shoulders shortening, lockout -> bottom, shoulder widths


_MIN_SEEN = 0.8  # fraction of a rep's frames a measure must be seen on for the rep to be judged on it
_PER_FRAME = ("nose_above_wrists", "shoulders_below_elbows", "wrists_above_nose", "ankle_span")


def range_metrics(sample: PoseSample, min_visibility: float) -> RangeMetrics | None:
    if sample.image is None or sample.world is None or not np.isfinite(sample.world).all():
        return None
    w = sample.world.astype(np.float64)
    vis = sample.visibility()

    def ok(*points: L) -> bool:
        return bool(min(float(vis[p]) for p in points) >= min_visibility)

    shoulders_seen = ok(L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    width = float(np.linalg.norm(w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER])) if shoulders_seen else 0.0
    nose_wrists = wrists_nose = ankles = None
    if width > 0 and ok(L.NOSE, L.LEFT_WRIST, L.RIGHT_WRIST):
        wrists_y = float(w[L.LEFT_WRIST, 1] + w[L.RIGHT_WRIST, 1]) / 2
        nose_wrists = (wrists_y - float(w[L.NOSE, 1])) / width
        wrists_nose = -nose_wrists
    if width > 0 and ok(L.LEFT_ANKLE, L.RIGHT_ANKLE):
        ankles = float(np.linalg.norm((w[L.LEFT_ANKLE] - w[L.RIGHT_ANKLE])[[0, 2]])) / width
    below = []
    for shoulder, elbow in _ARMS:
        upper = float(np.linalg.norm(w[shoulder] - w[elbow]))
        if ok(shoulder, elbow) and upper > 0:
            below.append(float(w[shoulder, 1] - w[elbow, 1]) / upper)
    return RangeMetrics(
        nose_above_wrists=nose_wrists,
        shoulders_below_elbows=float(np.mean(below)) if below else None,
        wrists_above_nose=wrists_nose,
        ankle_span=ankles,
    )


class RepWindow:
    """The largest value of each per-frame measure since the last rep ended, put on the
    frame a rep ends."""

    def __init__(self) -> None:
        self._best: dict[str, float] = {}
        self._seen: dict[str, int] = {}  # frames of the window on which each measure was seen
        self._frames = 0

    def reset(self) -> None:
        self._best, self._seen, self._frames = {}, {}, 0

    def update(self, metrics: RangeMetrics | None, rep_ended: bool) -> RangeMetrics | None:
        self._frames += 1
        if metrics is not None:
            for name in _PER_FRAME:
                value = getattr(metrics, name)
                if value is not None:
                    self._best[name] = max(value, self._best.get(name, value))
                    self._seen[name] = self._seen.get(name, 0) + 1
        if not rep_ended:
            return metrics
        # A measure seen on under half of the window's frames may have missed its extreme
        # (a wrist out of the frame at the top): that rep is not judged on it.
        best = {k: v for k, v in self._best.items() if self._seen[k] >= _MIN_SEEN * self._frames}
        self._best, self._seen, self._frames = {}, {}, 0
        out = metrics if metrics is not None else RangeMetrics()
        return replace(out, **{f"rep_{name}": best.get(name) for name in _PER_FRAME})


def _at_most(value: float | None, floor: float) -> bool | None:
    return None if value is None else value < floor


def _chin(m: RangeMetrics, c: PullupConfig) -> bool | None:
    return _at_most(m.rep_nose_above_wrists, c.chin_over_bar_min_nose_above_wrists)


def _hang(m: RangeMetrics, c: PullupConfig) -> bool | None:
    return _at_most(m.rep_hang_elbow_deg, c.full_hang_min_elbow_deg)


def _kip(m: RangeMetrics, c: PullupConfig) -> bool | None:
    return None if m.rep_leg_swing_deg is None else m.rep_leg_swing_deg > c.kipping_max_leg_swing_deg


def _shrug(m: RangeMetrics, c: DipConfig) -> bool | None:
    return None if m.rep_shoulder_shrug is None else m.rep_shoulder_shrug > c.shoulder_shrug_shoulder_widths


def _dip(m: RangeMetrics, c: DipConfig) -> bool | None:
    return _at_most(m.rep_shoulders_below_elbows, -c.depth_tolerance_upper_arm)


def _arms(m: RangeMetrics, c: JumpingJackConfig) -> bool | None:
    return _at_most(m.rep_wrists_above_nose, c.arms_min_wrists_above_nose)


def _feet(m: RangeMetrics, c: JumpingJackConfig) -> bool | None:
    return _at_most(m.rep_ankle_span, c.feet_min_ankle_span)


_ANY_VIEW = frozenset({"frontal", "lateral", "unknown"})
# A bent elbow at the hang points out sideways (an overhand grip): across the camera's
# view from the front or behind, toward it from the side, where only the depth the model
# guesses would show it.
_FACING = frozenset({"frontal", "unknown"})

PULLUP_RULES: tuple[FormRule[RangeMetrics, PullupConfig], ...] = (
    FormRule(
        code="chin_below_bar",
        text="Pull higher: bring your chin over the bar.",
        views=_ANY_VIEW,
        check=_chin,
        hold_frames=lambda c: 1,
        details=lambda m: {"nose_above_wrists": m.rep_nose_above_wrists},
    ),
    FormRule(
        code="no_full_hang",
        text="Start each pull-up from a full hang: straighten your arms at the bottom.",
        views=_FACING,
        check=_hang,
        hold_frames=lambda c: 1,
        details=lambda m: {"hang_elbow_deg": m.rep_hang_elbow_deg},
    ),
    FormRule(
        code="kipping",
        text="No swinging: keep your legs still and pull with your arms and back.",
        views=_ANY_VIEW,
        check=_kip,
        hold_frames=lambda c: 1,
        details=lambda m: {"leg_swing_deg": m.rep_leg_swing_deg},
    ),
)

DIP_RULES: tuple[FormRule[RangeMetrics, DipConfig], ...] = (
    FormRule(
        code="shallow_dip",
        text="Dip deeper: lower until your shoulders reach elbow height.",
        views=_ANY_VIEW,
        check=_dip,
        hold_frames=lambda c: 1,
        details=lambda m: {"shoulders_below_elbows": m.rep_shoulders_below_elbows},
    ),
    FormRule(
        code="shoulder_shrug",
        text="Keep your shoulders down, away from your ears, as you lower.",
        views=_ANY_VIEW,
        check=_shrug,
        hold_frames=lambda c: 1,
        details=lambda m: {"shoulder_shrug": m.rep_shoulder_shrug},
    ),
)

JUMPING_JACK_RULES: tuple[FormRule[RangeMetrics, JumpingJackConfig], ...] = (
    FormRule(
        code="arms_not_overhead",
        text="Full jumping jacks: bring your hands all the way up over your head.",
        views=_ANY_VIEW,
        check=_arms,
        hold_frames=lambda c: 1,
        details=lambda m: {"wrists_above_nose": m.rep_wrists_above_nose},
    ),
    FormRule(
        code="feet_not_apart",
        text="Full jumping jacks: jump your feet out wider than your shoulders.",
        views=_ANY_VIEW,
        check=_feet,
        hold_frames=lambda c: 1,
        details=lambda m: {"ankle_span": m.rep_ankle_span},
    ),
)
