"""What a box deletes reaches the chain's server: tombstones (history/deletions.py, migration 10).

A real PostgreSQL server (postgres_helpers.py). Two boxes record through the real sink and
writer (landmarks, heart rate, events) and upload with `gymcorner history sync`: gym-north-1
has Ana and Ben and a guest, gym-south-1 has Ana (the same person: one member on the chain)
and Carla; the chain's server has its own notes on every session and a member login for Ben.
Then a box deletes a member or a note (the commands and functions a person or the dashboard
uses), and the server is compared before and after the sync, every table of it, row by row:
exactly the deleted rows are gone, none of the other box's. Also: a second sync and a sync
repeated after a crash change nothing; a box that was offline sends its deletions later (the
daemon's uploader); a member added again under the same name keeps their new sessions; a
box that never uploaded and the chain's server keep no tombstone; what is deleted while a
box's first upload runs is deleted on the server too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from helpers import Rows, add_member_as_of_old, contents, counts, every_table, member_rows
from postgres_helpers import PostgresServer, fresh_database
from test_dashboard import PASSWORD
from test_dashboard_chain import box_file
from test_history_members import notes_on, sessions_for
from test_history_postgres import pg_columns, run_cli

from gymcorner.history.deletions import pending
from gymcorner.history.member_changes import key_hash
from gymcorner.history.notes import delete_note
from gymcorner.history.postgres import open_postgres
from gymcorner.history.schema import LATEST
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store
from gymcorner.history.sync import upload
from gymcorner.history.uploader import Uploader
from gymcorner.history.users import add_user

NORTH, SOUTH = "gym-north-1", "gym-south-1"
DAY_S = 86400.0
NOTES = 6 + 7  # on the server: one of the box's on every member's session, the chain's own on all 7 sessions
T = TypeVar("T")


@dataclass
class Chain:
    url: str
    north: Path
    south: Path

    def on_server(self, work: Callable[[Store], T]) -> T:
        return on(open_postgres(self.url), work)

    def on_box(self, box: Path, work: Callable[[Store], T]) -> T:
        return on(open_sqlite(box), work)

    def sync(self, box: Path) -> str:
        return self.sync_to(self.url, box)

    def sync_to(self, url: str, box: Path) -> str:
        return run_cli(["history", "sync", "--to", url, "--db", str(box)])


def on(store: Store, work: Callable[[Store], T]) -> T:
    try:
        return work(store)
    finally:
        store.close()


def members(box: Path, *args: str) -> str:
    return run_cli(["members", *args, "--db", str(box)])


@pytest.fixture
def chain(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    return two_boxes(tmp_path, pg_server)


def two_boxes(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    """North (Ana, Ben, a guest) and south (Ana, Carla) have uploaded; the server has its own
    notes on every session and a member login for Ben."""
    url = fresh_database(pg_server)
    north, at_north = box_file(tmp_path, NORTH, "Ana", "Ben")
    south, at_south = box_file(tmp_path, SOUTH, "Ana", "Carla")
    for path, device_id, ids in ((north, NORTH, at_north), (south, SOUTH, at_south)):
        for name, member_id in ids.items():
            sessions_for(path, member_id, workouts=2 if device_id == NORTH else 1, device_id=device_id)
            notes_on(path, member_id, f"{name}: hips back")
    sessions_for(north, None, workouts=1, device_id=NORTH)  # a guest
    found = Chain(url, north, south)
    assert "uploaded 5 sessions" in found.sync(north) and "uploaded 2 sessions" in found.sync(south)

    def chain_s_own(store: Store) -> None:  # written on the chain's dashboard
        add_user(store, "ben", "member", PASSWORD, member_id=store.find_member("Ben").id)
        for session in store.sessions():
            store.add_note(session["id"], "chief", "admin", "seen on the chain")

    found.on_server(chain_s_own)
    return found


def tombstones(store: Store) -> list[tuple[Any, ...]]:
    """The box's tombstones as (kind, device_id, session_uuid, note_uuid, member_key, deleted_at)."""
    sql = "SELECT kind, device_id, session_uuid, note_uuid, member_key, deleted_at FROM deletions ORDER BY id"
    return [tuple(r) for r in store.execute(sql).fetchall()]


