"""The wearables' part of the session: per strap, the latest heart rate, its zone, HRV and
whether it is stale. Pure (time comes in with the events); one lock, because a source
thread writes while the frame loop and the publisher read.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gymcorner.config.wearables import WearablesConfig
from gymcorner.wearables.hr import RmssdWindow, ZoneTracker, hr_zone, max_hr_from_age
from gymcorner.wearables.readings import HeartRateReading, RelayStatus, StrapState, WearableEvent, sensor_id

PAYLOAD_VERSION = 1
ZONE_CHANGES_KEPT = 32  # not yet taken by the frame loop; older ones are dropped


@dataclass(frozen=True)
class ZoneChange:
    """A strap's heart rate entered another training zone (steadied by `zone_hold_s`)."""

    sensor: str
    user: str | None
    previous_zone: int | None
    zone: int
    bpm: int
    t_s: float


@dataclass
class _Strap:
    address: str
    user: str | None
    max_hr_bpm: float | None
    hrv: RmssdWindow
    last: HeartRateReading | None = None
    connected: bool = False
    battery_pct: int | None = None
    location: str | None = None
    readings: int = 0
    stale: bool = True
    hr_sum: float = 0.0
    hr_peak: int = 0
    zone_s: dict[int, float] = field(default_factory=dict)
    zones: ZoneTracker | None = None


class WearableState:
    def __init__(self, config: WearablesConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._straps: dict[str, _Strap] = {}
        self.relay: RelayStatus | None = None
        self._zone_changes: deque[ZoneChange] = deque(maxlen=ZONE_CHANGES_KEPT)

    def _strap(self, address: str) -> _Strap:
        strap = self._straps.get(address)
        if strap is None:
            user = self._config.straps.get(address)
            user_cfg = self._config.users.get(user) if user else None
            max_hr = None
            if user_cfg is not None:
                if user_cfg.max_hr_bpm is not None:
                    max_hr = float(user_cfg.max_hr_bpm)
                elif user_cfg.age_years is not None:
                    max_hr = max_hr_from_age(user_cfg.age_years)
            strap = _Strap(address, user, max_hr, RmssdWindow(self._config.hrv_window_s))
            strap.zones = ZoneTracker(self._config.zone_hold_s)
            self._straps[address] = strap
        return strap

    def apply(self, event: WearableEvent) -> str | None:
        """Take one event; returns the sensor id whose published state changed, if any."""
        with self._lock:
            if isinstance(event, RelayStatus):
                self.relay = event
                return None
            strap = self._strap(event.address)
            if isinstance(event, StrapState):
                strap.connected = event.connected
                strap.battery_pct = event.battery_pct if event.battery_pct is not None else strap.battery_pct
                strap.location = event.location or strap.location
                if not event.connected:
                    strap.hrv.break_chain()
                return sensor_id(event.address)
            if strap.last is not None and strap.max_hr_bpm is not None:
                zone = hr_zone(strap.last.heart_rate_bpm, strap.max_hr_bpm)
                dt = min(event.t_s - strap.last.t_s, self._config.stale_after_s)
                strap.zone_s[zone] = strap.zone_s.get(zone, 0.0) + max(0.0, dt)
            if strap.stale:
                strap.hrv.break_chain()
            for rr in event.rr_intervals_ms:
                strap.hrv.add(event.t_s, rr)
            strap.last = event
            strap.connected = True
            strap.stale = False
            strap.readings += 1
            strap.hr_sum += event.heart_rate_bpm
            strap.hr_peak = max(strap.hr_peak, event.heart_rate_bpm)
            if strap.max_hr_bpm is not None and strap.zones is not None:
                change = strap.zones.update(event.t_s, hr_zone(event.heart_rate_bpm, strap.max_hr_bpm))
                if change is not None:
                    sensor = sensor_id(event.address)
                    self._zone_changes.append(
                        ZoneChange(sensor, strap.user, change[0], change[1], event.heart_rate_bpm, event.t_s)
                    )
            return sensor_id(event.address)

    def take_zone_changes(self) -> list[ZoneChange]:
        """The zone changes since the last call (for the coach's `hr_zone` events)."""
        with self._lock:
            changes = list(self._zone_changes)
            self._zone_changes.clear()
            return changes

    def heart_rate(self, now_s: float) -> int | None:
        """The freshest heart rate of any strap that is not stale (for the set summaries)."""
        with self._lock:
            fresh = [
                s.last
                for s in self._straps.values()
                if s.last is not None and not s.stale and now_s - s.last.t_s <= self._config.stale_after_s
            ]
            return max(fresh, key=lambda r: r.t_s).heart_rate_bpm if fresh else None

    def fresh_heart_rates(self, now_s: float) -> dict[str, int]:
        """Every strap's latest heart rate that is not stale, by sensor id (the history's samples)."""
        with self._lock:
            return {
                sensor_id(s.address): s.last.heart_rate_bpm
                for s in self._straps.values()
                if s.last is not None and not s.stale and now_s - s.last.t_s <= self._config.stale_after_s
            }

    def newly_stale(self, now_s: float) -> list[str]:
        """Sensors that just went `stale_after_s` without data (each reported once)."""
        out = []
        with self._lock:
            for strap in self._straps.values():
                if not strap.stale and strap.last is not None and now_s - strap.last.t_s > self._config.stale_after_s:
                    strap.stale = True
                    out.append(sensor_id(strap.address))
        return out

    def payload(self, sensor: str, now_s: float) -> dict[str, Any]:
        """The JSON body of `wearables/<sensor>` (docs/wearables.md)."""
        with self._lock:
            strap = next(s for s in self._straps.values() if sensor_id(s.address) == sensor)
            return self._payload_locked(strap, now_s)

    def _payload_locked(self, strap: _Strap, now_s: float) -> dict[str, Any]:
        last = strap.last
        stale = strap.stale or last is None or now_s - last.t_s > self._config.stale_after_s
        body: dict[str, Any] = {
            "v": PAYLOAD_VERSION,
            "sensor": sensor_id(strap.address),
            "address": strap.address,
            "user": strap.user,
            "connected": strap.connected,
            "stale": stale,
            "battery_pct": strap.battery_pct,
            "location": strap.location,
            "bpm": None,
        }
        if last is not None:
            rmssd = strap.hrv.rmssd_ms(now_s)
            body.update(
                via=last.via,
                t=round(last.t_s, 3),
                age_s=round(max(0.0, now_s - last.t_s), 3),
                bpm=last.heart_rate_bpm,
                contact=last.sensor_contact,
                energy_kj=last.energy_expended_kj,
                rr_ms=[round(r, 1) for r in last.rr_intervals_ms],
                rssi_dbm=last.rssi_dbm,
                max_hr_bpm=None if strap.max_hr_bpm is None else round(strap.max_hr_bpm, 1),
                zone=None if strap.max_hr_bpm is None else hr_zone(last.heart_rate_bpm, strap.max_hr_bpm),
                rmssd_ms=None if rmssd is None else round(rmssd, 1),
            )
        return body

    def snapshot(self, now_s: float) -> dict[str, Any]:
        """Every strap's current state and session totals, for the session summary and the coach."""
        with self._lock:
            out: dict[str, Any] = {}
            for strap in self._straps.values():
                body = self._payload_locked(strap, now_s)
                body["readings"] = strap.readings
                body["mean_bpm"] = round(strap.hr_sum / strap.readings, 1) if strap.readings else None
                body["peak_bpm"] = strap.hr_peak or None
                body["zone_s"] = {str(z): round(s, 1) for z, s in sorted(strap.zone_s.items())}
                out[body["sensor"]] = body
            return out
