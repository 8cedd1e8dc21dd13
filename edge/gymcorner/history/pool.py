"""A few open connections to the history, each lent to one thread at a time.

The dashboard's pages run in worker threads; opening the database for each of them costs
more than the page's query (for the box's SQLite file, switching the new connection to WAL
and closing it again are most of a members list's 1.5 ms of CPU). A pool keeps up to `size`
connections: `run(work)` lends an idle one (or opens one), and takes it back only in a clean
state; the backend says what clean and still usable mean.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from gymcorner.history.store import Store

S = TypeVar("S", bound=Store)
T = TypeVar("T")


class Pool(Generic[S]):
    """At most `size` connections, each lent to one thread at a time (`run`); more threads wait."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[S] = []
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ backend hooks

    def open(self) -> S:
        raise NotImplementedError

    def usable(self, store: S) -> bool:
        """May an idle connection be lent again (checked when it is taken)?"""
        raise NotImplementedError

    def clean(self, store: S) -> bool:
        """May a connection that was lent go back to the pool (no transaction left open)?"""
        raise NotImplementedError

    # ------------------------------------------------------------------ lending

    def run(self, work: Callable[[S], T]) -> T:
        with self._slots:
            store = self._take() or self.open()
            try:
                return work(store)
            finally:
                self._give_back(store)

    def _take(self) -> S | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                store = self._idle.pop()
            if self.usable(store):
                return store
            store.close()

    def _give_back(self, store: S) -> None:
        clean = self.clean(store)
        with self._lock:
            if clean and not self._closed:
                self._idle.append(store)
                return
        store.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for store in idle:
            store.close()
