"""Pure parsers of the Heart Rate Service characteristics (Bluetooth SIG, HRS 1.0 / GSS).

Heart Rate Measurement (0x2A37), flags byte first:

    bit 0   heart rate format: 0 = uint8, 1 = uint16 (little endian)
    bit 1   sensor contact status (meaningful only when bit 2 is set)
    bit 2   sensor contact feature supported
    bit 3   energy expended present (uint16, kilojoules, saturates at 0xFFFF)
    bit 4   RR intervals present (uint16 each, 1/1024 s, as many as fit)
    bit 5-7 reserved for future use (ignored, as the spec requires of a client)

Both the direct bleak source and the ESP32 relay (which forwards the characteristic value
verbatim) end here, so there is one parser for both paths.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION_UUID = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

RR_UNITS_PER_S = 1024

_FLAG_UINT16 = 0x01
_FLAG_CONTACT = 0x02
_FLAG_CONTACT_SUPPORTED = 0x04
_FLAG_ENERGY = 0x08
_FLAG_RR = 0x10


class GattError(ValueError):
    """A characteristic value that does not follow the specification."""


class BodySensorLocation(enum.IntEnum):
    OTHER = 0
    CHEST = 1
    WRIST = 2
    FINGER = 3
    HAND = 4
    EAR_LOBE = 5
    FOOT = 6


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One 0x2A37 notification. `sensor_contact` is None when the strap cannot tell."""

    heart_rate_bpm: int
    sensor_contact: bool | None
    energy_expended_kj: int | None
    rr_intervals_1024: tuple[int, ...]

    @property
    def rr_intervals_ms(self) -> tuple[float, ...]:
        return tuple(rr * 1000.0 / RR_UNITS_PER_S for rr in self.rr_intervals_1024)


def parse_heart_rate_measurement(value: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    data = bytes(value)
    if not data:
        raise GattError("heart rate measurement: empty value")
    flags = data[0]
    i = 1
    if flags & _FLAG_UINT16:
        if len(data) < i + 2:
            raise GattError("heart rate measurement: uint16 heart rate truncated")
        hr = int.from_bytes(data[i : i + 2], "little")
        i += 2
    else:
        if len(data) < i + 1:
            raise GattError("heart rate measurement: uint8 heart rate missing")
        hr = data[i]
        i += 1
    contact = bool(flags & _FLAG_CONTACT) if flags & _FLAG_CONTACT_SUPPORTED else None
    energy = None
    if flags & _FLAG_ENERGY:
        if len(data) < i + 2:
            raise GattError("heart rate measurement: energy expended truncated")
        energy = int.from_bytes(data[i : i + 2], "little")
        i += 2
    rr: tuple[int, ...] = ()
    if flags & _FLAG_RR:
        tail = data[i:]
        if len(tail) % 2:
            raise GattError("heart rate measurement: odd number of RR interval bytes")
        rr = tuple(int.from_bytes(tail[j : j + 2], "little") for j in range(0, len(tail), 2))
    elif len(data) > i:
        raise GattError(f"heart rate measurement: {len(data) - i} unexpected trailing bytes")
    return HeartRateMeasurement(hr, contact, energy, rr)


def encode_heart_rate_measurement(m: HeartRateMeasurement, force_uint16: bool = False) -> bytes:
    """The inverse, for simulated straps and round-trip tests."""
    flags = 0
    body = bytearray()
    if force_uint16 or m.heart_rate_bpm > 0xFF:
        flags |= _FLAG_UINT16
        body += m.heart_rate_bpm.to_bytes(2, "little")
    else:
        body.append(m.heart_rate_bpm)
    if m.sensor_contact is not None:
        flags |= _FLAG_CONTACT_SUPPORTED | (_FLAG_CONTACT if m.sensor_contact else 0)
    if m.energy_expended_kj is not None:
        flags |= _FLAG_ENERGY
        body += m.energy_expended_kj.to_bytes(2, "little")
    if m.rr_intervals_1024:
        flags |= _FLAG_RR
        for rr in m.rr_intervals_1024:
            body += rr.to_bytes(2, "little")
    return bytes([flags]) + bytes(body)


def parse_battery_level(value: bytes | bytearray | memoryview) -> int:
    """Battery Level 0x2A19: one uint8, percent 0-100."""
    data = bytes(value)
    if len(data) != 1:
        raise GattError(f"battery level: expected 1 byte, got {len(data)}")
    if data[0] > 100:
        raise GattError(f"battery level: {data[0]} is above 100 %")
    return data[0]


def parse_body_sensor_location(value: bytes | bytearray | memoryview) -> BodySensorLocation | None:
    """Body Sensor Location 0x2A38: one uint8; values 7-255 are reserved (None)."""
    data = bytes(value)
    if len(data) != 1:
        raise GattError(f"body sensor location: expected 1 byte, got {len(data)}")
    try:
        return BodySensorLocation(data[0])
    except ValueError:
        return None
