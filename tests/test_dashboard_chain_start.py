""""Start session" on a chosen box, from the chain's dashboard: real parts end to end.

A real PostgreSQL server (postgres_helpers.py) holds what two boxes uploaded with the real
sync: gym-north-1, where Ana Silva trains (she is member 3 there: Carla and Dan came
first), and gym-south-1, where only Ben trains (he is member 1 there, the id Ana has on the
server, which is what a command naming the server's id would start). A real Mosquitto is
the chain's broker ([dashboard.chain_mqtt]); the box's daemon is the real one (App over a
replayed camera, its history the box's own file), on that broker directly or through its
own broker bridged to it, or the fake device of the corner tests, or nobody.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mqtt_helpers import WAIT_S, MqttSubscriber, wait_until
from postgres_helpers import PostgresServer, fresh_database
from protocol_doc import validator
from starlette.testclient import TestClient
from test_dashboard import PASSWORD, Clock, alert, csrf_of, log_in
from test_dashboard_corner import FakeDevice
from test_history_members import sessions_for
from test_history_postgres import run_cli
from test_history_sink import run_loop, running_app
from test_session_counts import SQUATS, play

from gymcorner.config import Config
from gymcorner.config.dashboard import ChainMqttConfig, DashboardConfig
from gymcorner.dashboard.app import build_app
from gymcorner.dashboard.chain import NO_CORNER
from gymcorner.history.members import member_named
from gymcorner.history.postgres import open_postgres
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.users import add_user

pytestmark = pytest.mark.broker
NORTH, SOUTH = "gym-north-1", "gym-south-1"
BY_NAME_ONLY = "no member named 'ana silva' here: a box knows its own members and, once it syncs with a chain, the chain's members as of its last sync (gymcorner history sync); or add them on this box: gymcorner members add"


@dataclass
class Chain:
    url: str
    north: Path  # the boxes' own files
    south: Path
    ana: int  # her id on the server
    ana_at_north: int  # and on the box she trains at


@pytest.fixture
def chain(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    url = fresh_database(pg_server)
    north, south = tmp_path / f"{NORTH}.sqlite3", tmp_path / f"{SOUTH}.sqlite3"
    store = open_sqlite(north)
    for name in ("Carla", "Dan"):  # on the box, not on the server (no session: nothing uploaded)
        store.add_member(name)
    ana = store.add_member("Ana Silva", birth_year=1990, goal="strength", level="beginner").id
    store.close()
    store = open_sqlite(south)
    ben = store.add_member("Ben").id
    store.close()
    sessions_for(north, ana, workouts=1, device_id=NORTH)
    sessions_for(south, ben, workouts=1, device_id=SOUTH)
    for box in (north, south):
        assert "uploaded 1 sessions" in run_cli(["history", "sync", "--to", url, "--db", str(box)])
    remote = open_postgres(url)
    try:
        add_user(remote, "tess", "trainer", PASSWORD)
        on_server = member_named(remote, "Ana Silva")
        assert on_server is not None
        add_user(remote, "ana", "member", PASSWORD, member_id=on_server.id)
    finally:
        remote.close()
    assert (on_server.id, ana, ben) == (1, 3, 1)  # the server's id of Ana is Ben's id at the south box
    return Chain(url, north, south, on_server.id, ana)


def chain_broker(broker: Any) -> ChainMqttConfig:
    return ChainMqttConfig(enabled=True, host=broker.host, port=broker.port, password_env=None)


@pytest.fixture
def dashboard(chain: Chain, mosquitto_broker) -> Iterator[TestClient]:
    """The chain's dashboard, its broker the test's Mosquitto, a 10 s wait for a box."""
    config = DashboardConfig(chain_mqtt=chain_broker(mosquitto_broker), command_timeout_s=10.0)
    with TestClient(build_app(chain.url, config, now=Clock()), follow_redirects=False) as c:
        yield c


def start_on(c: TestClient, member_id: int, box: str) -> Any:
    page = c.get(f"/members/{member_id}")
    assert page.status_code == 200, page.text
    return c.post(f"/members/{member_id}/start", data={"csrf": csrf_of(page.text), "box": box})


def box_choices(html: str) -> list[tuple[str, bool]]:
    """The form's boxes: (device id, chosen)."""
    return [(box, bool(chosen)) for chosen, box in re.findall(r'<option value="[^"]*"( selected)?>([^<]*)</option>', html)]


