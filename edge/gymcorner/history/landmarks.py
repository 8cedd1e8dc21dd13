"""A session's landmarks in the history: written by the writer thread, read for the replay.

The rows are chunks of `landmark_codec` (migration 8, `landmarks`): one row, one BLOB and
one commit every few seconds while a person is in view. They are the bulk of the file
(`landmark_codec.bytes_per_minute`), so they have a retention of their own
(`[history] landmarks_retention_days`), shorter than the sessions'; deleting a session or a
member deletes them by cascade. They stay on the box: `gymcorner history sync` does not
upload them, and writing them does not make a session due for upload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.landmark_codec import Frame, pack_chunk
from gymcorner.history.store import Store


def record_landmarks(store: Store, device_id: str, uuid: str, seq: int, frames: Sequence[Frame]) -> None:
    """One chunk of the session's frames (packed here, on the writer thread), keyed by its
    sequence number within the session, so a chunk written twice is one row."""
    data = pack_chunk(frames)
    with store.transaction():
        row = store.execute("SELECT id FROM sessions WHERE device_id = ? AND uuid = ?", (device_id, uuid)).fetchone()
        if row is None:
            raise HistoryError(
                f"session {uuid} of {device_id} is not in {store.where} (deleted with its member?)",
                Reason.HISTORY_NOT_FOUND,
            )
        chunk = {
            "session_id": int(row[0]),
            "seq": seq,
            "t0": float(frames[0][0]),
            "t1": float(frames[-1][0]),
            "frames": len(frames),
            "data": data,
        }
        store.upsert("landmarks", chunk, ("session_id", "seq"))


def session_landmarks(store: Store, session_id: int) -> bytes:
    """The session's chunks in order, one after another: one valid landmark stream."""
    rows = store.execute("SELECT data FROM landmarks WHERE session_id = ? ORDER BY seq", (session_id,)).fetchall()
    return b"".join(bytes(r[0]) for r in rows)


@dataclass(frozen=True)
class LandmarkPage:
    """A run of the session's chunks, in order, for a replay that loads as it plays.

    `first_chunk` is the index (0-based, in seq order) of the page's first chunk and
    `first_frame` that of its first frame in the whole session; `next_chunk` is the cursor
    of the page after it (None: this is the last) and `next_t0` that page's first frame
    time, so a player knows which moments this page holds (up to it). `summary` is `landmark_summary`'s, so
    the first page alone tells the player how long the whole session is."""

    data: bytes
    first_chunk: int
    chunks: int
    first_frame: int
    next_chunk: int | None
    next_t0: float | None  # the next page's first frame time: this page holds the moments before it
    summary: dict[str, Any]


def chunk_at(store: Store, session_id: int, t: float) -> int:
    """The index of the chunk that holds frame time `t` (the last one starting at or before
    it; the first one before the session's first frame). Chunks are in time order by seq,
    as the sampler writes them."""
    row = store.execute("SELECT COUNT(*) FROM landmarks WHERE session_id = ? AND t0 <= ?", (session_id, t)).fetchone()
    return max(0, int(row[0]) - 1)


def landmark_page(store: Store, session_id: int, first_chunk: int, chunks: int) -> LandmarkPage:
    """At most `chunks` chunks from the `first_chunk`-th on, one after another (one valid
    landmark stream); past the end: no data and no next page."""
    summary = landmark_summary(store, session_id)
    rows = store.execute(
        "SELECT data, frames FROM landmarks WHERE session_id = ? ORDER BY seq LIMIT ? OFFSET ?",
        (session_id, chunks, first_chunk),
    ).fetchall()
    before = store.execute(
        "SELECT COALESCE(SUM(frames), 0) FROM "
        "(SELECT frames FROM landmarks WHERE session_id = ? ORDER BY seq LIMIT ?) AS earlier",
        (session_id, first_chunk),
    ).fetchone()
    after = first_chunk + len(rows)
    following = (
        store.execute(
            "SELECT t0 FROM landmarks WHERE session_id = ? ORDER BY seq LIMIT 1 OFFSET ?", (session_id, after)
        ).fetchone()
        if rows
        else None
    )
    return LandmarkPage(
        data=b"".join(bytes(r[0]) for r in rows),
        first_chunk=first_chunk,
        chunks=len(rows),
        first_frame=int(before[0]),
        next_chunk=after if following is not None else None,
        next_t0=float(following[0]) if following is not None else None,
        summary=summary,
    )


def landmark_summary(store: Store, session_id: int) -> dict[str, Any]:
    """How much of the session there is to replay: frames, chunks, bytes, first and last time."""
    row = store.execute(
        "SELECT COUNT(*), COALESCE(SUM(frames), 0), COALESCE(SUM(LENGTH(data)), 0), MIN(t0), MAX(t1) "
        "FROM landmarks WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    return {"chunks": int(row[0]), "frames": int(row[1]), "bytes": int(row[2]), "t0": row[3], "t1": row[4]}


def member_landmarks(store: Store, member_id: int) -> list[dict[str, Any]]:
    """Every chunk of the member's sessions (the export), oldest session first."""
    cur = store.execute(
        "SELECT l.session_id, l.seq, l.t0, l.t1, l.frames, l.data FROM landmarks l "
        "JOIN sessions s ON s.id = l.session_id WHERE s.member_id = ? ORDER BY s.started_at, l.seq",
        (member_id,),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def prune_landmarks(store: Store, older_than_at: float) -> int:
    """Delete the landmarks of sessions started before `older_than_at` (Unix time); the
    sessions and their other rows stay. Returns the number of chunks deleted."""
    with store.transaction():
        cur = store.execute(
            "DELETE FROM landmarks WHERE session_id IN (SELECT id FROM sessions WHERE started_at < ?)",
            (older_than_at,),
        )
        return int(cur.rowcount or 0)
