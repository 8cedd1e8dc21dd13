"""What the MQTT client has to send, by kind, and how much of each kind paho holds.

The publisher's queues and in-flight windows, kept apart from paho and threads so the
rules read in one place (`transport/mqtt.py` says why each kind is treated as it is):

* avatar frames: newest kept, the oldest dropped when the queue is full; `AVATAR_WINDOW`
  handed over at a time;
* feedback events: kept until acknowledged, the oldest dropped only beyond the queue's
  size; `FEEDBACK_WINDOW` at a time;
* command replies: their own bounded queue, `REPLY_WINDOW` at a time, a reply that cannot
  be queued counted;
* control messages (status, session summary, wearables, discovery): no window, the status
  and session as "latest wins".

An `Outbox` is not thread-safe: its owner calls it under its own lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["avatar", "feedback", "reply", "control"]
KINDS: tuple[Kind, ...] = ("avatar", "feedback", "reply", "control")

FEEDBACK_WINDOW = 16  # QoS 1 events handed to paho and not yet acknowledged by the broker
AVATAR_WINDOW = 2  # QoS 0 frames handed to paho and not yet written to the socket
REPLY_WINDOW = 32  # QoS 1 command replies handed to paho and not yet acknowledged
REPLY_QUEUE_MESSAGES = 16384  # replies waiting for the link (about 2.5 MB): three floods of 5,000; beyond, dropped
CONTROL_QUEUE_MESSAGES = 256  # status-like control messages (wearables, discovery) waiting for the link

WINDOWS: dict[Kind, int | None] = {
    "avatar": AVATAR_WINDOW,
    "feedback": FEEDBACK_WINDOW,
    "reply": REPLY_WINDOW,
    "control": None,
}


@dataclass
class Outgoing:
    """One message on its way; `info` is paho's handle once handed over."""

    kind: Kind
    topic: str
    payload: bytes
    qos: int
    retain: bool = False
    info: Any = None  # paho.MQTTMessageInfo


class Outbox:
    """Queues per kind, in-flight counts per kind, and the delivery counters."""

    def __init__(self, avatar_topic: str, avatar_queue_frames: int, feedback_queue_events: int) -> None:
        self._avatar_topic = avatar_topic
        self._avatar_limit = avatar_queue_frames
        self._feedback_limit = feedback_queue_events
        self._avatar: deque[bytes] = deque()
        self._feedback: deque[Outgoing] = deque()
        self._control: deque[Outgoing] = deque(maxlen=CONTROL_QUEUE_MESSAGES)
        self._replies: deque[Outgoing] = deque()
        self._session: Outgoing | None = None
        self._status: Outgoing | None = None
        self.in_flight: dict[Kind, int] = dict.fromkeys(KINDS, 0)
        self.counts = dict.fromkeys(
            ("avatar_sent", "avatar_dropped", "feedback_sent", "feedback_dropped", "replies_dropped"), 0
        )

    # ------------------------------------------------------------ queueing

    def add_avatar(self, payload: bytes) -> None:
        if len(self._avatar) >= self._avatar_limit:
            self._avatar.popleft()
            self.counts["avatar_dropped"] += 1
        self._avatar.append(payload)

    def add_feedback(self, message: Outgoing) -> bool:
        """Queue an event; True when the queue was full and its oldest event was dropped."""
        dropped = len(self._feedback) >= self._feedback_limit
        if dropped:
            self._feedback.popleft()
            self.counts["feedback_dropped"] += 1
        self._feedback.append(message)
        return dropped

    def add_reply(self, message: Outgoing) -> bool:
        """Queue a reply; False (and counted) when the reply queue is full."""
        if len(self._replies) >= REPLY_QUEUE_MESSAGES:
            self.counts["replies_dropped"] += 1
            return False
        self._replies.append(message)
        return True

    def add_control(self, message: Outgoing) -> None:
        self._control.append(message)

    def set_session(self, message: Outgoing) -> None:
        """The latest session summary; replaces one not yet handed over."""
        self._session = message

    def set_status(self, message: Outgoing) -> None:
        """The current retained status; replaces one not yet handed over."""
        self._status = message

    @property
    def status_pending(self) -> bool:
        return self._status is not None

    # ------------------------------------------------------------ handing over

    def take_batch(self) -> list[Outgoing]:
        """Next messages to hand over, status first, within the in-flight windows."""
        batch: list[Outgoing] = []
        if self._status is not None:
            batch.append(self._status)
            self._status = None
        while self._control:
            batch.append(self._control.popleft())
        if self._session is not None:
            batch.append(self._session)
            self._session = None
        batch.extend(self._take("reply", self._replies.popleft, len(self._replies)))
        batch.extend(self._take("feedback", self._feedback.popleft, len(self._feedback)))
        batch.extend(self._take("avatar", self._pop_avatar, len(self._avatar)))
        for message in batch:
            self.in_flight[message.kind] += 1
        return batch

    def _pop_avatar(self) -> Outgoing:
        return Outgoing("avatar", self._avatar_topic, self._avatar.popleft(), qos=0)

    def _take(self, kind: Kind, pop: Callable[[], Outgoing], queued: int) -> list[Outgoing]:
        window = WINDOWS[kind]
        assert window is not None
        return [pop() for _ in range(min(queued, max(0, window - self.in_flight[kind])))]

    def complete(self, message: Outgoing, delivered: bool) -> bool:
        """Paho is done with one message: its window slot frees and it is counted.
        True when messages of its kind wait for that slot (the sender should wake)."""
        self.in_flight[message.kind] -= 1
        if message.kind == "avatar":
            self.counts["avatar_sent" if delivered else "avatar_dropped"] += 1
        elif message.kind == "feedback":
            # Paho only marks a QoS 1 message published on PUBACK; a failure here means it
            # was refused outright (payload too large), never that it may still arrive.
            self.counts["feedback_sent" if delivered else "feedback_dropped"] += 1
        return self.queued(message.kind)

    def has_room(self, kind: Kind) -> bool:
        """Whether a newly queued message of `kind` could be handed over now."""
        window = WINDOWS[kind]
        return window is None or self.in_flight[kind] < window

    def queued(self, kind: Kind) -> bool:
        """Whether messages of `kind` wait to be handed over."""
        if kind == "avatar":
            return bool(self._avatar)
        if kind == "feedback":
            return bool(self._feedback)
        if kind == "reply":
            return bool(self._replies)
        return bool(self._control) or self._session is not None or self._status is not None

    def undelivered(self) -> bool:
        """Whether anything that must not be lost (all but avatar frames) is still on its way."""
        return any(self.queued(kind) for kind in ("feedback", "reply", "control")) or any(
            self.in_flight[kind] for kind in ("feedback", "reply", "control")
        )

    def pending(self) -> dict[str, int]:
        return {
            "avatar_queued": len(self._avatar),
            "feedback_pending": len(self._feedback) + self.in_flight["feedback"],
            "replies_pending": len(self._replies) + self.in_flight["reply"],
        }
