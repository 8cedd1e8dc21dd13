"""Readings straight from BLE heart-rate straps with bleak, on an asyncio loop in its own thread.

One task per strap: connect, subscribe to 0x2A37, read battery and body location, then wait
for the disconnect; after it (or a failed connect) wait with exponential backoff and start
over, subscribing again on every new connection, so a strap that walks away comes back by
itself. With no configured addresses a scan task looks for the Heart Rate Service 0x180D
and starts a task per strap found, up to `max_straps`.

bleak is reached only through `client_factory` and `discover`, so tests drive this class
with a fake client of BleakClient's interface (connect, disconnect, start_notify,
read_gatt_char, is_connected, disconnected_callback); bleak itself is imported lazily.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gymcorner.config.wearables import WearablesBleConfig
from gymcorner.wearables.gatt import (
    BATTERY_LEVEL_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    GattError,
    parse_battery_level,
    parse_body_sensor_location,
    parse_heart_rate_measurement,
)
from gymcorner.wearables.readings import EventSink, HeartRateReading, StrapState, normalise_address

_log = logging.getLogger(__name__)

RESCAN_EVERY_S = 10.0
ClientFactory = Callable[[str, Callable[[Any], None], float], Any]
Discover = Callable[[float], Awaitable[list[tuple[str, str | None, int | None]]]]


def bleak_client_factory(address: str, on_disconnect: Callable[[Any], None], timeout_s: float) -> Any:
    from bleak import BleakClient

    return BleakClient(address, disconnected_callback=on_disconnect, timeout=timeout_s)


async def bleak_discover(timeout_s: float) -> list[tuple[str, str | None, int | None]]:
    """(address, name, rssi) of every device advertising the Heart Rate Service."""
    from bleak import BleakScanner

    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, service_uuids=[HEART_RATE_SERVICE_UUID])
    return [(dev.address, adv.local_name or dev.name, adv.rssi) for dev, adv in found.values()]


def link_errors() -> tuple[type[BaseException], ...]:
    """What a BLE link may raise: bleak's own errors (BlueZ's D-Bus ones among them), the
    operating system's, timeouts (asyncio's is its own class before Python 3.11) and a link
    that closed under the reader. Anything else is a bug and is not swallowed."""
    try:
        from bleak.exc import BleakError
    except ImportError:  # bleak is imported lazily; without it only the fallbacks can occur
        return (OSError, TimeoutError, asyncio.TimeoutError, EOFError)
    return (BleakError, OSError, TimeoutError, asyncio.TimeoutError, EOFError)


class BleSource:
    name = "ble"

    def __init__(
        self,
        config: WearablesBleConfig,
        sink: EventSink,
        clock: Callable[[], float] = time.monotonic,
        client_factory: ClientFactory = bleak_client_factory,
        discover: Discover = bleak_discover,
    ) -> None:
        self._config = config
        self._sink = sink
        self._clock = clock
        self._client_factory = client_factory
        self._discover = discover
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.connected: set[str] = set()
        self._counts = dict.fromkeys(
            ("connects", "connect_failures", "disconnects", "subscribes", "readings", "bad_payload", "scans"), 0
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._thread_main, name="gymcorner-wearables-ble", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def stats(self) -> dict[str, Any]:
        return {"connected_straps": sorted(self.connected), **self._counts}

    # ------------------------------------------------------------------ asyncio side

    def _thread_main(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._ready.set()
        for address in self._config.addresses[: self._config.max_straps]:
            self._start_strap(address)
        scanner = None if self._config.addresses else asyncio.ensure_future(self._scan_loop())
        await self._stopping.wait()
        for task in [*self._tasks.values(), *([scanner] if scanner else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks.values(), *([scanner] if scanner else []), return_exceptions=True)

    def _start_strap(self, address: str) -> None:
        address = normalise_address(address)
        if address not in self._tasks:
            self._tasks[address] = asyncio.ensure_future(self._strap_loop(address))

    async def _sleep_or_stop(self, delay_s: float) -> bool:
        """Wait `delay_s`; True when stop was asked meanwhile."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), delay_s)
        except asyncio.TimeoutError:
            return False
        return True

    async def _scan_loop(self) -> None:
        while True:
            if len(self._tasks) < self._config.max_straps:
                try:
                    found = await self._discover(self._config.scan_timeout_s)
                    self._counts["scans"] += 1
                except link_errors() as err:
                    _log.warning("BLE scan failed: %s", err)
                    found = []
                for address, name, rssi in sorted(found, key=lambda f: -(f[2] if f[2] is not None else -999)):
                    if len(self._tasks) >= self._config.max_straps:
                        break
                    if normalise_address(address) not in self._tasks:
                        _log.info("BLE strap found: %s %s (%s dBm)", address, name or "", rssi)
                        self._start_strap(address)
            if await self._sleep_or_stop(RESCAN_EVERY_S):
                return

    async def _strap_loop(self, address: str) -> None:
        cfg = self._config
        delay_s = cfg.reconnect_min_delay_s
        loop = asyncio.get_running_loop()
        while True:
            lost = asyncio.Event()
            client = self._client_factory(
                address, lambda _c, lost=lost: loop.call_soon_threadsafe(lost.set), cfg.connect_timeout_s
            )
            connected = False
            try:
                await asyncio.wait_for(client.connect(), cfg.connect_timeout_s + 1.0)
                connected = True
                self._counts["connects"] += 1
                await client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_measurement(address))
                self._counts["subscribes"] += 1
                battery, location = await self._read_info(client)
                self.connected.add(address)
                self._sink(StrapState(address, self._clock(), True, battery, location))
                _log.info("BLE strap %s connected (battery %s %%)", address, battery)
                delay_s = cfg.reconnect_min_delay_s
                await lost.wait()
            except asyncio.CancelledError:
                await self._disconnect(client)
                raise
            except Exception as err:
                self._counts["connect_failures"] += 1
                _log.debug("BLE strap %s: %s", address, err or type(err).__name__)
            if connected:
                self._counts["disconnects"] += 1
                self.connected.discard(address)
                self._sink(StrapState(address, self._clock(), False))
                _log.info("BLE strap %s lost; reconnecting with backoff", address)
                await self._disconnect(client)
            if await self._sleep_or_stop(delay_s):
                return
            delay_s = min(delay_s * 2, cfg.reconnect_max_delay_s)

    async def _read_info(self, client: Any) -> tuple[int | None, str | None]:
        battery = location = None
        try:
            battery = parse_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID))
        except (*link_errors(), GattError) as err:
            _log.debug("battery level not read: %s", err)
        try:
            loc = parse_body_sensor_location(await client.read_gatt_char(BODY_SENSOR_LOCATION_UUID))
            location = None if loc is None else loc.name.lower()
        except (*link_errors(), GattError) as err:
            _log.debug("body sensor location not read: %s", err)
        return battery, location

    async def _disconnect(self, client: Any) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), 2.0)
        except link_errors() as err:  # the link is going anyway
            _log.debug("BLE disconnect: %s", err or type(err).__name__)

    def _on_measurement(self, address: str) -> Callable[[Any, bytearray], None]:
        def handle(_char: Any, data: bytearray) -> None:
            try:
                m = parse_heart_rate_measurement(data)
            except GattError as err:
                self._counts["bad_payload"] += 1
                _log.debug("strap %s sent a bad measurement: %s", address, err)
                return
            self._counts["readings"] += 1
            self._sink(
                HeartRateReading(
                    address,
                    self._clock(),
                    m.heart_rate_bpm,
                    m.sensor_contact,
                    m.energy_expended_kj,
                    m.rr_intervals_ms,
                    None,
                    "ble",
                )
            )

        return handle
