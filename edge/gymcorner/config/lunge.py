"""Lunge form thresholds (`coach/lunge.py`)."""

from __future__ import annotations

from pydantic import Field

from gymcorner.config.base import Section


class LungeConfig(Section):
    """Lunge, from the side: the front knee behind the toes, the trunk upright."""

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
