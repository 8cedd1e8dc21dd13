"""Renames and erasures travel across a gym chain both ways (history/member_changes.py, migration 11).

The chain of test_history_deletions.py: a real PostgreSQL server, a north box (Ana, Ben, a
guest) and a south box (Ana, Carla) recording through the real sink and uploading with
`gymcorner history sync`. A member is renamed or deleted on a box (the `members` command)
or on the chain's server (the store calls its dashboard makes), and every side is looked
at after each sync: one member under the new name everywhere, with all of their sessions,
and nothing of an erased member anywhere; a member added after an erasure keeps theirs.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import add_member_as_of_old, counts, member_rows
from postgres_helpers import PostgresServer, fresh_database
from test_history_deletions import SOUTH, Chain, members, nothing_names, two_boxes
from test_history_members import sessions_for
from test_history_postgres import pg_columns

from gymcorner.history.member_changes import key_hash
from gymcorner.history.members import member_named
from gymcorner.history.postgres import open_postgres
from gymcorner.history.schema import LATEST
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store


@pytest.fixture
def chain(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    return two_boxes(tmp_path, pg_server)


def names(store: Store) -> dict[str, int]:
    """Display name -> number of sessions, every member of the store."""
    sql = "SELECT m.display_name, COUNT(s.id) FROM members m LEFT JOIN sessions s ON s.member_id = m.id GROUP BY m.id"
    return {str(n): int(c) for n, c in store.execute(sql).fetchall()}


def test_a_member_renamed_on_a_box_is_renamed_on_the_server_and_then_on_the_other_box(chain: Chain) -> None:
    server_id = chain.on_server(lambda s: s.find_member("Ana").id)
    assert "member 1: Ana Silva updated" in members(chain.north, "edit", "Ana", "--name", "Ana Silva")
    said = chain.sync(chain.north)
    assert "renamed 1 members on" in said and "uploaded" not in said  # her sessions did not change
    assert chain.on_server(names) == {"Ana Silva": 3, "Ben": 2, "Carla": 1}  # 2 from north, 1 from south
    assert chain.on_server(lambda s: s.find_member("Ana Silva").id) == server_id  # the same member, renamed

    said = chain.sync(chain.south)
    assert "1 members renamed, 0 merged, 0 erased (0 sessions) as the chain did" in said
    assert chain.on_box(chain.south, names) == {"Ana Silva": 1, "Ben": 0, "Carla": 1}  # Ben: shared, no session here
    south_id = chain.on_box(chain.south, lambda s: s.find_member("Ana Silva").id)
    sessions_for(chain.south, south_id, workouts=1, device_id=SOUTH)
    assert "uploaded 1 sessions" in chain.sync(chain.south)
    assert chain.on_server(names) == {"Ana Silva": 4, "Ben": 2, "Carla": 1}  # not a second member "Ana"
    # the north box reads its own rename back from the log: nothing to do (Carla came down at its last sync)
    assert "nothing to upload" in chain.sync(chain.north)
    assert chain.on_box(chain.north, names) == {"Ana Silva": 2, "Ben": 2, "Carla": 0}


def test_a_member_renamed_on_the_chain_s_server_is_renamed_on_every_box_at_its_next_sync(chain: Chain) -> None:
    def rename(store: Store) -> None:  # as the chain's dashboard does
        store.edit_member(store.find_member("Ana").id, display_name="Ana Lima", birth_year=1991)

    chain.on_server(rename)
    for box in (chain.north, chain.south):
        assert chain.on_box(box, lambda s: member_named(s, "Ana")) is not None
        assert "1 members renamed" in chain.sync(box)
        assert chain.on_box(box, lambda s: member_named(s, "Ana")) is None  # the box now refuses the old name
        assert chain.on_box(box, lambda s: member_named(s, "ana lima")) is not None  # and takes the new one
    assert chain.on_server(names) == {"Ana Lima": 3, "Ben": 2, "Carla": 1}
    assert "nothing to upload" in chain.sync(chain.north) and "nothing to upload" in chain.sync(chain.south)


def test_a_rename_to_a_name_the_chain_already_has_merges_the_two_without_moving_a_login(chain: Chain) -> None:
    members(chain.north, "edit", "Ben", "--name", "Carla")  # north has no Carla: the box allows it
    chain.sync(chain.north)
    assert chain.on_server(names) == {"Ana": 3, "Carla": 3}  # one Carla, with the 2 sessions of north's
    logins = chain.on_server(lambda s: s.execute("SELECT name, member_id FROM dashboard_users").fetchall())
    assert [name for name, member_id in logins if member_id is not None] == []  # Ben's went with his row
    assert "uploaded" not in chain.sync(chain.south)
    assert chain.on_box(chain.south, names) == {"Ana": 1, "Carla": 1}  # south's Carla was already that name


def test_a_member_erased_on_the_chain_s_server_is_erased_on_every_box_and_never_comes_back(chain: Chain) -> None:
    chain.on_server(lambda s: s.delete_member(s.find_member("Ana").id))  # as the chain's dashboard does
    for box, sessions in ((chain.north, 2), (chain.south, 1)):
        said = chain.sync(box)
        assert f"0 members renamed, 0 merged, 1 erased ({sessions} sessions) as the chain did" in said
        assert {t: n for t, n in counts(chain.on_box(box, lambda s: member_rows(s, "Ana"))).items() if n} == {}
        chain.on_box(box, lambda s: nothing_names(s, "Ana"))
    assert chain.on_server(names) == {"Ben": 2, "Carla": 1}
    log = chain.on_server(lambda s: s.execute("SELECT kind, key_hash, new_name FROM member_changes").fetchall())
    assert [tuple(r) for r in log] == [("erase", key_hash("ana"), None)]  # her key's hash, never her name


def test_someone_added_after_an_erasure_under_that_name_keeps_what_they_record(chain: Chain) -> None:
    members(chain.north, "delete", "Ben", "--yes")
    assert "1 members on" in chain.sync(chain.north)
    assert "1 erased (0 sessions) as the chain did" in chain.sync(chain.south)  # the Ben it took down goes too
    time.sleep(0.01)  # a later clock reading than the erasure's
    new_id = int(members(chain.south, "add", "Ben").split()[2].rstrip(":"))  # another Ben, at the south box
    sessions_for(chain.south, new_id, workouts=1, device_id=SOUTH)
    said = chain.sync(chain.south)
    assert "erased" not in said and "uploaded 1 sessions" in said
    assert chain.on_box(chain.south, names) == {"Ana": 1, "Ben": 1, "Carla": 1}
    assert chain.on_server(names) == {"Ana": 3, "Ben": 1, "Carla": 1}


def test_renamed_then_deleted_before_a_sync_erases_the_member_by_the_name_the_server_knows(chain: Chain) -> None:
    members(chain.north, "edit", "Ben", "--name", "Benjamin")
    members(chain.north, "delete", "Benjamin", "--yes")
    said = chain.sync(chain.north)
    assert "deleted 2 sessions, 0 notes, 1 members on" in said and "renamed 1 members on" in said
    assert chain.on_server(names) == {"Ana": 3, "Carla": 1}
    server = chain.on_server(lambda s: (counts(member_rows(s, "Ben")), counts(member_rows(s, "Benjamin"))))
    assert server[0]["members"] == server[0]["sessions"] == server[1]["members"] == server[1]["sessions"] == 0


def test_deleted_then_someone_renamed_to_that_name_erases_only_the_first(chain: Chain) -> None:
    members(chain.north, "delete", "Ben", "--yes")
    time.sleep(0.01)
    members(chain.north, "edit", "Ana", "--name", "Ben")  # the name is free on the box now
    chain.sync(chain.north)
    assert chain.on_server(names) == {"Ben": 3, "Carla": 1}  # Ana's 3 sessions under her new name, the old Ben's gone


def test_migration_11_upgrades_a_box_and_a_server_and_a_box_that_never_uploaded_logs_no_rename(
    tmp_path: Path, pg_server: PostgresServer
) -> None:
    old_server = open_postgres(pg_server.create_database("at_ten"), migrate=False)
    old_box = open_sqlite(tmp_path / "old.sqlite3", migrate=False)
    try:
        for store in (old_server, old_box):
            assert store.migrate(target=10) == list(range(1, 11))
            add_member_as_of_old(store, "Ana")
            assert store.migrate() == list(range(11, LATEST + 1))
            store.edit_member(1, display_name="Ana Lima")
        fresh = open_postgres(pg_server.create_database("fresh_eleven"))
        for table in ("member_changes", "chain_cursor"):
            assert pg_columns(old_server)[table] == pg_columns(fresh)[table]
        fresh.close()
        assert old_server.count("member_changes") == 1  # the server logs every rename
        assert old_box.count("member_changes") == 0  # a box that never uploaded has no one to tell
    finally:
        old_server.close()
        old_box.close()


def test_a_box_moved_to_another_chain_s_server_reads_that_server_s_log_from_its_start(
    chain: Chain, pg_server: PostgresServer
) -> None:
    def rename(store: Store, old: str, new: str) -> None:
        store.edit_member(store.find_member(old).id, display_name=new)

    for n in range(3):  # the first server's log runs ahead of the second's
        chain.on_server(lambda s, n=n: rename(s, "Carla" if n == 0 else f"Carla {n}", f"Carla {n + 1}"))
    assert "3 members renamed" in chain.sync(chain.south)
    other = fresh_database(pg_server)
    remote = open_postgres(other)
    try:  # the new server's own dashboard: Ana added there, then renamed (its log's first entry)
        remote.edit_member(remote.add_member("Ana").id, display_name="Ana Lima")
    finally:
        remote.close()
    assert "1 members renamed" in chain.sync_to(other, chain.south)  # not skipped as already read
    assert chain.on_box(chain.south, names) == {"Ana Lima": 1, "Ben": 0, "Carla 3": 1}
