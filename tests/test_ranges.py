"""Range of motion per rep: pull-up chin over the bar, dip depth, jumping-jack arms and feet."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from poses import sample
from shared_data import LANDMARKS

from gymcorner.coach.analysers import ANALYSERS, RangeAnalyser
from gymcorner.coach.exercises import Exercise
from gymcorner.config import CoachConfig, Config
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import View, ViewState
from gymcorner.pipeline import Pipeline
from gymcorner.recording import load_recording

FPS = 30.0
FRONT = ViewState(View.FRONTAL, "camera", 0.0)
SHOULDERS = 200.0  # shoulder width, px (= mm in the synthetic world)


def body(nose_y: float, shoulder_y: float = 500, elbow_y: float = 600, wrist_y: float = 300,
         wrist_dx: float = 120, ankle_dx: float = 60) -> dict[L, tuple[float, float]]:  # fmt: skip
    c = 500.0
    return {
        L.NOSE: (c, nose_y),
        L.LEFT_SHOULDER: (c + 100, shoulder_y),
        L.RIGHT_SHOULDER: (c - 100, shoulder_y),
        L.LEFT_ELBOW: (c + 140, elbow_y),
        L.RIGHT_ELBOW: (c - 140, elbow_y),
        L.LEFT_WRIST: (c + wrist_dx, wrist_y),
        L.RIGHT_WRIST: (c - wrist_dx, wrist_y),
        L.LEFT_HIP: (c + 70, 750),
        L.RIGHT_HIP: (c - 70, 750),
        L.LEFT_ANKLE: (c + ankle_dx, 980),
        L.RIGHT_ANKLE: (c - ankle_dx, 980),
    }


def run(exercise: Exercise, reps: list[list[dict[L, tuple[float, float]]]]) -> list[str]:
    """Each rep a list of poses; the rep ends on its last frame."""
    analyser = RangeAnalyser(CoachConfig(cooldown_s=0.0), exercise)
    codes, t = [], 0.0
    for rep in reps:
        for i, pts in enumerate(rep):
            ended = i == len(rep) - 1
            out = analyser.update(sample(pts, t_s=t, yaw_deg=0.0), FRONT, in_rep=not ended, rep_ended=ended)
            codes += [e.code for e in out.events]
            t += 1 / FPS
    return codes


def pullup(top_nose_above_wrists: float) -> list[dict[L, tuple[float, float]]]:
    """Hang (nose 0.75 shoulder widths below the wrists) -> top -> hang, 30 frames each way."""
    hang, top = 450.0, 300.0 - top_nose_above_wrists * SHOULDERS
    ys = [hang + (top - hang) * i / 30 for i in range(31)]
    return [body(nose_y=y) for y in ys + ys[::-1]]


@pytest.mark.parametrize(("top", "short"), [(0.3, False), (0.2, False), (0.1, True), (-0.3, True)])
def test_a_pull_up_whose_nose_stays_below_the_bar_is_short(top: float, short: bool) -> None:
    assert run(Exercise.PULL_UP, [pullup(top)]) == (["chin_below_bar"] if short else [])


def test_judged_per_rep() -> None:
    assert run(Exercise.PULL_UP, [pullup(0.3), pullup(-0.2), pullup(0.4), pullup(0.0)]) == ["chin_below_bar"] * 2


def test_a_rep_whose_wrists_were_mostly_hidden_is_not_judged() -> None:
    # The wrists out of the frame at the top: the highest nose seen is no evidence.
    rep = [sample(p, t_s=i / FPS, yaw_deg=0.0, low_visibility=(L.LEFT_WRIST,) if 10 < i < 55 else ())
           for i, p in enumerate(pullup(-0.3))]  # fmt: skip
    analyser = RangeAnalyser(CoachConfig(cooldown_s=0.0), Exercise.PULL_UP)
    codes = [e.code for i, s in enumerate(rep) for e in analyser.update(s, FRONT, True, i == len(rep) - 1).events]
    assert codes == []


def dip(bottom_shoulders_below_elbows: float) -> list[dict[L, tuple[float, float]]]:
    """Top (shoulders an upper arm above the elbows) -> bottom -> top; the upper arm is ~100 px."""
    top, bottom = 500.0, 600.0 + bottom_shoulders_below_elbows * 100.0
    ys = [top + (bottom - top) * i / 30 for i in range(31)]
    return [body(nose_y=y - 120, shoulder_y=y, elbow_y=600, wrist_y=750) for y in ys + ys[::-1]]


@pytest.mark.parametrize(("bottom", "shallow"), [(0.3, False), (0.0, False), (-0.3, True), (-0.8, True)])
def test_a_dip_whose_shoulders_stay_above_the_elbows_is_shallow(bottom: float, shallow: bool) -> None:
    assert run(Exercise.DIP, [dip(bottom)]) == (["shallow_dip"] if shallow else [])


def jack(wrists_above_nose: float, ankle_span: float) -> list[dict[L, tuple[float, float]]]:
    """Closed (hands at the hips, feet together) -> open -> closed."""
    frames = []
    for i in list(range(31)) + list(range(30, -1, -1)):
        f = i / 30
        wrist_y = 760 + (180 - wrists_above_nose * SHOULDERS - 760) * f
        ankle_dx = 30 + (ankle_span * SHOULDERS / 2 - 30) * f
        frames.append(body(nose_y=180, wrist_y=wrist_y, wrist_dx=150, ankle_dx=ankle_dx))
    return frames


@pytest.mark.parametrize(
    ("arms", "feet", "expected"),
    [(0.8, 2.0, []), (0.0, 2.0, ["arms_not_overhead"]), (0.8, 0.8, ["feet_not_apart"]),
     (-0.5, 0.5, ["arms_not_overhead", "feet_not_apart"])],
)  # fmt: skip
def test_a_jumping_jack_needs_arms_overhead_and_feet_apart(arms: float, feet: float, expected: list[str]) -> None:
    assert sorted(run(Exercise.JUMPING_JACK, [jack(arms, feet)])) == expected


def test_each_has_an_analyser() -> None:
    assert {Exercise.PULL_UP, Exercise.DIP, Exercise.JUMPING_JACK} <= set(ANALYSERS)


def recording(name: str) -> list[PoseSample]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    return list(load_recording(path).samples())


def world_moved(samples: list[PoseSample], points: tuple[L, ...], dy_widths: float) -> list[PoseSample]:
    """`points` moved down (+) in the world by `dy_widths` shoulder widths on every frame."""
    out = []
    for s in samples:
        if s.world is None:
            out.append(s)
            continue
        w = s.world.astype(np.float64).copy()
        width = float(np.linalg.norm(w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER]))
        w[list(points), 1] += dy_widths * width
        out.append(replace(s, world=w.astype(np.float32)))
    return out


def raised(samples: list[PoseSample], exercise: str) -> list[str]:
    config = Config()
    config.coach.exercise = exercise
    pipeline = Pipeline(config)
    return [e.code for s in samples for e in pipeline.process(s).coach.events if e.kind == "form"]


def test_real_pull_ups_with_the_nose_lowered() -> None:
    clip = recording("workouttracker_reps__pull-ups__pull-up_10")  # clean; its reps top out 0.33-0.57 above the wrists
    assert raised(clip, "pull_up") == []
    assert "chin_below_bar" in raised(world_moved(clip, (L.NOSE,), 0.5), "pull_up")
    assert raised(world_moved(clip, (L.NOSE,), 0.1), "pull_up") == []


def test_real_dips_with_the_shoulders_raised() -> None:
    clip = recording("workouttracker_reps__dips__dips_8")  # clean; shoulders 0.66 upper arms below the elbows
    assert raised(clip, "dip") == []
    assert "shallow_dip" in raised(world_moved(clip, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), -0.8), "dip")
    assert raised(world_moved(clip, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), -0.2), "dip") == []


def test_real_jumping_jacks_with_the_hands_lowered() -> None:
    clip = recording("kaiakol_exercises__jumpingjack__correct__jumpingjack_correct_001")  # wrists 0.86 over the nose
    assert raised(clip, "jumping_jack") == []
    assert "arms_not_overhead" in raised(world_moved(clip, (L.LEFT_WRIST, L.RIGHT_WRIST), 0.8), "jumping_jack")
    assert raised(world_moved(clip, (L.LEFT_WRIST, L.RIGHT_WRIST), 0.2), "jumping_jack") == []
