"""GPIO with gpiozero's MockFactory: LED patterns, short/long presses, buzzer, no-GPIO fallback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("gpiozero", reason="gpiozero not installed (pip install gpiozero)")

from mqtt_helpers import wait_until

from gymcorner.config import GpioConfig
from gymcorner.device.gpio import PATTERNS, Gpio, LedState, Press, open_gpio

LED, BUTTON, BUZZER = 17, 27, 22


@pytest.fixture
def gpio() -> Iterator[Gpio]:
    config = GpioConfig(pin_factory="mock", led_pin=LED, button_pin=BUTTON, buzzer_pin=BUZZER, long_press_s=0.1)
    device = open_gpio(config)
    assert device.enabled
    yield device
    device.close()


def pin(gpio: Gpio, number: int):
    return gpio.factory.pin(number)


def test_steady_states_drive_the_led(gpio: Gpio) -> None:
    gpio.show(LedState.COACHING)
    assert pin(gpio, LED).state
    gpio.show(LedState.PAUSED)
    assert not pin(gpio, LED).state


@pytest.mark.parametrize("state", [LedState.BOOTING, LedState.READY, LedState.CAMERA_LOST, LedState.ERROR])
def test_blinking_states_toggle_the_led(gpio: Gpio, state: LedState) -> None:
    gpio.show(state)
    led = pin(gpio, LED)
    wait_until(lambda: led.state, what="LED on")
    wait_until(lambda: not led.state, what="LED off")
    wait_until(lambda: led.state, what="LED on again")


def test_every_state_has_a_distinct_pattern() -> None:
    assert set(PATTERNS) == set(LedState)
    assert len(set(PATTERNS.values())) == len(LedState)


def test_short_press_queues_one_short(gpio: Gpio) -> None:
    button = pin(gpio, BUTTON)
    button.drive_low()  # pressed: the button pulls the pin to ground
    button.drive_high()
    wait_until(lambda: bool(gpio._presses.qsize()), what="a press")
    assert gpio.poll_presses() == [Press.SHORT]
    assert gpio.poll_presses() == []


def test_long_press_queues_one_long_and_no_short(gpio: Gpio) -> None:
    button = pin(gpio, BUTTON)
    button.drive_low()
    wait_until(lambda: bool(gpio._presses.qsize()), what="the hold")
    button.drive_high()
    assert gpio.poll_presses() == [Press.LONG]
    button.drive_low()
    button.drive_high()
    wait_until(lambda: bool(gpio._presses.qsize()), what="a press")
    assert gpio.poll_presses() == [Press.SHORT]


def test_buzzer_pulses_once(gpio: Gpio) -> None:
    buzzer = pin(gpio, BUZZER)
    gpio.buzz()
    wait_until(lambda: any(s.state for s in buzzer.states), what="buzzer on")
    wait_until(lambda: not buzzer.state, what="buzzer off again")


def test_no_gpio_on_this_machine_is_a_silent_stand_in() -> None:
    device = open_gpio(GpioConfig(pin_factory="no-such-factory"))
    assert not device.enabled
    device.show(LedState.ERROR)
    device.buzz()
    assert device.state is LedState.ERROR
    assert device.poll_presses() == []
    device.close()


def test_disabled_in_config_touches_no_pin() -> None:
    device = open_gpio(GpioConfig(enabled=False))
    assert not device.enabled and device.led is None and device.button is None


def test_optional_parts_left_out() -> None:
    device = open_gpio(GpioConfig(pin_factory="mock", led_pin=5, button_pin=None, buzzer_pin=None))
    try:
        assert device.led is not None and device.button is None and device.buzzer is None
        device.buzz()  # no buzzer wired: nothing happens
    finally:
        device.close()
