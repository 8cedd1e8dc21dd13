"""The history sink records what the daemon publishes; a bad database never stops coaching.

The sink is fed the dicts the daemon publishes (today's rep and form events, and the set_end,
rest and hr_zone events with rep quality that the coach is about to publish), through a real
writer thread into a real SQLite file. The last tests run the real App frame loop on recorded
landmarks with the sinks `open_sinks` builds from config, against a real Mosquitto.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mqtt_helpers import MqttSubscriber, wait_until
from protocol_doc import validator
from test_session_counts import SQUATS, ReplayedCamera, play

from gymcorner.app import App
from gymcorner.avatar.codec import AvatarFrame
from gymcorner.config import Config
from gymcorner.history import open_history_sink
from gymcorner.history.landmark_codec import unpack
from gymcorner.history.landmarks import landmark_summary, record_landmarks, session_landmarks
from gymcorner.history.samples import HR_BATCH
from gymcorner.history.sink import HistorySink
from gymcorner.history.sqlite import HistoryWriter, open_sqlite
from gymcorner.history.store import Store
from gymcorner.transport.sinks import open_sinks

DEVICE = "corner-sink"


def rep(number: int, exercise: str = "squat", quality: int | None = None, **details: Any) -> dict[str, Any]:
    body = {
        "rep": number,
        "start_t": number * 2.0,
        "bottom_t": number * 2.0 + 0.8,
        "end_t": number * 2.0 + 1.5,
        "depth": 0.95,
        "down_s": 0.8,
        "up_s": 0.7,
        "faults": ["knee_valgus"] if number == 2 else [],
        **details,
    }
    if quality is not None:
        body["quality"] = {"score": quality, "deductions": [{"cause": "knee_valgus", "points": 100 - quality}]}
    return {
        "v": 1,
        "id": f"{DEVICE}-b-{number}",
        "code": "rep",
        "kind": "rep",
        "exercise": exercise,
        "t": body["end_t"],
        "text": f"Rep {number}.",
        "severity": "info",
        "view": "lateral",
        "details": body,
    }


def event(code: str, kind: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "kind": kind, "exercise": "squat", "t": 9.0, "text": code, "details": details}


def summary(state: str, frames: int, exercise: str = "squat") -> dict[str, Any]:
    return {"state": state, "exercise": exercise, "reps": 0, "frames": frames, "t": None}


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[HistorySink, Path]]:
    path = tmp_path / "history.sqlite3"
    writer = HistoryWriter(open_sqlite(path))
    writer.start()
    history = HistorySink(DEVICE, writer)
    yield history, path
    history.close()


def settled(history: HistorySink, path: Path) -> Store:
    """A second connection, as the dashboard or `gymcorner members` would read, once written."""
    assert history.writer is not None and history.writer.wait_idle(10), (
        history.writer.stats() if history.writer else None
    )
    return open_sqlite(path)


def test_a_session_with_sets_reps_quality_and_events_is_recorded(sink) -> None:
    history, path = sink
    history.publish_session(summary("active", 10))  # nobody exercised yet: nothing to keep
    assert settled(history, path).count("sessions") == 0

    history.publish_feedback(event("knee_valgus", "form", reason="knee_valgus"))
    history.publish_session(summary("active", 50))
    for n in (1, 2, 3):
        history.publish_feedback(rep(n, quality=90 - n))
    heart = {"mean_bpm": 121.5, "peak_bpm": 140}
    history.publish_feedback(
        event(
            "set_end",
            "set",
            set=1,
            reps=3,
            good_reps=2,
            mean_quality=88.0,
            down_s=0.8,
            up_s=0.7,
            start_t=2.0,
            end_t=7.5,
            heart_rate=heart,
        )
    )
    history.publish_feedback(event("rest", "info", rest_s=60))
    history.publish_feedback(event("hr_zone", "info", sensor="strap-1", user=None, zone=3, previous_zone=2, bpm=141))
    history.publish_feedback({**event("emotion_fearful", "coach"), "text": "Keep going!"})
    history.publish_feedback(rep(1, quality=95))  # the next set: the counter restarted
    history.publish_avatar(object())  # type: ignore[arg-type]  # not an avatar frame: nothing stored
    history.publish_session(summary("ended", 120))

    db = settled(history, path)
    (session,) = db.sessions(DEVICE)
    assert session["state"] == "ended" and session["ended_at"] >= session["started_at"]
    assert session["reps"] == 4 and session["exercise"] == "squat" and session["member_id"] is None
    reps = db.rows("reps", session["id"])
    assert [(r["set_number"], r["number"]) for r in reps] == [(1, 1), (1, 2), (1, 3), (2, 1)]
    assert [r["quality_score"] for r in reps] == [89, 88, 87, 95]
    assert reps[1]["faults"] == '["knee_valgus"]' and reps[1]["event_id"] == f"{DEVICE}-b-2"
    assert '"cause":"knee_valgus"' in reps[0]["quality_deductions"]
    assert reps[0]["down_s"] == 0.8 and reps[0]["bottom_t"] == 2.8
    (set_row,) = db.rows("sets", session["id"])
    assert (set_row["number"], set_row["reps"], set_row["good_reps"], set_row["mean_quality"]) == (1, 3, 2, 88.0)
    assert (set_row["hr_mean_bpm"], set_row["hr_peak_bpm"]) == (121.5, 140.0)
    events = db.rows("events", session["id"])
    assert [e["code"] for e in events] == ["knee_valgus", "set_end", "rest", "hr_zone", "emotion_fearful"]
    assert [e["hr_zone"] for e in events] == [None, None, None, 3, None]
    assert events[4]["text"] == "Keep going!" and [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert history.status_fields() == {"history": "recording"}


def test_a_new_exercise_starts_a_new_set_and_today_s_reps_without_quality_are_kept(sink) -> None:
    history, path = sink
    history.publish_feedback(rep(1))
    history.publish_feedback(rep(2))
    history.publish_feedback(rep(3, exercise="push_up"))  # one counter over two exercises
    history.publish_session(summary("ended", 100))
    db = settled(history, path)
    reps = db.rows("reps", db.sessions()[0]["id"])
    assert [(r["set_number"], r["number"], r["exercise"]) for r in reps] == [
        (1, 1, "squat"),
        (1, 2, "squat"),
        (2, 3, "push_up"),
    ]
    assert all(r["quality_score"] is None and r["quality_deductions"] is None for r in reps)


def test_reset_session_and_stop_session_each_close_the_session_and_the_next_event_opens_one(sink) -> None:
    history, path = sink
    history.publish_feedback(rep(1))
    history.publish_session(summary("active", 200))
    history.publish_session(summary("active", 3))  # reset_session: the counts started again
    history.publish_feedback(rep(1))
    history.publish_session(summary("ended", 40))  # stop_session
    history.publish_session(summary("active", 5))  # a summary alone opens nothing
    history.publish_feedback(rep(1))
    history.publish_session(summary("ended", 60))
    history.publish_session(summary("active", 90))  # nobody in front of the box: no session open
    history.publish_feedback(rep(1))  # a session opened after the last summary ...
    history.publish_session(summary("active", 2))  # ... and reset before the next: two sessions
    history.publish_feedback(rep(1))
    history.close()  # shutdown: the open session is ended
    sessions = open_sqlite(path).sessions(DEVICE)
    assert [(s["state"], s["reps"]) for s in sessions] == [("ended", 1)] * 5
    assert len({s["uuid"] for s in sessions}) == 5


def test_a_summary_every_5_s_is_written_only_when_it_says_something_new(sink) -> None:
    history, path = sink
    history.publish_feedback(rep(1))  # open_session + the rep: 2 writes
    for frames in range(10, 400, 10):  # 39 summaries: squat, squat, ..., then push_up
        history.publish_session(summary("active", frames, exercise="squat" if frames < 300 else "push_up"))
    assert history.writer is not None and history.writer.wait_idle(10)
    assert history.writer.stats()["written"] == 2 + 2  # one for squat, one for push_up
    assert settled(history, path).sessions()[0]["exercise"] == "push_up"


def test_a_paired_strap_that_delivers_readings_makes_the_guest_session_its_member_s(sink) -> None:
    history, path = sink
    store = open_sqlite(path)
    ana = store.add_member("Ana")
    store.pair_strap("aa-bb-cc-dd-ee-01", ana.id)  # as a person types it; stored as the wearables name it
    store.close()
    straps = {"AA:BB:CC:DD:EE:02": {"readings": 4}, "AA:BB:CC:DD:EE:01": {"readings": 0}}
    history.publish_feedback(rep(1))
    history.publish_session({**summary("active", 10), "wearables": {"source": "ble", "straps": straps}})
    assert settled(history, path).sessions()[0]["member_id"] is None  # an unpaired strap: still a guest
    history.publish_session({**summary("ended", 20), "wearables": {"straps": straps}})
    history.publish_feedback(rep(1))  # the next session: Ana's strap is on
    straps = {"AA:BB:CC:DD:EE:01": {"readings": 12, "bpm": 120, "mean_bpm": 118.5, "peak_bpm": 141,
                                    "zone_s": {"2": 30.0, "3": 12.5}}}  # fmt: skip
    history.publish_session({**summary("active", 30), "wearables": {"source": "ble", "straps": straps}})
    db = settled(history, path)
    assert [s["member_id"] for s in db.sessions()] == [None, ana.id]
    first, second = db.sessions()
    assert (first["hr_sensor"], first["hr_mean_bpm"]) == ("AA:BB:CC:DD:EE:02", None)
    assert (second["hr_sensor"], second["hr_mean_bpm"], second["hr_peak_bpm"]) == ("AA:BB:CC:DD:EE:01", 118.5, 141.0)
    assert json.loads(second["hr_zone_s"]) == {"2": 30.0, "3": 12.5}
    history.publish_session({**summary("active", 40), "wearables": {"straps": {"AA:BB:CC:DD:EE:02": {"readings": 9}}}})
    kept = settled(history, path).sessions()
    assert [s["member_id"] for s in kept] == [None, ana.id]  # a session keeps its member ...
    assert kept[1]["hr_sensor"] == "AA:BB:CC:DD:EE:01"  # ... and its strap


def test_heart_rate_samples_of_the_session_s_strap_are_kept_at_most_once_a_second(sink) -> None:
    history, path = sink
    history.record_heart_rate(1.0, {"aabbccddee01": 100})  # no session open: more than PREROLL_S before it
    history.record_heart_rate(9.2, {"aabbccddee01": 115})  # within PREROLL_S before the first event: the session's
    history.publish_feedback({**rep(1), "t": 12.0})
    ours, neighbour = "aabbccddee01", "aabbccddee02"
    for t, bpm in ((10.0, 120), (10.4, 150), (10.99, 151), (11.0, 121), (12.5, 122)):
        history.record_heart_rate(t, {ours: bpm, neighbour: 60})  # the first strap heard is the session's
    for t, bad in ((13.0, 0), (14.0, 400), (15.0, "x"), (16.0, None)):
        history.record_heart_rate(t, {ours: bad, neighbour: 61})  # glitches: no sample, and never the neighbour's
    history.record_heart_rate(float("nan"), {ours: 123})
    history.record_heart_rate(17.0, "not a mapping")  # type: ignore[arg-type]
    db = settled(history, path)
    assert db.count("hr_samples") == 0  # held back: handed over with the next summary, not a commit a second
    history.publish_session(summary("active", 50))
    db = settled(history, path)
    (session,) = db.sessions(DEVICE)
    assert [(r["t"], r["bpm"]) for r in db.rows("hr_samples", session["id"])] == [
        (9.2, 115), (10.0, 120), (11.0, 121), (12.5, 122)]  # fmt: skip
    for t in range(20, 20 + HR_BATCH):  # a batch is handed over when full, summary or not
        history.record_heart_rate(float(t), {ours: 130})
    assert settled(history, path).count("hr_samples") == 4 + HR_BATCH
    history.record_heart_rate(40.0, {ours: 140})
    straps = {neighbour: {"readings": 9, "mean_bpm": 61.0}, ours: {"readings": 30, "mean_bpm": 125.0}}
    history.publish_session({**summary("ended", 80), "wearables": {"straps": straps}})
    history.record_heart_rate(41.0, {ours: 141})  # after the session: nothing
    db = settled(history, path)
    (session,) = db.sessions(DEVICE)
    assert db.count("hr_samples") == 5 + HR_BATCH
    assert (session["hr_sensor"], session["hr_mean_bpm"]) == (ours, 125.0)  # the samples' strap is the session's


def avatar(t_s: float, present: bool = True) -> AvatarFrame:
    """An avatar frame whose every coordinate says when it was taken (t / 100 m)."""
    if not present:
        return AvatarFrame(0, t_s)
    return AvatarFrame(0, t_s, world_m=np.full((33, 3), t_s / 100), visibility=np.ones(33),
                       bones=np.tile([0.0, 0.0, 0.0, 1.0], (9, 1)))  # fmt: skip


def replay_of(db: Store, session_id: int) -> list[float]:
    """The frame times of a session's stored landmarks, each checked against its coordinates."""
    frames = unpack(session_landmarks(db, session_id))
    np.testing.assert_allclose(frames.world_m[:, 5, 1], frames.t_s / 100, atol=0.0006)
    return [round(float(t), 3) for t in frames.t_s]


