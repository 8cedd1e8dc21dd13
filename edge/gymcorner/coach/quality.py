"""A quality score per rep, 0-100, that says what cost the points.

A rep starts at 100. Points come off for:

* range: a rep reaching `full_range_phase` (1.0 is the exercise's nominal bottom, see
  `reps.PHASES`) loses nothing; below it the loss grows linearly to `range_points` at the
  shallowest rep that still counts (`reps.min_depth`). A range fault raised by the form
  rules on the same rep (a shallow squat, a partial push-up) is the same cause and is not
  charged twice: the larger of the two is taken.
* each form fault raised during the rep: `fault_points`, or its own figure from
  `fault_points_by_code`;
* tempo: lowering faster than `controlled_down_s`, for the exercises where the lowering
  must be controlled.

Pure: the rep and the config in, the score out. A rep with no deduction scores 100; the
score never goes below 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gymcorner.coach.reps import Rep
from gymcorner.config import QualityConfig

# A form rule's verdict on the rep's range: charged as range, once. A pull-up's
# `no_full_hang` is not among them: `Rep.depth` measures the top of the pull, the hang is
# the other end of the movement, so it is charged as a fault of its own.
RANGE_FAULTS = frozenset(
    {"shallow_depth", "partial_range", "shallow_dip", "chin_below_bar", "arms_not_overhead", "feet_not_apart"}
)


@dataclass(frozen=True)
class Deduction:
    cause: str  # "range", "tempo" or a fault code
    points: int

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "points": self.points}


@dataclass(frozen=True)
class RepQuality:
    score: int
    deductions: tuple[Deduction, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "deductions": [d.to_dict() for d in self.deductions]}

    def summary(self) -> str:
        """'quality 60 (range -10, hips_sag -30)' or 'quality 100'."""
        if not self.deductions:
            return f"quality {self.score}"
        return f"quality {self.score} (" + ", ".join(f"{d.cause} -{d.points}" for d in self.deductions) + ")"


def range_points(depth: float, min_depth: float, config: QualityConfig) -> int:
    """Points lost for a rep whose deepest phase was `depth`."""
    full = config.full_range_phase
    if depth >= full:
        return 0
    span = full - min_depth
    if span <= 0:
        return config.range_points
    short = min(1.0, (full - depth) / span)
    return round(config.range_points * short)


def score_rep(rep: Rep, exercise: str, min_depth: float, config: QualityConfig) -> RepQuality:
    """The rep's score and what cost the points (largest first)."""
    deductions: list[Deduction] = []
    range_loss = range_points(rep.depth, min_depth, config)
    for fault in rep.faults:
        if fault in RANGE_FAULTS:
            range_loss = max(range_loss, config.fault_points_by_code.get(fault, config.fault_points))
    if range_loss:
        deductions.append(Deduction("range", range_loss))
    for fault in rep.faults:
        if fault not in RANGE_FAULTS:
            points = config.fault_points_by_code.get(fault, config.fault_points)
            if points:
                deductions.append(Deduction(fault, points))
    if exercise in config.tempo_exercises and rep.down_s < config.controlled_down_s and config.tempo_points:
        deductions.append(Deduction("tempo", config.tempo_points))
    deductions.sort(key=lambda d: (-d.points, d.cause))
    return RepQuality(max(0, 100 - sum(d.points for d in deductions)), tuple(deductions))
