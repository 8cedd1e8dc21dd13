"""The status detail follows a steadied presence: a person lost for a frame or two is not news."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from gymcorner.app import App
from gymcorner.config import Config
from gymcorner.motion.landmarks import PoseSample
from gymcorner.presence import PresenceHysteresis
from gymcorner.recording import load_recording

FIXTURE = Path(__file__).parent / "fixtures" / "landmarks" / "workouttracker_reps__squats__squat_11.npz"


def frames(steady: PresenceHysteresis, pattern: str, t0_s: float, fps: float = 10.0) -> list[bool]:
    """Feed one frame per character ('P' a person, '.' nobody); the steady answers."""
    return [steady.update(c == "P", t0_s + i / fps) for i, c in enumerate(pattern)]


def test_a_brief_loss_or_appearance_does_not_change_the_answer() -> None:
    steady = PresenceHysteresis(hold_s=1.0)
    assert not any(frames(steady, "..P..P.P...", 0.0))  # someone walking past
    assert frames(steady, "PPPPPPPPPPPP", 2.0)[-1] is True
    assert all(frames(steady, "P.PP.PPP..PPP.PP", 3.2))  # the model losing them now and then


def test_a_real_change_is_followed_within_about_the_hold_time() -> None:
    steady = PresenceHysteresis(hold_s=1.0)
    answers = frames(steady, "P" * 20, 0.0)
    assert answers.index(True) == 10  # 1 s of frame time after the first frame
    gone = frames(steady, "." * 20, 2.0)
    assert gone[-1] is False and gone.index(False) <= 10


def test_it_never_changes_twice_within_the_hold_time() -> None:
    steady = PresenceHysteresis(hold_s=1.0)
    answers = frames(steady, ("P" * 8 + "." * 8) * 6, 0.0, fps=10.0)
    changes = [i for i in range(1, len(answers)) if answers[i] != answers[i - 1]]
    assert all(b - a >= 10 for a, b in itertools.pairwise(changes))


def test_a_looped_clip_whose_time_restarts_does_not_stick() -> None:
    steady = PresenceHysteresis(hold_s=1.0)
    frames(steady, "P" * 20, 50.0)
    assert steady.present is True
    assert frames(steady, "." * 20, 0.0)[-1] is False


def test_a_hold_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError):
        PresenceHysteresis(hold_s=0)


def statuses(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage().removeprefix("status: ")
        for r in caplog.records
        if r.name == "gymcorner.app" and r.getMessage().startswith("status: ")
    ]


def feed(app: App, samples: list[PoseSample]) -> None:
    for sample in samples:
        result = app.pipeline.process(sample)
        app._publish(result, list(result.coach.events), send_avatar=False)


def test_the_daemon_status_does_not_flap_when_the_person_flickers(caplog: pytest.LogCaptureFixture) -> None:
    recording = load_recording(FIXTURE)
    samples = list(recording.samples())
    assert sum(s.image is not None for s in samples) > 60
    flicker = [PoseSample(s.t_s, s.width, s.height) if i % 4 == 3 else s for i, s in enumerate(samples)]
    caplog.set_level(logging.INFO, logger="gymcorner.app")
    app = App(Config())  # opens nothing until start(); no sink, no device
    feed(app, flicker)
    seen = statuses(caplog)
    raw_flips = sum(1 for a, b in itertools.pairwise(flicker) if (a.image is None) != (b.image is None))
    assert raw_flips > 20
    assert seen[0] == "waiting for a person" and seen[1].startswith("coaching: ")
    assert seen.count("waiting for a person") == 1, seen


def test_the_daemon_status_does_change_when_the_person_really_leaves(caplog: pytest.LogCaptureFixture) -> None:
    recording = load_recording(FIXTURE)
    samples = [s for s in recording.samples() if s.image is not None][:60]
    dt = samples[1].t_s - samples[0].t_s
    t_end = samples[-1].t_s
    gone = [PoseSample(t_end + dt * (k + 1), samples[0].width, samples[0].height) for k in range(int(2.0 / dt))]
    back = [
        PoseSample(gone[-1].t_s + (s.t_s - samples[0].t_s) + dt, s.width, s.height, s.image, s.world) for s in samples
    ]
    caplog.set_level(logging.INFO, logger="gymcorner.app")
    app = App(Config())
    feed(app, samples + gone + back)
    seen = statuses(caplog)
    kinds = ["waiting" if s == "waiting for a person" else "coaching" for s in seen]
    assert [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k] == [
        "waiting",
        "coaching",
        "waiting",
        "coaching",
    ]
