"""What the daemon tells the box around it: systemd (notify, watchdog, status) and the GPIO.

One small front so `app.py` stays a list of steps: it calls `booting()`, `ready()`,
`frame()`, `detail()`, `feedback()` and `poll()` and never learns whether systemd or a pin
exists. Every call is cheap and non-blocking (a datagram on a non-blocking socket, a
state compare, a queue poll): the frame loop may call them on every frame.

A long press asks for field calibration. The daemon holds the camera, so it cannot
calibrate itself: it leaves a request file in its state directory and exits with
`EXIT_CALIBRATE`; the unit restarts it (`RestartForceExitStatus=`), and its
`ExecStartPre=gymcorner calibrate --if-requested` runs the calibration on the now free
camera before the daemon starts again with the new site config.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from gymcorner.config import GpioConfig
from gymcorner.device.gpio import Gpio, LedState, Press, open_gpio

__all__ = ["EXIT_CALIBRATE", "DeviceLink", "Press", "led_state_for", "state_directory"]
from gymcorner.device.notify import Notifier

_log = logging.getLogger(__name__)

EXIT_CALIBRATE = 75  # EX_TEMPFAIL: "restart me", see deploy/systemd/gymcorner.service
REQUEST_FILE = "calibrate.request"


def state_directory(environ: Mapping[str, str] | None = None) -> Path | None:
    """systemd's StateDirectory= (e.g. /var/lib/gymcorner), or None outside systemd."""
    env = os.environ if environ is None else environ
    value = env.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(value) if value else None


def led_state_for(detail: str) -> LedState:
    """The LED pattern for a status line the daemon sets (its words are the contract)."""
    if detail.startswith("camera lost"):
        return LedState.CAMERA_LOST
    if detail.startswith("coaching"):
        return LedState.COACHING
    if detail.startswith("paused"):
        return LedState.PAUSED
    if detail.startswith("error"):
        return LedState.ERROR
    return LedState.READY


class DeviceLink:
    def __init__(self, gpio: Gpio, notifier: Notifier, state_dir: Path | None) -> None:
        self.gpio = gpio
        self.notifier = notifier
        self.state_dir = state_dir
        self._ready = False

    @classmethod
    def open(cls, config: GpioConfig) -> DeviceLink:
        return cls(open_gpio(config), Notifier(), state_directory())

    def booting(self) -> None:
        self.gpio.show(LedState.BOOTING)
        self.notifier.status("starting: opening camera and loading the pose model")

    def ready(self, detail: str) -> None:
        """Camera and model are up: the unit turns 'active'."""
        self._ready = True
        self.notifier.ready(detail)
        self.gpio.show(led_state_for(detail))

    def frame(self) -> None:
        """Called once per loop turn: proves to systemd that the loop is alive."""
        self.notifier.watchdog()

    def detail(self, detail: str) -> None:
        if self._ready:
            self.notifier.status(detail)
        self.gpio.show(led_state_for(detail))

    def feedback(self, kind: str) -> None:
        """A coaching event: a form fault pulses the buzzer; reps and encouragement do not."""
        if kind == "form":
            self.gpio.buzz()

    def poll(self) -> list[Press]:
        return self.gpio.poll_presses()

    def request_calibration(self) -> bool:
        """Leave the request for `calibrate --if-requested`; False when there is no state directory."""
        if self.state_dir is None:
            _log.warning("long press: calibration needs the systemd unit (no STATE_DIRECTORY); ignored")
            return False
        (self.state_dir / REQUEST_FILE).write_text("long press\n", encoding="utf-8")
        self.notifier.status("calibration requested: restarting into calibration")
        return True

    def stopping(self) -> None:
        self.notifier.stopping("stopping: saving the session")

    def close(self, error: bool = False) -> None:
        if error:
            self.gpio.show(LedState.ERROR)
        self.gpio.close()
        self.notifier.close()
