"""Real clips, replayed: our recorded landmarks through the whole pipeline, against
stored expected results (views and events), as MediaPipe's own tests do.

The clips are replayed as squats (the exercise given, as `coach.exercise = "squat"` or
`set_exercise` does): most of them are shorter than the recogniser takes to be sure of the
exercise, and in `auto` mode the coach says nothing until it is (tests/test_coach_exercise.py).

Regenerate the expected files after a deliberate change to the coach or the filters:
    GYMCORNER_REGEN=1 .venv/bin/python -m pytest tests/test_golden_replay.py
and review the diff of tests/fixtures/expected/ before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from shared_data import FIXTURES, LANDMARKS, clip_path, fixture_name

from gymcorner.coach.exercises import Exercise
from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config
from gymcorner.pipeline import Pipeline
from gymcorner.recording import load_recording

EXPECTED = FIXTURES / "expected"
REGEN = os.environ.get("GYMCORNER_REGEN") == "1"
SQUAT_FIXTURES = sorted(p for p in LANDMARKS.glob("*.npz") if "squat" in p.name)


def squat_config() -> Config:
    config = Config()
    config.coach.exercise = Exercise.SQUAT
    return config


def outcome(path: Path) -> dict:
    rec = load_recording(path)
    report = analyze_samples(rec.samples(), squat_config(), path.stem, rec.backend)
    summary = report.to_dict(0.0, 0.0)
    return {
        "frames": summary["frames"],
        "frames_with_person": summary["frames_with_person"],
        "view": summary["view"],
        "facing": summary["facing"],
        "view_frames": dict(sorted(summary["view_frames"].items())),
        "events": [[e["t"], e["code"], e.get("reason")] for e in summary["events"]],
    }


def test_fixtures_are_present() -> None:
    assert len(SQUAT_FIXTURES) >= 10, "run tools/record_fixtures.py to record the squat clips"


@pytest.mark.parametrize("path", SQUAT_FIXTURES, ids=[p.stem for p in SQUAT_FIXTURES])
def test_replay_matches_expected(path: Path) -> None:
    expected_path = EXPECTED / f"{path.stem}.json"
    got = outcome(path)
    if REGEN or not expected_path.exists():
        if not REGEN:
            pytest.fail(f"no expected result for {path.name}; run with GYMCORNER_REGEN=1 to create it")
        expected_path.write_text(json.dumps(got, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert got == expected


def test_replay_is_bit_for_bit_repeatable() -> None:
    path = next(p for p in SQUAT_FIXTURES if "strongher" in p.name)
    rec = load_recording(path)

    def payloads() -> list[bytes]:
        pipeline = Pipeline(Config())
        return [pipeline.encode(pipeline.process(s).avatar) for s in rec.samples()]

    assert payloads() == payloads()


@pytest.mark.shared_data
@pytest.mark.model
def test_recording_a_clip_reproduces_the_fixture(tmp_path: Path) -> None:
    """The model path itself: decoding + the reference backend today give what the fixture
    holds (the fixtures are the mediapipe backend's output; tests/test_litert_pose.py holds
    the default backend to them within the parity targets)."""
    pytest.importorskip("mediapipe", reason="the reference backend (requirements/reference.txt, Python < 3.13)")
    clip = "kaiakol_exercises/squat/correct/squat_correct_003.mp4"
    video = clip_path(clip)
    from gymcorner.commands.offline import record_clip

    config = Config()
    config.pose.backend = "mediapipe"
    fresh = record_clip(config, str(video), str(tmp_path / "r.npz"), quiet=True)
    stored = load_recording(LANDMARKS / fixture_name(clip))
    assert len(fresh) == len(stored)
    assert (fresh.present == stored.present).all()
    np.testing.assert_allclose(fresh.t_s, stored.t_s, atol=1e-6)
    both = fresh.present & stored.present
    # Same wheel, same frames: identical on one machine; allow for other CPUs' float paths.
    np.testing.assert_allclose(fresh.image[both][:, :, :2], stored.image[both][:, :, :2], atol=0.02)
