"""The service unit, the installer (into a scratch root with --prefix) and the broker's ACL.

Real tools: `systemd-analyze verify` on the unit, `sh deploy/install.sh` itself, and a real
Mosquitto started with the password file and ACL the installer wrote.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from mqtt_helpers import WAIT_S, find_mosquitto, free_port, wait_until

from gymcorner.config import load_config

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "systemd" / "gymcorner.service"
INSTALL = ROOT / "deploy" / "install.sh"
DEVICE = "corner-7"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found (Debian: apt install systemd)")
    # verify checks that ExecStart= exists: point it at this checkout's command, nothing else changes.
    gymcorner = Path(sys.executable).parent / "gymcorner"
    unit = tmp_path / "gymcorner.service"
    unit.write_text(UNIT.read_text().replace("/opt/gymcorner/venv/bin/gymcorner", str(gymcorner)))
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "gymcorner.service" not in proc.stderr, proc.stderr  # no warning about our unit


def test_unit_is_notify_with_watchdog_hardening_and_credential() -> None:
    s = unit_settings()
    assert s["Type"] == ["notify"] and s["Restart"] == ["on-failure"]
    assert int(s["WatchdogSec"][0]) > 0
    assert s["RestartForceExitStatus"] == ["75"]  # the long-press calibration exit (device/link.py)
    assert s["ProtectSystem"] == ["strict"] and s["ProtectHome"] == ["yes"]
    assert s["PrivateTmp"] == ["yes"] and s["NoNewPrivileges"] == ["yes"]
    assert s["ReadWritePaths"] == ["/var/lib/gymcorner"]
    assert s["LoadCredential"] == ["mqtt-password:/etc/gymcorner/mqtt-password"]
    assert set(s["SupplementaryGroups"][0].split()) == {"video", "dialout", "gpio", "bluetooth"}
    assert s["User"] == ["gymcorner"]
    assert any("--site /var/lib/gymcorner/site.toml" in v for v in s["ExecStart"])


def test_exit_code_for_calibration_matches_the_unit() -> None:
    from gymcorner.device.link import EXIT_CALIBRATE

    assert unit_settings()["RestartForceExitStatus"] == [str(EXIT_CALIBRATE)]


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["sh", str(INSTALL), "--prefix", str(root), "--no-venv", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    install(root, "--device-id", DEVICE)
    return root


def test_installer_lays_out_code_config_unit_and_broker_files(installed: Path) -> None:
    for path in (
        "opt/gymcorner/src/edge/gymcorner/app.py",
        "opt/gymcorner/src/pyproject.toml",
        "etc/systemd/system/gymcorner.service",
        "etc/gymcorner/gymcorner.toml",
        "etc/gymcorner/mqtt-password",
        "etc/mosquitto/conf.d/gymcorner.conf",
        "etc/mosquitto/gymcorner.acl",
        "var/lib/gymcorner",
    ):
        assert (installed / path).exists(), path
    assert (installed / "etc/systemd/system/gymcorner.service").read_text() == UNIT.read_text()
    assert oct((installed / "etc/gymcorner/mqtt-password").stat().st_mode & 0o777) == "0o600"
    assert not list(installed.rglob("__pycache__"))
    config = load_config(installed / "etc/gymcorner/gymcorner.toml")  # the daemon accepts it
    assert config.device.id == DEVICE and config.mqtt.username == DEVICE
    assert str(config.mqtt.password_file) == "/run/credentials/gymcorner.service/mqtt-password"


def test_installer_is_idempotent_and_keeps_edits_and_secrets(installed: Path) -> None:
    config = installed / "etc/gymcorner/gymcorner.toml"
    config.write_text(config.read_text().replace('uri = "0"', 'uri = "/dev/video2"'))
    before = snapshot(installed)
    install(installed, "--device-id", DEVICE)
    assert snapshot(installed) == before


def test_uninstall_keeps_config_and_state_unless_purged(installed: Path) -> None:
    install(installed, "--uninstall")
    assert not (installed / "opt/gymcorner").exists()
    assert not (installed / "etc/systemd/system/gymcorner.service").exists()
    assert not (installed / "etc/mosquitto/gymcorner.acl").exists()
    assert (installed / "etc/gymcorner/gymcorner.toml").is_file()
    install(installed, "--uninstall", "--purge")
    assert not (installed / "etc/gymcorner").exists() and not (installed / "var/lib/gymcorner").exists()


def test_installer_refuses_a_bad_option(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["sh", str(INSTALL), "--prefix", str(tmp_path), "--frobnicate"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0 and "unknown option --frobnicate" in proc.stderr


class Client:
    """A paho client with a username, recording what it receives."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.received: list[str] = []
        self.connected = threading.Event()
        self.reason: object = None
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{os.getpid()}")
        self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.received.append(m.topic)
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_args: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.connected.wait(WAIT_S)

    def _on_connect(self, _c, _u, _f, reason, _p) -> None:
        self.reason = reason
        self.connected.set()

    def subscribe(self, topic: str) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(WAIT_S), f"no SUBACK for {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.broker
