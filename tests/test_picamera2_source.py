"""The picamera2 source against a fake `picamera2` module with picamera2's API.

No Raspberry Pi here, so a stand-in module goes into `sys.modules`: `Picamera2(camera_num)`
(IndexError for a camera libcamera does not list), `global_camera_info()`,
`create_video_configuration`, `configure`, `start`, `capture_array("main")` (BGR in
memory, as picamera2's "RGB888" is), `stop`, `close`. The source must ask for that
configuration, hand frames through the newest-frame reader, refuse unknown cameras at
start-up, survive capture errors by reopening, and say what to install when picamera2
is not importable.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.sources import SourceState, create_source, open_source, source_kind


class FakeCameraSystem:
    """What the fake libcamera sees: which cameras exist, and whether capturing fails."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        self.capture_fails = threading.Event()
        self.open_fails = threading.Event()
        self.opened: list[FakePicamera2] = []


class FakePicamera2:
    """picamera2.Picamera2's surface, recording what the source asked of it."""

    system: FakeCameraSystem

    @classmethod
    def global_camera_info(cls) -> list[dict[str, Any]]:
        return [{"Model": m, "Location": 2, "Num": i} for i, m in enumerate(cls.system.models)]

    def __init__(self, camera_num: int = 0) -> None:
        if self.system.open_fails.is_set():
            raise RuntimeError("Failed to acquire camera: Device or resource busy")
        if camera_num >= len(self.system.models):
            raise IndexError("list index out of range")
        self.camera_num = camera_num
        self.config: dict[str, Any] | None = None
        self.started = self.closed = False
        self.captured = 0
        self.system.opened.append(self)

    def create_video_configuration(self, main: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return {"use_case": "video", "main": {"format": "XBGR8888", "size": (1280, 720), **(main or {})}, **kwargs}

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config

    def start(self) -> None:
        assert self.config is not None, "configure() before start()"
        self.started = True

    def capture_array(self, name: str = "main") -> np.ndarray:
        assert self.started and not self.closed and name == "main"
        if self.system.capture_fails.is_set():
            raise RuntimeError("Camera frontend has timed out!")
        time.sleep(0.001)  # a camera delivers at its own pace; let the consumer run
        self.captured += 1
        width, height = self.config["main"]["size"]  # type: ignore[index]
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :, 0] = 255  # blue in the first byte: "RGB888" is B, G, R in memory
        image[0, 0, 1] = self.captured % 256
        return image

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def camera_system(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCameraSystem]:
    system = FakeCameraSystem(["imx708"])
    cls = type("Picamera2", (FakePicamera2,), {"system": system})
    module = types.ModuleType("picamera2")
    module.Picamera2 = cls  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    yield system


def wait_until(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Poll for a state the reader thread reaches (a bound on waiting, not an assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.002)


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("source:picamera2:")]


def test_picamera2_uri_is_its_own_kind() -> None:
    assert source_kind("picamera2:0") == "picamera2" and source_kind("picamera2:") == "picamera2"


def test_frames_come_from_the_configured_camera_in_bgr(camera_system: FakeCameraSystem) -> None:
    config = SourceConfig(uri="picamera2:0", width=640, height=480, fps=25)
    with open_source(config) as source:
        frames = [source.read(timeout_s=5.0) for _ in range(3)]
        assert source.is_live and source.description == "picamera2:0"
        assert source.size == (640, 480) and source.fps == 25
    camera = camera_system.opened[0]
    assert camera.camera_num == 0 and camera.config is not None
    assert camera.config["main"] == {"format": "RGB888", "size": (640, 480)}
    assert camera.config["controls"] == {"FrameDurationLimits": (40000, 40000)}
    assert all(f is not None and f.image.shape == (480, 640, 3) and f.image.dtype == np.uint8 for f in frames)
    assert all(f.image[1, 1].tolist() == [255, 0, 0] for f in frames)  # passed through as BGR
    assert all(b.t_s > a.t_s and b.index > a.index for a, b in itertools.pairwise(frames))
    assert camera.closed and not camera.started and not reader_threads()


def test_without_a_size_it_asks_for_720p(camera_system: FakeCameraSystem) -> None:
    with open_source(SourceConfig(uri="picamera2:")) as source:
        assert source.read(timeout_s=5.0) is not None and source.size == (1280, 720)
    assert camera_system.opened[0].config["controls"] == {}  # type: ignore[index]


