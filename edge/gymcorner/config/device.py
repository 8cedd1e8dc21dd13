"""The box itself: its id, GPIO, logging."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gymcorner.config.base import Section

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # one topic level: no '/', no wildcard


class DeviceConfig(Section):
    id: str = Field(
        "corner-1",
        title="Device id",
        description="Unique per device; every MQTT topic carries it.",
        pattern=DEVICE_ID_PATTERN,
    )


class GpioConfig(Section):
    """The box's status LED, button and optional buzzer (BCM pin numbers; gpiozero).

    Where no GPIO exists (a laptop, a container) the daemon logs one line and runs without."""

    enabled: bool = Field(True, description="Drive the LED/button/buzzer when this machine has GPIO.")
    pin_factory: str | None = Field(
        None,
        description="gpiozero pin factory ('lgpio', 'rpigpio', 'pigpio', 'native', 'mock'); gpiozero picks when unset.",
    )
    led_pin: int | None = Field(17, ge=0, le=53, description="Status LED (BCM); unset for none.")
    button_pin: int | None = Field(
        27, ge=0, le=53, description="Button to ground (BCM, internal pull-up); unset for none."
    )
    buzzer_pin: int | None = Field(None, ge=0, le=53, description="Active buzzer pulsed on a form fault (BCM).")
    long_press_s: float = Field(2.0, gt=0, le=30, description="Hold this long for a long press (calibration).")
    buzz_s: float = Field(0.15, gt=0, le=5, description="Length of the buzzer pulse on a form fault.")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level (also `--log-level` on the command line)."
    )
