"""The daemon end to end: a real clip, a real Mosquitto, real subscribers.

`gymcorner run` runs as a subprocess (as systemd would start it) on a labelled squat
clip with a known fault; from the outside we check that avatar frames decode, that each
feedback event arrives once with its id, and that status goes online -> offline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mqtt_helpers import MqttSubscriber, wait_until
from protocol_doc import validator
from shared_data import clip_path

from gymcorner.avatar.codec import decode_binary

CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4"  # lateral, forward lean
DEVICE = "e2e-corner"


def daemon(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "gymcorner", "run", "--config", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )


def write_config(tmp_path: Path, port: int, source: Path, **extra: str) -> Path:
    cfg = tmp_path / "site.toml"
    lines = [
        f'[device]\nid = "{DEVICE}"',
        f'[source]\nuri = "{source}"',
        '[coach]\nexercise = "squat"',  # the 1.3-s clip ends before the recogniser is sure
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nreconnect_min_delay_s = 0.1\nreconnect_max_delay_s = 0.5',
    ]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


@pytest.mark.shared_data
@pytest.mark.broker
def test_daemon_on_a_clip_publishes_avatar_feedback_and_status(tmp_path: Path, mosquitto_broker) -> None:
    clip = clip_path(CLIP)
    base = f"gymcorner/{DEVICE}"
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{base}/#") as sub:
        proc = daemon(write_config(tmp_path, mosquitto_broker.port, clip))
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, out.decode(errors="replace")
        wait_until(lambda: any(m.json()["state"] == "offline" for m in sub.messages(f"{base}/status")), 10, "offline")

        states = [m.json()["state"] for m in sub.messages(f"{base}/status")]
        assert states[0] == "online" and states[-1] == "offline"

        frames = [decode_binary(m.payload) for m in sub.messages(f"{base}/avatar")]
        assert len(frames) >= 19  # QoS 0 may drop under back-pressure; most of a short clip arrives on loopback
        assert all(len(m.payload) <= 300 for m in sub.messages(f"{base}/avatar"))
        seqs = [f.seq for f in frames]
        assert seqs == sorted(seqs)
        assert any(f.present for f in frames)

        events = [m.json() for m in sub.messages(f"{base}/feedback")]
        ids = [e["id"] for e in events]
        assert len(ids) == len(set(ids)), "an event arrived twice"
        form = [e for e in events if e["kind"] == "form"]
        assert [(e["code"], e["details"]["reason"]) for e in form] == [("posture_incorrect", "forward_lean")]
        assert form[0]["v"] == 1 and form[0]["device"] == DEVICE
        reps = [e for e in events if e["kind"] == "rep"]
        assert [e["details"]["rep"] for e in reps] == [1]
        assert reps[0]["details"]["faults"] == ["forward_lean"]  # the fault belongs to the rep it was seen in

        session = sub.wait_for_json(f"{base}/session", lambda s: s["state"] == "ended")
        assert session["events"] == {"posture_incorrect": 1, "rep": 1, "set_end": 1} and session["reps"] == 1
        assert session["by_exercise"]["squat"]["faulty_reps"] == 1 and session["by_exercise"]["squat"]["sets"] == 1


@pytest.mark.shared_data
@pytest.mark.broker
def test_sigterm_stops_cleanly_and_commands_are_answered(tmp_path: Path, mosquitto_broker) -> None:
    clip = clip_path(CLIP)
    base = f"gymcorner/{DEVICE}"
    cfg = write_config(tmp_path, mosquitto_broker.port, clip)
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{base}/#") as sub:
        proc = daemon(cfg, "--loop", "--realtime")
        try:
            sub.wait_for_json(f"{base}/status", lambda s: s["state"] == "online", timeout_s=60)
            sub.publish(f"{base}/cmd", b"{not json")
            sub.publish(f"{base}/cmd", json.dumps({"v": 1, "id": "p1", "cmd": "ping"}))
            bad = sub.wait_for_json(f"{base}/cmd/reply", lambda r: r["ok"] is False)
            assert "json" in bad["error"].lower()
            assert sub.wait_for_json(f"{base}/cmd/reply", lambda r: r.get("id") == "p1")["ok"] is True
            sub.publish(f"{base}/cmd", json.dumps({"v": 1, "id": "s1", "cmd": "status"}))
            status = sub.wait_for_json(f"{base}/cmd/reply", lambda r: r.get("id") == "s1")
            validator("cmd-reply").validate(status)  # the documented shape: detail, frames, stats
            assert status["ok"] is True and status["stats"]["connected"] is True
            assert isinstance(status["detail"], str) and status["frames"] >= 0 and "mqtt" not in status
            wait_until(lambda: len(sub.messages(f"{base}/avatar")) > 5, 30, "avatar frames")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out.decode(errors="replace")
        wait_until(lambda: sub.messages(f"{base}/status")[-1].json()["state"] == "offline", 10, "offline")


@pytest.mark.shared_data
def test_daemon_keeps_coaching_without_a_broker(tmp_path: Path) -> None:
    from mqtt_helpers import free_port

    clip = clip_path(CLIP)
    proc = daemon(write_config(tmp_path, free_port(), clip))  # nothing listens on this port
    out, _ = proc.communicate(timeout=180)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "feedback t=" in text and "posture_incorrect" in text  # coached all the same
    assert "undelivered" in text  # and said what the broker never got


def test_missing_source_is_one_clear_line(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, 1883, tmp_path / "nope.mp4")
    proc = subprocess.run(
        [sys.executable, "-m", "gymcorner", "run", "--config", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == f"gymcorner: error: video file not found: {tmp_path / 'nope.mp4'}"
    assert "Traceback" not in proc.stderr
