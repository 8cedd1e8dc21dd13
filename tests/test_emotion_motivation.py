"""The daemon's emotion + LLM link with real parts: the recogniser on real FER faces placed
in a camera-sized frame, the seed's 4 x fear rule, and the LLM coach on a local server."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from llm_server import FakeChatServer, closed_port_url
from test_emotion_fer import fer_sample
from test_emotion_models import require_models

from gymcorner.coach.events import FeedbackEvent
from gymcorner.config import load_config
from gymcorner.errors import ModelError
from gymcorner.motivation.service import Motivation, moment_for
from gymcorner.vision.emotion import EmotionRecogniser

WAIT_S = 20.0


def frame_with(face: np.ndarray) -> np.ndarray:
    frame = np.full((480, 640, 3), 100, np.uint8)
    frame[120:312, 224:416] = cv2.resize(face, (192, 192))
    return frame


def fearful_frame() -> np.ndarray:
    """A real FER 'fear' face that the recogniser, in a full frame, reads as fear."""
    recogniser = EmotionRecogniser(require_models())
    for path in fer_sample()["fear"]:
        frame = frame_with(cv2.imread(str(path)))
        result = recogniser.recognise(frame)
        if result is not None and result.label == "fear":
            return frame
    pytest.skip("no sampled fear face is read as fear in a frame")


def run_seconds(mot: Motivation, frame: np.ndarray, seconds: int) -> list[FeedbackEvent]:
    """Offer one frame per second of frame time, as the loop would, and collect events."""
    events: list[FeedbackEvent] = []
    for t in range(seconds):
        mot.offer(frame, float(t), [])
        deadline = time.monotonic() + WAIT_S
        while mot.latest is None or mot.emotion.results.qsize():  # type: ignore[union-attr]
            events += mot.poll()
            if time.monotonic() > deadline:
                raise AssertionError("emotion worker gave no result")
            time.sleep(0.01)
        mot.latest = None
    deadline = time.monotonic() + WAIT_S
    while mot.llm is not None and (mot.llm.busy or not events) and time.monotonic() < deadline:
        events += mot.poll()
        time.sleep(0.01)
    return events + mot.poll()


def config(**overrides: object):
    base = {"motivation.emotion.enabled": True, "models.dir": str(require_models())}
    base.update(overrides)
    return load_config(None, overrides=base)


def test_four_seconds_of_fear_say_keep_going_without_llm() -> None:
    frame = fearful_frame()
    mot = Motivation(config())
    try:
        events = run_seconds(mot, frame, 5)
    finally:
        mot.close()
    assert [(e.code, e.text, e.t) for e in events] == [("emotion_fear", "Keep going!", 3.0)]


def test_fear_event_goes_through_the_llm_when_it_answers() -> None:
    frame = fearful_frame()
    with FakeChatServer(reply="Breathe, you have got this, two more.") as server:
        mot = Motivation(config(**{"motivation.llm.enabled": True, "motivation.llm.base_url": server.base_url}))
        try:
            events = run_seconds(mot, frame, 4)
        finally:
            mot.close()
    assert [(e.code, e.text, e.details["source"]) for e in events] == [
        ("coach_emotion", "Breathe, you have got this, two more.", "llm")
    ]
    assert "facial expression: fear" in server.requests[0]["body"]["messages"][-1]["content"]


def test_down_llm_still_says_the_configured_message() -> None:
    frame = fearful_frame()
    mot = Motivation(config(**{"motivation.llm.enabled": True, "motivation.llm.base_url": closed_port_url()}))
    try:
        events = run_seconds(mot, frame, 4)
    finally:
        mot.close()
    assert [(e.text, e.details["source"]) for e in events] == [("Keep going!", "template")]


def test_missing_models_stop_start_up_with_one_line(tmp_path: Path) -> None:
    cfg = load_config(None, overrides={"motivation.emotion.enabled": True, "models.dir": str(tmp_path)})
    with pytest.raises(ModelError) as info:
        Motivation.create(cfg)
    assert "gymcorner models fetch" in str(info.value) and "\n" not in str(info.value)


def test_disabled_by_default_and_form_faults_become_llm_moments() -> None:
    assert Motivation.create(load_config(None)) is None
    faulty = FeedbackEvent(
        t=4.0,
        code="rep",
        text="Rep 3: ...",
        kind="rep",
        details={"rep": 3, "down_s": 1.2, "up_s": 0.8, "faults": ["forward_lean"]},
    )
    moment = moment_for(faulty)
    assert moment is not None and moment.trigger == "rep_fault" and moment.rep == 3
    assert moment.faults == ("forward_lean",) and moment.tempo_s == pytest.approx(2.0)
    clean = FeedbackEvent(t=1.0, code="rep", text="Rep 1", kind="rep", details={"rep": 1, "faults": []})
    assert moment_for(clean) is None
    assert moment_for(FeedbackEvent(t=1.0, code="knee_valgus", text="Knees out.", kind="form")) is None
