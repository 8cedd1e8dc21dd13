"""Where the daemon's output goes: one `Sink` interface, every enabled link behind it.

MQTT is one sink among the TCP JSON-lines link, VMC and the history database, chosen by
config (`[mqtt] enabled`, `[links]`, `[history]`); Home Assistant discovery rides on the
MQTT sink. The daemon calls `Sinks` once
per message and knows nothing of sockets; each sink decides what it needs (VMC only the
avatar), and none of them blocks the frame loop. A sink that can carry commands (today
MQTT) is also a `CommandLink`: the daemon polls every such sink and answers on the one the
command came from.

Closing: each sink publishes its own last word (MQTT its retained "offline" status, TCP an
"offline" status line) inside `close()`, after the final session summary.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from gymcorner.avatar.codec import AvatarFrame, encode_binary
from gymcorner.avatar.codec_json import encode_json
from gymcorner.config import Config
from gymcorner.transport.commands import Command

if TYPE_CHECKING:
    from gymcorner.transport.mqtt import MqttPublisher, StatusState
    from gymcorner.transport.mqtt_process import MqttProcess

    MqttLink = MqttPublisher | MqttProcess  # the same methods, in this process or in its own

_log = logging.getLogger(__name__)


class Sink(Protocol):
    name: str

    def publish_status(self, state: str, **fields: Any) -> None: ...

    def publish_feedback(self, event: Mapping[str, Any]) -> str | None:
        """Send one event; a sink that assigns event ids returns the one it gave."""

    def publish_session(self, summary: Mapping[str, Any]) -> None: ...

    def publish_avatar(self, frame: AvatarFrame) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class CommandLink(Protocol):
    """A sink that also receives commands (validated) and carries their replies."""

    def poll_commands(self, limit: int | None = None) -> list[Command]: ...

    def reply(self, command: Command, ok: bool, **fields: Any) -> None: ...

    def stats(self) -> dict[str, Any]: ...


class MqttSink:
    """The MQTT publisher as a sink: avatar frames encoded as `[avatar] format` says."""

    name = "mqtt"

    def __init__(self, publisher: MqttLink, avatar_format: str) -> None:
        self.publisher = publisher
        self._encode = encode_json if avatar_format == "json" else encode_binary

    def publish_status(self, state: str, **fields: Any) -> None:
        self.publisher.publish_status(cast("StatusState", state), **fields)  # the publisher checks it

    def publish_feedback(self, event: Mapping[str, Any]) -> str | None:
        return str(self.publisher.publish_feedback(event))

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        self.publisher.publish_session(summary)

    def publish_avatar(self, frame: AvatarFrame) -> None:
        self.publisher.publish_avatar(self._encode(frame))

    def poll_commands(self, limit: int | None = None) -> list[Command]:
        return list(self.publisher.poll_commands(limit=limit))

    def reply(self, command: Command, ok: bool, **fields: Any) -> None:
        self.publisher.reply(command, ok, **fields)

    def stats(self) -> dict[str, Any]:
        return dict(self.publisher.stats())

    def close(self) -> None:
        self.publisher.close()


class Sinks:
    """Every enabled sink; each call goes to all of them, in order (MQTT first, so the id
    it assigns to a feedback event is the one every other sink carries)."""

    def __init__(self, sinks: list[Sink] | None = None) -> None:
        self.sinks: list[Sink] = list(sinks or [])

    def __bool__(self) -> bool:
        return bool(self.sinks)

    def __iter__(self) -> Iterator[Sink]:
        return iter(self.sinks)

    def get(self, name: str) -> Sink | None:
        return next((s for s in self.sinks if s.name == name), None)

    def publish_status(self, state: str, **fields: Any) -> None:
        """Every sink gets the same status, with what sinks say about themselves merged in
        (today the history sink: "recording", or why it cannot)."""
        for sink in self.sinks:
            report = getattr(sink, "status_fields", None)
            if callable(report):
                fields = {**report(), **fields}
        for sink in self.sinks:
            sink.publish_status(state, **fields)

    def publish_feedback(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Send `event` everywhere; returns it as sent, with the id the first id-giving sink assigned."""
        body = dict(event)
        for sink in self.sinks:
            assigned = sink.publish_feedback(body)
            if assigned is not None and "id" not in body:
                body["id"] = assigned
        return body

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        for sink in self.sinks:
            sink.publish_session(summary)

    def publish_avatar(self, frame: AvatarFrame) -> None:
        for sink in self.sinks:
            sink.publish_avatar(frame)

    def record_heart_rate(self, t_s: float, bpm_by_sensor: Mapping[str, int]) -> None:
        """Heart-rate samples (frame time, bpm per strap) for the sinks that keep them (the
        history); the links carry heart rate on their own topics and never see these."""
        for sink in self.sinks:
            record = getattr(sink, "record_heart_rate", None)
            if callable(record):
                record(t_s, bpm_by_sensor)

    def start_session(self, member: str | None, member_key: str | None = None) -> dict[str, Any]:
        """A new session for the member (`member`: a name or id, `member_key`: a name only;
        neither: a guest) in every sink that keeps sessions (the history); returns the
        reply's fields, with `error` when the member cannot be had."""
        keepers = [s for s in self.sinks if callable(getattr(s, "start_session", None))]
        if (member is not None or member_key is not None) and not keepers:
            return {"error": "history is off ([history] enabled = false): no member to record the session for"}
        reply: dict[str, Any] = {}
        for sink in keepers:
            reply.update(sink.start_session(member, member_key))  # type: ignore[attr-defined]
        return reply

    def poll_commands(self, limit: int) -> list[tuple[CommandLink, Command]]:
        """Up to `limit` commands from each sink that carries them, with the sink to answer on."""
        return [(s, c) for s in self.sinks if isinstance(s, CommandLink) for c in s.poll_commands(limit=limit)]

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except OSError as err:  # one sink failing to close must not keep the others open
                _log.warning("closing the %s sink failed: %s", sink.name, err)


