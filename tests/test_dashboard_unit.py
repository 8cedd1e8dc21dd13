"""The dashboard's service unit: `systemd-analyze verify`, and the settings that matter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "systemd" / "gymcorner-dashboard.service"
DAEMON_UNIT = ROOT / "deploy" / "systemd" / "gymcorner.service"


def settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found (Debian: apt install systemd)")
    gymcorner = Path(sys.executable).parent / "gymcorner"
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/gymcorner/venv/bin/gymcorner", str(gymcorner)))
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert UNIT.name not in proc.stderr, proc.stderr


def test_it_runs_as_the_daemon_s_user_on_the_same_state_with_no_devices() -> None:
    s, daemon = settings(UNIT), settings(DAEMON_UNIT)
    assert s["User"] == daemon["User"] == ["gymcorner"]
    assert s["StateDirectory"] == daemon["StateDirectory"] and s["ReadWritePaths"] == daemon["ReadWritePaths"]
    assert s["ExecStart"] == ["/opt/gymcorner/venv/bin/gymcorner dashboard --config /etc/gymcorner/gymcorner.toml"]
    assert "--host" not in s["ExecStart"][0]  # the config's host: 127.0.0.1 unless someone set it
    assert s["PrivateDevices"] == ["yes"] and "SupplementaryGroups" not in s
    assert s["ProtectSystem"] == ["strict"] and s["NoNewPrivileges"] == ["yes"] and s["CapabilityBoundingSet"] == [""]
    assert s["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
