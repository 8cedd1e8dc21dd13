"""The session summary counts this session, over every exercise; a paused session says nothing.

The real App's frame loop runs on recorded landmarks (a replayed recording stands in for
the camera and the pose model), with a real Mosquitto and the real MqttPublisher; commands
arrive over MQTT as an app would send them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from mqtt_helpers import MqttSubscriber, wait_until
from protocol_doc import validator

from gymcorner.app import App
from gymcorner.config import Config, MqttConfig, load_config
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motivation.speech import Speaker
from gymcorner.recording import load_recording
from gymcorner.transport.mqtt import MqttPublisher
from gymcorner.transport.sinks import MqttSink, Sinks
from gymcorner.vision.sources import Frame, FrameTimeout

FIXTURES = Path(__file__).parent / "fixtures" / "landmarks"
SQUATS = FIXTURES / "workouttracker_reps__squats__squat_11.npz"
PUSH_UPS = FIXTURES / "workouttracker_reps__push-ups__push-up_10.npz"
DEVICE = "corner-session"
BASE = f"gymcorner/{DEVICE}"


@dataclass
class ReplayedCamera:
    """Frame source + pose estimator over recorded samples; `feed` queues more for the loop.

    `drained` is set once the frame loop has *processed* every fed sample, not merely read
    it: with the pose one frame ahead (`[pose] ahead`), the pose thread reads the last
    sample while the loop still has up to two in hand. The third read in a row that finds
    nothing proves it: each FrameTimeout travels through the pose thread's one-slot
    hand-over, so the second is handed over only after the loop took the first, which it
    reads only after finishing the last frame (serially, the first already proves it)."""

    samples: list[PoseSample] = field(default_factory=list)
    index: int = 0
    description: str = "recorded landmarks"
    size: tuple[int, int] = (640, 480)
    name: str = "recorded"
    drained: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _misses: int = 0  # reads in a row that found no sample

    def feed(self, path: Path, after_s: float) -> None:
        recording = load_recording(path)
        shifted = [PoseSample(s.t_s + after_s, s.width, s.height, s.image, s.world) for s in recording.samples()]
        with self._lock:
            self.drained.clear()
            self._misses = 0
            self.samples.extend(shifted)

    def read(self, timeout_s: float | None = None) -> Frame | None:
        with self._lock:
            if self.index >= len(self.samples):
                self._misses += 1
                if self._misses >= 3:
                    self.drained.set()
                raise_timeout = True
            else:
                self._misses = 0
                raise_timeout = False
                sample = self.samples[self.index]
                self.index += 1
        if raise_timeout:
            threading.Event().wait(0.01)  # what a camera does between frames
            raise FrameTimeout("no frame")
        return Frame(self.index - 1, sample.t_s, np.zeros((4, 4, 3), np.uint8))

    def estimate(self, _image: np.ndarray, t_s: float) -> PoseSample:
        with self._lock:
            return self.samples[self.index - 1]

    def close(self) -> None:
        pass


@pytest.fixture
def running(mosquitto_broker) -> Iterator[tuple[App, ReplayedCamera, MqttSubscriber]]:
    config = Config()
    config.device.id = DEVICE
    app = App(config)
    camera = ReplayedCamera()
    app.source, app.estimator = camera, camera  # type: ignore[assignment]
    publisher = MqttPublisher(
        MqttConfig(
            host=mosquitto_broker.host, port=mosquitto_broker.port, reconnect_min_delay_s=0.05, password_env=None
        ),
        DEVICE,
    )
    publisher.start()
    app.sinks = Sinks([MqttSink(publisher, "binary")])
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{BASE}/#") as app_side:
        wait_until(lambda: publisher.stats()["connected"], what="daemon connected")
        loop = threading.Thread(target=app.loop, daemon=True)
        loop.start()
        try:
            yield app, camera, app_side
        finally:
            app.stop.set()
            loop.join(10)
            publisher.close(timeout_s=2.0)


def command(app_side: MqttSubscriber, command_id: str, name: str, **args: str) -> dict:
    body = {"v": 1, "id": command_id, "cmd": name, **({"args": args} if args else {})}
    app_side.publish(f"{BASE}/cmd", json.dumps(body))
    return app_side.wait_for_json(f"{BASE}/cmd/reply", lambda r: r["id"] == command_id)


def play(camera: ReplayedCamera, path: Path, after_s: float) -> None:
    camera.feed(path, after_s)
    assert camera.drained.wait(60), "the frame loop did not take the frames"


def final_session(app_side: MqttSubscriber, command_id: str) -> dict:
    command(app_side, command_id, "stop_session")
    return app_side.wait_for_json(
        f"{BASE}/session", lambda s: s["state"] == "ended" and s.get("t") is None and s["frames"] > 0
    )


def test_reps_are_the_total_over_exercises_and_reset_session_clears_every_count(running) -> None:
    app, camera, app_side = running
    assert command(app_side, "e1", "set_exercise", exercise="squat")["ok"]
    play(camera, SQUATS, 0.0)
    assert command(app_side, "e2", "set_exercise", exercise="push_up")["ok"]
    play(camera, PUSH_UPS, 100.0)
    session = final_session(app_side, "stop1")
    validator("session").validate(session)
    by_exercise = session["reps_by_exercise"]
    assert by_exercise.get("squat", 0) > 0 and by_exercise.get("push_up", 0) > 0, session
    assert session["reps"] == sum(by_exercise.values()) == session["events"]["rep"]
    frames_before = session["frames"]
    assert frames_before == len(camera.samples)

    assert command(app_side, "r1", "reset_session")["ok"]
    play(camera, SQUATS, 200.0)
    fresh = app._session_summary(final=False)
    assert fresh["frames"] == len(load_recording(SQUATS)) and fresh["frames"] < frames_before
    assert fresh["frames_with_person"] <= fresh["frames"]
    assert set(fresh["reps_by_exercise"]) <= {"squat"}
    status = command(app_side, "s1", "status")
    assert status["frames"] == len(camera.samples)  # the status reply counts since start


def test_a_paused_session_speaks_nothing_and_asks_the_llm_nothing(running, monkeypatch) -> None:
    from llm_server import FakeChatServer

    from gymcorner.motivation.service import Motivation

    app, camera, app_side = running
    with FakeChatServer() as server:
        config = load_config(
            None, overrides={"motivation.llm.enabled": True, "motivation.llm.base_url": server.base_url}
        )
        motivation = Motivation(config)
        motivation.speaker = Speaker(command=["true"])
        offered: list[int] = []
        real_offer = motivation.offer
        monkeypatch.setattr(motivation, "offer", lambda *a, **k: (offered.append(len(a[2])), real_offer(*a, **k)))
        app.motivation = motivation
        try:
            assert command(app_side, "p1", "stop_session")["ok"]
            play(camera, SQUATS, 0.0)
            assert offered == [] and motivation.speaker.spoken == [] and server.requests == []
            assert command(app_side, "p2", "reset_session")["ok"]
            play(camera, SQUATS, 100.0)
            assert offered and sum(offered) > 0  # coaching again: the coach's events reach it
        finally:
            app.motivation = None
            motivation.close()


@dataclass
class RecordingCoach:
    """Stands where the motivation service (emotion + LLM coach) sits: keeps what it is offered."""

    codes: list[str] = field(default_factory=list)

    def offer(self, _image: object, _t_s: float, events: list, reps: int) -> None:
        self.hear(events, reps)

    def hear(self, events: list, _reps: int | None = None) -> None:
        self.codes.extend(e.code for e in events)

    def poll(self) -> list:
        return []

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_set_ends_and_heart_rate_zones_reach_the_app_and_the_coach(running) -> None:
    from gymcorner.config.wearables import WearablesConfig
    from gymcorner.wearables.readings import HeartRateReading
    from gymcorner.wearables.service import WearablesService

    app, camera, app_side = running
    strap = "AA:BB:CC:DD:EE:FF"
    config = WearablesConfig(straps={strap: "alice"}, users={"alice": {"max_hr_bpm": 200}}, zone_hold_s=1.0)
    wearables = WearablesService(config, clock=lambda: 2.5)
    for t in (0.0, 1.0, 2.0):
        wearables.on_event(HeartRateReading(strap, t, 170))  # 85 % of 200: zone 4, held 2 s
    coach = RecordingCoach()
    app.wearables, app.motivation = wearables, coach  # type: ignore[assignment]
    assert command(app_side, "x1", "set_exercise", exercise="push_up")["ok"]
    play(camera, PUSH_UPS, 0.0)
    session = final_session(app_side, "stop-hr")

    feedback = [m.json() for m in app_side.messages(f"{BASE}/feedback")]
    for event in feedback:
        validator("feedback").validate(event)
    (zone,) = [e for e in feedback if e["code"] == "hr_zone"]
    assert zone["details"] == {"sensor": "aabbccddeeff", "user": "alice", "zone": 4, "previous_zone": None, "bpm": 170}
    reps = [e for e in feedback if e["code"] == "rep"]
    assert reps and all("quality" in e["details"] for e in reps)
    (set_end,) = [e for e in feedback if e["code"] == "set_end"]
    assert set_end["details"]["ended_by"] == "session_end" and set_end["details"]["reps"] == len(reps)
    assert set_end["details"]["heart_rate"] == {"mean_bpm": 170.0, "peak_bpm": 170.0}
    assert {"hr_zone", "set_end", "rep"} <= set(coach.codes)  # what the spoken / LLM coach hears
    assert session["by_exercise"]["push_up"]["reps"] == len(reps) and session["by_exercise"]["push_up"]["sets"] == 1
    validator("session").validate(session)
