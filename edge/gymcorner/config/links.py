"""Where the output goes: MQTT, the TCP JSON-lines link, VMC, Home Assistant."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, SecretStr

from gymcorner.config.base import Section
from gymcorner.errors import ConfigError


class MqttConfig(Section):
    enabled: bool = Field(True, description="Publish to an MQTT broker.")
    own_process: bool = Field(
        True,
        description="Run the MQTT client in a process of its own (the daemon), so a flood of commands "
        "never holds the frame loop's interpreter lock; off: a thread of the daemon.",
    )
    host: str = Field("localhost", min_length=1, description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is the usual TLS port).")
    base_topic: str = Field("gymcorner", pattern=r"^[A-Za-z0-9_/-]+$", description="Topics are <base>/<device id>/...")
    client_id: str | None = Field(None, description="Defaults to gymcorner-<device id>.")
    keepalive_s: int = Field(
        30, ge=5, le=3600, description="MQTT keep-alive; the broker sends the last will after 1.5x."
    )
    tls: bool = Field(False, description="Connect with TLS (ca_file, or the system's CA store).")
    ca_file: Path | None = Field(None, strict=False, description="CA bundle for TLS (system store when unset).")
    username: str | None = Field(None, description="Broker user; unset: anonymous.")
    password: SecretStr | None = Field(None, description="Prefer password_file or password_env.")
    password_file: Path | None = Field(
        None, strict=False, description="File holding the password (systemd credential)."
    )
    password_env: str | None = Field("GYMCORNER_MQTT_PASSWORD", description="Environment variable with the password.")
    avatar_queue_frames: int = Field(8, ge=1, le=1000, description="Avatar frames buffered before the oldest drop.")
    feedback_queue_events: int = Field(10000, ge=10, le=1_000_000, description="Feedback kept while offline.")
    reconnect_min_delay_s: float = Field(1.0, gt=0, le=60, description="First wait before reconnecting.")
    reconnect_max_delay_s: float = Field(30.0, gt=0, le=3600, description="The wait doubles up to this.")
    _section: str = PrivateAttr("mqtt")  # where these settings live in the config, for messages

    @classmethod
    def under(cls, section: str, **values: Any) -> MqttConfig:
        """Broker settings kept under another section (`[dashboard.chain_mqtt]`, the chain's
        broker): the same client (`transport.paho_client.client_for`), and messages that name
        that section's keys."""
        config = cls(**values)
        config._section = section
        return config

    def key(self, name: str) -> str:
        """`name`'s path in the config, for messages: mqtt.NAME, or under the section it came from."""
        return f"{self._section}.{name}"

    def resolve_password(self) -> str | None:
        """Password from file, then environment, then inline; never logged."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                where = self.key("password_file")
                raise ConfigError(f"{where}: cannot read {self.password_file}: {err.strerror}") from err
        if self.password_env and os.environ.get(self.password_env):
            return os.environ[self.password_env]
        return self.password.get_secret_value() if self.password is not None else None


class TcpLinkConfig(Section):
    """The TCP JSON-lines link (a plain socket to Unity); see docs/protocol.md."""

    enabled: bool = Field(
        False,
        description="Serve the MQTT payloads as JSON lines on a TCP port. Off by default: the socket has "
        "no authentication or TLS, so opening it on a gym LAN is a deliberate choice.",
    )
    bind_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address to listen on. The default, loopback, serves apps on this host only. "
        "'0.0.0.0' (every interface) or a LAN address is an explicit choice: the link has no "
        "authentication or TLS, so anyone on that network can read every pose and event.",
    )
    port: int = Field(9870, ge=0, le=65535, description="TCP port (0: any free port, for tests).")
    max_clients: int = Field(8, ge=1, le=256, description="Connections beyond this are refused.")
    avatar_backlog_frames: int = Field(
        4, ge=1, le=1000, description="A client with this many avatar lines unsent skips new frames."
    )
    client_buffer_bytes: int = Field(
        262144, ge=4096, le=64 * 1024 * 1024, description="A client with this much unsent data is dropped."
    )
    drop_after_skipped_frames: int = Field(
        150, ge=1, le=100_000, description="A client that skipped this many avatar frames in a row is dropped."
    )


class VmcConfig(Section):
    """VMC (Virtual Motion Capture protocol, OSC over UDP) output of the avatar's bones."""

    enabled: bool = Field(False, description="Send bones to a VMC receiver (EVMC4U, VSeeFace...).")
    host: str = Field("127.0.0.1", min_length=1, description="Receiver address.")
    port: int = Field(39539, ge=1, le=65535, description="Receiver UDP port (39539 is VMC's default).")


class HomeAssistantConfig(Section):
    """Home Assistant MQTT discovery of the device's sensors."""

    enabled: bool = Field(False, description="Publish MQTT discovery configs (retained) on every connect.")
    discovery_prefix: str = Field(
        "homeassistant", pattern=r"^[A-Za-z0-9_/-]+$", description="Home Assistant's discovery prefix."
    )
    heart_rate_topic: str | None = Field(
        None,
        description="Topic of the heart-rate JSON (field 'bpm'); default <base>/<device>/wearables/heart_rate.",
    )


class LinksConfig(Section):
    """Links to host apps besides the MQTT topics: TCP JSON lines, VMC, Home Assistant."""

    tcp: TcpLinkConfig = Field(default_factory=TcpLinkConfig)
    vmc: VmcConfig = Field(default_factory=VmcConfig)
    homeassistant: HomeAssistantConfig = Field(default_factory=HomeAssistantConfig)
