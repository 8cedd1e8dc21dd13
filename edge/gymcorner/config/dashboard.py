"""The dashboard served by the box (`gymcorner dashboard`); see docs/dashboard.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from gymcorner.config.base import Section
from gymcorner.config.links import MqttConfig

CHAIN_MQTT = "dashboard.chain_mqtt"


class ChainMqttConfig(Section):
    """The chain's broker, through which a chain's dashboard starts sessions on its boxes.

    Only a dashboard on a chain's server ([dashboard] database) uses it; a box's dashboard
    reaches its own device through [mqtt]. Each box's daemon must be on this broker, directly
    or through a bridge that carries <base>/<device id>/cmd to the box and cmd/reply back."""

    enabled: bool = Field(
        False,
        title="Start sessions on the boxes",
        description="Offer \"start session\" on a chain's dashboard, on a box of the chain chosen on the member's "
        "page, through this broker. Off: the page says sessions start on the box's own dashboard.",
    )
    host: str = Field(
        "localhost", min_length=1, title="Broker host", description="The chain's broker: host name or address."
    )
    port: int = Field(1883, ge=1, le=65535, title="Broker port", description="Its port (8883 is the usual TLS port).")
    base_topic: str = Field(
        "gymcorner",
        pattern=r"^[A-Za-z0-9_/-]+$",
        title="Base topic",
        description="The boxes' [mqtt] base_topic as this broker sees them: a box is <base>/<device id>/cmd.",
    )
    tls: bool = Field(False, title="TLS", description="Connect with TLS (ca_file, or the system's CA store).")
    ca_file: Path | None = Field(
        None, strict=False, title="CA bundle", description="CA bundle for TLS (the system store when unset)."
    )
    username: str | None = Field(
        None, title="User", description="The dashboard's user on the broker; unset: anonymous."
    )
    password: SecretStr | None = Field(None, title="Password", description="Prefer password_file or password_env.")
    password_file: Path | None = Field(
        None, strict=False, title="Password file", description="File holding the password (readable by the dashboard)."
    )
    password_env: str | None = Field(
        "GYMCORNER_CHAIN_MQTT_PASSWORD",
        title="Password variable",
        description="Environment variable with the password.",
    )

    def as_mqtt(self) -> MqttConfig:
        """These settings as the MQTT client reads them; its messages name [dashboard.chain_mqtt]'s keys."""
        return MqttConfig.under(CHAIN_MQTT, **self.model_dump(exclude={"enabled"}))


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
            "How long \"start session for this member\" waits for the box's reply on MQTT (on a box: the broker "
            "is [mqtt], the box [device] id; on a chain's server: [dashboard.chain_mqtt], the box chosen) before it "
            "says none came."
        ),
    )
    viewer_url: str = Field(
        "http://127.0.0.1:8080/",
        description="The live avatar viewer (`gymcorner viewer`) that the dashboard's live view links to.",
    )
    chain_mqtt: ChainMqttConfig = Field(default_factory=ChainMqttConfig)

    @field_validator("database")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (the box's own file is [history] path)")
        return value
