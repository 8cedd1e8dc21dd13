"""The TCP JSON-lines link with real sockets: several clients, retained-like status, slow clients.

A "slow" client is one that never reads: the kernel buffers fill, and the server must then
skip avatar frames for it and finally drop it, while the publishing thread (the frame loop)
and the other clients carry on.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from mqtt_helpers import free_port, wait_until
from referencing import Registry, Resource
from shared_data import clip_path

from gymcorner.avatar.codec import AvatarFrame
from gymcorner.avatar.codec_json import decode_json
from gymcorner.config import TcpLinkConfig
from gymcorner.transport.tcp import TcpLinkServer

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"
DEVICE = "tcp-corner"


def line_validator() -> jsonschema.Draft202012Validator:
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.json")]
    registry: Registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / "tcp-line.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


class LineClient:
    """A plain socket client that reads lines on its own thread."""

    def __init__(self, address: tuple[str, int], rcvbuf: int | None = None, read: bool = True) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(address)
        self.lines: list[dict[str, Any]] = []
        self.closed_by_server = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True) if read else None
        if self._thread is not None:
            self._thread.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            buffer += data
            *complete, buffer = buffer.split(b"\n")
            self.lines += [json.loads(line) for line in complete]
        self.closed_by_server.set()

    def topics(self, topic: str) -> list[dict[str, Any]]:
        return [line["payload"] for line in list(self.lines) if line["topic"] == topic]

    def close(self) -> None:
        self.sock.close()


def person_frame(seq: int) -> AvatarFrame:
    rng = np.random.default_rng(seq)
    bones = np.tile([0.0, 0.0, 0.0, 1.0], (9, 1))
    return AvatarFrame(
        seq=seq,
        t_s=seq / 30,
        head_interval=9,
        head_delta_deg=0.0,
        head_yaw_deg=5.0,
        world_m=rng.uniform(-1, 1, (33, 3)),
        visibility=np.ones(33),
        bones=bones,
        view=1,
        exercise=1,
    )


@pytest.fixture
def server() -> Iterator[TcpLinkServer]:
    link = TcpLinkServer(
        TcpLinkConfig(
            enabled=True,
            bind_host="127.0.0.1",
            port=0,
            max_clients=3,
            avatar_backlog_frames=4,
            client_buffer_bytes=64 * 1024,
            drop_after_skipped_frames=50,
        ),
        DEVICE,
    )
    link.start()
    yield link
    link.close()


def test_every_client_gets_the_same_lines_and_they_match_the_schemas(server: TcpLinkServer) -> None:
    server.publish_status("online", detail="starting", exercise="squat")
    clients = [LineClient(server.address) for _ in range(2)]
    wait_until(lambda: server.stats()["clients"] == 2, what="two clients accepted")
    wait_until(lambda: all(c.topics("status") for c in clients), what="status on connect")
    server.publish_avatar(person_frame(1))
    server.publish_avatar(AvatarFrame(seq=2, t_s=0.1, view=2))
    event_id = "tcp-corner-boot-1"
    server.publish_feedback(
        {
            "id": event_id,
            "t": 1.5,
            "code": "knee_valgus",
            "text": "Knees out",
            "kind": "form",
            "severity": "warning",
            "view": "frontal",
            "exercise": "squat",
            "details": {},
        }
    )
    server.publish_session({"state": "active", "exercise": "squat", "frames": 3, "events": {"knee_valgus": 1}})
    wait_until(lambda: all(len(c.lines) == 5 for c in clients), what="five lines per client")
    validator = line_validator()
    for client in clients:
        assert client.lines == clients[0].lines
        for line in client.lines:
            validator.validate(line)
        assert [line["topic"] for line in client.lines] == ["status", "avatar", "avatar", "feedback", "session"]
        frames = [decode_json(json.dumps(p)) for p in client.topics("avatar")]
        assert [f.seq for f in frames] == [1, 2] and frames[0].present and not frames[1].present
        assert client.topics("feedback")[0]["id"] == event_id
        assert client.topics("feedback")[0]["device"] == DEVICE
        client.close()


def test_a_client_that_connects_late_gets_the_current_status_and_session_first(server: TcpLinkServer) -> None:
    server.publish_status("online", detail="waiting for a person")
    server.publish_session({"state": "active", "frames": 10})
    server.publish_status("online", detail="coaching: squat (lateral view)")
    client = LineClient(server.address)
    wait_until(lambda: len(client.lines) == 2, what="status and session")
    assert [line["topic"] for line in client.lines] == ["status", "session"]
    assert client.lines[0]["payload"]["detail"] == "coaching: squat (lateral view)"
    assert client.lines[1]["payload"]["frames"] == 10
    client.close()


def test_a_stalled_client_skips_frames_then_is_dropped_while_the_others_get_everything(server: TcpLinkServer) -> None:
    fast = LineClient(server.address)
    stalled = LineClient(server.address, rcvbuf=4096, read=False)
    wait_until(lambda: server.stats()["clients"] == 2, what="two clients accepted")
    frames = 400  # about 1.6 MB of avatar JSON: far beyond the stalled client's buffers
    published = threading.Event()

    def frame_loop() -> None:
        for seq in range(frames):
            server.publish_avatar(person_frame(seq))
            if seq % 50 == 0:
                server.publish_feedback(
                    {
                        "t": seq / 30,
                        "code": "rep_done",
                        "text": "rep",
                        "kind": "rep",
                        "severity": "info",
                        "view": "lateral",
                        "exercise": "squat",
                    }
                )
            wait_until(
                lambda seq=seq: fast.topics("avatar") and fast.topics("avatar")[-1]["seq"] == seq,
                what=f"fast client has frame {seq}",
            )  # a fast reader gets every frame
        published.set()

    loop = threading.Thread(target=frame_loop, daemon=True)
    loop.start()
    loop.join(120)
    assert published.is_set(), "the frame loop was held up by the stalled client"
    assert [f["seq"] for f in fast.topics("avatar")] == list(range(frames))
    assert len(fast.topics("feedback")) == frames // 50
    stats = server.stats()
    assert stats["avatar_skipped"] > 0 and stats["clients_dropped"] == 1
    wait_until(lambda: server.stats()["clients"] == 1, what="the stalled client closed")
    stalled.close()
    fast.close()


def test_clients_beyond_the_limit_are_refused(server: TcpLinkServer) -> None:
    clients = [LineClient(server.address) for _ in range(3)]
    wait_until(lambda: server.stats()["clients"] == 3, what="three clients")
    extra = LineClient(server.address)
    assert extra.closed_by_server.wait(10), "a fourth client was kept"
    assert server.stats()["clients_refused"] == 1
    for client in [*clients, extra]:
        client.close()


@pytest.mark.shared_data
@pytest.mark.model
def test_the_daemon_serves_its_payloads_over_tcp(tmp_path: Path) -> None:
    clip = clip_path("kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4")
    port = free_port()
    config = tmp_path / "tcp.toml"
    config.write_text(
        f'[device]\nid = "{DEVICE}"\n[source]\nuri = "{clip}"\nrealtime = true\nloop = true\n'
        f'[mqtt]\nenabled = false\n[links.tcp]\nenabled = true\nbind_host = "127.0.0.1"\nport = {port}\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gymcorner", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        client: list[LineClient] = []

        def connected() -> bool:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            try:
                client.append(LineClient(("127.0.0.1", port)))
            except OSError:
                return False
            return True

        wait_until(connected, 120, "the daemon's TCP port")
        wait_until(lambda: len(client[0].topics("avatar")) >= 30 and client[0].topics("status"), 60, "avatar lines")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out.decode(errors="replace")
        wait_until(client[0].closed_by_server.is_set, what="the server closing the link")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    validator = line_validator()
    for line in client[0].lines:
        validator.validate(line)
    frames = [decode_json(json.dumps(p)) for p in client[0].topics("avatar")]
    assert any(f.present for f in frames)
    assert [f.seq for f in frames] == sorted(f.seq for f in frames)
    assert client[0].topics("status")[-1]["state"] == "offline"
    assert client[0].topics("session")[-1]["state"] == "ended"


def listen_backlog(port: int) -> int:
    """The kernel's accept-queue size for a listening socket (`ss` shows it as Send-Q)."""
    ss = shutil.which("ss", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if ss is None:
        pytest.skip("ss binary not found (Debian: apt install iproute2)")
    out = subprocess.run([ss, "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    (line,) = out.strip().splitlines()
    return int(line.split()[2])


def test_a_burst_of_connections_is_accepted_and_logged_in_a_few_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gymcorner.transport.tcp")
    link = TcpLinkServer(TcpLinkConfig(enabled=True, port=0, max_clients=256), DEVICE)
    link.start()
    try:
        assert listen_backlog(link.address[1]) >= 128
        clients = [LineClient(link.address, read=False) for _ in range(200)]
        wait_until(lambda: link.stats()["clients_accepted"] == 200, 60, "200 clients accepted")
        for client in clients:
            client.close()
        wait_until(lambda: link.stats()["clients"] == 0, 60, "every client gone")
    finally:
        link.close()
    lines = [r for r in caplog.records if r.name == "gymcorner.transport.tcp" and r.levelno >= logging.INFO]
    assert link.stats()["clients_refused"] == 0
    assert len(lines) <= 3, [r.getMessage() for r in lines]
