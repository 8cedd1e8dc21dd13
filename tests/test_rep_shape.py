"""Pull-up full hang and kipping, dip shoulder shrug: per rep, from world landmarks."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from shared_data import LANDMARKS

from gymcorner.coach.analysers import RULES, RangeAnalyser
from gymcorner.coach.exercises import Exercise
from gymcorner.coach.quality import score_rep
from gymcorner.coach.rep_shape import RepShapeWindow, ShapeFrame, shape_frame
from gymcorner.coach.reps import Rep
from gymcorner.coach.view_advice import view_limit
from gymcorner.config import CoachConfig, QualityConfig
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.view import View, ViewState
from gymcorner.recording import load_recording

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from shape_moves import elbows_bent, legs_swung, rep_events, shoulders_shrugged

FPS = 30.0
FRONT = ViewState(View.FRONTAL, "camera", 0.0)
SIDE = ViewState(View.LATERAL, "camera", 0.0)
WIDTH = 0.4  # shoulder width, m
SHAPE_CODES = ("no_full_hang", "kipping", "shoulder_shrug")


def person(elbow_deg: float = 175.0, thigh_deg: float = 5.0, neck_widths: float = 0.5,
           arms_up: bool = True, hidden: tuple[L, ...] = ()) -> PoseSample:  # fmt: skip
    """A person square to the camera (world: x to their left, y down, z toward the camera),
    hanging from a bar (arms up, elbows bending outward) or supported on dip bars (arms
    down); thighs turned forward from the vertical by `thigh_deg`; each ear
    `neck_widths` shoulder widths above its shoulder."""
    w = np.zeros((NUM_LANDMARKS, 3))
    bend = math.radians(180.0 - elbow_deg) / 2  # upper arm out by half of it, forearm back in by the other half
    up = -1.0 if arms_up else 1.0
    for side, (shoulder, elbow, wrist, hip, knee, ankle, ear) in (
        (1.0, (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_EAR)),
        (-1.0, (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE,
                L.RIGHT_EAR)),
    ):  # fmt: skip
        w[shoulder] = (side * WIDTH / 2, -0.5, 0.0)
        w[elbow] = w[shoulder] + (side * 0.3 * math.sin(bend), up * 0.3 * math.cos(bend), 0.0)
        w[wrist] = w[elbow] + (-side * 0.28 * math.sin(bend), up * 0.28 * math.cos(bend), 0.0)
        w[hip] = (side * 0.12, 0.0, 0.0)
        t = math.radians(thigh_deg)
        w[knee] = w[hip] + (0.0, 0.45 * math.cos(t), 0.45 * math.sin(t))
        w[ankle] = w[knee] + (0.0, 0.42, 0.0)
        w[ear] = (side * 0.07, -0.5 - neck_widths * WIDTH, 0.0)
    w[L.NOSE] = (0.0, float(w[L.LEFT_EAR, 1]) - 0.02, 0.1)
    image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, :2] = 0.5 + w[:, :2] / 2
    image[:, 3] = 0.99
    for lm in hidden:
        image[lm, 3] = 0.1
    return PoseSample(0.0, 1000, 1000, image, w.astype(np.float32))


def run(exercise: Exercise, reps: list[tuple[list[PoseSample], list[PoseSample]]], view: ViewState = FRONT) -> list[str]:
    """Each rep: the frames before it began (the hang, the lockout), then its own; it ends on its last."""
    analyser = RangeAnalyser(CoachConfig(cooldown_s=0.0), exercise)
    codes, t = [], 0.0
    for before, during in reps:
        for s in before:
            codes += [e.code for e in analyser.update(_at(s, t), view, in_rep=False, rep_ended=False).events]
            t += 1 / FPS
        for i, s in enumerate(during):
            ended = i == len(during) - 1
            codes += [e.code for e in analyser.update(_at(s, t), view, in_rep=not ended, rep_ended=ended).events]
            t += 1 / FPS
    return [c for c in codes if c in SHAPE_CODES]


def _at(s: PoseSample, t_s: float) -> PoseSample:
    return PoseSample(t_s, s.width, s.height, s.image, s.world)


def pull_up(hang_deg: float = 175.0, swing_deg: float = 0.0, thigh_deg: float = 5.0,
            hidden: tuple[L, ...] = ()) -> tuple[list[PoseSample], list[PoseSample]]:  # fmt: skip
    """15 frames of hang at `hang_deg`, then a pull to 70° and back down to 150°; the
    thighs swing forward by `swing_deg` (half a sine) over the pull."""
    hang = [person(elbow_deg=hang_deg, thigh_deg=thigh_deg, hidden=hidden) for _ in range(15)]
    elbows = [150 - 80 * i / 20 for i in range(21)] + [70 + 80 * i / 20 for i in range(21)]
    pull = [person(elbow_deg=e, thigh_deg=thigh_deg + swing_deg * math.sin(math.pi * i / (len(elbows) - 1)))
            for i, e in enumerate(elbows)]  # fmt: skip
    return hang, pull


def dip(shrug_widths: float) -> tuple[list[PoseSample], list[PoseSample]]:
    """Locked out (ears half a shoulder width above the shoulders), down and up again; the
    ears-to-shoulders distance shortens by `shrug_widths` at the bottom."""
    top = [person(elbow_deg=170, arms_up=False) for _ in range(10)]
    f = [math.sin(math.pi * i / 40) for i in range(41)]
    rep = [person(elbow_deg=170 - 80 * x, arms_up=False, neck_widths=0.5 - shrug_widths * x) for x in f]
    return top, rep


def test_the_synthetic_person_measures_as_built() -> None:
    frame = shape_frame(person(elbow_deg=140.0, thigh_deg=30.0, neck_widths=0.4), 0.5)
    assert frame is not None
    assert frame.elbow_deg == pytest.approx(140.0)
    assert frame.thigh_deg == pytest.approx(30.0)
    assert frame.neck_shoulder_widths == pytest.approx(0.4)


@pytest.mark.parametrize(("hang", "bent"), [(178.0, False), (160.0, False), (150.0, True), (120.0, True)])
def test_a_pull_up_started_with_bent_arms_has_no_full_hang(hang: float, bent: bool) -> None:
    assert run(Exercise.PULL_UP, [pull_up(hang_deg=hang)]) == (["no_full_hang"] if bent else [])


def test_each_rep_is_judged_on_the_hang_it_started_from() -> None:
    reps = [pull_up(175.0), pull_up(140.0), pull_up(175.0), pull_up(130.0)]
    assert run(Exercise.PULL_UP, reps) == ["no_full_hang"] * 2


def test_a_hang_with_the_wrists_hidden_is_not_judged() -> None:
    assert run(Exercise.PULL_UP, [pull_up(hang_deg=120.0, hidden=(L.LEFT_WRIST,))]) == []


def test_a_hang_mostly_hidden_is_not_judged() -> None:
    # pull-up_19: the wrists hidden for most of the hang; the few frames seen are no hang.
    hang, pull = pull_up(hang_deg=120.0)
    hang = [person(elbow_deg=120.0, hidden=(L.LEFT_WRIST,) if i > 3 else ()) for i in range(len(hang))]
    assert run(Exercise.PULL_UP, [(hang, pull)]) == []
    assert run(Exercise.PULL_UP, [(hang[:2], pull)]) == []  # two frames seen, all of them: too few
    assert run(Exercise.PULL_UP, [(hang[:4], pull)]) == ["no_full_hang"]


def test_the_full_hang_is_not_judged_from_the_side() -> None:
    # A bent elbow at the hang points sideways: toward a side camera, whose depth is a guess.
    assert run(Exercise.PULL_UP, [pull_up(hang_deg=120.0)], view=SIDE) == []
    limit = view_limit(Exercise.PULL_UP, "lateral", RULES[Exercise.PULL_UP])
    assert limit is not None and limit.unseen == ("no_full_hang",) and limit.turn_to == "frontal"
    assert "cannot check the full hang" in limit.text()
    assert view_limit(Exercise.PULL_UP, "frontal", RULES[Exercise.PULL_UP]) is None
    assert view_limit(Exercise.DIP, "lateral", RULES[Exercise.DIP]) is None


@pytest.mark.parametrize(("swing", "kip"), [(0.0, False), (20.0, False), (40.0, True), (70.0, True)])
def test_legs_swung_during_the_pull_are_kipping(swing: float, kip: bool) -> None:
    assert run(Exercise.PULL_UP, [pull_up(swing_deg=swing)]) == (["kipping"] if kip else [])


def test_an_l_sit_pull_up_holds_its_legs_and_is_not_kipping() -> None:
    assert run(Exercise.PULL_UP, [pull_up(thigh_deg=90.0)]) == []


def test_kipping_is_judged_from_the_side_too() -> None:
    assert run(Exercise.PULL_UP, [pull_up(swing_deg=60.0)], view=SIDE) == ["kipping"]


@pytest.mark.parametrize(("shrug", "fault"), [(0.0, False), (0.15, False), (0.35, True), (0.45, True)])
def test_shoulders_shrugged_at_the_bottom_of_a_dip(shrug: float, fault: bool) -> None:
    assert run(Exercise.DIP, [dip(shrug)]) == (["shoulder_shrug"] if fault else [])
    assert run(Exercise.DIP, [dip(shrug)], view=SIDE) == (["shoulder_shrug"] if fault else [])


def test_a_window_needs_frames_before_the_rep() -> None:
    window = RepShapeWindow()
    frame = ShapeFrame(elbow_deg=120.0, thigh_deg=5.0, neck_shoulder_widths=0.5)
    for _ in range(10):
        window.update(frame, in_rep=True, rep_ended=False)
    shape = window.update(frame, in_rep=False, rep_ended=True)
    assert shape is not None and shape.hang_elbow_deg is None and shape.shoulder_shrug_widths is None
    assert shape.leg_swing_deg == pytest.approx(0.0)


def test_the_faults_cost_points_of_their_own() -> None:
    rep = Rep(1, 0.0, 1.0, 2.0, 1.0, faults=("kipping", "no_full_hang"))
    quality = score_rep(rep, Exercise.PULL_UP, 0.6, QualityConfig())
    assert {d.cause: d.points for d in quality.deductions} == {"kipping": 30, "no_full_hang": 30}


# Real recordings: clean clips, and the faults moved into them by a known amount.


def recording(name: str) -> list[PoseSample]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    return list(load_recording(path).samples())


PULL_UP_10 = "workouttracker_reps__pull-ups__pull-up_10"  # clean, frontal, full body: hangs 169-171°
DIPS_8 = "workouttracker_reps__dips__dips_8"  # clean, frontal: shrug 0.17-0.18


def shape_faults(samples: list[PoseSample], exercise: str) -> list[list[str]]:
    return [[f for f in e.details["faults"] if f in SHAPE_CODES] for e in rep_events(samples, exercise)]


@pytest.mark.parametrize(
    ("name", "exercise"),
    [(PULL_UP_10, "pull_up"), ("workouttracker_reps__pull-ups__pull-up_5", "pull_up"),
     ("workouttracker_reps__pull-ups__pull-up_19", "pull_up"), (DIPS_8, "dip")],
)  # fmt: skip
def test_clean_recordings_raise_none(name: str, exercise: str) -> None:
    reps = shape_faults(recording(name), exercise)
    assert reps and all(r == [] for r in reps)


def test_real_pull_ups_kept_bent_at_the_hang() -> None:
    clip = recording(PULL_UP_10)
    assert shape_faults(elbows_bent(clip, 30.0), "pull_up") == [["no_full_hang"]] * 4
    assert shape_faults(elbows_bent(clip, 10.0), "pull_up") == [[]] * 4


def test_real_pull_ups_with_the_legs_swung() -> None:
    clip = recording(PULL_UP_10)
    assert shape_faults(legs_swung(clip, 45.0), "pull_up") == [["kipping"]] * 4
    assert shape_faults(legs_swung(clip, 10.0), "pull_up") == [[]] * 4


def test_real_dips_with_the_shoulders_shrugged() -> None:
    clip = recording(DIPS_8)
    assert shape_faults(shoulders_shrugged(clip, 0.3), "dip") == [["shoulder_shrug"]] * 2
    assert shape_faults(shoulders_shrugged(clip, 0.05), "dip") == [[]] * 2


def test_the_rep_event_carries_the_fault_and_its_deduction() -> None:
    events = rep_events(elbows_bent(recording(PULL_UP_10), 30.0), "pull_up")
    assert events
    for event in events:
        assert "no_full_hang" in event.details["faults"]
        assert {"cause": "no_full_hang", "points": 30} in event.details["quality"]["deductions"]
        assert "no_full_hang -30" in event.text
