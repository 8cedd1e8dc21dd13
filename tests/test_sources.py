"""Frame sources: files read in order with their own timestamps, upright; live sources keep
only the newest frame and reconnect. Clips are generated with ffmpeg into tmp_path; the
live threading is driven by fake captures, so no camera is needed. No wall-clock asserts.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import shutil
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.file_source import VideoFileSource
from gymcorner.vision.live import LiveFrameSource
from gymcorner.vision.sources import (
    Frame,
    FrameTimeout,
    SourceState,
    create_source,
    open_source,
    redact_uri,
    source_kind,
    upright_rotation,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg binary not installed")


# ----------------------------------------------------------------------- clip makers


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_gray_clip(path: Path, n_frames: int, fps: str = "25", size: tuple[int, int] = (64, 48)) -> Path:
    """Flat frames whose gray level encodes the frame index (8 levels a step)."""
    width, height = size
    raw = np.stack([np.full((height, width, 3), (i * 8) % 256, np.uint8) for i in range(n_frames)])
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
         "-s", f"{width}x{height}", "-r", fps, "-i", "-", "-c:v", "libx264", "-qp", "0",
         "-pix_fmt", "yuv444p", "-g", "1", str(path)],
        input=raw.tobytes(), check=True,
    )  # fmt: skip
    return path


def gray_index(frame: Frame) -> int:
    return round(float(frame.image.mean()) / 8)


def make_marker_clip(path: Path, rotate_tag: int | None) -> Path:
    """64x32 black frames with a red block in the stored top-left corner, optionally rotation-tagged."""
    plain = path.with_name(path.stem + "_plain.mp4")
    _ffmpeg("-f", "lavfi", "-i", "color=c=black:size=64x32:rate=10,drawbox=x=0:y=0:w=16:h=8:color=red@1:t=fill",
            "-frames:v", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(plain))  # fmt: skip
    if rotate_tag is None:
        return plain
    _ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={rotate_tag}", str(path))
    return path


def marker_centre(image: np.ndarray) -> tuple[float, float]:
    red = (image[:, :, 2] > 150) & (image[:, :, 1] < 100)
    ys, xs = np.nonzero(red)
    return float(ys.mean()), float(xs.mean())


def ffmpeg_upright_reference(clip: Path, out: Path) -> np.ndarray:
    """The first frame as ffmpeg's own player shows it (ffmpeg autorotates by default)."""
    _ffmpeg("-i", str(clip), "-frames:v", "1", str(out))
    image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert image is not None
    return image


# ------------------------------------------------------------------------------ files


@needs_ffmpeg
@pytest.mark.parametrize("rate", ["25", "30000/1001"])
def test_file_delivers_every_frame_in_order_with_video_timestamps(tmp_path: Path, rate: str) -> None:
    clip = make_gray_clip(tmp_path / "gray.mp4", 30, fps=rate)
    period_s = 1 / float(Fraction(rate))
    with open_source(SourceConfig(uri=str(clip))) as source:
        assert not source.is_live
        assert source.fps == pytest.approx(float(Fraction(rate)), rel=1e-6)
        assert source.frame_count == 30
        assert source.size == (64, 48)
        frames = list(source)
        assert source.read() is None  # stays at the end
        assert source.state is SourceState.ENDED
        assert source.stats().delivered_frames == 30
    assert [f.index for f in frames] == list(range(30))
    assert [gray_index(f) for f in frames] == list(range(30))
    assert [f.t_s for f in frames] == pytest.approx([i * period_s for i in range(30)], abs=1e-3)
    assert all(f.image.dtype == np.uint8 and f.image.shape == (48, 64, 3) for f in frames)
    assert source.state is SourceState.CLOSED


