"""The push-up coach: straight body and full depth, judged during each rep.

Body line: the hip's distance from the shoulder-ankle line, in lengths of that line,
positive when the hip hangs below it ("hips sag", a hollow back) and negative when it
rises above it ("hips pike"). Judged only while a rep is in progress and the camera sees
the body from the side (the shoulders look narrow against the body's length): a pike
held between sets is a rest, not a fault, and from the front the line cannot be seen.
Depth: the shoulders must come down to elbow height at the bottom of each rep.
Both are judged only while the arms bend: on straight arms the shoulders sit about a
whole upper arm above the elbows, and a raised hip there is a rest between sets (a
downward dog), not a fault; a "rep" whose arms never bent is some other movement.
Both are judged only while the arms bend: on straight arms the shoulders sit about a
whole upper arm above the elbows, and a raised hip there is a rest between sets (a
downward dog), not a fault; a "rep" whose arms never bent is some other movement.

Head drop (the neck lets go and the head hangs towards the floor), judged during a rep
from the view that shows it:

* side view: the ear against the hip-shoulder line (extended past the shoulder), in torso
  lengths, positive when it hangs below; a neutral neck keeps the ear near that line;
* front view (camera low, in front): with a neutral neck the face points at the floor, so
  the nose, which sits about half a head's width in front of the ears, shows well below
  them. When the head hangs the chin tucks, the face turns towards the feet and the crown
  to the camera, and the nose rises to the ears' height. So: head drop when the nose is
  less than a fraction of the ear span below the ears while it is also below the shoulder
  line (a person looking up at the camera also shows the nose level with the ears, but
  with the head raised above the shoulders).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gymcorner.coach.rules import FormRule
from gymcorner.config import PushupConfig
from gymcorner.motion import geometry as geo
from gymcorner.motion.arrays import FloatArray
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

_SIDES = {
    "left": (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_HIP, L.LEFT_ANKLE),
    "right": (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_HIP, L.RIGHT_ANKLE),
}
_EARS = {"left": L.LEFT_EAR, "right": L.RIGHT_EAR}
_FACE = (L.NOSE, L.LEFT_EAR, L.RIGHT_EAR, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
_ARMS = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_WRIST, L.RIGHT_WRIST)


@dataclass(frozen=True)
class PushupMetrics:
    side_on: bool = False
    in_rep: bool = False
    hip_below_line: float | None = None  # in shoulder-ankle lengths; + sag, - pike
    shoulder_below_elbow: float | None = None  # in upper-arm lengths; >= 0 at full depth
    rep_depth_reached: float | None = None  # set on the frame a rep ends: deepest shoulder_below_elbow
    ear_below_body_line: float | None = None  # side view: in hip-shoulder lengths; + the head hangs
    nose_below_ears: float | None = None  # front view: in ear spans; small = face turned to the feet
    nose_below_shoulders: float | None = None  # front view: in shoulder spans; + below the shoulder line
    elbow_span_shoulders: float | None = None  # front view: elbow span / shoulder span
    shoulders_above_wrists: float | None = None  # front view: in shoulder spans
    shoulders_y_px: float | None = None  # image height of the shoulders (y down): largest at a rep's bottom
    rep_bottom_elbow_span: float | None = None  # set on the frame a rep ends: elbow_span_shoulders at its bottom


def below_line(a: FloatArray, b: FloatArray, point: FloatArray) -> float | None:
    """Signed distance of `point` from the line a->b, in lengths of a-b, + when below it in
    the image (whichever way the line runs); None for a degenerate line."""
    line = b - a
    length = float(np.linalg.norm(line))
    if length <= 0 or line[0] == 0:
        return None
    cross = line[0] * (point[1] - a[1]) - line[1] * (point[0] - a[0])
    return float(np.sign(line[0]) * cross / length / length)


def _front_head(px: FloatArray, vis: FloatArray, min_visibility: float) -> tuple[float | None, float | None]:
    """(nose below the ears in ear spans, nose below the shoulder line in shoulder spans)."""
    if float(vis[list(_FACE)].min()) < min_visibility:
        return None, None
    ear_span = float(np.linalg.norm(px[L.LEFT_EAR] - px[L.RIGHT_EAR]))
    shoulder_span = float(np.linalg.norm(px[L.LEFT_SHOULDER] - px[L.RIGHT_SHOULDER]))
    if ear_span <= 0 or shoulder_span <= 0:
        return None, None
    ears_y = float(px[L.LEFT_EAR, 1] + px[L.RIGHT_EAR, 1]) / 2
    shoulders_y = float(px[L.LEFT_SHOULDER, 1] + px[L.RIGHT_SHOULDER, 1]) / 2
    nose_y = float(px[L.NOSE, 1])
    return (nose_y - ears_y) / ear_span, (nose_y - shoulders_y) / shoulder_span


def _shoulders_y(px: FloatArray, vis: FloatArray, min_visibility: float) -> float | None:
    if min(float(vis[L.LEFT_SHOULDER]), float(vis[L.RIGHT_SHOULDER])) < min_visibility:
        return None
    return float(px[L.LEFT_SHOULDER, 1] + px[L.RIGHT_SHOULDER, 1]) / 2


def _front_arms(px: FloatArray, vis: FloatArray, min_visibility: float) -> tuple[float | None, float | None]:
    """(elbow span in shoulder spans, shoulders' height above the wrists in shoulder spans)."""
    if float(vis[list(_ARMS)].min()) < min_visibility:
        return None, None
    shoulder_span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    if shoulder_span <= 0:
        return None, None
    elbow_span = abs(float(px[L.LEFT_ELBOW, 0] - px[L.RIGHT_ELBOW, 0]))
    shoulders_y = float(px[L.LEFT_SHOULDER, 1] + px[L.RIGHT_SHOULDER, 1]) / 2
    wrists_y = float(px[L.LEFT_WRIST, 1] + px[L.RIGHT_WRIST, 1]) / 2
    return elbow_span / shoulder_span, (wrists_y - shoulders_y) / shoulder_span


def pushup_metrics(sample: PoseSample, min_visibility: float, side_on_max_ratio: float) -> PushupMetrics | None:
    if sample.image is None:
        return None
    px = sample.pixels().astype(np.float64)
    vis = sample.visibility().astype(np.float64)
    side = geo.best_seen_side(vis, _SIDES, min_visibility)
    if side is None:  # no body line (from the front the feet are often hidden); the head may show
        nose_ears, nose_shoulders = _front_head(px, vis, min_visibility)
        elbows, above_wrists = _front_arms(px, vis, min_visibility)
        return PushupMetrics(
            nose_below_ears=nose_ears,
            nose_below_shoulders=nose_shoulders,
            elbow_span_shoulders=elbows,
            shoulders_above_wrists=above_wrists,
            shoulders_y_px=_shoulders_y(px, vis, min_visibility),
        )
    shoulder, elbow, hip, ankle = (px[i] for i in _SIDES[side])
    length = float(np.linalg.norm(ankle - shoulder))
    if length <= 0:
        return PushupMetrics()
    # The sign of the hip's distance from the line is "down" in the image whichever way
    # the person faces.
    below = below_line(shoulder, ankle, hip)
    shoulder_span = abs(float(px[L.LEFT_SHOULDER, 0] - px[L.RIGHT_SHOULDER, 0]))
    side_on = shoulder_span / length < side_on_max_ratio
    upper_arm = float(np.linalg.norm(elbow - shoulder))
    depth = float(shoulder[1] - elbow[1]) / upper_arm if upper_arm > 0 else None
    ear = _EARS[side]
    ear_below = below_line(hip, shoulder, px[ear]) if side_on and vis[ear] >= min_visibility else None
    nose_ears, nose_shoulders = (None, None) if side_on else _front_head(px, vis, min_visibility)
    elbows, above_wrists = (None, None) if side_on else _front_arms(px, vis, min_visibility)
    return PushupMetrics(
        side_on=side_on,
        hip_below_line=0.0 if below is None else below,
        shoulder_below_elbow=depth,
        ear_below_body_line=ear_below,
        nose_below_ears=nose_ears,
        nose_below_shoulders=nose_shoulders,
        elbow_span_shoulders=elbows,
        shoulders_above_wrists=above_wrists,
        shoulders_y_px=_shoulders_y(px, vis, min_visibility),
    )


def _lowering(m: PushupMetrics, c: PushupConfig) -> bool:
    """The arms are bending: the body is being lowered, not held on straight arms (where a
    raised hip is a rest such as a downward dog between sets, not a push-up fault)."""
    return m.shoulder_below_elbow is None or m.shoulder_below_elbow >= -c.straight_arm_upper_arm


def _sag(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.hip_below_line is None or not m.side_on:
        return None
    return m.in_rep and _lowering(m, c) and m.hip_below_line > c.hips_sag_line


def _pike(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.hip_below_line is None or not m.side_on:
        return None
    return m.in_rep and _lowering(m, c) and m.hip_below_line < -c.hips_pike_line


def _head_drop(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.side_on:
        if m.ear_below_body_line is None:
            return None
        return m.in_rep and m.ear_below_body_line > c.head_drop_side_line
    if m.nose_below_ears is None or m.nose_below_shoulders is None:
        return None
    return m.in_rep and m.nose_below_shoulders > 0 and m.nose_below_ears < c.head_drop_front_ear_spans


def _shallow(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.rep_depth_reached is None:
        return None
    if m.rep_depth_reached < -c.straight_arm_upper_arm:
        return None  # the arms never bent: the counter saw some other movement, not a push-up
    return m.rep_depth_reached < -c.depth_tolerance_upper_arm


def _elbow_flare(m: PushupMetrics, c: PushupConfig) -> bool | None:
    if m.rep_bottom_elbow_span is None:
        return None
    return m.rep_bottom_elbow_span > c.elbow_flare_shoulder_spans


_ANY_VIEW = frozenset({"frontal", "lateral", "unknown"})
# The body line needs the side; its own side-on test (shoulder span against body length)
# gates it on every frame too, so "unknown" frames (the view tracker settling) still count.
_BODY_LINE_VIEWS = frozenset({"lateral", "unknown"})

PUSHUP_RULES: tuple[FormRule[PushupMetrics, PushupConfig], ...] = (
    FormRule(
        code="hips_sag",
        text="Hips sagging: brace your core and keep a straight line from shoulders to heels.",
        views=_BODY_LINE_VIEWS,
        check=_sag,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"hip_below_line": m.hip_below_line},
    ),
    FormRule(
        code="hips_pike",
        text="Hips too high: lower your hips into one straight line with your shoulders and heels.",
        views=_BODY_LINE_VIEWS,
        check=_pike,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {"hip_below_line": m.hip_below_line},
    ),
    FormRule(
        code="head_drop",
        text="Head dropping: keep your neck long, in line with your back; look at the floor just ahead of your hands.",
        views=frozenset({"frontal", "lateral"}),
        check=_head_drop,
        hold_frames=lambda c: c.hold_frames,
        details=lambda m: {
            "ear_below_body_line": m.ear_below_body_line,
            "nose_below_ears": m.nose_below_ears,
        },
    ),
    FormRule(
        code="elbow_flare",
        text="Elbows flaring out: tuck them in, about 45 degrees from your body, as you lower.",
        views=frozenset({"frontal"}),
        check=_elbow_flare,
        hold_frames=lambda c: 1,
        details=lambda m: {"elbow_span_shoulders": m.rep_bottom_elbow_span},
    ),
    FormRule(
        code="partial_range",
        text="Partial push-up: lower your chest until your shoulders reach elbow height.",
        views=_ANY_VIEW,
        check=_shallow,
        hold_frames=lambda c: 1,
        details=lambda m: {"shoulder_below_elbow": m.rep_depth_reached},
    ),
)
