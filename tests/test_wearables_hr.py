"""Zones, HRV and the wearables' session state (pure: time comes in with the events)."""

from __future__ import annotations

import math

import pytest

from gymcorner.config.wearables import WearablesConfig
from gymcorner.wearables.hr import RmssdWindow, hr_zone, max_hr_from_age
from gymcorner.wearables.readings import HeartRateReading, StrapState, normalise_address, sensor_id
from gymcorner.wearables.state import WearableState

ADDR = "AA:BB:CC:DD:EE:FF"


def test_max_hr_and_zones() -> None:
    assert max_hr_from_age(40) == pytest.approx(180.0)
    assert [hr_zone(bpm, 200) for bpm in (80, 100, 119, 120, 150, 170, 179, 180, 230)] == [0, 1, 1, 2, 3, 4, 4, 5, 5]


def test_rmssd_by_hand_and_artefacts() -> None:
    w = RmssdWindow(window_s=60, min_pairs=3)
    for t, rr in enumerate([800, 810, 790, 800]):
        w.add(float(t), rr)
    assert w.rmssd_ms(3.0) == pytest.approx(math.sqrt((100 + 400 + 100) / 3))
    w.add(4.0, 1200)  # +50 %: an artefact, rejected, and it breaks the chain
    w.add(5.0, 805)
    assert w.rejected == 1 and w.rmssd_ms(5.0) == pytest.approx(math.sqrt(600 / 3))
    w.add(6.0, 810)
    assert w.rmssd_ms(6.0) == pytest.approx(math.sqrt(625 / 4))
    assert w.rmssd_ms(200.0) is None  # the window moved past every pair


def test_addresses() -> None:
    assert normalise_address("aa-bb-cc-dd-ee-ff") == ADDR == normalise_address(bytes.fromhex("aabbccddeeff"))
    assert sensor_id(ADDR) == "aabbccddeeff"
    with pytest.raises(ValueError):
        normalise_address("aa:bb")


def test_state_zone_hrv_stale_and_totals() -> None:
    cfg = WearablesConfig.model_validate(
        {"straps": {ADDR.lower(): "alice"}, "users": {"alice": {"age_years": 40}}, "hrv_window_s": 60}
    )
    state = WearableState(cfg)
    assert state.apply(StrapState(ADDR, 0.0, True, 87, "chest")) == "aabbccddeeff"
    for i in range(15):
        state.apply(HeartRateReading(ADDR, 1.0 + i, 150, True, None, (800.0 + (i % 2) * 10,), -60, "serial"))
    body = state.payload("aabbccddeeff", 15.5)
    assert body["user"] == "alice" and body["bpm"] == 150 and body["max_hr_bpm"] == 180.0 and body["zone"] == 4
    assert body["rmssd_ms"] == pytest.approx(10.0) and body["stale"] is False and body["battery_pct"] == 87
    assert state.newly_stale(17.0) == []
    assert state.newly_stale(18.1) == ["aabbccddeeff"]  # > 3 s without data, reported once
    assert state.newly_stale(19.0) == []
    assert state.payload("aabbccddeeff", 19.0)["stale"] is True
    snap = state.snapshot(19.0)["aabbccddeeff"]
    assert snap["readings"] == 15 and snap["mean_bpm"] == 150 and snap["zone_s"] == {"4": 14.0}


def test_unmapped_strap_has_no_zone() -> None:
    state = WearableState(WearablesConfig())
    state.apply(HeartRateReading(ADDR, 1.0, 70))
    body = state.payload("aabbccddeeff", 1.0)
    assert body["user"] is None and body["zone"] is None and body["bpm"] == 70
