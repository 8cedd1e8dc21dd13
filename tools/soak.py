#!/usr/bin/env python3
"""Soak test: the daemon on a looped clip against a real Mosquitto, for a given time.

Why a separate process and a real broker: leaks that matter on a box that runs for months
(memory, file descriptors, threads, paho reconnect state) only show in the real daemon,
the way systemd starts it. The script

* starts its own `mosquitto` on a free loopback port (or uses `--broker HOST:PORT`),
* runs `python -m gymcorner run --loop [--realtime]` on the clip as a subprocess,
* subscribes to `gymcorner/<device>/#` and counts avatar frames and feedback events
  (by id, so a redelivery is not counted twice),
* samples the daemon's RSS, open file descriptors and threads (psutil) every few seconds,
* at the end asks the daemon for its counters (`status` command: avatar frames dropped,
  feedback sent), stops it with SIGTERM as systemd would, and prints a report with the
  RSS slope (least squares over the samples after the warm-up).

    .venv/bin/python tools/soak.py --clip ../shared/data/kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4 \
        --minutes 12 --realtime --json soak.json
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psutil
from local_broker import start_broker  # tools/ is on sys.path when a tool runs

DEVICE = "soak-corner"


@dataclass
class Sample:
    t_s: float
    rss_mb: float
    fds: int
    threads: int
    cpu_percent: float


@dataclass
class Counts:
    avatar_frames: int = 0
    feedback_ids: set[str] = field(default_factory=set)
    feedback_messages: int = 0
    statuses: list[str] = field(default_factory=list)
    replies: dict[str, Any] = field(default_factory=dict)


def subscribe(host: str, port: int, base: str, counts: Counts, lock: threading.Lock) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"soak-{uuid.uuid4().hex[:8]}")

    def on_connect(c: paho.Client, *_: Any) -> None:
        c.subscribe(f"{base}/#", qos=1)

    def on_message(_c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        kind = msg.topic[len(base) + 1 :]
        with lock:
            if kind == "avatar":
                counts.avatar_frames += 1
            elif kind == "feedback":
                counts.feedback_messages += 1
                counts.feedback_ids.add(json.loads(msg.payload)["id"])
            elif kind == "status":
                counts.statuses.append(json.loads(msg.payload).get("detail", ""))
            elif kind == "cmd/reply":
                body = json.loads(msg.payload)
                counts.replies[body["id"]] = body

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    return client


def ask_stats(client: paho.Client, base: str, counts: Counts, lock: threading.Lock) -> dict[str, Any] | None:
    command_id = uuid.uuid4().hex[:12]
    client.publish(f"{base}/cmd", json.dumps({"v": 1, "id": command_id, "cmd": "status"}), qos=1)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with lock:
            if command_id in counts.replies:
                return counts.replies[command_id]
        time.sleep(0.1)
    return None


def sample(proc: psutil.Process, t0: float) -> Sample:
    with proc.oneshot():
        return Sample(
            t_s=round(time.monotonic() - t0, 1),
            rss_mb=round(proc.memory_info().rss / 2**20, 2),
            fds=proc.num_fds(),
            threads=proc.num_threads(),
            cpu_percent=proc.cpu_percent(None),
        )


def slope_mb_per_h(samples: list[Sample]) -> float:
    """Least-squares slope of RSS over time, in MB per hour."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(s.t_s for s in samples) / n
    mean_r = sum(s.rss_mb for s in samples) / n
    var = sum((s.t_s - mean_t) ** 2 for s in samples)
    if var == 0:
        return 0.0
    cov = sum((s.t_s - mean_t) * (s.rss_mb - mean_r) for s in samples)
    return cov / var * 3600.0


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="gymcorner-soak-"))
    broker = None
    if args.broker:
        host, _, port_text = args.broker.rpartition(":")
        port = int(port_text)
    else:
        broker, port = start_broker(workdir, "soak")
        host = "127.0.0.1"
    base = f"gymcorner/{DEVICE}"
    config = workdir / "site.toml"
    config.write_text(
        f'[device]\nid = "{DEVICE}"\n[source]\nuri = "{Path(args.clip).resolve()}"\nloop = true\n'
        f"realtime = {str(args.realtime).lower()}\n"
        f"[pose]\nmodel_complexity = {args.model_complexity}\n"
        f'[mqtt]\nhost = "{host}"\nport = {port}\n[logging]\nlevel = "WARNING"\n'
    )
    counts, lock = Counts(), threading.Lock()
    client = subscribe(host, port, base, counts, lock)
    log = (workdir / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "gymcorner", "run", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    proc = psutil.Process(daemon.pid)
    proc.cpu_percent(None)
    t0 = time.monotonic()
    samples: list[Sample] = []
    stats = None
    try:
        while time.monotonic() - t0 < args.minutes * 60:
            if daemon.poll() is not None:
                raise SystemExit(f"soak: daemon exited early ({daemon.returncode}); log: {workdir / 'daemon.log'}")
            samples.append(sample(proc, t0))
            if not args.quiet:
                s = samples[-1]
                with lock:
                    av, fb = counts.avatar_frames, len(counts.feedback_ids)
                print(
                    f"t={s.t_s:7.1f}s rss={s.rss_mb:7.1f} MB fds={s.fds:3d} threads={s.threads:3d} "
                    f"cpu={s.cpu_percent:5.1f}% avatar={av} feedback={fb}",
                    flush=True,
                )
            time.sleep(args.every_s)
        samples.append(sample(proc, t0))
        stats = ask_stats(client, base, counts, lock)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            exit_code = daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            exit_code = daemon.wait()
        time.sleep(0.5)
        client.loop_stop()
        client.disconnect()
        if broker is not None:
            broker.terminate()
            broker.wait(10)
    steady = [s for s in samples if s.t_s >= args.warmup_s] or samples
    mqtt = (stats or {}).get("stats", {})
    return {
        "clip": str(args.clip),
        "minutes": args.minutes,
        "realtime": args.realtime,
        "samples": len(samples),
        "rss_mb": {
            "first": samples[0].rss_mb,
            "after_warmup": steady[0].rss_mb,
            "end": samples[-1].rss_mb,
            "max": max(s.rss_mb for s in samples),
        },
        "rss_slope_mb_per_h_after_warmup": round(slope_mb_per_h(steady), 3),
        "rss_slope_mb_per_h_second_half": round(slope_mb_per_h(steady[len(steady) // 2 :]), 3),
        "warmup_s": args.warmup_s,
        "fds": {"after_warmup": steady[0].fds, "end": samples[-1].fds, "max": max(s.fds for s in steady)},
        "threads": {
            "after_warmup": steady[0].threads,
            "end": samples[-1].threads,
            "max": max(s.threads for s in steady),
        },
        "daemon_frames": (stats or {}).get("frames"),
        "avatar_received": counts.avatar_frames,
        "avatar_sent_by_device": mqtt.get("avatar_sent"),
        "avatar_dropped_by_device": mqtt.get("avatar_dropped"),
        "feedback_delivered_unique": len(counts.feedback_ids),
        "feedback_messages": counts.feedback_messages,
        "feedback_sent_by_device": mqtt.get("feedback_sent"),
        "feedback_dropped_by_device": mqtt.get("feedback_dropped"),
        "reconnects": mqtt.get("reconnects"),
        "last_status": counts.statuses[-1] if counts.statuses else None,
        "daemon_exit_code": exit_code,
        "log": str(workdir / "daemon.log"),
        "series": [asdict(s) for s in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", required=True, help="video file played in a loop")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--realtime", action="store_true", help="pace the clip at its frame rate (like a camera)")
    parser.add_argument("--model-complexity", type=int, choices=(0, 1, 2), default=1)
    parser.add_argument("--every-s", type=float, default=10.0, help="sampling interval")
    parser.add_argument("--warmup-s", type=float, default=60.0, help="samples before this are left out of the slope")
    parser.add_argument("--broker", metavar="HOST:PORT", help="use this broker instead of starting one")
    parser.add_argument("--json", metavar="OUT", help="write the report (with the time series) as JSON")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    report = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    shown = {k: v for k, v in report.items() if k != "series"}
    print(json.dumps(shown, indent=2))
    return 0 if report["daemon_exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
