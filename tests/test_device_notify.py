"""sd_notify against a real AF_UNIX datagram socket, as systemd listens for it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gymcorner.device.notify import Notifier, watchdog_interval_s


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


def received(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines())


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_ready_carries_status_and_main_pid(listener) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.ready("coaching: squat")
    assert received(sock) == {"READY": "1", "MAINPID": str(os.getpid()), "STATUS": "coaching: squat"}


def test_status_is_one_line_and_repeats_are_not_resent(listener) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.status("camera lost,\nretrying")
    assert received(sock) == {"STATUS": "camera lost, retrying"}
    assert not notifier.status("camera lost, retrying")
    assert notifier.status("coaching: squat, rep 4")
    assert received(sock) == {"STATUS": "coaching: squat, rep 4"}


def test_watchdog_pings_at_most_every_half_interval(listener) -> None:
    sock, path = listener
    clock = Clock()
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000"}, clock=clock)
    assert notifier.watchdog_s == 10.0
    sent = []
    for step in range(40):  # 20 s of frames at 2 Hz
        clock.t = step * 0.5
        sent.append(notifier.watchdog())
    assert sum(sent) == 4  # t = 0, 5, 10, 15
    for _ in range(4):
        assert received(sock) == {"WATCHDOG": "1"}


def test_abstract_socket_name(tmp_path: Path) -> None:
    name = f"@gymcorner-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name[1:].encode())
    sock.settimeout(5)
    try:
        assert Notifier({"NOTIFY_SOCKET": name}).stopping()
        assert received(sock) == {"STOPPING": "1", "STATUS": "stopping"}
    finally:
        sock.close()


def test_without_systemd_every_call_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.ready("x") and not notifier.status("y") and not notifier.watchdog()


def test_a_vanished_socket_turns_notifications_off_without_raising(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "1000000"})
    assert not notifier.ready()
    assert not notifier.enabled
    assert not notifier.watchdog()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "junk"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
    ],
)
def test_watchdog_interval_from_environment(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval_s(env, pid=4242) == expected
