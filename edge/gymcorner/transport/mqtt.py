"""The daemon's only MQTT client (paho-mqtt 2.x): status, avatar, feedback, session, cmd.

Why it is shaped like this:

* The frame loop must never wait on the network (DESIGN principle 4). Every `publish_*` call
  serialises its payload, appends it to an in-memory queue and wakes the sender thread; the
  sender hands messages to paho, whose loop thread does the socket I/O. Commands are parsed
  on paho's thread but *handled* by the frame loop, which drains them with `poll_commands()`.
* Avatar frames are a live stream: a bounded deque that drops the OLDEST frame when the link
  is slow or down (a stale pose is worse than none). At most `AVATAR_WINDOW` frames sit in
  paho unwritten, so a slow socket is felt as back-pressure here instead of growing paho's
  unbounded packet queue.
* Commands are acted on once and answered once (`transport/intake.py`: retained messages
  ignored, a token bucket and a bounded queue, the excess answered `busy` on paho's thread).
  Replies wait in their own bounded queue and go to paho `REPLY_WINDOW` at a time, so a
  flood neither grows paho's packet queue nor slows the sender; a reply that cannot even
  be queued is counted (`replies_dropped`) and logged, never lost without a trace.
* Feedback events must not be lost. They wait in our own queue (bounded by
  `feedback_queue_events`, oldest dropped and counted only beyond that) while the broker is
  away, and are handed to paho at QoS 1 only while connected, `FEEDBACK_WINDOW` at a time.
  Paho keeps a handed-over message until its PUBACK and re-sends it (DUP) after a reconnect.
  So an event reaches the broker exactly once while the connection stays up, and at least
  once across a dropped connection or a broker restart (the PUBACK may be what was lost).
  Every event carries a stable `id` so subscribers drop the rare duplicate.
* The broker may boot after us. `connect_async` + `loop_start` never blocks, and paho 2.x
  runs `loop_forever(retry_first_connection=True)` in its thread, so a failed FIRST connect
  is retried with the same backoff as later reconnects (`reconnect_delay_set`).
* `status` is retained with a last will, so any subscriber, at any time, learns whether the
  device is online; it is re-published on every (re)connect because a broker restart
  without persistence forgets retained messages.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import paho.mqtt.client as paho

from gymcorner.config import MqttConfig
from gymcorner.transport.commands import PROTOCOL_VERSION, Command
from gymcorner.transport.intake import CommandIntake, dumps
from gymcorner.transport.outbox import REPLY_QUEUE_MESSAGES, Kind, Outbox, Outgoing
from gymcorner.transport.paho_client import QuietPahoLog, client_for
from gymcorner.transport.topics import (
    StatusState,
    Topics,
    check_feedback_id,
    check_reply_fields,
    check_status,
    check_subtopic,
)

_log = logging.getLogger(__name__)

PAHO_MAX_INFLIGHT = 64  # above the feedback + reply windows, leaving room for status and session
IDLE_WAKE_S = 0.5  # the sender re-checks in-flight messages at least this often


class MqttPublisher:
    """Publishes one device's topics and receives its commands; see the module docstring."""

    def __init__(self, config: MqttConfig, device_id: str, boot_id: str | None = None) -> None:
        self._config = config
        self.device_id = device_id
        self.topics = Topics.for_device(config.base_topic, device_id)
        self.boot_id = boot_id or secrets.token_hex(4)  # makes assigned feedback ids unique across restarts
        self._cond = threading.Condition()  # guards the outbox and the fields below
        self._outbox = Outbox(self.topics.avatar, config.avatar_queue_frames, config.feedback_queue_events)
        self._by_mid: dict[int, Outgoing] = {}  # handed to paho, waiting for its on_publish
        self._early_mids: set[int] = set()  # on_publish came before publish() returned the mid
        self._next_sweep_s = 0.0
        self._sender_waiting = False
        self._status_state: StatusState = "online"
        self._status_fields: dict[str, Any] = {}
        self.intake = CommandIntake(device_id, self.topics.cmd, self._enqueue_reply)
        self._next_seq = 1
        self._replies_dropped_logged = False
        self._connected = False
        self._connects = 0
        self._outage_logged = False
        self._feedback_overflow_logged = False
        self._started = False
        self._stopping = False
        self._closing = False
        self._sender: threading.Thread | None = None
        self._client_id = config.client_id or f"gymcorner-{device_id}"
        self._next_revive_at = 0.0
        self._revive_logged = False
        self._client = self._make_client()

    def __repr__(self) -> str:
        c = self._config
        return f"MqttPublisher(device={self.device_id!r}, broker={c.host}:{c.port}, tls={c.tls})"

    # ----------------------------------------------------------------- lifecycle

    def _make_client(self) -> paho.Client:
        c = self._config
        client = client_for(c, self._client_id)
        client.suppress_exceptions = True  # a bug in a callback must not kill paho's thread
        client.enable_logger(QuietPahoLog(logging.getLogger(f"{__name__}.paho"), {}))  # type: ignore[arg-type]
        client.will_set(self.topics.status, self._status_payload("offline", {"detail": "connection lost"}), 1, True)
        client.reconnect_delay_set(c.reconnect_min_delay_s, max(c.reconnect_min_delay_s, c.reconnect_max_delay_s))
        client.max_inflight_messages_set(PAHO_MAX_INFLIGHT)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        """Begin connecting in the background and return at once, broker up or not."""
        if self._started:
            return
        self._started = True
        self._client.connect_async(self._config.host, self._config.port, self._config.keepalive_s)
        self._client.loop_start()
        self._sender = threading.Thread(target=self._run_sender, name="gymcorner-mqtt-sender", daemon=True)
        self._sender.start()

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush feedback, publish the retained offline status, disconnect, join the threads.

        Every wait is bounded by `timeout_s` overall; while disconnected nothing is waited
        for (the broker has already published the last will)."""
        if self._closing:
            return
        self._closing = True
        if not self._started:
            return
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._connected and self._outbox.undelivered() and time.monotonic() < deadline:
                self._cond.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            self._stopping = True
            self._cond.notify_all()
            connected = self._connected
        if self._sender is not None:
            self._sender.join(max(0.1, deadline - time.monotonic()))
        if connected:
            offline = self._status_payload("offline", {"detail": "shutdown"})
            info = self._client.publish(self.topics.status, offline, qos=1, retain=True)
            while not info.is_published() and time.monotonic() < deadline:
                time.sleep(0.02)  # PUBACK pending; bounded by the deadline
        self._client.disconnect()
        self._client.loop_stop()
        with self._cond:
            self._sweep_locked()
            lost = self._outbox.pending()["feedback_pending"]
        if lost:
            _log.warning("MQTT closed with %d feedback events undelivered", lost)

    # ------------------------------------------------------------ publish API

    def publish_status(self, state: StatusState, **fields: Any) -> None:
        """Set the retained status (`online`/`offline` plus fields such as `detail`).

        Kept as the device's current status: re-published on every reconnect."""
        check_status(state, fields)
        with self._cond:
            self._status_state, self._status_fields = state, dict(fields)
            self._outbox.set_status(self._status_message())
            self._cond.notify_all()

    def publish_avatar(self, payload: bytes) -> None:
        """Queue one avatar frame (QoS 0); when the queue is full the oldest frame is dropped."""
        frame = bytes(payload)
        with self._cond:
            self._outbox.add_avatar(frame)
            self._wake_sender_locked("avatar")

    def publish_feedback(self, event: Mapping[str, Any]) -> str:
        """Queue one feedback event (QoS 1, never dropped unless the queue overflows); returns its id.

        The id is the event's own `id` when given, else `<device>-<boot>-<seq>`; it is
        stable across re-sends so subscribers can de-duplicate."""
        body = dict(event)
        with self._cond:
            if body.get("id") is None:
                body["id"] = f"{self.device_id}-{self.boot_id}-{self._next_seq}"
                self._next_seq += 1
        event_id = body["id"]
        check_feedback_id(event_id)
        body.setdefault("v", PROTOCOL_VERSION)
        body.setdefault("device", self.device_id)
        message = Outgoing("feedback", self.topics.feedback, dumps(body), qos=1)
        with self._cond:
            if self._outbox.add_feedback(message) and not self._feedback_overflow_logged:
                self._feedback_overflow_logged = True
                _log.warning(
                    "MQTT feedback queue full (%d events); dropping the oldest", self._config.feedback_queue_events
                )
            self._wake_sender_locked("feedback")
        return event_id

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        """Publish a session summary (QoS 1, retained); a newer summary replaces an unsent one."""
        body = dict(summary)
        body.setdefault("v", PROTOCOL_VERSION)
        body.setdefault("device", self.device_id)
        message = Outgoing("control", self.topics.session, dumps(body), qos=1, retain=True)
        with self._cond:
            self._outbox.set_session(message)
            self._cond.notify_all()

    def publish_json(self, subtopic: str, body: Mapping[str, Any], qos: int = 0, retain: bool = False) -> None:
        """Queue a JSON payload on `<base>/<device>/<subtopic>` (e.g. `wearables/<sensor>`);
        `v` and `device` are added. Waits with the other control messages while offline."""
        check_subtopic(subtopic)
        payload = dumps({"v": PROTOCOL_VERSION, "device": self.device_id, **body})
        topic = f"{self.topics.status.rsplit('/', 1)[0]}/{subtopic}"
        self._enqueue_control(Outgoing("control", topic, payload, qos=qos, retain=retain))

    def publish_discovery(self, messages: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Queue retained QoS 1 configs on absolute topics (Home Assistant discovery).

        Sent once at start: retained, so Home Assistant finds them whenever it (re)starts;
        a broker restarted without persistence forgets them until the daemon restarts."""
        for topic, body in messages:
            self._enqueue_control(Outgoing("control", topic, dumps(dict(body)), qos=1, retain=True))

    def poll_commands(self, limit: int | None = None) -> list[Command]:
        """Validated commands received since the last call, at most `limit` (never blocks)."""
        return self.intake.poll(limit)

    def reply(self, command: Command, ok: bool, **fields: Any) -> None:
        """Answer a command on `cmd/reply` (QoS 1); pass `error="..."` when not ok."""
        check_reply_fields(fields)
        body = {
            "v": PROTOCOL_VERSION,
            "id": command.id,
            "cmd": command.name.value,
            "ok": bool(ok),
            "device": self.device_id,
            **fields,
        }
        self._enqueue_reply(dumps(body))

    def stats(self) -> dict[str, Any]:
        """Counters for the status command, `doctor` and tests."""
        with self._cond:
            return {
                "connected": self._connected,
                **self._outbox.counts,
                **self.intake.counts(),
                **self._outbox.pending(),
                "reconnects": max(0, self._connects - 1),
            }

    # ------------------------------------------------------------ internals

    def _status_payload(self, state: StatusState, fields: Mapping[str, Any]) -> bytes:
        return dumps({**fields, "v": PROTOCOL_VERSION, "state": state, "device": self.device_id, "boot": self.boot_id})

    def _status_message(self) -> Outgoing:
        payload = self._status_payload(self._status_state, self._status_fields)
        return Outgoing("control", self.topics.status, payload, qos=1, retain=True)

    def _enqueue_control(self, message: Outgoing) -> None:
        with self._cond:
            self._outbox.add_control(message)
            self._cond.notify_all()

    def _enqueue_reply(self, payload: bytes) -> None:
        """Queue one reply; a full queue is counted and logged (once per episode), not silent."""
        with self._cond:
            if self._outbox.add_reply(Outgoing("reply", self.topics.cmd_reply, payload, qos=1)):
                self._replies_dropped_logged = False
                self._wake_sender_locked("reply")
                return
            first = not self._replies_dropped_logged
            self._replies_dropped_logged = True
        if first:
            _log.warning(
                "MQTT reply queue full (%d replies); further replies are counted as dropped", REPLY_QUEUE_MESSAGES
            )

    def _run_sender(self) -> None:
        """Hand queued messages to paho while connected; account for the ones paho finished."""
        while True:
            with self._cond:
                now = time.monotonic()
                if now >= self._next_sweep_s:
                    self._next_sweep_s = now + IDLE_WAKE_S
                    self._sweep_locked()
                batch = [] if not self._connected or self._stopping else self._outbox.take_batch()
                if not batch:
                    if self._stopping:
                        return
                    self._sender_waiting = True
                    self._cond.wait(IDLE_WAKE_S)
                    self._sender_waiting = False
                idle_offline = not batch and not self._connected and not self._stopping
            for message in batch:
                self._hand_to_paho(message)
            if idle_offline:
                self._revive_network_thread()

    def _revive_network_thread(self) -> None:
        """Restart paho's loop thread if it died while we are disconnected.

        Paho retries a failed connect only on OSError; any other exception raised while
        connecting ends its thread silently, and with it every future reconnect.
        `loop_start()` is a no-op while the thread runs, so calling it (rate-limited) is safe."""
        now = time.monotonic()
        if now < self._next_revive_at:
            return
        self._next_revive_at = now + max(1.0, self._config.reconnect_min_delay_s)
        if self._client.loop_start() != paho.MQTT_ERR_SUCCESS:
            return
        if self._revive_logged:
            _log.debug("MQTT network thread restarted again")
        else:
            self._revive_logged = True
            _log.error("MQTT network thread had stopped on an unexpected error; restarted it")

    def _hand_to_paho(self, message: Outgoing) -> None:
        """Publish outside our lock: paho calls back into us while holding its own locks."""
        try:
            info = self._client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
        except (ValueError, OSError) as err:
            _log.error("MQTT publish on %s failed: %s", message.topic, err)
            info = None
        with self._cond:
            if info is None or (message.qos == 0 and info.rc != paho.MQTT_ERR_SUCCESS):
                # QoS 0 refused (not connected): paho keeps nothing, so nothing will complete.
                self._complete_locked(message, delivered=False)
                return
            message.info = info  # QoS 1 is kept by paho even when it answers MQTT_ERR_NO_CONN
            if info.mid in self._early_mids:  # paho's thread finished it before publish() returned
                self._early_mids.discard(info.mid)
                self._complete_locked(message, delivered=info.rc == paho.MQTT_ERR_SUCCESS)
            else:
                self._by_mid[info.mid] = message

    def _complete_locked(self, message: Outgoing, delivered: bool) -> None:
        """One message paho is done with: its window slot frees, the sender wakes if that helps."""
        if self._outbox.complete(message, delivered) and self._sender_waiting:
            self._cond.notify_all()

    def _wake_sender_locked(self, kind: Kind) -> None:
        """Wake the sender for a newly queued message, unless it is busy anyway or the
        kind's window is full (then paho's on_publish for a slot wakes it)."""
        if self._sender_waiting and self._outbox.has_room(kind):
            self._cond.notify_all()

    def _sweep_locked(self) -> None:
        """Finish what paho completed without calling on_publish: QoS 0 frames it marks lost
        when a connection drops. Runs every IDLE_WAKE_S, over at most the in-flight windows."""
        for mid, message in list(self._by_mid.items()):
            info = message.info
            if info is None:
                continue
            try:
                done = info.is_published()
            except (RuntimeError, ValueError):  # paho gave up on it (connection lost, queue full)
                done = True
            if done:
                del self._by_mid[mid]
                self._complete_locked(message, delivered=info.rc == paho.MQTT_ERR_SUCCESS)

    # ------------------------------------------------- paho callbacks (paho's thread)

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        c = self._config
        if reason.is_failure:
            self._log_outage(f"MQTT broker {c.host}:{c.port} refused the connection: {reason}")
            return
        client.subscribe(self.topics.cmd, qos=1)
        with self._cond:
            self._connected = True
            self._connects += 1
            self._outage_logged = self._revive_logged = False
            self._outbox.set_status(self._status_message())  # online again; a restarted broker may have forgotten it
            self._next_sweep_s = 0.0  # paho's reconnect marked unsent QoS 0 frames lost: sweep them now
            reconnects = self._connects - 1
            self._cond.notify_all()
        _log.info(
            "MQTT connected to %s:%d as %s%s",
            c.host,
            c.port,
            self._client_id,
            f" (reconnect {reconnects})" if reconnects else "",
        )

    def _on_connect_fail(self, _client: paho.Client, _userdata: Any) -> None:
        c = self._config
        self._log_outage(f"MQTT broker {c.host}:{c.port} unreachable")

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, flags: Any, reason: Any, _props: Any) -> None:
        c = self._config
        with self._cond:
            was_connected, self._connected = self._connected, False
            self._cond.notify_all()
        if not was_connected:
            return
        if self._closing:
            _log.info("MQTT disconnected from %s:%d (%s)", c.host, c.port, reason)
        else:
            self._outage_logged = True
            why = f"broker: {reason}" if flags.is_disconnect_packet_from_server else "socket closed or timed out"
            _log.warning(
                "MQTT connection to %s:%d lost (%s); reconnecting every %g-%g s",
                c.host,
                c.port,
                why,
                c.reconnect_min_delay_s,
                c.reconnect_max_delay_s,
            )

    def _log_outage(self, message: str) -> None:
        """One line per outage, not one per retry."""
        if self._outage_logged:
            _log.debug("%s; retrying", message)
            return
        self._outage_logged = True
        c = self._config
        _log.warning("%s; retrying every %g-%g s", message, c.reconnect_min_delay_s, c.reconnect_max_delay_s)

    def _on_publish(self, _client: paho.Client, _userdata: Any, mid: int, _reason: Any, _props: Any) -> None:
        with self._cond:
            message = self._by_mid.pop(mid, None)
            if message is None:  # publish() has not returned its mid to the sender yet
                self._early_mids.add(mid)
                return
            assert message.info is not None
            self._complete_locked(message, delivered=message.info.rc == paho.MQTT_ERR_SUCCESS)

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic == self.topics.cmd:
            self.intake.receive(bytes(message.payload), bool(message.retain))
