"""What the real frame loop records beside the reps: heart-rate samples over time.

The real App runs its frame loop on recorded landmarks of a real clip (the replayed
recording stands in for the camera and the pose model, as in test_session_counts.py), with
the sinks `open_sinks` builds from config (MQTT off: history only) and a real
WearablesService whose strap delivers readings as the frames go by.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_session_counts import SQUATS, ReplayedCamera

from gymcorner.app import App
from gymcorner.config import Config
from gymcorner.config.wearables import WearablesConfig
from gymcorner.history.sqlite import open_sqlite
from gymcorner.transport.sinks import open_sinks
from gymcorner.vision.sources import Frame
from gymcorner.wearables.readings import HeartRateReading
from gymcorner.wearables.service import WearablesService

DEVICE = "corner-samples"
STRAP = "AA:BB:CC:DD:EE:0F"


def bpm_at(t_s: float) -> int:
    return 100 + int(t_s * 4)  # climbing through the set, 4 bpm a second


@dataclass
class CameraWithStrap(ReplayedCamera):
    """The replayed camera, and a strap that delivers a reading with every frame it hands out
    (its clock is the frame time, so "fresh" means what it means live)."""

    wearables: WearablesService | None = None
    now_s: float = 0.0
    readings: int = 0
    _strap_lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, timeout_s: float | None = None) -> Frame | None:
        frame = super().read(timeout_s)
        if frame is not None and self.wearables is not None:
            self.now_s = frame.t_s
            self.wearables.on_event(HeartRateReading(STRAP, frame.t_s, bpm_at(frame.t_s)))
            self.readings += 1
        return frame


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[App, CameraWithStrap, Path]]:
    config = Config()
    config.device.id = DEVICE
    config.mqtt.enabled = False
    config.coach.exercise = "squat"
    config.history.path = tmp_path / "h.sqlite3"
    app = App(config)
    camera = CameraWithStrap()
    camera.wearables = WearablesService(WearablesConfig(), clock=lambda: camera.now_s)
    app.source, app.estimator = camera, camera  # type: ignore[assignment]
    app.wearables = camera.wearables
    with ExitStack() as stack:
        app.sinks, _ = open_sinks(config, stack)
        yield app, camera, config.history.path


def run_to_the_end(app: App, camera: ReplayedCamera, recording: Path) -> None:
    loop = threading.Thread(target=app.loop, daemon=True)
    loop.start()
    camera.feed(recording, 0.0)
    assert camera.drained.wait(60)
    app.stop.set()
    loop.join(10)
    app.shutdown()


def test_the_frame_loop_keeps_the_session_s_heart_rate_once_a_second_of_frame_time(daemon) -> None:
    app, camera, path = daemon
    run_to_the_end(app, camera, SQUATS)
    db = open_sqlite(path)
    (session,) = db.sessions(DEVICE)
    samples = [(r["t"], r["bpm"]) for r in db.rows("hr_samples", session["id"])]
    reps = db.rows("reps", session["id"])
    assert reps and camera.readings > 3 * len(samples)  # a reading every frame, a sample a second
    times = [t for t, _ in samples]
    assert len(samples) >= 4 and all(b - a >= 1.0 - 1e-6 for a, b in zip(times, times[1:]))
    assert all(bpm == bpm_at(t) for t, bpm in samples)  # the strap's reading at that frame
    assert times[0] <= reps[-1]["end_t"] and times[-1] <= camera.samples[-1].t_s  # on the reps' clock
    assert session["hr_sensor"] == "aabbccddee0f"
