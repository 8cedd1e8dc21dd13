"""Drift: docs/protocol.md against the code, so neither can change without the other.

* the topic table against `Topics` (names and direction);
* its QoS and retain columns against what a real Mosquitto delivers from the publisher
  (a QoS 1 subscriber sees each message at the publisher's QoS; a subscriber that arrives
  later gets exactly the retained topics);
* every payload the publisher really sent against the topic's JSON Schema;
* the TCP section's topics against the TCP link and its schema.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import fields

import pytest
from mqtt_helpers import MqttSubscriber, wait_until
from protocol_doc import SCHEMAS, section, table_rows, validator

from gymcorner.coach.events import FeedbackEvent
from gymcorner.config import MqttConfig
from gymcorner.transport import tcp
from gymcorner.transport.mqtt import MqttPublisher, Topics

BASE, DEVICE = "<base>", "<device>"
SCHEMA_OF = {"status": "status", "feedback": "feedback", "session": "session", "cmd/reply": "cmd-reply", "cmd": "cmd"}


def documented_topics() -> dict[str, dict[str, str]]:
    """Topic -> {direction, qos, retained} from the table of '## Topics'."""
    rows = table_rows(section("Topics"))
    assert rows, "no topic table in docs/protocol.md"
    topics = {}
    for topic, direction, qos, retained, _payload in rows:
        topics[topic.strip("`")] = {"direction": direction, "qos": qos, "retained": retained}
    return topics


def code_topics() -> dict[str, str]:
    topics = Topics.for_device(BASE, DEVICE)
    return {f.name: getattr(topics, f.name) for f in fields(topics)}


def test_the_documented_topics_are_the_topics_in_the_code() -> None:
    documented, in_code = documented_topics(), code_topics()
    assert set(documented) == set(in_code.values()), (
        f"docs/protocol.md lists {sorted(documented)}, gymcorner.transport.topics.Topics has {sorted(in_code.values())}"
    )
    incoming = {t for t, row in documented.items() if row["direction"] == "apps → device"}
    assert incoming == {in_code["cmd"]}, "only cmd is written by apps (the device subscribes to it alone)"
    assert all(row["qos"] in {"0", "1", "2"} and row["retained"] in {"yes", "no"} for row in documented.values())


def suffix(topic: str, root: str) -> str:
    return topic[len(root) + 1 :]


@pytest.mark.broker
def test_qos_and_retain_as_documented_and_payloads_match_their_schemas(mosquitto_broker) -> None:
    documented = {suffix(t, f"{BASE}/{DEVICE}"): row for t, row in documented_topics().items()}
    config = MqttConfig(
        host=mosquitto_broker.host,
        port=mosquitto_broker.port,
        reconnect_min_delay_s=0.05,
        reconnect_max_delay_s=0.5,
        password_env=None,
    )
    device = "drift-1"
    root = f"gymcorner/{device}"
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{root}/#", qos=2) as early:
        publisher = MqttPublisher(config, device)
        publisher.start()
        try:
            wait_until(lambda: publisher.stats()["connected"], what="publisher connected")
            publisher.publish_status("online", detail="coaching: squat (lateral view)", exercise="squat")
            publisher.publish_avatar(bytes.fromhex("47410100ffffffff000000000000294001"))
            event = FeedbackEvent(
                t=3.2, code="knee_valgus", text="Knees out", view="frontal", details={"hold_frames": 10}
            )
            publisher.publish_feedback(event.to_dict())
            publisher.publish_session(
                {
                    "state": "active",
                    "exercise": "squat",
                    "t": 5.0,
                    "frames": 150,
                    "frames_with_person": 140,
                    "events": {"knee_valgus": 1},
                }
            )
            early.publish(f"{root}/cmd", json.dumps({"v": 1, "id": "drift-ping", "cmd": "ping"}))
            commands: list = []
            wait_until(lambda: bool(commands.extend(publisher.poll_commands()) or commands), what="the ping command")
            publisher.reply(commands[0], True)
            for name in ("status", "avatar", "feedback", "session", "cmd", "cmd/reply"):
                early.wait_for_messages(f"{root}/{name}", 1)
            for name, row in documented.items():
                received = early.messages(f"{root}/{name}")
                if name == "cmd":
                    assert {m.qos for m in received} == {1}  # our own test publisher used QoS 1 as documented
                    continue
                assert {m.qos for m in received} == {int(row["qos"])}, f"{name}: QoS differs from docs/protocol.md"
                if name in SCHEMA_OF:
                    for message in received:
                        validator(SCHEMA_OF[name]).validate(message.json())
            with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{root}/#", qos=2) as late:
                wait_until(lambda: len(late.messages()) >= 2, what="retained messages for a late subscriber")
                retained = {suffix(m.topic, root) for m in late.messages() if m.retain}
            assert retained == {n for n, row in documented.items() if row["retained"] == "yes"}
        finally:
            publisher.close()


def test_the_tcp_topics_are_documented_and_in_the_schema() -> None:
    documented = {row[0].strip("`") for row in table_rows(section("TCP JSON-lines link"))}
    in_code = set(typing.get_args(tcp.LineKind))
    schema = json.loads((SCHEMAS / "tcp-line.json").read_text())
    assert documented == in_code == set(schema["properties"]["topic"]["enum"])
    mqtt_suffixes = {re.sub(r"^<base>/<device>/", "", t) for t in documented_topics()}
    assert in_code <= mqtt_suffixes, "every TCP topic is an MQTT topic with the same payload"


def _string_list(text: str, pattern: str) -> list[str]:
    match = re.search(pattern + r"\s*=\s*\{?\[?([^;\]}]*)", text)
    assert match, pattern
    return re.findall(r'"([a-z_]+)"', match.group(1))


def test_every_decoder_and_the_schema_know_the_codecs_names() -> None:
    """Landmark, bone, view and exercise names: Python codec = JSON Schema = JavaScript = C#."""
    from gymcorner.avatar.codec import BONE_NAMES, EXERCISE_NAMES, LANDMARK_NAMES, View

    root = SCHEMAS.parents[1]
    names = {
        "landmarks": list(LANDMARK_NAMES),
        "bones": list(BONE_NAMES),
        "views": [v.name.lower() for v in View],
        "exercises": list(EXERCISE_NAMES),
    }
    schema = json.loads((SCHEMAS / "avatar.json").read_text())["properties"]
    assert list(schema["landmarks"]["required"]) == names["landmarks"]
    assert list(schema["bones"]["required"]) == names["bones"]
    assert schema["view"]["oneOf"][0]["enum"] == names["views"]
    assert schema["exercise"]["oneOf"][0]["enum"] == names["exercises"]
    js = (root / "edge" / "gymcorner" / "transport" / "web" / "avatar-frame.js").read_text()
    assert _string_list(js, "LANDMARK_NAMES") == names["landmarks"]
    assert _string_list(js, "BONE_NAMES") == names["bones"]
    assert _string_list(js, "VIEWS") == names["views"]
    assert _string_list(js, "EXERCISES") == names["exercises"]
    cs = (root / "host" / "unity" / "Gymcorner" / "Protocol" / "AvatarFrame.cs").read_text()
    assert _string_list(cs, "LandmarkNames") == names["landmarks"]
    assert _string_list(cs, "BoneNames") == names["bones"]
    assert _string_list(cs, "ExerciseNames") == names["exercises"]
