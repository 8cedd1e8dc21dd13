"""What a box deleted, carried to a chain's server: tombstones (`deletions`, migration 10).

The sync upserts, so by itself it never removes from the server what a box deleted: a note
deleted on the box, or a member deleted with all of their data, would stay on the chain.
So the box records what it deletes, in the same transaction as the deletion, and
`apply_deletions` (the first step of every `sync.upload`) deletes the same rows on the
server, then drops the tombstones it applied, once the server has committed. A tombstone
holds keys only, never a row's content:

* `note`: a note deleted on the box: its session's device id and uuid, and its own uuid;
* `session`: a session deleted with its member: on the server its sets, reps, events,
  notes (the chain's own included) and heart-rate samples go with it, by cascade;
* `member`: a member deleted, by their name key (how the server knows them), once per
  device id the box's sessions were recorded under (once, with an empty device id, on a box
  with no session): on the server the member is erased chain-wide, every box's sessions of
  theirs started before the deletion, those this box had already pruned (retention)
  included, and the member row (member_changes.py).

A note or session tombstone of box A deletes only rows recorded under A's device ids; a
member's asks the chain, so their sessions of every box go (a member who asks one box to
delete them asks them all). Applying a tombstone again deletes nothing more,
so a sync interrupted between the server's commit and the box's bookkeeping is simply
repeated; a member added again under the same name keeps what they recorded since (the
deletion's time bounds what a `member` tombstone deletes).

Who records them: a box (SQLite) once it has uploaded (a session with `synced_rev` >= 0) or
exchanged members with a server (the chain's members come down to it: profiles.py). One that
never did has nothing on a server to delete, and a member's tombstone holds
their name key, which a box must not keep once they asked to be deleted; so the tombstones
a box holds are what it deleted since its last sync that reached the server. The chain's
server records none (nothing uploads from it), and neither does retention (`Store.prune`):
the box forgets old sessions for its disk's sake, the chain keeps them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gymcorner.history.browse import boxes
from gymcorner.history.member_changes import erase_on_server, push_renames, record_erasure
from gymcorner.history.members import name_key
from gymcorner.history.profiles import shares_members

if TYPE_CHECKING:  # store.py calls delete_member: the class is only named here
    from gymcorner.history.store import Store

_COLUMNS = ("id", "kind", "device_id", "session_uuid", "note_uuid", "member_key", "deleted_at")


@dataclass
class Applied:
    """What `apply_deletions` did: tombstones applied, and the rows they deleted on the server
    (a session's own rows went with it)."""

    tombstones: int = 0
    sessions: int = 0
    notes: int = 0
    members: int = 0
    renamed: int = 0  # the box's renames made before a deletion, taken up before it (member_changes.py)

    def happened(self) -> bool:
        return bool(self.tombstones or self.sessions or self.notes or self.members)

    def add(self, other: Applied) -> None:
        self.tombstones += other.tombstones
        self.sessions += other.sessions
        self.notes += other.notes
        self.members += other.members
        self.renamed += other.renamed

    def line(self) -> str:
        return f"{self.sessions} sessions, {self.notes} notes, {self.members} members"


def records_deletions(store: Store) -> bool:
    """Whether a deletion in `store` must reach a server: a box's file that has uploaded, or
    exchanged members with a server (profiles.py)."""
    if store.dialect != "sqlite":
        return False
    uploaded = store.execute("SELECT 1 FROM sessions WHERE synced_rev >= 0 LIMIT 1").fetchone() is not None
    return uploaded or shares_members(store)


def pending(store: Store) -> int:
    """Tombstones waiting for a sync."""
    return int(store.execute("SELECT COUNT(*) FROM deletions").fetchone()[0])


def _record(store: Store, kind: str, device_id: str, at: float, session: Any = None, note: Any = None,
            member: Any = None) -> None:  # fmt: skip
    store.execute(
        "INSERT INTO deletions (kind, device_id, session_uuid, note_uuid, member_key, deleted_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (kind, device_id, session, note, member, at),
    )


def delete_member(store: Store, member_id: int) -> int:
    """The member and, by cascade, everything of theirs (`Store.delete_member`), with the
    tombstones that delete them on the chain's server; returns how many were recorded."""
    recorded = 0
    with store.transaction():
        row = store.execute("SELECT display_name FROM members WHERE id = ?", (member_id,)).fetchone()
        if row is not None:
            record_erasure(store, str(row[0]))  # the chain's server: logged for the boxes
        if row is not None and records_deletions(store):
            key, now = name_key(str(row[0])), time.time()
            theirs = "SELECT device_id, uuid FROM sessions WHERE member_id = ? ORDER BY started_at"
            sessions = store.execute(theirs, (member_id,)).fetchall()
            for device_id, uuid in sessions:
                _record(store, "session", device_id, now, session=uuid, member=key)
            devices = [box for box, _ in boxes(store)]
            for device_id in devices or [""]:  # no session here: the erasure alone (no device's)
                _record(store, "member", device_id, now, member=key)
            recorded = len(sessions) + max(len(devices), 1)
        store.execute("DELETE FROM members WHERE id = ?", (member_id,))
    return recorded


def record_note_deleted(store: Store, session_id: int, note_uuid: str) -> None:
    """Inside the caller's transaction: the tombstone of a note it deletes (notes.delete_note)."""
    if not records_deletions(store):
        return
    row = store.execute("SELECT device_id, uuid FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is not None:
        _record(store, "note", str(row[0]), time.time(), session=row[1], note=note_uuid)


def apply_deletions(local: Store, remote: Store) -> Applied:
    """Every tombstone of `local` applied on `remote`: the notes in one remote transaction, each
    deleted member in one of their own; a group's tombstones are dropped after its commit."""
    applied = Applied()
    rows = local.execute(f"SELECT {', '.join(_COLUMNS)} FROM deletions ORDER BY id").fetchall()
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        tombstone = dict(zip(_COLUMNS, row, strict=True))
        groups.setdefault(None if tombstone["kind"] == "note" else tombstone["member_key"], []).append(tombstone)
    for key, group in groups.items():
        if key is not None:  # the box's renames made before this deletion go up first
            applied.renamed += push_renames(local, remote, until=max(t["deleted_at"] for t in group))
        with remote.transaction():
            if key is None:
                _delete_notes(remote, group, applied)
            else:
                _delete_member(remote, group, applied)
        with local.transaction():
            for tombstone in group:
                local.execute("DELETE FROM deletions WHERE id = ?", (tombstone["id"],))
        applied.tombstones += len(group)
    return applied


def _delete_notes(remote: Store, group: list[dict[str, Any]], applied: Applied) -> None:
    for t in group:
        gone = remote.execute(
            "DELETE FROM notes WHERE uuid = ? AND session_id IN "
            "(SELECT id FROM sessions WHERE device_id = ? AND uuid = ?) RETURNING id",
            (t["note_uuid"], t["device_id"], t["session_uuid"]),
        ).fetchall()
        applied.notes += len(gone)


def _delete_member(remote: Store, group: list[dict[str, Any]], applied: Applied) -> None:
    """The box's sessions of the member by their keys, then the member chain-wide: every box's
    sessions of theirs up to the deletion and their row, logged for the other boxes."""
    owners: set[int] = set()  # the server's members whose sessions went
    for t in group:
        if t["kind"] == "session":
            sql = "DELETE FROM sessions WHERE device_id = ? AND uuid = ? RETURNING member_id"
            gone = remote.execute(sql, (t["device_id"], t["session_uuid"])).fetchall()
            applied.sessions += len(gone)
            owners.update(int(r[0]) for r in gone if r[0] is not None)
    erased = {(t["member_key"], t["deleted_at"]) for t in group if t["kind"] == "member"}
    for key, deleted_at in sorted(erased):
        sessions, members = erase_on_server(remote, key, deleted_at)
        applied.sessions += sessions
        applied.members += members
    for member_id in sorted(owners):
        applied.members += _drop_if_no_sessions(remote, member_id)


def _drop_if_no_sessions(remote: Store, member_id: int) -> int:
    gone = remote.execute(
        "DELETE FROM members WHERE id = ? AND NOT EXISTS (SELECT 1 FROM sessions WHERE member_id = ?) RETURNING id",
        (member_id, member_id),
    ).fetchall()
    return len(gone)


def deleted_meanwhile(
    local: Store, remote: Store, session: dict[str, Any], remote_ids: tuple[int, int | None], notes: set[str]
) -> Applied:
    """After `session` went up: what the box deleted while it did (between reading it and the
    server's commit) deleted on the server too. A box that had never uploaded before recorded
    no tombstone for it; on one that had, its tombstones do the same at the next sync.

    `remote_ids`: the session's and its member's ids on the server; `notes`: the uuids of the
    notes that went up. A session gone on the box with its member was deleted with them; one
    gone while its member stayed (or a guest's) was pruned, and the chain keeps it."""
    applied = Applied()
    session_id, member_id = remote_ids
    if local.execute("SELECT 1 FROM sessions WHERE id = ?", (session["id"],)).fetchone() is None:
        owner = session["member_id"]
        if owner is None or local.execute("SELECT 1 FROM members WHERE id = ?", (owner,)).fetchone() is not None:
            return applied
        with remote.transaction():
            remote.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            applied.sessions = 1
            applied.members = _drop_if_no_sessions(remote, member_id) if member_id is not None else 0
        return applied
    rows = local.execute("SELECT uuid FROM notes WHERE session_id = ?", (session["id"],)).fetchall()
    missing = sorted(notes - {str(r[0]) for r in rows})
    if missing:
        with remote.transaction():
            for uuid in missing:
                sql = "DELETE FROM notes WHERE session_id = ? AND uuid = ? RETURNING id"
                applied.notes += len(remote.execute(sql, (session_id, uuid)).fetchall())
    return applied
