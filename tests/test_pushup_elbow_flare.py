"""Push-up elbow flare seen from the front: the elbows far wider than the shoulders at a rep's bottom."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from poses import sample
from shared_data import LANDMARKS

from gymcorner.coach.analysers import PushupAnalyser
from gymcorner.config import CoachConfig, Config
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import View, ViewState
from gymcorner.pipeline import Pipeline
from gymcorner.recording import load_recording

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from moved_in_faults import elbows_out

FPS = 30.0
FRONT = ViewState(View.FRONTAL, "camera", 0.0)
SIDE = ViewState(View.LATERAL, "right", 90.0)
SPAN = 400.0  # shoulder span, px


def front_pushup(depth: float, elbow_out_px: float, hide: tuple[L, ...] = ()) -> PoseSample:
    """Seen from the floor in front: shoulders 400 px apart over the wrists; `depth` 0 at
    the top, 1 at the bottom (shoulders 60 px above the wrists), the elbows bending out
    by `elbow_out_px` each at the bottom."""
    shoulders_y = 400 + 240 * depth
    out = elbow_out_px * depth
    pts = {
        L.NOSE: (500, shoulders_y + 40),
        L.LEFT_SHOULDER: (700, shoulders_y),
        L.RIGHT_SHOULDER: (300, shoulders_y),
        L.LEFT_ELBOW: (700 + out, (shoulders_y + 700) / 2),
        L.RIGHT_ELBOW: (300 - out, (shoulders_y + 700) / 2),
        L.LEFT_WRIST: (700, 700),
        L.RIGHT_WRIST: (300, 700),
    }
    legs = (L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE)
    return sample(pts, low_visibility=legs + hide)  # the legs hidden behind the torso, as filmed


def one_rep(elbow_out_px: float, view: ViewState = FRONT, hide_at_bottom: tuple[L, ...] = ()) -> list[str]:
    analyser = PushupAnalyser(CoachConfig(cooldown_s=0.0))
    depths = [i / 20 for i in range(21)] + [1 - i / 20 for i in range(1, 21)]
    codes = []
    for i, d in enumerate(depths):
        s = front_pushup(d, elbow_out_px, hide_at_bottom if d > 0.9 else ())
        s = PoseSample(i / FPS, s.width, s.height, s.image, s.world)
        ended = i == len(depths) - 1
        codes += [e.code for e in analyser.update(s, view, in_rep=not ended, rep_ended=ended).events]
    return codes


@pytest.mark.parametrize(("out_px", "flared"), [(0, False), (150, False), (230, False), (300, True), (400, True)])
def test_elbows_wide_at_the_bottom_are_flared(out_px: float, flared: bool) -> None:
    # elbow span at the bottom: (400 + 2 × out) / 400 shoulder spans; the threshold is 2.4
    assert ("elbow_flare" in one_rep(out_px)) == flared


def test_judged_once_per_rep_on_its_end() -> None:
    assert one_rep(300).count("elbow_flare") == 1


def test_not_judged_from_the_side() -> None:
    assert "elbow_flare" not in one_rep(400, view=SIDE)


def test_not_judged_when_an_elbow_is_hidden_at_the_bottom() -> None:
    # The far elbow of a three-quarter view often disappears at the bottom: no guess from the frames around it.
    assert "elbow_flare" not in one_rep(400, hide_at_bottom=(L.RIGHT_ELBOW,))


def test_the_threshold_is_in_shoulder_spans() -> None:
    # The same flare at half the size (a person twice as far away) is still a flare.
    analyser = PushupAnalyser(CoachConfig(cooldown_s=0.0))
    depths = [i / 20 for i in range(21)] + [1 - i / 20 for i in range(1, 21)]
    codes = []
    for i, d in enumerate(depths):
        s = front_pushup(d, 300)
        assert s.image is not None
        image = s.image.copy()
        image[:, :2] = 0.25 + image[:, :2] / 2
        ended = i == len(depths) - 1
        frame = PoseSample(i / FPS, s.width, s.height, image, s.world)
        codes += [e.code for e in analyser.update(frame, FRONT, in_rep=not ended, rep_ended=ended).events]
    assert "elbow_flare" in codes


def recording(name: str) -> list[PoseSample]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not recorded")
    return list(load_recording(path).samples())


def raised(samples: list[PoseSample]) -> list[str]:
    config = Config()
    config.coach.exercise = "push_up"
    pipeline = Pipeline(config)
    return [str(e.details.get("reason", e.code)) for s in samples for e in pipeline.process(s).coach.events
            if e.kind == "form"]  # fmt: skip


@pytest.mark.parametrize("name", ["workouttracker_reps__push-ups__push-up_10", "pushfit_pushup_form__wrong__wrong96"])
def test_real_front_view_pushups_with_the_elbows_moved_out(name: str) -> None:
    clip = recording(name)
    assert "elbow_flare" not in raised(clip)
    assert "elbow_flare" in raised([elbows_out(s, 0.8) for s in clip])
    assert "elbow_flare" not in raised([elbows_out(s, 0.2) for s in clip])