def test_the_chosen_box_s_daemon_starts_its_own_record_of_the_member(chain: Chain, dashboard: TestClient, mosquitto_broker) -> None:
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = chain.north  # the north box's daemon, on the chain's broker directly
    app, camera, stack = running_app(config, mosquitto_broker, device_id=NORTH)
    base = f"gymcorner/{NORTH}"
    with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, "gymcorner/#") as sub:
        loop = run_loop(app)
        wait_until(lambda: app.sinks.get("mqtt").stats()["connected"], what="daemon connected")  # type: ignore[union-attr]
        log_in(dashboard, name="tess")
        page = dashboard.get(f"/members/{chain.ana}").text
        assert box_choices(page) == [(NORTH, True), (SOUTH, False)]  # every box of the chain; hers chosen first
        assert "Start session for this member on the chosen box" in page and "a box that has not synced since they were added refuses" in page
        r = start_on(dashboard, chain.ana, NORTH)
        assert r.status_code == 200, r.text
        assert alert(r.text) == f"{NORTH} coaches Ana Silva now: their session has started"
        assert "<h2>Today's plan</h2>" in r.text and "<li>squat: " in r.text  # the plan the box made from its history

        (sent,) = sub.messages(f"{base}/cmd")
        command = sent.json()
        validator("cmd").validate(command)
        assert (command["cmd"], command["args"], sent.retain) == ("start_session", {"member_key": "ana silva"}, False)
        reply = sub.wait_for_json(f"{base}/cmd/reply", lambda m: m["id"] == command["id"])
        validator("cmd-reply").validate(reply)
        assert (reply["ok"], reply["member"], reply["member_id"]) == (True, "Ana Silva", chain.ana_at_north)
        assert not sub.messages(f"gymcorner/{SOUTH}/cmd")  # only the chosen box was asked

        play(camera, SQUATS, 0.0)
        app.stop.set()
        loop.join(10)
        app.shutdown()
    box = open_sqlite(chain.north)
    newest = box.sessions(NORTH)[-1]
    box.close()
    assert newest["member_id"] == chain.ana_at_north and newest["reps"] > 0  # her session at the box, her reps
    assert "uploaded 1 sessions" in run_cli(["history", "sync", "--to", chain.url, "--db", str(chain.north)])
    sessions = dashboard.get(f"/api/members/{chain.ana}/sessions").json()
    assert [s["device_id"] for s in sessions] == [NORTH, NORTH]  # and once uploaded, the chain's page has it


def test_a_box_where_the_member_never_trained_starts_its_own_record_of_them_not_the_id_s_member(
    chain: Chain, dashboard: TestClient, mosquitto_broker
) -> None:
    """The south box took Ana down at its sync (members are shared across the chain): it
    starts her under its own id for her, never Ben, who has the server's id of her there."""
    box = open_sqlite(chain.south)
    ana_at_south = box.find_member("Ana Silva").id
    box.close()
    assert ana_at_south != chain.ana
    config = Config()
    config.history.path = chain.south
    app, _camera, stack = running_app(config, mosquitto_broker, device_id=SOUTH)
    with stack, MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"gymcorner/{SOUTH}/#") as sub:
        loop = run_loop(app)
        wait_until(lambda: app.sinks.get("mqtt").stats()["connected"], what="daemon connected")  # type: ignore[union-attr]
        log_in(dashboard, name="tess")
        r = start_on(dashboard, chain.ana, SOUTH)
        assert r.status_code == 200, r.text
        assert alert(r.text) == f"{SOUTH} coaches Ana Silva now: their session has started"
        (sent,) = sub.messages(f"gymcorner/{SOUTH}/cmd")
        reply = sub.wait_for_json(f"gymcorner/{SOUTH}/cmd/reply", lambda m: m["id"] == sent.json()["id"])
        assert (reply["ok"], reply["member"], reply["member_id"]) == (True, "Ana Silva", ana_at_south)
        app.stop.set()
        loop.join(10)
        app.shutdown()


