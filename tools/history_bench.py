#!/usr/bin/env python3
"""What history costs: per-rep commit latency on SQLite, the frame thread's share, the
writer queue under a burst, and (with --pg-url) uploading N sessions to PostgreSQL.

    tools/history_bench.py --dir /var/lib/gymcorner            # on the box's own disk
    tools/history_bench.py --reps 500 --pg-url postgresql://gymcorner@127.0.0.1:5432/bench

Measures on the disk of --dir (an SD card is far slower to fsync than an SSD): run it there.
Prints one table; --json OUT keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "edge"))

from gymcorner.history.sink import HistorySink
from gymcorner.history.sqlite import HistoryWriter, open_sqlite


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": pick(0.50), "p95": pick(0.95), "max": ordered[-1]}


def rep_event(n: int) -> dict[str, Any]:
    return {
        "id": f"bench-{n}",
        "code": "rep",
        "kind": "rep",
        "exercise": "squat",
        "t": n * 2.0,
        "text": f"Rep {n}.",
        "details": {
            "rep": n,
            "start_t": n * 2.0,
            "bottom_t": n * 2.0 + 0.8,
            "end_t": n * 2.0 + 1.5,
            "depth": 0.9,
            "down_s": 0.8,
            "up_s": 0.7,
            "faults": ["knee_valgus"] if n % 3 == 0 else [],
            "quality": {"score": 85, "deductions": [{"cause": "knee_valgus", "points": 15}]},
        },
    }


def commit_latency(folder: Path, reps: int, synchronous: str) -> dict[str, float]:
    """The writer thread's cost of one rep: its transaction, commit and fsync, in ms."""
    store = open_sqlite(folder / f"commit-{synchronous.lower()}.sqlite3")
    store.execute(f"PRAGMA synchronous = {synchronous}")
    store.open_session("bench", "s", time.time())
    times = []
    for n in range(1, reps + 1):
        row = {"set_number": 1, "number": n, "exercise": "squat", "faults": [], "quality_score": 85}
        start = time.perf_counter()
        store.record_rep("bench", "s", row)
        times.append((time.perf_counter() - start) * 1000)
    store.close()
    return percentiles(times)


def frame_thread_cost(folder: Path, reps: int) -> dict[str, Any]:
    """What the frame loop pays per rep event (build the row, queue it), in µs, and how long
    the writer takes to have every rep on disk after the last was handed over."""
    writer = HistoryWriter(open_sqlite(folder / "sink.sqlite3"), queue_size=reps + 16)
    writer.start()
    sink = HistorySink("bench", writer)
    times = []
    for n in range(1, reps + 1):
        start = time.perf_counter()
        sink.publish_feedback(rep_event(n))
        times.append((time.perf_counter() - start) * 1e6)
    handed = time.perf_counter()
    writer.wait_idle(600)
    drained_s = time.perf_counter() - handed
    stats = writer.stats()
    sink.close()
    return {"publish_us": percentiles(times), "drain_s": drained_s, "written": stats["written"]}


def burst(folder: Path, events: int, queue_size: int) -> dict[str, Any]:
    """`events` reps at once into a queue of `queue_size`: how many are dropped, none blocks."""
    writer = HistoryWriter(open_sqlite(folder / "burst.sqlite3"), queue_size=queue_size)
    writer.start()
    sink = HistorySink("bench", writer)
    start = time.perf_counter()
    for n in range(1, events + 1):
        sink.publish_feedback(rep_event(n))
    handed_ms = (time.perf_counter() - start) * 1000
    writer.wait_idle(600)
    stats = writer.stats()
    sink.close()
    return {
        "events": events,
        "queue": queue_size,
        "handed_ms": handed_ms,
        **{k: stats[k] for k in ("written", "dropped")},
    }


def pg_sync(folder: Path, url: str, sessions: int, reps: int) -> dict[str, Any]:
    from gymcorner.history.postgres import open_postgres
    from gymcorner.history.sync import upload

    path = folder / "box.sqlite3"
    writer = HistoryWriter(open_sqlite(path), queue_size=100_000)
    writer.start()
    sink = HistorySink("bench-box", writer)
    for _ in range(sessions):
        for n in range(1, reps + 1):
            sink.publish_feedback(rep_event(n))
        sink.publish_session({"state": "ended", "frames": 1, "exercise": "squat"})
    writer.wait_idle(600)
    sink.close()
    local, remote = open_sqlite(path), open_postgres(url)
    first = upload(local, remote)
    again = upload(local, remote)
    local.execute("UPDATE sessions SET synced_rev = -1")
    resend = upload(local, remote)
    rows = {t: remote.count(t) for t in ("sessions", "reps")}
    local.close()
    remote.close()
    return {
        "sessions": sessions,
        "reps_per_session": reps,
        "first_upload_s": first.seconds,
        "nothing_due_s": again.seconds,
        "full_resend_s": resend.seconds,
        "rows_on_server": rows,
    }


def main() -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, help="folder on the disk to measure (default: a temporary folder)")
    parser.add_argument("--reps", type=int, default=300, help="reps per measurement (default: %(default)s)")
    parser.add_argument("--pg-url", help="a PostgreSQL database to upload to (it gets gymcorner's tables)")
    parser.add_argument("--sessions", type=int, default=100, help="sessions uploaded with --pg-url")
    parser.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        result: dict[str, Any] = {
            "commit_ms_full": commit_latency(folder, args.reps, "FULL"),
            "commit_ms_normal": commit_latency(folder, args.reps, "NORMAL"),
            "frame_thread": frame_thread_cost(folder, args.reps),
            "burst": burst(folder, 2000, 1024),
        }
        if args.pg_url:
            result["postgresql"] = pg_sync(folder, args.pg_url, args.sessions, 10)
    full, normal = result["commit_ms_full"], result["commit_ms_normal"]
    ft = result["frame_thread"]
    print(f"disk: {args.dir or tempfile.gettempdir()}   reps: {args.reps}")
    print(f"rep commit (writer thread), synchronous=FULL:   p50 {full['p50']:.2f} ms  p95 {full['p95']:.2f} ms")
    print(f"rep commit (writer thread), synchronous=NORMAL: p50 {normal['p50']:.2f} ms  p95 {normal['p95']:.2f} ms")
    print(
        f"frame thread per rep event: p50 {ft['publish_us']['p50']:.1f} us  p95 {ft['publish_us']['p95']:.1f} us; "
        f"{ft['written']} writes on disk {ft['drain_s'] * 1000:.0f} ms after the last was queued"
    )
    b = result["burst"]
    print(
        f"burst of {b['events']} rep events into a queue of {b['queue']}: handed over in {b['handed_ms']:.1f} ms, "
        f"{b['written']} written, {b['dropped']} dropped"
    )
    if "postgresql" in result:
        pg = result["postgresql"]
        print(
            f"PostgreSQL: {pg['sessions']} sessions x {pg['reps_per_session']} reps uploaded in "
            f"{pg['first_upload_s']:.2f} s; again (nothing due) {pg['nothing_due_s'] * 1000:.1f} ms; "
            f"full re-send {pg['full_resend_s']:.2f} s; rows on the server {pg['rows_on_server']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
