"""Readings from the ESP32 relay over USB serial (pyserial), on a thread of their own.

The port is the configured one or the first whose USB VID:PID is an ESP32 board's. Bytes go
through `relay_codec.Decoder`, which resynchronises on the next delimiter after garbage and
counts every bad frame; a bad payload inside a good frame is counted too. Nothing here
raises into the daemon: a pulled cable (read error) closes the port, and the thread reopens
it every `reopen_delay_s` until the board is back. Reads use a short timeout so stop() is
honoured at once, and the sink must not block (WearablesService's does not).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gymcorner.config.wearables import WearablesSerialConfig
from gymcorner.wearables import relay_codec as codec
from gymcorner.wearables.gatt import BodySensorLocation, GattError, parse_heart_rate_measurement
from gymcorner.wearables.readings import (
    EventSink,
    HeartRateReading,
    RelayStatus,
    StrapState,
    normalise_address,
)

_log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.05
MAX_SEQ_GAP = 1024  # a bigger jump is a relay restart, not lost frames
MAX_SCAN_RESULTS = 64


def find_relay_port(usb_ids: list[str]) -> str | None:
    """The first serial port whose USB VID:PID is in `usb_ids` ("303a:1001" ...)."""
    from serial.tools import list_ports

    wanted = {tuple(int(x, 16) for x in i.split(":")) for i in usb_ids}
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        if port.vid is not None and (port.vid, port.pid) in wanted:
            return str(port.device)
    return None


class SerialRelaySource:
    name = "serial"

    def __init__(
        self,
        config: WearablesSerialConfig,
        sink: EventSink,
        clock: Callable[[], float] = time.monotonic,
        find_port: Callable[[list[str]], str | None] = find_relay_port,
    ) -> None:
        self._config = config
        self._sink = sink
        self._clock = clock
        self._find_port = find_port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial: Any = None
        self._write_lock = threading.Lock()
        self._encoder = codec.Encoder()
        self._decoder = codec.Decoder()
        self._cond = threading.Condition()
        self._replies: dict[int, tuple[bool, str]] = {}
        self.scan_results: list[dict[str, Any]] = []
        self.port: str | None = None
        self._last_seq: int | None = None
        self._last_frame_t: float | None = None
        self._strap_connected: dict[str, bool] = {}
        self._counts = dict.fromkeys(
            ("opens", "disconnects", "readings", "bad_payload", "seq_lost", "sink_errors", "tx_frames", "tx_errors"), 0
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gymcorner-wearables-serial", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._close()

    def stats(self) -> dict[str, Any]:
        silent = self._last_frame_t is None or self._clock() - self._last_frame_t > self._config.heartbeat_timeout_s
        return {
            "port": self.port,
            "connected": self._serial is not None,
            "relay_silent": silent,
            **self._counts,
            **self._decoder.counters(),
        }

    # ------------------------------------------------------------------ commands

    def send_command(self, cmd: int, args: bytes = b"") -> int | None:
        """Write one command frame; returns its seq (the reply carries it), None if no port."""
        ser = self._serial
        if ser is None:
            return None
        with self._write_lock:
            seq = self._encoder.seq
            try:
                ser.write(self._encoder.frame(codec.T_CMD, codec.pack_command(cmd, args)))
                ser.flush()
            except OSError as err:  # pyserial's SerialException (a port that went away) is one
                self._counts["tx_errors"] += 1
                _log.debug("relay command not sent: %s", err)
                return None
        self._counts["tx_frames"] += 1
        return seq

    def scan(self, duration_ms: int = 3000) -> int | None:
        return self.send_command(codec.CMD_SCAN, duration_ms.to_bytes(2, "little"))

    def connect(self, address: str, addr_type: int = 0) -> int | None:
        addr = bytes.fromhex(normalise_address(address).replace(":", ""))
        return self.send_command(codec.CMD_CONNECT, bytes([addr_type]) + addr)

    def list_straps(self) -> int | None:
        return self.send_command(codec.CMD_LIST)

    def wait_reply(self, seq: int, timeout_s: float) -> tuple[bool, str] | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while seq not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._replies.pop(seq)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._serial is None and not self._open():
                self._stop.wait(self._config.reopen_delay_s)
                continue
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except Exception as err:
                self._counts["disconnects"] += 1
                _log.warning(
                    "relay port %s lost (%s); reopening every %g s", self.port, err, self._config.reopen_delay_s
                )
                self._close()
                continue
            if data:
                self.feed(data)

    def _open(self) -> bool:
        import serial

        port = self._config.port or self._find_port(self._config.usb_ids)
        if port is None:
            return False
        try:
            ser = serial.Serial(port, self._config.baudrate, timeout=READ_TIMEOUT_S, write_timeout=0.5)
        except (serial.SerialException, OSError, ValueError) as err:
            _log.debug("relay port %s not open: %s", port, err)
            return False
        self.port = port
        self._last_seq = None
        self._serial = ser
        self._counts["opens"] += 1
        _log.info("ESP32 relay on %s", port)
        self.list_straps()  # the relay answers with its status at once, not at the next heartbeat
        return True

    def _close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except OSError as err:  # pyserial's SerialException is one; the port is going anyway
                _log.debug("relay port close: %s", err)

    # ------------------------------------------------------------------ frames

    def feed(self, data: bytes) -> None:
        """Decode bytes and hand every event to the sink (public for tests and tools)."""
        for frame in self._decoder.feed(data):
            self._account_seq(frame.seq)
            self._last_frame_t = self._clock()
            try:
                events = self._events(frame)
            except (codec.CodecError, GattError, ValueError) as err:
                self._counts["bad_payload"] += 1
                _log.debug("relay frame %r dropped: %s", frame, err)
                continue
            for event in events:
                try:
                    self._sink(event)
                except Exception:  # the sink is the caller's code: count and log it, keep reading the relay
                    self._counts["sink_errors"] += 1
                    _log.exception("wearables sink failed")

    def _account_seq(self, seq: int) -> None:
        if self._last_seq is not None:
            gap = (seq - self._last_seq - 1) & 0xFFFF
            if 0 < gap <= MAX_SEQ_GAP:
                self._counts["seq_lost"] += gap
        self._last_seq = seq

    def _events(self, frame: codec.Frame) -> list[Any]:
        now = self._clock()
        if frame.ftype == codec.T_HR:
            _slot, addr, _t_ms, rssi, value = codec.unpack_hr(frame.body)
            m = parse_heart_rate_measurement(value)
            self._counts["readings"] += 1
            address = normalise_address(addr)
            self._strap_connected[address] = True
            return [
                HeartRateReading(
                    address,
                    now,
                    m.heart_rate_bpm,
                    m.sensor_contact,
                    m.energy_expended_kj,
                    m.rr_intervals_ms,
                    rssi,
                    "serial",
                )
            ]
        if frame.ftype == codec.T_STRAP:
            _slot, addr, event, battery, location = codec.unpack_strap(frame.body)
            loc = None
            if location != codec.UNKNOWN_U8 and location in BodySensorLocation._value2member_map_:
                loc = BodySensorLocation(location).name.lower()
            address = normalise_address(addr)
            self._strap_connected[address] = event == codec.E_CONNECTED
            return [
                StrapState(
                    address, now, event == codec.E_CONNECTED, None if battery == codec.UNKNOWN_U8 else battery, loc
                )
            ]
        if frame.ftype == codec.T_STATUS:
            uptime_ms, dropped, rx_bad, straps = codec.unpack_status(frame.body)
            rows = tuple(
                {
                    "slot": s,
                    "address": normalise_address(a),
                    "state": st,
                    "rssi_dbm": r,
                    "battery_pct": None if b == codec.UNKNOWN_U8 else b,
                }
                for s, a, st, r, b in straps
            )
            events: list[Any] = [RelayStatus(now, uptime_ms, dropped, rx_bad, rows)]
            # The heartbeat also repairs a missed strap event (e.g. sent before the port was opened).
            for row in rows:
                connected = row["state"] == codec.S_CONNECTED
                if self._strap_connected.get(row["address"]) != connected:
                    self._strap_connected[row["address"]] = connected
                    events.append(StrapState(row["address"], now, connected, row["battery_pct"]))
            return events
        if frame.ftype == codec.T_SCAN:
            addr_type, addr, rssi, has_hrs, name = codec.unpack_scan(frame.body)
            if len(self.scan_results) < MAX_SCAN_RESULTS:
                self.scan_results.append(
                    {
                        "address": normalise_address(addr),
                        "addr_type": addr_type,
                        "rssi_dbm": rssi,
                        "heart_rate": has_hrs,
                        "name": name.decode("utf-8", "replace"),
                    }
                )
            return []
        if frame.ftype == codec.T_REPLY:
            cmd_seq, _cmd, ok, text = codec.unpack_reply(frame.body)
            with self._cond:
                self._replies[cmd_seq] = (ok, text.decode("utf-8", "replace"))
                if len(self._replies) > 64:
                    self._replies.pop(next(iter(self._replies)))
                self._cond.notify_all()
            return []
        raise codec.CodecError(f"unknown frame type 0x{frame.ftype:02x}")
