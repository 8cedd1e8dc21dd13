"""Notes written on a chain's dashboard come down to the box whose session they are on
(history/notes.py: chain notes, migration 13), and follow the server's edits and deletions.

The chain of test_history_deletions.py: north (Ana, Ben, a guest: 5 sessions) and south
(Ana, Carla: 2 sessions) have uploaded, each with one note of its own per member, and the
chain's dashboard has written "seen on the chain" on all 7 sessions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres_helpers import PostgresServer
from test_history_deletions import NORTH, SOUTH, Chain, two_boxes

from gymcorner.dashboard.notes import notes_section
from gymcorner.dashboard.security import Login
from gymcorner.errors import HistoryError
from gymcorner.history.notes import CHAIN_NOTE_READ_ONLY, delete_note, edit_note, pull_chain_notes
from gymcorner.history.postgres import open_postgres
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store

CHAIN_S = "seen on the chain"


@pytest.fixture
def chain(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    return two_boxes(tmp_path, pg_server)


def notes(store: Store) -> list[tuple[str, str, str, int]]:
    """(device id, text, author, from_chain) of every note, sorted."""
    sql = "SELECT s.device_id, n.text, n.author, n.from_chain FROM notes n JOIN sessions s ON s.id = n.session_id"
    return sorted((str(d), str(t), str(a), int(c)) for d, t, a, c in store.execute(sql).fetchall())


def chain_notes(store: Store) -> list[dict[str, object]]:
    sql = "SELECT n.id, n.session_id, n.text, n.uuid FROM notes n WHERE n.author = 'chief' ORDER BY n.id"
    return [{"id": r[0], "session_id": r[1], "text": r[2], "uuid": r[3]} for r in store.execute(sql).fetchall()]


def test_the_chain_s_notes_come_down_to_the_box_of_their_session_once_and_never_go_back_up(chain: Chain) -> None:
    on_server = chain.on_server(notes)
    said = chain.sync(chain.north)
    assert "5 notes written on" in said and "taken down (0 edited, 0 deleted there)" in said
    assert "2 notes written on" in chain.sync(chain.south)
    for box, device, sessions in ((chain.north, NORTH, 5), (chain.south, SOUTH, 2)):
        mine = chain.on_box(box, notes)
        assert [n for n in mine if n[1] == CHAIN_S] == [(device, CHAIN_S, "chief", 1)] * sessions  # its own only
        assert all(n[3] == 0 for n in mine if n[1] != CHAIN_S)  # the box's own notes stay its own
    assert chain.on_server(notes) == on_server  # nothing went back up: no second copy
    for box in (chain.north, chain.south):
        assert "notes written on" not in chain.sync(box)  # in step: nothing to say


def test_a_chain_note_edited_or_deleted_on_the_chain_is_edited_or_deleted_on_the_box(chain: Chain) -> None:
    chain.sync(chain.north)

    def edit_first_delete_second(store: Store) -> None:
        first, second = [n for n in chain_notes(store) if n["session_id"] in north_sessions(store)][:2]
        edit_note(store, int(first["session_id"]), int(first["id"]), "seen, and squats look deeper")  # type: ignore[call-overload]
        delete_note(store, int(second["session_id"]), int(second["id"]))  # type: ignore[call-overload]

    chain.on_server(edit_first_delete_second)
    said = chain.sync(chain.north)
    assert "0 notes written on" in said and "(1 edited, 1 deleted there)" in said
    texts = [n[1] for n in chain.on_box(chain.north, notes) if n[3] == 1]
    assert sorted(texts) == sorted(["seen, and squats look deeper", *[CHAIN_S] * 3])
    assert (
        chain.on_box(
            chain.north, lambda s: s.execute("SELECT edited_at FROM notes WHERE text LIKE 'seen, and%'").fetchone()[0]
        )
        is not None
    )  # the edit's time came down with it


def north_sessions(store: Store) -> set[int]:
    return {int(r[0]) for r in store.execute("SELECT id FROM sessions WHERE device_id = ?", (NORTH,)).fetchall()}


def test_on_the_box_a_chain_note_is_not_edited_and_deleting_it_deletes_it_on_the_chain(chain: Chain) -> None:
    chain.sync(chain.south)
    first = chain.on_box(chain.south, lambda s: chain_notes(s)[0])
    with pytest.raises(HistoryError, match="edit it there"):
        chain.on_box(chain.south, lambda s: edit_note(s, int(first["session_id"]), int(first["id"]), "changed here"))  # type: ignore[call-overload]
    assert CHAIN_NOTE_READ_ONLY.startswith("this note was written on the chain's dashboard")
    chain.on_box(chain.south, lambda s: delete_note(s, int(first["session_id"]), int(first["id"])))  # type: ignore[call-overload]
    said = chain.sync(chain.south)
    assert "deleted 0 sessions, 1 notes, 0 members on" in said and "notes written on" not in said  # not back down
    assert chain.on_server(lambda s: [n["uuid"] for n in chain_notes(s)]).count(first["uuid"]) == 0
    assert len(chain.on_box(chain.south, chain_notes)) == 1


def test_a_note_the_box_deleted_since_its_last_sync_is_not_taken_down_again(chain: Chain) -> None:
    chain.sync(chain.south)
    first = chain.on_box(chain.south, lambda s: chain_notes(s)[0])
    chain.on_box(chain.south, lambda s: delete_note(s, int(first["session_id"]), int(first["id"])))  # type: ignore[call-overload]
    local, remote = open_sqlite(chain.south), open_postgres(chain.url)
    try:  # the pull alone, before any tombstone has gone up (a deletion made while a sync runs)
        assert pull_chain_notes(local, remote).added == 0
    finally:
        local.close()
        remote.close()


def test_the_box_s_page_says_which_notes_were_written_on_the_chain(chain: Chain) -> None:
    chain.sync(chain.south)
    store = open_sqlite(chain.south)
    try:
        session_id = int(chain_notes(store)[0]["session_id"])  # type: ignore[call-overload]
        rows = store.rows("notes", session_id)
    finally:
        store.close()
    html = notes_section(session_id, rows, Login(1, "tess", "trainer", None, "x", 0.0, 0.0))
    assert html.count("on the chain's dashboard") == 1 and "chief (admin)" in html


def own_notes(store: Store, device: str) -> list[dict[str, object]]:
    sql = (
        "SELECT n.id, n.session_id, n.text, n.uuid FROM notes n JOIN sessions s ON s.id = n.session_id "
        "WHERE n.author <> 'chief' AND s.device_id = ? ORDER BY n.uuid"
    )
    return [{"id": r[0], "session_id": r[1], "text": r[2], "uuid": r[3]} for r in store.execute(sql, (device,))]


def test_a_box_s_own_note_edited_or_deleted_on_the_chain_is_edited_or_deleted_on_the_box(chain: Chain) -> None:
    first, second = chain.on_server(lambda s: own_notes(s, SOUTH))  # Ana's and Carla's, written at south

    def change(store: Store) -> None:
        edit_note(store, int(first["session_id"]), int(first["id"]), "hips back, and knees out")  # type: ignore[call-overload]
        delete_note(store, int(second["session_id"]), int(second["id"]))  # type: ignore[call-overload]

    chain.on_server(change)
    said = chain.sync(chain.south)
    assert "(1 edited, 1 deleted there)" in said and "uploaded" not in said
    at_south = chain.on_box(chain.south, lambda s: own_notes(s, SOUTH))
    assert [(n["uuid"], n["text"]) for n in at_south] == [(first["uuid"], "hips back, and knees out")]
    # and it stays so: the next change of that session uploads the edited note, not the old text
    chain.on_box(chain.south, lambda s: s.add_note(int(at_south[0]["session_id"]), "tess", "trainer", "later"))  # type: ignore[call-overload]
    assert "uploaded 1 sessions" in chain.sync(chain.south)
    assert [n["text"] for n in chain.on_server(lambda s: own_notes(s, SOUTH))].count("hips back, and knees out") == 1
    assert second["uuid"] not in [n["uuid"] for n in chain.on_server(lambda s: own_notes(s, SOUTH))]


def test_a_box_s_edit_waiting_to_go_up_wins_over_the_chain_s_edit_of_the_same_note(chain: Chain) -> None:
    first = chain.on_server(lambda s: own_notes(s, SOUTH))[0]
    chain.on_server(lambda s: edit_note(s, int(first["session_id"]), int(first["id"]), "the chain's words"))  # type: ignore[call-overload]
    mine = chain.on_box(chain.south, lambda s: next(n for n in own_notes(s, SOUTH) if n["uuid"] == first["uuid"]))
    chain.on_box(chain.south, lambda s: edit_note(s, int(mine["session_id"]), int(mine["id"]), "the box's words"))  # type: ignore[call-overload]
    chain.sync(chain.south)
    for texts in (
        chain.on_server(lambda s: own_notes(s, SOUTH)),
        chain.on_box(chain.south, lambda s: own_notes(s, SOUTH)),
    ):
        assert [n["text"] for n in texts if n["uuid"] == first["uuid"]] == ["the box's words"]
