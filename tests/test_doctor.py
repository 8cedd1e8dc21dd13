"""`gymcorner doctor`: each check against real parts (a clip as the camera, a real Mosquitto
with passwords), and the one-line-per-check output with the fix on a failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from mqtt_helpers import free_port
from shared_data import clip_path

from gymcorner.commands.doctor import (
    CHECKS,
    Status,
    check_broker,
    check_camera,
    check_cpu,
    check_disk,
    check_llm,
    run_checks,
)
from gymcorner.config import load_config

CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_004.mp4"


def config_with(**overrides):
    return load_config(None, overrides)


@pytest.mark.shared_data
def test_camera_passes_on_a_clip_that_delivers_frames() -> None:
    result = check_camera(config_with(**{"source.uri": str(clip_path(CLIP))}))
    assert result.status is Status.PASS and "1280x720" in result.detail


def test_camera_that_does_not_exist_fails_with_the_fix(tmp_path: Path) -> None:
    result = check_camera(config_with(**{"source.uri": "/dev/video97"}))
    assert result.status is Status.FAIL
    assert "video" in result.fix and "/dev/video97" in result.detail


@pytest.mark.broker
def test_broker_with_the_right_password_passes(mosquitto_factory, tmp_path: Path) -> None:
    broker = mosquitto_factory(users={"corner-1": "s3cret"})
    broker.start()
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    result = check_broker(
        config_with(
            **{
                "mqtt.host": broker.host,
                "mqtt.port": broker.port,
                "mqtt.username": "corner-1",
                "mqtt.password_file": str(secret),
            }
        )
    )
    assert result.status is Status.PASS and "as corner-1" in result.detail


@pytest.mark.broker
def test_broker_refusing_the_password_fails_with_the_fix(mosquitto_factory, tmp_path: Path) -> None:
    broker = mosquitto_factory(users={"corner-1": "s3cret"})
    broker.start()
    secret = tmp_path / "pw"
    secret.write_text("wrong\n")
    result = check_broker(
        config_with(
            **{
                "mqtt.host": broker.host,
                "mqtt.port": broker.port,
                "mqtt.username": "corner-1",
                "mqtt.password_file": str(secret),
            }
        )
    )
    assert result.status is Status.FAIL and "refused" in result.detail and "password" in result.fix


def test_no_broker_listening_fails_with_the_fix() -> None:
    result = check_broker(config_with(**{"mqtt.host": "127.0.0.1", "mqtt.port": free_port()}))
    assert result.status is Status.FAIL and "mosquitto" in result.fix


def test_disabled_parts_are_skipped_not_failed() -> None:
    config = config_with(**{"mqtt.enabled": False})
    assert check_broker(config).status is Status.SKIP
    assert check_llm(config).status is Status.SKIP  # LLM coaching is off by default


def test_llm_server_down_fails_with_the_fix() -> None:
    result = check_llm(
        config_with(**{"motivation.llm.enabled": True, "motivation.llm.base_url": f"http://127.0.0.1:{free_port()}/v1"})
    )
    assert result.status is Status.FAIL and "base_url" in result.fix


def only_this_vcgencmd(monkeypatch: pytest.MonkeyPatch, bin_dir: Path, get_throttled: str | None) -> None:
    """PATH holds a vcgencmd printing `get_throttled` (or none at all), so no host's own one counts."""
    bin_dir.mkdir()
    if get_throttled is not None:
        tool = bin_dir / "vcgencmd"
        tool.write_text(f"#!/bin/sh\necho '{get_throttled}'\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_cpu_temperature_from_the_thermal_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only_this_vcgencmd(monkeypatch, tmp_path / "bin", None)
    zone = tmp_path / "temp"
    zone.write_text("85500\n")
    hot = check_cpu(load_config(None), thermal=zone)
    assert hot.status is Status.FAIL and "86 °C" in hot.detail and "heatsink" in hot.fix
    zone.write_text("48000\n")
    cool = check_cpu(load_config(None), thermal=zone)
    assert cool.status is Status.PASS and cool.detail == "CPU 48 °C"
    assert check_cpu(load_config(None), thermal=tmp_path / "no-zone").status is Status.SKIP


def test_cpu_throttling_reported_by_vcgencmd_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only_this_vcgencmd(monkeypatch, tmp_path / "bin", "throttled=0x50005")
    zone = tmp_path / "temp"
    zone.write_text("48000\n")
    result = check_cpu(load_config(None), thermal=zone)
    assert result.status is Status.FAIL and "throttled=0x50005" in result.detail and "27 W" in result.fix


def test_disk_reports_free_space_and_fails_below_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    import gymcorner.commands.doctor as doctor

    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 0)
    roomy = check_disk(load_config(None))
    assert roomy.status is Status.PASS and "GiB free" in roomy.detail
    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 2**62)
    full = check_disk(load_config(None))
    assert full.status is Status.FAIL and "GiB free" in full.detail and "journalctl" in full.fix


def test_a_crashing_check_is_one_failed_line_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import gymcorner.commands.doctor as doctor

    def boom(_config):
        raise RuntimeError("kaput")

    monkeypatch.setattr(doctor, "CHECKS", (("disk", boom), *tuple(c for c in CHECKS if c[0] == "cpu")))
    results = doctor.run_checks(load_config(None))
    assert [name for name, _ in results] == ["disk", "cpu"]
    assert results[0][1].status is Status.FAIL and "kaput" in results[0][1].detail


def test_cli_prints_one_line_per_check_and_exits_1_on_a_failure(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[source]\nuri = "/dev/video97"\n[mqtt]\nhost = "127.0.0.1"\nport = {free_port()}\n')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gymcorner",
            "doctor",
            "--config",
            str(cfg),
            "--only",
            "camera",
            "--only",
            "broker",
            "--only",
            "disk",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 1
    assert [line.split()[1] for line in lines] == ["camera", "broker", "disk"]
    assert lines[0].startswith("[FAIL] camera") and "-> fix:" in lines[0]
    assert lines[1].startswith("[FAIL] broker") and "-> fix:" in lines[1]  # nothing listens on that port
    # the disk line's verdict depends on this machine (its PASS and FAIL are pinned above);
    # what the CLI owes is the measured figure, which the line carries either way
    assert re.search(r"disk .*\d+\.\d GiB free of \d+\.\d GiB on ", lines[2])


def test_every_check_has_a_result_on_this_machine() -> None:
    results = run_checks(config_with(**{"mqtt.enabled": False, "source.uri": "/dev/video97"}))
    assert len(results) == len(CHECKS)
    assert all(r.status is not Status.FAIL or r.fix for _, r in results)
