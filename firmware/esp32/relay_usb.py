# The relay's serial link on the board: frames out on USB stdout, commands in from stdin.

import sys

import asyncio
from micropython import const

_BOOT_PIN = const(0)
_READ_CHUNK = const(64)


class UsbLink:
    def __init__(self):
        self._out = sys.stdout.buffer
        self._in = asyncio.StreamReader(sys.stdin.buffer)

    def write(self, frame):
        try:
            written = self._out.write(frame)
        except OSError:
            return False
        return written is None or written == len(frame)

    async def read(self):
        return await self._in.read(_READ_CHUNK)


def safe_mode():
    """BOOT held at reset: skip the relay and leave the REPL to mpremote."""
    from machine import Pin

    return Pin(_BOOT_PIN, Pin.IN, Pin.PULL_UP).value() == 0
