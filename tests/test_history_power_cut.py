"""A power cut in the middle of a set: SIGKILL the real daemon, restart it, every rep is there.

`gymcorner run` runs as a subprocess (as systemd starts it) on a labelled clip of five
squats, looped so that the kill lands mid-set, with a real Mosquitto. The test kills it
with SIGKILL (nothing of the daemon's shutdown runs: no final summary, no checkpoint of the
WAL) once reps have been published on MQTT and read back from the file by a second
connection, then starts the daemon again on the same file.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest
from mqtt_helpers import MqttSubscriber, wait_until
from shared_data import clip_path
from test_daemon_e2e import daemon

CLIP = "navya_squat_form/correct/squat_correct_strongher_side.mp4"  # 5 squats, lateral, ~2.5 s apart
DEVICE = "corner-power-cut"
BASE = f"gymcorner/{DEVICE}"


def write_config(tmp_path: Path, port: int, clip: Path, db: Path) -> Path:
    cfg = tmp_path / "box.toml"
    cfg.write_text(
        f'[device]\nid = "{DEVICE}"\n'
        f'[source]\nuri = "{clip}"\n'
        '[coach]\nexercise = "squat"\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nreconnect_min_delay_s = 0.1\n'
        f'[history]\npath = "{db}"\n'
    )
    return cfg


def stored_rep_ids(db: Path) -> list[str]:
    """What a reader sees in the file now (WAL: it reads while the daemon writes)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute("SELECT event_id FROM reps ORDER BY id")]


@pytest.mark.shared_data
@pytest.mark.broker
def test_every_rep_published_before_a_sigkill_is_in_the_database_after_restart(
    tmp_path: Path, mosquitto_broker
) -> None:
    clip = clip_path(CLIP)
    db = tmp_path / "history.sqlite3"
    cfg = write_config(tmp_path, mosquitto_broker.port, clip, db)
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{BASE}/#") as sub:

        def published_reps() -> list[dict]:
            return [e for e in (m.json() for m in sub.messages(f"{BASE}/feedback")) if e["kind"] == "rep"]

        proc = daemon(cfg, "--loop")
        try:
            wait_until(lambda: len(published_reps()) >= 3, 120, "three reps on MQTT")
            # the writer keeps pace: everything MQTT has carried so far is committed (one commit
            # per rep); the kill follows this check at once, mid-set (the clip loops)
            wait_until(
                lambda: {e["id"] for e in published_reps()} <= set(stored_rep_ids(db)), 10, "those reps committed"
            )
        finally:
            proc.send_signal(signal.SIGKILL)  # the power cut: no shutdown code runs
            out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, out.decode(errors="replace")
        before_kill = published_reps()
        assert db.with_name(db.name + "-wal").exists()  # the reps live in the WAL, never checkpointed

        # the box boots again: the daemon opens the same file
        first_boot = before_kill[0]["id"].split("-")[-2]  # feedback ids are <device>-<boot>-<seq>
        restarted = daemon(cfg, "--loop")
        try:
            sub.wait_for_json(
                f"{BASE}/status",
                lambda s: s["state"] == "online" and s.get("boot") != first_boot and s.get("history") == "recording",
                timeout_s=60,
            )
        finally:
            restarted.send_signal(signal.SIGTERM)
            out2, _ = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, out2.decode(errors="replace")

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    killed = conn.execute("SELECT id, state, ended_at, reps FROM sessions ORDER BY started_at").fetchone()
    session_id, state, ended_at, reps = killed
    assert state == "interrupted" and ended_at is not None  # closed by the restart, not lost
    stored = conn.execute(
        "SELECT event_id, number, exercise, down_s, up_s, faults FROM reps WHERE session_id = ? ORDER BY id",
        (session_id,),
    ).fetchall()
    by_id = {row[0]: row for row in stored}
    missing = [e["id"] for e in before_kill if e["id"] not in by_id]
    assert missing == [], f"reps published before the kill but not in the database: {missing}"
    assert reps == len(stored) >= len(before_kill) >= 3
    for event in before_kill:  # each stored as published
        _, number, exercise, down_s, up_s, faults = by_id[event["id"]]
        assert (number, exercise) == (event["details"]["rep"], event["exercise"])
        assert (down_s, up_s) == (event["details"]["down_s"], event["details"]["up_s"])
        assert json.loads(faults) == event["details"]["faults"]
    assert "interrupted sessions closed: 1;" in out2.decode(errors="replace")