def test_only_the_newest_frame_is_kept(camera_system: FakeCameraSystem) -> None:
    with open_source(SourceConfig(uri="picamera2:0", width=64, height=48)) as source:
        wait_until(lambda: source.stats().grabbed_frames >= 5)
        frame = source.read(timeout_s=5.0)
        stats = source.stats()
    assert frame is not None and frame.index >= 4 and stats.dropped_frames >= 4


def test_a_camera_libcamera_does_not_list_fails_before_opening(camera_system: FakeCameraSystem) -> None:
    source = create_source(SourceConfig(uri="picamera2:1"))
    with pytest.raises(SourceError) as info:
        source.open()
    assert info.value.reason is Reason.SOURCE_NOT_FOUND
    assert str(info.value) == (
        "picamera2: no camera 1 (libcamera lists cameras: 0 imx708; check the ribbon cable and "
        "`rpicam-hello --list-cameras`)"
    )
    assert camera_system.opened == [] and not reader_threads()


def test_no_camera_at_all_says_so(camera_system: FakeCameraSystem) -> None:
    camera_system.models = []
    with pytest.raises(SourceError, match=r"^picamera2: no camera 0 \(libcamera lists no camera at all;"):
        open_source(SourceConfig(uri="picamera2:0"))


def test_a_busy_camera_fails_at_start_with_picamera2s_message(camera_system: FakeCameraSystem) -> None:
    camera_system.open_fails.set()
    with pytest.raises(SourceError) as info:
        open_source(SourceConfig(uri="picamera2:0"))
    assert info.value.reason is Reason.SOURCE_UNREADABLE
    assert str(info.value) == "cannot open picamera2:0: Failed to acquire camera: Device or resource busy"


def test_bad_index_text_is_a_config_error(camera_system: FakeCameraSystem) -> None:
    with pytest.raises(SourceError) as info:
        create_source(SourceConfig(uri="picamera2:front"))
    assert info.value.reason is Reason.CONFIG_INVALID and "picamera2:0" in str(info.value)


def test_capture_errors_mid_run_reconnect_with_the_reason(
    camera_system: FakeCameraSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gymcorner.vision.live")
    with open_source(SourceConfig(uri="picamera2:0", width=64, height=48, reconnect_delay_s=0.01)) as source:
        before = source.read(timeout_s=5.0)
        camera_system.open_fails.set()  # gone: it does not reopen either
        camera_system.capture_fails.set()
        wait_until(lambda: source.state is SourceState.RECONNECTING)
        assert source.problem is not None and source.stats().reconnects == 0
        camera_system.open_fails.clear()
        camera_system.capture_fails.clear()
        wait_until(lambda: source.stats().reconnects == 1)
        after = source.read(timeout_s=5.0)
    assert before is not None and after is not None and after.index > before.index
    assert len(camera_system.opened) >= 2 and all(c.closed for c in camera_system.opened)
    assert any("picamera2:0 lost (Camera frontend has timed out!)" in r.getMessage() for r in caplog.records)
    assert not reader_threads()


def test_without_picamera2_one_line_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` raise ImportError
    with pytest.raises(SourceError) as info:
        open_source(SourceConfig(uri="picamera2:0"))
    assert info.value.reason is Reason.DEPENDENCY_MISSING
    message = str(info.value)
    assert message.startswith("picamera2 not importable (") and "\n" not in message
    assert message.endswith(
        "on Raspberry Pi OS install python3-picamera2 and create the venv with --system-site-packages"
    )


# ---------------------------------------------------------------------------- doctor


def test_doctor_checks_the_index_against_libcamera(camera_system: FakeCameraSystem) -> None:
    from gymcorner.commands.doctor import Status, check_camera
    from gymcorner.config import load_config

    assert check_camera(load_config(None, {"source.uri": "picamera2:0"})).status is Status.PASS
    result = check_camera(load_config(None, {"source.uri": "picamera2:2"}))
    assert result.status is Status.FAIL and "no camera 2 (libcamera lists cameras: 0 imx708" in result.detail
    assert "rpicam-hello --list-cameras" in result.fix and "USB webcam: 0 or /dev/video0" in result.fix


def test_doctor_without_picamera2_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from gymcorner.commands.doctor import Status, check_camera
    from gymcorner.config import load_config

    monkeypatch.setitem(sys.modules, "picamera2", None)
    result = check_camera(load_config(None, {"source.uri": "picamera2:0"}))
    assert result.status is Status.FAIL and "install python3-picamera2" in result.detail
    assert "--system-site-packages" in result.detail and "Jetson CSI camera" in result.fix
