"""LLM coach against a real local HTTP server speaking the OpenAI streaming format.

Every failure mode a LAN server has (slow, HTTP 500, malformed chunks, a stream cut short,
nobody listening) must end in a published event: the model's sentence when it answered,
the deterministic template otherwise. Waits are generous; nothing asserts a duration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llm_server import FakeChatServer, closed_port_url

from gymcorner.errors import LlmError, Reason
from gymcorner.motivation.llm import ChatSettings, LlmCoach, stream_chat
from gymcorner.motivation.prompt import MAX_PROMPT_CHARS, CoachMoment, build_messages, template_reply

WAIT_S = 20.0
MOMENT = CoachMoment(t=12.0, trigger="rep_fault", rep=5, faults=("knee_valgus",), cue="Push your knees out.")


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as srv:
        yield srv


def settings(url: str, timeout_s: float = 5.0, api_key: str | None = None) -> ChatSettings:
    return ChatSettings(base_url=url, model="llama3.2:3b", timeout_s=timeout_s, api_key=api_key)


def ask(url: str, timeout_s: float = 5.0, moment: CoachMoment = MOMENT):
    coach = LlmCoach(settings(url, timeout_s), min_interval_s=0.0)
    try:
        assert coach.submit(moment)
        event = coach.wait_event(WAIT_S)
        assert event is not None, "the coach published nothing"
        return event
    finally:
        coach.close()


def test_stream_is_read_to_done_and_the_request_carries_the_state(server: FakeChatServer) -> None:
    text = stream_chat(settings(server.base_url, api_key="k-123"), build_messages(MOMENT))
    assert text == server.reply
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["stream"] is True and req["body"]["model"] == "llama3.2:3b"
    assert req["headers"]["Authorization"] == "Bearer k-123"
    user = req["body"]["messages"][-1]["content"]
    assert "rep number: 5" in user and "knee valgus" in user


def test_healthy_server_reply_is_published_as_coach_feedback(server: FakeChatServer) -> None:
    event = ask(server.base_url)
    assert event.kind == "coach" and event.code == "coach_rep_fault" and event.t == MOMENT.t
    assert event.text == server.reply
    assert event.details["source"] == "llm"
    assert event.details["latency_ms"] >= 0
    assert set(event.to_dict()) >= {"t", "code", "text", "kind", "severity", "view", "exercise", "details"}


def test_slow_server_is_cut_at_the_hard_timeout_and_the_template_published(server: FakeChatServer) -> None:
    server.mode = "slow"  # headers and a first chunk, then silence until released
    event = ask(server.base_url, timeout_s=0.5)
    assert not server.release.is_set(), "the event must come from the timeout, not the server finishing"
    assert event.details["source"] == "template" and event.details["error"] == Reason.LLM_TIMEOUT.value
    assert event.text == template_reply(MOMENT)


@pytest.mark.parametrize("mode", ["error500", "malformed", "cut"])
def test_bad_replies_fall_back_to_the_template(server: FakeChatServer, mode: str) -> None:
    server.mode = mode
    event = ask(server.base_url)
    assert event.details["source"] == "template" and event.details["error"] == Reason.LLM_BAD_REPLY.value
    assert event.text == template_reply(MOMENT)
    if mode == "error500":
        assert "500" in event.details["error_detail"]


def test_closed_port_falls_back_to_the_template() -> None:
    event = ask(closed_port_url())
    assert event.details["source"] == "template" and event.details["error"] == Reason.LLM_UNREACHABLE.value
    assert event.text == "Rep 5: Push your knees out."


def test_stream_chat_raises_with_a_reason_for_a_closed_port() -> None:
    with pytest.raises(LlmError) as info:
        stream_chat(settings(closed_port_url()), build_messages(MOMENT))
    assert info.value.reason is Reason.LLM_UNREACHABLE


def test_submit_never_blocks_and_one_request_at_most_is_in_flight(server: FakeChatServer) -> None:
    server.mode = "slow"
    coach = LlmCoach(settings(server.base_url, timeout_s=WAIT_S), min_interval_s=0.0)
    try:
        assert coach.submit(MOMENT)  # returns while the server is still holding the reply
        assert server.request_seen.wait(WAIT_S)
        assert coach.busy and coach.poll() == []
        assert not coach.submit(CoachMoment(t=99.0, trigger="set_end", rep=8))  # dropped, not queued
        assert coach.dropped == 1 and len(server.requests) == 1
        server.release.set()
        event = coach.wait_event(WAIT_S)
        assert event is not None and event.details["source"] == "llm"
        assert coach.submit(CoachMoment(t=120.0, trigger="set_end", rep=8))
        assert coach.wait_event(WAIT_S) is not None
    finally:
        coach.close()


def test_minimum_interval_is_kept_in_frame_time() -> None:
    coach = LlmCoach(settings("http://unused.invalid/v1"), min_interval_s=10.0, chat=lambda s, m: "Nice depth.")
    try:
        assert coach.submit(CoachMoment(t=0.0, trigger="set_end"))
        assert coach.wait_event(WAIT_S) is not None
        assert not coach.submit(CoachMoment(t=9.9, trigger="set_end"))
        assert coach.submit(CoachMoment(t=10.0, trigger="set_end"))
        event = coach.wait_event(WAIT_S)
        assert event is not None and event.text == "Nice depth."
    finally:
        coach.close()


def test_empty_model_reply_uses_the_template() -> None:
    coach = LlmCoach(settings("http://unused.invalid/v1"), min_interval_s=0.0, chat=lambda s, m: "   ")
    try:
        moment = CoachMoment(t=3.0, trigger="emotion", emotion="fear", emotion_message="Keep going!")
        assert coach.submit(moment)
        event = coach.wait_event(WAIT_S)
        assert event is not None and event.text == "Keep going!" and event.details["source"] == "template"
    finally:
        coach.close()


def test_prompt_is_bounded_and_templates_are_deterministic() -> None:
    huge = CoachMoment(
        t=1.0,
        trigger="rep_fault",
        rep=3,
        faults=tuple(f"fault_{i}" * 20 for i in range(50)),
        cue="x" * 5000,
        profile={"name": "n" * 500, "goal": "g" * 500},
    )
    assert len(build_messages(huge)[-1]["content"]) <= MAX_PROMPT_CHARS
    for trigger in ("rep_fault", "emotion", "set_end", "hr_zone"):
        m = CoachMoment(t=1.0, trigger=trigger, rep=4, hr_zone=5, heart_rate_bpm=182)
        assert template_reply(m) == template_reply(m) and template_reply(m)
    assert "slow down" in template_reply(CoachMoment(t=1.0, trigger="hr_zone", hr_zone=5))
