#!/usr/bin/env python3
"""The dashboard under load: N concurrent clients on loopback, and what it costs the coach.

    tools/dashboard_load.py --clip CLIP [--clients 50] [--seconds 20] [--json OUT]
    tools/dashboard_load.py --clip CLIP --chain [--boxes 4] ...   (a chain's PostgreSQL server)
    tools/dashboard_load.py --cost 300 [--chain]   (what one request of each page costs the dashboard)

Makes a scratch history file (one admin, members with 20 recorded sessions of 3 sets of 10
reps and a minute of heart rate each), starts the real `gymcorner dashboard` on a free
loopback port, logs in once and
shares the cookie among `--clients` threads (bounded: each one request at a time over its
own keep-alive connection, 10 s timeout), which fetch the members list, a member's page
with its charts, a session, a plan and the JSON API in turn. Latency is per request
(p50/p95/p99 overall and per page).

`--chain` serves the dashboard in chain mode (`--database postgresql://...`) instead: a
throwaway PostgreSQL server (tools/scratch_postgres.py: initdb + pg_ctl, loopback only,
niced as the dashboard) that `--boxes` boxes, each with its own `--members` members and
their sessions in its own SQLite file, upload to with the real sync; the admin is made on
the server. The same pages are fetched.

The coach's frame rate is `gymcorner analyze CLIP` (the daemon's pipeline on a file, at full
speed), run in `--runs` pairs: once with the clients paused and once with them loading the
dashboard, alone first in odd pairs and loaded first in even ones (ABBA: a drift of the
machine's speed favours neither side). Each pair gives a drop (its two runs are seconds apart), and the
median of those drops is the figure: a shared machine's own speed drifts by as much as the
effect between runs a minute apart, so comparing the median before with the median after
would measure the drift. Latency is measured while the clients run. A benchmark, not a test:
the figures depend on the machine (run it on the box).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.history.sqlite import open_sqlite  # noqa: E402
from gymcorner.history.users import add_user  # noqa: E402

PASSWORD = "load test password"
PATHS = ("/members", "/members/1", "/sessions/1", "/members/2/plan", "/api/members", "/api/members/3/sessions")
DEVICE = "corner-load"


def fill(db: Path, members: int, sessions: int, hr_samples: int, device: str = DEVICE, first: int = 1,
         admin: bool = True) -> None:  # fmt: skip
    """Members `first`.. of box `device`, each with `sessions` recorded sessions (one commit each)."""
    store = open_sqlite(db)
    try:
        if admin:
            add_user(store, "load", "admin", PASSWORD)
        for m in range(first - 1, first - 1 + members):
            member = store.add_member(f"Member {m + 1}", birth_year=1980 + m % 40, goal="strength", level="beginner")
            for s in range(sessions):
                uuid = f"m{m}-s{s}"
                with store.transaction():
                    record_session(store, device, uuid, time.time() - (sessions - s) * 86400, member.id, hr_samples)
    finally:
        store.close()


def record_session(store: Any, device: str, uuid: str, started_at: float, member_id: int, hr_samples: int) -> None:
    """3 sets of 10 squats, and a heart-rate sample a second for `hr_samples` seconds."""
    store.open_session(device, uuid, started_at, member_id)
    for set_no in (1, 2, 3):
        for rep in range(1, 11):
            row = {
                "set_number": set_no,
                "number": rep,
                "exercise": "squat",
                "depth": 0.9,
                "down_s": 1.0,
                "up_s": 0.8,
                "faults": ["knee_valgus"] if rep % 4 == 0 else [],
                "quality_score": 70 + rep,
            }
            store.record_rep(device, uuid, row)
        done = {"number": set_no, "exercise": "squat", "reps": 10, "good_reps": 8, "mean_quality": 75.0}
        store.record_set(device, uuid, {**done, "target_reps": 10})
    if hr_samples:
        store.record_heart_rate(device, uuid, [(float(t), 100 + t % 60) for t in range(hr_samples)])
    store.update_session(device, uuid, state="ended", exercise="squat", ended_at=time.time())


def fill_chain(scratch: Path, url: str, boxes: int, members: int, sessions: int, hr_samples: int) -> int:
    """`boxes` boxes record into their own files and upload to the chain's server (the real
    sync); the admin is made on the server. Returns the number of sessions uploaded."""
    from gymcorner.history.postgres import open_postgres
    from gymcorner.history.sync import upload

    remote = open_postgres(url)
    try:
        add_user(remote, "load", "admin", PASSWORD)
        uploaded = 0
        for b in range(boxes):
            box = scratch / f"box-{b + 1}.sqlite3"
            fill(box, members, sessions, hr_samples, f"{DEVICE}-{b + 1}", first=b * members + 1, admin=False)
            local = open_sqlite(box)
            try:
                uploaded += upload(local, remote).sessions
            finally:
                local.close()
        return uploaded
    finally:
        remote.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[str], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the dashboard exited: {proc.stdout.read() if proc.stdout else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the dashboard did not start listening")


def log_in(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    page = conn.getresponse()
    html = page.read().decode()
    cookie = page.getheader("set-cookie", "").split(";")[0]
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    body = urllib.parse.urlencode({"csrf": csrf, "name": "load", "password": PASSWORD, "next": "/"})
    conn.request("POST", "/login", body, {"content-type": "application/x-www-form-urlencoded", "cookie": cookie})
    answer = conn.getresponse()
    answer.read()
    session = [c for c in answer.headers.get_all("set-cookie") or [] if c.startswith("gymcorner_session=")]
    if answer.status != 303 or not session:
        raise SystemExit(f"login failed: {answer.status}")
    return session[0].split(";")[0]


def client(
    port: int,
    cookie: str,
    paths: list[str],
    stop: threading.Event,
    load_on: threading.Event,
    out: list[tuple[str, float, int]],
    think_s: float,
    nice: int,
) -> None:
    """One browser: fetches `paths` in turn while `load_on` is set, idles while it is not."""
    if nice:  # this thread only (Linux nices threads one by one): the browsers are not on the box
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    i = 0
    paused = True
    while not stop.is_set():
        if not load_on.wait(0.2):
            conn.close()  # a paused browser's keep-alive connection would time out on the server
            paused = True
            continue
        if paused and think_s:  # browsers resume at their own moments, not all in the same instant
            paused = False
            if stop.wait(random.uniform(0.0, think_s)):
                break
        path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers={"cookie": cookie})
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        out.append((path, time.perf_counter() - t0, status))
        if think_s:
            stop.wait(think_s)  # a person reading the page before the next click
    conn.close()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request_costs(port: int, cookie: str, pid: int, n: int) -> dict[str, dict[str, float]]:
    """What one request of each page costs the dashboard: `n` requests one after another
    (after 20 to warm up), the dashboard's CPU time and the wall time per request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(path: str) -> bytes:
        conn.request("GET", path, headers={"cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
        return body

    costs: dict[str, dict[str, float]] = {}
    for path in PATHS:
        for _ in range(20):
            get(path)
        cpu0, wall0 = process_cpu_s(pid), time.perf_counter()
        for _ in range(n):
            body = get(path)
        cpu1, wall1 = process_cpu_s(pid), time.perf_counter()
        costs[path] = {
            "cpu_ms": round(1000 * (cpu1 - cpu0) / n, 2),
            "wall_ms": round(1000 * (wall1 - wall0) / n, 2),
            "bytes": len(body),
        }
        print(f"{path:26s} {costs[path]['cpu_ms']:6.2f} ms of CPU, {costs[path]['wall_ms']:6.2f} ms", flush=True)
    conn.close()
    return costs


def lowered(nice: int, idle: bool) -> None:
    """In a child before exec: the dashboard's priority, as its systemd unit sets it."""
    if nice:
        os.nice(nice)
    if idle:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def coach_fps(clip: str, env: dict[str, str], config: str | None = None) -> float:
    """One `gymcorner analyze` of the clip: the daemon's pipeline's frames per second."""
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        subprocess.run(
            [sys.executable, "-m", "gymcorner", "analyze", clip, "--quiet", "--json", fh.name]
            + (["--config", config] if config else []),
            env=env,
            capture_output=True,
            check=True,
            timeout=600,
        )
        return float(json.loads(Path(fh.name).read_text())["processing_fps"])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000.0


@contextlib.contextmanager
def database(args: argparse.Namespace, scratch: Path) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """The seeded history the dashboard serves: the dashboard's options naming it, and what
    the report says of it. With --chain, a PostgreSQL server started here, removed after."""
    started = time.perf_counter()
    if not args.chain:
        fill(scratch / "history.sqlite3", args.members, args.sessions, args.hr_samples)
        yield ["--data-dir", str(scratch)], {"database": "sqlite", "sessions": args.members * args.sessions}
        return
    from scratch_postgres import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("--chain: no PostgreSQL server binaries (Debian: apt install postgresql)")
    server = PostgresServer(bin_dir, nice=args.nice, idle=args.idle).start()
    try:
        url = server.create_database("chain")
        print(f"seeding the chain's server: {args.boxes} boxes upload ...", flush=True)
        sessions = fill_chain(scratch, url, args.boxes, args.members, args.sessions, args.hr_samples)
        seeded = {"database": "postgresql", "boxes": args.boxes, "sessions": sessions,
                  "seed_s": round(time.perf_counter() - started, 1)}  # fmt: skip
        yield ["--database", url], seeded
    finally:
        server.remove()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", help="a clip for `gymcorner analyze` (the coach's frame rate); required without --cost")
    ap.add_argument(
        "--cost",
        type=int,
        metavar="N",
        default=0,
        help="instead of the load: N requests of each page one after another, and the dashboard's CPU per request",
    )
    ap.add_argument("--coach-config", metavar="TOML", help="the config `gymcorner analyze` runs the coach with")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0, help="at least this long under load")
    ap.add_argument("--runs", type=int, default=3, help="pairs of analyze runs: clients paused, then loading")
    ap.add_argument("--members", type=int, default=5, help="members (with --chain: of each box)")
    ap.add_argument("--sessions", type=int, default=20, help="recorded sessions per member")
    ap.add_argument("--hr-samples", type=int, default=60, help="heart-rate samples per session (one a second)")
    ap.add_argument("--chain", action="store_true", help="chain mode: a PostgreSQL server this tool starts")
    ap.add_argument("--boxes", type=int, default=4, help="with --chain: boxes uploading to the server")
    ap.add_argument("--think-s", type=float, default=0.0, help="pause between a client's requests (0: back to back)")
    ap.add_argument("--nice", type=int, default=10, help="the dashboard's niceness (its unit's Nice=; 0: none)")
    ap.add_argument(
        "--idle",
        action="store_true",
        help="run the dashboard (and --chain's server) under SCHED_IDLE, as its unit's CPUSchedulingPolicy=idle: "
        "it gets only the CPU the coach leaves",
    )
    ap.add_argument(
        "--clients-nice",
        type=int,
        default=19,
        help="the load clients' niceness: they stand for browsers on other machines (0: compete with the coach)",
    )
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()
    if args.clip is None and not args.cost:
        raise SystemExit("--clip is required (or --cost N)")
    if not 1 <= args.clients <= 500:
        raise SystemExit("--clients must be 1..500")
    if not 1 <= args.boxes <= 100 or args.sessions < 1 or args.runs < 1:
        raise SystemExit("--boxes must be 1..100, --sessions and --runs 1 or more")
    if args.members * (args.boxes if args.chain else 1) < 3:
        raise SystemExit("the pages fetched need 3 members at least (--members, with --chain over all --boxes)")

    env = dict(os.environ, PYTHONPATH=str(ROOT / "edge"))
    with tempfile.TemporaryDirectory() as scratch, database(args, Path(scratch)) as (where, seeded):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gymcorner", "dashboard", "--port", str(port), *where],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=lambda: lowered(args.nice, args.idle),  # as its unit's Nice= / CPUSchedulingPolicy=
        )
        try:
            wait_listening(port, proc)
            cookie = log_in(port)
            paths = list(PATHS)
            if args.cost:
                costs = request_costs(port, cookie, proc.pid, args.cost)
                print(json.dumps(costs, indent=2))
                if args.json:
                    Path(args.json).write_text(json.dumps(costs, indent=2))
                return 0
            stop, load_on = threading.Event(), threading.Event()
            results: list[list[tuple[str, float, int]]] = [[] for _ in range(args.clients)]
            threads = [
                threading.Thread(
                    target=client,
                    args=(
                        port, cookie, paths[i % 6 :] + paths[: i % 6], stop, load_on, r, args.think_s, args.clients_nice
                    ),
                )
                for i, r in enumerate(results)
            ]
            for t in threads:
                t.start()
            before: list[float] = []
            during: list[float] = []
            elapsed = 0.0  # seconds with the clients loading
            for run in range(1, args.runs + 1):
                alone_first = run % 2 == 1  # ABBA: a drift of the machine's speed favours neither side
                order = "alone, then loaded" if alone_first else "loaded, then alone"
                print(f"pair {run} of {args.runs}: coach {order} ({args.clients} clients) ...", flush=True)
                if alone_first:
                    before.append(coach_fps(args.clip, env, args.coach_config))
                load_on.set()
                started = time.perf_counter()
                during.append(coach_fps(args.clip, env, args.coach_config))
                if run == args.runs:  # the load lasts at least --seconds in all
                    while elapsed + time.perf_counter() - started < args.seconds:
                        time.sleep(0.1)
                load_on.clear()
                elapsed += time.perf_counter() - started
                if not alone_first:
                    time.sleep(1.0)  # the last requests in flight finish
                    before.append(coach_fps(args.clip, env, args.coach_config))
            stop.set()
            for t in threads:
                t.join(30)
        finally:
            proc.terminate()
            proc.wait(20)
    flat = [x for r in results for x in r]
    drops = [round(100.0 * (1 - d / b), 1) for b, d in zip(before, during, strict=True)]
    ok = [x for x in flat if x[2] == 200]
    report: dict[str, Any] = {
        **seeded,
        "coach_config": args.coach_config,
        "clients": args.clients,
        "think_s": args.think_s,
        "dashboard_nice": args.nice,
        "dashboard_sched_idle": args.idle,
        "clients_nice": args.clients_nice,
        "seconds": round(elapsed, 1),
        "requests": len(flat),
        "errors": len(flat) - len(ok),
        "per_s": round(len(flat) / elapsed, 1),
        "p50_ms": round(pct([x[1] for x in ok], 0.50), 1),
        "p95_ms": round(pct([x[1] for x in ok], 0.95), 1),
        "p99_ms": round(pct([x[1] for x in ok], 0.99), 1),
        "per_path_p95_ms": {p: round(pct([x[1] for x in ok if x[0] == p], 0.95), 1) for p in paths},
        "coach_fps_before": before,
        "coach_fps_during": during,
        "coach_fps_drop_pct_per_pair": drops,
        "coach_fps_drop_pct": round(statistics.median(drops), 1),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
