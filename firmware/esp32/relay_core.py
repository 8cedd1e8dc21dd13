# The relay's logic: straps, reconnects, heartbeats and commands over the serial link.
#
# Portable on purpose: it runs on the board (MicroPython, with relay_ble + relay_usb) and,
# unchanged, under CPython in the tests (with a simulated BLE layer and a pty link). It
# never touches `bluetooth` or the USB port itself; it talks to two small interfaces:
#
#   ble.scan(duration_ms) -> [(addr_type, addr, rssi, has_hrs, name)]
#   ble.connect(addr_type, addr, timeout_ms) -> conn   (raises when it cannot)
#   conn.notified(timeout_ms) -> bytes, or None on timeout / disconnect
#   conn.is_connected(), conn.read_u8(which, timeout_ms) -> int (0xFF unknown),
#   conn.disconnect()
#   link.write(frame) -> bool,  link.read() -> bytes (awaitable)
#
# Every wait has a timeout; a strap that is lost is retried with exponential backoff.

import asyncio

import relay_codec as codec

try:
    from micropython import const
except ImportError:

    def const(value):
        return value


try:
    from time import ticks_diff, ticks_ms
except ImportError:  # CPython
    import time

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


RSSI_UNKNOWN = const(-128)
READ_BATTERY = const(1)
READ_LOCATION = const(2)


class Strap:
    def __init__(self, slot, addr_type, addr, rssi):
        self.slot = slot
        self.addr_type = addr_type
        self.addr = addr
        self.rssi = rssi
        self.state = codec.S_IDLE
        self.battery = codec.UNKNOWN_U8
        self.task = None
        self.conn = None
        self.notifications = 0


