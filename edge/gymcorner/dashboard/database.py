"""Where the dashboard's pages read and write: the box's history file, or a chain's server.

Both are the same `Store` (history/store.py); what differs is how a request reaches it and
how the dashboard learns that something changed, so that a member's history, read once,
can be kept between requests (`Dashboard.member_view`):

* **the box's SQLite file** (`SqliteHistory`): each call opens the file in the calling
  worker thread and closes it. The version is `PRAGMA data_version` on one long-lived
  read-only connection: it changes whenever another connection commits (the daemon, the
  dashboard's own per-request connections, `gymcorner members`).
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
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store

T = TypeVar("T")
Version = int | str
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
    """Opens the history file once per call, in the calling (worker) thread."""

    path: Path
    lock_timeout_s: float
    on_box: bool = True
    _migrated: bool = False
    _probe: sqlite3.Connection | None = None  # for version() only, never written through
    _probe_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def where(self) -> str:
        return str(self.path)

    def run(self, work: Callable[[Store], T]) -> T:
        store = open_sqlite(self.path, self.lock_timeout_s, migrate=not self._migrated)
        self._migrated = True
        with closing(store):
            return work(store)

    def version(self) -> int | None:
        """`PRAGMA data_version` of the probe connection; None when it cannot be read.

        The file's stat would not do: with connections opened per request, the WAL file
        comes and goes with them."""
        with self._probe_lock:
            try:
                if self._probe is None:
                    uri = f"file:{urllib.parse.quote(str(self.path))}?mode=ro"
                    self._probe = sqlite3.connect(uri, uri=True, check_same_thread=False)
                return int(self._probe.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                self.close()
                return None

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
        self._probe = None


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
