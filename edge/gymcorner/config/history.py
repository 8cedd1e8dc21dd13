"""Members and workout history: the box's SQLite file and an optional chain server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import Field, field_validator

from gymcorner.config.base import Section

DATA_DIR_ENV = "GYMCORNER_DATA_DIR"
HISTORY_FILE = "history.sqlite3"


class HistoryConfig(Section):
    """Members and workout history, kept on the box (SQLite); see docs/history.md."""

    enabled: bool = Field(
        True, description="Record every session, set, rep and coaching event in the history database."
    )
    path: Path | None = Field(
        None,
        strict=False,
        description=(
            "The SQLite file. Unset: history.sqlite3 in $STATE_DIRECTORY (systemd's /var/lib/gymcorner), "
            "else $GYMCORNER_DATA_DIR, else data/ beside the virtual environment."
        ),
    )
    retention_days: int = Field(
        365, ge=0, le=36500, description="Sessions older than this are deleted at start-up; 0 keeps everything."
    )
    landmarks_hz: float = Field(
        10.0,
        ge=0,
        le=30,
        description=(
            "Keep the person's landmarks this many times a second while a session runs, for its replay as the "
            "avatar on the dashboard (127 KiB of landmarks a minute at 10, about 144 KiB in the file; never an "
            "image); 0 keeps none."
        ),
    )
    landmarks_retention_days: int = Field(
        30,
        ge=0,
        le=36500,
        description=(
            "A session's landmarks are deleted at start-up once it is older than this (the session and its "
            "reps stay until retention_days); 0 keeps them as long as the session."
        ),
    )
    upload_url: str | None = Field(
        None,
        description=(
            "A chain's PostgreSQL server (postgresql://user@host/db) that the daemon (every upload_every_s) "
            "and `gymcorner history sync` upload this box's sessions to; the password comes from "
            "~/.pgpass or $PGPASSWORD, never from here."
        ),
    )
    upload_every_s: float = Field(
        60.0,
        ge=0.1,
        le=86400,
        description="With upload_url: how often the daemon uploads what is new (off the frame path).",
    )
    queue_writes: int = Field(
        1024,
        ge=16,
        le=1_000_000,
        description="Writes waiting for the writer thread; beyond it they are dropped and counted.",
    )
    lock_timeout_s: float = Field(
        5.0, gt=0, le=120, description="How long to wait for a database another process holds locked."
    )

    @field_validator("upload_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value


def default_history_path(configured: Path | None) -> Path:
    """`history.path`, else the service's state folder, else $GYMCORNER_DATA_DIR, else data/
    beside the virtual environment (the checkout's data/), else the user's data folder."""
    if configured is not None:
        return Path(configured)
    for env in ("STATE_DIRECTORY", DATA_DIR_ENV):
        if os.environ.get(env):
            return Path(os.environ[env].split(":")[0]) / HISTORY_FILE
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix).resolve().parent / "data" / HISTORY_FILE
    return Path.home() / ".local" / "share" / "gymcorner" / HISTORY_FILE
