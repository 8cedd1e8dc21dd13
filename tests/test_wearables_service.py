"""The [wearables] config section and the daemon's use of the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from gymcorner.config import load_config
from gymcorner.errors import ConfigError
from gymcorner.wearables.readings import HeartRateReading
from gymcorner.wearables.service import SOURCES, WearablesService


def test_wearables_section_from_toml(tmp_path: Path) -> None:
    f = tmp_path / "site.toml"
    f.write_text(
        '[wearables]\nsource = "serial"\n[wearables.straps]\n"aa-bb-cc-dd-ee-ff" = "alice"\n'
        '[wearables.users.alice]\nage_years = 35\n[wearables.serial]\nport = "/dev/serial/by-id/usb-Espressif"\n'
    )
    cfg = load_config(f)
    assert cfg.wearables.straps == {"AA:BB:CC:DD:EE:FF": "alice"}
    assert cfg.wearables.users["alice"].age_years == 35 and cfg.wearables.serial.port.endswith("Espressif")
    f.write_text('[wearables]\nsource = "bluetooth"\n')
    with pytest.raises(ConfigError, match=r"wearables\.source"):
        load_config(f)
    f.write_text('[wearables.straps]\n"AA:BB" = "bob"\n')
    with pytest.raises(ConfigError, match="expected AA:BB:CC:DD:EE:FF"):
        load_config(f)


def test_sources_registry_and_none() -> None:
    assert set(SOURCES) == {"ble", "serial"}
    service = WearablesService(load_config().wearables)
    service.start()  # source "none": nothing starts
    assert service.source is None and service.snapshot() == {"source": "none", "straps": {}}
    service.stop()


def test_daemon_session_summary_carries_the_straps() -> None:
    from gymcorner.app import App

    app = App(load_config())
    app.wearables = WearablesService(app.config.wearables, clock=lambda: 10.0)
    app.wearables.on_event(HeartRateReading("AA:BB:CC:DD:EE:FF", 9.5, 88, rr_intervals_ms=(700.0,)))
    summary = app._session_summary(final=False, t=1.0)
    strap = summary["wearables"]["straps"]["aabbccddeeff"]
    assert strap["bpm"] == 88 and strap["stale"] is False and strap["readings"] == 1
