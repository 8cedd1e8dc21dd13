"""Frontal rules on real landmark noise: a real frontal squat recording, with the feet or
knees moved by a known amount, must raise exactly the matching fault.

The labelled clips hold no frontal squat with a narrow stance, varus or valgus, so these
faults are put into real BlazePose output (its jitter, visibility and timing) instead.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from shared_data import LANDMARKS

from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording

FRONTAL = LANDMARKS / "kaiakol_exercises__squat__incorrect__squat_incorrect_004.npz"


def moved(sample: PoseSample, pairs: tuple[tuple[L, L], ...], factor: float) -> PoseSample:
    """Scale the horizontal span of each (left, right) pair about its midpoint."""
    if sample.image is None:
        return sample
    image = sample.image.copy()
    for left, right in pairs:
        mid = (image[left, 0] + image[right, 0]) / 2
        for lm in (left, right):
            image[lm, 0] = mid + (image[lm, 0] - mid) * factor
    return dataclasses.replace(sample, image=image)


def codes(samples) -> list[str]:
    config = Config()
    config.coach.exercise = "squat"  # the clip (1.7 s) ends before the recogniser is sure
    report = analyze_samples(samples, config, "augmented")
    return [e.code for e in report.events if e.kind == "form"]


@pytest.fixture(scope="module")
def frontal_samples() -> list[PoseSample]:
    if not FRONTAL.exists():
        pytest.skip("fixture recording missing: run tools/record_fixtures.py")
    return list(load_recording(FRONTAL).samples())


def test_the_clip_as_recorded_is_clean(frontal_samples) -> None:
    assert codes(frontal_samples) == []


def test_feet_moved_in_is_a_narrow_stance(frontal_samples) -> None:
    # Feet and knees together, as a person standing narrower would move them.
    feet = (
        (L.LEFT_ANKLE, L.RIGHT_ANKLE),
        (L.LEFT_HEEL, L.RIGHT_HEEL),
        (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX),
        (L.LEFT_KNEE, L.RIGHT_KNEE),
    )
    assert codes([moved(s, feet, 0.5) for s in frontal_samples]) == ["narrow_stance"]


def test_knees_pushed_out_is_varus(frontal_samples) -> None:
    assert codes([moved(s, ((L.LEFT_KNEE, L.RIGHT_KNEE),), 1.8) for s in frontal_samples]) == ["knee_varus"]


def test_knees_caving_in_during_the_descent_is_valgus(frontal_samples) -> None:
    caved = [moved(s, ((L.LEFT_KNEE, L.RIGHT_KNEE),), 0.35) for s in frontal_samples]
    assert codes(caved) == ["knee_valgus"]


def test_low_visibility_feet_silence_the_stance_rules(frontal_samples) -> None:
    feet = ((L.LEFT_ANKLE, L.RIGHT_ANKLE),)
    hidden = []
    for s in frontal_samples:
        s = moved(s, feet, 0.5)
        if s.image is not None:
            image = s.image.copy()
            image[[L.LEFT_ANKLE, L.RIGHT_ANKLE], 3] = np.float32(0.2)
            s = dataclasses.replace(s, image=image)
        hidden.append(s)
    assert codes(hidden) == []