def put_back(box: Path, rows: list[tuple[Any, ...]]) -> None:
    """Tombstones the server applied put back on the box: a box that crashed between the
    server's commit and dropping them applies them again at its next sync."""

    def insert(store: Store) -> None:
        with store.transaction():
            for row in rows:
                store.execute(
                    "INSERT INTO deletions (kind, device_id, session_uuid, note_uuid, member_key, deleted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )

    on(open_sqlite(box), insert)


def minus(before: Rows, gone: Rows) -> Rows:
    return {table: rows - gone.get(table, set()) for table, rows in before.items()}


def nothing_names(store: Store, name: str) -> None:
    """No value in any table of the box's file is the member's name (or its key)."""
    for table in every_table(store):
        for row in store.execute(f"SELECT * FROM {table}").fetchall():
            assert not any(isinstance(v, str) and v.casefold() == name.casefold() for v in row), (table, row)


def test_a_member_deleted_on_a_box_leaves_no_row_of_theirs_on_the_chain_and_every_other_row_as_it_was(
    chain: Chain,
) -> None:
    before = chain.on_server(contents)
    ben = chain.on_server(lambda s: member_rows(s, "Ben"))
    assert counts(ben) == {"dashboard_users": 1, "deletions": 0, "events": 4, "hr_samples": 4, "landmarks": 0,
                           "member_changes": 0, "chain_cursor": 0, "box_syncs": 0, "members": 1, "notes": 4, "reps": 4,
                           "sessions": 2, "sets": 2, "straps": 0}  # fmt: skip  # notes: the box's 2 and the chain's 2

    said = members(chain.north, "delete", "Ben", "--yes")
    assert said.strip() == ("deleted 'Ben': 2 sessions, 4 reps, 4 events, 2 notes, 0 straps; "
                            "the chain's server and its other boxes delete them too after the next sync")  # fmt: skip
    kept = chain.on_box(chain.north, tombstones)
    assert sorted((kind, device, member) for kind, device, _, _, member, _ in kept) == [
        ("member", NORTH, "ben"), ("session", NORTH, "ben"), ("session", NORTH, "ben")]  # fmt: skip
    assert chain.on_server(contents) == before  # nothing changes there before the box syncs

    said = chain.sync(chain.north)
    assert "deleted 2 sessions, 0 notes, 1 members on" in said and "(3 tombstones)" in said
    assert "uploaded" not in said  # nothing else of the box's changed
    after = chain.on_server(contents)
    left = chain.on_server(lambda s: member_rows(s, "Ben"))
    assert counts(left) == {**dict.fromkeys(counts(ben), 0), "member_changes": 1}  # the log, for the other boxes:
    ((_, kind, digest, new_name, _),) = left["member_changes"]  # his key's hash, not his name
    assert (kind, new_name, digest) == ("erase", None, key_hash("ben"))
    assert after == minus(before, ben) | {"member_changes": left["member_changes"]}  # only theirs went
    assert chain.on_box(chain.north, pending) == 0  # dropped once the server had them
    chain.on_box(chain.north, lambda s: nothing_names(s, "Ben"))  # nor does the box keep their name

    assert "nothing to upload" in chain.sync(chain.north)
    put_back(chain.north, kept)  # as if the box had crashed before dropping them
    again = chain.sync(chain.north)
    assert "deleted 0 sessions, 0 notes, 0 members on" in again and "(3 tombstones)" in again
    assert chain.on_server(contents) == after and chain.on_box(chain.north, pending) == 0


def test_a_member_of_two_boxes_deleted_on_one_is_erased_on_the_chain_and_then_on_the_other_box(chain: Chain) -> None:
    """Names are members on a chain: Ana asked the north box to delete her, so her sessions
    at the south box go too, on the server at north's sync and on the south box at its own,
    the one north had pruned (retention) included; nothing of hers goes up again."""

    def age_one_of_ana_s(store: Store) -> str:  # a session of hers from over a year ago
        (session, _) = [s for s in store.sessions() if s["member_id"] == store.find_member("Ana").id]
        with store.transaction():
            store.execute("UPDATE sessions SET started_at = started_at - 400 * ?, rev = rev + 1 WHERE id = ?",
                          (DAY_S, session["id"]))  # fmt: skip
        return str(session["uuid"])

    old = chain.on_box(chain.north, age_one_of_ana_s)
    assert "uploaded 1 sessions" in chain.sync(chain.north)
    pruned = chain.on_box(chain.north, lambda s: (s.prune(time.time() - 365 * DAY_S), pending(s)))
    assert pruned == (1, 0)  # retention records no tombstone: the box forgets it, the chain keeps it
    assert "nothing to upload" in chain.sync(chain.north)
    assert "2 notes written on" in chain.sync(chain.south)  # the chain's notes on its sessions come down first
    before = chain.on_server(contents)
    ana_before = chain.on_server(lambda s: member_rows(s, "Ana"))
    assert old in {s[2] for s in ana_before["sessions"]} and {s[1] for s in ana_before["sessions"]} == {NORTH, SOUTH}
    south_before = chain.on_box(chain.south, contents)

    members(chain.north, "delete", "Ana", "--yes")
    assert "deleted 3 sessions, 0 notes, 1 members on" in chain.sync(chain.north)  # south's and the pruned one too
    after = chain.on_server(contents)
    ana = chain.on_server(lambda s: member_rows(s, "Ana"))
    assert {t: n for t, n in counts(ana).items() if n} == {"member_changes": 1}  # her key's hash, for the boxes
    assert after == minus(before, ana_before) | {"member_changes": ana["member_changes"]}  # nobody else's
    assert chain.on_box(chain.south, contents) == south_before  # the south box has not synced yet

    said = chain.sync(chain.south)
    assert "0 members renamed, 0 merged, 1 erased (1 sessions) as the chain did" in said and "uploaded" not in said
    south_ana = chain.on_box(chain.south, lambda s: member_rows(s, "Ana"))
    assert {t: n for t, n in counts(south_ana).items() if n} == {}
    chain.on_box(chain.south, lambda s: nothing_names(s, "Ana"))
    south_after = chain.on_box(chain.south, contents)
    ana_at_south = chain.on_box(chain.south, lambda s: s.execute("SELECT id FROM sessions").fetchall())
    assert len(ana_at_south) == 1  # Carla's
    assert {t: r for t, r in south_after.items() if t != "chain_cursor"} == minus(
        {t: r for t, r in south_before.items() if t != "chain_cursor"}, minus(south_before, south_after))
    assert "nothing to upload" in chain.sync(chain.south) and chain.on_server(contents) == after


def test_a_note_deleted_on_a_box_is_gone_on_the_chain_and_the_chain_s_own_notes_stay(chain: Chain) -> None:
    def delete_ana_s_first_note(store: Store) -> str:
        session = next(s for s in store.sessions() if s["member_id"] == store.find_member("Ana").id)
        (note,) = store.rows("notes", session["id"])
        delete_note(store, session["id"], note["id"])
        return str(note["uuid"])

    uuid = chain.on_box(chain.north, delete_ana_s_first_note)
    assert [(k, n) for k, _, _, n, _, _ in chain.on_box(chain.north, tombstones)] == [("note", uuid)]
    before = chain.on_server(contents)
    said = chain.sync(chain.north)
    assert "deleted 0 sessions, 1 notes, 0 members on" in said and "uploaded 1 sessions" in said  # its rev went up
    after = chain.on_server(contents)
    assert {n[2] for n in before["notes"] - after["notes"]} == {uuid} and after["notes"] <= before["notes"]
    assert len(after["notes"]) == NOTES - 1  # the chain's own note on that session stays
    assert {t: r for t, r in after.items() if t != "sessions"} == minus(
        {t: r for t, r in before.items() if t != "sessions"}, {"notes": before["notes"] - after["notes"]})
    assert "nothing to upload" in chain.sync(chain.north) and chain.on_server(contents) == after


def test_a_box_offline_keeps_its_deletions_and_its_uploader_sends_them_when_the_server_is_back(
    chain: Chain, pg_server: PostgresServer
) -> None:
    def delete_ana_s_first_note(store: Store) -> str:
        session = store.sessions()[0]  # Ana's first, at the north box
        (note,) = store.rows("notes", session["id"])
        delete_note(store, session["id"], note["id"])
        return str(note["uuid"])

    ben = chain.on_server(lambda s: member_rows(s, "Ben"))
    uploader = Uploader(chain.north, chain.url, every_s=60.0, connect_timeout_s=2.0)  # the daemon's, a round at a time
    pg_server.stop()
    try:
        members(chain.north, "delete", "Ben", "--yes")
        uuid = chain.on_box(chain.north, delete_ana_s_first_note)
        uploader.upload_once()
        assert uploader.stats()["failed"] == 1 and "is unreachable" in str(uploader.stats()["last_error"])
        assert chain.on_box(chain.north, pending) == 4  # Ben's 2 sessions, Ben, the note: kept for later
    finally:
        pg_server.start()
    uploader.upload_once()
    assert uploader.stats()["last_error"] is None and chain.on_box(chain.north, pending) == 0
    left = counts(chain.on_server(lambda s: member_rows(s, "Ben")))
    assert left == {**dict.fromkeys(counts(ben), 0), "member_changes": 1}  # the erasure in the chain's log
    notes = chain.on_server(contents)["notes"]
    assert uuid not in {n[2] for n in notes} and len(notes) == NOTES - 4 - 1  # Ben's 4, and that one


def test_a_member_added_again_under_the_same_name_keeps_what_they_record_after_the_deletion(chain: Chain) -> None:
    members(chain.north, "delete", "Ben", "--yes")
    kept = chain.on_box(chain.north, tombstones)
    new_id = int(members(chain.north, "add", "Ben").split()[2].rstrip(":"))
    sessions_for(chain.north, new_id, workouts=1, device_id=NORTH)
    said = chain.sync(chain.north)
    assert "deleted 2 sessions, 0 notes, 1 members on" in said and "uploaded 1 sessions" in said
    mine = chain.on_box(chain.north, lambda s: {x["uuid"] for x in s.sessions() if x["member_id"] == new_id})
    put_back(chain.north, kept)  # the old deletion applied again after the new session went up: it is older
    assert "deleted 0 sessions, 0 notes, 0 members on" in chain.sync(chain.north)
    ben = chain.on_server(lambda s: member_rows(s, "Ben"))
    assert {s[2] for s in ben["sessions"]} == mine and counts(ben)["dashboard_users"] == 0  # his chain login went


def test_a_box_that_never_uploaded_and_the_chain_s_server_keep_no_tombstones(tmp_path: Path, chain: Chain) -> None:
    solo, ids = box_file(tmp_path, "gym-solo-1", "Dora", "Ed")
    sessions_for(solo, ids["Dora"], workouts=1, device_id="gym-solo-1")
    sessions_for(solo, ids["Ed"], workouts=1, device_id="gym-solo-1")
    notes_on(solo, ids["Ed"], "never synced")

    def delete_both(store: Store) -> int:
        session = next(s for s in store.sessions() if s["member_id"] == ids["Ed"])
        delete_note(store, session["id"], store.rows("notes", session["id"])[0]["id"])
        return store.delete_member(ids["Dora"])

    assert chain.on_box(solo, delete_both) == 0
    assert chain.on_box(solo, pending) == 0  # nothing on a server to delete, and Dora's name is not kept
    chain.on_box(solo, lambda s: nothing_names(s, "Dora"))
    said = members(solo, "delete", "Ed", "--yes")  # nothing said of a chain: this box has none
    assert said.strip() == "deleted 'Ed': 1 sessions, 2 reps, 2 events, 0 notes, 0 straps"

    def on_the_chain_s_own(store: Store) -> int:  # the chain's dashboard deletes: nothing uploads from there
        session = store.sessions()[0]
        delete_note(store, session["id"], store.rows("notes", session["id"])[0]["id"])
        return store.delete_member(store.find_member("Carla").id)

    assert chain.on_server(on_the_chain_s_own) == 0 and chain.on_server(pending) == 0


def test_what_a_box_deletes_while_its_first_upload_runs_is_deleted_on_the_chain_too(
    tmp_path: Path, pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No session was marked uploaded yet: the upload itself sees the session (with its
    member) or the note gone and deletes them on the server. The members were exchanged
    before the sessions went up, so the deletion also left tombstones, applied again
    (deleting nothing more) at the next sync."""
    url = fresh_database(pg_server)
    box, ids = box_file(tmp_path, "gym-east-1", "Ana", "Ben")
    sessions_for(box, ids["Ana"], workouts=2, device_id="gym-east-1")
    sessions_for(box, ids["Ben"], workouts=1, device_id="gym-east-1")
    notes_on(box, ids["Ben"], "chest up")
    local, other = open_sqlite(box), open_sqlite(box)  # `other`: the dashboard, meanwhile
    real, calls = local.mark_synced, []

    def deleting_meanwhile(session_id: int, rev: int) -> None:
        calls.append(session_id)
        if len(calls) == 1:  # Ana's first session is on the server now, her second not yet
            assert other.delete_member(ids["Ana"]) == 3  # her two sessions, and her erasure
        else:  # Ben's session, with its note, is on the server
            ben_s = other.sessions()[0]["id"]
            delete_note(other, ben_s, other.rows("notes", ben_s)[0]["id"])
        real(session_id, rev)

    monkeypatch.setattr(local, "mark_synced", deleting_meanwhile)
    remote = open_postgres(url)
    try:
        report = upload(local, remote)
        assert len(calls) == 2  # her second session was not sent: it was gone when its turn came
        assert (report.deleted.sessions, report.deleted.notes, report.deleted.members) == (1, 1, 1)
        assert set(counts(member_rows(remote, "Ana")).values()) == {0}
        ben = counts(member_rows(remote, "Ben"))
        assert (ben["sessions"], ben["notes"], ben["reps"]) == (1, 0, 2)
    finally:
        remote.close()
        local.close()
        other.close()


def test_migration_10_upgrades_an_uploading_box_s_file_and_a_chain_s_server_with_their_rows(
    tmp_path: Path, pg_server: PostgresServer
) -> None:
    old_box = open_sqlite(tmp_path / "old.sqlite3", migrate=False)
    old_server = open_postgres(pg_server.create_database("at_nine"), migrate=False)
    for store in (old_box, old_server):
        assert store.migrate(target=9) == list(range(1, 10))
        add_member_as_of_old(store, "Ana")
        store.open_session(NORTH, "s1", time.time(), 1)
        store.mark_synced(1, 1)  # uploaded, as a box of the last release did
        assert store.migrate() == list(range(10, LATEST + 1)) and store.schema_version() == LATEST
        assert store.count("deletions") == 0 and store.count("sessions") == 1
    fresh = open_postgres(pg_server.create_database("fresh_ten"))
    assert pg_columns(old_server)["deletions"] == pg_columns(fresh)["deletions"]
    assert old_box.delete_member(1) == 2  # the box: its session and the member, for the chain
    assert old_server.delete_member(1) == 0  # the chain's server records none
    for store in (old_box, old_server, fresh):
        store.close()