@needs_ffmpeg
def test_loop_restarts_with_ever_increasing_timestamps(tmp_path: Path) -> None:
    clip = make_gray_clip(tmp_path / "five.mp4", 5, fps="10")
    source = open_source(SourceConfig(uri=str(clip), loop=True))
    try:
        frames = [source.read() for _ in range(12)]
    finally:
        source.close()
    assert all(f is not None for f in frames)
    assert [f.index for f in frames] == list(range(12))  # type: ignore[union-attr]
    assert [gray_index(f) for f in frames] == [i % 5 for i in range(12)]  # type: ignore[arg-type]
    assert np.diff([f.t_s for f in frames]) == pytest.approx([0.1] * 11, abs=1e-3)  # type: ignore[union-attr]


class FakeClock:
    """A monotonic clock that only moves when someone sleeps or the test advances it."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.sleeps_s: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, duration_s: float) -> None:
        self.sleeps_s.append(duration_s)
        self.now_s += duration_s


@needs_ffmpeg
def test_realtime_paces_at_the_video_rate_and_does_not_burst_after_a_stall(tmp_path: Path) -> None:
    clip = make_gray_clip(tmp_path / "paced.mp4", 10, fps="10")
    clock = FakeClock()
    with VideoFileSource(clip, realtime=True, clock=clock, sleep=clock.sleep) as source:
        for _ in range(4):
            source.read()
        assert clock.sleeps_s == pytest.approx([0.1, 0.1, 0.1], abs=1e-3)  # the first frame is the anchor
        clock.sleeps_s.clear()
        clock.now_s += 0.04  # a consumer that spends 40 ms per frame
        source.read()
        assert clock.sleeps_s == pytest.approx([0.06], abs=1e-3)
        clock.sleeps_s.clear()
        clock.now_s += 3.0  # a long stall: re-anchor, never a burst of catch-up frames
        source.read()
        source.read()
        assert clock.sleeps_s == pytest.approx([0.1], abs=1e-3)


@needs_ffmpeg
@needs_ffmpeg
def test_frames_a_consumer_still_holds_are_never_decoded_over(tmp_path: Path) -> None:
    """The decoder reuses arrays: every frame kept (directly, as a view, or in a Frame)
    still shows its own index after the whole file is read."""
    clip = make_gray_clip(tmp_path / "held.mp4", 32)  # gray levels 0-248: one index each
    source = VideoFileSource(clip)
    source.open()
    kept: list[tuple[int, object]] = []
    while (frame := source.read()) is not None:
        if frame.index % 3 == 0:
            kept.append((frame.index, frame))  # the Frame itself
        elif frame.index % 3 == 1:
            kept.append((frame.index, frame.image[4:40, 8:56]))  # a view of its array
    source.close()
    assert len(kept) == 22
    for index, held in kept:
        image = held.image if isinstance(held, Frame) else held
        assert round(float(np.asarray(image).mean()) / 8) == index


@needs_ffmpeg
def test_frames_a_consumer_lets_go_of_are_decoded_into_again(tmp_path: Path) -> None:
    clip = make_gray_clip(tmp_path / "dropped.mp4", 60)
    source = VideoFileSource(clip)
    source.open()
    handed_out = []
    indices = []
    while (frame := source.read()) is not None:
        handed_out.append(weakref.ref(frame.image))
        indices.append(gray_index(frame))
        del frame
    decoded = [ref() for ref in handed_out[1:]]  # the first frame was decoded by open(), as a check
    source.close()
    assert indices == [i % 32 for i in range(60)]  # reuse changes no frame (the gray level wraps at 32)
    assert all(a is not None for a in decoded), "a decoded array was freed, not kept for reuse"
    assert len({id(a) for a in decoded}) <= 3, "59 frames in more than 3 arrays"  # queued, decoding, read


def test_file_source_read_before_open_is_a_programming_error(tmp_path: Path) -> None:
    source = VideoFileSource(make_gray_clip(tmp_path / "g.mp4", 2))
    with pytest.raises(RuntimeError):
        source.read()


# --------------------------------------------------------------------------- rotation


@needs_ffmpeg
@pytest.mark.parametrize("rotate_tag", [90, 180, 270])
def test_rotation_tagged_clip_comes_out_upright_once(tmp_path: Path, rotate_tag: int) -> None:
    clip = make_marker_clip(tmp_path / f"rot{rotate_tag}.mp4", rotate_tag)
    reference = ffmpeg_upright_reference(clip, tmp_path / "ref.png")
    with VideoFileSource(clip) as source:
        frames = list(source)
    expected_size = (32, 64) if rotate_tag in (90, 270) else (64, 32)
    assert source.size == expected_size
    assert len(frames) == 6
    for frame in frames:
        assert frame.image.shape[:2] == reference.shape[:2] == (expected_size[1], expected_size[0])
        assert marker_centre(frame.image) == pytest.approx(marker_centre(reference), abs=1.0)


@needs_ffmpeg
def test_untagged_clip_is_not_rotated(tmp_path: Path) -> None:
    clip = make_marker_clip(tmp_path / "plain.mp4", None)
    with VideoFileSource(clip) as source:
        frame = source.read()
    assert frame is not None and source.size == (64, 32)
    assert marker_centre(frame.image) == pytest.approx((3.5, 7.5), abs=1.0)


class RefusesAutoRotation:
    """A capture whose backend cannot rotate by itself (as some non-FFmpeg backends)."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self.capture = capture

    def get(self, prop: int) -> float:
        return self.capture.get(prop)

    def set(self, prop: int, value: float) -> bool:
        return False if prop == cv2.CAP_PROP_ORIENTATION_AUTO else self.capture.set(prop, value)


