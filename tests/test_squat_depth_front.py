"""Squat depth seen from the front: the hip's height above the knee in standing-femur lengths."""

from __future__ import annotations

from dataclasses import replace

import pytest
from poses import frontal, sample
from shared_data import LANDMARKS

from gymcorner.coach.squat import SquatCoach
from gymcorner.coach.squat_depth import HipDropTracker
from gymcorner.config import CoachConfig, Config, SquatConfig, ViewConfig
from gymcorner.motion.landmarks import PoseSample
from gymcorner.pipeline import Pipeline
from gymcorner.recording import load_recording

FPS = 30.0
KNEE_Y, FEMUR_PX = 750.0, 200.0  # frontal(): standing hip 200 px above the knee


def squat(bottom_above_femur: float, scale: float = 1.0, reps: int = 1) -> list[PoseSample]:
    """Frontal squats: 1 s standing, 1 s down to the hip `bottom_above_femur` femurs above
    the knee, 1 s up, 1 s standing; the whole person scaled about the frame's centre."""
    heights = [1.0] * 30
    for _ in range(reps):
        down = [1.0 - (1.0 - bottom_above_femur) * i / 30 for i in range(31)]
        heights += down + down[::-1] + [1.0] * 30
    out = []
    for i, h in enumerate(heights):
        pts = frontal(hip_y=KNEE_Y - h * FEMUR_PX)
        pts = {k: (500 + (x - 500) * scale, 500 + (y - 500) * scale) for k, (x, y) in pts.items()}
        out.append(sample(pts, t_s=i / FPS))
    return out


def depth_events(samples: list[PoseSample]) -> list:  # type: ignore[type-arg]
    coach = SquatCoach(CoachConfig(view=ViewConfig(hold_frames=1), cooldown_s=0.0))
    events = [e for s in samples for e in coach.update(s).events]
    return [e for e in events if e.details.get("reason") == "shallow_depth"]


@pytest.mark.parametrize(("bottom", "shallow"), [(0.7, True), (0.6, True), (0.45, False), (0.2, False), (-0.2, False)])
def test_a_frontal_descent_is_shallow_when_the_hip_stays_high(bottom: float, shallow: bool) -> None:
    events = depth_events(squat(bottom))
    assert len(events) == (1 if shallow else 0)
    if shallow:
        (event,) = events
        assert event.view == "frontal"
        assert event.details["hip_above_knee_femur"] == pytest.approx(bottom, abs=0.02)
        assert event.t > 2.0  # judged when the person is back up, not at the bottom


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.4])
def test_the_threshold_is_in_femur_lengths(scale: float) -> None:
    # The same squats, the person farther from or nearer to the camera: the same verdicts.
    assert len(depth_events(squat(0.7, scale=scale))) == 1
    assert depth_events(squat(0.4, scale=scale)) == []


def test_a_hip_drop_of_less_than_a_quarter_femur_is_no_descent() -> None:
    # The measured limit: from the front a knee bend this small is not seen as a squat.
    assert depth_events(squat(0.8)) == []


def test_judged_once_per_descent() -> None:
    assert len(depth_events(squat(0.7, reps=3))) == 3


def test_standing_and_swaying_is_no_descent() -> None:
    tracker = HipDropTracker(SquatConfig())
    bottoms = []
    for i in range(300):  # the hip bobbing 0.1 femur for 10 s
        height = FEMUR_PX * (0.95 + 0.05 * (-1) ** (i // 15))
        _, bottom = tracker.update(i / FPS, height, FEMUR_PX)
        bottoms.append(bottom)
    assert bottoms == [None] * 300


def test_the_standing_femur_is_frozen_during_a_descent() -> None:
    # From the front the thigh's image shrinks to nothing at parallel: the scale must not follow it.
    tracker = HipDropTracker(SquatConfig())
    for i in range(30):
        tracker.update(i / FPS, FEMUR_PX, FEMUR_PX)
    above, _ = tracker.update(1.0, 0.5 * FEMUR_PX, 0.5 * FEMUR_PX)  # foreshortened thigh, hip halfway down
    assert above == pytest.approx(0.5)
    _, bottom = tracker.update(1.1, FEMUR_PX, FEMUR_PX)
    assert bottom == pytest.approx(0.5)


def test_a_person_stepping_back_at_once_is_followed_after_a_while() -> None:
    # Half the size from one frame to the next looks like hips dropped by half a femur; no
    # squat bottom lasts 10 s, so the tracker starts again and then reads her standing.
    tracker = HipDropTracker(SquatConfig())
    for i in range(30):
        tracker.update(i / FPS, FEMUR_PX, FEMUR_PX)
    bottoms = []
    for i in range(30, 30 + 20 * 30):
        above, bottom = tracker.update(i / FPS, FEMUR_PX / 2, FEMUR_PX / 2)
        bottoms.append(bottom)
    assert above == pytest.approx(1.0)
    assert bottoms == [None] * len(bottoms)  # and the step back was never judged as a squat


def test_a_person_stepping_back_slowly_is_followed() -> None:
    # Walking back over 6 s to 0.8 of the size: never a descent, the femur follows.
    tracker = HipDropTracker(SquatConfig())
    for i in range(600):
        size = FEMUR_PX * max(0.8, 1.0 - 0.2 * i / 180)
        above, bottom = tracker.update(i / FPS, size, size)
        assert bottom is None
    assert above == pytest.approx(1.0)


FRONT_CLEAN = ("workouttracker_reps__squats__squat_8", "workouttracker_reps__squats__squat_7",
               "kaiakol_exercises__squat__correct__squat_correct_006")  # fmt: skip


def recording(name: str) -> list[PoseSample]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    return list(load_recording(path).samples())


def replay(samples: list[PoseSample]) -> tuple[list[str], list[float | None]]:
    config = Config()
    config.coach.exercise = "squat"
    pipeline = Pipeline(config)
    raised, heights = [], []
    for s in samples:
        coach = pipeline.process(s).coach
        raised += [f"{e.view}:{e.details.get('reason', e.code)}" for e in coach.events if e.kind == "form"]
        heights.append(getattr(coach.metrics, "hip_above_knee_standing_femur", None))
    return raised, heights


@pytest.mark.parametrize("name", FRONT_CLEAN)
def test_real_deep_squats_seen_from_the_front_or_behind_are_not_shallow(name: str) -> None:
    raised, _ = replay(recording(name))
    assert not [r for r in raised if r.endswith("shallow_depth")]


def stopped_at(samples: list[PoseSample], heights: list[float | None], cap: float) -> list[PoseSample]:
    """The same person stopping at `cap`: frames deeper than it replaced by the last frame at it."""
    out, held = [], None
    for s, h in zip(samples, heights, strict=True):
        if h is not None and h >= cap:
            held = s
        out.append(replace(held, t_s=s.t_s) if h is not None and h < cap and held is not None else s)
    return out


def test_a_real_squat_from_behind_stopped_high_is_shallow() -> None:
    clip = recording("workouttracker_reps__squats__squat_8")
    _, heights = replay(clip)
    assert min(h for h in heights if h is not None) < 0.0  # as recorded: the hip goes below the knee
    raised, _ = replay(stopped_at(clip, heights, 0.65))
    assert raised == ["frontal:shallow_depth"]
    raised, _ = replay(stopped_at(clip, heights, 0.35))
    assert raised == []
