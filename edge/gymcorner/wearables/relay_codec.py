"""The ESP32 relay's serial frame codec, v1: one file for CPython (the edge) and MicroPython
(the board, which gets this very file from tools/flash_esp32.py).

Wire format of one frame::

    0x00 | COBS( version:u8 | type:u8 | seq:u16 LE | body | crc:u16 BE ) | 0x00

* COBS removes every 0x00 from the frame, so 0x00 only ever delimits. A frame is opened AND
  closed by a delimiter: if noise eats the closing 0x00 of one frame, the next frame's
  opening 0x00 still starts it cleanly, so corruption never takes an intact neighbour down.
* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection; check("123456789") = 0x29B1)
  over version..body.
* `seq` counts frames per direction (wraps at 65536); a gap tells the reader frames were lost.

Why it is written like this: it must run unchanged under MicroPython, so no typing imports,
no dataclasses, no f-strings, `struct` only with formats MicroPython has, `const()` guarded,
and `bytes.find` rather than bytearray methods MicroPython lacks. COBS is written here by
hand (not the `cobs` package, a C extension with a CPython fallback that cannot be installed
on the board); the tests check it against that package and the CRC against the `crc` package.
"""

import struct

try:
    from micropython import const
except ImportError:  # CPython

    def const(value):
        return value


VERSION = const(1)
MAX_INNER = const(250)  # version..crc, before COBS; the largest body is MAX_INNER - 6
MAX_BODY = const(244)
_HEADER = const(4)
_OVERHEAD = const(6)
MAX_WIRE = const(254)  # COBS adds at most one byte per 254, plus one: 252 + 2 delimiters

# frame types, relay -> edge
T_HR = const(0x01)  # one Heart Rate Measurement notification, relayed verbatim
T_STATUS = const(0x02)  # heartbeat: the relay's own state
T_STRAP = const(0x03)  # a strap connected / disconnected, its battery and body location
T_SCAN = const(0x04)  # one scan result (answer to CMD_SCAN)
T_REPLY = const(0x05)  # the answer to one command
# frame types, edge -> relay
T_CMD = const(0x10)

# commands (body of T_CMD: cmd:u8 | args)
CMD_SCAN = const(1)  # args: duration_ms:u16 LE
CMD_CONNECT = const(2)  # args: addr_type:u8 | addr:6
CMD_LIST = const(3)  # no args; the relay answers with a T_STATUS frame and a reply
CMD_DISCONNECT = const(4)  # args: addr:6

# strap states in T_STATUS, strap events in T_STRAP
S_IDLE = const(0)
S_CONNECTING = const(1)
S_CONNECTED = const(2)
E_CONNECTED = const(1)
E_DISCONNECTED = const(2)
UNKNOWN_U8 = const(0xFF)  # battery or location not known

# ------------------------------------------------------------------ CRC-16/CCITT-FALSE


def _make_table():
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _make_table()


def crc16(data, crc=0xFFFF):
    table = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ b]
    return crc


# ------------------------------------------------------------------ COBS


class CodecError(ValueError):
    pass


def cobs_encode(data):
    """Standard COBS (Cheshire & Baker 1999): no 0x00 in the output, at most 1 byte per 254 added."""
    out = bytearray(b"\x00")
    code_at = 0
    code = 1
    last = len(data) - 1
    for i in range(len(data)):
        b = data[i]
        if b == 0:
            out[code_at] = code
            code_at = len(out)
            out.append(0)
            code = 1
        else:
            out.append(b)
            code += 1
            if code == 0xFF and i != last:
                out[code_at] = code
                code_at = len(out)
                out.append(0)
                code = 1
    out[code_at] = code
    return bytes(out)


def cobs_decode(data):
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise CodecError("zero byte inside a COBS block")
        end = i + code
        if end > n:
            raise CodecError("COBS block runs past the end")
        out.extend(data[i + 1 : end])
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


# ------------------------------------------------------------------ frames


class Frame:
    """One decoded frame; `body` is bytes."""

    def __init__(self, ftype, seq, body, version=VERSION):
        self.version = version
        self.ftype = ftype
        self.seq = seq
        self.body = body

    def __eq__(self, other):
        return (
            isinstance(other, Frame)
            and self.ftype == other.ftype
            and self.seq == other.seq
            and self.body == other.body
            and self.version == other.version
        )

    def __repr__(self):
        return "Frame(type=0x%02x, seq=%d, body=%r)" % (self.ftype, self.seq, self.body)  # noqa: UP031 - MicroPython too


def encode_frame(ftype, seq, body):
    """The wire bytes of one frame, delimiters included."""
    if len(body) > MAX_BODY:
        raise CodecError("frame body too long")
    inner = bytearray(struct.pack("<BBH", VERSION, ftype, seq & 0xFFFF))
    inner.extend(body)
    inner.extend(struct.pack(">H", crc16(inner)))
    return b"\x00" + cobs_encode(inner) + b"\x00"


def decode_frame(encoded):
    """One frame from its COBS bytes (delimiters stripped); raises CodecError naming the fault."""
    inner = cobs_decode(encoded)
    if len(inner) < _OVERHEAD:
        raise CodecError("runt")
    (crc,) = struct.unpack(">H", inner[-2:])
    if crc16(memoryview(inner)[:-2]) != crc:
        raise CodecError("crc")
    version, ftype, seq = struct.unpack("<BBH", inner[:_HEADER])
    if version != VERSION:
        raise CodecError("version")
    return Frame(ftype, seq, bytes(inner[_HEADER:-2]), version)


