"""A local OpenAI-compatible chat server for the LLM coach tests (and tools/llm_coach_table.py).

It speaks the real streaming wire format that Ollama and llama.cpp server send for
`POST /v1/chat/completions` with `"stream": true`: `text/event-stream`, one
`data: {chat.completion.chunk}` line per token group, a blank line after each, a final
chunk with `finish_reason`, then `data: [DONE]`. Modes make it misbehave the ways a LAN
server does: slow (holds the stream until released), HTTP 500, malformed chunks, a
stream cut before `[DONE]`.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _chunk(content: str | None, finish: str | None = None, role: bool = False) -> bytes:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class FakeChatServer:
    """Modes: ok, slow, error500, malformed, cut. `reply` is streamed word by word."""

    def __init__(self, reply: str = "Drive your knees out and keep your chest proud.") -> None:
        self.mode = "ok"
        self.reply = reply
        self.release = threading.Event()  # "slow" holds its stream until this is set
        self.requests: list[dict[str, Any]] = []
        self.request_seen = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                server.request_seen.set()
                self.close_connection = True  # one request per connection, as the client does
                if server.mode == "error500":
                    payload = b'{"error": {"message": "model failed to load"}}'
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                words = server.reply.split(" ")
                try:
                    self.wfile.write(_chunk("", role=True))
                    self.wfile.write(b": keep-alive comment\n\n")
                    self.wfile.flush()
                    if server.mode == "slow":
                        server.release.wait(timeout=30)
                    if server.mode == "malformed":
                        self.wfile.write(b'data: {"choices": [{"delta": {"content": "Dri\n\n')
                        self.wfile.flush()
                        return
                    for i, word in enumerate(words):
                        self.wfile.write(_chunk(word if i == 0 else " " + word))
                        self.wfile.flush()
                        if server.mode == "cut" and i == 1:
                            return
                    self.wfile.write(_chunk(None, finish="stop"))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): fine

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