def test_landmarks_are_kept_ten_times_a_second_from_the_10_s_before_the_first_event(sink) -> None:
    history, path = sink
    for i in range(450):  # 15 s at 30 fps before anything is said; nobody in view from 5 s to 6 s
        history.publish_avatar(avatar(i / 30, present=not 150 <= i < 180))
    history.publish_feedback({**rep(1), "t": 15.0})  # the session opens: the last 10 s are its own
    for i in range(450, 600):
        history.publish_avatar(avatar(i / 30))
    history.publish_avatar(object())  # type: ignore[arg-type]  # not an avatar frame: nothing
    history.publish_session(summary("ended", 600))
    for i in range(600, 630):  # after the session: nothing
        history.publish_avatar(avatar(i / 30))
    db = settled(history, path)
    (session,) = db.sessions(DEVICE)
    times = replay_of(db, session["id"])
    assert times == [round(n / 10, 3) for n in range(60, 200)]  # 6.0 ... 19.9: 10 a second, a person in view
    assert landmark_summary(db, session["id"])["chunks"] == 3  # 50 + 50 + the 40 left at the end
    assert session["rev"] == 3  # its opening, its rep, its end: landmark chunks never make it due for upload


def test_a_chunk_ends_where_frame_time_goes_back_and_no_landmarks_are_kept_at_0_hz(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    for hz in (10.0, 0.0):
        writer = HistoryWriter(open_sqlite(path))
        writer.start()
        history = HistorySink(f"{DEVICE}-{hz:g}", writer, landmarks_hz=hz)
        history.publish_feedback({**rep(1), "t": 100.0})
        for t in (100.0, 100.1, 100.2, 3.0, 3.1):  # a new clip: its frame times start again
            history.publish_avatar(avatar(t))
        history.close()
    db = open_sqlite(path)
    ((ten,), (none,)) = ([s["id"] for s in db.sessions(f"{DEVICE}-{hz}")] for hz in ("10", "0"))
    assert replay_of(db, ten) == [100.0, 100.1, 100.2, 3.0, 3.1]
    assert landmark_summary(db, ten)["chunks"] == 2
    assert landmark_summary(db, none) == {"chunks": 0, "frames": 0, "bytes": 0, "t0": None, "t1": None}


def test_a_member_deleted_mid_session_is_reported_and_the_next_session_is_recorded(sink, caplog) -> None:
    history, path = sink
    store = open_sqlite(path)
    ana = store.add_member("Ana")
    history.member_id = ana.id
    history.publish_feedback(rep(1))
    assert history.writer is not None and history.writer.wait_idle(10)
    store.delete_member(ana.id)  # from the command line, while she exercises
    with caplog.at_level(logging.ERROR, logger="gymcorner.history.sqlite"):
        history.publish_feedback(rep(2))
        history.publish_feedback(rep(3))
        assert history.writer.wait_idle(10)
    assert history.status_fields()["history"].startswith("failing: session ")
    assert "deleted with its member?" in history.status_fields()["history"]
    assert sum("deleted with its member?" in r.getMessage() for r in caplog.records) == 1  # not once a rep
    history.publish_session(summary("ended", 100))
    history.member_id = None
    history.publish_feedback(rep(1))  # the next person: a guest session, recorded again
    history.publish_session(summary("active", 10))
    db = settled(history, path)
    assert history.status_fields() == {"history": "recording"}
    (session,) = db.sessions()
    assert session["member_id"] is None and session["reps"] == 1 and db.count("members") == 0


def test_a_full_disk_is_reported_once_coaching_goes_on_and_recording_resumes_when_there_is_room(
    tmp_path: Path, caplog
) -> None:
    """SQLite's own "database or disk is full" (SQLITE_FULL), made by capping the file's pages
    at what it holds (`max_page_count`), as a full disk makes it; then room again."""
    path = tmp_path / "h.sqlite3"
    store = open_sqlite(path)
    history = HistorySink(DEVICE, HistoryWriter(store))
    assert history.writer is not None
    history.writer.start()
    history.publish_feedback(rep(1))
    assert history.writer.wait_idle(10)
    pages = int(store.execute("PRAGMA page_count").fetchone()[0])
    store.execute(f"PRAGMA max_page_count = {pages}")  # the writer is idle: nothing else uses it now
    with caplog.at_level(logging.ERROR, logger="gymcorner.history.sqlite"):
        for number in range(2, 400):  # more than the free room in its pages: the file must grow
            history.publish_feedback(rep(number))
        assert history.writer.wait_idle(10)
    said = history.status_fields()["history"]
    assert said.startswith("failing: history database ") and "the disk is full" in said, said
    assert sum("the disk is full" in r.getMessage() for r in caplog.records) == 1  # once, not once a rep
    store.execute("PRAGMA max_page_count = 1073741823")  # room again (idle writer)
    history.publish_feedback(rep(400))
    assert history.writer.wait_idle(10)
    assert history.status_fields() == {"history": "recording"}
    history.close()
    db = open_sqlite(path)
    (session,) = db.sessions()
    numbers = [r["number"] for r in db.rows("reps", session["id"])]
    assert numbers[0] == 1 and numbers[-1] == 400  # the rep before and the rep after: kept, in one session
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_full_queue_drops_and_counts_writes_and_never_blocks_the_caller(tmp_path: Path, caplog) -> None:
    writer = HistoryWriter(open_sqlite(tmp_path / "h.sqlite3"), queue_size=16)
    writer.start()
    busy, release = threading.Event(), threading.Event()

    def slow_disk(_store: Store) -> None:
        busy.set()
        release.wait(30)

    assert writer.submit(slow_disk)
    assert busy.wait(10)  # the writer is inside the slow write: the queue is empty
    history = HistorySink(DEVICE, writer)
    with caplog.at_level(logging.WARNING, logger="gymcorner.history.sqlite"):
        for n in range(1, 31):  # 1 open_session + 30 reps: 15 fit behind it
            history.publish_feedback(rep(n))
    assert writer.stats()["dropped"] == 31 - 16
    assert sum("write queue full" in r.message for r in caplog.records) == 1  # once per burst
    release.set()
    assert writer.wait_idle(10)
    assert writer.stats()["written"] == 17 and writer.stats()["failed"] == 0
    history.close()
    assert open_sqlite(tmp_path / "h.sqlite3").count("reps") == 15


def test_open_history_sink_closes_interrupted_sessions_and_prunes_by_retention(tmp_path: Path) -> None:
    import time

    path = tmp_path / "h.sqlite3"
    store = open_sqlite(path)
    store.open_session(DEVICE, "cut-by-power", time.time() - 60)
    store.open_session(DEVICE, "last-year", time.time() - 400 * 86400)
    store.open_session(DEVICE, "last-week", time.time() - 8 * 86400)
    for uuid in ("cut-by-power", "last-year", "last-week"):
        record_landmarks(store, DEVICE, uuid, 0, [(1.0, np.zeros((33, 3)), np.ones(33))])
    store.close()
    config = Config()
    config.device.id = DEVICE
    config.history.path = path
    config.history.retention_days = 30
    config.history.landmarks_retention_days = 7
    history = open_history_sink(config)
    history.close()
    db = open_sqlite(path)
    left = {s["uuid"]: s for s in db.sessions()}
    assert sorted(left) == ["cut-by-power", "last-week"] and left["cut-by-power"]["state"] == "interrupted"
    replays = {uuid: landmark_summary(db, s["id"])["frames"] for uuid, s in left.items()}
    assert replays == {"cut-by-power": 1, "last-week": 0}  # a week-old replay went; its session stays


# ---------------------------------------------------------------------------- the real frame loop


def running_app(config: Config, broker, device_id: str = DEVICE) -> tuple[App, ReplayedCamera, ExitStack]:
    config.device.id = device_id
    config.mqtt.host, config.mqtt.port = broker.host, broker.port
    config.mqtt.reconnect_min_delay_s = 0.05
    config.mqtt.password_env = None
    app = App(config)
    camera = ReplayedCamera()
    app.source, app.estimator = camera, camera  # type: ignore[assignment]
    stack = ExitStack()
    app.sinks, _publisher = open_sinks(config, stack)
    return app, camera, stack


def run_loop(app: App) -> threading.Thread:
    loop = threading.Thread(target=app.loop, daemon=True)
    loop.start()
    return loop


@pytest.mark.broker
def test_the_daemon_records_every_rep_it_publishes(tmp_path: Path, mosquitto_broker) -> None:
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = tmp_path / "h.sqlite3"
    app, camera, stack = running_app(config, mosquitto_broker)
    base = f"gymcorner/{DEVICE}"
    with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{base}/#") as sub:
        loop = run_loop(app)
        camera.feed(SQUATS, 0.0)
        assert camera.drained.wait(60)
        app.stop.set()
        loop.join(10)
        app.shutdown()
        # the final summary is published after the last event, on the same connection and QoS
        sub.wait_for_json(f"{base}/session", lambda m: m.get("state") == "ended")
        published = [m.json() for m in sub.messages(f"{base}/feedback")]
        status = [
            m.json() for m in sub.messages(f"{base}/status") if m.json()["state"] == "online" and "detail" in m.json()
        ]
    reps = [e for e in published if e["kind"] == "rep"]
    assert reps, "the recording shows squats: some reps were published"
    db = open_sqlite(config.history.path)
    (session,) = db.sessions(DEVICE)
    stored = db.rows("reps", session["id"])
    assert [r["event_id"] for r in stored] == [e["id"] for e in reps]  # the ids MQTT gave them
    assert [r["number"] for r in stored] == [e["details"]["rep"] for e in reps]
    assert session["state"] == "ended" and session["reps"] == len(reps)
    assert status and all(s["history"] == "recording" for s in status), status
    for message in status:
        validator("status").validate(message)


@pytest.mark.broker
@pytest.mark.parametrize("damage", ["corrupt", "locked"])
def test_a_corrupt_or_locked_database_is_reported_and_coaching_goes_on(
    tmp_path: Path, mosquitto_broker, caplog, damage: str
) -> None:
    import sqlite3

    path = tmp_path / "h.sqlite3"
    holder = None
    if damage == "corrupt":
        path.write_bytes(b"\x00garbage, not SQLite\n" * 512)
    else:
        open_sqlite(path).close()
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = path
    config.history.lock_timeout_s = 0.2
    base = f"gymcorner/{DEVICE}"
    try:
        with caplog.at_level(logging.ERROR, logger="gymcorner.history"):
            app, camera, stack = running_app(config, mosquitto_broker)
        with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{base}/#") as sub:
            loop = run_loop(app)
            camera.feed(SQUATS, 0.0)
            assert camera.drained.wait(60)
            wait_until(lambda: any(m.json()["kind"] == "rep" for m in sub.messages(f"{base}/feedback")), 10, "a rep")
            online = [
                m.json()
                for m in sub.messages(f"{base}/status")
                if m.json()["state"] == "online" and "detail" in m.json()
            ]
            app.stop.set()
            loop.join(10)
            app.shutdown()
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    said = "is corrupt" if damage == "corrupt" else "is locked by another process"
    (line,) = [r.getMessage() for r in caplog.records if "history unavailable" in r.getMessage()]
    assert said in line and str(path) in line
    assert online and all(s["history"].startswith("unavailable: ") and said in s["history"] for s in online)
    for message in online:
        validator("status").validate(message)


# ---------------------------------------------------------------------------- untrusted shapes

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_codes = st.sampled_from(["rep", "set_end", "rest", "hr_zone", "knee_valgus", "emotion_happy"]) | st.text(max_size=8)
_details = (
    st.fixed_dictionaries(
        {},
        optional={
            k: _json
            for k in ("rep", "set", "reps", "faults", "quality", "heart_rate", "zone", "depth", "down_s", "start_t")
        },
    )
    | _json
)
_events = st.fixed_dictionaries(
    {"code": _codes},
    optional={"kind": st.sampled_from(["rep", "form", "set", "info", "coach"]) | _json, "details": _details,
              "exercise": _json, "t": _json, "id": _json, "text": _json},
)  # fmt: skip


_example = itertools.count()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(_events, max_size=8), frames=st.lists(_json, max_size=3))
def test_no_event_shape_breaks_the_frame_thread_or_the_writer(tmp_path: Path, events, frames) -> None:
    """Whatever a future coach (or a bug) publishes, the sink neither raises on the frame
    thread nor hands the writer something it cannot store."""
    path = tmp_path / f"fuzz-{next(_example)}.sqlite3"  # one file per example
    writer = HistoryWriter(open_sqlite(path))
    writer.start()
    history = HistorySink(DEVICE, writer)
    for body in events:
        history.publish_feedback(body)
    for value in frames:
        history.publish_session({"state": "active", "frames": value, "exercise": value})
        history.record_heart_rate(value, {"strap": value})  # what a strap (or a bug) may hand over
        history.record_heart_rate(1.0, value if isinstance(value, dict) else {"strap": value})
    history.publish_session(summary("ended", 10**6))
    assert writer.wait_idle(10)
    assert writer.stats()["failed"] == 0, writer.stats()
    history.close()


