"""Live frame sources (cameras, network streams): a reader thread that keeps only the newest frame.

A camera does not wait for us. If the consumer (pose inference) is slower than the
camera, a queue would grow and the coach would talk about a squat the person finished
seconds ago. So the reader thread writes into a single slot, overwriting a frame nobody
took (counted as dropped), and `read()` takes whatever is newest.

A lost device or stream is not fatal while running (design principle 5): the thread
releases it, waits `reconnect_delay_s`, and tries again for as long as the source is
open; `read()` times out meanwhile and `state` says "reconnecting". Only the first
connection must succeed, within `open_timeout_s`, or `open()` raises `SourceError`.

The capture is injected as a factory of cv2.VideoCapture-like objects, so the threading
is tested with fakes and no camera, and every other camera stack (GStreamer, picamera2)
plugs in as one more such object instead of a reader loop of its own. A capture that
knows why it failed raises from its factory or from `read()`; the message is kept as
`problem`, put into the start-up error and the "reconnecting" log line and timeout.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.sources import (
    Frame,
    FrameSource,
    FrameTimeout,
    SourceState,
    SourceStats,
    redact_uri,
    register_source_kind,
    sane_fps,
    upright_rotation,
)

logger = logging.getLogger(__name__)

STREAM_READ_TIMEOUT_S = 3.0  # FFmpeg gives up on a silent stream after this; we then reconnect
JOIN_TIMEOUT_S = 5.0  # close() waits this long for a reader stuck inside a driver call


class CaptureLike(Protocol):
    """The part of cv2.VideoCapture a live source uses."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def set(self, prop_id: int, value: float) -> bool: ...

    def get(self, prop_id: int) -> float: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[], CaptureLike]


