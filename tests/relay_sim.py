"""The ESP32 relay under CPython: its own relay_core against simulated straps, writing into
a real pty. Used by the tests and by `python tools/bench_serial.py`.

`load_relay_core()` imports firmware/esp32/relay_core.py with `relay_codec` bound to this
package's relay_codec module: the same file tools/flash_esp32.py copies to the board.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import threading
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gymcorner.wearables import relay_codec

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware" / "esp32"


def load_relay_core() -> Any:
    sys.modules.setdefault("relay_codec", relay_codec)
    spec = importlib.util.spec_from_file_location("relay_core", FIRMWARE_DIR / "relay_core.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def relay_config(**overrides: Any) -> dict[str, Any]:
    config = {
        "max_straps": 4,
        "addresses": [],
        "scan_ms": 50,
        "rescan_ms": 100,
        "heartbeat_ms": 200,
        "connect_timeout_ms": 500,
        "notify_timeout_ms": 200,
        "reconnect_min_ms": 50,
        "reconnect_max_ms": 400,
    }
    config.update(overrides)
    return config


class SimConn:
    def __init__(self, strap: SimStrap) -> None:
        self.strap = strap
        self.connected = True
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def notified(self, timeout_ms: int) -> bytes | None:
        if not self.connected:
            return None
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_ms / 1000)
        except asyncio.TimeoutError:
            return None

    def is_connected(self) -> bool:
        return self.connected

    async def read_u8(self, which: int, timeout_ms: int) -> int:
        return self.strap.battery if which == 1 else 1  # chest

    async def disconnect(self) -> None:
        self.connected = False


class SimStrap:
    def __init__(self, addr: bytes, rssi: int = -60, battery: int = 87) -> None:
        self.addr = addr
        self.rssi = rssi
        self.battery = battery
        self.present = True
        self.conn: SimConn | None = None
        self.connects = 0

    def notify(self, value: bytes) -> bool:
        """Call on the relay's loop. False when no central is subscribed (the value is lost)."""
        if self.conn is None or not self.conn.connected:
            return False
        self.conn.queue.put_nowait(value)
        return True

    def walk_away(self) -> None:
        self.present = False
        if self.conn is not None:
            self.conn.connected = False
            self.conn.queue.put_nowait(None)


class SimBle:
    """relay_core's BLE interface over SimStraps."""

    def __init__(self, straps: list[SimStrap]) -> None:
        self.straps = {s.addr: s for s in straps}

    async def scan(self, duration_ms: int) -> list[tuple[int, bytes, int, bool, bytes]]:
        await asyncio.sleep(min(duration_ms, 50) / 1000)
        return [(0, s.addr, s.rssi, True, b"SimStrap") for s in self.straps.values() if s.present]

    async def connect(self, addr_type: int, addr: bytes, timeout_ms: int) -> SimConn:
        strap = self.straps.get(addr)
        if strap is None or not strap.present:
            await asyncio.sleep(min(timeout_ms, 20) / 1000)
            raise OSError("no such strap in range")
        strap.conn = SimConn(strap)
        strap.connects += 1
        return strap.conn


class PtyLink:
    """The relay's end of a real pty pair; the edge opens `path` (a symlink, like
    /dev/serial/by-id) with pyserial. `replug()` closes the pty and makes a new one."""

    def __init__(self, path: Path, corrupt: Callable[[bytes], bytes] | None = None) -> None:
        self.path = path
        self.corrupt = corrupt
        self.master = -1
        self.slave = -1
        self.written_frames = 0
        self._open()

    def _open(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        tmp = self.path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.path)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1

    def replug(self) -> None:
        self.close()
        self._open()

    def unplug(self) -> None:
        self.close()

    def write(self, frame: bytes) -> bool:
        if self.master < 0:
            return False
        data = self.corrupt(frame) if self.corrupt is not None else frame
        view = memoryview(data)
        try:
            while view:
                try:
                    n = os.write(self.master, view)
                    view = view[n:]
                except BlockingIOError:
                    import select

                    if not select.select([], [self.master], [], 1.0)[1]:
                        return False
        except OSError:
            return False
        self.written_frames += 1
        return True

    async def read(self) -> bytes:
        while True:
            if self.master >= 0:
                try:
                    data = os.read(self.master, 512)
                    if data:
                        return data
                except (BlockingIOError, OSError):
                    pass
            await asyncio.sleep(0.005)


class RelayThread:
    """Runs relay_core.Relay on an asyncio loop in a thread of its own."""

    def __init__(self, ble: SimBle, link: PtyLink, config: dict[str, Any]) -> None:
        core = load_relay_core()
        self.relay = core.Relay(ble, link, config)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="sim-relay", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.relay.run())
        pending = asyncio.all_tasks(self.loop)  # strap tasks still unwinding their cancellation
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def start(self) -> RelayThread:
        self._thread.start()
        return self

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the relay's loop and return its result."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(5.0)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(setattr, self.relay, "running", False)
        self._thread.join(5.0)