class Encoder:
    """Numbers the frames of one direction."""

    def __init__(self, seq=0):
        self.seq = seq & 0xFFFF

    def frame(self, ftype, body):
        wire = encode_frame(ftype, self.seq, body)
        self.seq = (self.seq + 1) & 0xFFFF
        return wire


class Decoder:
    """Splits a byte stream into frames; resynchronises on the next 0x00 after any fault.

    Never raises on bad input: every fault is counted and the bytes are dropped. Memory is
    bounded: a run of more than MAX_WIRE bytes without a delimiter is discarded as an overrun.
    """

    def __init__(self):
        self._buf = bytearray()
        self._overrun = False
        self.frames = 0
        self.bad_crc = 0
        self.bad_cobs = 0
        self.bad_version = 0
        self.runts = 0
        self.overruns = 0
        self.dropped_bytes = 0

    def counters(self):
        return {
            "frames": self.frames,
            "bad_crc": self.bad_crc,
            "bad_cobs": self.bad_cobs,
            "bad_version": self.bad_version,
            "runts": self.runts,
            "overruns": self.overruns,
            "dropped_bytes": self.dropped_bytes,
        }

    def feed(self, data):
        """Every complete, valid frame in `data` (plus what was buffered), in order."""
        data = bytes(data)
        frames = []
        start = 0
        n = len(data)
        while start < n:
            z = data.find(b"\x00", start)
            end = n if z < 0 else z
            if not self._overrun:
                if len(self._buf) + (end - start) > MAX_WIRE:
                    self._overrun = True
                    self.overruns += 1
                    self.dropped_bytes += len(self._buf)
                    self._buf = bytearray()
                else:
                    self._buf.extend(data[start:end])
            if self._overrun:
                self.dropped_bytes += end - start
            if z < 0:
                break
            if self._overrun:
                self._overrun = False
            elif self._buf:
                frame = self._take(bytes(self._buf))
                if frame is not None:
                    frames.append(frame)
                self._buf = bytearray()
            start = z + 1
        return frames

    def _take(self, encoded):
        try:
            frame = decode_frame(encoded)
        except CodecError as err:
            why = err.args[0] if err.args else ""
            if why == "crc":
                self.bad_crc += 1
            elif why == "runt":
                self.runts += 1
            elif why == "version":
                self.bad_version += 1
            else:
                self.bad_cobs += 1
            self.dropped_bytes += len(encoded)
            return None
        self.frames += 1
        return frame


# ------------------------------------------------------------------ bodies
# addr is 6 bytes, most significant first (as printed: AA:BB:CC:DD:EE:FF).


def pack_hr(slot, addr, t_ms, rssi, value):
    return struct.pack("<B6sIb", slot, addr, t_ms & 0xFFFFFFFF, rssi) + bytes(value)


def unpack_hr(body):
    """(slot, addr, t_ms, rssi, raw 0x2A37 value)"""
    if len(body) < 12:
        raise CodecError("short hr body")
    slot, addr, t_ms, rssi = struct.unpack("<B6sIb", body[:12])
    return slot, addr, t_ms, rssi, body[12:]


def pack_status(uptime_ms, dropped, rx_bad, straps):
    """straps: (slot, addr, state, rssi, battery) tuples."""
    out = bytearray(struct.pack("<IIHB", uptime_ms & 0xFFFFFFFF, dropped & 0xFFFFFFFF, rx_bad & 0xFFFF, len(straps)))
    for slot, addr, state, rssi, battery in straps:
        out.extend(struct.pack("<B6sBbB", slot, addr, state, rssi, battery))
    return bytes(out)


def unpack_status(body):
    """(uptime_ms, dropped notifications, bad frames received, [(slot, addr, state, rssi, battery)])"""
    if len(body) < 11:
        raise CodecError("short status body")
    uptime_ms, dropped, rx_bad, count = struct.unpack("<IIHB", body[:11])
    if len(body) != 11 + 10 * count:
        raise CodecError("status body length")
    straps = []
    for i in range(count):
        straps.append(struct.unpack("<B6sBbB", body[11 + 10 * i : 21 + 10 * i]))
    return uptime_ms, dropped, rx_bad, straps


def pack_strap(slot, addr, event, battery, location):
    return struct.pack("<B6sBBB", slot, addr, event, battery, location)


def unpack_strap(body):
    """(slot, addr, event, battery, location)"""
    if len(body) != 10:
        raise CodecError("strap body length")
    return struct.unpack("<B6sBBB", body)


def pack_scan(addr_type, addr, rssi, has_hrs, name):
    return struct.pack("<B6sbB", addr_type, addr, rssi, 1 if has_hrs else 0) + name[:32]


def unpack_scan(body):
    """(addr_type, addr, rssi, has_hrs, name bytes)"""
    if len(body) < 9:
        raise CodecError("short scan body")
    addr_type, addr, rssi, flags = struct.unpack("<B6sbB", body[:9])
    return addr_type, addr, rssi, bool(flags & 1), body[9:]


def pack_command(cmd, args=b""):
    return bytes([cmd]) + bytes(args)


def unpack_command(body):
    """(cmd, args)"""
    if not body:
        raise CodecError("empty command")
    return body[0], body[1:]


def pack_reply(cmd_seq, cmd, ok, text=b""):
    return struct.pack("<HBB", cmd_seq & 0xFFFF, cmd, 1 if ok else 0) + text[:200]


def unpack_reply(body):
    """(seq of the command answered, cmd, ok, text bytes)"""
    if len(body) < 4:
        raise CodecError("short reply body")
    cmd_seq, cmd, ok = struct.unpack("<HBB", body[:4])
    return cmd_seq, cmd, bool(ok), body[4:]
