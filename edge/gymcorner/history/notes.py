"""A trainer's note: the checks on its text, and changing it after it was written (its text
edited, or the note deleted; `Store.add_note` writes a new one).

Who may is the dashboard's to decide (the note's author, an admin: dashboard/notes.py);
here a note is found within its session, so a note id under another session's path is
not found. Both bump the session's `rev`, so an edit goes up to a chain's server with the
session; a deleted note leaves a tombstone on a box that uploads, and the next sync deletes
it on the server too (deletions.py).

Chain notes (migration 13): a note a trainer writes on the chain's dashboard about a box's
session comes down to that box at its next sync (`pull_chain_notes`, the sync's last step)
as a copy marked `from_chain`: every note the server has on the box's sessions that the box
lacks (by uuid) and has not deleted since its last sync. Each sync mirrors them: edited on
the chain, edited here; deleted there, deleted here. The box never uploads them back, and
does not edit them (the chain's dashboard does); deleting one on the box deletes it on the
chain too, as a box's own note would be. A box's own note edited or deleted on the chain's
dashboard is edited or deleted on the box the same way, once its session has nothing
waiting to go up (an edit made on the box goes up first, and wins).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.browse import boxes

if TYPE_CHECKING:  # store.py uses note_text: the class is only named here
    from gymcorner.history.store import Store

NOTE_MAX_CHARS = 2000  # a note is a few lines, not a report


def note_text(text: str) -> str:
    """A note's text as kept (stripped); HISTORY_CONFLICT when empty or over NOTE_MAX_CHARS."""
    body = text.strip()
    if not body:
        raise HistoryError("a note needs some text", Reason.HISTORY_CONFLICT)
    if len(body) > NOTE_MAX_CHARS:
        raise HistoryError(
            f"a note is at most {NOTE_MAX_CHARS} characters (this one has {len(body)})", Reason.HISTORY_CONFLICT
        )
    return body


def find_note(store: Store, session_id: int, note_id: int) -> dict[str, Any]:
    cur = store.execute("SELECT * FROM notes WHERE id = ? AND session_id = ?", (note_id, session_id))
    row = cur.fetchone()
    if row is None:
        raise HistoryError(f"no note {note_id} on session {session_id}", Reason.HISTORY_NOT_FOUND)
    return dict(zip([d[0] for d in cur.description], row, strict=True))


CHAIN_NOTE_READ_ONLY = (
    "this note was written on the chain's dashboard: edit it there (this box gets the edit at its next sync)"
)


def edit_note(store: Store, session_id: int, note_id: int, text: str) -> dict[str, Any]:
    """The note's new text (the checks of a new note), and when it was edited."""
    body = note_text(text)
    with store.transaction():
        if find_note(store, session_id, note_id).get("from_chain"):
            raise HistoryError(CHAIN_NOTE_READ_ONLY, Reason.HISTORY_CONFLICT)
        store.execute("UPDATE notes SET text = ?, edited_at = ? WHERE id = ?", (body, time.time(), note_id))
        store.execute("UPDATE sessions SET rev = rev + 1 WHERE id = ?", (session_id,))
    return find_note(store, session_id, note_id)


def delete_note(store: Store, session_id: int, note_id: int) -> dict[str, Any]:
    """Delete the note (and, on a box that uploads, record its tombstone for the chain's
    server: deletions.py); returns it as it was."""
    from gymcorner.history.deletions import record_note_deleted

    with store.transaction():
        note = find_note(store, session_id, note_id)
        store.execute("DELETE FROM notes WHERE id = ?", (note_id,))
        record_note_deleted(store, session_id, str(note["uuid"]))
        store.execute("UPDATE sessions SET rev = rev + 1 WHERE id = ?", (session_id,))
    return note


@dataclass
class ChainNotes:
    """What `pull_chain_notes` did on the box."""

    added: int = 0
    edited: int = 0
    deleted: int = 0

    def happened(self) -> bool:
        return bool(self.added or self.edited or self.deleted)

    def line(self, where: str) -> str:
        return f"{self.added} notes written on {where} taken down ({self.edited} edited, {self.deleted} deleted there)"


_NOTE_COLUMNS = ("uuid", "author", "author_role", "text", "written_at", "edited_at")


def pull_chain_notes(local: Store, remote: Store) -> ChainNotes:
    """The notes the server has on this box's sessions and the box does not, copied down as
    chain notes; the box's notes edited or deleted as they were on the server: its chain
    notes always, its own once their session is in step with the server (nothing of it
    waits to go up, so a difference was made on the chain)."""
    done = ChainNotes()
    devices = [box for box, _ in boxes(local)]
    if not devices:
        return done
    cols = ", ".join(f"n.{c}" for c in _NOTE_COLUMNS)
    marks = ", ".join("?" for _ in devices)
    on_server = {
        (str(r[0]), str(r[1]))
        for r in remote.execute(f"SELECT device_id, uuid FROM sessions WHERE device_id IN ({marks})", devices)
    }
    theirs = {
        (str(r[0]), str(r[1]), str(r[2])): tuple(r[2:])
        for r in remote.execute(
            f"SELECT s.device_id, s.uuid, {cols} FROM notes n JOIN sessions s ON s.id = n.session_id "
            f"WHERE s.device_id IN ({marks})",
            devices,
        ).fetchall()
    }
    n = len(_NOTE_COLUMNS)
    mine = {
        (str(r[0]), str(r[1]), str(r[2])): _Local(
            tuple(r[2 : 2 + n]), bool(r[2 + n]), int(r[3 + n]), r[4 + n] == r[5 + n]
        )
        for r in local.execute(
            f"SELECT s.device_id, s.uuid, {cols}, n.from_chain, n.id, s.rev, s.synced_rev FROM notes n "
            "JOIN sessions s ON s.id = n.session_id"
        ).fetchall()
    }
    deleted_here = {str(r[0]) for r in local.execute("SELECT note_uuid FROM deletions WHERE kind = 'note'").fetchall()}
    sessions = {(str(r[1]), str(r[2])): int(r[0]) for r in local.execute("SELECT id, device_id, uuid FROM sessions")}
    with local.transaction():
        for key, row in theirs.items():
            ours = mine.get(key)
            if ours is None:
                session_id = sessions.get(key[:2])
                if session_id is None or key[2] in deleted_here:  # pruned here, or deleted since the last sync
                    continue
                local.execute(
                    f"INSERT INTO notes (session_id, {', '.join(_NOTE_COLUMNS)}, from_chain) "
                    f"VALUES (?, {', '.join('?' for _ in _NOTE_COLUMNS)}, 1)",
                    (session_id, *row),
                )
                done.added += 1
            elif (ours.from_chain or ours.in_step) and ours.row != row:
                local.execute("UPDATE notes SET text = ?, edited_at = ? WHERE id = ?", (row[3], row[5], ours.id))
                done.edited += 1
        for key, ours in mine.items():
            if key[:2] in on_server and key not in theirs and (ours.from_chain or ours.in_step):
                local.execute("DELETE FROM notes WHERE id = ?", (ours.id,))
                done.deleted += 1
    return done


@dataclass(frozen=True)
class _Local:
    """A note on the box, as `pull_chain_notes` compares it."""

    row: tuple[Any, ...]  # _NOTE_COLUMNS
    from_chain: bool
    id: int
    in_step: bool  # its session has nothing waiting to go up