def test_a_member_added_on_the_chain_after_the_box_s_last_sync_is_refused_there(
    chain: Chain, dashboard: TestClient, mosquitto_broker
) -> None:
    remote = open_postgres(chain.url)
    try:  # the chain's dashboard adds her after both boxes synced
        eve = remote.add_member("Eve").id
    finally:
        remote.close()
    config = Config()
    config.history.path = chain.south
    app, _camera, stack = running_app(config, mosquitto_broker, device_id=SOUTH)
    with stack:
        loop = run_loop(app)
        wait_until(lambda: app.sinks.get("mqtt").stats()["connected"], what="daemon connected")  # type: ignore[union-attr]
        log_in(dashboard, name="tess")
        r = start_on(dashboard, eve, SOUTH)
        assert r.status_code == 502
        assert alert(r.text) == f"{SOUTH} refused: {BY_NAME_ONLY.replace('ana silva', 'eve')}"
        assert app.sinks.get("history").member_id is None  # type: ignore[union-attr]
        app.stop.set()
        loop.join(10)
        app.shutdown()
    assert "0 members added to" in run_cli(["history", "sync", "--to", chain.url, "--db", str(chain.south)])
    box = open_sqlite(chain.south)
    assert box.find_member("Eve").display_name == "Eve"  # after the next sync the box has her
    box.close()


def test_no_daemon_on_the_chain_s_broker_is_the_no_reply_line(chain: Chain, mosquitto_broker) -> None:
    config = DashboardConfig(chain_mqtt=chain_broker(mosquitto_broker), command_timeout_s=0.5)
    with (
        MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"gymcorner/{NORTH}/cmd") as sub,
        TestClient(build_app(chain.url, config, now=Clock()), follow_redirects=False) as c,
    ):
        log_in(c, name="tess")
        r = start_on(c, chain.ana, NORTH)
        assert r.status_code == 504
        broker = f"{mosquitto_broker.host}:{mosquitto_broker.port}"
        assert alert(r.text) == (
            f"no reply from {NORTH} within 0.5 s: is its daemon running and connected to the broker at {broker}?"
        )
        sub.wait_for_messages(f"gymcorner/{NORTH}/cmd", 1)  # the command did go out


def test_without_a_chain_broker_there_is_no_form_and_one_line_says_why(chain: Chain) -> None:
    with TestClient(build_app(chain.url, DashboardConfig(), now=Clock()), follow_redirects=False) as c:
        log_in(c, name="tess")
        page = c.get(f"/members/{chain.ana}").text
        assert "Start session" not in page and 'name="box"' not in page
        line = NO_CORNER[:1].upper() + NO_CORNER[1:] + "."
        assert page.count('class="reason chain"') >= 1 and line.replace("'", "&#x27;") in page
        assert "[dashboard.chain_mqtt] enabled = false" in line
        r = c.post(f"/members/{chain.ana}/start", data={"csrf": csrf_of(page), "box": NORTH})
        assert r.status_code == 503 and alert(r.text) == NO_CORNER


