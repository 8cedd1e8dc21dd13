"""Small helpers shared by several test modules (no fixtures with side effects here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gymcorner.history.store import Store


class Collector:
    """A thread-safe callable that keeps every event it is called with."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)


@contextmanager
def viewer_server() -> Iterator[str]:
    """The device's viewer HTTP server on a free loopback port; yields its base URL."""
    from gymcorner.transport.webviewer import make_server

    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def every_table(store: Store) -> list[str]:
    """Every table of the database (schema_migrations aside), read from the database itself,
    so a table a later migration adds is walked too."""
    if store.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
    return [str(r[0]) for r in store.execute(sql).fetchall() if r[0] != "schema_migrations"]


Rows = dict[str, set[tuple[Any, ...]]]


def contents(store: Store) -> Rows:
    """Every row of every table (`every_table`), to compare a database before and after; not
    `box_syncs`, whose time each sync moves on (its own test: test_dashboard_chain.py)."""
    tables = [t for t in every_table(store) if t != "box_syncs"]
    return {t: {tuple(r) for r in store.execute(f"SELECT * FROM {t}").fetchall()} for t in tables}


def member_rows(store: Store, name: str) -> Rows:
    """The rows of the member called `name` in every table (`every_table`): their member row,
    rows that name them (straps, sessions, logins), the rows of their sessions, and the
    tombstones that hold their name key, the chain's log entries that hold its hash. A table that relates to members in none of these
    ways fails the test: whoever adds one says how deleting a member reaches it."""
    from gymcorner.history.member_changes import key_hash
    from gymcorner.history.members import name_key

    key = name_key(name)
    found = store.execute("SELECT id FROM members WHERE name_key = ?", (key,)).fetchone()
    member_id = int(found[0]) if found else -1  # no such member: no row names them by id
    rows: Rows = {}
    for table in every_table(store):
        columns = {str(d[0]) for d in store.execute(f"SELECT * FROM {table} LIMIT 0").description}
        if table == "members":
            where, value = "id = ?", member_id
        elif table == "deletions":
            where, value = "member_key = ?", key
        elif table == "member_changes":  # the chain's log names a member by their key's hash
            where, value = "key_hash = ?", key_hash(key)
        elif table in ("chain_cursor", "box_syncs"):  # a box's place in the log; when a box synced: no member's
            rows[table] = set()
            continue
        elif "member_id" in columns:
            where, value = "member_id = ?", member_id
        elif "session_id" in columns:
            where, value = "session_id IN (SELECT id FROM sessions WHERE member_id = ?)", member_id
        else:
            raise AssertionError(f"table {table}: how does deleting a member reach it?")
        rows[table] = {tuple(r) for r in store.execute(f"SELECT * FROM {table} WHERE {where}", (value,)).fetchall()}
    return rows


def counts(rows: Rows) -> dict[str, int]:
    return {table: len(found) for table, found in rows.items()}


def add_member_as_of_old(store: Store, name: str) -> None:
    """A member as a release before migration 12 added them (today's `add_member` writes
    newer columns, which a file not yet migrated lacks)."""
    import time

    key = " ".join(name.split()).casefold()
    store.execute(
        "INSERT INTO members (display_name, name_key, created_at) VALUES (?, ?, ?)", (name, key, time.time())
    )
