"""The corner's daemon as the dashboard reaches it: one MQTT command and the reply to it.

Why a connection per command: a trainer clicks "start session" a few times an hour, and a
client that lives only for one command shares nothing between requests and never holds a
broker session open for the dashboard. Each command gets a paho client of its own (a
random client id, a clean session) that subscribes to the device's `cmd/reply`, waits for
the broker to confirm it, publishes the command on `cmd` at QoS 1, never retained (the
envelope of docs/protocol.md: v, id, cmd, args), and waits for the reply that carries the
same id, at most `timeout_s` in all. It blocks: the dashboard calls it in a worker thread.

What can happen is a value, not an exception (`Outcome`): the device did it, the device
said no (its one-line error), no reply came in time (the daemon is down, or not on this
broker), or the broker could not be reached at all.

A chain's dashboard (`ChainCorners`) makes the same link to whichever box is chosen,
through the chain's broker, and names the member by name (`member_key`): the chain's
server does not know the box's member ids.
"""

from __future__ import annotations

import enum
import json
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from gymcorner.config import MqttConfig
from gymcorner.errors import ConfigError
from gymcorner.history.members import name_key
from gymcorner.transport.paho_client import client_for
from gymcorner.transport.topics import Topics

PROTOCOL_VERSION = 1


class Outcome(enum.Enum):
    DONE = "done"  # the device answered ok
    REFUSED = "refused"  # the device answered, not ok (unknown member, busy, ...)
    NO_REPLY = "no_reply"  # the command went out; no reply with its id within the timeout
    UNREACHABLE = "unreachable"  # no connection to the broker (down, refused, bad credentials)


@dataclass(frozen=True)
class CornerReply:
    """What one command came to: the outcome, one line for the page, the device's reply."""

    outcome: Outcome
    line: str
    reply: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Exchange:
    """What paho's thread hands the waiting request: the subscription, the reply, a refusal."""

    command_id: str
    subscribed: threading.Event = field(default_factory=threading.Event)
    replies: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    refused: str = ""


@dataclass(frozen=True)
class CornerLink:
    """The device this dashboard starts sessions on: the broker of `[mqtt]`, the id of `[device]`."""

    mqtt: MqttConfig
    device_id: str
    timeout_s: float = 5.0

    @property
    def broker(self) -> str:
        return f"{self.mqtt.host}:{self.mqtt.port}"

    def start_session(self, member_id: int) -> CornerReply:
        """`start_session` for this member (by id); DONE only when the device took that member."""
        answer = self.send("start_session", {"member": str(member_id)})
        return self._took(answer, answer.reply.get("member_id") == member_id, str(member_id))

    def start_named(self, display_name: str) -> CornerReply:
        """`start_session` for the member of this name (`member_key`: never read as an id);
        DONE only when the device took a member of that name."""
        key = name_key(display_name)
        answer = self.send("start_session", {"member_key": key})
        return self._took(answer, name_key(str(answer.reply.get("member", ""))) == key, repr(display_name))

    def _took(self, answer: CornerReply, as_asked: bool, wanted: str) -> CornerReply:
        """A DONE whose reply names another member than the one asked for is REFUSED."""
        if answer.outcome is not Outcome.DONE or as_asked:
            return answer
        picked = f"{answer.reply.get('member')!r} (id {answer.reply.get('member_id')})"
        return CornerReply(Outcome.REFUSED, f"{self.device_id} took member {picked}, not {wanted}", answer.reply)

    def send(self, cmd: str, args: dict[str, Any]) -> CornerReply:
        """One command and its reply (or why there is none), within `timeout_s`."""
        deadline = time.monotonic() + self.timeout_s
        exchange = _Exchange(f"dashboard-{secrets.token_hex(8)}")
        topics = Topics.for_device(self.mqtt.base_topic, self.device_id)
        try:
            client = self._client(topics, exchange)
        except ConfigError as err:  # the password file or the CA bundle cannot be read by this process
            return CornerReply(Outcome.UNREACHABLE, f"cannot connect to the MQTT broker at {self.broker}: {err}")
        try:
            client.connect(self.mqtt.host, self.mqtt.port, keepalive=max(5, round(self.timeout_s) * 2))
        except (OSError, ValueError) as err:
            return CornerReply(Outcome.UNREACHABLE, f"cannot reach the MQTT broker at {self.broker}: {err}")
        client.loop_start()
        try:
            return self._exchange(client, topics, exchange, cmd, args, deadline)
        finally:
            client.disconnect()
            client.loop_stop()

    def _exchange(
        self, client: paho.Client, topics: Topics, exchange: _Exchange, cmd: str, args: dict[str, Any], deadline: float
    ) -> CornerReply:
        if not exchange.subscribed.wait(max(0.0, deadline - time.monotonic())) or exchange.refused:
            why = exchange.refused or f"no answer within {self.timeout_s:g} s"
            return CornerReply(Outcome.UNREACHABLE, f"the MQTT broker at {self.broker} did not let us in: {why}")
        body = {"v": PROTOCOL_VERSION, "id": exchange.command_id, "cmd": cmd, "args": args}
        client.publish(topics.cmd, json.dumps(body, separators=(",", ":")), qos=1, retain=False)
        try:
            reply = exchange.replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return CornerReply(
                Outcome.NO_REPLY,
                f"no reply from {self.device_id} within {self.timeout_s:g} s: is its daemon running and connected "
                f"to the broker at {self.broker}?",
            )
        if reply.get("ok") is True:
            return CornerReply(Outcome.DONE, f"{self.device_id} answered ok", reply)
        return CornerReply(Outcome.REFUSED, f"{self.device_id} refused: {reply.get('error') or 'no reason'}", reply)

    def _client(self, topics: Topics, exchange: _Exchange) -> paho.Client:
        client = client_for(self.mqtt, f"gymcorner-dashboard-{secrets.token_hex(6)}")
        client.connect_timeout = min(self.timeout_s, 5.0)

        def on_connect(c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                exchange.refused = str(reason)
                exchange.subscribed.set()
                return
            c.subscribe(topics.cmd_reply, qos=1)

        def on_subscribe(_c: paho.Client, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
            if any(code.is_failure for code in codes):  # an ACL that hides the replies from us
                exchange.refused = f"not allowed to subscribe to {topics.cmd_reply}"
            exchange.subscribed.set()

        def on_message(_c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
            try:
                body = json.loads(message.payload)
            except ValueError:
                return  # another app's garbage on the reply topic is not our reply
            if isinstance(body, dict) and body.get("id") == exchange.command_id:
                exchange.replies.put(body)

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        return client


@dataclass(frozen=True)
class ChainCorners:
    """Every box of a chain, through the chain's broker (`[dashboard.chain_mqtt]`): a box is
    its device id in the topic scheme, <base>/<device id>/cmd, as on its own broker."""

    mqtt: MqttConfig
    timeout_s: float = 5.0

    @property
    def broker(self) -> str:
        return f"{self.mqtt.host}:{self.mqtt.port}"

    def link(self, device_id: str) -> CornerLink:
        return CornerLink(self.mqtt, device_id, self.timeout_s)
