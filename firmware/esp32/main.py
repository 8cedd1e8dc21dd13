# ESP32 heart-rate relay: BLE straps in (aioble), framed binary out on USB serial.
# Hold BOOT while resetting to skip the relay and keep the REPL (for mpremote).

import asyncio

import micropython

import relay_ble
import relay_config
import relay_core
import relay_usb


def main():
    if relay_usb.safe_mode():
        return
    config = relay_config.load()
    micropython.kbd_intr(-1)  # 0x03 inside a command frame must not stop the relay
    relay = relay_core.Relay(relay_ble.AiobleLayer(), relay_usb.UsbLink(), config)
    asyncio.run(relay.run())


main()
