"""Squat heel lift (side view) and lateral shift (front view): once per descent, body-scaled,
against the person's own standing position."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from poses import frontal, lateral, sample
from shared_data import LANDMARKS

from gymcorner.coach.squat import SquatCoach
from gymcorner.coach.squat_balance import Departure
from gymcorner.config import CoachConfig, Config, ViewConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.pipeline import Pipeline
from gymcorner.recording import load_recording

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from moved_in_faults import heels_up, hips_aside

FPS = 30.0
THIGH = 220.0  # poses.lateral's femur, px
SHOULDERS = 400.0  # poses.frontal's shoulder span, px


def _profile(reps: int) -> list[float]:
    """0..1 depth per frame: 1 s standing, then per rep 1 s down, 1 s up, 1 s standing."""
    depth = [0.0] * 30
    for _ in range(reps):
        down = [i / 30 for i in range(31)]
        depth += down + down[::-1] + [0.0] * 30
    return depth


def side_squats(heel_lift_femur: float, reps: int = 1, standing_lift_femur: float = 0.0) -> list[PoseSample]:
    """Side-on squats to 100° knee flexion; the heels rise by `heel_lift_femur` at the
    bottom (in proportion to depth), on top of a constant `standing_lift_femur` (a shoe)."""
    out = []
    for i, d in enumerate(_profile(reps)):
        pts = lateral(knee_flexion_deg=100 * d, trunk_lean_deg=10 + 20 * d, thigh=THIGH)
        lift = (standing_lift_femur + heel_lift_femur * d) * THIGH
        for heel in (L.LEFT_HEEL, L.RIGHT_HEEL):
            pts[heel] = (pts[heel][0], pts[heel][1] - lift)
        out.append(sample(pts, t_s=i / FPS))
    return out


def front_squats(shift_shoulders: float, reps: int = 1, standing_offset: float = 0.0) -> list[PoseSample]:
    """Frontal squats down to the hip at knee height; the upper body moves sideways by
    `shift_shoulders` shoulder spans at the bottom (in proportion to depth), on top of a
    constant `standing_offset` (standing a little off centre)."""
    out = []
    for i, d in enumerate(_profile(reps)):
        pts = frontal(hip_y=550 + 200 * d)
        dx = (standing_offset + shift_shoulders * d) * SHOULDERS
        for lm in list(pts):
            if lm <= L.RIGHT_HIP:
                pts[lm] = (pts[lm][0] + dx, pts[lm][1])
        out.append(sample(pts, t_s=i / FPS))
    return out


def faults(samples: list[PoseSample]) -> list[str]:
    coach = SquatCoach(CoachConfig(view=ViewConfig(hold_frames=1), cooldown_s=0.0))
    return [str(e.details.get("reason", e.code)) for s in samples for e in coach.update(s).events]


@pytest.mark.parametrize(("lift", "expected"), [(0.0, []), (0.15, []), (0.35, ["heel_lift"]), (0.6, ["heel_lift"])])
def test_heels_rising_at_the_bottom_are_a_heel_lift(lift: float, expected: list[str]) -> None:
    assert faults(side_squats(lift)) == expected


def test_heel_lift_once_per_descent() -> None:
    assert faults(side_squats(0.4, reps=3)) == ["heel_lift"] * 3


def test_a_heel_raised_all_along_is_the_shoe_not_a_lift() -> None:
    assert faults(side_squats(0.0, standing_lift_femur=0.4)) == []


def test_heel_lift_is_in_femur_lengths() -> None:
    # A taller person (longer femur) lifting the same pixels lifts less of a femur.
    coach = SquatCoach(CoachConfig(view=ViewConfig(hold_frames=1), cooldown_s=0.0))
    out = []
    for i, d in enumerate(_profile(1)):
        pts = lateral(knee_flexion_deg=100 * d, thigh=2 * THIGH, shin=2 * THIGH, torso=500)
        pts = {k: (x, y - 450) for k, (x, y) in pts.items()}  # keep the taller person in the frame
        for heel in (L.LEFT_HEEL, L.RIGHT_HEEL):
            pts[heel] = (pts[heel][0], pts[heel][1] - 0.35 * THIGH * d)  # 0.35 short femurs = 0.175 long ones
        out += coach.update(sample(pts, t_s=i / FPS)).events
    assert [e.code for e in out if e.code == "heel_lift"] == []


@pytest.mark.parametrize(("shift", "expected"), [(0.0, []), (0.15, []), (0.35, ["lateral_shift"]), (-0.5, ["lateral_shift"])])
def test_hips_moving_sideways_at_the_bottom_are_a_lateral_shift(shift: float, expected: list[str]) -> None:
    assert faults(front_squats(shift)) == expected


def test_lateral_shift_once_per_descent() -> None:
    assert faults(front_squats(0.4, reps=2)) == ["lateral_shift"] * 2


def test_standing_off_centre_is_no_shift() -> None:
    assert faults(front_squats(0.0, standing_offset=0.4)) == []


def test_the_side_rules_do_not_judge_from_the_front_nor_the_reverse() -> None:
    # A heel lift in a frontal squat and a sideways hip in a side-on one are not judged.
    sideways_side = []
    for s in side_squats(0.0):
        pts_shift = s  # the side-on body has no shoulder span to scale a shift by: nothing to raise
        sideways_side.append(pts_shift)
    assert "lateral_shift" not in faults(sideways_side)
    heels_front = []
    for i, d in enumerate(_profile(1)):
        pts = frontal(hip_y=550 + 200 * d)
        for heel in (L.LEFT_HEEL, L.RIGHT_HEEL):
            pts[heel] = (pts[heel][0], pts[heel][1] - 0.6 * 200 * d)
        heels_front.append(sample(pts, t_s=i / FPS))
    assert "heel_lift" not in faults(heels_front)


def test_departure_reports_the_largest_change_when_the_descent_ends() -> None:
    dep = Departure(signed=True)
    assert dep.update(False, True, 1.0) is None  # standing: the reference
    assert dep.update(False, False, 1.1) is None  # bending, not yet a descent: not the reference
    assert [dep.update(True, False, v) for v in (1.2, 1.5, 0.2)] == [None, None, None]
    assert dep.update(False, True, 1.0) == pytest.approx(0.5)  # signed: the fall to 0.2 does not count
    both = Departure(signed=False)
    both.update(False, True, 1.0)
    both.update(True, False, 0.2)
    assert both.update(False, True, 1.0) == pytest.approx(0.8)


def recording(name: str) -> list[PoseSample]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    return list(load_recording(path).samples())


def raised(samples: list[PoseSample]) -> list[str]:
    config = Config()
    config.coach.exercise = "squat"
    pipeline = Pipeline(config)
    return [str(e.details.get("reason", e.code)) for s in samples for e in pipeline.process(s).coach.events
            if e.kind == "form"]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "small"),
    # squat_11's heels already rise 0.14 femur at its bottom (as recorded), the other's not at all
    [("workouttracker_reps__squats__squat_11", 0.05), ("navya_squat_form__correct__squat_correct_videoplayback", 0.15)],
)
def test_real_side_on_squats_with_heels_lifted(name: str, small: float) -> None:
    clip = recording(name)
    assert "heel_lift" not in raised(clip)
    assert "heel_lift" in raised([heels_up(s, 0.4) for s in clip])
    assert "heel_lift" not in raised([heels_up(s, small) for s in clip])


def test_a_real_squat_from_behind_shifted_to_one_side() -> None:
    clip = recording("workouttracker_reps__squats__squat_8")
    assert raised(clip) == []
    assert raised([hips_aside(s, 0.5) for s in clip]) == ["lateral_shift"]
    assert raised([hips_aside(s, 0.1) for s in clip]) == []
