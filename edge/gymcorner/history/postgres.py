"""A gym chain's shared database: the same Store on PostgreSQL (psycopg 3).

Imported only when a `postgresql://` URL is used, so a box that never uploads never loads
psycopg. Several boxes may migrate the same server at once (a chain upgraded together): a
session-level advisory lock makes them take turns.

`PostgresPool` is for a process of many threads (the chain's dashboard): a few connections
kept open and lent to one thread at a time, so a page does not pay a connection's set-up
(a server process forked, authentication) on every request. A connection the server closed
(a restart) is noticed before it is lent and replaced, so the first page after an outage works.
"""

from __future__ import annotations

import re
import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.pool import Pool
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
        text = first_line(err)
        if isinstance(err, psycopg.errors.IntegrityError):
            return HistoryError(f"history database {self.where}: {text}", Reason.HISTORY_CONFLICT)
        if isinstance(err, psycopg.errors.LockNotAvailable):  # past the connection's lock_timeout
            return HistoryError(f"history database {self.where} is locked by another session ({text})")
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


def first_line(err: Exception) -> str:
    """libpq's messages run over several lines (a hint, each address tried): the first says it."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def connect(url: str, connect_timeout_s: float = 10.0, lock_timeout_s: float | None = None) -> Any:
    """A psycopg connection in autocommit mode (`Store.transaction` says where transactions
    are); HistoryError, one line, when psycopg is missing or the server is unreachable or
    refuses. The password comes from the URL, ~/.pgpass or $PGPASSWORD.

    `lock_timeout_s`: a statement waiting longer for another session's lock fails (the
    dashboard's pages wait no longer than for the box's file). TCP keepalives and a TCP user
    timeout make a server that vanished from the network an error within seconds rather
    than a request that hangs until the kernel gives up (minutes)."""
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise HistoryError(
            "psycopg is not installed (pip install 'psycopg[binary]')", Reason.DEPENDENCY_MISSING
        ) from err
    options: dict[str, Any] = {
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 15_000,  # ms: sent data unacknowledged this long ends the connection
    }
    if lock_timeout_s is not None:
        options["options"] = f"-c lock_timeout={max(1, round(lock_timeout_s * 1000))}"
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(connect_timeout_s)), **options)
    except psycopg.Error as err:
        raise HistoryError(f"history database {redact(url)} is unreachable: {first_line(err)}") from err


def open_postgres(url: str, connect_timeout_s: float = 10.0, migrate: bool = True) -> PostgresStore:
    """Connect (`connect`) and migrate; HistoryError, one line, when that cannot be done."""
    conn = connect(url, connect_timeout_s)
    store = PostgresStore(conn, redact(url))
    try:
        if migrate:
            store.migrate()
    except BaseException:
        conn.close()
        raise
    return store


class PostgresPool(Pool[PostgresStore]):
    """At most `size` connections to a server (history/pool.py).

    A connection goes back to the pool only in a clean state (open, not broken, no
    transaction left open); one the server has written to while it sat idle (the notice of
    a shutdown, or the end of the stream) is closed instead of lent: libpq would only find
    out at the next query, which would then fail although the server is back."""

    def __init__(self, url: str, size: int = 4, connect_timeout_s: float = 10.0, lock_timeout_s: float = 5.0) -> None:
        super().__init__(size)
        self.url = url
        self.where = redact(url)
        self.connect_timeout_s = connect_timeout_s
        self.lock_timeout_s = lock_timeout_s

    def open(self) -> PostgresStore:
        return PostgresStore(connect(self.url, self.connect_timeout_s, self.lock_timeout_s), self.where)

    def usable(self, store: PostgresStore) -> bool:
        return _usable(store.conn)

    def clean(self, store: PostgresStore) -> bool:
        import psycopg

        conn = store.conn
        return not conn.closed and not conn.broken and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def _usable(conn: Any) -> bool:
    """Open and quiet: an idle connection has nothing to read unless the server closed it."""
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
