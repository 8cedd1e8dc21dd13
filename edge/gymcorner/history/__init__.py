"""Members and workout history: one storage layer, SQLite on the box, PostgreSQL for a chain.

`open_history_sink` is what the daemon calls (through `transport/sinks.py`): it opens the
box's file, closes sessions a power cut left open, prunes old ones (and older replays'
landmarks) and starts the writer thread. A database that cannot be used (locked, corrupt, unwritable) never stops the
daemon: the sink is then `unavailable`, the log says why once and the status says it on
every publish. See docs/history.md.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from gymcorner.config import Config
from gymcorner.config.history import default_history_path
from gymcorner.errors import HistoryError
from gymcorner.history.landmarks import prune_landmarks
from gymcorner.history.sink import HistorySink
from gymcorner.history.sqlite import HistoryWriter, open_sqlite
from gymcorner.history.store import Store

_log = logging.getLogger(__name__)

DAY_S = 86400.0


def open_history_sink(config: Config) -> HistorySink:
    cfg = config.history
    path = default_history_path(cfg.path)
    device_id = config.device.id
    try:
        store = open_sqlite(path, cfg.lock_timeout_s)
    except HistoryError as err:
        _log.error("history unavailable, coaching without it: %s", err)
        return HistorySink(device_id, None, unavailable=str(err))
    try:
        interrupted = store.close_interrupted(device_id)
        pruned = store.prune(time.time() - cfg.retention_days * DAY_S) if cfg.retention_days else 0
        days = cfg.landmarks_retention_days
        replays = prune_landmarks(store, time.time() - days * DAY_S) if days else 0
    except HistoryError as err:
        store.close()
        _log.error("history unavailable, coaching without it: %s", err)
        return HistorySink(device_id, None, unavailable=str(err))
    _log.info(
        "history: %s (schema %d); interrupted sessions closed: %d; sessions older than %d days pruned: %d; "
        "landmark chunks older than %d days pruned: %d",
        path,
        store.schema_version(),
        interrupted,
        cfg.retention_days,
        pruned,
        days,
        replays,
    )
    writer = HistoryWriter(store, cfg.queue_writes)
    writer.start()
    sink = HistorySink(device_id, writer, landmarks_hz=cfg.landmarks_hz)
    if cfg.upload_url:  # imported only here: a box without a chain never loads psycopg
        from gymcorner.history.postgres import redact
        from gymcorner.history.uploader import Uploader

        sink.uploader = Uploader(path, cfg.upload_url, cfg.upload_every_s, device_id=device_id)
        sink.uploader.start()
        _log.info("history: uploading to %s every %g s", redact(cfg.upload_url), cfg.upload_every_s)
    return sink


def is_url(where: str | Path) -> bool:
    return str(where).startswith(("postgresql://", "postgres://"))


def open_store(where: str | Path, lock_timeout_s: float = 5.0) -> Store:
    """A SQLite file path or a postgresql:// URL, opened and migrated (commands, sync)."""
    if is_url(where):
        from gymcorner.history.postgres import open_postgres

        return open_postgres(str(where))
    return open_sqlite(Path(where), lock_timeout_s)


__all__ = ["HistorySink", "HistoryWriter", "Store", "is_url", "open_history_sink", "open_sqlite", "open_store"]