# ---------------------------------------------------------------------------- start_session {"member": ...}


def test_start_session_parses_an_optional_member_and_nothing_else() -> None:
    from gymcorner.transport.commands import Command, CommandName, InvalidCommand, parse_command

    def parse(body: dict[str, Any]) -> Command:
        return parse_command(json.dumps({"v": 1, "id": "c", "cmd": "start_session", **body}).encode())

    assert parse({"args": {"member": "Ana"}}) == Command("c", CommandName.START_SESSION, {"member": "Ana", "member_key": None})
    assert parse({"args": {"member_key": "ana silva"}}).args == {"member": None, "member_key": "ana silva"}
    assert parse({}).args == {"member": None, "member_key": None}
    for bad, reason in (
        ({"member": ""}, "at least 1"),
        ({"member": 7}, "string"),
        ({"who": "Ana"}, "unknown key"),
        ({"member_key": "  "}, "args.member_key: .*not only spaces"),
        ({"member_key": 7}, "string"),
        ({"member": "Ana", "member_key": "ana"}, "give member or member_key, not both"),
    ):
        with pytest.raises(InvalidCommand, match=reason):
            parse({"args": bad})


def test_a_member_key_is_a_name_only_never_a_box_s_id(sink) -> None:
    """What a chain's dashboard sends: its member ids are not the box's, so a chain member
    named "2" must not start the box's member 2, and one the box never saw is refused."""
    history, path = sink
    store = open_sqlite(path)
    store.add_member("Carla")
    ana = store.add_member("Ana Silva")
    store.close()
    taken = history.start_session(None, member_key="  ANA   silva ")
    assert (taken["member"], taken["member_id"]) == ("Ana Silva", ana.id) and history.member_id == ana.id
    for unknown in ("2", "Ben"):
        refused = history.start_session(None, member_key=unknown)
        assert refused == {
            "error": f"no member named {unknown.casefold()!r} here: a box knows its own members and, once it syncs "
            "with a chain, the chain's members as of its last sync (gymcorner history sync); "
            "or add them on this box: gymcorner members add"
        }
        assert history.member_id == ana.id  # nothing changed
    assert history.start_session("2")["member"] == "Ana Silva"  # `member` still reads a number as an id