@needs_ffmpeg
@pytest.mark.parametrize("rotate_tag", [90, 180, 270])
def test_manual_rotation_fallback_matches_ffmpeg(tmp_path: Path, rotate_tag: int) -> None:
    clip = make_marker_clip(tmp_path / f"rot{rotate_tag}.mp4", rotate_tag)
    reference = ffmpeg_upright_reference(clip, tmp_path / "ref.png")
    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    try:
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)  # a backend that hands out frames as stored
        code = upright_rotation(RefusesAutoRotation(capture))
        ok, stored = capture.read()
    finally:
        capture.release()
    assert ok and code is not None
    assert stored.shape[:2] == (32, 64)
    upright = cv2.rotate(stored, code)
    assert upright.shape == reference.shape
    assert marker_centre(upright) == pytest.approx(marker_centre(reference), abs=1.0)


# ----------------------------------------------------------------------- open errors


def _open_error(uri: str, **config: object) -> SourceError:
    with pytest.raises(SourceError) as info:
        open_source(SourceConfig(uri=uri, **config))  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    return info.value


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    err = _open_error(str(tmp_path / "nope.mp4"))
    assert err.reason is Reason.SOURCE_NOT_FOUND
    assert str(err) == f"video file not found: {tmp_path / 'nope.mp4'}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.mkdir(), id="directory"),
        pytest.param(lambda p: p.write_bytes(np.random.default_rng(7).bytes(20_000)), id="random-bytes"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: p.write_text("not a video\n"), id="text"),
    ],
)
def test_undecodable_inputs_are_unreadable(tmp_path: Path, make: Callable[[Path], object]) -> None:
    path = tmp_path / "clip.mp4"
    make(path)
    err = _open_error(str(path))
    assert err.reason is Reason.SOURCE_UNREADABLE
    assert str(err).startswith(f"cannot decode video: {path}")


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or Path("/dev/video97").exists(), reason="needs Linux without /dev/video97"
)
@pytest.mark.parametrize("uri", ["97", "/dev/video97"])
def test_missing_camera_is_not_found_at_once(uri: str) -> None:
    err = _open_error(uri, open_timeout_s=120.0)  # would hang for minutes if it probed the device
    assert err.reason is Reason.SOURCE_NOT_FOUND
    assert "camera" in str(err) and "/dev/video97" in str(err)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_stream_fails_without_leaking_credentials() -> None:
    err = _open_error(f"rtsp://admin:hunter2@127.0.0.1:{_free_port()}/live", open_timeout_s=5.0)
    assert err.reason is Reason.SOURCE_NOT_FOUND
    assert "hunter2" not in str(err) and "admin" not in str(err)
    assert "rtsp://127.0.0.1:" in str(err)


