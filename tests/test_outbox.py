"""The MQTT outbox's rules without a broker: windows per kind, what is dropped and counted."""

from __future__ import annotations

from gymcorner.transport.outbox import (
    AVATAR_WINDOW,
    FEEDBACK_WINDOW,
    REPLY_QUEUE_MESSAGES,
    REPLY_WINDOW,
    Outbox,
    Outgoing,
)


def _outbox(avatar_frames: int = 3, feedback_events: int = 100) -> Outbox:
    return Outbox("gc/dev/avatar", avatar_frames, feedback_events)


def _event(i: int) -> Outgoing:
    return Outgoing("feedback", "gc/dev/feedback", b"%d" % i, qos=1)


def test_each_kind_is_handed_over_within_its_window_and_a_completion_frees_a_slot() -> None:
    box = _outbox(avatar_frames=10)
    for i in range(FEEDBACK_WINDOW + 5):
        box.add_feedback(_event(i))
    for i in range(REPLY_WINDOW + 1):
        assert box.add_reply(Outgoing("reply", "gc/dev/cmd/reply", b"r%d" % i, qos=1))
    for i in range(AVATAR_WINDOW + 3):
        box.add_avatar(b"a%d" % i)
    batch = box.take_batch()
    kinds = [m.kind for m in batch]
    assert kinds.count("feedback") == FEEDBACK_WINDOW
    assert kinds.count("reply") == REPLY_WINDOW
    assert kinds.count("avatar") == AVATAR_WINDOW
    assert box.take_batch() == []  # every window is full
    first = next(m for m in batch if m.kind == "feedback")
    assert box.complete(first, delivered=True)  # more feedback waits for that slot
    (nxt,) = box.take_batch()
    assert nxt.kind == "feedback" and nxt.payload == b"%d" % FEEDBACK_WINDOW  # in order
    assert box.counts["feedback_sent"] == 1


def test_status_comes_first_and_only_its_latest_value_is_sent() -> None:
    box = _outbox()
    box.add_feedback(_event(0))
    box.set_status(Outgoing("control", "gc/dev/status", b"old", qos=1, retain=True))
    box.set_status(Outgoing("control", "gc/dev/status", b"new", qos=1, retain=True))
    batch = box.take_batch()
    assert [m.payload for m in batch] == [b"new", b"0"]
    assert not box.status_pending


def test_the_oldest_avatar_frame_and_the_oldest_event_are_dropped_and_counted() -> None:
    box = _outbox(avatar_frames=2, feedback_events=2)
    for i in range(4):
        box.add_avatar(b"a%d" % i)
    assert [box.add_feedback(_event(i)) for i in range(3)] == [False, False, True]
    assert box.counts["avatar_dropped"] == 2 and box.counts["feedback_dropped"] == 1
    payloads = [m.payload for m in box.take_batch()]
    assert payloads == [b"1", b"2", b"a2", b"a3"]


def test_a_full_reply_queue_counts_what_it_refuses() -> None:
    box = _outbox()
    for _ in range(REPLY_QUEUE_MESSAGES):
        assert box.add_reply(Outgoing("reply", "t", b"", qos=1))
    assert not box.add_reply(Outgoing("reply", "t", b"", qos=1))
    assert box.counts["replies_dropped"] == 1
    assert box.pending()["replies_pending"] == REPLY_QUEUE_MESSAGES


def test_undelivered_ignores_avatar_frames_but_not_events_in_flight() -> None:
    box = _outbox()
    box.add_avatar(b"a")
    assert not box.undelivered()
    box.add_feedback(_event(0))
    assert box.undelivered()
    batch = box.take_batch()
    assert box.undelivered()  # handed over, not yet acknowledged
    for message in batch:
        box.complete(message, delivered=True)
    assert not box.undelivered()
    assert box.counts["avatar_sent"] == 1 and box.counts["feedback_sent"] == 1
