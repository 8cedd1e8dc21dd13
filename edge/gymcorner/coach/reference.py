"""The "gold" reference rep: a trainer's recorded rep, compared with each user rep.

A reference holds the trainer's normalised pose (main joints, hip-centred, in torso
lengths: `reps.pose_vector`) at the start and at the bottom of one rep. Each user rep is
compared at the same two moments by the L2 distance between pose vectors; beyond the
tolerance, the feedback names the rep and the phase, and says what differs most in words
a person understands (hips higher or lower, chest more upright or leaning, stance wider
or narrower). Stored as plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.reps import _POSE_JOINTS, Rep, pose_vector
from gymcorner.errors import RecordingError
from gymcorner.motion.arrays import AnyFloatArray, FloatArray
from gymcorner.motion.geometry import midpoint
from gymcorner.motion.landmarks import Landmark as L

FORMAT_VERSION = 1
_J = {lm: i for i, lm in enumerate(_POSE_JOINTS)}


@dataclass(frozen=True)
class ReferenceRep:
    exercise: str
    start_pose: FloatArray  # pose_vector at the start of the rep
    bottom_pose: FloatArray  # pose_vector at its deepest frame
    tolerance: float  # L2 distance (torso lengths) beyond which a rep differs
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "exercise": self.exercise,
            "joints": [lm.name.lower() for lm in _POSE_JOINTS],
            "start_pose": [round(float(x), 5) for x in self.start_pose],
            "bottom_pose": [round(float(x), 5) for x in self.bottom_pose],
            "tolerance": self.tolerance,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ReferenceRep:
        """Parse `to_json` output; ValueError says what is wrong (the edge adds the file)."""
        try:
            if doc.get("v") != FORMAT_VERSION:
                raise ValueError(f"reference format {doc.get('v')} is not supported")
            size = 3 * len(_POSE_JOINTS)
            start, bottom = np.asarray(doc["start_pose"], float), np.asarray(doc["bottom_pose"], float)
            if start.shape != (size,) or bottom.shape != (size,):
                raise ValueError(f"reference poses must have {size} numbers")
            return cls(str(doc["exercise"]), start, bottom, float(doc["tolerance"]), str(doc.get("source", "")))
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"not a gymcorner reference rep: {err!r}") from err


def _joint(v: FloatArray, lm: L) -> FloatArray:
    joint: FloatArray = v.reshape(-1, 3)[_J[lm]]
    return joint


def _joint_midpoint(v: FloatArray, a: L, b: L) -> FloatArray:
    return midpoint(_joint(v, a), _joint(v, b))


def describe_difference(user: FloatArray, ref: FloatArray, phase: str = "bottom") -> str:
    """The largest readable difference between two normalised poses at one phase.

    At the bottom: hip height and trunk lean (what depth and posture are about); at the
    start: trunk lean and stance width (how the rep is set up).

    Poses are hip-centred and turned so the hip line runs along x (`reps.pose_vector`);
    world y points down. Hips: how far the knees sit below the hips (more = hips higher).
    Lean: how far the shoulders are ahead of or behind the hips, off the vertical. Stance:
    ankle separation along the hip line (depth is left out: it is BlazePose's weakest axis).
    """
    knees = (L.LEFT_KNEE, L.RIGHT_KNEE)
    shoulders = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    knee_drop = float(_joint_midpoint(user, *knees)[1] - _joint_midpoint(ref, *knees)[1])
    su, sr = _joint_midpoint(user, *shoulders), _joint_midpoint(ref, *shoulders)
    lean = float(np.hypot(su[0], su[2]) - np.hypot(sr[0], sr[2]))
    stance_u = abs(float(_joint(user, L.LEFT_ANKLE)[0] - _joint(user, L.RIGHT_ANKLE)[0]))
    stance_r = abs(float(_joint(ref, L.LEFT_ANKLE)[0] - _joint(ref, L.RIGHT_ANKLE)[0]))
    stance = stance_u - stance_r
    hips = (abs(knee_drop), "hips higher than the reference" if knee_drop > 0 else "hips lower than the reference")
    leaning = (abs(lean), "leaning further than the reference" if lean > 0 else "more upright than the reference")
    feet = (abs(stance), "stance wider than the reference" if stance > 0 else "stance narrower than the reference")
    return max((hips, leaning) if phase == "bottom" else (leaning, feet))[1]


class ReferenceComparer:
    """Compares each completed rep with the reference; keeps a short pose history by time."""

    HISTORY_S = 20.0

    def __init__(self, reference: ReferenceRep) -> None:
        self.reference = reference
        self._history: list[tuple[float, FloatArray]] = []

    def observe(self, t_s: float, world: AnyFloatArray | None) -> None:
        if world is None or not np.isfinite(world).all():
            return
        v = pose_vector(world)
        if v is None:
            return
        self._history.append((t_s, v))
        while self._history and t_s - self._history[0][0] > self.HISTORY_S:
            self._history.pop(0)

    def _at(self, t_s: float) -> FloatArray | None:
        if not self._history:
            return None
        return min(self._history, key=lambda tv: abs(tv[0] - t_s))[1]

    def compare(self, rep: Rep, exercise: str, view: str) -> list[FeedbackEvent]:
        if exercise != self.reference.exercise:
            return []
        events = []
        phases = (
            ("start", rep.start_t, self.reference.start_pose),
            ("bottom", rep.bottom_t, self.reference.bottom_pose),
        )
        for phase, t, ref in phases:
            user = self._at(t)
            if user is None:
                continue
            distance = float(np.linalg.norm(user - ref))
            if distance <= self.reference.tolerance:
                continue
            what = describe_difference(user, ref, phase)
            events.append(
                FeedbackEvent(
                    t=rep.end_t,
                    code="reference_deviation",
                    text=f"Rep {rep.number}: {what} at the {phase}.",
                    kind="form",
                    severity="warning",
                    view=view,
                    exercise=exercise,
                    details={"rep": rep.number, "phase": phase, "distance": round(distance, 3), "difference": what},
                )
            )
        return events


def build_reference(
    samples_world: list[tuple[float, FloatArray | None]], rep: Rep, exercise: str, tolerance: float, source: str = ""
) -> ReferenceRep:
    """The reference from one recorded rep: the poses at its start and bottom times."""
    comparer = ReferenceComparer(ReferenceRep(exercise, np.zeros(1), np.zeros(1), 0.0))
    comparer.HISTORY_S = float("inf")
    for t, world in samples_world:
        comparer.observe(t, world)
    start, bottom = comparer._at(rep.start_t), comparer._at(rep.bottom_t)
    if start is None or bottom is None:
        raise RecordingError("the reference rep has no visible pose at its start or bottom")
    return ReferenceRep(exercise, start, bottom, tolerance, source)
