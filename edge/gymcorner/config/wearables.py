"""The `[wearables]` section: straps over BLE or through the ESP32 relay, and their users."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gymcorner.config.base import Section
from gymcorner.wearables.readings import normalise_address


def _addresses(values: dict[str, str] | list[str]) -> dict[str, str] | list[str]:
    try:
        if isinstance(values, dict):
            return {normalise_address(a): u for a, u in values.items()}
        return [normalise_address(a) for a in values]
    except ValueError as err:
        raise ValueError(f"{err} (expected AA:BB:CC:DD:EE:FF)") from err


class WearableUserConfig(Section):
    age_years: int | None = Field(
        None, ge=5, le=110, description="Max HR = 208 - 0.7 x age (Tanaka) unless max_hr_bpm."
    )
    max_hr_bpm: int | None = Field(None, ge=100, le=240, description="Measured maximum heart rate; wins over age.")


class WearablesBleConfig(Section):
    addresses: list[str] = Field(
        default_factory=list, description="Straps to connect (MAC); empty: scan for the Heart Rate Service 0x180D."
    )
    max_straps: int = Field(4, ge=1, le=8, description="Straps connected at once.")
    scan_timeout_s: float = Field(5.0, gt=0, le=60, description="Length of one scan for straps.")
    connect_timeout_s: float = Field(10.0, gt=0, le=60, description="Give up one connection attempt after this.")
    reconnect_min_delay_s: float = Field(1.0, gt=0, le=60, description="First wait after a strap is lost.")
    reconnect_max_delay_s: float = Field(30.0, gt=0, le=600, description="The wait doubles up to this.")

    _check = field_validator("addresses")(classmethod(lambda cls, v: _addresses(v)))


class WearablesSerialConfig(Section):
    port: str | None = Field(None, description="Serial device of the ESP32 relay; unset: found by USB VID:PID.")
    usb_ids: list[str] = Field(
        default_factory=lambda: ["303a:1001", "10c4:ea60", "1a86:7523", "1a86:55d4", "0403:6001"],
        description="USB VID:PID (hex) of ESP32 boards: native USB, CP210x, CH340, CH9102, FTDI.",
    )
    baudrate: int = Field(115200, ge=9600, le=3_000_000, description="Serial speed of the relay (its firmware's).")
    reopen_delay_s: float = Field(1.0, gt=0, le=60, description="Wait before reopening a lost or missing port.")
    heartbeat_timeout_s: float = Field(5.0, gt=0, le=120, description="Relay reported silent after this long.")


class WearablesConfig(Section):
    source: Literal["none", "ble", "serial"] = Field(
        "none", description="Heart-rate straps read directly over BLE (bleak) or through the ESP32 serial relay."
    )
    stale_after_s: float = Field(3.0, gt=0, le=60, description="A strap silent this long is marked stale.")
    hrv_window_s: float = Field(60.0, ge=10, le=600, description="RMSSD over the RR intervals of this window.")
    zone_hold_s: float = Field(
        5.0, ge=0, le=120, description="A new heart-rate zone must hold this long before its hr_zone event."
    )
    straps: dict[str, str] = Field(
        default_factory=dict, description='Strap address -> user id, e.g. "AA:BB:CC:DD:EE:FF" = "alice".'
    )
    users: dict[str, WearableUserConfig] = Field(
        default_factory=dict, description="Per user id: age_years or max_hr_bpm, for HR zones."
    )
    ble: WearablesBleConfig = Field(default_factory=WearablesBleConfig)
    serial: WearablesSerialConfig = Field(default_factory=WearablesSerialConfig)

    _check = field_validator("straps")(classmethod(lambda cls, v: _addresses(v)))