@pytest.mark.broker
def test_start_session_over_mqtt_records_the_session_as_the_member_s(tmp_path: Path, mosquitto_broker) -> None:
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = tmp_path / "h.sqlite3"
    store = open_sqlite(config.history.path)
    ana = store.add_member("Ana Silva")
    store.close()
    app, camera, stack = running_app(config, mosquitto_broker)
    base = f"gymcorner/{DEVICE}"
    with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{base}/#") as sub:

        def command(command_id: str, **args: str) -> dict[str, Any]:
            body = {"v": 1, "id": command_id, "cmd": "start_session", **({"args": args} if args else {})}
            sub.publish(f"{base}/cmd", json.dumps(body))
            reply = sub.wait_for_json(f"{base}/cmd/reply", lambda r: r["id"] == command_id)
            validator("cmd-reply").validate(reply)
            return reply

        loop = run_loop(app)
        wait_until(lambda: app.sinks.get("mqtt").stats()["connected"], what="daemon connected")  # type: ignore[union-attr]
        reply = command("s1", member="ana silva")
        assert (reply["ok"], reply["member"], reply["member_id"]) == (True, "Ana Silva", ana.id)
        play(camera, SQUATS, 0.0)
        refused = command("s2", member="Anna")
        assert refused["ok"] is False and "no member 'Anna'" in refused["error"]
        assert command("s3")["ok"] is True  # the next person: a guest
        play(camera, SQUATS, 100.0)
        app.stop.set()
        loop.join(10)
        app.shutdown()
    db = open_sqlite(config.history.path)
    sessions = db.sessions(DEVICE)
    assert [s["member_id"] for s in sessions] == [ana.id, None]
    assert all(s["state"] == "ended" and s["reps"] > 0 for s in sessions), sessions


