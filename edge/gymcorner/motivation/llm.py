"""LLM coach: an OpenAI-compatible /v1/chat/completions client (streaming) and the worker
that asks it off the frame path.

HTTP is the standard library's `http.client`: one POST and a line-by-line read of
server-sent events is all this needs, it adds no dependency to the device, and it gives
direct hold of the socket, which the hard timeout needs: a watchdog timer shuts the
socket down at the deadline, so a server that trickles bytes forever cannot hold the
coach past `timeout_s` (a per-read timeout alone would be re-armed by every byte).

The frame loop only calls `LlmCoach.submit()` (never blocks: it drops the moment when a
request is in flight or the minimum interval has not passed) and `poll()`; the worker
thread talks to the server and always produces an event: the model's sentence, or the
deterministic template on timeout, error or an unreachable server, with the latency.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gymcorner.coach.events import FeedbackEvent
from gymcorner.config import LlmConfig
from gymcorner.errors import LlmError, Reason
from gymcorner.motivation.prompt import CoachMoment, build_messages, clean_reply, template_reply

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatSettings:
    base_url: str
    model: str
    timeout_s: float
    max_tokens: int = 60
    temperature: float = 0.6
    api_key: str | None = None

    @classmethod
    def from_config(cls, cfg: LlmConfig) -> ChatSettings:
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        return cls(cfg.base_url, cfg.model, cfg.timeout_s, cfg.max_tokens, cfg.temperature, key or None)


def _content_of(payload: str) -> str:
    """The text delta of one SSE `data:` payload (a chat.completion.chunk)."""
    try:
        chunk = json.loads(payload)
        choices = chunk["choices"]
        delta = choices[0].get("delta", {}) if choices else {}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
        raise LlmError(f"malformed stream chunk: {payload[:80]!r}", Reason.LLM_BAD_REPLY) from err
    if not isinstance(delta, dict):
        raise LlmError(f"malformed stream chunk: {payload[:80]!r}", Reason.LLM_BAD_REPLY)
    content = delta.get("content") or ""
    return content if isinstance(content, str) else ""


def stream_chat(settings: ChatSettings, messages: list[dict[str, str]]) -> str:
    """The assistant's whole reply, streamed; LlmError (with a reason) on anything else.

    Returns within `settings.timeout_s` (plus scheduling slack) whatever the server does."""
    url = urllib.parse.urlsplit(settings.base_url.rstrip("/") + "/chat/completions")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise LlmError(f"llm.base_url is not an http(s) URL: {settings.base_url}", Reason.LLM_UNREACHABLE)
    conn_cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    deadline = time.monotonic() + settings.timeout_s
    conn = conn_cls(url.hostname, url.port, timeout=settings.timeout_s)
    expired = threading.Event()

    def cut() -> None:  # the watchdog: unblock any read at the deadline
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(settings.timeout_s, cut)
    watchdog.daemon = True
    watchdog.start()
    body = json.dumps(
        {
            "model": settings.model,
            "messages": messages,
            "stream": True,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    parts: list[str] = []
    try:
        conn.request("POST", url.path, body=body, headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raise LlmError(f"HTTP {resp.status} {resp.reason}", Reason.LLM_BAD_REPLY)
        while True:
            if time.monotonic() >= deadline:
                raise LlmError("timeout", Reason.LLM_TIMEOUT)
            raw = resp.readline()
            if not raw:
                if expired.is_set():
                    raise LlmError("timeout", Reason.LLM_TIMEOUT)
                raise LlmError("stream ended without [DONE]", Reason.LLM_BAD_REPLY)
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, comments (": keep-alive"), event: lines
            payload = line[len("data:") :].strip()
            if payload == "[DONE]":
                return "".join(parts)
            parts.append(_content_of(payload))
    except LlmError:
        raise
    except TimeoutError as err:
        raise LlmError("timeout", Reason.LLM_TIMEOUT) from err
    except (ConnectionError, OSError, http.client.HTTPException) as err:
        if expired.is_set():
            raise LlmError("timeout", Reason.LLM_TIMEOUT) from err
        reason = Reason.LLM_UNREACHABLE if not parts else Reason.LLM_BAD_REPLY
        raise LlmError(f"{type(err).__name__}: {err}", reason) from err
    finally:
        watchdog.cancel()
        conn.close()


ChatFn = Callable[[ChatSettings, list[dict[str, str]]], str]


class LlmCoach:
    """Asks the LLM for one sentence per moment, in its own thread; publishes through `poll()`.

    At most one request is in flight; a moment that arrives while one is, or sooner than
    `min_interval_s` (frame time) after the last accepted one, is dropped, not queued: a
    late cue is worse than none."""

    def __init__(self, settings: ChatSettings, min_interval_s: float, chat: ChatFn = stream_chat) -> None:
        self.settings = settings
        self.min_interval_s = min_interval_s
        self._chat = chat
        self._inbox: queue.Queue[CoachMoment | None] = queue.Queue(maxsize=1)
        self._outbox: queue.Queue[FeedbackEvent] = queue.Queue()
        self._busy = threading.Event()
        self._last_t: float | None = None
        self.dropped = 0
        self._thread = threading.Thread(target=self._work, name="llm-coach", daemon=True)
        self._thread.start()

    @classmethod
    def from_config(cls, cfg: LlmConfig) -> LlmCoach:
        return cls(ChatSettings.from_config(cfg), cfg.min_interval_s)

    def submit(self, moment: CoachMoment) -> bool:
        """Hand a moment to the worker; False (and counted) when it is dropped. Never blocks."""
        too_soon = self._last_t is not None and moment.t - self._last_t < self.min_interval_s
        if too_soon or self._busy.is_set():
            self.dropped += 1
            return False
        self._busy.set()
        self._last_t = moment.t
        self._inbox.put_nowait(moment)  # cannot be full: _busy guards the only slot
        return True

    def poll(self) -> list[FeedbackEvent]:
        """Events the worker has finished, oldest first (call from the frame loop)."""
        out: list[FeedbackEvent] = []
        while True:
            try:
                out.append(self._outbox.get_nowait())
            except queue.Empty:
                return out

    def wait_event(self, timeout_s: float) -> FeedbackEvent | None:
        """Block for the next finished event (tools and tests; never from the frame loop)."""
        try:
            return self._outbox.get(timeout=timeout_s)
        except queue.Empty:
            return None

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def close(self) -> None:
        try:
            self._inbox.put(None, timeout=self.settings.timeout_s + 1)
        except queue.Full:
            pass
        self._thread.join(timeout=self.settings.timeout_s + 2)

    def _work(self) -> None:
        while True:
            moment = self._inbox.get()
            if moment is None:
                return
            try:
                self._outbox.put(self.answer(moment))
            finally:
                self._busy.clear()

    def answer(self, moment: CoachMoment) -> FeedbackEvent:
        """The event for one moment: the LLM's sentence, or the template and why."""
        started = time.monotonic()
        details: dict[str, Any] = {"trigger": moment.trigger, "model": self.settings.model}
        try:
            text = clean_reply(self._chat(self.settings, build_messages(moment)))
            if not text:
                raise LlmError("empty reply", Reason.LLM_BAD_REPLY)
            details["source"] = "llm"
        except LlmError as err:
            text = template_reply(moment)
            details.update(source="template", error=err.reason.value, error_detail=str(err)[:160])
            _log.info("LLM coach fell back to the template (%s: %s)", err.reason.value, err)
        details["latency_ms"] = round(1000 * (time.monotonic() - started), 1)
        return FeedbackEvent(
            t=moment.t,
            code=f"coach_{moment.trigger}",
            text=text,
            kind="coach",
            severity="info",
            exercise=moment.exercise,
            details=details,
        )
