"""The GStreamer source against real GStreamer: videotestsrc pipelines through PyGObject.

Frames arrive BGR with the pipeline's shape, only the newest is kept, the reader thread
is joined on close, broken pipelines fail at start with one line, and a stream that ends
or errors mid-run is reported and rebuilt. Where PyGObject or GStreamer is missing the
tests skip with what to install, except in CI (CI=true), where that is a failure: the
install step (make system-deps, the gstreamer extra) must have provided them.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.sources import FrameTimeout, SourceState, open_source, source_kind

try:
    from gymcorner.vision import gst_source

    gst_source.load_gst()
    GST_MISSING: str | None = None
except SourceError as err:
    GST_MISSING = str(err)


@pytest.fixture(autouse=True)
def _needs_gstreamer() -> None:
    if GST_MISSING is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must have GStreamer and PyGObject installed: {GST_MISSING}")
    pytest.skip(GST_MISSING)


CAPS = "video/x-raw,width=320,height=240,framerate=30/1"
BALL = f"gst:videotestsrc is-live=true pattern=ball ! {CAPS} ! videoconvert ! appsink"


def wait_until(condition: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Poll for a state the reader thread reaches (a bound on waiting, not an assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.005)


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("source:gst:")]


# ------------------------------------------------------------------------- streaming


def test_gst_uri_is_its_own_kind() -> None:
    assert source_kind(BALL) == "gst"
    assert source_kind("GST:videotestsrc ! appsink") == "gst"
    assert source_kind("gst_clip.mp4") == "file"


def test_frames_arrive_bgr_with_the_pipeline_shape_and_monotonic_times() -> None:
    before = time.monotonic()
    with open_source(SourceConfig(uri=BALL)) as source:
        frames = [source.read(timeout_s=5.0) for _ in range(5)]
        assert source.is_live and source.state is SourceState.STREAMING
        assert source.size == (320, 240) and source.fps == pytest.approx(30.0)
    assert all(f is not None for f in frames)
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    assert all(f.image.flags.writeable and f.image.flags.c_contiguous for f in frames)
    times = [f.t_s for f in frames]
    assert before <= times[0] and all(b > a for a, b in itertools.pairwise(times)) and times[-1] <= time.monotonic()
    assert [f.index for f in frames] == sorted({f.index for f in frames})


@pytest.mark.parametrize(("layout", "order"), [("BGR", (0, 1, 2)), ("RGBx", (2, 1, 0)), ("BGRA", (0, 1, 2))])
def test_colours_come_out_bgr_whatever_layout_the_pipeline_delivers(layout: str, order: tuple[int, ...]) -> None:
    # A solid red test picture (0xff0000ff is ARGB red); 322 wide so BGR rows are padded to 4 bytes.
    uri = (f"gst:videotestsrc pattern=solid-color foreground-color=0xffff0000 ! "
           f"video/x-raw,format={layout},width=322,height=10 ! appsink")  # fmt: skip
    with open_source(SourceConfig(uri=uri)) as source:
        frame = source.read(timeout_s=5.0)
    assert frame is not None and frame.image.shape == (10, 322, 3)
    blue, green, red = (int(v) for v in frame.image.reshape(-1, 3).mean(axis=0))
    assert (blue, green, red) == (0, 0, 255)


def test_only_the_newest_frame_is_kept() -> None:
    with open_source(SourceConfig(uri=BALL)) as source:
        wait_until(lambda: source.stats().grabbed_frames >= 4)  # nobody reads meanwhile
        first = source.read(timeout_s=5.0)
        stats = source.stats()
        second = source.read(timeout_s=5.0)
    assert first is not None and second is not None
    assert first.index >= 3 and second.index > first.index
    assert stats.dropped_frames >= 3 and stats.delivered_frames == 1


def test_appsink_is_set_to_hold_one_frame_and_drop() -> None:
    pipeline, sink = gst_source.build_pipeline(f"videotestsrc ! {CAPS} ! videoconvert ! appsink")
    try:
        assert sink.get_property("max-buffers") == 1 and sink.get_property("drop") is True
        assert sink.get_property("caps").to_string().startswith("video/x-raw, format=(string){ BGR,")
    finally:
        pipeline.set_state(gst_source.load_gst()[0].State.NULL)


def test_close_joins_the_reader_and_stops_the_pipeline() -> None:
    captures: list[gst_source.GstCapture] = []

    def open_capture() -> gst_source.GstCapture:
        captures.append(gst_source.GstCapture(BALL.removeprefix("gst:"), start_timeout_s=5.0))
        return captures[-1]

    from gymcorner.vision.live import LiveFrameSource

    source = LiveFrameSource(open_capture, "gst:ball")
    source.open()
    assert source.read(timeout_s=5.0) is not None
    source.close()
    assert not reader_threads()
    assert len(captures) == 1 and not captures[0].isOpened()
    assert source.state is SourceState.CLOSED and source.read(timeout_s=0.01) is None


# --------------------------------------------------------------- failing at start-up


@pytest.mark.parametrize(
    ("uri", "reason", "message"),
    [
        ("gst:videotestsrc ! nosuchelement ! appsink", Reason.CONFIG_INVALID,
         'GStreamer pipeline does not parse: no element "nosuchelement"'),
        ("gst:videotestsrc ! ! appsink", Reason.CONFIG_INVALID, "GStreamer pipeline does not parse: syntax error"),
        ("gst:videotestsrc ! videoconvert ! fakesink", Reason.CONFIG_INVALID,
         "GStreamer pipeline has no appsink (end it with `! videoconvert ! appsink`)"),
        ("gst:   ", Reason.CONFIG_INVALID, "gst: source has no pipeline (gst:<elements> ! appsink)"),
        ("gst:videotestsrc ! appsink caps=video/x-raw,format=NV12", Reason.CONFIG_INVALID,
         "appsink caps video/x-raw, format=(string)NV12 allow none of the formats we read (BGR, BGRx, BGRA, RGB, RGBx, RGBA)"),
    ],
)  # fmt: skip
def test_bad_pipelines_fail_with_one_line_before_any_thread(uri: str, reason: Reason, message: str) -> None:
    with pytest.raises(SourceError) as info:
        open_source(SourceConfig(uri=uri))
    assert info.value.reason is reason and str(info.value) == message
    assert not reader_threads()


def test_several_appsinks_need_the_one_to_read_named() -> None:
    two = "videotestsrc ! videoconvert ! tee name=t ! queue ! appsink t. ! queue ! appsink"
    with pytest.raises(SourceError, match="has 2 appsinks; name the one to read `appsink name=gymcorner`"):
        gst_source.build_pipeline(two)
    pipeline, sink = gst_source.build_pipeline(
        two.replace("! queue ! appsink t.", "! queue ! appsink name=gymcorner t.")
    )
    pipeline.set_state(gst_source.load_gst()[0].State.NULL)
    assert sink.get_name() == "gymcorner"


@pytest.mark.parametrize("missing", ["gi", "typelib"])
def test_without_pygobject_or_gstreamer_one_line_says_what_to_install(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if missing == "gi":
        monkeypatch.setitem(sys.modules, "gi", None)  # `import gi` raises ImportError
    else:
        import gi

        def no_typelib(namespace: str, version: str) -> None:
            raise ValueError(f"Namespace {namespace} not available")

        monkeypatch.setattr(gi, "require_version", no_typelib)
    gst_source.load_gst.cache_clear()
    try:
        with pytest.raises(SourceError) as info:
            open_source(SourceConfig(uri=BALL))
    finally:
        gst_source.load_gst.cache_clear()
    message = str(info.value)
    assert info.value.reason is Reason.DEPENDENCY_MISSING and "\n" not in message
    assert message.startswith(
        "gst: source needs PyGObject (" if missing == "gi" else "gst: source needs GStreamer's typelibs ("
    )
    assert "pip install 'gymcorner[gstreamer]'" in message and "gir1.2-gstreamer-1.0" in message
    assert "--system-site-packages" in message and not reader_threads()


@pytest.mark.parametrize(
    ("pipeline", "why"),
    [
        # the stand-in for a camera that is not there: the source element cannot start
        ("filesrc location=/nonexistent/camera ! decodebin ! videoconvert ! appsink",
         'GStreamer pipeline cannot start: filesrc0: Resource not found.'),
        ("videotestsrc ! video/x-raw,format=NV12 ! appsink",
         ("GStreamer pipeline gave no first frame: videotestsrc0: Internal data stream error. "
          "(caps did not negotiate: put videoconvert before the appsink)")),
        ("videotestsrc num-buffers=0 ! videoconvert ! appsink", "GStreamer pipeline gave no first frame: end of stream"),
    ],
)  # fmt: skip
def test_a_pipeline_that_cannot_play_fails_at_start_with_the_elements_message(pipeline: str, why: str) -> None:
    uri = f"gst:{pipeline}"
    with pytest.raises(SourceError) as info:
        open_source(SourceConfig(uri=uri, open_timeout_s=5.0))
    assert info.value.reason is Reason.SOURCE_NOT_FOUND
    text = str(info.value)
    assert text.startswith(f"cannot open {uri}: ") and "\n" not in text
    # element names carry a per-process counter (filesrc0, filesrc3): compare without it
    assert _without_counters(text.removeprefix(f"cannot open {uri}: ")) == _without_counters(why)
    assert not reader_threads()


def _without_counters(text: str) -> str:
    import re

    return re.sub(r"\b([a-z]+)\d+:", r"\1:", text)


# ------------------------------------------------------------------- losing it mid-run


def test_end_of_stream_mid_run_is_reported_and_the_pipeline_rebuilt(caplog: pytest.LogCaptureFixture) -> None:
    uri = f"gst:videotestsrc is-live=true num-buffers=5 ! {CAPS} ! videoconvert ! appsink"
    caplog.set_level(logging.WARNING, logger="gymcorner.vision.live")
    with open_source(SourceConfig(uri=uri, reconnect_delay_s=0.05)) as source:
        wait_until(lambda: source.stats().reconnects >= 1)
        wait_until(lambda: (frame := source.read(timeout_s=5.0)) is not None and frame.index >= 5)
        assert source.state is SourceState.STREAMING
    assert any("lost (end of stream); retrying every 0.05 s" in r.getMessage() for r in caplog.records)
    assert any("back, streaming again" in r.getMessage() for r in caplog.records)
    assert not reader_threads()


def test_while_reconnecting_the_state_and_the_timeout_say_why() -> None:
    uri = f"gst:videotestsrc is-live=true num-buffers=3 ! {CAPS} ! videoconvert ! appsink"
    source = open_source(SourceConfig(uri=uri, reconnect_delay_s=60.0))  # it will not come back during the test
    try:
        wait_until(lambda: source.state is SourceState.RECONNECTING)
        assert source.problem == "end of stream"
        with contextlib.suppress(FrameTimeout):
            source.read(timeout_s=0.01)  # may still hold the last frame grabbed before the end
        with pytest.raises(FrameTimeout, match=r"\(reconnecting: end of stream\)"):
            source.read(timeout_s=0.05)
    finally:
        source.close()  # prompt even while the reader waits out its reconnect delay
    assert not reader_threads()


def test_an_error_on_the_bus_mid_run_is_a_loss_with_the_elements_message() -> None:
    Gst, _, GLib = gst_source.load_gst()
    captures: list[gst_source.GstCapture] = []

    def open_capture() -> gst_source.GstCapture:
        captures.append(gst_source.GstCapture(BALL.removeprefix("gst:"), start_timeout_s=5.0))
        return captures[-1]

    from gymcorner.vision.live import LiveFrameSource

    source = LiveFrameSource(open_capture, "gst:ball", reconnect_delay_s=0.05)
    with source:
        assert source.read(timeout_s=5.0) is not None
        first = captures[0]
        element = first._sink  # any element of the pipeline can post; a camera's source would
        error = GLib.Error.new_literal(Gst.ResourceError.quark(), "camera unplugged", int(Gst.ResourceError.READ))
        element.post_message(Gst.Message.new_error(element, error, "test"))
        wait_until(lambda: source.stats().reconnects >= 1)
        assert source.read(timeout_s=5.0) is not None
    assert len(captures) >= 2 and not first.isOpened()
    assert not reader_threads()


# ------------------------------------------------------------------------ conversion


def test_to_bgr_removes_row_padding_and_reorders_channels() -> None:
    width, height = 3, 2
    rgb = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)
    padded = np.zeros((height, 12), np.uint8)  # 9 bytes of pixels + 3 of padding a row
    padded[:, :9] = rgb.reshape(height, 9)
    bgr = gst_source.to_bgr(padded.tobytes(), width, height, "RGB")
    assert np.array_equal(bgr, rgb[:, :, ::-1])
    with pytest.raises(SourceError, match="cannot be 23 bytes"):
        gst_source.to_bgr(bytes(23), width, height, "RGB")
    with pytest.raises(SourceError, match="delivered NV12"):
        gst_source.to_bgr(bytes(24), width, height, "NV12")


# ---------------------------------------------------------------------------- doctor


def test_doctor_passes_a_pipeline_that_delivers() -> None:
    from gymcorner.commands.doctor import Status, check_camera
    from gymcorner.config import load_config

    uri = f"gst:videotestsrc ! {CAPS} ! videoconvert ! appsink"
    result = check_camera(load_config(None, {"source.uri": uri}))
    assert result.status is Status.PASS and result.detail == f"{uri} delivers 320x240 frames"


def test_doctor_on_a_broken_pipeline_names_gstreamers_message_and_the_source_for_each_board() -> None:
    from gymcorner.commands.doctor import Status, check_camera
    from gymcorner.config import load_config

    result = check_camera(load_config(None, {"source.uri": "gst:videotestsrc ! nosuchelement ! appsink"}))
    assert result.status is Status.FAIL and 'no element "nosuchelement"' in result.detail
    assert "gst-launch-1.0" in result.fix
    assert "Pi 5 / Pi 4 camera module: picamera2:0" in result.fix and "nvarguscamerasrc" in result.fix
    assert "USB webcam: 0 or /dev/video0" in result.fix


def test_cxx_modules_loaded_after_gstreamer_can_still_throw() -> None:
    """GStreamer drags in libunwind; without our guard, matplotlib's first C++ exception aborts."""
    code = ("import cv2\nfrom gymcorner.vision import gst_source\ngst_source.load_gst()\n"
            "import matplotlib.pyplot\nprint('alive')\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "alive", done.stderr[-2000:]
