"""Where the dashboard's pages read and write: the box's history file, or a chain's server.

Both are the same `Store` (history/store.py); what differs is how a request reaches it and
how the dashboard learns that something changed, so that a member's history, read once,
can be kept between requests (`Dashboard.member_view`):

* **the box's SQLite file** (`SqliteHistory`): a few pooled connections (`SqlitePool`),
  one thread each at a time; a connection is lent again only while the path still names
  the file it opened. The version is `PRAGMA data_version` on one long-lived
  read-only connection: it changes whenever another connection commits (the daemon, the
  dashboard's own pooled connections, `gymcorner members`).
* **a chain's PostgreSQL server** (`PostgresHistory`): a few pooled connections
  (`PostgresPool`), one thread each at a time. The version is the server's current
  snapshot, `pg_current_snapshot()` as text (xmin:xmax:running transactions): it changes
  when, and only when, a transaction that wrote something ends, whoever ran it (a box's
  upload, this dashboard, `gymcorner members --db postgresql://...`, psql). A read never
  changes it (read-only transactions take no transaction id). It is read before the data,
  so a commit between the two is seen at the next request, never missed: a commit that
  had not ended at the version's snapshot changes the next one. It counts every database
  of the server, so another database's writes only cost a read again, never a stale page.

`on_box` says whether the dashboard runs on a box's own file: replays (landmarks stay on
the box that recorded them) and "start session" (the box's own corner) exist only there.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from gymcorner.history.sqlite import SqlitePool
from gymcorner.history.store import Store

T = TypeVar("T")
Version = int | str
SQLITE_CONNECTIONS = 8  # a box dashboard's connections to its file (more pages wait for one)
PG_CONNECTIONS = 4  # a dashboard's connections to a chain's server (its pages run in 40 threads at most)


class History(Protocol):
    @property
    def where(self) -> str: ...  # for messages: the file, or the URL without its password

    @property
    def on_box(self) -> bool: ...

    def run(self, work: Callable[[Store], T]) -> T: ...

    def version(self) -> Version | None: ...

    def close(self) -> None: ...


@dataclass
class SqliteHistory:
    """The box's file through a few pooled connections (`SqlitePool`), lent to one worker
    thread at a time."""

    path: Path
    lock_timeout_s: float
    on_box: bool = True
    _pool: SqlitePool = field(init=False)
    _probe: sqlite3.Connection | None = None  # for version() only, never written through
    _probe_file: tuple[int, int] | None = None  # the file the probe opened (device, inode)
    _probe_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._pool = SqlitePool(self.path, self.lock_timeout_s, SQLITE_CONNECTIONS)

    @property
    def where(self) -> str:
        return str(self.path)

    def run(self, work: Callable[[Store], T]) -> T:
        return self._pool.run(work)

    def version(self) -> int | None:
        """`PRAGMA data_version` of the probe connection; None when it cannot be read.

        The file's times would not do (a checkpoint writes the file without a change of
        data). A file moved aside and made again is a new file: the probe opens it anew."""
        file = self._pool.file_id()
        with self._probe_lock:
            try:
                if self._probe is not None and file != self._probe_file:
                    self._close_probe()
                if self._probe is None:
                    uri = f"file:{urllib.parse.quote(str(self.path))}?mode=ro"
                    self._probe = sqlite3.connect(uri, uri=True, check_same_thread=False)
                    self._probe_file = file
                return int(self._probe.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                self._close_probe()
                return None

    def _close_probe(self) -> None:
        if self._probe is not None:
            self._probe.close()
        self._probe = None

    def close(self) -> None:
        self._pool.close()
        with self._probe_lock:
            self._close_probe()


class PostgresHistory:
    """A chain's server through a pool; connecting and migrating it happens here, at once, so
    a server that cannot be reached stops `gymcorner dashboard` at start with one line."""

    on_box = False

    def __init__(self, url: str, lock_timeout_s: float, connections: int = PG_CONNECTIONS) -> None:
        from gymcorner.history.postgres import PostgresPool, open_postgres

        connect_timeout_s = max(2.0, lock_timeout_s)  # libpq's shortest useful connect timeout is 2 s
        open_postgres(url, connect_timeout_s).close()  # HistoryError when unreachable; migrates
        self.pool = PostgresPool(url, connections, connect_timeout_s, lock_timeout_s)
        self.where = self.pool.where

    def run(self, work: Callable[[Store], T]) -> T:
        return self.pool.run(work)

    def version(self) -> str | None:
        from gymcorner.errors import HistoryError

        try:
            row = self.pool.run(lambda s: s.execute("SELECT pg_current_snapshot()::text").fetchone())
        except HistoryError:
            return None
        return str(row[0])

    def close(self) -> None:
        self.pool.close()


def open_history(where: Path | str, lock_timeout_s: float) -> History:
    """A postgresql:// URL (the chain's server) or the box's SQLite file."""
    from gymcorner.history import is_url

    if is_url(where):
        return PostgresHistory(str(where), lock_timeout_s)
    return SqliteHistory(Path(where), lock_timeout_s)
