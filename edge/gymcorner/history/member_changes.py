"""Renames and erasures of members across a gym chain, both ways (`member_changes`, migration 11).

A chain's server knows a member by their name key (sync.py), so a rename anywhere must reach
everywhere, or the next upload of the old name's box makes a second member of them; and a
member who asks one box to delete them asks the chain: every box's data of theirs goes.

* **Up, box to server.** A box that has uploaded records each rename it makes
  (`record_rename`, in the rename's transaction) and keeps it until a sync has applied it on
  the server (`push_renames`). Its deletions already go up as tombstones (deletions.py); on
  the server a member's tombstone now erases them chain-wide (`erase_on_server`).
* **Down, server to boxes.** The server logs every rename and erasure, whoever made it: its
  own dashboard (`Store.edit_member` / `delete_member` on PostgreSQL) or a box's sync. Each
  box pulls the log from where it left off (`pull_changes`, its cursor in `chain_cursor`) and
  does the same to its own file, without recording anything back: what it pulled is done.

A change names the member by the SHA-256 of the name key they had (`key_hash`), never by
name: the server's log keeps an erased member's name in no readable form, and a rename's
new name is the member's current one. A box or server compares it with the hash of its own
members' keys. Erasures are bounded by time like tombstones: sessions started up to the
erasure go, and the member row once none is left, so a member added again afterwards keeps
what they record.

Order within one sync: the box's own renames and member tombstones go up in the order they
were made (a rename A -> B then B deleted erases B, which is A on the server; A deleted then
someone renamed to A erases the old A only), then the server's log comes down, then the
box's sessions go up, so a box never uploads again what another box's erasure removed.
A name already taken on the other side merges the two (their sessions; not their logins):
names are members on a chain.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gymcorner.history.members import name_key

if TYPE_CHECKING:
    from gymcorner.history.store import Store

CURSOR = "member_changes"  # the box's chain_cursor row: the last server change it applied


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass
class Pulled:
    """What `pull_changes` did on the box: changes read from the server's log, and the
    members renamed, merged into another and erased (with their sessions) here."""

    changes: int = 0
    renamed: int = 0
    merged: int = 0
    erased: int = 0
    sessions: int = 0

    def happened(self) -> bool:
        return bool(self.renamed or self.merged or self.erased)

    def line(self) -> str:
        return (
            f"{self.renamed} members renamed, {self.merged} merged, {self.erased} erased "
            f"({self.sessions} sessions) as the chain did"
        )


def _log(store: Store, kind: str, key: str, new_name: str | None, at: float) -> None:
    store.execute(
        "INSERT INTO member_changes (kind, key_hash, new_name, changed_at) VALUES (?, ?, ?, ?)",
        (kind, key_hash(key), new_name, at),
    )


def _member_by_hash(store: Store, digest: str) -> tuple[int, str, float] | None:
    """(id, name_key, created_at) of the member whose key hashes to `digest`."""
    for member_id, key, created_at in store.execute("SELECT id, name_key, created_at FROM members").fetchall():
        if key_hash(str(key)) == digest:
            return int(member_id), str(key), float(created_at)
    return None


# ---------------------------------------------------------------- recorded where a change is made


def record_rename(store: Store, old_name: str, new_name: str) -> None:
    """Inside the caller's transaction: a member renamed, for the other side. On the server
    always (its log); on a box once it has uploaded (until a sync takes it up)."""
    from gymcorner.history.deletions import records_deletions

    if name_key(old_name) == name_key(new_name):
        return  # a change of case or spacing: the same member everywhere
    if store.dialect == "postgresql" or records_deletions(store):
        _log(store, "rename", name_key(old_name), new_name, time.time())


def record_erasure(store: Store, display_name: str) -> None:
    """Inside the caller's transaction: the chain's server deleted a member (its dashboard),
    logged for the boxes. A box's deletions go up as tombstones instead."""
    if store.dialect == "postgresql":
        _log(store, "erase", name_key(display_name), None, time.time())


# ---------------------------------------------------------------- on the server


def erase_on_server(remote: Store, key: str, deleted_at: float) -> tuple[int, int]:
    """Inside the caller's remote transaction: every box's sessions of the member `key`
    started up to `deleted_at`, and the member row when none is left; logged for the boxes.
    Returns (sessions, members) deleted."""
    row = remote.execute("SELECT id FROM members WHERE name_key = ?", (key,)).fetchone()
    logged = remote.execute(
        "SELECT 1 FROM member_changes WHERE kind = 'erase' AND key_hash = ? AND changed_at = ?",
        (key_hash(key), deleted_at),
    ).fetchone()
    if logged is None:  # a tombstone applied again (a sync repeated) is logged once
        _log(remote, "erase", key, None, deleted_at)
    return (0, 0) if row is None else _erase(remote, int(row[0]), deleted_at)


