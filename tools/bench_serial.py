"""Measure the serial path over a real pty: simulated strap -> relay_core -> pty -> pyserial
-> SerialRelaySource -> reading. Throughput (frames/s), latency (p50/p95 ms, strap
notification to reading in the sink) and frame loss with bytes corrupted on the wire.

    python tools/bench_serial.py [--frames 20000] [--corrupt 0.01] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the relay simulator the tests use

from relay_sim import PtyLink, RelayThread, SimBle, SimStrap, relay_config

from gymcorner.config.wearables import WearablesSerialConfig
from gymcorner.wearables import relay_codec as codec
from gymcorner.wearables.gatt import HeartRateMeasurement, encode_heart_rate_measurement
from gymcorner.wearables.readings import HeartRateReading
from gymcorner.wearables.serial_source import SerialRelaySource

ADDR = bytes.fromhex("C0FFEE000001")


def measurement(counter: int) -> bytes:
    """A notification that carries its own counter (energy expended) and checkable values."""
    return encode_heart_rate_measurement(
        HeartRateMeasurement(60 + counter % 120, True, counter & 0xFFFF, (500 + counter % 500, 700 + counter % 300))
    )


def consistent(r: HeartRateReading) -> bool:
    c = r.energy_expended_kj
    return (
        c is not None
        and r.heart_rate_bpm == 60 + c % 120
        and r.sensor_contact is True
        and r.rr_intervals_ms == tuple(x * 1000 / 1024 for x in (500 + c % 500, 700 + c % 300))
    )


class Corruptor:
    """Flips each byte with probability `rate`; remembers which HR frames it touched."""

    def __init__(self, rate: float, seed: int = 1) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.touched: set[int] = set()
        self.bytes_total = self.bytes_corrupted = 0

    def __call__(self, wire: bytes) -> bytes:
        out = bytearray(wire)
        hit = False
        for i in range(len(out)):
            if self.rng.random() < self.rate:
                out[i] ^= self.rng.randrange(1, 256)
                hit = True
                self.bytes_corrupted += 1
        self.bytes_total += len(out)
        if hit:
            frame = codec.decode_frame(wire[1:-1])
            if frame.ftype == codec.T_HR:
                self.touched.add(_counter(frame.body))
        return bytes(out)


def _counter(body: bytes) -> int:
    value = codec.unpack_hr(body)[4]
    return int.from_bytes(value[2:4], "little")  # flags | hr u8 | energy u16


def run(frames: int, rate_hz: float | None, corrupt: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        corruptor = Corruptor(corrupt) if corrupt > 0 else None
        link = PtyLink(Path(tmp) / "relay", corrupt=corruptor)
        strap = SimStrap(ADDR)
        relay = RelayThread(SimBle([strap]), link, relay_config(heartbeat_ms=1000)).start()
        received: dict[int, float] = {}
        inconsistent = 0
        done = threading.Event()
        sent_at: dict[int, float] = {}

        def sink(event: Any) -> None:
            nonlocal inconsistent
            if isinstance(event, HeartRateReading):
                if not consistent(event):
                    inconsistent += 1
                    return
                received.setdefault(event.energy_expended_kj or 0, time.perf_counter())
                if len(received) >= frames - len(corruptor.touched if corruptor else ()):
                    done.set()

        source = SerialRelaySource(WearablesSerialConfig(port=str(link.path), reopen_delay_s=0.05), sink)
        source.start()
        deadline = time.monotonic() + 10
        while not (strap.conn and strap.conn.connected and source.stats()["connected"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)

        async def notify_all() -> None:
            for c in range(frames):
                sent_at[c] = time.perf_counter()
                strap.notify(measurement(c))
                if rate_hz:
                    await asyncio.sleep(1 / rate_hz)
                elif c % 8 == 7:
                    await asyncio.sleep(0)

        t0 = time.perf_counter()
        asyncio.run_coroutine_threadsafe(notify_all(), relay.loop).result(600)
        done.wait(30)
        time.sleep(0.3)
        elapsed = (max(received.values()) if received else time.perf_counter()) - t0
        source.stop()
        relay.stop()
        link.close()
        lat = sorted((received[c] - sent_at[c]) * 1000 for c in received if c in sent_at)
        touched = corruptor.touched if corruptor else set()
        good = [c for c in range(frames) if c not in touched]
        stats = source.stats()
        accepted = len(received) + inconsistent
        return {
            "frames_sent": frames,
            "rate_hz": rate_hz,
            "byte_corruption": corrupt,
            "frames_per_s": round(len(received) / elapsed, 1) if elapsed > 0 else None,
            "latency_ms_p50": round(lat[len(lat) // 2], 3) if lat else None,
            "latency_ms_p95": round(lat[int(len(lat) * 0.95)], 3) if lat else None,
            "latency_ms_max": round(lat[-1], 3) if lat else None,
            "bytes_corrupted": corruptor.bytes_corrupted if corruptor else 0,
            "bytes_total": corruptor.bytes_total if corruptor else None,
            "frames_touched_by_corruption": len(touched),
            "good_frames": len(good),
            "good_frames_lost": sum(1 for c in good if c not in received),
            "frames_accepted": accepted,
            "accepted_but_wrong": inconsistent,
            "accepted_valid_pct": round(100 * len(received) / accepted, 4) if accepted else None,
            "decoder": {
                k: stats[k]
                for k in (
                    "frames",
                    "bad_crc",
                    "bad_cobs",
                    "runts",
                    "bad_version",
                    "overruns",
                    "bad_payload",
                    "seq_lost",
                    "dropped_bytes",
                )
            },
            "relay_dropped": relay.relay.dropped,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--latency-rate-hz", type=float, default=200.0)
    parser.add_argument("--corrupt", type=float, default=0.01)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = {
        "throughput": run(args.frames, None, 0.0),
        "latency": run(min(args.frames, 2000), args.latency_rate_hz, 0.0),
        "corruption": run(args.frames, None, args.corrupt),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
