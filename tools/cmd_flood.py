#!/usr/bin/env python3
"""Command-flood benchmark: the daemon's avatar frame rate while `cmd` is flooded, and its replies.

Why: docs/protocol.md promises exactly one reply per command, and the frame loop must not
stall whatever arrives on `cmd`. The script starts its own `mosquitto` on a free loopback
port, runs `python -m gymcorner run --loop --realtime` on a clip (as systemd would), and
subscribes to the device's topics. It measures the avatar frames received per second while
idle, then floods `cmd` with `--commands` pings back to back (`--floods` times) and
measures the same rate during each flood, counting replies by id (ok, busy, error,
missing, duplicated). Not a test: figures depend on the machine.

    PYTHONPATH=edge .venv/bin/python tools/cmd_flood.py \
        --clip ../shared/data/kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from local_broker import start_broker  # tools/ is on sys.path when a tool runs

DEVICE = "flood-corner"
BASE = f"gymcorner/{DEVICE}"


class Recorder:
    """Receipt times of avatar frames and every reply, by command id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.avatar_t: list[float] = []
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.online = threading.Event()

    def on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        now = time.monotonic()
        with self.lock:
            if msg.topic == f"{BASE}/avatar":
                self.avatar_t.append(now)
            elif msg.topic == f"{BASE}/cmd/reply":
                body = json.loads(msg.payload)
                self.replies.setdefault(str(body.get("id")), []).append(body)
            elif msg.topic == f"{BASE}/status" and json.loads(msg.payload).get("state") == "online":
                self.online.set()

    def fps(self, start: float, end: float) -> list[int]:
        """Avatar frames received in each whole second of [start, end)."""
        seconds = max(1, int(end - start))
        bins = [0] * seconds
        with self.lock:
            for t in self.avatar_t:
                if start <= t < start + seconds:
                    bins[int(t - start)] += 1
        return bins


def client(port: int, recorder: Recorder | None = None, topics: tuple[str, ...] = ()) -> paho.Client:
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    if recorder is not None:
        c.on_connect = lambda cl, *_: cl.subscribe([(t, 1) for t in topics])
        c.on_message = recorder.on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def flood(flooder: paho.Client, recorder: Recorder, tag: str, commands: int, timeout_s: float) -> dict[str, Any]:
    """Publish `commands` pings back to back; wait for every reply (or the timeout)."""
    ids = [f"{tag}-{n:05d}" for n in range(commands)]
    start = time.monotonic()
    for command_id in ids:
        flooder.publish(f"{BASE}/cmd", json.dumps({"v": 1, "id": command_id, "cmd": "ping"}), qos=1)
    deadline = start + timeout_s
    while time.monotonic() < deadline:
        with recorder.lock:
            if all(i in recorder.replies for i in ids):
                break
        time.sleep(0.05)
    end = max(time.monotonic(), start + 1.0)
    with recorder.lock:
        got = {i: recorder.replies.get(i, []) for i in ids}
    kinds = Counter("busy" if r.get("busy") else ("ok" if r["ok"] else "error") for rs in got.values() for r in rs)
    fps = recorder.fps(start, end)
    return {
        "sent": commands,
        "replied": sum(1 for rs in got.values() if rs),
        "missing": sum(1 for rs in got.values() if not rs),
        "duplicated": sum(1 for rs in got.values() if len(rs) > 1),
        **{k: kinds.get(k, 0) for k in ("ok", "busy", "error")},
        "seconds": round(end - start, 2),
        "fps_min": min(fps),
        "fps_mean": round(statistics.fmean(fps), 1),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="gymcorner-flood-"))
    # The flooding app takes its 5,000 replies in at its own pace: let the broker queue them for
    # it (mosquitto keeps 1,000 a client by default and drops the rest, which is the broker's
    # doing, not the device's). The avatar is watched on a connection of its own, as the Unity
    # app has, so a backlog of replies to the flooder cannot hold the frames back.
    broker, port = start_broker(workdir, "cmd_flood", ("max_queued_messages 100000",))
    recorder = Recorder()
    watcher = client(port, recorder, (f"{BASE}/avatar", f"{BASE}/status"))
    replies = client(port, recorder, (f"{BASE}/cmd/reply",))
    cfg = workdir / "flood.toml"
    cfg.write_text(
        f'[device]\nid = "{DEVICE}"\n[source]\nuri = "{args.clip.resolve()}"\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n'
    )
    log = (workdir / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "gymcorner", "run", "--config", str(cfg), "--loop", "--realtime"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    flooder = client(port)
    try:
        if not recorder.online.wait(60):
            sys.exit(f"cmd_flood: the daemon never came online; log: {workdir / 'daemon.log'}")
        time.sleep(args.warmup_s)  # benchmark pacing, not a correctness wait
        idle_start = time.monotonic()
        time.sleep(args.idle_s)
        idle = recorder.fps(idle_start, time.monotonic())
        floods = []
        for n in range(args.floods):
            floods.append(flood(flooder, recorder, f"f{n}", args.commands, args.timeout_s))
            time.sleep(args.pause_s)
        deadline = time.monotonic() + args.timeout_s  # late replies still count as replies, once
        every_id = [f"f{n}-{i:05d}" for n in range(args.floods) for i in range(args.commands)]
        while time.monotonic() < deadline:
            with recorder.lock:
                if all(i in recorder.replies for i in every_id):
                    break
            time.sleep(0.1)
        with recorder.lock:
            eventually = sum(1 for i in every_id if i in recorder.replies)
            duplicated = sum(1 for i in every_id if len(recorder.replies.get(i, ())) > 1)
        status_id = "final-status"
        flooder.publish(f"{BASE}/cmd", json.dumps({"v": 1, "id": status_id, "cmd": "status"}), qos=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and status_id not in recorder.replies:
            time.sleep(0.05)
        stats = (recorder.replies.get(status_id) or [{}])[0].get("stats", {})
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        for c in (flooder, watcher, replies):
            c.loop_stop()
            c.disconnect()
        broker.terminate()
        broker.wait(10)
    return {
        "idle_fps_min": min(idle),
        "idle_fps_mean": round(statistics.fmean(idle), 1),
        "floods": floods,
        "sent_total": sum(f["sent"] for f in floods),
        "replied_total": sum(f["replied"] for f in floods),
        "busy_total": sum(f["busy"] for f in floods),
        "replied_eventually": eventually,
        "duplicated_total": duplicated,
        "device_stats": {k: stats.get(k) for k in ("commands_busy", "commands_rejected", "replies_dropped")},
        "log": str(workdir / "daemon.log"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, required=True, help="video the daemon loops over in real time")
    parser.add_argument("--commands", type=int, default=5000, help="commands per flood (default 5000)")
    parser.add_argument("--floods", type=int, default=5, help="number of floods (default 5)")
    parser.add_argument("--idle-s", type=float, default=5.0, help="idle window measured before flooding")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="time given to the daemon after it is online")
    parser.add_argument("--pause-s", type=float, default=2.0, help="pause between floods")
    parser.add_argument("--timeout-s", type=float, default=60.0, help="wait for a flood's replies at most this long")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0 if report["replied_eventually"] == report["sent_total"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
