"""Incoming commands: the v1 schema (unit and property tests), and the real daemon answering them over a real broker."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mqtt_helpers import MqttSubscriber, wait_until
from shared_data import clip_path

from gymcorner.app import App
from gymcorner.avatar.codec import decode_binary, exercise_code
from gymcorner.coach.exercises import Exercise
from gymcorner.config import load_config
from gymcorner.errors import CommandError, Reason
from gymcorner.transport.commands import (
    MAX_COMMAND_BYTES,
    Command,
    CommandName,
    InvalidCommand,
    parse_command,
)
from gymcorner.transport.mqtt import Topics

DEVICE = "corner-cmd"
CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4"
PUSH_UP = exercise_code(Exercise("push_up"))
TOPICS = Topics.for_device("gymcorner", DEVICE)
PROTOCOL_DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"


def payload(**body: Any) -> bytes:
    return json.dumps(body).encode()


# ---------------------------------------------------------------- schema (unit)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (payload(v=1, id="a", cmd="ping"), Command("a", CommandName.PING, {})),
        (payload(v=1, id="b", cmd="status", args={}), Command("b", CommandName.STATUS, {})),
        (payload(v=1, id="c", cmd="reset_session"), Command("c", CommandName.RESET_SESSION, {})),
        (payload(v=1, id="d", cmd="stop_session"), Command("d", CommandName.STOP_SESSION, {})),
        (
            payload(v=1, id="e", cmd="set_exercise", args={"exercise": "squat"}),
            Command("e", CommandName.SET_EXERCISE, {"exercise": "squat"}),
        ),
    ],
)
def test_valid_commands_parse(raw: bytes, expected: Command) -> None:
    assert parse_command(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment", "command_id"),
    [
        (b"{not json", "not valid JSON", None),
        (b"", "not valid JSON", None),
        (b"\xff\xfe", "not UTF-8", None),
        (b"[1, 2]", "must be a JSON object", None),
        (b'"ping"', "must be a JSON object", None),
        (payload(id="x", cmd="ping"), "missing key 'v'", "x"),
        (payload(v=2, id="x", cmd="ping"), "unsupported protocol version 2", "x"),
        (payload(v="1", id="x", cmd="ping"), "unsupported protocol version '1'", "x"),
        (payload(v=True, id="x", cmd="ping"), "unsupported protocol version True", "x"),
        (payload(v=1, cmd="ping"), "id: Field required", None),
        (payload(v=1, id=7, cmd="ping"), "id: Input should be a valid string", None),
        (payload(v=1, id="", cmd="ping"), "id:", None),
        (payload(v=1, id="x", cmd="fly"), "unknown command 'fly'", "x"),
        (payload(v=1, id="x", cmd="ping", extra=1), "extra: unknown key", "x"),
        (payload(v=1, id="x", cmd="ping", args=[]), "args: Input should be a valid dictionary", "x"),
        (payload(v=1, id="x", cmd="ping", args={"now": True}), "ping: args.now: unknown key", "x"),
        (payload(v=1, id="x", cmd="set_exercise"), "set_exercise: args.exercise: Field required", "x"),
        (payload(v=1, id="x", cmd="set_exercise", args={"exercise": "yoga"}), "args.exercise", "x"),
        (b"[" * 5000 + b"]" * 5000, "not usable JSON", None),
        (b"x" * (MAX_COMMAND_BYTES + 1), "payload too large", None),
    ],
)
def test_invalid_commands_raise_one_line_errors(raw: bytes, fragment: str, command_id: str | None) -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse_command(raw)
    err = caught.value
    assert isinstance(err, CommandError) and err.reason is Reason.COMMAND_INVALID
    assert fragment in str(err)
    assert "\n" not in str(err) and len(str(err)) <= 200
    assert err.command_id == command_id


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_escape_as_other_errors(raw: bytes) -> None:
    try:
        parse_command(raw)
    except InvalidCommand:
        pass


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "v": st.sampled_from([1, 2, "1", None, True]) | JSON_VALUES,
            "id": st.text(max_size=140) | JSON_VALUES,
            "cmd": st.sampled_from([n.value for n in CommandName]) | st.text(max_size=20),
            "args": st.just({}) | st.just({"exercise": "squat"}) | JSON_VALUES,
        },
    ),
    st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=2),
)
def test_arbitrary_json_objects_are_commands_or_one_line_errors(body: dict, extra: dict) -> None:
    raw = json.dumps({**extra, **body}).encode()
    try:
        command = parse_command(raw)
    except InvalidCommand as err:
        assert "\n" not in str(err)
        return
    assert command.name.value == body["cmd"] and command.id == body["id"]


# ----------------------------------------------------- documented test vectors


def documented_vectors(kind: str) -> list[Any]:
    """JSON blocks of docs/protocol.md preceded by `<!-- vector: KIND -->`."""
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    pattern = rf"<!-- vector: {re.escape(kind)} -->\s*```json\n(.*?)```"
    return [json.loads(block) for block in re.findall(pattern, text, flags=re.S)]


def test_every_json_block_in_the_protocol_doc_is_valid_json() -> None:
    blocks = re.findall(r"```json\n(.*?)```", PROTOCOL_DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    for block in blocks:
        json.loads(block)


def test_documented_commands_parse_and_documented_bad_ones_do_not() -> None:
    good, bad = documented_vectors("cmd"), documented_vectors("cmd-invalid")
    assert {c["cmd"] for c in good} == {n.value for n in CommandName}
    for body in good:
        parse_command(json.dumps(body).encode())
    assert bad
    for body in bad:
        with pytest.raises(InvalidCommand):
            parse_command(json.dumps(body).encode())


def test_documented_feedback_examples_have_every_v1_field() -> None:
    examples = documented_vectors("feedback")
    assert {e["code"] for e in examples} >= {"knee_valgus", "rep", "set_end", "hr_zone"}
    for example in examples:
        assert set(example) >= {"v", "id", "t", "code", "text", "kind", "severity", "view", "exercise", "details"}
        assert example["kind"] in {"form", "info", "coach", "rep", "set"} and example["severity"] in {"warning", "info"}


# ------------------------------------------------------- over a real broker


@pytest.fixture
def daemon(mosquitto_broker) -> Iterator[App]:
    """The real daemon in this process: a clip looped in real time, the real MQTT link, the
    frame loop on a thread; every command below is handled by `App._handle` itself."""
    config = load_config(
        None,
        overrides={
            "device.id": DEVICE,
            "source.uri": str(clip_path(CLIP)),
            "source.loop": True,
            "source.realtime": True,
            "gpio.enabled": False,
            "history.enabled": False,
            "mqtt.host": mosquitto_broker.host,
            "mqtt.port": mosquitto_broker.port,
            "mqtt.reconnect_min_delay_s": 0.05,
            "mqtt.password_env": None,
        },
    )
    app = App(config)
    app.start()
    loop = threading.Thread(target=app.loop, daemon=True)
    loop.start()
    try:
        wait_until(lambda: mqtt_stats(app).get("connected", False), what="the daemon connected")
        yield app
    finally:
        app.stop.set()
        loop.join(10)
        app.shutdown()


@pytest.fixture
def client(mosquitto_broker) -> Iterator[MqttSubscriber]:
    """A controller app: sends commands, records replies."""
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.cmd_reply) as subscriber:
        yield subscriber


def mqtt_stats(app: App) -> dict[str, Any]:
    (link,) = [sink for sink in app.sinks if sink.name == "mqtt"]
    return dict(link.stats())  # type: ignore[attr-defined]


def ask(client: MqttSubscriber, raw: bytes, command_id: str) -> dict[str, Any]:
    client.publish(TOPICS.cmd, raw)
    return dict(client.wait_for_json(TOPICS.cmd_reply, lambda r: r["id"] == command_id))


BAD_PAYLOADS = [
    (b"{oops", None, "not valid JSON"),
    (b"[]", None, "must be a JSON object"),
    (payload(v=1, id="u1", cmd="self_destruct"), "u1", "unknown command"),
    (payload(v=9, id="v9", cmd="ping"), "v9", "unsupported protocol version 9"),
    (payload(v=1, id="x1", cmd="ping", please=True), "x1", "unknown key"),
    (payload(v=1, id="a1", cmd="set_exercise", args={"exercise": "bench"}), "a1", "args.exercise"),
    (b"{" + b" " * (1024 * 1024) + b"}", None, "payload too large"),
]


@pytest.mark.broker
def test_malformed_commands_get_error_replies_and_a_ping_still_works(daemon: App, client) -> None:
    for count, (raw, command_id, fragment) in enumerate(BAD_PAYLOADS, start=1):
        client.publish(TOPICS.cmd, raw)
        replies = client.wait_for_messages(TOPICS.cmd_reply, count)
        reply = replies[-1].json()
        assert reply["ok"] is False and reply["v"] == 1 and reply["device"] == DEVICE
        assert reply["id"] == command_id
        assert fragment in reply["error"]
    assert mqtt_stats(daemon)["commands_rejected"] == len(BAD_PAYLOADS)
    answer = ask(client, payload(v=1, id="p1", cmd="ping"), "p1")
    assert answer == {"v": 1, "id": "p1", "cmd": "ping", "ok": True, "device": DEVICE}


@pytest.mark.broker
def test_status_command_reply_carries_the_daemon_s_detail_frames_and_stats(daemon: App, client) -> None:
    wait_until(lambda: daemon._frames > 0, what="frames through the loop")
    answer = ask(client, payload(v=1, id="s1", cmd="status"), "s1")
    assert answer["ok"] is True and answer["frames"] > 0 and isinstance(answer["detail"], str)
    assert answer["stats"]["connected"] is True
    assert set(answer["stats"]) >= {
        "connected",
        "avatar_sent",
        "avatar_dropped",
        "feedback_sent",
        "feedback_pending",
        "feedback_dropped",
        "reconnects",
        "commands_rejected",
        "commands_busy",
    }


@pytest.mark.broker
def test_set_exercise_changes_what_the_daemon_coaches(mosquitto_broker, daemon: App, client) -> None:
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.avatar, qos=0) as unity:
        answer = ask(client, payload(v=1, id="e1", cmd="set_exercise", args={"exercise": "push_up"}), "e1")
        assert answer["ok"] is True and answer["exercise"] == "push_up"
        # the avatar frames the app receives say what the coach analyses
        wait_until(
            lambda: any(decode_binary(m.payload).exercise == PUSH_UP for m in unity.messages(TOPICS.avatar)),
            what="avatar frames of a push-up coach",
        )


@pytest.mark.broker
def test_commands_for_another_device_are_not_received(daemon: App, client) -> None:
    other = Topics.for_device("gymcorner", "corner-other")
    client.publish(other.cmd, payload(v=1, id="o1", cmd="ping"))
    assert ask(client, payload(v=1, id="m1", cmd="ping"), "m1")["ok"] is True
    assert [m.json()["id"] for m in client.messages(TOPICS.cmd_reply)] == ["m1"]
