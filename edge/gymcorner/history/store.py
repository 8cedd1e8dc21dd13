"""The storage layer: one class of SQL over a DB-API connection, for SQLite and PostgreSQL.

Both backends run the same statements (`?` placeholders, rewritten for psycopg) on the same
schema (`schema.py`); a backend only says how a transaction starts and how its errors read
(`sqlite.py`, `postgres.py`). Every write is an upsert on a natural key, never a blind
insert, which is what makes an upload idempotent:

* a session is (device_id, uuid), a set (session, number), a rep (session, set_number,
  number), an event (session, seq), a note (session, uuid), a member its case-folded
  display name.

Every write to a session's rows bumps its `rev` in the same transaction; `sync.py` uploads a
session while `rev > synced_rev`, and what a box deleted as tombstones (`deletions.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history import straps
from gymcorner.history.member_changes import record_rename
from gymcorner.history.members import (
    MEMBER_FIELDS,
    Member,
    check_profile,
    free_name,
    member_named,
    member_of,
    name_key,
    strap_address,
)
from gymcorner.history.notes import NOTE_MAX_CHARS, note_text
from gymcorner.history.profiles import edit_stamp
from gymcorner.history.schema import LATEST, MIGRATIONS, Dialect

__all__ = ["MEMBER_FIELDS", "NOTE_MAX_CHARS", "Member", "Store", "name_key", "note_text", "strap_address"]

SESSION_FIELDS = (
    "state",
    "ended_at",
    "exercise",
    "reps",
    "member_id",
    "hr_sensor",
    "hr_mean_bpm",
    "hr_peak_bpm",
    "hr_zone_s",
)


class Store:
    """Members and their history in one database. Not thread-safe: one thread uses one Store
    (the daemon's writer thread, or a command)."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: Any, where: str) -> None:
        self.conn = conn
        self.where = where  # for messages: a file path or a URL without its password

    # ------------------------------------------------------------------ backend hooks

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def translate(self, err: Exception) -> HistoryError | None:
        """The backend's error as ours, or None when it is not a database error."""
        raise NotImplementedError

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ plumbing

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        try:
            return self.conn.execute(self._sql(sql), tuple(params))
        except Exception as err:
            ours = self.translate(err)
            if ours is None:
                raise
            raise ours from err

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def _dicts(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # ------------------------------------------------------------------ schema

    def schema_version(self) -> int:
        if not self._has_migrations_table():
            return 0
        row = self._one("SELECT MAX(number) FROM schema_migrations")
        return int(row[0]) if row and row[0] is not None else 0

    def _has_migrations_table(self) -> bool:
        if self.dialect == "sqlite":
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        else:
            sql = "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        return self._one(sql) is not None

    def migrate(self, target: int = LATEST) -> list[int]:
        """Apply the migrations after the current version up to `target`, each in its own
        transaction; returns the numbers applied. A database newer than this build is an error."""
        with self.transaction():
            self.execute("CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, applied_at REAL)")
        current = self.schema_version()
        if current > LATEST:
            raise HistoryError(
                f"history database {self.where} is at schema {current}, "
                f"newer than this gymcorner ({LATEST}); upgrade gymcorner"
            )
        applied = []
        for migration in MIGRATIONS:
            if current < migration.number <= target:
                with self.transaction():
                    for statement in migration.sql(self.dialect):
                        self.execute(statement)
                    self.execute(
                        "INSERT INTO schema_migrations (number, applied_at) VALUES (?, ?)",
                        (migration.number, time.time()),
                    )
                applied.append(migration.number)
        return applied

    # ------------------------------------------------------------------ members

    def add_member(self, display_name: str, **profile: Any) -> Member:
        check_profile(profile)
        with self.transaction():
            name = free_name(self, display_name)
            now = time.time()
            cols = ["display_name", "name_key", "created_at", "profile_at", *profile]
            values = [name, name_key(name), now, now, *profile.values()]
            marks = ", ".join("?" for _ in cols)
            self.execute(f"INSERT INTO members ({', '.join(cols)}) VALUES ({marks})", values)
        return self.find_member(name)

    def find_member(self, name_or_id: str | int) -> Member:
        """By id (an int, or a string of digits that is no member's name) or by display name."""
        named = member_named(self, str(name_or_id))
        if named is not None:
            return named
        if isinstance(name_or_id, int) or str(name_or_id).isdigit():
            rows = self._dicts("SELECT * FROM members WHERE id = ?", (int(name_or_id),))
            if rows:
                return member_of(rows[0])
        raise HistoryError(f"no member {name_or_id!r} in {self.where}", Reason.HISTORY_NOT_FOUND)

    def member(self, member_id: int) -> Member:
        """By id only (internal callers: a name of digits never shadows an id here)."""
        rows = self._dicts("SELECT * FROM members WHERE id = ?", (member_id,))
        if not rows:
            raise HistoryError(f"no member {member_id} in {self.where}", Reason.HISTORY_NOT_FOUND)
        return member_of(rows[0])

    def list_members(self) -> list[Member]:
        return [member_of(r) for r in self._dicts("SELECT * FROM members ORDER BY name_key")]

    def edit_member(self, member_id: int, display_name: str | None = None, **profile: Any) -> Member:
        check_profile(profile)
        with self.transaction():
            before = self.member(member_id)
            if any(getattr(before, field) != value for field, value in profile.items()):
                profile["profile_at"] = edit_stamp(time.time(), before.profile_at)
            if display_name is not None:
                name = free_name(self, display_name, member_id)
                record_rename(self, before.display_name, name)
                profile = {"display_name": name, "name_key": name_key(name), **profile}
            if profile:
                sets = ", ".join(f"{col} = ?" for col in profile)
                self.execute(f"UPDATE members SET {sets} WHERE id = ?", (*profile.values(), member_id))
        return self.member(member_id)

    def delete_member(self, member_id: int) -> int:
        """The member and everything of theirs, by cascade; returns the tombstones recorded (deletions.py)."""
        from gymcorner.history.deletions import delete_member

        return delete_member(self, member_id)

    def pair_strap(self, address: str, member_id: int) -> None:
        straps.pair_strap(self, address, member_id)

    def unpair_strap(self, address: str) -> None:
        straps.unpair_strap(self, address)

    def strap_owner(self, address: str) -> int | None:
        return straps.strap_owner(self, address)

    def claim_by_strap(self, device_id: str, uuid: str, address: str) -> int | None:
        """A guest session whose strap is paired becomes its member's (`history/straps.py`)."""
        return straps.claim_by_strap(self, device_id, uuid, address)

    def member_data(self, member_id: int, events: bool = True) -> dict[str, Any]:
        """Everything stored about one member, table by table (the export), trainers' notes on
        their sessions included; `events=False` leaves the coaching events and the heart-rate
        samples out (the dashboard's member pages and plans show neither, and a member's
        samples are a row a second of every session)."""
        member = self.member(member_id)
        sessions = self._dicts("SELECT * FROM sessions WHERE member_id = ? ORDER BY started_at", (member_id,))
        data: dict[str, Any] = {
            "member": member.to_dict(),
            "straps": self._dicts("SELECT * FROM straps WHERE member_id = ? ORDER BY address", (member_id,)),
            "sessions": sessions,
        }
        for table in ("sets", "reps", "events", "notes", "hr_samples") if events else ("sets", "reps", "notes"):
            data[table] = self._dicts(
                f"SELECT t.* FROM {table} t JOIN sessions s ON s.id = t.session_id WHERE s.member_id = ? "
                "ORDER BY t.session_id, t.id",
                (member_id,),
            )
        return data

    # ------------------------------------------------------------------ sessions (the daemon's writes)

    def open_session(self, device_id: str, uuid: str, started_at: float, member_id: int | None = None) -> None:
        with self.transaction():
            self.execute(
                "INSERT INTO sessions (device_id, uuid, member_id, started_at, state, rev) VALUES (?, ?, ?, ?, ?, 1) "
                "ON CONFLICT (device_id, uuid) DO NOTHING",
                (device_id, uuid, member_id, started_at, "active"),
            )

    def update_session(self, device_id: str, uuid: str, **values: Any) -> None:
        unknown = set(values) - set(SESSION_FIELDS)
        if unknown:
            raise ValueError(f"not session fields: {sorted(unknown)}")
        with self.transaction():
            self._bump(device_id, uuid)
            if values:
                sets = ", ".join(f"{col} = ?" for col in values)
                self.execute(
                    f"UPDATE sessions SET {sets} WHERE device_id = ? AND uuid = ?", (*values.values(), device_id, uuid)
                )

    def record_rep(self, device_id: str, uuid: str, rep: Mapping[str, Any]) -> None:
        """One rep and the session's rep count, in one transaction (one commit per rep)."""
        with self.transaction():
            session_id = self._bump(device_id, uuid)
            self._upsert_rep(session_id, rep)
            self._count_reps(session_id)

    def _count_reps(self, session_id: int) -> None:
        self.execute(
            "UPDATE sessions SET reps = (SELECT COUNT(*) FROM reps WHERE session_id = ?) WHERE id = ?",
            (session_id, session_id),
        )

    def record_set(self, device_id: str, uuid: str, set_row: Mapping[str, Any]) -> None:
        with self.transaction():
            self._upsert_set(self._bump(device_id, uuid), set_row)

    def record_event(self, device_id: str, uuid: str, event: Mapping[str, Any]) -> None:
        with self.transaction():
            self._upsert_event(self._bump(device_id, uuid), event)

    def record_heart_rate(self, device_id: str, uuid: str, samples: list[tuple[float, int]]) -> None:
        """Heart-rate samples of a session, (frame time, bpm), in one transaction: the sink
        hands them over a few seconds at a time, so a strap costs one commit per batch."""
        with self.transaction():
            session_id = self._bump(device_id, uuid)
            for t, bpm in samples:
                self.upsert("hr_samples", {"session_id": session_id, "t": t, "bpm": bpm}, ("session_id", "t"))

    def _bump(self, device_id: str, uuid: str) -> int:
        """The session's row id, its revision bumped (inside the caller's transaction)."""
        row = self._one(
            "UPDATE sessions SET rev = rev + 1 WHERE device_id = ? AND uuid = ? RETURNING id", (device_id, uuid)
        )
        if row is None:
            raise HistoryError(
                f"session {uuid} of {device_id} is not in {self.where} (deleted with its member?)",
                Reason.HISTORY_NOT_FOUND,
            )
        return int(row[0])

    def upsert(self, table: str, row: Mapping[str, Any], key: tuple[str, ...]) -> None:
        cols = list(row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key)
        self.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            tuple(row.values()),
        )

    def _upsert_rep(self, session_id: int, rep: Mapping[str, Any]) -> None:
        row = {k: rep.get(k) for k in REP_COLUMNS}
        row["faults"] = _json(rep.get("faults") or [])
        row["quality_deductions"] = None if rep.get("quality_deductions") is None else _json(rep["quality_deductions"])
        row["recorded_at"] = rep.get("recorded_at") or time.time()
        self.upsert("reps", {"session_id": session_id, **row}, ("session_id", "set_number", "number"))

    def _upsert_set(self, session_id: int, set_row: Mapping[str, Any]) -> None:
        row = {k: set_row.get(k) for k in SET_COLUMNS}
        self.upsert("sets", {"session_id": session_id, **row}, ("session_id", "number"))

    def _upsert_event(self, session_id: int, event: Mapping[str, Any]) -> None:
        row = {k: event.get(k) for k in EVENT_COLUMNS}
        row["details"] = _json(event.get("details") or {})
        row["recorded_at"] = event.get("recorded_at") or time.time()
        self.upsert("events", {"session_id": session_id, **row}, ("session_id", "seq"))

    def add_note(self, session_id: int, author: str, author_role: str, text: str) -> dict[str, Any]:
        """A trainer's note on a session (its row); the session's rev is bumped, so the note goes
        up with it to a chain's server. An empty or over-long note is a HISTORY_CONFLICT."""
        body = note_text(text)
        import uuid

        row = {"uuid": uuid.uuid4().hex, "author": author, "author_role": author_role, "text": body}
        with self.transaction():
            found = self._one("UPDATE sessions SET rev = rev + 1 WHERE id = ? RETURNING id", (session_id,))
            if found is None:
                raise HistoryError(f"no session {session_id} in {self.where}", Reason.HISTORY_NOT_FOUND)
            self.upsert("notes", {"session_id": session_id, **row, "written_at": time.time()}, ("session_id", "uuid"))
        return self._dicts("SELECT * FROM notes WHERE session_id = ? AND uuid = ?", (session_id, row["uuid"]))[0]

    def close_interrupted(self, device_id: str) -> int:
        """Sessions of this device still 'active' from a run that never ended them (a power
        cut, a SIGKILL): marked 'interrupted', ended at their last recorded rep or event."""
        with self.transaction():
            greatest = "MAX" if self.dialect == "sqlite" else "GREATEST"
            last = "(SELECT MAX(recorded_at) FROM {0} x WHERE x.session_id = sessions.id)"
            cur = self.execute(
                f"UPDATE sessions SET state = 'interrupted', rev = rev + 1, ended_at = {greatest}("
                f"COALESCE({last.format('reps')}, started_at), COALESCE({last.format('events')}, started_at)) "
                "WHERE device_id = ? AND state IN ('active', 'paused')",
                (device_id,),
            )
            return int(cur.rowcount or 0)

    def prune(self, older_than_at: float) -> int:
        """Delete sessions started before `older_than_at` (Unix time), with their rows."""
        with self.transaction():
            cur = self.execute("DELETE FROM sessions WHERE started_at < ?", (older_than_at,))
            return int(cur.rowcount or 0)

    # ------------------------------------------------------------------ reading (sync, export, tests)

    def sessions(self, device_id: str | None = None) -> list[dict[str, Any]]:
        if device_id is None:
            return self._dicts("SELECT * FROM sessions ORDER BY device_id, started_at")
        return self._dicts("SELECT * FROM sessions WHERE device_id = ? ORDER BY started_at", (device_id,))

    def session(self, session_id: int) -> dict[str, Any]:
        """One session by its row id (the dashboard's session page)."""
        rows = self._dicts("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise HistoryError(f"no session {session_id} in {self.where}", Reason.HISTORY_NOT_FOUND)
        return rows[0]

    def rows(self, table: str, session_id: int) -> list[dict[str, Any]]:
        if table not in ("sets", "reps", "events", "notes", "hr_samples"):
            raise ValueError(table)
        return self._dicts(f"SELECT * FROM {table} WHERE session_id = ? ORDER BY id", (session_id,))

    def count(self, table: str) -> int:
        row = self._one(f"SELECT COUNT(*) FROM {table}")
        return int(row[0]) if row else 0

    def iter_due(self) -> Iterator[dict[str, Any]]:
        """Sessions written since their last upload (rev > synced_rev)."""
        yield from self._dicts("SELECT * FROM sessions WHERE rev > synced_rev ORDER BY started_at")

    def mark_synced(self, session_id: int, rev: int) -> None:
        with self.transaction():
            self.execute("UPDATE sessions SET synced_rev = ? WHERE id = ? AND synced_rev < ?", (rev, session_id, rev))


REP_COLUMNS = (
    "set_number",
    "number",
    "exercise",
    "start_t",
    "bottom_t",
    "end_t",
    "depth",
    "down_s",
    "up_s",
    "faults",
    "quality_score",
    "quality_deductions",
    "event_id",
    "recorded_at",
)
SET_COLUMNS = (
    "number",
    "exercise",
    "reps",
    "good_reps",
    "mean_quality",
    "down_s",
    "up_s",
    "start_t",
    "end_t",
    "hr_mean_bpm",
    "hr_peak_bpm",
    "target_reps",
)
EVENT_COLUMNS = ("seq", "event_id", "t", "code", "kind", "exercise", "text", "details", "hr_zone", "recorded_at")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
