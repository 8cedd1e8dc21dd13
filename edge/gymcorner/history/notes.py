"""A trainer's note: the checks on its text, and changing it after it was written (its text
edited, or the note deleted; `Store.add_note` writes a new one).

Who may is the dashboard's to decide (the note's author, an admin: dashboard/notes.py);
here a note is found within its session, so a note id under another session's path is
not found. Both bump the session's `rev`, so an edit goes up to a chain's server with the
session; a deleted note leaves a tombstone on a box that uploads, and the next sync deletes
it on the server too (deletions.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from gymcorner.errors import HistoryError, Reason

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


def edit_note(store: Store, session_id: int, note_id: int, text: str) -> dict[str, Any]:
    """The note's new text (the checks of a new note), and when it was edited."""
    body = note_text(text)
    with store.transaction():
        find_note(store, session_id, note_id)
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
