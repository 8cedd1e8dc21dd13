"""Frame sources: one interface over video files, cameras and network streams.

Every source hands out `Frame`s that carry their own timestamp, so the pure core never
reads a clock. Files deliver every frame in order (analysis must be reproducible);
live sources deliver only the newest frame (a coach that lags behind the person is
useless) — see `gymcorner.vision.live`.

Sources are chosen by the shape of the configured uri through a small registry
(`register_source_kind`), like the pose backends: a camera index or /dev/videoN, a URL,
a file, or a `kind:` prefix for the cameras OpenCV cannot open (`gst:<pipeline>` for
GStreamer, e.g. a Jetson CSI camera; `picamera2:<index>` for a Raspberry Pi camera
module). Start-up failures raise `SourceError` with a one-line message and a `Reason`, so
the CLI can print it and exit.
"""

from __future__ import annotations

import abc
import enum
import importlib
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import cv2
import numpy as np

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError

logger = logging.getLogger(__name__)

URL_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded picture, upright, with the time it stands for.

    `t_s` is the video's own timestamp for files and `time.monotonic()` at grab for live
    sources; `index` counts decoded frames from 0 (gaps on a live source are drops).
    """

    index: int
    t_s: float
    image: np.ndarray  # BGR uint8, (height, width, 3)


class SourceState(str, enum.Enum):
    """What a source is doing, for the status topic ("camera lost, retrying")."""

    CLOSED = "closed"
    OPENING = "opening"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


@dataclass(frozen=True)
class SourceStats:
    grabbed_frames: int = 0  # decoded by the source
    delivered_frames: int = 0  # handed to the consumer by read()
    dropped_frames: int = 0  # replaced by a newer frame before anyone read them (live only)
    reconnects: int = 0  # successful reopenings after a loss (live only)


class FrameTimeout(SourceError, TimeoutError):
    """read() got no frame in time from a live source; it keeps retrying in the background."""

    reason = Reason.SOURCE_LOST


class FrameSource(abc.ABC):
    """The interface every frame source implements; also a context manager and an iterable."""

    is_live: ClassVar[bool] = False

    @abc.abstractmethod
    def open(self) -> None:
        """Open and check that a first frame arrives; raise `SourceError` otherwise. Idempotent."""

    @abc.abstractmethod
    def read(self, timeout_s: float | None = None) -> Frame | None:
        """The next frame; None when no frame will ever come (end of a file, source closed).

        Live sources raise `FrameTimeout` when `timeout_s` passes without a frame.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device or file; idempotent and prompt."""

    @property
    @abc.abstractmethod
    def fps(self) -> float | None:
        """Nominal frame rate (container or driver), None when a live source does not say."""

    @property
    @abc.abstractmethod
    def size(self) -> tuple[int, int] | None:
        """(width, height) of delivered, upright frames; known once open."""

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Human-readable name for logs and JSON; never contains credentials."""

    @property
    @abc.abstractmethod
    def state(self) -> SourceState: ...

    @abc.abstractmethod
    def stats(self) -> SourceStats: ...

    @property
    def frame_count(self) -> int | None:
        """Frames in a file as the container states them; None for live sources."""
        return None

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        """Frames until the end; a live source waits through outages (read() shows them)."""
        self.open()
        while True:
            try:
                frame = self.read(timeout_s=1.0)
            except FrameTimeout:
                continue
            if frame is None:
                return
            yield frame

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description} {self.state.value}>"


# ---------------------------------------------------------------------------- registry

SourceFactory = Callable[[str, SourceConfig], FrameSource]

