"""Range and rep-shape thresholds of the pull-up, dip and jumping jack (`coach/ranges.py`,
`coach/rep_shape.py`), read from world landmarks, per rep."""

from __future__ import annotations

from pydantic import Field

from gymcorner.config.base import Section


class PullupConfig(Section):
    """Pull-up range, hang and leg swing, per rep, from world landmarks; lengths in shoulder widths."""

    chin_over_bar_min_nose_above_wrists: float = Field(
        0.15,
        ge=-2,
        le=3,
        description="A rep whose nose never rises more than this × shoulder width above the wrists (the bar) "
        "did not bring the chin over the bar.",
    )
    full_hang_min_elbow_deg: float = Field(
        155.0,
        ge=90,
        le=180,
        description="A rep whose straightest elbow (world angle, both arms' mean) in the hang before it stays "
        "under this did not start from a full hang.",
    )
    kipping_max_leg_swing_deg: float = Field(
        30.0,
        gt=0,
        le=180,
        description="Kipping when the thighs' angle from the vertical moves more than this over a rep "
        "(largest minus smallest).",
    )


class DipConfig(Section):
    """Dip depth and shoulders, per rep, from world landmarks (any view)."""

    depth_tolerance_upper_arm: float = Field(
        0.1,
        ge=-1,
        le=2,
        description="Shoulders must come down to elbow height, or within this × upper-arm length above it.",
    )
    shoulder_shrug_shoulder_widths: float = Field(
        0.3,
        gt=0,
        le=2,
        description="Shoulders shrugged when the ears-to-shoulders distance at the bottom of a rep is more than "
        "this × shoulder width shorter than at the lockout before it.",
    )


class JumpingJackConfig(Section):
    """Jumping-jack range, per rep, from world landmarks (any view); lengths in shoulder widths."""

    arms_min_wrists_above_nose: float = Field(
        0.3,
        ge=-2,
        le=3,
        description="Arms overhead: at some point of the rep the wrists rise this × shoulder width above the nose.",
    )
    feet_min_ankle_span: float = Field(
        1.2,
        ge=0,
        le=5,
        description="Feet apart: at some point of the rep the ankles are this × shoulder width apart.",
    )
