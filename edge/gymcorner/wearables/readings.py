"""The typed events every wearable source emits, whichever path a reading took."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


def normalise_address(address: str | bytes) -> str:
    """'AA:BB:CC:DD:EE:FF' for a MAC given as text (any case, ':' or '-') or 6 bytes."""
    if isinstance(address, (bytes, bytearray)):
        if len(address) != 6:
            raise ValueError(f"a BLE address has 6 bytes, not {len(address)}")
        return ":".join(f"{b:02X}" for b in address)
    parts = address.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"not a BLE address: {address!r}")
    return ":".join(p.upper() for p in parts)


def sensor_id(address: str) -> str:
    """The topic-safe name of a strap: its address, lower case, without separators."""
    return normalise_address(address).replace(":", "").lower()


@dataclass(frozen=True)
class HeartRateReading:
    """One Heart Rate Measurement from one strap. `t_s` is the edge's monotonic clock."""

    address: str
    t_s: float
    heart_rate_bpm: int
    sensor_contact: bool | None = None
    energy_expended_kj: int | None = None
    rr_intervals_ms: tuple[float, ...] = ()
    rssi_dbm: int | None = None
    via: Literal["ble", "serial"] = "ble"


@dataclass(frozen=True)
class StrapState:
    """A strap connected or went away; battery (%) and body location when known."""

    address: str
    t_s: float
    connected: bool
    battery_pct: int | None = None
    location: str | None = None


@dataclass(frozen=True)
class RelayStatus:
    """The ESP32 relay's heartbeat."""

    t_s: float
    uptime_ms: int
    dropped_notifications: int
    bad_commands: int
    straps: tuple[dict, ...] = field(default_factory=tuple)


WearableEvent = HeartRateReading | StrapState | RelayStatus
EventSink = Callable[[WearableEvent], None]
