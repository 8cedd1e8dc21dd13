"""Video files as a frame source: every frame, in order, with the video's own timestamps.

Analysis of a recording must be reproducible, so a file delivers every frame (a live
source keeps only the newest: `gymcorner.vision.live`). Registered as the `file` kind of
`gymcorner.vision.sources`, imported on first use.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import cv2
import numpy as np

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.decode_ahead import DecodeAhead
from gymcorner.vision.sources import (
    UPRIGHT_ROTATION,
    URI_SCHEME,
    Frame,
    FrameSource,
    SourceState,
    SourceStats,
    logger,
    orientation_deg,
    register_source_kind,
    sane_fps,
    upright_rotation,
)

DEFAULT_FILE_FPS = 30.0  # only used when a container states no usable frame rate
MAX_PACING_LAG_S = 0.5  # a paced file re-anchors instead of bursting after a stall

# A file is decoded by one FFmpeg thread: the decode-ahead thread already overlaps decoding
# with inference, and FFmpeg's own frame threads only add their frame buffers and their
# switching (1080p push-up_23: peak RSS 263 -> 233-236 MB with the shallower decode-ahead
# queue, ~1 ms less CPU a frame, the same fps within run-to-run noise).
FILE_DECODE_THREADS = 1


def _decode_params(backend: int) -> list[list[int]]:
    """`VideoCapture` open parameters for a file: one decoder thread (FFmpeg backend only)."""
    return [[cv2.CAP_PROP_N_THREADS, FILE_DECODE_THREADS]] if backend == cv2.CAP_FFMPEG else []




class VideoFileSource(FrameSource):
    """Every frame of a video file, in order, with the video's own timestamps.

    `realtime` paces delivery at the video's rate (a stand-in for a camera in demos);
    `loop` restarts at the end with timestamps and indices that keep increasing, so the
    core never sees time go backwards. `clock` and `sleep` are injectable for tests.
    """

    is_live = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        realtime: bool = False,
        loop: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._path = Path(path).expanduser()
        self._realtime = realtime
        self._loop = loop
        self._clock = clock
        self._sleep = sleep
        self._capture: Any = None
        self._state = SourceState.CLOSED
        self._was_opened = False
        self._fps = DEFAULT_FILE_FPS
        self._frame_count: int | None = None
        self._size: tuple[int, int] | None = None
        self._rotate_code: int | None = None
        self._pending: np.ndarray | None = None  # the first frame, decoded by open() as a check
        self._index = 0  # next frame's index, across loops
        self._pass_index = 0  # next frame's index within this pass over the file
        self._pass_offset_s = 0.0  # added to the video's timestamps on later loops
        self._last_pass_t_s: float | None = None
        self._last_t_s: float | None = None
        self._pace_origin: tuple[float, float] | None = None  # (clock, t_s) of the anchor frame

    @property
    def path(self) -> Path:
        return self._path

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def size(self) -> tuple[int, int] | None:
        return self._size

    @property
    def frame_count(self) -> int | None:
        return self._frame_count

    @property
    def description(self) -> str:
        return str(self._path)

    @property
    def state(self) -> SourceState:
        return self._state

    def stats(self) -> SourceStats:
        return SourceStats(grabbed_frames=self._index, delivered_frames=self._index)

    def open(self) -> None:
        if self._capture is not None:
            return
        self._check_file()
        self._state = SourceState.OPENING
        self._index = self._pass_index = 0
        self._pass_offset_s = 0.0
        self._last_pass_t_s = self._last_t_s = None
        self._pace_origin = None
        capture, first = self._open_capture()
        self._fps = sane_fps(capture.get(cv2.CAP_PROP_FPS)) or DEFAULT_FILE_FPS
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self._frame_count = int(count) if math.isfinite(count) and count > 0 else None
        self._capture, self._pending = DecodeAhead(capture), first  # decodes while the caller infers
        self._size = (first.shape[1], first.shape[0])
        self._state = SourceState.STREAMING
        self._was_opened = True
        logger.info(
            "video %s: %dx%d, %.3f fps, %s frames",
            self._path,
            *self._size,
            self._fps,
            self._frame_count if self._frame_count else "unknown",
        )

    def _check_file(self) -> None:
        path = self._path
        if not path.exists():
            raise SourceError(f"video file not found: {path}", Reason.SOURCE_NOT_FOUND)
        if path.is_dir():
            raise SourceError(f"cannot decode video: {path} (a directory)", Reason.SOURCE_UNREADABLE)
        if not os.access(path, os.R_OK):
            raise SourceError(f"cannot read video file: {path} (permission denied)", Reason.SOURCE_UNREADABLE)
        if path.stat().st_size == 0:
            raise SourceError(f"cannot decode video: {path} (empty file)", Reason.SOURCE_UNREADABLE)

    def _open_capture(self) -> tuple[Any, np.ndarray]:
        """A capture positioned after its first frame, and that frame, upright."""
        backend = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
        try:
            capture = cv2.VideoCapture(str(self._path), backend, *_decode_params(backend))
        except cv2.error as err:
            raise SourceError(f"cannot decode video: {self._path}", Reason.SOURCE_UNREADABLE) from err
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot decode video: {self._path}", Reason.SOURCE_UNREADABLE)
        # The coded size: with auto-rotation on, OpenCV reports the rotated (display) size.
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
        stored_size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        angle = orientation_deg(capture)
        self._rotate_code = upright_rotation(capture)
        ok, image = capture.read()
        if not ok or image is None or image.size == 0:
            capture.release()
            raise SourceError(
                f"cannot decode video: {self._path} (no frame could be decoded)", Reason.SOURCE_UNREADABLE
            )
        # A backend that claims to auto-rotate but hands out the stored shape did not rotate.
        if self._rotate_code is None and angle in (90, 270) and stored_size[0] != stored_size[1]:
            if (image.shape[1], image.shape[0]) == stored_size:
                self._rotate_code = UPRIGHT_ROTATION[angle]
        return capture, self._upright(image)

    def _upright(self, image: np.ndarray) -> np.ndarray:
        return image if self._rotate_code is None else cv2.rotate(image, self._rotate_code)

    def read(self, timeout_s: float | None = None) -> Frame | None:
        """The next frame in file order; `timeout_s` is unused (decoding a file does not wait)."""
        if self._state is SourceState.CLOSED and not self._was_opened:
            raise RuntimeError(f"read() before open() on {self.description}")
        if self._state in (SourceState.CLOSED, SourceState.ENDED):
            return None
        image = self._next_image()
        if image is None:
            self._state = SourceState.ENDED
            return None
        t_s = self._pass_offset_s + self._pass_timestamp_s()
        frame = Frame(index=self._index, t_s=t_s, image=image)
        self._index += 1
        self._pass_index += 1
        self._last_t_s = t_s
        if self._realtime:
            self._pace(t_s)
        return frame

    def _next_image(self) -> np.ndarray | None:
        if self._pending is not None:
            image, self._pending = self._pending, None
            return image
        ok, image = self._capture.read()
        if ok and image is not None:
            return self._upright(image)
        if not self._loop or self._pass_index == 0:
            return None
        return self._restart()

    def _restart(self) -> np.ndarray | None:
        """Reopen at the start (more reliable than seeking for every codec) and go on in time."""
        self._capture.release()
        self._capture = None
        try:
            capture, image = self._open_capture()
            self._capture = DecodeAhead(capture)
        except SourceError:
            logger.warning("video %s: cannot reopen for looping; ending", self._path)
            return None
        assert self._last_t_s is not None
        self._pass_offset_s = self._last_t_s + 1.0 / self._fps
        self._pass_index = 0
        self._last_pass_t_s = None
        return image

    def _pass_timestamp_s(self) -> float:
        """The container's timestamp when it is sane, otherwise index / fps; always increasing."""
        previous = self._last_pass_t_s
        pos_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        t_s = pos_ms / 1000.0 if math.isfinite(pos_ms) and pos_ms >= 0.0 else -1.0
        if t_s < 0.0 or (previous is not None and t_s <= previous):
            t_s = self._pass_index / self._fps
            if previous is not None and t_s <= previous:
                t_s = previous + 1.0 / self._fps
        self._last_pass_t_s = t_s
        return t_s

    def _pace(self, t_s: float) -> None:
        """Sleep until the frame is due, measured from the first paced frame."""
        now = self._clock()
        if self._pace_origin is None:
            self._pace_origin = (now, t_s)
            return
        origin_clock, origin_t_s = self._pace_origin
        delay_s = origin_clock + (t_s - origin_t_s) - now
        if delay_s > 0:
            self._sleep(delay_s)
        elif delay_s < -MAX_PACING_LAG_S:
            self._pace_origin = (now, t_s)  # the consumer stalled: do not burst to catch up

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._pending = None
        self._state = SourceState.CLOSED


def _file_path(uri: str) -> str:
    return unquote(urlsplit(uri).path) if URI_SCHEME.match(uri) else uri


@register_source_kind("file")
def _make_file_source(uri: str, config: SourceConfig) -> FrameSource:
    return VideoFileSource(_file_path(uri), realtime=config.realtime, loop=config.loop)