def test_broker_acl_keeps_the_device_to_its_own_topics(installed: Path, tmp_path: Path) -> None:
    binary = find_mosquitto()
    if (
        binary is None
        or shutil.which("mosquitto_passwd", path=os.pathsep.join([os.environ["PATH"], "/usr/bin"])) is None
    ):
        pytest.skip("mosquitto / mosquitto_passwd not found (Debian: apt install mosquitto)")
    mosq = installed / "etc/mosquitto"
    assert (mosq / "gymcorner.passwd").read_text().startswith(DEVICE + ":")  # the installer hashed it
    port = free_port()
    conf = (mosq / "conf.d/gymcorner.conf").read_text()
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1").replace("/etc/mosquitto", str(mosq))
    conf += "persistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
    (tmp_path / "m.conf").write_text(conf)
    broker = subprocess.Popen([binary, "-c", str(tmp_path / "m.conf")], stderr=subprocess.PIPE)
    clients: list[Client] = []
    try:
        wait_until(lambda: _listening(port), what="mosquitto listening")
        device_pw = (installed / "etc/gymcorner/mqtt-password").read_text().strip()
        app_pw = (installed / "etc/gymcorner/mqtt-app-password").read_text().strip()
        app = Client(port, "gymcorner-app", app_pw)
        device = Client(port, DEVICE, device_pw)
        intruder = Client(port, DEVICE, "not-the-password")
        clients += [app, device, intruder]
        assert not app.reason.is_failure and not device.reason.is_failure
        assert intruder.reason is None or intruder.reason.is_failure
        app.subscribe("gymcorner/#")
        device.subscribe("gymcorner/#")  # the ACL lets only its cmd topic through
        # Each client's QoS 1 messages arrive in order: once the allowed one is in, a
        # forbidden one sent before it would have been too.
        device.client.publish("gymcorner/corner-8/status", b"spoof", qos=1)  # another device's topic
        app.client.publish("gymcorner/corner-8/cmd", b"{}", qos=1)
        app.client.publish(f"gymcorner/{DEVICE}/cmd", b"{}", qos=1)
        device.client.publish(f"gymcorner/{DEVICE}/status", b"online", qos=1)
        wait_until(lambda: f"gymcorner/{DEVICE}/status" in app.received, what="the device's own status")
        wait_until(lambda: f"gymcorner/{DEVICE}/cmd" in device.received, what="the device's command")
        assert "gymcorner/corner-8/status" not in app.received
        assert "gymcorner/corner-8/cmd" not in device.received
        assert f"gymcorner/{DEVICE}/status" not in device.received  # it may not read other topics
    finally:
        for c in clients:
            c.close()
        broker.terminate()
        broker.wait(10)


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# ------------------------------------------------ bad ids, corrupt files, secrets off argv


