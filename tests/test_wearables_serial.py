"""The serial path with real parts: the firmware's relay_core (simulated straps) writes into
a real pty, the edge's SerialRelaySource reads the other end through pyserial, readings go
through a real Mosquitto to a real subscriber. Garbage, truncated frames, bad CRCs and a
pulled cable (pty closed, a new one made behind the same by-id style symlink) are injected."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Collector

pytest.importorskip("serial")

from mqtt_helpers import MqttSubscriber, wait_until
from relay_sim import PtyLink, RelayThread, SimBle, SimStrap, relay_config

from gymcorner.config import MqttConfig
from gymcorner.config.wearables import WearablesConfig, WearablesSerialConfig
from gymcorner.wearables import relay_codec as codec
from gymcorner.wearables.gatt import HeartRateMeasurement, encode_heart_rate_measurement
from gymcorner.wearables.readings import HeartRateReading, RelayStatus, StrapState
from gymcorner.wearables.serial_source import SerialRelaySource, find_relay_port
from gymcorner.wearables.service import WearablesService

A, B = bytes.fromhex("AABBCC000001"), bytes.fromhex("AABBCC000002")
SA, SB = "aabbcc000001", "aabbcc000002"


class Rig:
    def __init__(self, tmp_path: Path, max_straps: int = 2) -> None:
        self.straps = [SimStrap(A), SimStrap(B, rssi=-70)]
        self.link = PtyLink(tmp_path / "ttyRELAY")
        self.relay = RelayThread(SimBle(self.straps), self.link, relay_config(max_straps=max_straps)).start()

    def notify(self, strap: SimStrap, counter: int) -> bool:
        value = encode_heart_rate_measurement(HeartRateMeasurement(60 + counter % 100, True, counter, (800, 810)))
        return self.relay.call(strap.notify, value)

    def inject(self, data: bytes) -> None:
        """Raw bytes on the wire, between the relay's own frames (written on the relay's loop)."""
        self.relay.call(os.write, self.link.master, data)

    def both_connected(self) -> bool:
        return all(s.conn is not None and s.conn.connected for s in self.straps)

    def close(self) -> None:
        self.relay.stop()
        self.link.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


class Sink(Collector):
    def of(self, kind: type) -> list[Any]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]


def serial_config(rig: Rig) -> WearablesSerialConfig:
    return WearablesSerialConfig(port=str(rig.link.path), reopen_delay_s=0.05, heartbeat_timeout_s=2)


@pytest.mark.broker
def test_readings_reach_a_real_subscriber_despite_garbage_and_a_pulled_cable(rig: Rig, mosquitto_broker) -> None:
    from gymcorner.transport.mqtt import MqttPublisher

    publisher = MqttPublisher(MqttConfig(host=mosquitto_broker.host, port=mosquitto_broker.port), "corner-9")
    publisher.start()
    cfg = WearablesConfig.model_validate(
        {
            "source": "serial",
            "straps": {"AA:BB:CC:00:00:01": "alice"},
            "users": {"alice": {"max_hr_bpm": 190}},
            "serial": serial_config(rig).model_dump(),
        }
    )
    service = WearablesService(cfg, publisher)
    topic = "gymcorner/corner-9/wearables/"
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, topic + "#", qos=0) as sub:
        service.start()
        try:
            wait_until(rig.both_connected, what="relay connected to both straps")
            wait_until(lambda: service.source.stats()["connected"], what="edge opened the pty")
            wait_until(lambda: len(sub.messages(topic + SB)) >= 1, what="strap state published")
            good = 0
            bad_frame = bytearray(codec.encode_frame(codec.T_HR, 999, codec.pack_hr(0, A, 0, -1, b"\x00\x50")))
            bad_frame[5] ^= 0x01  # a CRC error
            truncated = codec.encode_frame(codec.T_HR, 998, codec.pack_hr(0, A, 0, -1, b"\x00\x51"))[:9]
            for i in range(60):
                assert rig.notify(rig.straps[i % 2], i)
                good += 1
                if i % 10 == 3:
                    rig.inject(b"\xde\xad\xbe\xef garbage \x00\x00\x13")
                if i % 10 == 5:
                    rig.inject(bytes(bad_frame))
                if i % 10 == 7:
                    rig.inject(truncated)
                if i % 20 == 9:
                    rig.inject(bytes(range(1, 256)) * 2)  # a long run with no delimiter: an overrun
            wait_until(lambda: service.source.stats()["readings"] >= good, what="every good frame read")
            stats = service.source.stats()
            assert stats["bad_crc"] >= 6 and stats["overruns"] == 3 and stats["seq_lost"] == 0
            assert stats["runts"] + stats["bad_cobs"] >= 6 and stats["dropped_bytes"] > 0

            rig.relay.call(rig.link.unplug)  # the cable is pulled
            wait_until(lambda: service.source.stats()["disconnects"] == 1, what="edge saw the cable go")
            rig.notify(rig.straps[0], 1000)  # relayed into a dead link: counted as dropped by the relay
            wait_until(lambda: rig.relay.relay.dropped == 1, what="relay counted the lost notification")
            rig.relay.call(rig.link.replug)  # and plugged back: a new pty behind the same path
            wait_until(lambda: service.source.stats()["opens"] == 2, what="edge reopened the port")
            for i in range(100, 110):
                assert rig.notify(rig.straps[i % 2], i)
            wait_until(lambda: service.source.stats()["readings"] >= good + 10, what="readings after replug")

            def counters(sensor: str) -> set[int]:
                return {
                    m.json()["energy_kj"] for m in sub.messages(topic + sensor) if m.json().get("energy_kj") is not None
                }

            expected_a = set(range(0, 60, 2)) | set(range(100, 110, 2))
            expected_b = set(range(1, 60, 2)) | set(range(101, 110, 2))
            wait_until(lambda: counters(SA) >= expected_a and counters(SB) >= expected_b, what="all on the broker")
            assert counters(SA) == expected_a and counters(SB) == expected_b  # 0 good frames lost, none invented
            last = sub.messages(topic + SA)[-1].json()
            assert (
                last["v"] == 1 and last["device"] == "corner-9" and last["user"] == "alice" and last["via"] == "serial"
            )
            assert last["zone"] is not None and last["rr_ms"] == [781.2, 791.0] and last["battery_pct"] == 87
            assert service.snapshot()["straps"][SA]["readings"] == 35
            primary = {
                m.json()["energy_kj"]
                for m in sub.messages(topic + "heart_rate")
                if m.json().get("energy_kj") is not None
            }
            assert primary == expected_a  # alice's strap, the first mapped, is the primary one
        finally:
            service.stop()
            publisher.close()


def test_commands_scan_list_connect(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_straps=3)
    sink = Sink()
    source = SerialRelaySource(serial_config(rig), sink)
    source.start()
    try:
        wait_until(lambda: source.stats()["connected"], what="port open")
        seq = source.scan(100)
        assert source.wait_reply(seq, 5.0) == (True, "2 found")
        assert {r["address"] for r in source.scan_results} == {"AA:BB:CC:00:00:01", "AA:BB:CC:00:00:02"}
        source._serial.write(b"\x00\x07noise\x00")  # a bad frame towards the relay, counted there
        seq = source.list_straps()
        assert source.wait_reply(seq, 5.0) == (True, "")
        wait_until(
            lambda: any(s.bad_commands >= 1 and len(s.straps) == 2 for s in sink.of(RelayStatus)),
            what="status with the relay's bad-frame count",
        )
        seq = source.connect("AA:BB:CC:00:00:03")
        assert source.wait_reply(seq, 5.0) == (True, "slot 2")
        assert source.wait_reply(source.connect("AA:BB:CC:00:00:03"), 5.0) == (False, "known or no free slot")
        wait_until(lambda: len(sink.of(StrapState)) >= 2, what="strap states")
        status = sink.of(RelayStatus)[-1]
        assert status.uptime_ms > 0 and {s["address"] for s in status.straps} >= {"AA:BB:CC:00:00:01"}
    finally:
        source.stop()
        rig.close()


def test_missing_port_is_retried_and_relay_silence_is_reported(tmp_path: Path) -> None:
    sink = Sink()
    cfg = WearablesSerialConfig(port=str(tmp_path / "nothing"), reopen_delay_s=0.05, heartbeat_timeout_s=0.5)
    source = SerialRelaySource(cfg, sink)
    source.start()
    try:
        rig = Rig(tmp_path)  # the board is plugged in later, at a new path
        source._config.port = str(rig.link.path)
        wait_until(lambda: source.stats()["opens"] == 1 and not source.stats()["relay_silent"], what="found late")
        rig.relay.stop()  # the relay stops talking (hung board), the port stays
        wait_until(lambda: source.stats()["relay_silent"], what="silence reported")
        rig.link.close()
    finally:
        source.stop()
    assert source.stats()["sink_errors"] == 0


def test_relay_port_found_by_usb_id(monkeypatch: pytest.MonkeyPatch) -> None:
    from serial.tools import list_ports

    class Port:
        def __init__(self, device: str, vid: int | None, pid: int | None) -> None:
            self.device, self.vid, self.pid = device, vid, pid

    ports = [Port("/dev/ttyS0", None, None), Port("/dev/ttyUSB3", 0x0403, 0x6015), Port("/dev/ttyACM1", 0x303A, 0x1001)]
    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    assert find_relay_port(["303a:1001", "10c4:ea60"]) == "/dev/ttyACM1"
    assert find_relay_port(["10c4:ea60"]) is None


def test_a_bad_payload_in_a_good_frame_is_counted_not_raised() -> None:
    sink = Sink()
    source = SerialRelaySource(WearablesSerialConfig(port="/nonexistent"), sink)
    enc = codec.Encoder()
    source.feed(enc.frame(codec.T_HR, codec.pack_hr(0, A, 0, -50, b"\x01\x48")))  # uint16 HR truncated
    source.feed(enc.frame(0x7E, b"?"))  # unknown type
    source.feed(enc.frame(codec.T_HR, codec.pack_hr(0, A, 0, -50, b"\x00\x48")))
    assert source.stats()["bad_payload"] == 2
    [reading] = sink.of(HeartRateReading)
    assert reading.heart_rate_bpm == 72 and reading.rssi_dbm == -50 and reading.address == "AA:BB:CC:00:00:01"