def open_sinks(config: Config, stack: ExitStack) -> tuple[Sinks, MqttLink | None]:
    """Start every sink `config` enables, each registered on `stack` to be closed if a later
    start-up step fails. Returns the sinks and the MQTT publisher (None when MQTT is off),
    which the wearables service publishes its readings through."""
    sinks = Sinks()
    publisher: MqttLink | None = None
    if config.mqtt.enabled:
        from gymcorner.transport.mqtt import MqttPublisher
        from gymcorner.transport.mqtt_process import MqttProcess

        publisher = (MqttProcess if config.mqtt.own_process else MqttPublisher)(config.mqtt, config.device.id)
        publisher.start()
        stack.callback(publisher.close)
        _log.info("MQTT: %r, status on %s", publisher, publisher.topics.status)
        sinks.sinks.append(MqttSink(publisher, config.avatar.format))
        ha = config.links.homeassistant
        if ha.enabled:  # retained configs: Home Assistant picks them up whenever it starts
            from gymcorner.transport.homeassistant import discovery_messages

            publisher.publish_discovery(
                discovery_messages(config.mqtt.base_topic, config.device.id, ha.discovery_prefix, ha.heart_rate_topic)
            )
    if config.links.tcp.enabled:
        from gymcorner.transport.tcp import TcpLinkServer

        server = TcpLinkServer(config.links.tcp, config.device.id, publisher.boot_id if publisher else None)
        server.start()
        stack.callback(server.close)
        sinks.sinks.append(server)
    if config.links.vmc.enabled:
        from gymcorner.transport.vmc import VmcSender

        sender = VmcSender(config.links.vmc)
        stack.callback(sender.close)
        sinks.sinks.append(sender)
    if config.history.enabled:  # last: it records feedback with the id MQTT gave it
        from gymcorner.history import open_history_sink

        history = open_history_sink(config)  # never fails: an unusable database is reported, not fatal
        stack.callback(history.close)
        sinks.sinks.append(history)
    return sinks, publisher