def test_only_staff_with_the_form_s_token_and_a_box_of_the_chain_start_a_session(
    chain: Chain, dashboard: TestClient, mosquitto_broker
) -> None:
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, "gymcorner/#") as sub:
        r = dashboard.post(f"/members/{chain.ana}/start", data={"box": NORTH})
        assert r.status_code == 303 and r.headers["location"] == f"/login?next=/members/{chain.ana}/start"
        log_in(dashboard, name="ana")  # her own login: her page, no form, and a POST is 403
        page = dashboard.get(f"/members/{chain.ana}").text
        assert "/start" not in page and 'name="box"' not in page
        r = dashboard.post(f"/members/{chain.ana}/start", data={"csrf": csrf_of(page), "box": NORTH})
        assert r.status_code == 403
        log_in(dashboard, name="tess")
        token = csrf_of(dashboard.get(f"/members/{chain.ana}").text)
        assert dashboard.post(f"/members/{chain.ana}/start", data={"csrf": "forged", "box": NORTH}).status_code == 403
        for box, said in (
            ("gym-east-9", f"no box 'gym-east-9' in this chain: choose one of {NORTH}, {SOUTH}"),
            ("gymcorner/#", f"no box 'gymcorner/#' in this chain: choose one of {NORTH}, {SOUTH}"),
            ("", f"choose a box: one of {NORTH}, {SOUTH}"),
        ):
            r = dashboard.post(f"/members/{chain.ana}/start", data={"csrf": token, "box": box})
            assert (r.status_code, alert(r.text)) == (400, said)
        assert dashboard.post("/members/99/start", data={"csrf": token, "box": NORTH}).status_code == 404
        assert [m.topic for m in sub.messages() if m.topic.endswith("/cmd")] == []  # none of those reached a box


def test_a_box_behind_its_own_broker_bridged_to_the_chain_s_is_reached_by_its_device_id(
    chain: Chain, dashboard: TestClient, mosquitto_broker, mosquitto_factory
) -> None:
    """The bridge of docs/dashboard.md, on the box's broker: the box's cmd topic in from the
    chain's broker, its cmd/reply out to it. The fake device on the box's broker answers as
    the daemon does: its own member of that name, or another one (a box that got it wrong)."""
    box_broker = mosquitto_factory(extra_config=(
        "connection chain",
        f"address {mosquitto_broker.host}:{mosquitto_broker.port}",
        f"topic gymcorner/{NORTH}/cmd in 1",
        f"topic gymcorner/{NORTH}/cmd/reply out 1",
    ))  # fmt: skip
    box_broker.start()
    answers = iter([None, {"ok": True, "member": "Carla", "member_id": 1}])

    def answer(command: dict[str, Any]) -> dict[str, Any]:
        if command["cmd"] == "ping":
            return {"ok": True}
        scripted = next(answers)
        if scripted is not None:
            return scripted
        store = open_sqlite(chain.north)
        try:
            found = member_named(store, command["args"]["member_key"])
        finally:
            store.close()
        return {"ok": True, "member": found.display_name, "member_id": found.id} if found else {"ok": False}

    device = FakeDevice(box_broker.host, box_broker.port, answer, device_id=NORTH)
    try:
        with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"gymcorner/{NORTH}/cmd/reply") as chain_side:
            bridged = 0

            def bridge_up() -> bool:  # a ping through the bridge, until one comes back
                nonlocal bridged
                bridged += 1
                probe = f"probe-{bridged}"
                chain_side.publish(f"gymcorner/{NORTH}/cmd", json.dumps({"v": 1, "id": probe, "cmd": "ping"}))
                try:
                    chain_side.wait_for_json(f"gymcorner/{NORTH}/cmd/reply", lambda m: m["id"] == probe, timeout_s=0.5)
                except AssertionError:
                    return False
                return True

            wait_until(bridge_up, timeout_s=WAIT_S, what="the box's broker bridged to the chain's")
        log_in(dashboard, name="tess")
        r = start_on(dashboard, chain.ana, NORTH)
        assert r.status_code == 200 and alert(r.text) == f"{NORTH} coaches Ana Silva now: their session has started"
        assert device.commands[-1]["args"] == {"member_key": "ana silva"}
        r = start_on(dashboard, chain.ana, NORTH)  # the box answers ok, with another member than asked
        assert r.status_code == 502 and alert(r.text) == f"{NORTH} took member 'Carla' (id 1), not 'Ana Silva'"
    finally:
        device.close()


def box_states(html: str) -> dict[str, tuple[str, str]]:
    """The member page's list of boxes: device id -> (state, line)."""
    found = re.findall(r'<li class="box-(\w+)"><span class="box">([^<]*)</span>: ([^<]*)</li>', html)
    return {box: (state, line.replace("&#x27;", "'")) for state, box, line in found}


