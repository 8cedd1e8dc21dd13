""""Start session for this member" on the dashboard, over a real Mosquitto broker.

The dashboard (Starlette's TestClient) publishes `start_session {"member": "<id>"}` on the
device's `cmd` topic and shows the reply with the same id. On the other end: the real
daemon's frame loop (App over a replayed camera, as tests/test_history_sink.py runs it),
which records the next session as that member's; or a fake device that answers what a
test needs (a refusal, the wrong member); or nobody (the timeout); or no broker at all.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from mqtt_helpers import WAIT_S, MqttSubscriber, free_port, wait_until
from protocol_doc import validator
from starlette.testclient import TestClient
from test_dashboard import PASSWORD, Clock, alert, csrf_of, log_in
from test_history_sink import DEVICE, run_loop, running_app
from test_session_counts import SQUATS, play

from gymcorner.config import Config, MqttConfig
from gymcorner.config.dashboard import DashboardConfig
from gymcorner.dashboard.app import build_app
from gymcorner.dashboard.corner import CornerLink
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.users import add_user

pytestmark = pytest.mark.broker
BASE = f"gymcorner/{DEVICE}"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    store = open_sqlite(path)
    try:
        add_user(store, "tess", "trainer", PASSWORD)
        ana = store.add_member("Ana Silva", birth_year=1990, goal="strength", level="beginner")
        add_user(store, "ana", "member", PASSWORD, member_id=ana.id)
    finally:
        store.close()
    return path


def broker_config(host: str, port: int) -> MqttConfig:
    return MqttConfig(host=host, port=port, password_env=None)


def dashboard(db: Path, corner: CornerLink | None) -> TestClient:
    app = build_app(db, DashboardConfig(lock_timeout_s=2.0), now=Clock(), corner=corner)
    return TestClient(app, follow_redirects=False)


def start(c: TestClient, member_id: int = 1) -> Any:
    page = c.get(f"/members/{member_id}")
    assert page.status_code == 200, page.text
    return c.post(f"/members/{member_id}/start", data={"csrf": csrf_of(page.text)})


class FakeDevice:
    """A paho client on the device's `cmd` topic that answers with `answer(command)`."""

    def __init__(
        self, host: str, port: int, answer: Callable[[dict[str, Any]], dict[str, Any]], device_id: str = DEVICE
    ) -> None:
        self.answer, self.device_id, base = answer, device_id, f"gymcorner/{device_id}"
        self.cmd_reply = f"{base}/cmd/reply"
        self.commands: list[dict[str, Any]] = []
        self._subscribed = threading.Event()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="fake-corner", protocol=paho.MQTTv311)
        self._client.on_connect = lambda c, *_: c.subscribe(f"{base}/cmd", qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()
        assert self._subscribed.wait(WAIT_S)

    def _on_message(self, client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        command = json.loads(message.payload)
        self.commands.append(command)
        reply = {"v": 1, "id": command["id"], "cmd": command["cmd"], "device": self.device_id, **self.answer(command)}
        client.publish(self.cmd_reply, json.dumps(reply), qos=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def fake_device(mosquitto_broker) -> Iterator[Callable[..., FakeDevice]]:
    made: list[FakeDevice] = []

    def make(answer: Callable[[dict[str, Any]], dict[str, Any]]) -> FakeDevice:
        made.append(FakeDevice(mosquitto_broker.host, mosquitto_broker.port, answer))
        return made[-1]

    yield make
    for device in made:
        device.close()


def test_the_real_daemon_takes_the_member_and_records_their_session(db: Path, mosquitto_broker) -> None:
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = db  # the daemon and the dashboard share the box's history file
    app, camera, stack = running_app(config, mosquitto_broker)
    corner = CornerLink(broker_config(mosquitto_broker.host, mosquitto_broker.port), DEVICE, timeout_s=10)
    with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{BASE}/#") as sub:
        loop = run_loop(app)
        wait_until(lambda: app.sinks.get("mqtt").stats()["connected"], what="daemon connected")  # type: ignore[union-attr]
        c = dashboard(db, corner)
        log_in(c, name="tess")
        page = c.get("/members/1").text
        assert 'action="/members/1/start"' in page and f"Start session for this member on {DEVICE}" in page
        r = start(c)
        assert r.status_code == 200, r.text
        assert alert(r.text) == f"{DEVICE} coaches Ana Silva now: their session has started"
        assert "<h2>Today's plan</h2>" in r.text and "<li>squat: " in r.text  # the plan the device made for her

        (sent,) = [m for m in sub.messages(f"{BASE}/cmd")]
        command = sent.json()
        validator("cmd").validate(command)
        assert (command["cmd"], command["args"], sent.retain) == ("start_session", {"member": "1"}, False)
        reply = sub.wait_for_json(f"{BASE}/cmd/reply", lambda m: m["id"] == command["id"])
        assert (reply["ok"], reply["member_id"]) == (True, 1)

        play(camera, SQUATS, 0.0)
        app.stop.set()
        loop.join(10)
        app.shutdown()
    (session,) = open_sqlite(db).sessions(DEVICE)
    assert session["member_id"] == 1 and session["reps"] > 0  # her session, with her reps
    assert "<td>squat</td>" in c.get("/members/1").text  # and the dashboard lists it on her page


def test_the_device_s_refusal_and_a_reply_for_another_member_are_shown(db: Path, mosquitto_broker, fake_device) -> None:
    corner = CornerLink(broker_config(mosquitto_broker.host, mosquitto_broker.port), DEVICE, timeout_s=10)
    c = dashboard(db, corner)
    log_in(c, name="tess")
    device = fake_device(lambda cmd: {"ok": False, "error": "history unavailable, no member can be looked up: locked"})
    r = start(c)
    assert r.status_code == 502
    assert alert(r.text) == f"{DEVICE} refused: history unavailable, no member can be looked up: locked"
    device.close()
    fake_device(lambda cmd: {"ok": True, "member": "Ben", "member_id": 7})  # a member named "1", say
    r = start(c)
    assert r.status_code == 502 and alert(r.text) == f"{DEVICE} took member 'Ben' (id 7), not 1"


def test_no_reply_in_time_and_no_broker_are_each_said_in_one_line(db: Path, mosquitto_broker) -> None:
    quiet = CornerLink(broker_config(mosquitto_broker.host, mosquitto_broker.port), DEVICE, timeout_s=0.5)
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{BASE}/cmd") as sub:
        c = dashboard(db, quiet)
        log_in(c, name="tess")
        r = start(c)
        assert r.status_code == 504
        broker = f"{mosquitto_broker.host}:{mosquitto_broker.port}"
        assert alert(r.text) == (
            f"no reply from {DEVICE} within 0.5 s: is its daemon running and connected to the broker at {broker}?"
        )
        sub.wait_for_messages(f"{BASE}/cmd", 1)  # the command did go out

    nowhere = CornerLink(broker_config("127.0.0.1", free_port()), DEVICE, timeout_s=2)
    c = dashboard(db, nowhere)
    log_in(c, name="tess")
    r = start(c)
    assert r.status_code == 503 and alert(r.text).startswith("cannot reach the MQTT broker at 127.0.0.1:")
    assert "Traceback" not in r.text


def test_only_staff_with_the_form_s_token_start_a_session(db: Path, mosquitto_broker, fake_device) -> None:
    corner = CornerLink(broker_config(mosquitto_broker.host, mosquitto_broker.port), DEVICE, timeout_s=10)
    device = fake_device(lambda cmd: {"ok": True, "member": "Ana Silva", "member_id": 1})
    c = dashboard(db, corner)
    assert c.post("/members/1/start").headers["location"] == "/login?next=/members/1/start"
    log_in(c, name="ana")
    page = c.get("/members/1").text
    assert "/start" not in page  # a member sees no button
    assert c.post("/members/1/start", data={"csrf": csrf_of(page)}).status_code == 403
    log_in(c, name="tess")
    assert c.post("/members/1/start", data={"csrf": "forged"}).status_code == 403
    assert c.post("/members/99/start", data={"csrf": csrf_of(c.get("/members/1").text)}).status_code == 404
    assert device.commands == []  # none of those reached the corner
    assert start(c).status_code == 200 and len(device.commands) == 1


def test_without_mqtt_there_is_no_button_and_a_post_says_why(db: Path) -> None:
    c = dashboard(db, None)
    log_in(c, name="tess")
    page = c.get("/members/1").text
    assert "Start session" not in page
    r = c.post("/members/1/start", data={"csrf": csrf_of(page)})
    assert r.status_code == 503 and "MQTT is off" in alert(r.text)


def test_a_password_file_the_dashboard_cannot_read_is_one_line_not_a_crash(db: Path, tmp_path: Path) -> None:
    mqtt = MqttConfig(host="127.0.0.1", port=free_port(), username="dash", password_file=tmp_path / "absent",
                      password_env=None)  # fmt: skip
    c = dashboard(db, CornerLink(mqtt, DEVICE, timeout_s=2))
    log_in(c, name="tess")
    r = start(c)
    assert r.status_code == 503
    assert alert(r.text).startswith("cannot connect to the MQTT broker at 127.0.0.1:") and "mqtt.password_file" in alert(r.text)


def test_a_broker_that_refuses_the_dashboard_s_login_is_said_so(db: Path, mosquitto_factory) -> None:
    broker = mosquitto_factory(users={"corner": "the right one"})
    broker.start()
    mqtt = MqttConfig(host=broker.host, port=broker.port, username="corner", password="a wrong one", password_env=None)
    c = dashboard(db, CornerLink(mqtt, DEVICE, timeout_s=5))
    log_in(c, name="tess")
    r = start(c)
    assert r.status_code == 503
    assert alert(r.text) == f"the MQTT broker at {broker.host}:{broker.port} did not let us in: Not authorized"
