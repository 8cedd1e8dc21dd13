"""The SQLite history store on real files: migrations, members, cascades, retention, bad files."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import counts, every_table, member_rows

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.landmarks import landmark_summary, prune_landmarks, record_landmarks
from gymcorner.history.schema import LATEST, MIGRATIONS
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store

DEVICE = "corner-store"


def columns(store: Store) -> dict[str, list[tuple[str, str, int]]]:
    """Every table's columns as (name, type, not null), in order: every table of the file, so
    a table a migration adds is compared too."""
    out = {}
    for table in (*every_table(store), "schema_migrations"):
        rows = store.execute(f"PRAGMA table_info({table})").fetchall()
        out[table] = [(r[1], r[2], r[3]) for r in rows]
    return out


def a_session_with_a_rep(store: Store, uuid: str = "s-1", member_id: int | None = None, started_at: float = 0) -> None:
    store.open_session(DEVICE, uuid, started_at or time.time(), member_id)
    store.record_rep(DEVICE, uuid, {"set_number": 1, "number": 1, "exercise": "squat", "faults": ["knee_valgus"]})
    store.record_event(DEVICE, uuid, {"seq": 1, "code": "knee_valgus", "kind": "form", "details": {"side": "left"}})
    store.record_set(DEVICE, uuid, {"number": 1, "exercise": "squat", "reps": 1})
    store.record_heart_rate(DEVICE, uuid, [(1.0, 118), (2.0, 121)])
    record_landmarks(store, DEVICE, uuid, 0, [(t, np.full((33, 3), 0.25), np.ones(33)) for t in (1.0, 1.1)])
    (session,) = [s for s in store.sessions(DEVICE) if s["uuid"] == uuid]
    store.add_note(session["id"], "tess", "trainer", f"knees in on {uuid}")


def test_a_fresh_database_is_at_the_latest_migration_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    assert store.schema_version() == LATEST == len(MIGRATIONS)
    assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    numbers = [r[0] for r in store.execute("SELECT number FROM schema_migrations ORDER BY number").fetchall()]
    assert numbers == [m.number for m in MIGRATIONS]
    store.close()
    again = open_sqlite(tmp_path / "h.sqlite3")  # opening twice applies nothing twice
    assert again.migrate() == [] and again.schema_version() == LATEST


def test_upgrading_from_migration_1_keeps_the_data_and_ends_like_a_fresh_database(tmp_path: Path) -> None:
    old = open_sqlite(tmp_path / "old.sqlite3", migrate=False)
    assert old.migrate(target=1) == [1] and old.schema_version() == 1
    with old.transaction():  # rows as a migration-1 build wrote them
        old.execute("INSERT INTO members (display_name, name_key, created_at) VALUES ('Old Timer', 'old timer', 1)")
        old.execute(
            "INSERT INTO sessions (device_id, uuid, member_id, started_at, state, reps) "
            "VALUES (?, 'u1', 1, ?, 'ended', 1)",
            (DEVICE, time.time()),
        )
        old.execute(
            "INSERT INTO reps (session_id, set_number, number, exercise, faults, recorded_at) "
            "VALUES (1, 1, 1, 'squat', '[]', 1)"
        )
    old.close()

    upgraded = open_sqlite(tmp_path / "old.sqlite3")
    assert upgraded.schema_version() == LATEST
    fresh = open_sqlite(tmp_path / "fresh.sqlite3")
    assert columns(upgraded) == columns(fresh)
    (rep,) = upgraded.rows("reps", 1)
    assert rep["exercise"] == "squat" and rep["quality_score"] is None
    (session,) = upgraded.sessions()
    assert session["rev"] > session["synced_rev"]  # sessions from before the sync are due for upload
    upgraded.record_rep(DEVICE, "u1", {"set_number": 1, "number": 2, "quality_score": 88, "quality_deductions": []})
    assert [r["quality_score"] for r in upgraded.rows("reps", 1)] == [None, 88]
    assert upgraded.find_member("OLD TIMER").id == 1


def test_a_database_newer_than_this_build_is_refused(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    with store.transaction():
        store.execute("INSERT INTO schema_migrations (number, applied_at) VALUES (?, 0)", (LATEST + 1,))
    store.close()
    with pytest.raises(HistoryError, match="newer than this gymcorner"):
        open_sqlite(tmp_path / "h.sqlite3")


def test_member_names_are_unique_ignoring_case_and_spaces(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    ana = store.add_member("Ana Silva", birth_year=1990, weight_kg=61, max_hr_bpm=None)
    assert ana.weight_kg == 61.0 and ana.max_hr_bpm is None
    with pytest.raises(HistoryError, match="already exists") as err:
        store.add_member("  ana   SILVA ")
    assert err.value.reason is Reason.HISTORY_CONFLICT
    ben = store.add_member("Ben")
    with pytest.raises(HistoryError, match="already exists"):
        store.edit_member(ben.id, display_name="ANA SILVA")
    assert store.edit_member(ben.id, display_name="Benedict", level="advanced").level == "advanced"
    with pytest.raises(HistoryError, match="outside"):
        store.add_member("Carla", birth_year=1800)
    assert [m.display_name for m in store.list_members()] == ["Ana Silva", "Benedict"]
    with pytest.raises(HistoryError, match="no member") as missing:
        store.find_member("Nobody")
    assert missing.value.reason is Reason.HISTORY_NOT_FOUND


def test_a_strap_belongs_to_one_member(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    ana, ben = store.add_member("Ana"), store.add_member("Ben")
    store.pair_strap("aa:bb:cc:dd:ee:ff", ana.id)
    store.pair_strap("AA:BB:CC:DD:EE:FF", ana.id)  # again, same member: nothing changes
    with pytest.raises(HistoryError, match="already paired with 'Ana'"):
        store.pair_strap("AA:BB:CC:DD:EE:FF", ben.id)
    assert store.strap_owner("aa:bb:cc:dd:ee:ff") == ana.id
    with pytest.raises(HistoryError, match=r"UNIQUE|PRIMARY"):  # the schema says so too, not only the check
        with store.transaction():
            store.execute("INSERT INTO straps (address, member_id) VALUES ('AA:BB:CC:DD:EE:FF', ?)", (ben.id,))


def test_deleting_a_member_leaves_nothing_of_theirs_in_any_table(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    ana, ben = store.add_member("Ana"), store.add_member("Ben")
    store.pair_strap("AA:00:00:00:00:01", ana.id)
    store.pair_strap("BB:00:00:00:00:02", ben.id)
    a_session_with_a_rep(store, "ana-1", ana.id)
    a_session_with_a_rep(store, "ana-2", ana.id)
    a_session_with_a_rep(store, "ben-1", ben.id)
    a_session_with_a_rep(store, "guest-1", None)
    before = {t: store.count(t) for t in every_table(store)}
    assert before == {"members": 2, "straps": 2, "sessions": 4, "sets": 4, "reps": 4, "events": 4, "notes": 4,
                      "hr_samples": 8, "landmarks": 4, "dashboard_users": 0, "deletions": 0,
                      "member_changes": 0, "chain_cursor": 0, "box_syncs": 0}  # fmt: skip
    theirs = counts(member_rows(store, "Ana"))
    assert theirs == {"members": 1, "straps": 1, "sessions": 2, "sets": 2, "reps": 2, "events": 2, "notes": 2,
                      "hr_samples": 4, "landmarks": 2, "dashboard_users": 0, "deletions": 0,
                      "member_changes": 0, "chain_cursor": 0, "box_syncs": 0}  # fmt: skip

    assert store.delete_member(ana.id) == 0  # a box that never uploaded keeps no tombstone

    assert counts(member_rows(store, "Ana")) == dict.fromkeys(theirs, 0)
    after = {t: store.count(t) for t in every_table(store)}
    assert after == {t: before[t] - theirs[t] for t in before}
    ana_sessions = "SELECT id FROM sessions WHERE uuid LIKE 'ana-%'"
    assert store.execute(ana_sessions).fetchall() == []
    assert not any("ana-" in n for (n,) in store.execute("SELECT text FROM notes").fetchall())
    for table in ("sets", "reps", "events", "notes", "hr_samples", "landmarks"):  # no orphans of a session gone
        orphans = store.execute(f"SELECT COUNT(*) FROM {table} WHERE session_id NOT IN (SELECT id FROM sessions)")
        assert orphans.fetchone()[0] == 0
    assert store.execute("SELECT COUNT(*) FROM straps WHERE member_id = ?", (ana.id,)).fetchone()[0] == 0
    assert store.execute("PRAGMA foreign_key_check").fetchall() == []
    assert {s["uuid"] for s in store.sessions()} == {"ben-1", "guest-1"}


def test_a_box_that_uploads_keeps_the_keys_of_what_it_deletes_until_the_sync_and_retention_keeps_none(
    tmp_path: Path,
) -> None:
    from gymcorner.history.deletions import pending
    from gymcorner.history.notes import delete_note

    store = open_sqlite(tmp_path / "h.sqlite3")
    ana = store.add_member("Ana")
    a_session_with_a_rep(store, "ana-1", ana.id)
    a_session_with_a_rep(store, "guest-old", None, started_at=time.time() - 400 * 86400)
    store.open_session("corner-renamed", "ana-0", time.time() - 86400, ana.id)  # under the box's former id
    guest = next(s for s in store.sessions() if s["uuid"] == "guest-old")
    delete_note(store, guest["id"], store.rows("notes", guest["id"])[0]["id"])
    assert pending(store) == 0  # nothing uploaded yet: nothing on a server to delete
    for session in store.sessions():  # as `gymcorner history sync` marks what reached the server
        store.mark_synced(session["id"], session["rev"])

    ana_1 = next(s for s in store.sessions() if s["uuid"] == "ana-1")
    (note,) = store.rows("notes", ana_1["id"])
    delete_note(store, ana_1["id"], note["id"])
    assert store.prune(time.time() - 365 * 86400) == 1 and pending(store) == 1  # retention: no tombstone
    assert store.delete_member(ana.id) == 4
    kept = store.execute("SELECT kind, device_id, session_uuid, note_uuid, member_key FROM deletions ORDER BY id")
    assert [tuple(r) for r in kept.fetchall()] == [
        ("note", DEVICE, "ana-1", note["uuid"], None),
        ("session", "corner-renamed", "ana-0", None, "ana"),  # her sessions, by their keys
        ("session", DEVICE, "ana-1", None, "ana"),
        ("member", "corner-renamed", None, None, "ana"),  # her, under each device id of the box's sessions
        ("member", DEVICE, None, None, "ana"),
    ]
    left = counts(member_rows(store, "Ana"))
    assert left.pop("deletions") == 4 and set(left.values()) == {0}  # keys only, until a sync drops them


def test_retention_prunes_old_sessions_with_their_rows(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    now = time.time()
    a_session_with_a_rep(store, "old", started_at=now - 40 * 86400)
    a_session_with_a_rep(store, "recent", started_at=now - 2 * 86400)
    assert store.prune(now - 30 * 86400) == 1
    assert [s["uuid"] for s in store.sessions()] == ["recent"]
    assert store.count("reps") == store.count("events") == store.count("sets") == store.count("notes") == 1
    assert [r["t"] for r in store.rows("hr_samples", store.sessions()[0]["id"])] == [1.0, 2.0]
    assert store.count("hr_samples") == 2 and store.count("landmarks") == 1  # the old session's went with it


def test_landmarks_have_a_shorter_retention_of_their_own_and_the_sessions_stay(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    now = time.time()
    a_session_with_a_rep(store, "last-month", started_at=now - 40 * 86400)
    a_session_with_a_rep(store, "last-week", started_at=now - 7 * 86400)
    assert prune_landmarks(store, now - 30 * 86400) == 1
    assert [s["uuid"] for s in store.sessions()] == ["last-month", "last-week"]  # both sessions stay
    kept = {s["uuid"]: landmark_summary(store, s["id"])["frames"] for s in store.sessions()}
    assert kept == {"last-month": 0, "last-week": 2}
    assert store.count("reps") == store.count("hr_samples") / 2 == 2  # only the landmarks went


def test_sessions_a_power_cut_left_open_are_closed_as_interrupted(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    a_session_with_a_rep(store, "cut")
    store.open_session("another-box", "theirs", time.time())
    assert store.close_interrupted(DEVICE) == 1
    states = {s["uuid"]: s for s in store.sessions()}
    assert states["cut"]["state"] == "interrupted" and states["cut"]["ended_at"] >= states["cut"]["started_at"]
    assert states["theirs"]["state"] == "active"  # another device's sessions are not ours to close


def test_re_recording_a_rep_is_an_update_not_a_duplicate(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    a_session_with_a_rep(store, "s")
    store.record_rep(DEVICE, "s", {"set_number": 1, "number": 1, "exercise": "squat", "depth": 0.9})
    (rep,) = store.rows("reps", 1)
    assert rep["depth"] == 0.9 and store.sessions()[0]["reps"] == 1
    with pytest.raises(HistoryError, match="not in") as err:
        store.record_rep(DEVICE, "no-such-session", {"set_number": 1, "number": 1})
    assert err.value.reason is Reason.HISTORY_NOT_FOUND


def test_a_corrupt_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(HistoryError, match=r"is corrupt .*move it aside"):
        open_sqlite(path)


def test_a_locked_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    open_sqlite(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        with pytest.raises(HistoryError, match="is locked by another process"):
            store = open_sqlite(path, lock_timeout_s=0.2)
            store.close_interrupted(DEVICE)  # a write: the first statement that needs the lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_note_is_kept_with_its_author_bumps_the_session_and_says_what_is_wrong(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "h.sqlite3")
    ana = store.add_member("Ana")
    store.open_session(DEVICE, "s", time.time(), ana.id)
    (session,) = store.sessions()
    before = time.time()
    note = store.add_note(session["id"], "Tess", "trainer", "  Knees track well now; add weight next week.  ")
    assert (note["author"], note["author_role"], note["text"]) == (
        "Tess", "trainer", "Knees track well now; add weight next week.")  # fmt: skip
    assert note["written_at"] >= before and len(note["uuid"]) == 32
    store.add_note(session["id"], "boss", "admin", "second")
    assert [n["text"] for n in store.rows("notes", session["id"])] == [note["text"], "second"]
    assert store.sessions()[0]["rev"] == session["rev"] + 2  # due for upload with its notes
    for text, expected in (("   ", "needs some text"), ("x" * 2001, r"at most 2000 characters \(this one has 2001\)")):
        with pytest.raises(HistoryError, match=expected) as err:
            store.add_note(session["id"], "Tess", "trainer", text)
        assert err.value.reason is Reason.HISTORY_CONFLICT
    with pytest.raises(HistoryError, match="no session 99") as missing:
        store.add_note(99, "Tess", "trainer", "lost")
    assert missing.value.reason is Reason.HISTORY_NOT_FOUND
    assert store.count("notes") == 2
    data = store.member_data(ana.id, events=False)
    assert [n["text"] for n in data["notes"]] == [note["text"], "second"]
