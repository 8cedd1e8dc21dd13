"""Upload what the box kept to a chain's PostgreSQL server, idempotently.

Every row goes up as an upsert on its natural key (a session is (device_id, uuid); its sets,
reps, events, notes and heart-rate samples are keyed within it, a rep by (set_number, number),
a note by its uuid, a sample by its frame time), inside one remote transaction per session.
So an upload interrupted halfway, repeated, or run by two boxes at once never duplicates a
row: the worst case is a session sent again. Which sessions go up: those whose `rev` grew
since the last upload that reached the server (`synced_rev`), marked only after the remote
commit.

A member goes up as their display name's key: the server's member of that name owns the
session. Straps stay on the box. Members either side lacks are added there, and the profiles
of the members both sides have are compared, the newer edit copied to the other side, at
each sync before the sessions go up (profiles.py).

Last, the notes written on the chain's dashboard about the box's sessions come down
(notes.py: chain notes), and the server records when the box synced (`box_syncs`: its
device id, the time by the box's clock, its version) for the chain's /boxes page.

What the box deleted goes first: its tombstones are applied on the server before any
session goes up (deletions.py), so a member deleted and added again under the same name
keeps the sessions they recorded since. A session deleted on the box after the round
listed it is skipped; one deleted while it was going up is deleted on the server again
(`deleted_meanwhile`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from gymcorner import __version__
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.browse import boxes
from gymcorner.history.deletions import Applied, apply_deletions, deleted_meanwhile
from gymcorner.history.member_changes import Pulled, pull_changes, push_renames
from gymcorner.history.members import name_key
from gymcorner.history.notes import ChainNotes, pull_chain_notes
from gymcorner.history.profiles import MEMBER_COLUMNS, ProfileSync, insert_member, sync_members
from gymcorner.history.store import Store

_SESSION_COLUMNS = (
    "device_id",
    "uuid",
    "started_at",
    "ended_at",
    "state",
    "exercise",
    "reps",
    "hr_sensor",
    "hr_mean_bpm",
    "hr_peak_bpm",
    "hr_zone_s",
)
_KEYS = {
    "sets": ("session_id", "number"),
    "reps": ("session_id", "set_number", "number"),
    "events": ("session_id", "seq"),
    "notes": ("session_id", "uuid"),
    "hr_samples": ("session_id", "t"),
}


@dataclass
class SyncReport:
    sessions: int = 0
    rows: dict[str, int] = field(default_factory=lambda: {table: 0 for table in _KEYS})
    members: int = 0
    deleted: Applied = field(default_factory=Applied)  # on the server, by the box's tombstones
    renamed_up: int = 0  # the box's renames applied on the server
    pulled: Pulled = field(default_factory=Pulled)  # the chain's renames and erasures done on the box
    profiles: ProfileSync = field(default_factory=ProfileSync)  # members added, newer profile edits copied
    notes: ChainNotes = field(default_factory=ChainNotes)  # notes written on the chain, taken down
    seconds: float = 0.0

    def happened(self) -> bool:
        """Whether this sync changed anything on either side."""
        return bool(
            self.sessions
            or self.deleted.happened()
            or self.renamed_up
            or self.pulled.happened()
            or self.profiles.happened()
            or self.notes.happened()
        )

    def line(self, where: str) -> str:
        said = []
        if self.deleted.happened():
            done = self.deleted
            said.append(f"deleted {done.line()} on {where} as this box did ({done.tombstones} tombstones)")
        if self.renamed_up:
            said.append(f"renamed {self.renamed_up} members on {where} as this box did")
        if self.pulled.happened():
            said.append(f"{self.pulled.line()} on {where}")
        if self.profiles.happened():
            said.append(self.profiles.line(where))
        if self.sessions:
            counts = ", ".join(f"{n} {table}" for table, n in self.rows.items())
            said.append(f"uploaded {self.sessions} sessions ({counts}) to {where}")
        if self.notes.happened():
            said.append(self.notes.line(where))
        if not said:
            return f"nothing to upload to {where}: every session is there already"
        return "; ".join(said) + f" in {self.seconds:.2f} s"


def upload(local: Store, remote: Store, device_id: str | None = None) -> SyncReport:
    """The box's tombstones applied, then every session of `local` due for upload, each in
    its own remote transaction. Last, the sync is recorded on the server (`box_syncs`) for
    `device_id` (the daemon's own), else for every device id of the box's sessions."""
    report = SyncReport()
    start = time.perf_counter()
    report.deleted = apply_deletions(local, remote)  # with the box's renames made before each
    report.renamed_up = report.deleted.renamed + push_renames(local, remote)  # and those made since
    report.pulled = pull_changes(local, remote)  # what the chain renamed and erased, before uploading
    report.profiles = sync_members(local, remote)  # by name key: after the renames came down
    members: dict[int, int] = {}  # local member id -> remote member id
    for due in list(local.iter_due()):
        session = _current(local, due["id"])
        if session is None:  # deleted (with its member) since the round began
            continue
        member_id = session["member_id"]
        if member_id is not None and member_id not in members:
            members[member_id] = _ensure_member(remote, local.member(member_id).to_dict())
            report.members += 1
        children = {table: local.rows(table, session["id"]) for table in _KEYS}
        children["notes"] = [n for n in children["notes"] if not n.get("from_chain")]  # the server's own
        remote_member = members.get(member_id) if member_id is not None else None
        with remote.transaction():
            remote_id = _upsert_session(remote, session, remote_member)
            for table, rows in children.items():
                for row in rows:
                    copy = {k: v for k, v in row.items() if k not in ("id", "session_id")}
                    remote.upsert(table, {"session_id": remote_id, **copy}, _KEYS[table])
                report.rows[table] += len(rows)
        local.mark_synced(session["id"], session["rev"])
        notes = {str(n["uuid"]) for n in children["notes"]}
        report.deleted.add(deleted_meanwhile(local, remote, session, (remote_id, remote_member), notes))
        report.sessions += 1
    report.notes = pull_chain_notes(local, remote)  # last: the notes of the sessions just sent too
    _record_sync(local, remote, device_id)
    report.seconds = time.perf_counter() - start
    return report


def _record_sync(local: Store, remote: Store, device_id: str | None) -> None:
    devices = [device_id] if device_id else [box for box, _ in boxes(local)]
    now = time.time()
    with remote.transaction():
        for device in devices:
            remote.upsert("box_syncs", {"device_id": device, "synced_at": now, "version": __version__}, ("device_id",))


def _current(local: Store, session_id: int) -> dict[str, Any] | None:
    try:
        return local.session(session_id)
    except HistoryError as err:
        if err.reason is not Reason.HISTORY_NOT_FOUND:
            raise
        return None


def _ensure_member(remote: Store, member: dict[str, Any]) -> int:
    """The server's id of the box's member (added there if a sync's exchange missed them:
    made on the box while it ran)."""
    key = name_key(member["display_name"])
    values = {**member, "name_key": key}
    with remote.transaction():
        insert_member(remote, tuple(values[c] for c in MEMBER_COLUMNS))
        row = remote.execute("SELECT id FROM members WHERE name_key = ?", (key,)).fetchone()
    return int(row[0])


def _upsert_session(remote: Store, session: dict[str, Any], member_id: int | None) -> int:
    row = {c: session[c] for c in _SESSION_COLUMNS}
    row.update(member_id=member_id, rev=session["rev"], synced_rev=session["rev"])
    cols = list(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("device_id", "uuid"))
    found = remote.execute(
        f"INSERT INTO sessions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT (device_id, uuid) DO UPDATE SET {updates} RETURNING id",
        tuple(row.values()),
    ).fetchone()
    return int(found[0])
