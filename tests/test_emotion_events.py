"""The seed's emotion rule: 1-second intervals, 4 consecutive "fear" -> one "Keep going!"."""

from __future__ import annotations

from gymcorner.coach.emotion import EmotionEvents, EmotionObservation
from gymcorner.config import load_config


def feed(events: EmotionEvents, labels: list[str | None], t0: float = 0.0, dt: float = 1.0):
    return [(i, e) for i, lab in enumerate(labels) if (e := events.observe(EmotionObservation(t0 + i * dt, lab)))]


def default_events() -> EmotionEvents:
    emo = load_config(None).motivation.emotion
    return EmotionEvents(emo.messages, emo.hold_intervals, emo.interval_s)


def test_four_consecutive_fear_make_one_keep_going() -> None:
    fired = feed(default_events(), ["neutral", "fear", "fear", "fear", "fear", "happy"])
    assert [i for i, _ in fired] == [4]
    event = fired[0][1]
    assert event.text == "Keep going!" and event.kind == "coach" and event.code == "emotion_fear"
    assert event.t == 4.0 and event.details["intervals"] == 4


def test_a_broken_run_does_not_fire() -> None:
    assert feed(default_events(), ["fear", "fear", "fear", "neutral", "fear", "fear", "fear"]) == []
    assert feed(default_events(), ["fear", "fear", None, "fear", "fear"]) == []


def test_a_long_run_fires_once_per_full_run() -> None:
    assert [i for i, _ in feed(default_events(), ["fear"] * 9)] == [3, 7]


def test_a_gap_in_time_breaks_the_run() -> None:
    events = default_events()
    for t in (0.0, 1.0, 2.0, 6.0, 7.0):  # the recogniser stalled between 2 s and 6 s
        assert events.observe(EmotionObservation(t, "fear")) is None


def test_only_configured_emotions_fire_with_their_configured_text() -> None:
    cfg = load_config(
        None,
        overrides={
            "motivation.emotion.messages": {"sad": "Chin up, you are nearly there."},
            "motivation.emotion.hold_intervals": 2,
        },
    )
    emo = cfg.motivation.emotion
    events = EmotionEvents(emo.messages, emo.hold_intervals, emo.interval_s)
    fired = feed(events, ["fear"] * 5 + ["sad", "sad"])
    assert [(i, e.text) for i, e in fired] == [(6, "Chin up, you are nearly there.")]


def test_reset_forgets_the_run() -> None:
    events = default_events()
    feed(events, ["fear"] * 3)
    events.reset()
    assert feed(events, ["fear"] * 3, t0=3.0) == []
