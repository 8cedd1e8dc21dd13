"""Home Assistant discovery: retained configs on a real broker, bound to our topics."""

from __future__ import annotations

import json

from mqtt_helpers import MqttSubscriber, wait_until

from gymcorner.config import MqttConfig
from gymcorner.transport.homeassistant import discovery_messages
from gymcorner.transport.mqtt import MqttPublisher, Topics


def test_every_sensor_follows_a_documented_topic_and_the_status_availability() -> None:
    topics = Topics.for_device("gymcorner", "corner-1")
    messages = discovery_messages("gymcorner", "corner-1")
    assert {t.rsplit("/", 2)[-2] for t, _ in messages} == {"heart_rate", "reps", "exercise", "session_state"}
    for topic, config in messages:
        assert topic.startswith("homeassistant/sensor/gymcorner_corner_1/") and topic.endswith("/config")
        assert config["availability_topic"] == topics.status
        assert config["state_topic"].startswith("gymcorner/corner-1/")
        assert config["unique_id"].startswith("gymcorner_corner_1_")
    reps = dict(messages)["homeassistant/sensor/gymcorner_corner_1/reps/config"]
    assert reps["state_topic"] == topics.session and reps["value_template"] == "{{ value_json.reps }}"


def test_discovery_is_published_retained(mosquitto_broker) -> None:
    config = MqttConfig(host=mosquitto_broker.host, port=mosquitto_broker.port, reconnect_min_delay_s=0.1)
    publisher = MqttPublisher(config, "corner-1")
    early = MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, "homeassistant/#").start()
    publisher.start()
    try:
        publisher.publish_discovery(discovery_messages("gymcorner", "corner-1"))
        # Once the broker has them (the early subscriber saw them, live), a subscriber that
        # arrives later still gets them: they are retained. Without the early one, the late
        # one could subscribe before the configs reach the broker and get them live instead.
        wait_until(lambda: len(early.messages()) >= 4, 10, "4 configs at the broker")
        early.stop()
        with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, "homeassistant/#") as sub:
            wait_until(lambda: len(sub.messages()) >= 4, 10, "4 retained configs")
            got = {m.topic: m for m in sub.messages()}
        assert all(m.retain for m in got.values())
        assert (
            json.loads(got["homeassistant/sensor/gymcorner_corner_1/heart_rate/config"].payload)["unit_of_measurement"]
            == "bpm"
        )
    finally:
        publisher.close()
