"""Whether each box of a chain is up, as the chain's broker last heard (`[dashboard.chain_mqtt]`).

Two retained topics per box, both already there or one config line away:

* `<base>/<box>/status`: the daemon's own retained status, `online` while it runs and
  `offline` when it stops or its connection drops (its last will: "connection lost");
* `<base>/<box>/bridge`: when the box's broker bridges to the chain's, Mosquitto's own
  notification of that link (`notification_topic` in the bridge, docs/dashboard.md): `1`
  while connected, `0` (the bridge's last will, kept by the chain's broker) once the box's
  broker is gone, with the box switched off or its network down: the daemon's last status
  then cannot reach the chain, so this is what says the box is away.

`BoxWatch` keeps one subscription to both for the dashboard's life (paho's own thread,
reconnecting by itself) and pages read what it last saw: a page never waits on the broker.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from gymcorner.config import MqttConfig
from gymcorner.errors import ConfigError
from gymcorner.transport.paho_client import client_for


@dataclass(frozen=True)
class BoxStatus:
    """One box as last heard: `online`, `offline` or `unknown` (nothing heard, or no broker)."""

    state: str
    line: str


class BoxWatch:
    def __init__(self, mqtt: MqttConfig) -> None:
        self._mqtt = mqtt
        self._lock = threading.Lock()
        self._status: dict[str, dict[str, Any]] = {}  # box -> its daemon's last status JSON
        self._bridge: dict[str, bool] = {}  # box -> its broker's bridge up
        self._connected = False
        self._problem = ""
        self._client: paho.Client | None = None

    @property
    def broker(self) -> str:
        return f"{self._mqtt.host}:{self._mqtt.port}"

    def start(self) -> None:
        try:
            client = client_for(self._mqtt, f"gymcorner-dashboard-boxes-{secrets.token_hex(6)}")
        except ConfigError as err:
            self._problem = str(err)
            return
        base = self._mqtt.base_topic

        def on_connect(c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                with self._lock:
                    self._connected, self._problem = False, f"the broker refused: {reason}"
                return
            c.subscribe([(f"{base}/+/status", 1), (f"{base}/+/bridge", 1)])
            with self._lock:
                self._connected, self._problem = True, ""

        def on_disconnect(_c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            with self._lock:
                self._connected, self._problem = False, f"disconnected ({reason})"

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = lambda _c, _u, message: self.heard(message.topic, bytes(message.payload))
        client.reconnect_delay_set(1, 30)
        client.connect_async(self._mqtt.host, self._mqtt.port, keepalive=30)
        client.loop_start()
        self._client = client

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def heard(self, topic: str, payload: bytes) -> None:
        """One message on `<base>/<box>/status` or `<base>/<box>/bridge`; anything else is ignored."""
        parts = topic.split("/")
        if len(parts) < 3 or "/".join(parts[:-2]) != self._mqtt.base_topic:
            return
        box, kind = parts[-2], parts[-1]
        with self._lock:
            if kind == "bridge":
                self._bridge[box] = payload.strip() == b"1"
                return
            try:
                body = json.loads(payload) if payload else None
            except ValueError:
                return
            if isinstance(body, dict) and body.get("state") in ("online", "offline"):
                self._status[box] = body
            elif not payload:
                self._status.pop(box, None)  # a retained status cleared

    def of(self, box: str) -> BoxStatus:
        """What the page says of `box`."""
        with self._lock:
            connected, problem = self._connected, self._problem
            status, bridge = self._status.get(box), self._bridge.get(box)
        if not connected:
            why = problem or "not connected yet"
            return BoxStatus("unknown", f"status unknown: the chain's broker at {self.broker} is unreachable ({why})")
        if bridge is False:
            return BoxStatus("offline", "offline: the box's broker has lost its link to the chain's broker")
        if status is None:
            return BoxStatus("unknown", "no status heard: its daemon has not reached the chain's broker")
        if status["state"] == "online":
            detail = str(status.get("detail") or "").strip()
            return BoxStatus("online", "online" + (f": {detail}" if detail else ""))
        detail = str(status.get("detail") or "stopped").strip()
        return BoxStatus("offline", f"offline: {detail}")

