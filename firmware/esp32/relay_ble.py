# The relay's BLE layer on the board: aioble as central (scan, connect, subscribe to 0x2A37).
# Implements the interface relay_core expects; the tests replace it with a simulation.

import asyncio

import aioble
import bluetooth
from micropython import const

_HRS = bluetooth.UUID(const(0x180D))
_HRM = bluetooth.UUID(const(0x2A37))
_BSL = bluetooth.UUID(const(0x2A38))
_BAS = bluetooth.UUID(const(0x180F))
_BAT = bluetooth.UUID(const(0x2A19))
_SCAN_INTERVAL_US = const(30000)
_SCAN_WINDOW_US = const(30000)
_UNKNOWN = const(0xFF)


class Connection:
    def __init__(self, connection, measurement):
        self._connection = connection
        self._measurement = measurement

    async def notified(self, timeout_ms):
        try:
            return await self._measurement.notified(timeout_ms=timeout_ms)
        except asyncio.TimeoutError:
            return None
        except aioble.DeviceDisconnectedError:
            return None

    def is_connected(self):
        return self._connection.is_connected()

    async def read_u8(self, which, timeout_ms):
        service_uuid, char_uuid = (_BAS, _BAT) if which == 1 else (_HRS, _BSL)
        try:
            service = await self._connection.service(service_uuid, timeout_ms=timeout_ms)
            if service is None:
                return _UNKNOWN
            char = await service.characteristic(char_uuid, timeout_ms=timeout_ms)
            if char is None:
                return _UNKNOWN
            value = await char.read(timeout_ms=timeout_ms)
            return value[0] if value else _UNKNOWN
        except Exception:
            return _UNKNOWN

    async def disconnect(self):
        await self._connection.disconnect(timeout_ms=2000)


class AiobleLayer:
    async def scan(self, duration_ms):
        found = {}
        async with aioble.scan(duration_ms, interval_us=_SCAN_INTERVAL_US, window_us=_SCAN_WINDOW_US, active=True) as scanner:
            async for result in scanner:
                addr = bytes(result.device.addr)
                has_hrs = _HRS in result.services()
                name = (result.name() or "").encode()
                found[addr] = (result.device.addr_type, addr, result.rssi, has_hrs, name)
        return list(found.values())

    async def connect(self, addr_type, addr, timeout_ms):
        device = aioble.Device(addr_type, addr)
        connection = await device.connect(timeout_ms=timeout_ms)
        try:
            service = await connection.service(_HRS, timeout_ms=timeout_ms)
            measurement = await service.characteristic(_HRM, timeout_ms=timeout_ms)
            await measurement.subscribe(notify=True, timeout_ms=timeout_ms)
        except Exception:
            await connection.disconnect(timeout_ms=2000)
            raise
        return Connection(connection, measurement)
