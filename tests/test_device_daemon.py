"""The daemon and the box: sd_notify as systemd hears it, the button as a person presses it.

Real parts: the daemon on a real clip with the real pose model; a real AF_UNIX datagram
socket standing in for systemd's NOTIFY_SOCKET; gpiozero's MockFactory for the pins.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from mqtt_helpers import wait_until
from shared_data import clip_path

from gymcorner.config import load_config
from gymcorner.device.link import EXIT_CALIBRATE, REQUEST_FILE

CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4"  # lateral, forward lean


def datagrams(sock: socket.socket) -> list[dict[str, str]]:
    sock.setblocking(False)
    out = []
    while True:
        try:
            data = sock.recv(4096).decode()
        except BlockingIOError:
            return out
        out.append(dict(line.split("=", 1) for line in data.splitlines()))


@pytest.mark.shared_data
@pytest.mark.model
def test_daemon_notifies_ready_status_watchdog_and_stopping(tmp_path: Path) -> None:
    clip = clip_path(CLIP)
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    config = tmp_path / "site.toml"
    # The 1.3-s clip ends before the recogniser is sure of the exercise: it is given.
    config.write_text(
        f'[source]\nuri = "{clip}"\n[coach]\nexercise = "squat"\n[mqtt]\nenabled = false\n[gpio]\nenabled = false\n'
    )
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000")
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.run(
        [sys.executable, "-m", "gymcorner", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    messages = datagrams(sock)
    sock.close()
    keys = [next(iter(m)) for m in messages]
    ready = keys.index("READY")
    assert "WATCHDOG" in keys[ready:], "the frame loop pings the watchdog"
    assert messages[ready]["MAINPID"].isdigit()
    statuses = [m["STATUS"] for m in messages[ready + 1 :] if "STATUS" in m and "STOPPING" not in m]
    assert any(s.startswith("coaching: squat") for s in statuses), statuses
    assert keys[-1] == "STOPPING"
    assert keys.count("READY") == 1


@pytest.mark.shared_data
@pytest.mark.model
def test_button_pauses_resumes_and_long_press_asks_for_calibration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gpiozero", reason="gpiozero not installed")
    from gymcorner.app import App

    clip = clip_path(CLIP)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    config = load_config(
        None,
        {
            "source.uri": str(clip),
            "source.loop": True,
            "source.realtime": True,
            "mqtt.enabled": False,
            "gpio.pin_factory": "mock",
            "gpio.long_press_s": 0.1,
        },
    )
    app = App(config)
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(app.run()), daemon=True)
    worker.start()
    try:
        wait_until(lambda: app.device is not None and app._frames > 0, 60, "the first frame")
        button = app.device.gpio.factory.pin(config.gpio.button_pin)
        led = app.device.gpio.factory.pin(config.gpio.led_pin)
        # The status line and the LED change together on the app's thread: wait for both.
        wait_until(lambda: app._detail.startswith("coaching") and bool(led.state), 60, "coaching, LED on")

        button.drive_low()
        button.drive_high()
        wait_until(lambda: not app._coaching, what="paused by a short press")
        button.drive_low()
        button.drive_high()
        wait_until(lambda: app._coaching, what="resumed by a second short press")

        button.drive_low()  # held past long_press_s
        worker.join(60)
        button.drive_high()
    finally:
        app.stop.set()
        worker.join(60)
    assert result == [EXIT_CALIBRATE]
    assert (tmp_path / REQUEST_FILE).is_file()