def install_raw(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(INSTALL), "--prefix", str(root), "--no-venv", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("bad_id", ["a/b", "+", "#", "corner 1", "a" * 65, "x;rm"])
def test_a_bad_device_id_fails_before_writing_anything_and_a_rerun_is_clean(tmp_path: Path, bad_id: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    proc = install_raw(root, "--device-id", bad_id)
    assert proc.returncode != 0 and "device id" in proc.stderr and "installed" not in proc.stdout
    assert not list(root.rglob("*")), "the failed run wrote files"
    install(root, "--device-id", DEVICE)
    acl = (root / "etc/mosquitto/gymcorner.acl").read_text()
    assert f"user {DEVICE}\n" in acl and "+/status" not in acl and "#/status" not in acl
    assert load_config(root / "etc/gymcorner/gymcorner.toml").device.id == DEVICE


def test_the_device_id_rule_is_the_daemons(tmp_path: Path) -> None:
    from gymcorner.config import DeviceConfig

    assert DeviceConfig.model_fields["id"].metadata[0].pattern == r"^[A-Za-z0-9_-]{1,64}$"
    assert "[A-Za-z0-9_-]{1,64}" in INSTALL.read_text()


def test_an_invalid_id_in_a_kept_config_stops_the_installer(installed: Path) -> None:
    config = installed / "etc/gymcorner/gymcorner.toml"
    config.write_text(config.read_text().replace(f'id = "{DEVICE}"', 'id = "a/b"'))
    proc = install_raw(installed)
    assert proc.returncode != 0 and "device id 'a/b' is not valid" in proc.stderr
    assert f"user {DEVICE}\n" in (installed / "etc/mosquitto/gymcorner.acl").read_text()  # left as it was


def test_a_corrupt_password_file_stops_the_installer(installed: Path) -> None:
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd not found (Debian: apt install mosquitto)")
    (installed / "etc/mosquitto/gymcorner.passwd").write_text(":\ngarbage\n")
    proc = install_raw(installed, "--device-id", DEVICE)
    assert proc.returncode != 0 and "corrupt" in proc.stderr and "installed" not in proc.stdout


def test_passwords_never_appear_on_a_command_line(tmp_path: Path) -> None:
    real = shutil.which("mosquitto_passwd")
    if real is None:
        pytest.skip("mosquitto_passwd not found (Debian: apt install mosquitto)")
    shims, log = tmp_path / "bin", tmp_path / "argv.log"
    shims.mkdir()
    shim = shims / "mosquitto_passwd"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    root = tmp_path / "root"
    root.mkdir()
    proc = install_raw(root, "--device-id", DEVICE, env=dict(os.environ, PATH=f"{shims}:{os.environ['PATH']}"))
    assert proc.returncode == 0, proc.stderr
    argv = log.read_text()
    assert "-U" in argv
    for secret in ("mqtt-password", "mqtt-app-password"):
        assert (root / "etc/gymcorner" / secret).read_text().strip() not in argv
    passwd = (root / "etc/mosquitto/gymcorner.passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in passwd] == [DEVICE, "gymcorner-app"]
    assert all(line.split(":")[1].startswith("$7$") for line in passwd)
    assert not list((root / "etc/mosquitto").glob("*.new.*")) and not list((root / "etc").rglob("*.tmp.*"))


def test_the_home_assistant_acl_line_grants_the_discovery_topics(installed: Path) -> None:
    from gymcorner.transport.homeassistant import discovery_messages

    acl = (installed / "etc/mosquitto/gymcorner.acl").read_text().splitlines()
    (line,) = [entry for entry in acl if entry.startswith("# topic write homeassistant/")]
    pattern = line.split()[-1]
    topics = [topic for topic, _ in discovery_messages("gymcorner", DEVICE)]
    assert topics and all(paho.topic_matches_sub(pattern, topic) for topic in topics), (pattern, topics)
    assert not paho.topic_matches_sub(pattern, topics[0].replace("corner_7", "corner_8"))