def _rename(store: Store, member_id: int, new_name: str) -> str:
    """Rename `member_id` to `new_name`, or merge them into the member who has that name:
    their sessions and straps move there. Their dashboard logins do not: a login sees one
    person's data, so it goes with the row and an admin links it again. Returns 'renamed',
    'merged' or 'same'."""
    new_key = name_key(new_name)
    other = store.execute("SELECT id FROM members WHERE name_key = ?", (new_key,)).fetchone()
    if other is not None and int(other[0]) == member_id:
        store.execute("UPDATE members SET display_name = ? WHERE id = ?", (new_name, member_id))
        return "same"
    if other is None:
        store.execute("UPDATE members SET display_name = ?, name_key = ? WHERE id = ?", (new_name, new_key, member_id))
        return "renamed"
    into = int(other[0])
    for table in ("sessions", "straps"):
        store.execute(f"UPDATE {table} SET member_id = ? WHERE member_id = ?", (into, member_id))
    store.execute("DELETE FROM members WHERE id = ?", (member_id,))
    return "merged"


def push_renames(local: Store, remote: Store, until: float | None = None) -> int:
    """The box's renames made up to `until` (all: None) applied on the server and logged
    there, each in its own remote transaction, then dropped on the box. Returns how many."""
    sql = "SELECT id, key_hash, new_name, changed_at FROM member_changes WHERE kind = 'rename'"
    params: tuple[Any, ...] = ()
    if until is not None:
        sql, params = sql + " AND changed_at <= ?", (until,)
    rows = local.execute(sql + " ORDER BY id", params).fetchall()
    for change_id, digest, new_name, changed_at in rows:
        with remote.transaction():
            found = _member_by_hash(remote, str(digest))
            if found is not None:
                _rename(remote, found[0], str(new_name))
                remote.execute(
                    "INSERT INTO member_changes (kind, key_hash, new_name, changed_at) VALUES ('rename', ?, ?, ?)",
                    (digest, new_name, changed_at),
                )
        with local.transaction():
            local.execute("DELETE FROM member_changes WHERE id = ?", (change_id,))
    return len(rows)


# ---------------------------------------------------------------- on a box


def pull_changes(local: Store, remote: Store) -> Pulled:
    """The server's log since this box's cursor, applied to the box's file in order, each
    change with the cursor in one local transaction (a sync cut short resumes after it)."""
    pulled = Pulled()
    row = local.execute("SELECT value FROM chain_cursor WHERE name = ?", (CURSOR,)).fetchone()
    cursor = int(row[0]) if row is not None else 0
    newest = remote.execute("SELECT MAX(id) FROM member_changes").fetchone()[0]
    if cursor > int(newest or 0):  # a cursor past the server's log: the box now syncs to another server
        cursor = 0
    changes = remote.execute(
        "SELECT id, kind, key_hash, new_name, changed_at FROM member_changes WHERE id > ? ORDER BY id", (cursor,)
    ).fetchall()
    for change_id, kind, digest, new_name, changed_at in changes:
        with local.transaction():
            found = _member_by_hash(local, str(digest))
            if found is not None and found[2] <= float(changed_at):  # one added since is someone else
                member_id = found[0]
                if kind == "rename":
                    done = _rename(local, member_id, str(new_name))
                    pulled.renamed += done == "renamed"
                    pulled.merged += done == "merged"
                else:
                    sessions, members = _erase(local, member_id, float(changed_at))
                    pulled.sessions += sessions
                    pulled.erased += members
            local.execute(
                "INSERT INTO chain_cursor (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (CURSOR, int(change_id)),
            )
        pulled.changes += 1
    return pulled


def _erase(store: Store, member_id: int, at: float) -> tuple[int, int]:
    """The member's sessions started up to `at`, and their row when none is left (on the
    server or on a box alike); returns (sessions, members) deleted."""
    gone = store.execute(
        "DELETE FROM sessions WHERE member_id = ? AND started_at <= ? RETURNING id", (member_id, at)
    ).fetchall()
    left = store.execute("SELECT 1 FROM sessions WHERE member_id = ? LIMIT 1", (member_id,)).fetchone()
    if left is None:
        store.execute("DELETE FROM members WHERE id = ?", (member_id,))
    return len(gone), int(left is None)
