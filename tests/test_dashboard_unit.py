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


def test_the_installer_creates_the_first_admin_once_with_a_root_only_password(tmp_path: Path) -> None:
    from starlette.testclient import TestClient
    from test_dashboard import log_in

    from gymcorner.dashboard.app import build_app

    root = tmp_path / "root"
    root.mkdir()

    def install() -> str:
        proc = subprocess.run(
            ["sh", str(ROOT / "deploy" / "install.sh"), "--prefix", str(root), "--no-venv", "--device-id", "corner-1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout
        return proc.stdout

    assert "skipped (no venv): the dashboard's first admin" in install()
    assert (root / "etc/systemd/system/gymcorner-dashboard.service").read_text() == UNIT.read_text()
    # a venv's command (this checkout's, through a shim) lets step 7 run as it does on a box
    venv_bin = root / "opt/gymcorner/venv/bin"
    venv_bin.mkdir(parents=True)
    shim = venv_bin / "gymcorner"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT / "edge"}" exec "{sys.executable}" -m gymcorner "$@"\n')
    shim.chmod(0o755)
    out = install()
    assert "log in as 'admin'" in out and "added dashboard user 'admin' (admin)" in out
    secret = root / "etc/gymcorner/dashboard-admin-password"
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert "exists; unchanged" in install()  # idempotent: the admin and the password stay
    password = secret.read_text().strip()
    assert len(password) >= 20
    with TestClient(build_app(root / "var/lib/gymcorner/history.sqlite3"), follow_redirects=False) as c:
        assert log_in(c, name="admin", password=password).status_code == 303