_REGISTRY: dict[str, SourceFactory] = {}
# Kinds implemented in their own module, imported on first use (threads, devices, decoders).
_LAZY_MODULES: dict[str, str] = {
    "file": "gymcorner.vision.file_source",
    "camera": "gymcorner.vision.live",
    "url": "gymcorner.vision.live",
    "gst": "gymcorner.vision.gst_source",
    "picamera2": "gymcorner.vision.picamera2_source",
}
# `kind:rest` uris without "//": the word before the colon names the kind.
PREFIX_KINDS = frozenset({"gst", "picamera2"})
URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*):(?!//)")


def register_source_kind(kind: str) -> Callable[[SourceFactory], SourceFactory]:
    def wrap(factory: SourceFactory) -> SourceFactory:
        _REGISTRY[kind] = factory
        return factory

    return wrap


def source_kind(uri: str) -> str:
    """ "url", "camera", "file" or a prefix kind ("gst", "picamera2"), from the uri alone (no I/O)."""
    prefix = _PREFIX.match(uri)
    if prefix and prefix.group(1).lower() in PREFIX_KINDS:
        return prefix.group(1).lower()
    match = URI_SCHEME.match(uri)
    if match:
        scheme = match.group(1).lower()
        if scheme in URL_SCHEMES:
            return "url"
        if scheme == "file":
            return "file"
        raise SourceError(
            f"unsupported source scheme {scheme!r} in {redact_uri(uri)} "
            f"(use a camera index, /dev/videoN, a video file, {'/'.join(sorted(URL_SCHEMES))}://, "
            f"gst:<pipeline ending in appsink> or picamera2:<index>)",
            Reason.CONFIG_INVALID,
        )
    if uri.isdigit() or uri.startswith("/dev/"):
        return "camera"
    return "file"


def create_source(config: SourceConfig, uri_override: str | None = None) -> FrameSource:
    """The source for the uri (override first), not yet opened."""
    uri = (uri_override if uri_override is not None else config.uri).strip()
    if not uri:
        raise SourceError("source.uri is empty", Reason.CONFIG_INVALID)
    kind = source_kind(uri)
    if kind not in _REGISTRY and kind in _LAZY_MODULES:
        importlib.import_module(_LAZY_MODULES[kind])
    return _REGISTRY[kind](uri, config)


def open_source(config: SourceConfig, uri_override: str | None = None) -> FrameSource:
    """Create and open the configured source; failures raise `SourceError` (fail loudly at start)."""
    source = create_source(config, uri_override)
    source.open()
    return source


# -------------------------------------------------------------------------- helpers

_SECRET_QUERY_KEYS = ("pass", "pwd", "token", "secret", "key", "auth", "sig", "user")


def redact_uri(uri: str) -> str:
    """The uri without user:password and with secret-looking query values masked."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable uri>"
    if not parts.scheme or not parts.netloc:
        return uri
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        masked = [(k, "***" if any(s in k.lower() for s in _SECRET_QUERY_KEYS) else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# cv2.rotate code that makes a frame upright for each OpenCV orientation angle
# (CAP_PROP_ORIENTATION_META is the clockwise angle the picture must be turned by).
UPRIGHT_ROTATION = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def orientation_deg(capture: Any) -> int:
    """The container's display rotation as OpenCV reports it (0, 90, 180 or 270)."""
    value = capture.get(cv2.CAP_PROP_ORIENTATION_META)
    if not math.isfinite(value):
        return 0
    angle = round(value) % 360
    return angle if angle in UPRIGHT_ROTATION else 0


def upright_rotation(capture: Any) -> int | None:
    """Let OpenCV rotate tagged videos; return the cv2.rotate code still needed, if any.

    OpenCV 4.11's FFmpeg backend reads the display matrix (ORIENTATION_META) but leaves
    ORIENTATION_AUTO off, so frames come out as stored; 4.12 and later turn it on by
    default. Turning it on makes OpenCV rotate every frame itself; we only rotate when a
    backend will not, so rotation happens once whichever OpenCV this is.
    """
    angle = orientation_deg(capture)
    if angle == 0:
        return None
    if capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1) and capture.get(cv2.CAP_PROP_ORIENTATION_AUTO) == 1:
        return None
    return UPRIGHT_ROTATION[angle]


def sane_fps(value: float) -> float | None:
    return float(value) if math.isfinite(value) and 0.0 < value <= 1000.0 else None