def test_the_coach_s_own_sets_of_two_exercises_are_kept_apart(sink) -> None:
    """Real coach output: squats, then push-ups. Both exercises number their first set 1;
    the stored sets and reps must not collide, and each set holds its own reps."""
    from test_session_counts import PUSH_UPS

    from gymcorner.coach.exercises import Exercise
    from gymcorner.pipeline import Pipeline
    from gymcorner.recording import load_recording

    history, path = sink
    config = Config()
    config.coach.exercise = "squat"
    pipeline = Pipeline(config)
    published: list[dict[str, Any]] = []

    def feed(samples) -> None:
        for s in samples:
            for e in pipeline.process(s).coach.events:
                published.append(e.to_dict())
                history.publish_feedback(published[-1])

    feed(load_recording(SQUATS).samples())
    pipeline.set_exercise(Exercise.PUSH_UP)
    last = 100.0
    pushups = [s for s in load_recording(PUSH_UPS).samples()]
    from gymcorner.motion.landmarks import PoseSample

    feed(PoseSample(s.t_s + last, s.width, s.height, s.image, s.world) for s in pushups)
    for e in pipeline.finish(last + pushups[-1].t_s):
        published.append(e.to_dict())
        history.publish_feedback(published[-1])
    history.publish_session(summary("ended", 500))

    set_ends = [e for e in published if e["code"] == "set_end"]
    assert [(e["exercise"], e["details"]["set"]) for e in set_ends] == [("squat", 1), ("push_up", 1)]
    db = settled(history, path)
    (session,) = db.sessions(DEVICE)
    sets = db.rows("sets", session["id"])
    assert [(s["number"], s["exercise"], s["reps"]) for s in sets] == [
        (1, "squat", set_ends[0]["details"]["reps"]),
        (2, "push_up", set_ends[1]["details"]["reps"]),
    ]
    reps = db.rows("reps", session["id"])
    for s in sets:
        assert sum(r["set_number"] == s["number"] and r["exercise"] == s["exercise"] for r in reps) == s["reps"]


