"""The dashboard served by the box (`gymcorner dashboard`); see docs/dashboard.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from gymcorner.config.base import Section


class DashboardConfig(Section):
    """The web dashboard: members, their history and plans, behind a login."""

    host: str = Field(
        "127.0.0.1",
        description=(
            "Address to listen on. The default serves this box only; 0.0.0.0 (or the box's LAN address) "
            "serves the gym's network, ideally with tls_cert and tls_key set."
        ),
    )
    port: int = Field(8090, ge=1, le=65535, description="TCP port of the dashboard.")
    tls_cert: Path | None = Field(
        None, strict=False, description="PEM certificate: serve HTTPS (cookies then carry Secure)."
    )
    tls_key: Path | None = Field(None, strict=False, description="PEM private key for tls_cert.")
    secure_cookies: bool = Field(
        False,
        description=(
            "Mark cookies Secure even when served over plain HTTP (set it behind a TLS reverse proxy). "
            "With tls_cert they are Secure anyway."
        ),
    )
    session_idle_min: float = Field(
        30.0, gt=0, le=1440, description="A login ends after this many minutes without a request."
    )
    session_max_h: float = Field(
        12.0, gt=0, le=168, description="A login ends this many hours after it began, used or not."
    )
    login_failures_per_min: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed logins allowed per minute for one user name and for one client; beyond: 429.",
    )
    database: str | None = Field(
        None,
        description=(
            "A chain's PostgreSQL server (postgresql://user@host/db) to serve instead of this box's history file: "
            "the members and sessions every box uploaded, each session labelled with its box. Unset: the box's "
            "file ([history] path). The password comes from ~/.pgpass or $PGPASSWORD, never from here."
        ),
    )
    lock_timeout_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description=(
            "How long a page waits for the history file the daemon is writing; on a chain's server, for another "
            "session's lock, and (2 s at least) for a connection."
        ),
    )
    command_timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description=(
            "How long \"start session for this member\" waits for the corner's reply on MQTT "
            "(the broker is [mqtt], the corner [device] id) before it says none came."
        ),
    )
    viewer_url: str = Field(
        "http://127.0.0.1:8080/",
        description="The live avatar viewer (`gymcorner viewer`) that the dashboard's live view links to.",
    )

    @field_validator("database")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (the box's own file is [history] path)")
        return value
