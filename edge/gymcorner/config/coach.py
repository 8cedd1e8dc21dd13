"""What the coach judges and how the avatar moves."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gymcorner.coach.exercises import AUTO, ExerciseSetting
from gymcorner.coach.exercises import setting as exercise_setting
from gymcorner.config.base import Section
from gymcorner.config.lunge import LungeConfig
from gymcorner.config.ranges import DipConfig, JumpingJackConfig, PullupConfig


class ViewConfig(Section):
    """Frontal vs lateral camera view, with hysteresis.

    The body's yaw to the camera (shoulder and hip lines, world landmarks) decides: a
    person square to the camera (or with their back to it) is seen frontally, one turned
    side-on laterally. An image test (the hip between the feet) must also hold
    before a frontal view is taken.
    """

    frontal_max_yaw_deg: float = Field(
        35.0, ge=0, le=90, description="Frontal when the body is within this many degrees of square-on."
    )
    lateral_min_yaw_deg: float = Field(
        42.0, ge=0, le=90, description="Lateral when the body is turned at least this far from square-on."
    )
    square_on_width_ratio: float = Field(
        1.1,
        gt=0,
        le=5,
        description="(shoulder span + hip span) / torso length of a person square to the camera.",
    )
    hip_between_feet_margin: float = Field(
        0.25, ge=0, le=2, description="Frontal needs the hip midpoint within the ankles, ± this × ankle span."
    )
    hold_frames: int = Field(8, ge=1, le=300, description="Frames a new view must persist before it is taken.")
    min_visibility: float = Field(0.5, ge=0, le=1, description="Shoulders and hips need this visibility to judge.")
    limited_after_s: float = Field(
        6.0,
        gt=0,
        le=600,
        description="Seconds in a view that cannot see an exercise's main faults before the coach says where to "
        "stand (one view_limited event per exercise and session).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ViewConfig:
        if self.lateral_min_yaw_deg <= self.frontal_max_yaw_deg:
            raise ValueError("lateral_min_yaw_deg must be greater than frontal_max_yaw_deg (the hysteresis band)")
        return self


class SquatConfig(Section):
    """Squat form thresholds. Spans are in shoulder widths (frontal) or femur lengths
    (lateral), so they scale with the person and their distance to the camera."""

    narrow_stance_delta_w: float = Field(
        0.25, ge=0, le=2, description="Narrow stance when ankle span < shoulder width × (1 - Δw)."
    )
    narrow_stance_hold_frames: int = Field(3, ge=1, le=300, description="Narrow stance: consecutive observations.")
    knee_varus_delta_k: float = Field(
        0.55, ge=0, le=2, description="Knee varus when knee span > ankle span + Δk × shoulder width."
    )
    knee_varus_hold_frames: int = Field(10, ge=1, le=300, description="Knee varus: consecutive frames.")
    knee_valgus_delta: float = Field(
        0.35, ge=0, le=1, description="Valgus when knee span < ankle span × (1 - Δ): the knees cave in."
    )
    knee_valgus_hold_frames: int = Field(10, ge=1, le=300, description="Frames knee valgus must hold before the cue.")
    knee_valgus_min_flexion_deg: float = Field(
        45.0, ge=0, le=150, description="Knee cave is judged only once the knees bend this far."
    )
    squat_min_knee_flexion_deg: float = Field(
        35.0, ge=0, le=150, description="Knee flexion from which the person counts as squatting (descent begins)."
    )
    rep_top_knee_flexion_deg: float = Field(
        20.0, ge=0, le=90, description="Back below this flexion, the descent is over and its depth is judged."
    )
    trunk_lean_over_shin_max_deg: float = Field(
        34.0,
        ge=0,
        le=90,
        description="Lateral: 'forward lean' when the trunk leans this much further from vertical than the shins.",
    )
    trunk_lean_hold_frames: int = Field(5, ge=1, le=300, description="Frames forward lean must hold before the cue.")
    depth_min_knee_flexion_deg: float = Field(
        75.0, ge=0, le=180, description="Lateral: a descent whose deepest knee flexion stays below this is 'shallow'."
    )
    front_depth_max_hip_above_knee_femur: float = Field(
        0.5,
        ge=-1,
        le=2,
        description="Frontal: a descent whose hip stays more than this × standing femur length above the knee "
        "is 'shallow' (hip height seen true from the front; the femur measured standing).",
    )
    front_descent_drop_femur: float = Field(
        0.25,
        gt=0,
        le=1,
        description="Frontal: a descent begins when the hip has come down this × standing femur towards the knee.",
    )
    front_descent_end_drop_femur: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Frontal: the descent ends (its depth is judged) when the hip is back within this × femur.",
    )
    heel_lift_femur: float = Field(
        0.25,
        ge=0,
        le=2,
        description="Lateral, per descent: the heel rising more than this × femur length above its standing height "
        "relative to the toe is a heel lift.",
    )
    lateral_shift_shoulder_spans: float = Field(
        0.25,
        ge=0,
        le=2,
        description="Frontal, per descent: the hip centre moving sideways from its standing offset to the ankles' "
        "midpoint by more than this × shoulder span is a lateral shift.",
    )
    bottom_passed_knee_deg: float = Field(
        15.0,
        gt=0,
        le=90,
        description="A descent's bottom is judged once the knees have straightened this much from their deepest bend.",
    )
    knees_over_toes_femur: float = Field(
        0.3,
        ge=-1,
        le=3,
        description="Lateral, at a descent's bottom: knee ahead of the toes by more than this × femur length ...",
    )
    knees_over_toes_hip_above_knee_femur: float = Field(
        0.3,
        ge=-1,
        le=2,
        description="... while the hip is still this far (× femur length) above the knee: a knee-first squat.",
    )
    too_deep_hip_below_knee_femur: float = Field(
        0.3,
        ge=0,
        le=2,
        description="Lateral, at a descent's bottom: too deep when the hip sinks this far (× femur) below the knee ...",
    )
    too_deep_hip_angle_deg: float = Field(
        45.0,
        ge=0,
        le=180,
        description="... and the trunk-thigh angle closes below this (the pelvis tucks under).",
    )


class PushupConfig(Section):
    """Push-up form: body line judged during each rep, depth at its bottom."""

    hips_sag_line: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Hips sag when the hip hangs this far below the shoulder-ankle line (× its length).",
    )
    hips_pike_line: float = Field(
        0.12, gt=0, le=1, description="Hips pike when the hip rises this far above the line (× its length)."
    )
    hold_frames: int = Field(5, ge=1, le=300, description="Consecutive frames a body-line or head fault must hold.")
    head_drop_side_line: float = Field(
        0.35,
        gt=0,
        le=2,
        description="Side view: head drop when the ear hangs this far below the hip-shoulder line (× its length).",
    )
    head_drop_front_ear_spans: float = Field(
        0.7,
        gt=-1,
        le=3,
        description="Front view: head drop when the nose, below the shoulder line, is less than this × ear span "
        "below the ears (the face turned to the feet, the crown to the camera).",
    )
    depth_tolerance_upper_arm: float = Field(
        0.6, ge=0, le=2, description="Shoulders may stop this far (× upper-arm length) above elbow height."
    )
    straight_arm_upper_arm: float = Field(
        0.8,
        gt=0,
        le=2,
        description="Shoulders this far (× upper arm) or more above the elbows: arms straight, body not being "
        "lowered; body line and depth are judged only while the arms bend.",
    )
    side_on_max_ratio: float = Field(
        0.25,
        gt=0,
        le=1,
        description="Body line judged only when shoulder span / body length is below this (side view).",
    )
    elbow_flare_shoulder_spans: float = Field(
        2.4,
        gt=0,
        le=5,
        description="Front view, at a rep's bottom (shoulders nearest the wrists): elbows more than this × the "
        "shoulder span apart are flared.",
    )


class PlankConfig(Section):
    """Plank: hold time, and the body line while holding (side view)."""

    max_incline_deg: float = Field(
        35.0, ge=0, le=90, description="A hold: the shoulder-ankle line within this many degrees of horizontal."
    )
    hips_sag_line: float = Field(
        0.02,
        ge=-1,
        le=1,
        description="Hips sag when the hip is this far below the shoulder-ankle line (× its length; + below).",
    )
    hips_pike_line: float = Field(
        0.2, ge=-1, le=1, description="Hips pike when the hip rises this far above the line (× its length)."
    )
    hold_frames: int = Field(8, ge=1, le=300, description="Consecutive frames a body-line fault must hold.")
    side_on_max_ratio: float = Field(
        0.25,
        gt=0,
        le=1,
        description="Body line judged only when shoulder span / body length is below this (side view).",
    )


class CurlConfig(Section):
    """Bicep curl: a still, upright torso and elbows at the sides (side view)."""

    lean_back_max_deg: float = Field(
        15.0, ge=0, le=90, description="Lean back when the trunk tilts back from vertical by more than this."
    )
    elbow_drift_max_deg: float = Field(
        30.0, ge=0, le=180, description="Elbow drift when the upper arm swings this far in front of the trunk line."
    )
    curling_min_flexion_deg: float = Field(
        45.0, ge=0, le=180, description="Elbow drift is judged once the elbow bends this far (a curl in progress)."
    )
    hold_frames: int = Field(5, ge=1, le=300, description="Consecutive frames a curl fault must hold.")
    side_on_max_ratio: float = Field(
        0.35,
        gt=0,
        le=2,
        description="Judged only when shoulder span / torso length is below this (side view).",
    )


class RepsConfig(Section):
    """Repetition counting: the live phase state machine and the offline peak counter."""

    min_excursion: float = Field(
        0.35, gt=0, le=2, description="A rep must move the phase this far from the start level (1 = nominal range)."
    )
    return_fraction: float = Field(
        0.35, gt=0, lt=1, description="A rep ends when the phase is back within this fraction of its excursion."
    )
    min_depth: float = Field(
        0.6, ge=0, le=2, description="A movement that never reaches this phase is a partial rep, not counted."
    )
    max_start_phase: float = Field(
        0.5, ge=0, le=2, description="A rep may only begin from a start level this close to the nominal start position."
    )
    start_window_s: float = Field(4.0, gt=0, le=60, description="The start level is the lowest phase in this window.")
    ready_s: float = Field(0.3, ge=0, le=10, description="Be tracked this long before reps count (walking in).")
    max_gap_s: float = Field(
        1.0, gt=0, le=30, description="Landmarks hidden longer than this abandon the rep in progress."
    )
    min_visibility: float = Field(0.5, ge=0, le=1, description="Joints below this visibility do not feed the phase.")
    offline_sigma_s: float = Field(
        0.12, gt=0, le=2, description="Offline counter: Gaussian smoothing of the distance signal."
    )
    offline_min_prominence: float = Field(
        0.6,
        gt=0,
        le=10,
        description="Offline counter: a rep rises this far (torso lengths) from the start pose and back.",
    )


class QualityConfig(Section):
    """A score per rep, 0-100: points come off for each form fault raised on the rep, for
    range short of the full movement, and for an uncontrolled (too fast) lowering."""

    full_range_phase: float = Field(
        0.9,
        gt=0,
        le=2,
        description="A rep reaching this phase (1 = the exercise's nominal bottom) has its full range.",
    )
    range_points: int = Field(
        40,
        ge=0,
        le=100,
        description="Points off a rep that only just counts (phase at reps.min_depth); fewer nearer full range.",
    )
    fault_points: int = Field(30, ge=0, le=100, description="Points off for each form fault raised during the rep.")
    fault_points_by_code: dict[str, int] = Field(
        default_factory=dict,
        description="Points for particular faults instead of fault_points, e.g. narrow_stance = 15.",
    )
    controlled_down_s: float = Field(
        0.3, ge=0, le=10, description="Lowering faster than this is uncontrolled (exercises in tempo_exercises)."
    )
    tempo_points: int = Field(10, ge=0, le=100, description="Points off for an uncontrolled lowering.")
    tempo_exercises: list[str] = Field(
        default_factory=lambda: ["squat", "push_up", "lunge", "dip", "pull_up", "bicep_curl"],
        description="Exercises whose lowering must be controlled (a jumping jack is fast by design).",
    )
    good_min_score: int = Field(
        80, ge=0, le=100, description="A rep scoring at least this is a good rep in the set and session summaries."
    )


class SetsConfig(Section):
    """Sets and rest: a set ends when no rep follows for end_after_s; the rest is then timed."""

    end_after_s: float = Field(
        12.0, gt=0, le=600, description="A set ends when this long passes after its last rep without another."
    )
    rest_target_s: float = Field(
        90.0, ge=0, le=1800, description="Rest between sets; its end is announced (0: not announced)."
    )


class CoachConfig(Section):
    # The validator below turns TOML's string into the enum first, so the field also
    # accepts its strings when the models are made strict.
    exercise: ExerciseSetting = Field(
        AUTO,
        description="Exercise analysed; 'auto' follows the exercise recogniser (no form rules until it is sure).",
    )

    @field_validator("exercise", mode="before")
    @classmethod
    def _known_exercise(cls, value: object) -> ExerciseSetting:
        return exercise_setting(value)

    count_unknown: bool = Field(
        True,
        description="In 'auto' mode, count any repeated movement (label-free) until the exercise is known.",
    )
    min_visibility: float = Field(
        0.6, ge=0, le=1, description="Landmarks below this visibility never take part in a rule."
    )
    cooldown_s: float = Field(4.0, ge=0, le=600, description="Minimum time between two events of one code.")
    view: ViewConfig = Field(default_factory=ViewConfig)
    squat: SquatConfig = Field(default_factory=SquatConfig)
    pushup: PushupConfig = Field(default_factory=PushupConfig)
    plank: PlankConfig = Field(default_factory=PlankConfig)
    curl: CurlConfig = Field(default_factory=CurlConfig)
    lunge: LungeConfig = Field(default_factory=LungeConfig)
    pullup: PullupConfig = Field(default_factory=PullupConfig)
    dip: DipConfig = Field(default_factory=DipConfig)
    jumping_jack: JumpingJackConfig = Field(default_factory=JumpingJackConfig)
    reps: RepsConfig = Field(default_factory=RepsConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    sets: SetsConfig = Field(default_factory=SetsConfig)
    reference_file: Path | None = Field(
        None, strict=False, description="Gold reference rep (gymcorner reference record); each rep is compared with it."
    )
    reference_min_tolerance: float = Field(
        0.6,
        gt=0,
        le=10,
        description="A rep differs from the reference beyond this L2 distance (torso lengths), or 1.5× the "
        "spread of the reference video's own reps if larger.",
    )
    messages: dict[str, str] = Field(
        default_factory=dict, description="Override the text of an event code, e.g. knee_valgus = '...'."
    )


class AvatarConfig(Section):
    format: Literal["binary", "json"] = Field("binary", description="Payload of the avatar topic.")
    head_x_min: float = Field(-0.44, ge=-2, le=0, description="Head yaw: x at 90° to the left.")
    head_x_max: float = Field(0.44, ge=0, le=2, description="Head yaw: x at 90° to the right.")
    head_intervals: int = Field(18, ge=2, le=360, description="Head yaw: number of intervals.")
    head_step_deg: float = Field(10.0, gt=0, le=90, description="Head yaw: rotation per interval.")
    slerp_k: float = Field(1.0, gt=0, le=1, description="Limb rotations: slerp factor (1 = follow at once).")
    every_n_frames: int = Field(1, ge=1, le=30, description="Publish one avatar frame in this many.")