# ------------------------------------------------------------------ kinds and names


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("0", "camera"), ("12", "camera"), ("/dev/video0", "camera"), ("/dev/v4l/by-id/usb-cam", "camera"),
        ("rtsp://cam/1", "url"), ("RTSPS://cam/1", "url"), ("http://x/y.mjpg", "url"), ("https://x/y", "url"),
        ("clip.mp4", "file"), ("/data/a b.avi", "file"), ("file:///data/clip.mp4", "file"), ("C:\\v\\a.mp4", "file"),
    ],
)  # fmt: skip
def test_source_kind_by_uri_shape(uri: str, kind: str) -> None:
    assert source_kind(uri) == kind


def test_unsupported_scheme_is_a_config_error() -> None:
    with pytest.raises(SourceError) as info:
        source_kind("ftp://user:pw@host/clip.mp4")
    assert info.value.reason is Reason.CONFIG_INVALID
    assert "pw" not in str(info.value)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1"),
        ("rtsps://user@cam.local/live", "rtsps://cam.local/live"),
        ("http://cam/video.cgi?user=admin&password=s3cret&res=hd", "http://cam/video.cgi?user=***&password=***&res=hd"),
        ("https://cam/api?token=abc", "https://cam/api?token=***"),
        ("rtsp://cam.local/live", "rtsp://cam.local/live"),
    ],
)
def test_url_descriptions_hide_credentials(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown
    source = create_source(SourceConfig(uri=uri))
    assert source.is_live and source.description == shown


def test_camera_and_file_descriptions() -> None:
    assert create_source(SourceConfig(uri="0")).description == "camera 0"
    assert create_source(SourceConfig(uri="/dev/video2")).description == "camera /dev/video2"
    assert create_source(SourceConfig(uri="clips/a.mp4")).description == "clips/a.mp4"
    assert create_source(SourceConfig(uri="x.mp4"), uri_override="1").description == "camera 1"


# ---------------------------------------------------------------- live: fake captures


class SteppedCapture:
    """Delivers numbered frames only when the test releases them (one per `step()`)."""

    def __init__(self) -> None:
        self.released = threading.Semaphore(0)
        self.finished = threading.Event()
        self.count = 0
        self.settings: dict[int, float] = {}
        self.orientation_deg = 0.0

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.released.release()

    def isOpened(self) -> bool:
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        while not self.released.acquire(timeout=0.01):
            if self.finished.is_set():
                return False, None
        image = np.full((4, 6, 3), self.count % 256, np.uint8)
        image[0, 0] = (self.count // 256, 0, 0)
        self.count += 1
        return True, image

    def set(self, prop: int, value: float) -> bool:
        self.settings[prop] = value
        return prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FPS)

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_ORIENTATION_META:
            return self.orientation_deg
        return self.settings.get(prop, 0.0)

    def release(self) -> None:
        pass


def wait_until(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Poll for a state change made by the reader thread (a bound on waiting, not an assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.002)


@pytest.fixture
def stepped() -> Iterator[tuple[SteppedCapture, LiveFrameSource]]:
    capture = SteppedCapture()
    source = LiveFrameSource(lambda: capture, "fake cam", width=1280, height=720, fps=30, open_timeout_s=5.0)
    capture.step()  # the first frame, which open() waits for
    source.open()
    yield capture, source
    capture.finished.set()
    source.close()


def test_live_consumer_always_gets_the_newest_frame(stepped: tuple[SteppedCapture, LiveFrameSource]) -> None:
    capture, source = stepped
    assert source.is_live and source.state is SourceState.STREAMING and source.frame_count is None
    assert source.read(timeout_s=1.0).index == 0  # type: ignore[union-attr]

    capture.step(5)
    wait_until(lambda: source.stats().grabbed_frames == 6)
    frame = source.read(timeout_s=1.0)
    assert frame is not None and frame.index == 5 and int(frame.image[1, 1, 0]) == 5
    assert source.stats().dropped_frames == 4

    capture.step(700)  # a consumer that stalls for a long time: still one frame held, not 700
    wait_until(lambda: source.stats().grabbed_frames == 706)
    frame = source.read(timeout_s=1.0)
    assert frame is not None and frame.index == 705
    with pytest.raises(FrameTimeout) as info:
        source.read(timeout_s=0.05)  # nothing newer is waiting
    assert info.value.reason is Reason.SOURCE_LOST
    stats = source.stats()
    assert (stats.grabbed_frames, stats.delivered_frames, stats.dropped_frames) == (706, 3, 703)


def test_live_applies_requested_capture_settings(stepped: tuple[SteppedCapture, LiveFrameSource]) -> None:
    capture, source = stepped
    assert capture.settings[cv2.CAP_PROP_FRAME_WIDTH] == 1280
    assert capture.settings[cv2.CAP_PROP_FRAME_HEIGHT] == 720
    assert capture.settings[cv2.CAP_PROP_FPS] == 30
    assert source.fps == 30
    assert source.size == (6, 4)


def test_live_timestamps_come_from_the_clock_at_grab() -> None:
    capture = SteppedCapture()
    ticks = iter(float(t) for t in range(1000, 2000))
    source = LiveFrameSource(lambda: capture, "fake cam", clock=lambda: next(ticks))
    capture.step(1)
    source.open()
    try:
        first = source.read(timeout_s=1.0)
        capture.step(1)
        second = source.read(timeout_s=1.0)
    finally:
        capture.finished.set()
        source.close()
    assert first is not None and second is not None
    assert (first.t_s, second.t_s) == (1000.0, 1001.0)


class FreeRunningCapture:
    """Produces numbered frames as fast as it is asked; can fail and come back."""

    def __init__(self) -> None:
        self.count = 0
        self.failing = threading.Event()

    def isOpened(self) -> bool:
        return not self.failing.is_set()

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.failing.is_set():
            return False, None
        time.sleep(0.0005)  # let the consumer thread run
        self.count += 1
        return True, np.full((2, 2, 3), self.count % 256, np.uint8)

    def set(self, prop: int, value: float) -> bool:
        return False

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


def test_live_slow_consumer_drops_instead_of_lagging() -> None:
    capture = FreeRunningCapture()
    source = LiveFrameSource(lambda: capture, "fast cam")
    with source:
        indices = []
        for _ in range(20):
            frame = source.read(timeout_s=2.0)
            assert frame is not None
            indices.append(frame.index)
            time.sleep(0.005)  # slower than the camera
        stats = source.stats()
    assert all(b > a for a, b in itertools.pairwise(indices))
    assert stats.dropped_frames > 0
    assert stats.grabbed_frames - stats.delivered_frames - stats.dropped_frames in (0, 1)
    assert source.state is SourceState.CLOSED and source.read(timeout_s=0.01) is None
    assert not [t for t in threading.enumerate() if t.name == "source:fast cam"]  # joined


def test_live_reconnects_after_a_loss() -> None:
    capture = FreeRunningCapture()
    source = LiveFrameSource(lambda: capture, "flaky cam", reconnect_delay_s=0.01)
    with source:
        before = source.read(timeout_s=2.0)
        assert before is not None and source.stats().reconnects == 0
        capture.failing.set()  # cable pulled: reads fail, reopening fails
        wait_until(lambda: source.state is SourceState.RECONNECTING)
        source.read(timeout_s=0.01)  # may still hold the last frame grabbed before the loss
        with pytest.raises(FrameTimeout, match="reconnecting"):
            source.read(timeout_s=0.05)
        capture.failing.clear()  # cable back
        wait_until(lambda: source.state is SourceState.STREAMING)
        after = source.read(timeout_s=2.0)
        assert after is not None and after.index > before.index
        assert source.stats().reconnects == 1


class NeverOpens(FreeRunningCapture):
    def isOpened(self) -> bool:
        return False


class OpensButNeverDelivers(FreeRunningCapture):
    def read(self) -> tuple[bool, np.ndarray | None]:
        return False, None


class HangsOnRead(FreeRunningCapture):
    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.3)
        return False, None


@pytest.mark.parametrize(
    ("capture", "reason", "message"),
    [
        (NeverOpens(), Reason.SOURCE_NOT_FOUND, "cannot open fake cam"),
        (OpensButNeverDelivers(), Reason.SOURCE_UNREADABLE, "fake cam opened but delivered no frame"),
        (HangsOnRead(), Reason.SOURCE_UNREADABLE, "no frame from fake cam within 0.1 s"),
    ],
)
def test_live_open_fails_loudly(capture: FreeRunningCapture, reason: Reason, message: str) -> None:
    source = LiveFrameSource(
        lambda: capture, "fake cam", open_timeout_s=0.1, open_failure_reason=Reason.SOURCE_NOT_FOUND
    )
    with pytest.raises(SourceError) as info:
        source.open()
    assert info.value.reason is reason and str(info.value) == message
    assert source.state is SourceState.CLOSED


def test_live_rotates_when_the_backend_cannot() -> None:
    capture = SteppedCapture()
    capture.orientation_deg = 90.0  # the fake refuses CAP_PROP_ORIENTATION_AUTO
    source = LiveFrameSource(lambda: capture, "tagged stream")
    capture.step()
    with source:
        frame = source.read(timeout_s=1.0)
        capture.finished.set()
    assert frame is not None and frame.image.shape == (6, 4, 3) and source.size == (4, 6)


# ------------------------------------------------------------- live: a real http stream


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@needs_ffmpeg
def test_http_url_streams_through_opencv_ffmpeg(tmp_path: Path) -> None:
    make_gray_clip(tmp_path / "clip.mp4", 50, fps="25")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        uri = f"http://viewer:s3cret@127.0.0.1:{port}/clip.mp4"
        with open_source(SourceConfig(uri=uri, open_timeout_s=10.0, reconnect_delay_s=0.05)) as source:
            frame = source.read(timeout_s=5.0)
            assert source.is_live and source.description == f"http://127.0.0.1:{port}/clip.mp4"
            assert frame is not None and frame.image.shape == (48, 64, 3) and source.size == (64, 48)
            assert source.fps == pytest.approx(25.0)
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------- real clips


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "frames", "fps", "size"),
    [
        ("navya_squat_form/correct/squat_correct_videoplayback.mp4", 195, 30000 / 1001, (202, 360)),
        ("kaiakol_exercises/squat/correct/squat_correct_001.avi", 49, 30.0, (1280, 720)),
    ],
)
def test_real_clip_every_frame_with_its_timestamp(
    relative: str, frames: int, fps: float, size: tuple[int, int]
) -> None:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} absent (../shared/data is only present in CI and the shared workspace)")
    with open_source(SourceConfig(uri=str(path))) as source:
        assert source.frame_count == frames and source.size == size
        assert source.fps == pytest.approx(fps, rel=1e-6)
        got = list(source)
    assert [f.index for f in got] == list(range(frames))
    assert [f.t_s for f in got] == pytest.approx([i / fps for i in range(frames)], abs=1e-3)
    assert all(f.image.shape == (size[1], size[0], 3) for f in got)
