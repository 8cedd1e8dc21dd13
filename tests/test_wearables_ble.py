"""The bleak source at its boundary: a fake client with BleakClient's interface.

What this cannot show without a Bluetooth adapter: BlueZ/DBus behaviour, real scan
results, pairing, MTU and connection-parameter effects, and a real strap's timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from bleak.exc import BleakCharacteristicNotFoundError
from helpers import Collector
from mqtt_helpers import wait_until

from gymcorner.config.wearables import WearablesBleConfig, WearablesConfig
from gymcorner.wearables.ble_source import BleSource
from gymcorner.wearables.gatt import (
    BATTERY_LEVEL_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HeartRateMeasurement,
    encode_heart_rate_measurement,
)
from gymcorner.wearables.readings import HeartRateReading, StrapState
from gymcorner.wearables.service import WearablesService

A, B = "AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"


class FakeStrap:
    def __init__(self, address: str, battery: int = 80) -> None:
        self.address = address
        self.present = True
        self.battery = battery
        self.client: FakeClient | None = None
        self.subscribes = 0
        self.connects = 0


class FakeClient:
    """BleakClient's surface as BleSource uses it: connect, disconnect, start_notify,
    read_gatt_char, is_connected, and the disconnected_callback given at construction."""

    def __init__(self, world: FakeWorld, address: str, on_disconnect: Callable[[Any], None], timeout: float) -> None:
        self.world, self.address, self.on_disconnect = world, address, on_disconnect
        self.is_connected = False
        self.callback: Callable[[Any, bytearray], None] | None = None

    async def connect(self) -> None:
        strap = self.world.straps[self.address]
        if not strap.present:
            raise TimeoutError("device not found")  # what BleakClient raises when the strap is away
        strap.connects += 1
        strap.client = self
        self.is_connected = True

    async def disconnect(self) -> None:
        self.is_connected = False

    async def start_notify(self, uuid: str, callback: Callable[[Any, bytearray], None]) -> None:
        assert uuid == HEART_RATE_MEASUREMENT_UUID
        self.callback = callback
        self.world.straps[self.address].subscribes += 1

    async def read_gatt_char(self, uuid: str) -> bytearray:
        if uuid == BATTERY_LEVEL_UUID:
            return bytearray([self.world.straps[self.address].battery])
        if uuid == BODY_SENSOR_LOCATION_UUID:
            return bytearray([1])
        raise BleakCharacteristicNotFoundError(uuid)  # what BleakClient raises for a characteristic it lacks


class FakeWorld:
    def __init__(self, *addresses: str) -> None:
        self.straps = {a: FakeStrap(a) for a in addresses}
        self.source: BleSource | None = None

    def factory(self, address: str, on_disconnect: Callable[[Any], None], timeout: float) -> FakeClient:
        return FakeClient(self, address, on_disconnect, timeout)

    async def discover(self, timeout_s: float) -> list[tuple[str, str | None, int | None]]:
        return [(a, "FakeStrap", -50 - i) for i, (a, s) in enumerate(self.straps.items()) if s.present]

    def notify(self, address: str, bpm: int, rr: tuple[int, ...] = (800,)) -> None:
        client = self.straps[address].client
        assert client is not None and client.callback is not None and self.source is not None
        value = bytearray(encode_heart_rate_measurement(HeartRateMeasurement(bpm, True, None, rr)))
        self.source._loop.call_soon_threadsafe(client.callback, "0x2a37", value)

    def walk_away(self, address: str) -> None:
        strap = self.straps[address]
        strap.present = False
        client = strap.client
        if client is not None and client.is_connected:
            client.is_connected = False
            self.source._loop.call_soon_threadsafe(client.on_disconnect, client)


class StrapEvents(Collector):
    def of(self, kind: type, address: str) -> list[Any]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind) and e.address == address]


def test_fake_has_bleak_clients_interface() -> None:
    bleak = pytest.importorskip("bleak")
    for name in ("connect", "disconnect", "start_notify", "read_gatt_char", "is_connected"):
        assert hasattr(bleak.BleakClient, name)


def test_two_straps_reconnect_with_backoff_and_resubscribe() -> None:
    world = FakeWorld(A, B)
    sink = StrapEvents()
    cfg = WearablesBleConfig(addresses=[A, B], reconnect_min_delay_s=0.05, reconnect_max_delay_s=0.2)
    source = BleSource(cfg, sink, client_factory=world.factory, discover=world.discover)
    world.source = source
    source.start()
    try:
        wait_until(lambda: world.straps[A].subscribes == 1 and world.straps[B].subscribes == 1, what="both subscribed")
        connected = sink.of(StrapState, A)[0]
        assert connected.connected and connected.battery_pct == 80 and connected.location == "chest"
        world.notify(A, 120)
        world.notify(B, 95)
        wait_until(lambda: sink.of(HeartRateReading, A) and sink.of(HeartRateReading, B), what="readings")
        assert sink.of(HeartRateReading, A)[0].heart_rate_bpm == 120

        world.walk_away(A)
        wait_until(lambda: any(not s.connected for s in sink.of(StrapState, A)), what="A reported lost")
        wait_until(lambda: source.stats()["connect_failures"] >= 3, what="retries while A is away")
        assert world.straps[B].connects == 1  # B is not disturbed
        world.straps[A].present = True  # A comes back by itself
        wait_until(lambda: world.straps[A].subscribes == 2, what="A re-subscribed after reconnect")
        world.notify(A, 130)
        wait_until(lambda: [r.heart_rate_bpm for r in sink.of(HeartRateReading, A)] == [120, 130], what="A again")
        assert source.stats()["connects"] == 3 and source.stats()["disconnects"] == 1
    finally:
        source.stop()


def test_scan_finds_straps_up_to_max() -> None:
    world = FakeWorld(A, B)
    sink = StrapEvents()
    source = BleSource(WearablesBleConfig(max_straps=1), sink, client_factory=world.factory, discover=world.discover)
    world.source = source
    source.start()
    try:
        wait_until(lambda: world.straps[A].subscribes == 1, what="the strongest strap subscribed")
        time.sleep(0.2)
        assert world.straps[B].connects == 0 and source.stats()["scans"] >= 1
    finally:
        source.stop()


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def publish_json(self, subtopic: str, body: Any, qos: int = 0, retain: bool = False) -> None:
        self.sent.append((subtopic, dict(body)))


def test_service_marks_a_silent_strap_stale_after_3_s() -> None:
    world = FakeWorld(A)
    now = [100.0]
    publisher = FakePublisher()
    cfg = WearablesConfig(source="ble", ble=WearablesBleConfig(addresses=[A]))
    service = WearablesService(cfg, publisher, clock=lambda: now[0])
    source = BleSource(
        cfg.ble, service.on_event, clock=lambda: now[0], client_factory=world.factory, discover=world.discover
    )
    service.source = world.source = source
    service.start()
    try:
        wait_until(lambda: world.straps[A].subscribes == 1, what="subscribed")
        world.notify(A, 100)
        wait_until(lambda: any(b.get("bpm") == 100 for _, b in publisher.sent), what="reading published")
        first = next(
            i for i, (t, b) in enumerate(publisher.sent) if b.get("bpm") == 100 and t != "wearables/heart_rate"
        )
        assert publisher.sent[first][1]["stale"] is False  # (before the first reading it was stale: no data)
        now[0] += 2.9
        time.sleep(0.4)
        assert len(publisher.sent) == first + 2  # the strap's topic and heart_rate
        now[0] += 0.2  # 3.1 s without data
        wait_until(lambda: len(publisher.sent) == first + 4, what="stale published")
        (topic, body), (alias, same) = publisher.sent[-2:]
        assert topic == "wearables/aabbccddee01" and body["bpm"] == 100 and body["stale"] is True
        assert alias == "wearables/heart_rate" and same == body  # the primary strap
        assert service.snapshot()["straps"]["aabbccddee01"]["stale"] is True
    finally:
        service.stop()
