"""Push-up form on real recordings: body line during reps, depth at the bottom."""

from __future__ import annotations

from collections import Counter

import pytest
from shared_data import LANDMARKS

from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config
from gymcorner.recording import load_recording

CASES = [
    # (recording, labelled visible faults in ../shared/data/manifest.csv)
    ("pushfit_pushup_form__wrong__wrong10", {"hips_sag"}),
    ("pushfit_pushup_form__wrong__wrong26", {"hips_sag"}),
    ("pushfit_pushup_form__wrong__wrong105", {"hips_sag"}),
    ("pushfit_pushup_form__correct__correct47", set()),
    ("pushfit_pushup_form__correct__correct111", set()),
    ("workouttracker_reps__push-ups__push-up_1", set()),
]


def form_codes(name: str) -> Counter[str]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path.name} not recorded")
    config = Config()
    config.coach.exercise = "push_up"
    report = analyze_samples(load_recording(path).samples(), config, name)
    return Counter(e.code for e in report.events if e.kind == "form")


@pytest.mark.parametrize(("name", "labelled"), CASES, ids=[c[0] for c in CASES])
def test_hips_sag_follows_the_labels(name: str, labelled: set[str]) -> None:
    codes = form_codes(name)
    assert ("hips_sag" in codes) == ("hips_sag" in labelled)
    assert "hips_pike" not in codes


def test_rep_events_carry_the_push_up_faults() -> None:
    path = LANDMARKS / "pushfit_pushup_form__wrong__wrong10.npz"
    if not path.exists():
        pytest.skip("not recorded")
    config = Config()
    config.coach.exercise = "push_up"
    report = analyze_samples(load_recording(path).samples(), config, "wrong10")
    reps = [e for e in report.events if e.kind == "rep"]
    assert len(reps) == 1 and "hips_sag" in reps[0].details["faults"]