class LiveFrameSource(FrameSource):
    """Newest-frame-only reader over any capture factory, with reconnection."""

    is_live = True

    def __init__(
        self,
        open_capture: CaptureFactory,
        description: str,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        open_timeout_s: float = 10.0,
        reconnect_delay_s: float = 2.0,
        open_failure_reason: Reason = Reason.SOURCE_UNREADABLE,
        precheck: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_capture = open_capture
        self._description = description
        self._requested = {cv2.CAP_PROP_FRAME_WIDTH: width, cv2.CAP_PROP_FRAME_HEIGHT: height, cv2.CAP_PROP_FPS: fps}
        self._requested_fps = fps
        self._open_timeout_s = open_timeout_s
        self._reconnect_delay_s = reconnect_delay_s
        self._open_failure_reason = open_failure_reason
        self._precheck = precheck
        self._clock = clock
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._first_frame = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_opened = False
        self._reset()

    def _reset(self) -> None:
        self._state = SourceState.CLOSED
        self._slot: Frame | None = None
        self._open_error: SourceError | None = None
        self._problem: str | None = None  # why the last open or read failed, as the capture said
        self._started = False  # a first frame has arrived
        self._grabbed = self._delivered = self._dropped = self._reconnects = 0
        self._fps: float | None = self._requested_fps
        self._size: tuple[int, int] | None = None
        self._rotate_code: int | None = None

    # -- properties -----------------------------------------------------------------

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def size(self) -> tuple[int, int] | None:
        return self._size

    @property
    def description(self) -> str:
        return self._description

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def problem(self) -> str | None:
        """Why the last attempt to open or read failed ("end of stream", a driver's message)."""
        return self._problem

    def stats(self) -> SourceStats:
        with self._cond:
            return SourceStats(self._grabbed, self._delivered, self._dropped, self._reconnects)

    # -- consumer side --------------------------------------------------------------

    def open(self) -> None:
        if self._thread is not None:
            return
        if self._precheck is not None:
            self._precheck()
        self._reset()
        self._stop.clear()
        self._first_frame.clear()
        self._state = SourceState.OPENING
        self._thread = threading.Thread(target=self._run, name=f"source:{self._description}", daemon=True)
        self._thread.start()
        arrived = self._first_frame.wait(self._open_timeout_s)
        if arrived and self._open_error is None:
            self._was_opened = True
            width, height = self._size or (0, 0)
            logger.info("%s: streaming %dx%d at %s fps", self._description, width, height, self._fps)
            return
        error = self._open_error or SourceError(
            f"no frame from {self._description} within {self._open_timeout_s:g} s", Reason.SOURCE_UNREADABLE
        )
        self.close()
        raise error

    def read(self, timeout_s: float | None = None) -> Frame | None:
        """The newest frame not yet read; waits up to `timeout_s` (None: until one comes)."""
        with self._cond:
            if self._state is SourceState.CLOSED:
                if not self._was_opened:
                    raise RuntimeError(f"read() before open() on {self._description}")
                return None
            got = self._cond.wait_for(lambda: self._slot is not None or self._state is SourceState.CLOSED, timeout_s)
            if self._state is SourceState.CLOSED:
                return None
            if not got or self._slot is None:
                why = f": {self._problem}" if self._problem and self._state is SourceState.RECONNECTING else ""
                raise FrameTimeout(
                    f"no frame from {self._description} within {timeout_s:g} s ({self._state.value}{why})"
                )
            frame, self._slot = self._slot, None
            self._delivered += 1
            return frame

    def close(self) -> None:
        """Stop the reader and wait for it; the reader releases the device itself."""
        self._stop.set()
        with self._cond:
            self._state = SourceState.CLOSED
            self._slot = None
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                logger.warning("%s: reader still blocked in the driver; it will exit on its own", self._description)

    # -- reader thread --------------------------------------------------------------

    def _run(self) -> None:
        capture: CaptureLike | None = None
        try:
            while not self._stop.is_set():
                if capture is None:
                    capture = self._connect()
                    if capture is None:
                        if not self._started:
                            self._fail_start(f"cannot open {self._description}{self._why()}", self._open_failure_reason)
                            return
                        self._stop.wait(self._reconnect_delay_s)
                        continue
                image = self._grab(capture)
                if self._stop.is_set():
                    break
                if image is None:
                    capture.release()
                    capture = None
                    if not self._started:
                        self._fail_start(
                            f"{self._description} opened but delivered no frame{self._why()}", Reason.SOURCE_UNREADABLE
                        )
                        return
                    self._mark_lost()
                    self._stop.wait(self._reconnect_delay_s)
                    continue
                self._publish(image)
        finally:
            if capture is not None:
                capture.release()

    def _connect(self) -> CaptureLike | None:
        """Open and configure one capture; None when the device or stream is not there (yet)."""
        try:
            capture = self._open_capture()
            if not capture.isOpened():
                capture.release()
                return None
            for prop, value in self._requested.items():
                if value is not None and not capture.set(prop, float(value)):
                    logger.debug("%s: driver ignored property %d = %s", self._description, prop, value)
            self._fps = sane_fps(capture.get(cv2.CAP_PROP_FPS)) or self._requested_fps
            self._rotate_code = upright_rotation(capture)
            return capture
        except Exception as err:  # driver errors (cv2.error, OSError) are a failed attempt, not a crash
            logger.debug("%s: open failed: %s", self._description, err)
            self._problem = str(err) or type(err).__name__
            return None

    def _grab(self, capture: CaptureLike) -> np.ndarray | None:
        try:
            ok, image = capture.read()
            if not ok or image is None or image.size == 0:
                return None
            return image if self._rotate_code is None else cv2.rotate(image, self._rotate_code)
        except Exception as err:  # a driver error mid-stream is a loss, handled by reconnecting
            logger.debug("%s: read failed: %s", self._description, err)
            self._problem = str(err) or type(err).__name__
            return None

    def _publish(self, image: np.ndarray) -> None:
        t_s = self._clock()
        with self._cond:
            if self._stop.is_set():
                return
            if self._slot is not None:
                self._dropped += 1
            self._slot = Frame(index=self._grabbed, t_s=t_s, image=image)
            self._grabbed += 1
            self._size = (image.shape[1], image.shape[0])
            if self._state is SourceState.RECONNECTING:
                self._reconnects += 1
                self._problem = None
                logger.warning("%s: back, streaming again", self._description)
            self._state = SourceState.STREAMING
            self._cond.notify_all()
        if not self._started:
            self._started = True
            self._warn_if_not_requested_size()
            self._first_frame.set()

    def _mark_lost(self) -> None:
        with self._cond:
            if self._stop.is_set() or self._state is SourceState.RECONNECTING:
                return
            self._state = SourceState.RECONNECTING
        why = f" ({self._problem})" if self._problem else ""
        logger.warning("%s lost%s; retrying every %g s", self._description, why, self._reconnect_delay_s)

    def _why(self) -> str:
        return f": {self._problem}" if self._problem else ""

    def _fail_start(self, message: str, reason: Reason) -> None:
        self._open_error = SourceError(message, reason)
        self._first_frame.set()

    def _warn_if_not_requested_size(self) -> None:
        width = self._requested[cv2.CAP_PROP_FRAME_WIDTH]
        height = self._requested[cv2.CAP_PROP_FRAME_HEIGHT]
        if self._size is None or (width is None and height is None):
            return
        if (width is not None and width != self._size[0]) or (height is not None and height != self._size[1]):
            logger.warning("%s: delivers %dx%d, not the requested %sx%s", self._description, *self._size, width, height)


# ---------------------------------------------------------------------- registry


def _camera_device_path(uri: str) -> str:
    return f"/dev/video{int(uri)}" if uri.isdigit() else uri


def _check_camera_present(uri: str) -> None:
    """Fail at once with a clear line instead of letting OpenCV probe a missing device."""
    if not sys.platform.startswith("linux"):
        return
    path = _camera_device_path(uri)
    name = f"camera {uri}" if uri.isdigit() else "camera"
    if not os.path.exists(path):
        detail = f"no {path}" if uri.isdigit() else f"{path} does not exist"
        raise SourceError(f"{name} not found ({detail})", Reason.SOURCE_NOT_FOUND)
    if not os.access(path, os.R_OK | os.W_OK):
        raise SourceError(
            f"{name}: permission denied on {path} (is the user in group 'video'?)", Reason.SOURCE_UNREADABLE
        )


@register_source_kind("camera")
def _make_camera_source(uri: str, config: SourceConfig) -> FrameSource:
    device: int | str = int(uri) if uri.isdigit() else uri
    linux_v4l2 = sys.platform.startswith("linux") and cv2.videoio_registry.hasBackend(cv2.CAP_V4L2)
    api = cv2.CAP_V4L2 if linux_v4l2 else cv2.CAP_ANY
    return LiveFrameSource(
        lambda: cv2.VideoCapture(device, api),
        f"camera {uri}",
        width=config.width,
        height=config.height,
        fps=config.fps,
        open_timeout_s=config.open_timeout_s,
        reconnect_delay_s=config.reconnect_delay_s,
        open_failure_reason=Reason.SOURCE_UNREADABLE,  # the device node exists (precheck) but will not open
        precheck=lambda: _check_camera_present(uri),
    )


@register_source_kind("url")
def _make_url_source(uri: str, config: SourceConfig) -> FrameSource:
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(config.open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(STREAM_READ_TIMEOUT_S * 1000),
    ]  # fmt: skip
    return LiveFrameSource(
        lambda: cv2.VideoCapture(uri, cv2.CAP_FFMPEG, params),
        redact_uri(uri),
        open_timeout_s=config.open_timeout_s,
        reconnect_delay_s=config.reconnect_delay_s,
        open_failure_reason=Reason.SOURCE_NOT_FOUND,
    )
