"""The box dashboard's pooled connections to its history file (history/pool.py, SqlitePool):
kept between pages, never lent with a transaction left open, and never to a file the path
no longer names."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gymcorner.dashboard.database import SqliteHistory
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store


def names(store: Store) -> list[str]:
    return [m.display_name for m in store.list_members()]


def with_members(path: Path, *members: str) -> None:
    store = open_sqlite(path)
    for name in members:
        store.add_member(name)
    store.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A box's history file with one member, Ana."""
    file = tmp_path / "history.sqlite3"
    with_members(file, "Ana")
    return file


@pytest.fixture
def history(path: Path) -> Iterator[SqliteHistory]:
    pooled = SqliteHistory(path, 5.0)
    yield pooled
    pooled.close()


def test_a_connection_is_kept_between_calls_and_sees_what_others_commit(path: Path, history: SqliteHistory) -> None:
    first = history.run(lambda s: s.conn)
    with_members(path, "Ben")  # the daemon or `gymcorner members`, on a connection of its own
    again, seen = history.run(lambda s: (s.conn, names(s)))
    assert again is first and seen == ["Ana", "Ben"]


def test_a_connection_left_in_a_transaction_is_closed_not_lent_again(path: Path, history: SqliteHistory) -> None:
    def leave_open(store: Store) -> object:
        store.execute("BEGIN IMMEDIATE")  # a bug in a page: the write lock never released
        return store.conn  # (kept referenced: a new connection cannot reuse its id)

    held = history.run(leave_open)
    with_members(path, "Ben")  # would wait for the lock, then fail, had the connection stayed open
    assert history.run(lambda s: s.conn) is not held


def test_a_file_moved_aside_and_made_again_is_read_anew(tmp_path: Path, path: Path, history: SqliteHistory) -> None:
    assert history.run(names) == ["Ana"] and history.version() is not None
    path.rename(tmp_path / "history.corrupt")  # what the one-line error tells the owner to do
    with_members(path, "Carla")  # the next start makes a new file
    assert history.run(names) == ["Carla"]
    before = history.version()
    with_members(path, "Dan")
    assert history.version() != before  # the version follows the new file, not the old one


def test_pages_in_many_threads_share_a_few_connections(history: SqliteHistory) -> None:
    seen: list[object] = []  # the connections themselves: ids of closed ones could be reused
    lock = threading.Lock()
    gate = threading.Barrier(20)

    def page() -> None:
        gate.wait()
        for _ in range(10):
            conn = history.run(lambda s: (names(s), s.conn)[1])
            with lock:
                if not any(conn is c for c in seen):
                    seen.append(conn)

    threads = [threading.Thread(target=page) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert 1 <= len(seen) <= 8  # SQLITE_CONNECTIONS: the other pages waited for one


def test_a_connection_closed_by_its_work_is_replaced(history: SqliteHistory) -> None:
    history.run(lambda s: s.conn.close())
    assert history.run(names) == ["Ana"]
