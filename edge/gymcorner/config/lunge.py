"""Lunge form thresholds (`coach/lunge.py`, `coach/lunge_bottom.py`)."""

from __future__ import annotations

from pydantic import Field

from gymcorner.config.base import Section


class LungeConfig(Section):
    """Lunge: from the side, the front knee behind the toes and the trunk upright, every frame;
    at each rep's bottom, its depth (any view), step width and front knee (front view)."""

    min_flexion_deg: float = Field(
        60.0, ge=0, le=180, description="Judged while the front knee bends at least this far (a lunge in progress)."
    )
    knee_over_toes_femur: float = Field(
        -0.05,
        ge=-2,
        le=2,
        description="Knee over toes when the front knee is further ahead of its toes than this × femur (+ ahead).",
    )
    torso_lean_max_deg: float = Field(
        30.0, ge=0, le=90, description="Torso lean when the trunk tilts further than this from vertical."
    )
    hold_frames: int = Field(5, ge=1, le=300, description="Consecutive frames a lunge fault must hold.")
    side_on_max_ratio: float = Field(
        0.35, gt=0, le=2, description="Judged only when shoulder span / torso length is below this (side view)."
    )
    depth_max_hip_above_knee_shins: float = Field(
        0.5,
        ge=-1,
        le=2,
        description="Any view, per rep: shallow when at the rep's bottom the front hip is still more than this × "
        "the front shin's height above the front knee (0: thigh level; 0.5: about 30° above level).",
    )
    narrow_step_shoulders: float = Field(
        0.3,
        ge=0,
        le=3,
        description="Front view, per rep: feet on one line (tightrope) when at the bottom the ankles are less than "
        "this × shoulder span apart sideways.",
    )
    wide_step_shoulders: float = Field(
        1.5,
        gt=0,
        le=5,
        description="Front view, per rep: feet too wide when at the bottom the ankles are more than this × "
        "shoulder span apart sideways.",
    )
    knee_valgus_shoulders: float = Field(
        0.3,
        ge=0,
        le=3,
        description="Front view, per rep: front knee caving in when at the bottom it sits more than this × "
        "shoulder span inside its hip-ankle line (towards the body's midline).",
    )
    widths_max_off_square_deg: float = Field(
        10.0,
        ge=0,
        le=45,
        description="Step width and knee valgus are judged only when the body is within this many degrees of "
        "square to the camera at the bottom (each 5° shows about 0.2 shoulder spans of the step's length as width).",
    )
