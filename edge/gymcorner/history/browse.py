"""Reading the history by box: which boxes recorded sessions, whose, and the newest sessions.

A box is a device id (`sessions.device_id`, the `[device] id` of the box that recorded the
session). A box's own file holds its sessions (and those of an older id, if it was
renamed); a chain's server holds every box's, which is what the dashboard's box filter is
for. Plain SQL of both dialects, read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the sync's modules that store.py imports read boxes too
    from gymcorner.history.store import Store


def boxes(store: Store) -> list[tuple[str, int]]:
    """(device id, number of sessions) of every box that recorded a session, by id."""
    rows = store.execute("SELECT device_id, COUNT(*) FROM sessions GROUP BY device_id ORDER BY device_id").fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]


def box_summaries(store: Store) -> list[tuple[str, int, float]]:
    """(device id, number of sessions, newest session's start) of every box, by id."""
    rows = store.execute(
        "SELECT device_id, COUNT(*), MAX(started_at) FROM sessions GROUP BY device_id ORDER BY device_id"
    ).fetchall()
    return [(str(r[0]), int(r[1]), float(r[2])) for r in rows]


def box_syncs(store: Store) -> dict[str, tuple[float, str]]:
    """Device id -> (when it last synced, its version), as the chain's server recorded them."""
    rows = store.execute("SELECT device_id, synced_at, version FROM box_syncs").fetchall()
    return {str(r[0]): (float(r[1]), str(r[2])) for r in rows}


def member_boxes(store: Store) -> dict[int, list[str]]:
    """The boxes each member trained at (members with no session are absent)."""
    rows = store.execute(
        "SELECT DISTINCT member_id, device_id FROM sessions WHERE member_id IS NOT NULL ORDER BY member_id, device_id"
    ).fetchall()
    found: dict[int, list[str]] = {}
    for member_id, device_id in rows:
        found.setdefault(int(member_id), []).append(str(device_id))
    return found


def recent_sessions(store: Store, box: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The newest sessions (of one box, or of all), each with its member's name (None: a
    guest) and its number of notes."""
    where, params = ("WHERE s.device_id = ? ", [box]) if box is not None else ("", [])
    cur = store.execute(
        "SELECT s.id, s.device_id, s.started_at, s.ended_at, s.state, s.exercise, s.reps, s.member_id, "
        "m.display_name AS member, (SELECT COUNT(*) FROM notes n WHERE n.session_id = s.id) AS notes "
        f"FROM sessions s LEFT JOIN members m ON m.id = s.member_id {where}"
        "ORDER BY s.started_at DESC, s.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
