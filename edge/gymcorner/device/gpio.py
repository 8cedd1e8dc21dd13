"""The box's own controls (gpiozero): a status LED, a button, an optional buzzer.

What a gym owner sees, without a screen:

| state        | LED                                   |
|--------------|---------------------------------------|
| booting      | slow blink (0.5 s on, 0.5 s off)      |
| ready        | heartbeat (0.1 s on, 1.9 s off)       |
| coaching     | on                                    |
| paused       | off                                   |
| camera lost  | fast blink (0.15 s on, 0.15 s off)    |
| error        | flicker (0.05 s on, 0.05 s off)       |

The button: a short press starts or stops a session, a long press (held for
`gpio.long_press_s`) asks for field calibration. gpiozero calls our handlers on its own
thread, so they only queue a `Press` (the aioble habit: interrupt handlers queue and
return); the daemon collects them between frames with `poll_presses()`, which never
blocks. Blinking runs on gpiozero's background thread, so `show()` costs nothing per frame
and is only acted on when the state changes.

Where no GPIO exists (a laptop, a container, a Jetson without a pin library) the pin
factory cannot be made: `open_gpio` logs one line and returns a `Gpio` that does nothing.
"""

from __future__ import annotations

import enum
import logging
import queue
from dataclasses import dataclass
from typing import Any

from gymcorner.config import GpioConfig

_log = logging.getLogger(__name__)


class LedState(enum.Enum):
    BOOTING = "booting"
    READY = "ready"
    COACHING = "coaching"
    PAUSED = "paused"
    CAMERA_LOST = "camera lost"
    ERROR = "error"


@dataclass(frozen=True)
class Blink:
    """An LED pattern: on for `on_s`, off for `off_s`; `off_s == 0` is steady on, `on_s == 0` off."""

    on_s: float
    off_s: float


PATTERNS: dict[LedState, Blink] = {
    LedState.BOOTING: Blink(0.5, 0.5),
    LedState.READY: Blink(0.1, 1.9),
    LedState.COACHING: Blink(1.0, 0.0),
    LedState.PAUSED: Blink(0.0, 1.0),
    LedState.CAMERA_LOST: Blink(0.15, 0.15),
    LedState.ERROR: Blink(0.05, 0.05),
}


class Press(enum.Enum):
    SHORT = "short"  # start / stop a session
    LONG = "long"  # field calibration


def make_pin_factory(name: str | None) -> Any:
    """A gpiozero pin factory by name ('mock', 'lgpio', 'rpigpio', ...), or gpiozero's default.

    'mock' is gpiozero's `MockFactory` with PWM-capable pins: the tests and a demo without
    hardware. gpiozero's own fallback warnings are silenced; the caller logs one line."""
    import warnings

    from gpiozero import Device

    if name == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name is None:
            Device.ensure_pin_factory()
            return Device.pin_factory
        from importlib.metadata import entry_points

        for entry in entry_points(group="gpiozero_pin_factories"):
            if entry.name == name:
                return entry.load()()
    raise ValueError(f"unknown gpio pin factory {name!r}")


class Gpio:
    """LED, button and buzzer on the pins named in config; every part optional."""

    def __init__(self, config: GpioConfig, pin_factory: Any | None) -> None:
        self.config = config
        self.factory = pin_factory
        self._presses: queue.SimpleQueue[Press] = queue.SimpleQueue()
        self._state: LedState | None = None
        self._held = False
        self.led = self.button = self.buzzer = None
        if pin_factory is None:
            return
        from gpiozero import LED, Button, Buzzer

        try:
            if config.led_pin is not None:
                self.led = LED(config.led_pin, pin_factory=pin_factory)
            if config.button_pin is not None:
                self.button = Button(
                    config.button_pin,
                    pull_up=True,
                    bounce_time=None,
                    hold_time=config.long_press_s,
                    pin_factory=pin_factory,
                )
                self.button.when_held = self._on_held
                self.button.when_released = self._on_released
            if config.buzzer_pin is not None:
                self.buzzer = Buzzer(config.buzzer_pin, pin_factory=pin_factory)
        except Exception:
            self.close()
            raise

    @property
    def enabled(self) -> bool:
        return self.factory is not None

    @property
    def state(self) -> LedState | None:
        return self._state

    # ---------------------------------------------------------------- button (gpiozero's thread)

    def _on_held(self) -> None:
        self._held = True
        self._presses.put(Press.LONG)

    def _on_released(self) -> None:
        if not self._held:
            self._presses.put(Press.SHORT)
        self._held = False

    # ---------------------------------------------------------------- from the frame loop

    def poll_presses(self) -> list[Press]:
        """Presses since the last call, oldest first; never blocks."""
        presses = []
        while True:
            try:
                presses.append(self._presses.get_nowait())
            except queue.Empty:
                return presses

    def show(self, state: LedState) -> None:
        """Set the LED pattern; a repeat of the current state does nothing."""
        if state is self._state:
            return
        self._state = state
        if self.led is None:
            return
        pattern = PATTERNS[state]
        if pattern.on_s <= 0:
            self.led.off()
        elif pattern.off_s <= 0:
            self.led.on()
        else:
            self.led.blink(on_time=pattern.on_s, off_time=pattern.off_s, background=True)

    def buzz(self) -> None:
        """One short pulse (a form fault); runs in the background."""
        if self.buzzer is not None:
            self.buzzer.blink(on_time=self.config.buzz_s, off_time=0.01, n=1, background=True)

    def close(self) -> None:
        for part in (self.led, self.button, self.buzzer):
            if part is not None:
                part.close()
        self.led = self.button = self.buzzer = None


def open_gpio(config: GpioConfig) -> Gpio:
    """The device's GPIO, or a silent stand-in when disabled or when this machine has none."""
    if not config.enabled:
        return Gpio(config, None)
    try:
        factory = make_pin_factory(config.pin_factory)
        return Gpio(config, factory)
    except Exception as err:  # gpiozero raises BadPinFactory, PinInvalidPin, OSError, RuntimeError...
        _log.info("GPIO off: %s (%s)", type(err).__name__, err)
        return Gpio(config, None)
