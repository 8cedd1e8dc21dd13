"""The daemon's MQTT client in its own process, against a real Mosquitto: it does what the
in-process publisher does, raises what it raises, and when the daemon dies the broker still
publishes the last will and no child process is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from mqtt_helpers import MqttSubscriber, wait_until

from gymcorner.config import MqttConfig
from gymcorner.errors import ConfigError
from gymcorner.transport.mqtt import Topics
from gymcorner.transport.mqtt_process import MqttProcess

pytestmark = pytest.mark.broker

EDGE_DIR = Path(__file__).resolve().parents[1] / "edge"
DEVICE = "corner-process"
TOPICS = Topics.for_device("gymcorner", DEVICE)


def config(port: int, **overrides: object) -> MqttConfig:
    options: dict[str, object] = dict(
        host="127.0.0.1", port=port, reconnect_min_delay_s=0.05, reconnect_max_delay_s=0.5, password_env=None
    )
    options.update(overrides)
    return MqttConfig(**options)


@pytest.fixture
def link(mosquitto_broker) -> Iterator[MqttProcess]:
    process = MqttProcess(config(mosquitto_broker.port), DEVICE)
    process.start()
    wait_until(lambda: process.stats()["connected"], what="the child connected")
    yield process
    process.close(timeout_s=2.0)


def test_commands_replies_feedback_and_status_go_through_the_child(mosquitto_broker, link: MqttProcess) -> None:
    topics = (TOPICS.status, TOPICS.feedback, TOPICS.cmd_reply, TOPICS.avatar)
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, topics) as app:
        app.wait_for_json(TOPICS.status, lambda s: s["state"] == "online" and s["boot"] == link.boot_id)
        event_id = link.publish_feedback({"code": "knee_valgus", "kind": "form"})
        assert event_id == f"{DEVICE}-{link.boot_id}-1"
        got = app.wait_for_json(TOPICS.feedback, lambda e: e["id"] == event_id)
        assert got["code"] == "knee_valgus" and got["device"] == DEVICE
        link.publish_avatar(b"\x01\x02\x03")
        assert app.wait_for_messages(TOPICS.avatar, 1)[0].payload == b"\x01\x02\x03"

        app.publish(TOPICS.cmd, json.dumps({"v": 1, "id": "app-1", "cmd": "ping"}))
        commands: list = []
        wait_until(lambda: bool(commands.extend(link.poll_commands()) or commands), what="the command")
        assert [(c.id, c.name.value) for c in commands] == [("app-1", "ping")]
        link.reply(commands[0], True, pong=True)
        reply = app.wait_for_json(TOPICS.cmd_reply, lambda r: r["id"] == "app-1")
        assert reply["ok"] is True and reply["pong"] is True

        app.publish(TOPICS.cmd, b"not json")  # answered by the child, never reaching the loop
        error = app.wait_for_json(TOPICS.cmd_reply, lambda r: r["ok"] is False)
        assert "JSON" in error["error"]
        assert link.stats()["commands_rejected"] == 1 and link.poll_commands() == []

        link.close(timeout_s=2.0)
        app.wait_for_json(TOPICS.status, lambda s: s["state"] == "offline" and s.get("detail") == "shutdown")


def test_bad_values_raise_in_the_caller_not_in_the_child(link: MqttProcess) -> None:
    with pytest.raises(ValueError):
        link.publish_feedback({"code": "x", "details": {"angle_deg": float("nan")}})
    with pytest.raises(ValueError):
        link.publish_status("sleeping")
    with pytest.raises(ValueError):
        link.publish_json("wearables/+", {"bpm": 80})
    assert link.stats()["connected"]  # and the child is still serving


def test_a_setting_that_cannot_work_raises_config_error_from_start(tmp_path: Path) -> None:
    process = MqttProcess(config(1, tls=True, ca_file=tmp_path / "missing-ca.pem"), DEVICE)
    with pytest.raises(ConfigError, match=r"mqtt\.ca_file"):
        process.start()
    process.close()
    assert not process._process.is_alive()


CHILD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from gymcorner.config import MqttConfig
    from gymcorner.transport.mqtt_process import MqttProcess
    link = MqttProcess(MqttConfig(host="127.0.0.1", port=int(sys.argv[1]), password_env=None), sys.argv[2])
    link.start()
    print(link._process.pid, flush=True)
    while True:
        link.publish_avatar(b"frame")
        time.sleep(0.05)
    """
)


def test_when_the_daemon_is_killed_the_will_is_published_and_the_child_exits(mosquitto_broker) -> None:
    daemon = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, str(mosquitto_broker.port), DEVICE],
        env={**os.environ, "PYTHONPATH": str(EDGE_DIR)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        child_pid = int(daemon.stdout.readline())
        with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.status) as app:
            app.wait_for_json(TOPICS.status, lambda s: s["state"] == "online")
            daemon.kill()  # SIGKILL: no close(), the child is told nothing
            daemon.wait(10)
            will = app.wait_for_json(TOPICS.status, lambda s: s["state"] == "offline")
        assert will["detail"] == "connection lost"  # the last will, not a clean shutdown
        wait_until(lambda: not Path(f"/proc/{child_pid}").exists() or _zombie(child_pid), what="the child gone")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return True


def test_the_frame_loop_and_another_thread_read_the_pipe_at_once_without_a_hang(
    mosquitto_broker, link: MqttProcess
) -> None:
    """The frame loop polls commands while the status command (another caller) waits for the
    child's counters: neither may take the other's message or keep it waiting."""
    import threading
    import time

    got: list = []
    stop = threading.Event()

    def frame_loop() -> None:
        while not stop.is_set():
            got.extend(link.poll_commands())
            time.sleep(0.001)

    loop = threading.Thread(target=frame_loop, daemon=True)
    loop.start()
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.cmd_reply) as app:
        for n in range(50):
            app.publish(TOPICS.cmd, json.dumps({"v": 1, "id": f"c{n}", "cmd": "ping"}))
        started = time.monotonic()
        counters = [link.stats() for _ in range(100)]
        assert time.monotonic() - started < 20
        assert all(c["connected"] for c in counters)
        wait_until(lambda: len(got) == 50, what="every command")
    stop.set()
    loop.join(5)
    assert not loop.is_alive()
    assert sorted(c.id for c in got) == sorted(f"c{n}" for n in range(50))
