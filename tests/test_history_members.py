"""`gymcorner members ...` as a person types it: one line for every mistake, exports that hold
everything, and a delete that leaves nothing behind.

The commands run as subprocesses (`python -m gymcorner`), so the exit status and stderr are
what a shell sees; the database they work on was filled by the real history sink.
"""

from __future__ import annotations

import base64
import csv
import functools
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import every_table
from test_history_sink import event, rep, summary
from test_session_counts import SQUATS

from gymcorner.avatar.codec import AvatarFrame, build_frame
from gymcorner.history.schema import TABLES
from gymcorner.history.sink import HistorySink
from gymcorner.history.sqlite import HistoryWriter, open_sqlite
from gymcorner.recording import load_recording


def gym(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gymcorner", "members", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def ok(db: Path, *args: str) -> str:
    done = gym(db, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gymcorner: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@functools.cache
def squat_avatar_frames() -> tuple[AvatarFrame, ...]:
    """The avatar frames our pipeline made of a real squat clip (6 s at 24 fps)."""
    return tuple(build_frame(s, None, None, i) for i, s in enumerate(load_recording(SQUATS).samples()))


def sessions_for(db: Path, member_id: int | None, workouts: int, device_id: str = "corner-members") -> None:
    """Workouts recorded as the daemon of box `device_id` records them: through the sink and
    the writer thread, each with the 6 s of a squat's landmarks before its first cue (its
    replay: 60 frames)."""
    writer = HistoryWriter(open_sqlite(db))
    writer.start()
    sink = HistorySink(device_id, writer)
    for _ in range(workouts):
        sink.member_id = member_id  # each session's member, as start_session gives it
        for frame in squat_avatar_frames():
            sink.publish_avatar(frame)
        sink.publish_feedback(event("knee_valgus", "form", reason="knee_valgus"))
        for n in (1, 2):
            sink.publish_feedback(rep(n, quality=80))
            sink.record_heart_rate(n * 2.0 + 1.0, {"aa0000000001": 110 + 10 * n})  # the strap, once a second
        sink.publish_feedback(event("set_end", "set", set=1, reps=2, good_reps=1, mean_quality=80.0))
        sink.publish_session(summary("ended", 100))
    sink.close()


def notes_on(db: Path, member_id: int, text: str) -> int:
    """A trainer's note on each of the member's sessions, as the dashboard writes them."""
    store = open_sqlite(db)
    try:
        sessions = store.member_data(member_id)["sessions"]
        for session in sessions:
            store.add_note(session["id"], "tess", "trainer", text)
        return len(sessions)
    finally:
        store.close()


def test_add_list_edit_and_the_mistakes_people_make(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    assert ok(db, "add", "Ana Silva", "--birth-year", "1990", "--level", "beginner").startswith("added member 1")
    assert "born 1990, beginner, -, max HR from age" in ok(db, "list")
    line = one_line_error(gym(db, "add", "ana SILVA"))
    assert line == "gymcorner: error: a member named 'ana SILVA' already exists (names ignore case)"
    ok(db, "add", "Ben", "--max-hr", "185")
    ok(db, "pair", "Ana Silva", "aa:bb:cc:dd:ee:01")
    line = one_line_error(gym(db, "pair", "Ben", "AA:BB:CC:DD:EE:01"))
    assert line == "gymcorner: error: strap AA:BB:CC:DD:EE:01 is already paired with 'Ana Silva'; unpair it first"
    assert "outside 80..230" in one_line_error(gym(db, "edit", "Ben", "--max-hr", "400"))
    assert "no member 'Carla'" in one_line_error(gym(db, "edit", "Carla", "--goal", "strength"))
    ok(db, "edit", "ben", "--name", "Benedict", "--goal", "strength", "--clear", "max_hr_bpm")
    listed = json.loads(ok(db, "list", "--json"))
    assert [(m["display_name"], m["goal"], m["max_hr_bpm"]) for m in listed] == [
        ("Ana Silva", None, None),
        ("Benedict", "strength", None),
    ]
    assert "add --yes" in one_line_error(gym(db, "delete", "Benedict"))


def test_export_holds_everything_of_one_member_as_json_and_csv(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    ok(db, "add", "Ana")
    ok(db, "add", "Ben")
    ok(db, "pair", "Ana", "AA:00:00:00:00:01")
    sessions_for(db, 1, workouts=2)
    sessions_for(db, 2, workouts=1)
    assert notes_on(db, 1, "Keep the chest up") == 2
    notes_on(db, 2, "Ben's own note")
    out = tmp_path / "ana-export"
    ok(db, "export", "Ana", "--out", str(out))

    data = json.loads((out / "member.json").read_text())
    assert data["member"]["display_name"] == "Ana"
    assert len(data["sessions"]) == 2 and {s["member_id"] for s in data["sessions"]} == {1}
    assert len(data["reps"]) == 4 and len(data["sets"]) == 2 and len(data["events"]) == 4
    assert data["reps"][1]["faults"] == ["knee_valgus"]  # JSON columns decoded in the JSON export
    assert data["reps"][0]["quality_deductions"] == [{"cause": "knee_valgus", "points": 20}]
    assert data["straps"][0]["address"] == "AA:00:00:00:00:01"
    assert [(n["text"], n["author"]) for n in data["notes"]] == [("Keep the chest up", "tess")] * 2
    assert {n["session_id"] for n in data["notes"]} == {s["id"] for s in data["sessions"]}
    assert [(x["t"], x["bpm"]) for x in data["hr_samples"]] == [(3.0, 120), (5.0, 130)] * 2
    assert [(c["seq"], c["frames"]) for c in data["landmarks"]] == [(0, 50), (1, 10)] * 2
    assert base64.b64decode(data["landmarks"][0]["data"])[:2] == b"GL"  # each chunk as stored
    tables = {"member": 1, "straps": 1, "sessions": 2, "sets": 2, "reps": 4, "events": 4, "notes": 2, "hr_samples": 4,
              "landmarks": 120}  # fmt: skip
    assert {"members", *tables} - {"member"} == set(TABLES)  # every table of the schema is in the export
    for table, expected in tables.items():
        with (out / f"{table}.csv").open(newline="") as fh:
            assert len(list(csv.DictReader(fh))) == expected, table
    with (out / "reps.csv").open(newline="") as fh:
        first = next(csv.DictReader(fh))
    assert first["quality_score"] == "80" and first["exercise"] == "squat"
    with (out / "notes.csv").open(newline="") as fh:
        assert {row["text"] for row in csv.DictReader(fh)} == {"Keep the chest up"}
    with (out / "landmarks.csv").open(newline="") as fh:
        frame = next(csv.DictReader(fh))  # one frame a row, decoded: metres and visibility
    first = squat_avatar_frames()[0]
    assert first.world_m is not None and first.visibility is not None
    assert abs(float(frame["y0"]) - first.world_m[0, 1]) <= 0.0006 and abs(float(frame["v0"]) - first.visibility[0]) < 0.04


def test_delete_removes_every_row_of_the_member_from_every_table(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    ok(db, "add", "Ana")
    ok(db, "add", "Ben")
    ok(db, "pair", "Ana", "AA:00:00:00:00:01")
    ok(db, "pair", "Ben", "BB:00:00:00:00:02")
    sessions_for(db, 1, workouts=2)
    sessions_for(db, 2, workouts=1)
    sessions_for(db, None, workouts=1)  # a guest
    notes_on(db, 1, "Ana: hips back")
    notes_on(db, 2, "Ben: good depth")

    said = ok(db, "delete", "ana", "--yes")
    assert said.strip() == "deleted 'Ana': 2 sessions, 4 reps, 4 events, 2 notes, 1 straps"

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM members WHERE name_key = 'ana'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM straps WHERE member_id = 1").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE member_id = 1").fetchone()[0] == 0
    for table in ("sets", "reps", "events", "notes", "hr_samples", "landmarks"):
        orphans = f"SELECT COUNT(*) FROM {table} WHERE session_id NOT IN (SELECT id FROM sessions)"
        assert conn.execute(orphans).fetchone()[0] == 0, table
    # and nothing of theirs hides in a text column of any table of the file either (a name, its
    # key, an address): the tombstones for a chain's server included (a box that never uploaded has none)
    store = open_sqlite(db)
    tables = every_table(store)
    store.close()
    assert set(tables) == {*TABLES, "dashboard_users", "deletions", "member_changes", "chain_cursor", "box_syncs"}
    for table in tables:
        for row in conn.execute(f"SELECT * FROM {table}"):
            assert not any(isinstance(v, str) and ("Ana" in v or v == "ana" or "AA:00" in v) for v in row), (table, row)
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    assert counts == {"members": 1, "straps": 1, "sessions": 2, "sets": 2, "reps": 4, "events": 4, "notes": 1,
                      "hr_samples": 4, "landmarks": 4, "dashboard_users": 0, "deletions": 0,
                      "member_changes": 0, "chain_cursor": 0, "box_syncs": 0}  # fmt: skip  # Ben's and the guest's replays only
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("damage", ["corrupt", "locked", "missing"])
def test_a_corrupt_locked_or_missing_database_is_one_line(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "h.sqlite3"
    holder = None
    if damage == "corrupt":
        db.write_bytes(b"not a database at all\n" * 300)
    elif damage == "locked":
        ok(db, "add", "Ana")
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    try:
        cfg = tmp_path / "box.toml"
        cfg.write_text("[history]\nlock_timeout_s = 0.2\n")
        command = ["list"] if damage == "missing" else ["add", "Ben"]
        done = gym(db, *command, "--config", str(cfg))
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    line = one_line_error(done)
    expected = {"corrupt": "is corrupt", "locked": "is locked by another process", "missing": "no history database"}
    assert expected[damage] in line and str(db) in line


def clean_squat_sessions(db: Path, member_id: int, sessions: int, reps: int) -> None:
    """Sessions of two complete sets of squats with clean form, recorded through the sink."""
    writer = HistoryWriter(open_sqlite(db))
    writer.start()
    sink = HistorySink("corner-plans", writer)
    for _ in range(sessions):
        sink.member_id = member_id
        for _ in range(2):
            for n in range(1, reps + 1):
                sink.publish_feedback(rep(n, quality=95))
            sink.publish_feedback(event("set_end", "set", set=1, reps=reps, good_reps=reps, mean_quality=95.0))
        sink.publish_session(summary("ended", 100))
    sink.close()


def test_a_member_s_plan_comes_from_their_profile_and_their_stored_sets(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    ok(db, "add", "Ana", "--birth-year", "1992", "--level", "beginner", "--goal", "hypertrophy")
    ok(db, "add", "Gus", "--birth-year", "1955", "--level", "intermediate", "--goal", "strength")
    out = ok(db, "plan", "Ana", "--today", "2026-12-01")
    assert "plan for Ana" in out and "squat         2 x 8 reps" in out and "first time" in out
    clean_squat_sessions(db, 1, sessions=2, reps=10)
    out = ok(db, "plan", "Ana", "--json", str(tmp_path / "plan.json"))
    squat = next(i for i in json.loads((tmp_path / "plan.json").read_text())["sessions"][0]["items"]
                 if i["exercise"] == "squat")  # fmt: skip
    assert (squat["sets"], squat["reps"]) == (2, 12)  # two complete clean sessions at 10: progress
    assert any("progress" in r for r in squat["reasons"])
    gus = ok(db, "plan", "Gus", "--today", "2026-12-01")
    assert "jumping_jack" not in gus and "balance" in gus
    assert "goal 'fame' is not one of strength, hypertrophy" in one_line_error(gym(db, "edit", "Gus", "--goal", "fame"))
    store = open_sqlite(db)
    store.execute("UPDATE members SET level = 'expert' WHERE display_name = 'Gus'")  # an older box's free text
    store.close()
    assert "level 'expert' is not one of" in one_line_error(gym(db, "plan", "Gus"))
    assert "no member 'Zed'" in one_line_error(gym(db, "plan", "Zed"))
