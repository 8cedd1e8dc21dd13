"""The daemon's front to the box: status lines to LED patterns and systemd, buzzer on form faults only."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytest.importorskip("gpiozero", reason="gpiozero not installed")

from gymcorner.config import GpioConfig
from gymcorner.device.gpio import LedState, open_gpio
from gymcorner.device.link import REQUEST_FILE, DeviceLink, led_state_for, state_directory
from gymcorner.device.notify import Notifier

BUZZER = 22


@pytest.mark.parametrize(
    ("detail", "state"),
    [
        ("coaching: squat, rep 4", LedState.COACHING),
        ("camera lost, retrying", LedState.CAMERA_LOST),
        ("paused", LedState.PAUSED),
        ("waiting for a person", LedState.READY),
        ("error: start-up failed", LedState.ERROR),
    ],
)
def test_status_lines_map_to_led_patterns(detail: str, state: LedState) -> None:
    assert led_state_for(detail) is state


@pytest.fixture
def link(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "n.sock"))
    sock.setblocking(False)
    gpio = open_gpio(GpioConfig(pin_factory="mock", buzzer_pin=BUZZER))
    device = DeviceLink(gpio, Notifier({"NOTIFY_SOCKET": str(tmp_path / "n.sock")}), tmp_path)
    yield device, sock
    device.close()
    sock.close()


def drain(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_status_goes_to_systemd_only_after_ready(link) -> None:
    device, sock = link
    device.booting()
    assert device.gpio.state is LedState.BOOTING
    device.detail("starting")
    assert not any("READY" in m for m in drain(sock))
    device.ready("ready: camera and pose model up, waiting for a person")
    device.detail("coaching: squat, rep 1")
    messages = drain(sock)
    assert messages[-2].startswith("READY=1") and messages[-1] == "STATUS=coaching: squat, rep 1"
    assert device.gpio.state is LedState.COACHING


def test_only_form_faults_pulse_the_buzzer(link) -> None:
    device, _sock = link
    buzzer = device.gpio.factory.pin(BUZZER)
    for kind in ("rep", "coach", "info"):
        device.feedback(kind)
    assert not any(s.state for s in buzzer.states)
    device.feedback("form")
    from mqtt_helpers import wait_until

    wait_until(lambda: any(s.state for s in buzzer.states), what="the buzzer pulse")


def test_calibration_request_needs_a_state_directory(link, tmp_path: Path) -> None:
    device, _sock = link
    assert device.request_calibration() and (tmp_path / REQUEST_FILE).is_file()
    device.state_dir = None
    assert not device.request_calibration()


def test_state_directory_from_systemd_environment() -> None:
    assert state_directory({"STATE_DIRECTORY": "/var/lib/gymcorner:/var/lib/other"}) == Path("/var/lib/gymcorner")
    assert state_directory({}) is None
