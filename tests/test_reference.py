"""Gold reference rep: built from one clip's rep, compared with other reps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_data import LANDMARKS

from gymcorner.assets import load_reference, save_reference
from gymcorner.coach.reference import ReferenceRep, build_reference, describe_difference
from gymcorner.coach.reps import LiveRepCounter, pose_vector
from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config
from gymcorner.errors import RecordingError
from gymcorner.motion.filters import make_smoother
from gymcorner.recording import load_recording

GOOD = LANDMARKS / "navya_squat_form__correct__squat_correct_videoplayback.npz"
# Same man, same room: knees far forward, upright torso, hips high at the bottom.
FAULTY = LANDMARKS / "navya_squat_form__incorrect__squat_incorrect_videoplayback1.npz"


def reference_from(path: Path, tmp_path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.name} not recorded")
    config = Config()
    smoother = make_smoother(config.smoothing)
    counter = LiveRepCounter("squat", config.coach.reps)
    history, reps = [], []
    for s in load_recording(path).samples():
        s = smoother.smooth(s)
        history.append((s.t_s, s.world))
        rep = counter.update(s)
        if rep is not None:
            reps.append(rep)
    ref = build_reference(history, reps[0], "squat", 0.6, path.name)
    out = tmp_path / "ref.json"
    save_reference(ref, out)
    return out


def deviations(path: Path, reference: Path) -> list:
    config = Config()
    config.coach.reference_file = reference
    report = analyze_samples(load_recording(path).samples(), config, path.name)
    return [e for e in report.events if e.code == "reference_deviation"]


def test_the_reference_clips_own_reps_match_it(tmp_path: Path) -> None:
    assert deviations(GOOD, reference_from(GOOD, tmp_path)) == []


def test_a_faulty_rep_is_named_with_its_phase(tmp_path: Path) -> None:
    found = deviations(FAULTY, reference_from(GOOD, tmp_path))
    assert [(e.details["rep"], e.details["phase"]) for e in found] == [(1, "bottom")]
    assert found[0].text == "Rep 1: more upright than the reference at the bottom."


def test_round_trip_and_bad_files(tmp_path: Path) -> None:
    path = reference_from(GOOD, tmp_path)
    ref = load_reference(path)
    assert ref.exercise == "squat" and ref.tolerance == 0.6 and ref.start_pose.shape == (36,)
    bad = tmp_path / "bad.json"
    bad.write_text('{"v": 1, "exercise": "squat", "start_pose": [1, 2], "bottom_pose": [], "tolerance": 1}')
    with pytest.raises(RecordingError, match="must have 36 numbers"):
        load_reference(bad)
    with pytest.raises(RecordingError, match="reference not found"):
        load_reference(tmp_path / "missing.json")


def test_pose_vector_ignores_which_way_the_person_faces() -> None:
    rng = np.random.default_rng(1)
    world = rng.normal(size=(33, 3))
    theta = np.radians(70)
    turn = np.array([[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]])
    a, b = pose_vector(world), pose_vector(world @ turn.T)
    assert a is not None and b is not None
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_difference_words() -> None:
    ref = np.zeros(36)
    user = ref.copy()
    user[8 * 3 + 1] = user[9 * 3 + 1] = 0.5  # knees further below the hips
    assert describe_difference(user, ref, "bottom") == "hips higher than the reference"


def test_reference_json_round_trip_is_pure_and_says_what_is_wrong() -> None:
    start, bottom = np.linspace(0, 1, 36), np.linspace(1, 2, 36)
    ref = ReferenceRep("squat", start, bottom, 0.5, "trainer.mp4")
    again = ReferenceRep.from_json(ref.to_json())
    assert (again.exercise, again.tolerance, again.source) == ("squat", 0.5, "trainer.mp4")
    np.testing.assert_allclose(again.start_pose, start, atol=1e-5)
    with pytest.raises(ValueError, match="format 2 is not supported"):
        ReferenceRep.from_json({**ref.to_json(), "v": 2})
    with pytest.raises(ValueError, match="not a gymcorner reference rep"):
        ReferenceRep.from_json({"v": 1, "start_pose": [0.0] * 36, "bottom_pose": [0.0] * 36})


def test_a_file_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "garbled.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(RecordingError, match=r"garbled\.json: not a gymcorner reference rep"):
        load_reference(bad)
