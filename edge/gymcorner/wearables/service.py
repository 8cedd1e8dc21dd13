"""Wires a wearable source to the session state and to MQTT, off the frame loop.

`source = "ble" | "serial" | "none"` picks the source from `SOURCES` (a registry, not an
if-chain). Every event from the source's thread updates `WearableState` and, for a strap,
publishes its JSON on `<base>/<device>/wearables/<sensor>` (QoS 0: the next reading
replaces a lost one). A small watchdog thread publishes a strap once more when it goes
stale (no data for `stale_after_s`). The frame loop only calls `snapshot()`, `heart_rate()`,
`fresh_heart_rates()` and `zone_changes()`, none of which waits on a strap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from gymcorner.config.wearables import WearablesConfig
from gymcorner.wearables.readings import EventSink, WearableEvent, sensor_id
from gymcorner.wearables.state import WearableState, ZoneChange

_log = logging.getLogger(__name__)

STALE_CHECK_EVERY_S = 0.25
PRIMARY_SUBTOPIC = "wearables/heart_rate"


class WearableSource(Protocol):
    name: str

    def start(self) -> None: ...
    def stop(self, timeout_s: float = ...) -> None: ...
    def stats(self) -> dict[str, Any]: ...


class JsonPublisher(Protocol):
    def publish_json(self, subtopic: str, body: Any, qos: int = ..., retain: bool = ...) -> None: ...


def _ble(config: WearablesConfig, sink: EventSink, clock: Callable[[], float]) -> WearableSource:
    from gymcorner.wearables.ble_source import BleSource

    return BleSource(config.ble, sink, clock)


def _serial(config: WearablesConfig, sink: EventSink, clock: Callable[[], float]) -> WearableSource:
    from gymcorner.wearables.serial_source import SerialRelaySource

    return SerialRelaySource(config.serial, sink, clock)


SOURCES: dict[str, Callable[[WearablesConfig, EventSink, Callable[[], float]], WearableSource]] = {
    "ble": _ble,
    "serial": _serial,
}


class WearablesService:
    def __init__(
        self,
        config: WearablesConfig,
        publisher: JsonPublisher | None = None,
        clock: Callable[[], float] = time.monotonic,
        source: WearableSource | None = None,
    ) -> None:
        self.config = config
        self.state = WearableState(config)
        self._publisher = publisher
        self._clock = clock
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.published = 0
        self._primary_sensor: str | None = None
        if source is None and config.source != "none":
            source = SOURCES[config.source](config, self.on_event, clock)
        self.source = source

    def start(self) -> None:
        if self.source is None:
            return
        self.source.start()
        self._watchdog = threading.Thread(target=self._watch_stale, name="gymcorner-wearables-stale", daemon=True)
        self._watchdog.start()
        _log.info("wearables: %s source started", self.source.name)

    def stop(self) -> None:
        self._stop.set()
        if self.source is not None:
            self.source.stop()
        if self._watchdog is not None:
            self._watchdog.join(2.0)

    def on_event(self, event: WearableEvent) -> None:
        """The sources' sink: never blocks (the publisher only queues)."""
        sensor = self.state.apply(event)
        if sensor is not None:
            self._publish(sensor)

    def _primary(self, sensor: str) -> bool:
        """The strap also shown on `wearables/heart_rate` (the one-number views: browser, Home
        Assistant): the first strap mapped in config, else the first strap heard from."""
        if self._primary_sensor is None:
            mapped = [sensor_id(a) for a in self.config.straps]
            self._primary_sensor = mapped[0] if mapped else sensor
        return sensor == self._primary_sensor

    def _publish(self, sensor: str) -> None:
        if self._publisher is None:
            return
        try:
            body = self.state.payload(sensor, self._clock())
            self._publisher.publish_json(f"wearables/{sensor}", body)
            if self._primary(sensor):
                self._publisher.publish_json(PRIMARY_SUBTOPIC, body)
            self.published += 1
        except Exception:  # a reader thread's boundary: the next reading publishes again; logged with its trace
            _log.exception("wearables: publishing %s failed", sensor)

    def _watch_stale(self) -> None:
        while not self._stop.wait(STALE_CHECK_EVERY_S):
            for sensor in self.state.newly_stale(self._clock()):
                _log.info("wearables: %s stale (no data for %g s)", sensor, self.config.stale_after_s)
                self._publish(sensor)

    def heart_rate(self) -> int | None:
        """The freshest heart rate of any strap (None when none is fresh): the frame loop's."""
        return self.state.heart_rate(self._clock())

    def fresh_heart_rates(self) -> dict[str, int]:
        """Each fresh strap's heart rate by sensor id: what the history samples once a second."""
        return self.state.fresh_heart_rates(self._clock())

    def zone_changes(self) -> list[ZoneChange]:
        """Zone changes since the last call: the frame loop turns them into `hr_zone` events."""
        return self.state.take_zone_changes()

    def snapshot(self) -> dict[str, Any]:
        """Per strap: bpm, zone, rmssd, stale, session totals; plus the source's counters."""
        body: dict[str, Any] = {"source": self.config.source, "straps": self.state.snapshot(self._clock())}
        if self.source is not None:
            body["link"] = self.source.stats()
        return body