@pytest.mark.broker
def test_a_member_s_session_follows_their_plan_and_keeps_the_targets(tmp_path: Path, mosquitto_broker) -> None:
    """start_session for a member: the reply carries the plan, a `plan` event says it, each
    set_end counts against the planned reps, and the stored set keeps its target."""
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = tmp_path / "h.sqlite3"
    store = open_sqlite(config.history.path)
    ana = store.add_member("Ana", birth_year=1990, goal="hypertrophy", level="beginner")
    store.close()
    app, camera, stack = running_app(config, mosquitto_broker)
    base = f"gymcorner/{DEVICE}"
    with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{base}/#") as sub:
        loop = run_loop(app)
        wait_until(lambda: app.sinks.get("mqtt").stats()["connected"], what="daemon connected")  # type: ignore[union-attr]
        sub.publish(f"{base}/cmd", json.dumps({"v": 1, "id": "p1", "cmd": "start_session", "args": {"member": "ana"}}))
        reply = sub.wait_for_json(f"{base}/cmd/reply", lambda r: r["id"] == "p1")
        validator("cmd-reply").validate(reply)
        squat_plan = next(i for i in reply["plan"]["items"] if i["exercise"] == "squat")
        assert (squat_plan["sets"], squat_plan["reps"]) == (2, 8) and squat_plan["reasons"]
        play(camera, SQUATS, 0.0)
        app.stop.set()
        loop.join(10)
        app.shutdown()  # the open set ends with the session: its set_end is published on the way out
        sub.wait_for_json(f"{base}/session", lambda m: m.get("state") == "ended")
        feedback = [m.json() for m in sub.messages(f"{base}/feedback")]
    (plan,) = [e for e in feedback if e["code"] == "plan"]
    assert plan["text"].startswith("Today's plan for Ana: squat 2 x 8") and plan["details"]["items"]
    (set_end,) = [e for e in feedback if e["code"] == "set_end"]
    assert set_end["details"]["target_reps"] == 8 and " of 8 reps" in set_end["text"]
    db = open_sqlite(config.history.path)
    (session,) = db.sessions(DEVICE)
    assert session["member_id"] == ana.id
    assert [s["target_reps"] for s in db.rows("sets", session["id"])] == [8]