class Relay:
    def __init__(self, ble, link, config):
        self.ble = ble
        self.link = link
        self.config = config
        self.encoder = codec.Encoder()
        self.decoder = codec.Decoder()
        self.straps = []
        self.dropped = 0  # notifications that could not be relayed
        self.commands = 0
        self.started_ms = ticks_ms()
        self.running = True

    # ------------------------------------------------------------ output

    def send(self, ftype, body):
        if self.link.write(self.encoder.frame(ftype, body)):
            return True
        if ftype == codec.T_HR:
            self.dropped += 1
        return False

    def uptime_ms(self):
        return ticks_diff(ticks_ms(), self.started_ms)

    def send_status(self):
        rows = [(s.slot, s.addr, s.state, s.rssi, s.battery) for s in self.straps]
        bad = self.decoder.bad_crc + self.decoder.bad_cobs + self.decoder.runts + self.decoder.bad_version
        self.send(codec.T_STATUS, codec.pack_status(self.uptime_ms(), self.dropped, bad, rows))

    # ------------------------------------------------------------ tasks

    async def run(self):
        tasks = [
            asyncio.create_task(self.heartbeat()),
            asyncio.create_task(self.command_loop()),
            asyncio.create_task(self.discover()),
        ]
        try:
            while self.running:
                await asyncio.sleep(0.2)
        finally:
            for task in tasks + [s.task for s in self.straps if s.task is not None]:
                task.cancel()
            await asyncio.sleep(0)  # let the cancelled tasks unwind

    async def heartbeat(self):
        while self.running:
            self.send_status()
            await asyncio.sleep(self.config["heartbeat_ms"] / 1000)

    async def command_loop(self):
        while self.running:
            data = await self.link.read()
            for frame in self.decoder.feed(data):
                if frame.ftype == codec.T_CMD:
                    await self.handle(frame)

    async def discover(self):
        for addr_type, addr in self.config["addresses"]:
            self.add_strap(addr_type, addr, RSSI_UNKNOWN)
        if self.config["addresses"]:
            return
        while self.running:
            if len(self.straps) < self.config["max_straps"]:
                for addr_type, addr, rssi, has_hrs, _name in await self.scan(self.config["scan_ms"]):
                    if has_hrs:
                        self.add_strap(addr_type, addr, rssi)
            await asyncio.sleep(self.config["rescan_ms"] / 1000)

    async def scan(self, duration_ms):
        try:
            return await self.ble.scan(duration_ms)
        except Exception:  # the radio may be busy connecting; the next scan will do
            return []

    def find(self, addr):
        for strap in self.straps:
            if strap.addr == addr:
                return strap
        return None

    def add_strap(self, addr_type, addr, rssi):
        if self.find(addr) is not None or len(self.straps) >= self.config["max_straps"]:
            return None
        used = [s.slot for s in self.straps]
        slot = 0
        while slot in used:
            slot += 1
        strap = Strap(slot, addr_type, addr, rssi)
        self.straps.append(strap)
        strap.task = asyncio.create_task(self.strap_loop(strap))
        return strap

    async def strap_loop(self, strap):
        cfg = self.config
        delay_ms = cfg["reconnect_min_ms"]
        while self.running:
            strap.state = codec.S_CONNECTING
            conn = None
            try:
                conn = await self.ble.connect(strap.addr_type, strap.addr, cfg["connect_timeout_ms"])
            except Exception:
                conn = None
            if conn is not None:
                strap.conn = conn
                strap.state = codec.S_CONNECTED
                strap.battery = await conn.read_u8(READ_BATTERY, cfg["connect_timeout_ms"])
                location = await conn.read_u8(READ_LOCATION, cfg["connect_timeout_ms"])
                self.send(codec.T_STRAP, codec.pack_strap(strap.slot, strap.addr, codec.E_CONNECTED, strap.battery, location))
                delay_ms = cfg["reconnect_min_ms"]
                await self.relay_notifications(strap, conn)
                strap.conn = None
                self.send(codec.T_STRAP, codec.pack_strap(strap.slot, strap.addr, codec.E_DISCONNECTED, strap.battery, codec.UNKNOWN_U8))
            strap.state = codec.S_IDLE
            await asyncio.sleep(delay_ms / 1000)
            delay_ms = min(delay_ms * 2, cfg["reconnect_max_ms"])

    async def relay_notifications(self, strap, conn):
        timeout_ms = self.config["notify_timeout_ms"]
        while self.running:
            value = await conn.notified(timeout_ms)
            if value is None:
                if not conn.is_connected():
                    return
                continue
            strap.notifications += 1
            self.send(codec.T_HR, codec.pack_hr(strap.slot, strap.addr, self.uptime_ms(), strap.rssi, value))

    # ------------------------------------------------------------ commands

    async def handle(self, frame):
        self.commands += 1
        try:
            cmd, args = codec.unpack_command(frame.body)
        except codec.CodecError:
            return
        ok = True
        text = b""
        if cmd == codec.CMD_SCAN:
            duration_ms = args[0] | (args[1] << 8) if len(args) >= 2 else self.config["scan_ms"]
            found = await self.scan(min(duration_ms, 30000))
            for addr_type, addr, rssi, has_hrs, name in found:
                self.send(codec.T_SCAN, codec.pack_scan(addr_type, addr, rssi, has_hrs, name))
            text = str(len(found)).encode() + b" found"
        elif cmd == codec.CMD_CONNECT and len(args) == 7:
            strap = self.add_strap(args[0], bytes(args[1:7]), RSSI_UNKNOWN)
            ok = strap is not None
            text = (b"slot " + str(strap.slot).encode()) if ok else b"known or no free slot"
        elif cmd == codec.CMD_LIST:
            self.send_status()
        elif cmd == codec.CMD_DISCONNECT and len(args) == 6:
            strap = self.find(bytes(args))
            ok = strap is not None
            if ok:
                strap.task.cancel()
                self.straps.remove(strap)
                if strap.conn is not None:
                    try:
                        await strap.conn.disconnect()
                    except Exception:
                        pass
        else:
            ok = False
            text = b"unknown command"
        self.send(codec.T_REPLY, codec.pack_reply(frame.seq, cmd, ok, text))
