"""The same storage layer on a real PostgreSQL server, and boxes uploading to it.

The server is started by the test (initdb + pg_ctl in a temporary folder, loopback only:
postgres_helpers.py). Two boxes record sessions through the real history sink and writer
into their own SQLite files and upload with `gymcorner history sync`; one of them is cut
off (the server goes down), keeps recording, and uploads again when it is back. Nothing
is duplicated and every box's sessions are there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from postgres_helpers import PostgresServer, fresh_database
from test_history_sink import rep, summary

from gymcorner.cli import main as cli_main
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.landmark_codec import unpack
from gymcorner.history.landmarks import record_landmarks, session_landmarks
from gymcorner.history.postgres import open_postgres, redact
from gymcorner.history.schema import LATEST, TABLES
from gymcorner.history.sink import HistorySink
from gymcorner.history.sqlite import HistoryWriter, open_sqlite
from gymcorner.history.store import Store
from gymcorner.history.sync import upload

pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")


@pytest.fixture
def url(pg_server: PostgresServer) -> str:
    """A fresh database on the shared server for each test."""
    return fresh_database(pg_server)


def pg_columns(store: Store) -> dict[str, list[tuple[str, str, str]]]:
    rows = store.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, kind, nullable in rows:
        out.setdefault(table, []).append((column, kind, nullable))
    return out


def test_fresh_and_upgraded_postgresql_schemas_are_the_same(pg_server: PostgresServer) -> None:
    fresh = open_postgres(pg_server.create_database("fresh"))
    assert fresh.schema_version() == LATEST
    old = open_postgres(pg_server.create_database("old"), migrate=False)
    assert old.migrate(target=1) == [1]
    with old.transaction():
        old.execute("INSERT INTO members (display_name, name_key, created_at) VALUES ('Old', 'old', 1)")
        old.execute("INSERT INTO sessions (device_id, uuid, started_at, state) VALUES ('box', 'u', 1, 'ended')")
    assert old.migrate() == list(range(2, LATEST + 1))
    assert pg_columns(old) == pg_columns(fresh)
    assert old.find_member("OLD").id == 1 and old.sessions()[0]["synced_rev"] == -1
    fresh.close()
    old.close()


def test_members_and_cascades_behave_as_on_sqlite(url: str) -> None:
    store = open_postgres(url)
    ana = store.add_member("Ana", birth_year=1990)
    with pytest.raises(HistoryError, match="already exists") as dup:
        store.add_member("ANA")
    assert dup.value.reason is Reason.HISTORY_CONFLICT
    ben = store.add_member("Ben")
    store.pair_strap("AA:BB", ana.id)
    with pytest.raises(HistoryError, match="already paired"):
        store.pair_strap("aa:bb", ben.id)
    store.open_session("box", "s1", 1.0, ana.id)
    store.record_rep("box", "s1", {"set_number": 1, "number": 1, "faults": ["hips_sag"], "quality_score": 70})
    store.record_event("box", "s1", {"seq": 1, "code": "hips_sag", "details": {}})
    store.record_set("box", "s1", {"number": 1, "reps": 1})
    store.record_heart_rate("box", "s1", [(1.0, 118), (2.0, 121)])
    store.record_heart_rate("box", "s1", [(2.0, 121)])  # again: an upsert, not a second row
    record_landmarks(store, "box", "s1", 0, [(t, np.full((33, 3), t), np.ones(33)) for t in (1.0, 1.1)])  # BYTEA
    store.open_session("box", "s2", 2.0, ben.id)
    ana_session, ben_session = (s["id"] for s in store.sessions("box"))
    replay = unpack(session_landmarks(store, ana_session))
    assert replay.t_s.tolist() == [1.0, 1.1] and replay.world_m[1, 32, 2] == 1.1
    note = store.add_note(ana_session, "tess", "trainer", "chest up")
    assert (note["author"], note["text"]) == ("tess", "chest up") and isinstance(note["written_at"], float)
    store.add_note(ben_session, "tess", "trainer", "good depth")
    with pytest.raises(HistoryError, match="needs some text"):
        store.add_note(ben_session, "tess", "trainer", " ")
    assert [n["text"] for n in store.member_data(ana.id)["notes"]] == ["chest up"]
    assert store.close_interrupted("box") == 2
    store.delete_member(ana.id)
    assert {t: store.count(t) for t in TABLES} == {
        "members": 1, "straps": 0, "sessions": 1, "sets": 0, "reps": 0, "events": 0, "notes": 1,
        "hr_samples": 0, "landmarks": 0}  # fmt: skip
    store.close()


class Box:
    """A gym-corner box: its own SQLite file, recording through the real sink and writer."""

    def __init__(self, tmp_path: Path, device_id: str) -> None:
        self.device_id = device_id
        self.path = tmp_path / f"{device_id}.sqlite3"
        store = open_sqlite(self.path)
        self.member_id = store.find_member("Ana").id if _has(store, "Ana") else store.add_member("Ana").id
        store.close()

    def workout(self, reps: int, member: bool = False, heart: bool = False) -> None:
        writer = HistoryWriter(open_sqlite(self.path))
        writer.start()
        sink = HistorySink(self.device_id, writer)
        sink.member_id = self.member_id if member else None
        for n in range(1, reps + 1):
            sink.publish_feedback(rep(n))
            if heart:  # a strap's sample a second, as the daemon hands them over
                sink.record_heart_rate(float(n), {"aabbccddee01": 120 + n})
        sink.publish_session(summary("ended", 100))
        sink.close()

    def note(self, text: str, member_session: bool) -> None:
        """A trainer's note on the box's first session of the member (or of a guest)."""
        store = open_sqlite(self.path)
        try:
            wanted = self.member_id if member_session else None
            session = next(s for s in store.sessions(self.device_id) if s["member_id"] == wanted)
            store.add_note(session["id"], "tess", "trainer", text)
        finally:
            store.close()

    def sync(self, url: str) -> str:
        return run_cli(["history", "sync", "--to", url, "--db", str(self.path)])


def _has(store: Store, name: str) -> bool:
    try:
        store.find_member(name)
    except HistoryError:
        return False
    return True


def run_cli(argv: list[str]) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(argv) == 0
    return out.getvalue()


def remote_view(url: str) -> dict[str, Any]:
    store = open_postgres(url)
    try:
        sessions = store.sessions()
        keys = store.execute(
            "SELECT s.device_id, s.uuid, r.set_number, r.number FROM reps r JOIN sessions s ON s.id = r.session_id"
        ).fetchall()
        return {
            "sessions": {(s["device_id"], s["uuid"]): s for s in sessions},
            "rep_keys": keys,
            "members": [m.display_name for m in store.list_members()],
            "notes": store.execute(
                "SELECT s.device_id, n.text, n.author FROM notes n JOIN sessions s ON s.id = n.session_id"
            ).fetchall(),
            "hr_samples": [tuple(r) for r in store.execute("SELECT t, bpm FROM hr_samples ORDER BY t").fetchall()],
        }
    finally:
        store.close()


def test_two_boxes_upload_one_after_an_outage_and_nothing_is_duplicated(
    tmp_path: Path, pg_server: PostgresServer, url: str
) -> None:
    north, south = Box(tmp_path, "gym-north-1"), Box(tmp_path, "gym-south-1")
    north.workout(3, member=True, heart=True)
    north.workout(2)
    south.workout(4, member=True)
    north.note("hips back", member_session=True)
    assert "uploaded 2 sessions (0 sets, 5 reps, 0 events, 1 notes, 3 hr_samples)" in north.sync(url)
    assert "uploaded 1 sessions (0 sets, 4 reps, 0 events, 0 notes, 0 hr_samples)" in south.sync(url)
    assert "nothing to upload" in north.sync(url)  # already there: nothing goes up twice

    pg_server.stop()  # the chain's server is away; the north box keeps coaching and recording
    north.workout(5, member=True)
    with pytest.raises(HistoryError, match="is unreachable") as away:
        upload(open_sqlite(north.path), open_postgres(url, connect_timeout_s=2))
    assert "***" not in str(away.value) and redact(url) in str(away.value)
    pg_server.start()

    assert "uploaded 1 sessions (0 sets, 5 reps, 0 events, 0 notes, 0 hr_samples)" in north.sync(url)
    # a box that crashed between the server's commit and its own bookkeeping sends again
    local = open_sqlite(north.path)
    with local.transaction():
        local.execute("UPDATE sessions SET synced_rev = -1")
    local.close()
    assert "uploaded 3 sessions" in north.sync(url)

    view = remote_view(url)
    north_local, south_local = open_sqlite(north.path).sessions(), open_sqlite(south.path).sessions()
    assert set(view["sessions"]) == {(s["device_id"], s["uuid"]) for s in north_local + south_local}
    assert len(view["sessions"]) == 4
    assert len(view["rep_keys"]) == len(set(view["rep_keys"])) == 3 + 2 + 4 + 5
    for local_session in north_local + south_local:
        remote = view["sessions"][(local_session["device_id"], local_session["uuid"])]
        assert (remote["reps"], remote["state"]) == (local_session["reps"], local_session["state"])
    assert view["members"] == ["Ana"]  # the same member on both boxes is one member of the chain
    assert view["notes"] == [("gym-north-1", "hips back", "tess")]  # once, after the whole history went up twice
    assert view["hr_samples"] == [(1.0, 121), (2.0, 122), (3.0, 123)]  # once each, too
    owned = [s for s in view["sessions"].values() if s["member_id"] is not None]
    assert len(owned) == 3 and len({s["member_id"] for s in owned}) == 1


def test_sync_reads_the_url_from_config_and_says_what_is_missing(tmp_path: Path, url: str) -> None:
    box = Box(tmp_path, "gym-east-1")
    box.workout(2)
    cfg = tmp_path / "box.toml"
    cfg.write_text(f'[history]\npath = "{box.path}"\nupload_url = "{url}"\n')
    assert "uploaded 1 sessions" in run_cli(["history", "sync", "--config", str(cfg)])
    with pytest.raises(HistoryError, match="needs --to"):
        cli_main(["history", "sync", "--db", str(box.path)])


def test_the_daemon_uploads_by_itself_and_catches_up_after_the_server_was_away(
    tmp_path: Path, pg_server: PostgresServer, url: str, caplog
) -> None:
    import logging

    from mqtt_helpers import wait_until

    from gymcorner.config import Config
    from gymcorner.history import open_history_sink

    config = Config()
    config.device.id = "gym-west-1"
    config.history.path = tmp_path / "west.sqlite3"
    config.history.upload_url = url
    config.history.upload_every_s = 0.2
    sink = open_history_sink(config)
    assert sink.uploader is not None
    sink.uploader.connect_timeout_s = 2

    def on_server() -> dict[str, int]:
        try:
            store = open_postgres(url, connect_timeout_s=2)
        except HistoryError:
            return {}
        try:
            return {s["uuid"]: s["reps"] for s in store.sessions() if s["state"] == "ended"}
        finally:
            store.close()

    try:
        for n in (1, 2, 3):
            sink.publish_feedback(rep(n))
        sink.publish_session(summary("ended", 100))
        wait_until(lambda: list(on_server().values()) == [3], 30, "the session on the server")

        pg_server.stop()  # the chain's server goes away; the box keeps recording
        with caplog.at_level(logging.WARNING, logger="gymcorner.history.uploader"):
            for n in (1, 2):
                sink.publish_feedback(rep(n))
            sink.publish_session(summary("ended", 200))
            wait_until(lambda: sink.uploader.stats()["failed"] >= 2, 30, "upload rounds failing")
        assert sum("history upload failed" in r.getMessage() for r in caplog.records) == 1  # said once
        pg_server.start()
        wait_until(lambda: sorted(on_server().values()) == [2, 3], 30, "the kept session uploaded")
        wait_until(lambda: sink.uploader.stats()["last_error"] is None, 10, "the uploader to say it works again")
    finally:
        sink.close()
    local = open_sqlite(config.history.path)
    assert {s["uuid"]: s["reps"] for s in local.sessions()} == on_server()  # once each, as recorded
