"""The squat coach: depth, stance width, knee tracking and knee valgus, per camera view.

Three steps per frame, all pure: measure (`squat_metrics.squat_metrics`, pixel space,
visibility gated), track the descent (`DescentTracker`, for depth judged once per descent), and
judge (`SQUAT_RULES`, data served by `RuleEngine`). Every threshold is in config and is
scaled by the body: shoulder width for the frontal spans, femur length for the lateral
distances, angles in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.hysteresis import ThresholdCycle
from gymcorner.coach.rules import FormRule, RuleEngine
from gymcorner.coach.squat_balance import Departure
from gymcorner.coach.squat_depth import HipDropTracker
from gymcorner.coach.squat_metrics import SquatMetrics, squat_metrics
from gymcorner.config import CoachConfig, SquatConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import View, ViewState, ViewTracker


class DescentTracker:
    """Follows one squat descent so that depth is judged once, when the person stands up,
    and what the body did at the bottom (the frame of most knee flexion) once the ascent
    is clearly under way: soon enough for the cue to belong to this rep."""

    def __init__(self, config: SquatConfig) -> None:
        self._cycle: ThresholdCycle[None] = ThresholdCycle(
            config.squat_min_knee_flexion_deg, config.rep_top_knee_flexion_deg
        )
        self._rise_deg = config.bottom_passed_knee_deg
        self._bottom: SquatMetrics | None = None
        self._bottom_judged = False

    @property
    def active(self) -> bool:
        return self._cycle.active

    def reset(self) -> None:
        self._cycle.reset()
        self._bottom, self._bottom_judged = None, False

    def update(self, metrics: SquatMetrics) -> SquatMetrics:
        flexion = metrics.knee_flexion_deg
        descent = self._cycle.update(None, flexion)
        out = metrics
        if self._cycle.active and flexion is not None:
            deepest = self._bottom.knee_flexion_deg if self._bottom is not None else None
            if deepest is None or flexion > deepest:
                self._bottom = metrics
            elif not self._bottom_judged and flexion < deepest - self._rise_deg:
                out = self._with_bottom(metrics)
        if descent is None:
            return out
        if not self._bottom_judged and self._bottom is not None:
            out = self._with_bottom(out)  # stood up faster than the ascent could be seen
        self._bottom, self._bottom_judged = None, False
        return replace(out, descent_max_flexion_deg=descent.peak)

    def _with_bottom(self, metrics: SquatMetrics) -> SquatMetrics:
        bottom = self._bottom
        assert bottom is not None
        self._bottom_judged = True
        return replace(
            metrics,
            bottom_hip_above_knee_femur=bottom.hip_above_knee_femur,
            bottom_knee_ahead_of_toes_femur=bottom.knee_ahead_of_toes_femur,
            bottom_hip_angle_deg=bottom.hip_angle_deg,
        )


def _all(*values: float | None) -> bool:
    return all(v is not None for v in values)


def _narrow(m: SquatMetrics, c: SquatConfig) -> bool | None:
    if not _all(m.ankle_span_px, m.shoulder_span_px):
        return None
    return m.ankle_span_px < m.shoulder_span_px * (1.0 - c.narrow_stance_delta_w)  # type: ignore[operator]


def _varus(m: SquatMetrics, c: SquatConfig) -> bool | None:
    if not _all(m.knee_span_px, m.ankle_span_px, m.shoulder_span_px):
        return None
    return m.knee_span_px > m.ankle_span_px + c.knee_varus_delta_k * m.shoulder_span_px  # type: ignore[operator]


def _valgus(m: SquatMetrics, c: SquatConfig) -> bool | None:
    # Seen from the front the image angle hides the bend (about half of it on real clips):
    # gate on the world-space flexion when the model gives it.
    flexion = m.knee_flexion_3d_deg if m.knee_flexion_3d_deg is not None else m.knee_flexion_deg
    if not _all(m.knee_span_px, m.ankle_span_px, flexion):
        return None
    if flexion < c.knee_valgus_min_flexion_deg:  # type: ignore[operator]
        return False
    return m.knee_span_px < m.ankle_span_px * (1.0 - c.knee_valgus_delta)  # type: ignore[operator]


def _forward_lean(m: SquatMetrics, c: SquatConfig) -> bool | None:
    if not _all(m.trunk_lean_deg, m.shin_lean_deg, m.knee_flexion_deg):
        return None
    over_shin = m.trunk_lean_deg - m.shin_lean_deg  # type: ignore[operator]
    return m.knee_flexion_deg >= c.squat_min_knee_flexion_deg and over_shin > c.trunk_lean_over_shin_max_deg  # type: ignore[operator]


def _shallow(m: SquatMetrics, c: SquatConfig) -> bool | None:
    if m.descent_max_flexion_deg is None:
        return None
    return m.descent_max_flexion_deg < c.depth_min_knee_flexion_deg


def _shallow_front(m: SquatMetrics, c: SquatConfig) -> bool | None:
    # From the front the knee angle is foreshortened; the hip's height above the knee is not.
    if m.descent_bottom_hip_above_knee_femur is None:
        return None
    return m.descent_bottom_hip_above_knee_femur > c.front_depth_max_hip_above_knee_femur


def _heel_lift(m: SquatMetrics, c: SquatConfig) -> bool | None:
    if m.descent_heel_lift_femur is None:
        return None
    return m.descent_heel_lift_femur > c.heel_lift_femur


def _lateral_shift(m: SquatMetrics, c: SquatConfig) -> bool | None:
    if m.descent_lateral_shift_shoulders is None:
        return None
    return m.descent_lateral_shift_shoulders > c.lateral_shift_shoulder_spans


def _knees_over_toes(m: SquatMetrics, c: SquatConfig) -> bool | None:
    # Judged at the bottom of each descent: knees far past the toes while the hips stay
    # high above the knees. In a deep squat the knees pass the toes too, but the hips
    # have come down to them; a knee-first squat gets there with the hips still high.
    ahead, above = m.bottom_knee_ahead_of_toes_femur, m.bottom_hip_above_knee_femur
    if ahead is None or above is None:
        return None
    return ahead > c.knees_over_toes_femur and above > c.knees_over_toes_hip_above_knee_femur


def _too_deep(m: SquatMetrics, c: SquatConfig) -> bool | None:
    # Judged at the bottom of each descent: the hip well below the knee and the
    # trunk-thigh angle closed past a controlled squat's, the two things the landmarks
    # show of the pelvis tucking under (there is no spine landmark to show the lumbar curve).
    below, angle = m.bottom_hip_above_knee_femur, m.bottom_hip_angle_deg
    if below is None or angle is None:
        return None
    return -below > c.too_deep_hip_below_knee_femur and angle < c.too_deep_hip_angle_deg


_FRONTAL = frozenset({View.FRONTAL.value})
_LATERAL = frozenset({View.LATERAL.value})


def _spans(m: SquatMetrics) -> dict[str, float | None]:
    return {"shoulder_span_px": m.shoulder_span_px, "ankle_span_px": m.ankle_span_px, "knee_span_px": m.knee_span_px}


SQUAT_RULES: tuple[FormRule[SquatMetrics, SquatConfig], ...] = (
    FormRule(
        code="narrow_stance",
        text="Narrow stance: set your feet at least shoulder-width apart.",
        views=_FRONTAL,
        check=_narrow,
        hold_frames=lambda c: c.narrow_stance_hold_frames,
        details=_spans,
    ),
    FormRule(
        code="knee_varus",
        text="Knee varus: your knees are bowing out past your feet; keep them over your toes.",
        views=_FRONTAL,
        check=_varus,
        hold_frames=lambda c: c.knee_varus_hold_frames,
        details=_spans,
    ),
    FormRule(
        code="knee_valgus",
        text="Knee valgus: your knees are caving in; push them out over your toes.",
        views=_FRONTAL,
        check=_valgus,
        hold_frames=lambda c: c.knee_valgus_hold_frames,
        details=lambda m: {**_spans(m), "knee_flexion_3d_deg": m.knee_flexion_3d_deg},
    ),
    FormRule(
        code="posture_incorrect",
        reason="forward_lean",
        text="Posture incorrect: you are leaning too far forward; keep your chest up.",
        views=_LATERAL,
        check=_forward_lean,
        hold_frames=lambda c: c.trunk_lean_hold_frames,
        details=lambda m: {"trunk_lean_deg": m.trunk_lean_deg, "shin_lean_deg": m.shin_lean_deg},
    ),
    FormRule(
        code="posture_incorrect",
        reason="shallow_depth",
        text="Posture incorrect: squat deeper; bring your hips down towards knee height.",
        views=_LATERAL,
        check=_shallow,
        hold_frames=lambda c: 1,
        details=lambda m: {"max_knee_flexion_deg": m.descent_max_flexion_deg},
    ),
    FormRule(
        code="posture_incorrect",
        reason="shallow_depth",
        variant="frontal",
        text="Posture incorrect: squat deeper; bring your hips down towards knee height.",
        views=_FRONTAL,
        check=_shallow_front,
        hold_frames=lambda c: 1,
        details=lambda m: {"hip_above_knee_femur": m.descent_bottom_hip_above_knee_femur},
    ),
    FormRule(
        code="heel_lift",
        text="Heels lifting: keep your whole foot on the floor and sit back into your hips.",
        views=_LATERAL,
        check=_heel_lift,
        hold_frames=lambda c: 1,
        details=lambda m: {"heel_lift_femur": m.descent_heel_lift_femur},
    ),
    FormRule(
        code="lateral_shift",
        text="Shifting to one side: keep your weight even on both feet, hips centred over them.",
        views=_FRONTAL,
        check=_lateral_shift,
        hold_frames=lambda c: 1,
        details=lambda m: {"lateral_shift_shoulder_spans": m.descent_lateral_shift_shoulders},
    ),
    FormRule(
        code="posture_incorrect",
        reason="knees_over_toes",
        text="Posture incorrect: your knees travel far past your toes; sit back into your hips.",
        views=_LATERAL,
        check=_knees_over_toes,
        hold_frames=lambda c: 1,
        details=lambda m: {
            "knee_ahead_of_toes_femur": m.bottom_knee_ahead_of_toes_femur,
            "hip_above_knee_femur": m.bottom_hip_above_knee_femur,
        },
    ),
    FormRule(
        code="posture_incorrect",
        reason="too_deep",
        text="Posture incorrect: you are sinking too deep and your pelvis tucks under; stop just below parallel.",
        views=_LATERAL,
        check=_too_deep,
        hold_frames=lambda c: 1,
        details=lambda m: {
            "hip_above_knee_femur": m.bottom_hip_above_knee_femur,
            "hip_angle_deg": m.bottom_hip_angle_deg,
        },
    ),
)


@dataclass(frozen=True)
class SquatFrame:
    """What the squat analyser concluded about one frame."""

    t_s: float
    view: ViewState
    metrics: SquatMetrics | None
    events: list[FeedbackEvent]
    active: list[str]
    onsets: list[str]


class SquatCoach:
    """View tracking, measurement and rules for one person doing squats."""

    exercise = "squat"

    def __init__(self, config: CoachConfig) -> None:
        self._cfg = config
        self._view = ViewTracker(config.view)
        self._descent = DescentTracker(config.squat)
        self._hip_drop = HipDropTracker(config.squat)
        self._heel = Departure(signed=True)
        self._shift = Departure(signed=False)
        self._engine: RuleEngine[SquatMetrics, SquatConfig] = RuleEngine(
            SQUAT_RULES, config.cooldown_s, self.exercise, config.messages
        )

    def reset(self) -> None:
        self._view.reset()
        self._descent.reset()
        self._hip_drop.reset()
        self._heel.reset()
        self._shift.reset()
        self._engine.reset()

    def update(self, sample: PoseSample, view: ViewState | None = None) -> SquatFrame:
        """`view` comes from the caller when it already tracks the view (the Coach)."""
        if view is None:
            view = self._view.update(sample)
        metrics = squat_metrics(sample, self._cfg.min_visibility)
        if metrics is None:
            self._descent.reset()
            self._hip_drop.reset()
            self._heel.reset()
            self._shift.reset()
        else:
            metrics = self._descent.update(metrics)
            above, bottom = self._hip_drop.update(sample.t_s, metrics.hip_knee_height_px, metrics.femur_px)
            cfg = self._cfg.squat
            flexion = metrics.knee_flexion_deg
            standing_side = flexion is not None and flexion < cfg.rep_top_knee_flexion_deg
            standing_front = above is not None and 1.0 - above < cfg.front_descent_end_drop_femur
            metrics = replace(
                metrics,
                hip_above_knee_standing_femur=above,
                descent_bottom_hip_above_knee_femur=bottom,
                descent_heel_lift_femur=self._heel.update(
                    self._descent.active, standing_side, metrics.heel_above_toe_femur
                ),
                descent_lateral_shift_shoulders=self._shift.update(
                    self._hip_drop.active, standing_front, metrics.hip_shift_shoulders
                ),
            )
        events = self._engine.update(sample.t_s, view.view.value, metrics, self._cfg.squat)
        return SquatFrame(sample.t_s, view, metrics, events, self._engine.active_codes(), self._engine.onsets())
