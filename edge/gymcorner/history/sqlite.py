"""The box's own database: one SQLite file in WAL mode, and the one thread that writes it.

Why WAL and `synchronous=FULL`: a power cut may come at any moment. WAL lets the dashboard
and `gymcorner members` read while the daemon writes; FULL makes each commit reach the
disk before it returns (NORMAL would survive a crashed process but could lose the last
commits to a power cut). Each rep is its own transaction, so a rep the daemon published
is a rep on disk within one fsync; what that costs is measured by `tools/history_bench.py`.

Why a writer thread: a commit waits for the disk (milliseconds on an SD card, more when
the card is busy), and the frame loop never waits. The daemon hands writes to
`HistoryWriter.submit`, which only appends to a bounded queue; when the queue is full the
write is dropped, counted and logged (once per burst), never blocking.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.pool import Pool
from gymcorner.history.store import Store

_log = logging.getLogger(__name__)


class SqliteStore(Store):
    dialect = "sqlite"
    file_id: tuple[int, int] | None = None  # (device, inode) of the file when opened by a SqlitePool

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.conn.in_transaction:  # nested: the outer transaction commits
            yield
            return
        self.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.execute("COMMIT")

    def translate(self, err: Exception) -> HistoryError | None:
        if not isinstance(err, sqlite3.Error):
            return None
        return sqlite_error(err, self.where)


def sqlite_error(err: sqlite3.Error, where: str) -> HistoryError:
    text = str(err)
    if isinstance(err, sqlite3.IntegrityError):
        return HistoryError(f"history database {where}: {text}", Reason.HISTORY_CONFLICT)
    if "locked" in text or "busy" in text:
        return HistoryError(f"history database {where} is locked by another process ({text})")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return HistoryError(
            f"history database {where} is corrupt ({text}); move it aside and a new one is made at the next start"
        )
    if "full" in text:
        return HistoryError(f"history database {where}: the disk is full ({text})")
    return HistoryError(f"history database {where}: {text}")


def open_sqlite(path: Path, lock_timeout_s: float = 5.0, migrate: bool = True) -> SqliteStore:
    """Open (creating it and its folder when absent) and migrate the file; HistoryError, one
    line, when it is locked, corrupt or cannot be created."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HistoryError(f"cannot create the history folder {path.parent}: {err.strerror}") from err
    try:
        # isolation_level=None: no implicit transactions, Store.transaction() says where they are.
        # check_same_thread=False: opened here, then used by the writer thread alone.
        conn = sqlite3.connect(str(path), timeout=lock_timeout_s, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as err:
        raise sqlite_error(err, str(path)) from err
    store = SqliteStore(conn, str(path))
    try:
        store.execute("PRAGMA foreign_keys = ON")
        mode = store.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise HistoryError(f"history database {path}: WAL mode refused (journal_mode is {mode})")
        store.execute("PRAGMA synchronous = FULL")
        if migrate:
            store.migrate()
    except BaseException:
        conn.close()
        raise
    return store


class SqlitePool(Pool[SqliteStore]):
    """Open connections to one history file (history/pool.py), for the dashboard's pages.

    A connection is lent again only while the path still names the file it opened: a file
    moved aside or removed (after corruption, say) is opened anew, created and migrated as
    at start. One that left a transaction open is closed, not kept. The first connection
    migrates the file; the others only open it."""

    def __init__(self, path: Path, lock_timeout_s: float = 5.0, size: int = 8) -> None:
        super().__init__(size)
        self.path = path
        self.lock_timeout_s = lock_timeout_s
        self._migrated = False

    def open(self) -> SqliteStore:
        store = open_sqlite(self.path, self.lock_timeout_s, migrate=not self._migrated)
        self._migrated = True
        store.file_id = self.file_id()
        return store

    def usable(self, store: SqliteStore) -> bool:
        return store.file_id is not None and store.file_id == self.file_id()

    def clean(self, store: SqliteStore) -> bool:
        try:
            return not store.conn.in_transaction
        except sqlite3.Error:  # closed by the work it was lent to
            return False

    def file_id(self) -> tuple[int, int] | None:
        """(device, inode) of the file the path names now; None when there is none."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)


Write = Callable[[Store], None]


class HistoryWriter:
    """The one thread that writes the store; `submit` never blocks.

    `stats()` says what happened: writes done, dropped because the queue was full, failed
    (a failure is logged with its one line unless the write before failed the same way; the
    last error stands in the status until a write succeeds again)."""

    def __init__(self, store: Store, queue_size: int = 1024) -> None:
        self.store = store
        self._queue: queue.Queue[Write | None] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # submitted, not yet done (queued or being written)
        self._counts = {"written": 0, "dropped": 0, "failed": 0}
        self._last_error: str | None = None
        self._dropping = False
        self._closed = False

    def start(self) -> None:
        self._thread.start()

    def submit(self, write: Write) -> bool:
        """Queue one write; False (counted, logged once per burst: until the queue has drained)
        when the queue is full or closed."""
        with self._lock:
            if self._closed:
                return False
            try:
                self._queue.put_nowait(write)
            except queue.Full:
                self._counts["dropped"] += 1
                if not self._dropping:
                    self._dropping = True
                    _log.warning("history: write queue full (%d); dropping writes until it drains", self._queue.maxsize)
                return False
            self._pending += 1
            return True

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """True once every write submitted so far is done (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout_s)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, "queued": self._pending, "last_error": self._last_error}

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (up to `timeout_s`), then stop the thread and close the file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._thread.is_alive():
            self._queue.put(None)  # the thread drains the queue, so room appears
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                _log.warning("history: writer still busy after %.1f s; %d writes not done", timeout_s, self._pending)
                return
        self.store.close()

    def _run(self) -> None:
        while True:
            write = self._queue.get()
            if write is None:
                return
            try:
                write(self.store)
            except HistoryError as err:
                self._failed(str(err))
            except Exception as err:  # a bug in one write must not stop history for good
                _log.exception("history: a write failed")
                self._failed(f"{type(err).__name__}: {err}")
            else:
                with self._lock:
                    self._counts["written"] += 1
                    self._last_error = None  # writing again: the status says "recording"
            finally:
                with self._idle:
                    self._pending -= 1
                    drained = self._pending == 0 and self._dropping
                    if drained:  # the burst is over: the next overflow is logged again
                        self._dropping = False
                    self._idle.notify_all()
                if drained:
                    _log.warning("history: write queue drained; %d writes dropped so far", self._counts["dropped"])

    def _failed(self, message: str) -> None:
        with self._lock:
            self._counts["failed"] += 1
            repeated = message == self._last_error
            self._last_error = message
        if not repeated:
            _log.error("history: %s", message)