def test_the_form_says_which_boxes_are_online_as_their_daemons_tell_the_chain_s_broker(
    chain: Chain, dashboard: TestClient, mosquitto_broker
) -> None:
    config = Config()
    config.coach.exercise = "squat"
    config.history.path = chain.north
    app, _camera, stack = running_app(config, mosquitto_broker, device_id=NORTH)
    log_in(dashboard, name="tess")
    with stack:
        loop = run_loop(app)
        wait_until(lambda: box_states(dashboard.get(f"/members/{chain.ana}").text).get(NORTH, ("",))[0] == "online",
                   what="the north box online on the page")  # fmt: skip
        states = box_states(dashboard.get(f"/members/{chain.ana}").text)
        assert states[SOUTH] == ("unknown", "no status heard: its daemon has not reached the chain's broker")
        listed = dashboard.get("/boxes").text  # the page of boxes says the same
        found = dict(re.findall(r'<span class="box">([^<]*)</span>.*?<span class="box-(\w+)">', listed))
        assert found == {NORTH: "online", SOUTH: "unknown"}
        app.stop.set()
        loop.join(10)
        app.shutdown()  # its retained status goes offline
    wait_until(lambda: box_states(dashboard.get(f"/members/{chain.ana}").text)[NORTH][0] == "offline",
               what="the north box offline on the page")  # fmt: skip
    assert box_states(dashboard.get(f"/members/{chain.ana}").text)[NORTH][1].startswith("offline: ")


def test_a_bridged_box_whose_broker_goes_away_shows_offline_though_its_daemon_said_online(
    chain: Chain, dashboard: TestClient, mosquitto_broker, mosquitto_factory
) -> None:
    """The bridge lines of docs/dashboard.md with their notification topic: the chain's broker
    keeps the box broker's last will, so a box switched off is not left 'online'."""
    box_broker = mosquitto_factory(extra_config=(
        "connection chain",
        f"address {mosquitto_broker.host}:{mosquitto_broker.port}",
        f"topic gymcorner/{NORTH}/cmd in 1",
        f"topic gymcorner/{NORTH}/cmd/reply out 1",
        f"topic gymcorner/{NORTH}/status out 1",
        f"notification_topic gymcorner/{NORTH}/bridge",
    ))  # fmt: skip
    box_broker.start()
    log_in(dashboard, name="tess")
    with MqttSubscriber(box_broker.host, box_broker.port, "unused/#") as box_side:
        box_side.publish(f"gymcorner/{NORTH}/status", json.dumps({"v": 1, "state": "online", "device": NORTH,
                                                                  "detail": "coaching"}), retain=True)  # fmt: skip
    wait_until(lambda: box_states(dashboard.get(f"/members/{chain.ana}").text)[NORTH] == ("online", "online: coaching"),
               what="the north box online through the bridge")  # fmt: skip
    box_broker.stop()  # the box switched off: its daemon's status cannot reach the chain any more
    wait_until(lambda: box_states(dashboard.get(f"/members/{chain.ana}").text)[NORTH][0] == "offline",
               what="the north box offline once its broker is gone")  # fmt: skip
    assert box_states(dashboard.get(f"/members/{chain.ana}").text)[NORTH] == (
        "offline", "offline: the box's broker has lost its link to the chain's broker")


def test_with_the_chain_s_broker_down_the_boxes_status_is_unknown_and_says_why(chain: Chain, mosquitto_broker) -> None:
    mosquitto_broker.stop()
    try:
        config = DashboardConfig(chain_mqtt=chain_broker(mosquitto_broker), command_timeout_s=2.0)
        with TestClient(build_app(chain.url, config, now=Clock()), follow_redirects=False) as c:
            log_in(c, name="tess")
            states = box_states(c.get(f"/members/{chain.ana}").text)
            assert set(states) == {NORTH, SOUTH}
            state, line = states[NORTH]
            assert state == "unknown" and line.startswith(
                f"status unknown: the chain's broker at {mosquitto_broker.host}:{mosquitto_broker.port} is unreachable")
    finally:
        mosquitto_broker.start()
