"""A paho-mqtt 2.x client set up from `[mqtt]`: the one place credentials and TLS are applied.

The daemon's publisher, the dashboard's command link to a corner and `doctor`'s broker
check all connect with the same identity rules, so a broker that requires a password or
TLS is reached the same way by each, and a bad CA file is the same one-line error.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import paho.mqtt.client as paho

from gymcorner.config import MqttConfig
from gymcorner.errors import ConfigError


class QuietPahoLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Paho's own log lines, demoted to DEBUG.

    Paho 2.2 logs an ERROR on every failed reconnect attempt ("Client is not connected"),
    which would flood the journal during an outage; we log one line per outage ourselves.
    Only exceptions raised inside our callbacks keep their ERROR level."""

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if level >= logging.ERROR and str(msg).startswith("Caught exception"):
            self.logger.log(level, msg, *args, **kwargs)
        elif self.logger.isEnabledFor(logging.DEBUG):
            self.logger.debug(msg, *args, **kwargs)


def client_for(config: MqttConfig, client_id: str) -> paho.Client:
    """An unconnected MQTT 3.1.1 clean-session client with `config`'s credentials and TLS.

    ConfigError for a host name paho cannot encode (its network thread would die on it
    instead of retrying) or CA certificates that cannot be loaded."""
    try:
        config.host.encode("idna")
    except UnicodeError as err:
        raise ConfigError(f"{config.key('host')} = {config.host!r}: not a valid host name") from err
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=True,
        protocol=paho.MQTTv311,
    )
    password = config.resolve_password()  # handed to paho only; never stored or logged here
    if config.username is not None or password is not None:
        client.username_pw_set(config.username or "", password)
    if config.tls:
        try:
            client.tls_set(ca_certs=str(config.ca_file) if config.ca_file is not None else None)
        except (OSError, ssl.SSLError, ValueError) as err:
            raise ConfigError(
                f"{config.key('ca_file')}: cannot load TLS CA certificates from {config.ca_file}: {err}"
            ) from err
    return client
