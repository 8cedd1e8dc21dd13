"""Command intake over a real Mosquitto: acted on once, answered once, even under a flood.

A retained command would be handed to the device again on every (re)connect, so it is
never acted on; an empty payload (an app clearing a retained message) is nothing at all;
a flood is shed with explicit `busy` replies off the frame path, so every command still
gets exactly one reply (docs/protocol.md, cmd/reply).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from mqtt_helpers import MosquittoBroker, MqttSubscriber, wait_until
from protocol_doc import validator

from gymcorner.config import MqttConfig
from gymcorner.transport.commands import Command
from gymcorner.transport.intake import COMMAND_BURST, TokenBucket
from gymcorner.transport.mqtt import MqttPublisher, Topics

pytestmark = pytest.mark.broker

DEVICE = "corner-intake"
TOPICS = Topics.for_device("gymcorner", DEVICE)
FLOOD_COMMANDS = 1500


def command(command_id: str, name: str = "ping") -> bytes:
    return json.dumps({"v": 1, "id": command_id, "cmd": name}).encode()


def make_publisher(broker: MosquittoBroker) -> MqttPublisher:
    config = MqttConfig(
        host=broker.host, port=broker.port, reconnect_min_delay_s=0.05, reconnect_max_delay_s=0.5, password_env=None
    )
    return MqttPublisher(config, DEVICE)


@pytest.fixture
def publisher(mosquitto_broker) -> Iterator[MqttPublisher]:
    publisher = make_publisher(mosquitto_broker)
    publisher.start()
    wait_until(lambda: publisher.stats()["connected"], what="publisher connected")
    yield publisher
    publisher.close(timeout_s=2.0)


@pytest.fixture
def app_client(mosquitto_broker) -> Iterator[MqttSubscriber]:
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.cmd_reply) as subscriber:
        yield subscriber


class FrameLoop:
    """What App does between frames: poll a few commands, act, reply; on its own thread."""

    def __init__(self, publisher: MqttPublisher) -> None:
        self.publisher = publisher
        self.handled: list[Command] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FrameLoop:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            for cmd in self.publisher.poll_commands(limit=8):
                self.handled.append(cmd)
                self.publisher.reply(cmd, True)


def served(publisher: MqttPublisher, command_id: str) -> Command:
    commands: list[Command] = []
    wait_until(lambda: bool(commands.extend(publisher.poll_commands()) or commands), what=f"command {command_id}")
    assert [c.id for c in commands] == [command_id]
    publisher.reply(commands[0], True)
    return commands[0]


def test_a_retained_command_is_never_acted_on_not_even_after_a_reconnect(mosquitto_factory) -> None:
    broker = mosquitto_factory(persistence=True)  # keeps the retained message across the restart
    broker.start()
    with MqttSubscriber(broker.host, broker.port, TOPICS.cmd_reply) as app:
        app.publish(TOPICS.cmd, command("stale-stop", "stop_session"), retain=True)
        publisher = make_publisher(broker)
        publisher.start()
        try:
            wait_until(lambda: publisher.stats()["commands_retained_ignored"] == 1, what="the retained one ignored")
            subscribed = app.subscriptions()
            broker.stop()
            broker.start()
            app.wait_resubscribed(after=subscribed)  # the app's own client reconnects on its own schedule
            wait_until(
                lambda: publisher.stats()["commands_retained_ignored"] == 2 and publisher.stats()["connected"],
                what="ignored again after the reconnect",
            )
            app.publish(TOPICS.cmd, command("live-ping"))
            served(publisher, "live-ping")
            app.wait_for_json(TOPICS.cmd_reply, lambda r: r["id"] == "live-ping")
            assert [m.json()["id"] for m in app.messages(TOPICS.cmd_reply)] == ["live-ping"]
            assert publisher.poll_commands() == []
            assert publisher.stats()["commands_rejected"] == 0
        finally:
            publisher.close(timeout_s=2.0)


def test_clearing_a_retained_command_draws_no_reply(publisher, app_client) -> None:
    app_client.publish(TOPICS.cmd, b"", retain=True)  # how an app clears a retained message
    app_client.publish(TOPICS.cmd, command("after-clear"))
    served(publisher, "after-clear")
    app_client.wait_for_json(TOPICS.cmd_reply, lambda r: r["id"] == "after-clear")
    assert [m.json()["id"] for m in app_client.messages(TOPICS.cmd_reply)] == ["after-clear"]
    assert publisher.stats()["commands_rejected"] == 0


def test_a_flood_gets_exactly_one_reply_per_command_ok_or_busy(publisher, app_client) -> None:
    ids = [f"flood-{n:05d}" for n in range(FLOOD_COMMANDS)]
    with FrameLoop(publisher) as loop:
        app_client.publish_many(TOPICS.cmd, (command(i) for i in ids))
        wait_until(
            lambda: len(app_client.messages(TOPICS.cmd_reply)) >= FLOOD_COMMANDS, 120.0, f"{FLOOD_COMMANDS} replies"
        )
    replies = [m.json() for m in app_client.messages(TOPICS.cmd_reply)]
    assert Counter(r["id"] for r in replies) == Counter(ids)
    busy = [r for r in replies if r["ok"] is False]
    ok = [r for r in replies if r["ok"] is True]
    assert busy and all(r["busy"] is True and r["error"].startswith("busy") for r in busy)
    assert {r["id"] for r in ok} == {c.id for c in loop.handled}
    assert len(ok) >= COMMAND_BURST
    stats = publisher.stats()
    assert stats["commands_busy"] == len(busy)
    assert stats["replies_dropped"] == 0
    reply_schema = validator("cmd-reply")
    for reply in (busy[0], ok[0]):
        reply_schema.validate(reply)


def test_the_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate_per_s=2.0, burst=3)
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(10.4) is False  # 0.8 of a token
    assert bucket.take(10.5) is True  # a whole one after half a second
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # refills only up to the burst
