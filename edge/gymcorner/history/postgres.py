"""A gym chain's shared database: the same Store on PostgreSQL (psycopg 3).

Imported only when a `postgresql://` URL is used, so a box that never uploads never loads
psycopg. Several boxes may migrate the same server at once (a chain upgraded together): a
session-level advisory lock makes them take turns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.schema import LATEST
from gymcorner.history.store import Store

_MIGRATION_LOCK = 0x67796D63  # "gymc": one key for every gymcorner schema change


def redact(url: str) -> str:
    """The URL as it may be logged: without a password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresStore(Store):
    dialect = "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.conn.transaction():
                yield
        except Exception as err:
            ours = self.translate(err)
            if ours is None or isinstance(err, HistoryError):
                raise
            raise ours from err

    def translate(self, err: Exception) -> HistoryError | None:
        import psycopg

        if not isinstance(err, psycopg.Error):
            return None
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if isinstance(err, psycopg.errors.IntegrityError):
            return HistoryError(f"history database {self.where}: {text}", Reason.HISTORY_CONFLICT)
        if isinstance(err, psycopg.OperationalError):
            return HistoryError(f"history database {self.where} is unreachable: {text}")
        return HistoryError(f"history database {self.where}: {text}")

    def _has_migrations_table(self) -> bool:
        sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
        return self._one(sql, ("schema_migrations",)) is not None

    def migrate(self, target: int = LATEST) -> list[int]:
        self.execute("SELECT pg_advisory_lock(?)", (_MIGRATION_LOCK,))
        try:
            return super().migrate(target)
        finally:
            self.execute("SELECT pg_advisory_unlock(?)", (_MIGRATION_LOCK,))


def open_postgres(url: str, connect_timeout_s: float = 10.0, migrate: bool = True) -> PostgresStore:
    """Connect and migrate; HistoryError, one line, when psycopg is missing or the server is
    unreachable or refuses. The password comes from the URL, ~/.pgpass or $PGPASSWORD."""
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise HistoryError(
            "psycopg is not installed (pip install 'psycopg[binary]')", Reason.DEPENDENCY_MISSING
        ) from err
    where = redact(url)
    try:
        conn: Any = psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(connect_timeout_s)))
    except psycopg.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise HistoryError(f"history database {where} is unreachable: {first}") from err
    store = PostgresStore(conn, where)
    try:
        if migrate:
            store.migrate()
    except BaseException:
        conn.close()
        raise
    return store
