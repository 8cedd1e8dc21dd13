"""Small helpers shared by several test modules (no fixtures with side effects here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Collector:
    """A thread-safe callable that keeps every event it is called with."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)


@contextmanager
def viewer_server() -> Iterator[str]:
    """The device's viewer HTTP server on a free loopback port; yields its base URL."""
    from gymcorner.transport.webviewer import make_server

    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
