"""What the real frame loop records beside the reps: heart-rate samples over time.

The real App runs its frame loop on recorded landmarks of a real clip (the replayed
recording stands in for the camera and the pose model, as in test_session_counts.py), with
the sinks `open_sinks` builds from config (MQTT off: history only) and a real
WearablesService whose strap delivers readings as the frames go by.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_session_counts import SQUATS, ReplayedCamera

from gymcorner.app import App
from gymcorner.coach.exercises import Exercise
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
    return 100 + int(t_s * 4) % 80  # climbing through a set, 4 bpm a second, and down again


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
    assert len(samples) >= 4 and all(b - a >= 1.0 - 1e-6 for a, b in itertools.pairwise(times))
    assert all(bpm == bpm_at(t) for t, bpm in samples)  # the strap's reading at that frame
    assert times[0] <= reps[-1]["end_t"] and times[-1] <= camera.samples[-1].t_s  # on the reps' clock
    assert session["hr_sensor"] == "aabbccddee0f"


LONG_PUSH_UPS = SQUATS.parent / "workouttracker_reps__push-ups__videoplayback.npz"  # 55 s at 30 fps


def test_a_real_clip_s_replay_is_kept_ten_times_a_second_at_the_cost_the_format_says(daemon) -> None:
    """The 55 s push-up clip through the real frame loop: the landmarks the avatar carried, at
    10 Hz, in chunks whose bytes are the format's; what they cost in the file, measured."""
    import sqlite3

    from gymcorner.history.landmark_codec import FRAME_SIZE, HEADER_SIZE, bytes_per_minute, unpack
    from gymcorner.history.landmarks import landmark_summary, session_landmarks

    app, camera, path = daemon
    app.pipeline.set_exercise(Exercise.PUSH_UP)
    run_to_the_end(app, camera, LONG_PUSH_UPS)
    db = open_sqlite(path)
    (session,) = db.sessions(DEVICE)
    kept = landmark_summary(db, session["id"])
    frames = unpack(session_landmarks(db, session["id"]))
    in_view = [s.t_s for s in camera.samples if s.world is not None]
    assert len(frames) == kept["frames"] and abs(len(frames) - 10 * (in_view[-1] - in_view[0])) <= 11
    assert kept["bytes"] == kept["chunks"] * HEADER_SIZE + kept["frames"] * FRAME_SIZE  # exactly the format
    steps = [b - a for a, b in zip(frames.t_s, frames.t_s[1:], strict=False)]
    assert min(steps) >= 0.1 - 0.034 and max(steps) <= 0.1 + 0.034  # 10 a second of a 30 fps clip
    minutes = (frames.t_s[-1] - frames.t_s[0] + 0.1) / 60
    per_minute = kept["bytes"] / minutes
    assert abs(per_minute - bytes_per_minute(10)) / bytes_per_minute(10) < 0.02
    reps = db.rows("reps", session["id"])
    assert reps and frames.t_s[0] <= reps[0]["start_t"] and reps[-1]["end_t"] <= frames.t_s[-1] + 0.1
    db.close()

    conn = sqlite3.connect(path, isolation_level=None)  # what the rows cost in the file, pages included

    def size_after_vacuum() -> int:
        conn.execute("VACUUM")
        return int(conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0])

    samples = conn.execute("SELECT COUNT(*) FROM hr_samples").fetchone()[0]
    with_landmarks = size_after_vacuum()
    conn.execute("DELETE FROM landmarks")
    without = size_after_vacuum()
    conn.execute("DELETE FROM hr_samples")
    without_hr = size_after_vacuum()
    conn.close()
    hour = open_sqlite(path)  # an hour of heart rate (one clip's minute is less than a page)
    hour.open_session(DEVICE, "an-hour", 0.0)
    hour.record_heart_rate(DEVICE, "an-hour", [(float(t), 100 + t % 80) for t in range(3600)])
    hour.close()
    conn = sqlite3.connect(path, isolation_level=None)
    hr_per_minute = (size_after_vacuum() - without_hr) / 60
    conn.close()
    assert hr_per_minute < 3000
    in_file = (with_landmarks - without) / minutes
    assert bytes_per_minute(10) <= in_file <= 1.15 * bytes_per_minute(10)
    assert abs(samples - minutes * 60) <= 11  # the strap's heart rate, a sample a second, alongside
    print(f"\nlandmarks: {kept['frames']} frames in {kept['chunks']} chunks over {minutes * 60:.1f} s: "
          f"{per_minute:,.0f} B/min of chunks, {in_file:,.0f} B/min in the file; "
          f"{samples} heart-rate samples; an hour of them: {hr_per_minute:,.0f} B/min in the file")  # fmt: skip
