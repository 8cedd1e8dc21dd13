"""GStreamer pipelines as a live source: `gst:<pipeline ending in appsink>`.

Why it exists: the opencv-python-headless wheels are built without GStreamer, and the
cameras a box really has are often only reachable through it — a Raspberry Pi camera
module on the libcamera stack (`libcamerasrc`) or a Jetson CSI camera
(`nvarguscamerasrc ! nvvidconv`). So we drive GStreamer ourselves through PyGObject
(`gi.repository.Gst`, `GstApp`) and hand each frame to the same newest-frame-only reader
as every other live source (`gymcorner.vision.live.LiveFrameSource`): `GstCapture` is
just one more cv2.VideoCapture-like object, so threading, dropping, timestamps and
reconnection with backoff are the ones the USB camera has.

What we impose on the user's pipeline, and why:

* the appsink's caps are narrowed to packed 8-bit RGB layouts (BGR first, so a
  `videoconvert` in front of the appsink produces what the pose backends eat without a
  copy); BGRx/BGRA/RGB/RGBx/RGBA are converted here. Caps the user put on the appsink
  are kept and intersected with ours, so an impossible combination fails at start-up.
* `max-buffers=1 drop=true`: GStreamer itself keeps only the newest frame, so a slow
  consumer never builds up latency inside the pipeline either.
* `sync=false`: the camera sets the pace; waiting on the clock only adds latency.

Failures follow design principle 5. At start, each is one line: PyGObject or the
GStreamer typelibs missing (what to install), a pipeline that does not parse
(GStreamer's own message), no appsink, a pipeline that cannot reach PLAYING or errors
before its first frame (the element's message: a missing camera, caps that do not
negotiate). While running, an error or end-of-stream on the bus is raised from
`read()`, which `LiveFrameSource` turns into "reconnecting" with that message as its
`problem`, and the pipeline is built anew after `reconnect_delay_s`.

Installing: `pip install 'gymcorner[gstreamer]'` builds PyGObject from PyPI against
Debian's libgirepository1.0-dev and libcairo2-dev (see tools/install_system_deps.sh);
it is pinned below 3.51 because later releases need girepository-2.0, which the glib of
Debian 12 / Raspberry Pi OS Bookworm lacks. On a Raspberry Pi or a Jetson the installer
instead creates the venv with `--system-site-packages`, so the distribution's
`python3-gi` (built for the system Python) is used.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sys
import time
from typing import Any

import cv2
import numpy as np

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.live import STREAM_READ_TIMEOUT_S, LiveFrameSource
from gymcorner.vision.sources import FrameSource, register_source_kind, sane_fps

logger = logging.getLogger(__name__)

URI_PREFIX = "gst:"
# Packed 8-bit layouts we read, in order of preference: BGR needs no conversion.
# value: (bytes per pixel, channel indices that give B, G, R)
PIXEL_LAYOUTS: dict[str, tuple[int, tuple[int, int, int]]] = {
    "BGR": (3, (0, 1, 2)),
    "BGRx": (4, (0, 1, 2)),
    "BGRA": (4, (0, 1, 2)),
    "RGB": (3, (2, 1, 0)),
    "RGBx": (4, (2, 1, 0)),
    "RGBA": (4, (2, 1, 0)),
}
APPSINK_CAPS = f"video/x-raw,format=(string){{{','.join(PIXEL_LAYOUTS)}}}"
PULL_SLICE_S = 0.1  # how often a wait for a sample looks at the bus for errors
INSTALL_HINT = (
    "install PyGObject and GStreamer: `pip install 'gymcorner[gstreamer]'` after "
    "`apt install libgirepository1.0-dev libcairo2-dev gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 "
    "gstreamer1.0-plugins-base` (tools/install_system_deps.sh does it); on a Raspberry Pi or Jetson, "
    "apt install python3-gi and create the venv with --system-site-packages"
)


def _keep_cxx_exceptions_working() -> None:
    """Put libgcc_s's unwinder first in the global symbol scope, before GStreamer's libunwind.

    Debian's libgstreamer links libunwind, and gi loads typelib libraries RTLD_GLOBAL, so
    `_Unwind_Resume` from libunwind would then win over libgcc_s's for every C++ module
    loaded later (pybind11 extensions: matplotlib, LiteRT, MediaPipe); the first C++
    exception such a module throws then aborts the process. Loading libgcc_s globally
    first keeps the unwinder that those modules were built against.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libgcc_s.so.1", mode=os.RTLD_GLOBAL)
    except OSError as err:  # a musl system has no libgcc_s; nothing to protect there
        logger.debug("libgcc_s not loaded globally: %s", err)


@functools.cache
def load_gst() -> tuple[Any, Any, Any]:
    """(Gst, GstApp, GLib), initialised once; `SourceError` saying what to install otherwise."""
    _keep_cxx_exceptions_working()
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstApp", "1.0")
        from gi.repository import GLib, Gst, GstApp
    except ImportError as err:
        raise SourceError(f"gst: source needs PyGObject ({err}); {INSTALL_HINT}", Reason.DEPENDENCY_MISSING) from err
    except ValueError as err:  # gi is there but the Gst / GstApp typelibs are not
        raise SourceError(f"gst: source needs GStreamer's typelibs ({err}); {INSTALL_HINT}",
                          Reason.DEPENDENCY_MISSING) from err  # fmt: skip
    ok, _ = Gst.init_check(None)
    if not ok:
        raise SourceError("gst: GStreamer failed to initialise", Reason.DEPENDENCY_MISSING)
    return Gst, GstApp, GLib


def pipeline_text(uri: str) -> str:
    """The pipeline description of a `gst:` uri; `SourceError` when it is empty."""
    text = uri[len(URI_PREFIX) :].strip() if uri.lower().startswith(URI_PREFIX) else uri.strip()
    if not text:
        raise SourceError("gst: source has no pipeline (gst:<elements> ! appsink)", Reason.CONFIG_INVALID)
    return text


def build_pipeline(description: str) -> tuple[Any, Any]:
    """(pipeline, appsink) parsed and configured, still in state NULL.

    Raises `SourceError` with GStreamer's own message when the text does not parse, and
    when there is no appsink, several, or the appsink's caps exclude every layout we read.
    """
    Gst, GstApp, GLib = load_gst()
    try:
        element = Gst.parse_launch(description)
    except GLib.Error as err:
        raise SourceError(f"GStreamer pipeline does not parse: {err.message}", Reason.CONFIG_INVALID) from err
    if isinstance(element, Gst.Pipeline):
        pipeline = element
    else:  # a single element parses to itself, not to a pipeline
        pipeline = Gst.Pipeline.new(None)
        pipeline.add(element)
    sinks = [e for e in _elements(Gst, pipeline) if isinstance(e, GstApp.AppSink)]
    if not sinks:
        raise SourceError(
            "GStreamer pipeline has no appsink (end it with `! videoconvert ! appsink`)",
            Reason.CONFIG_INVALID,
        )
    if len(sinks) > 1:
        named = [s for s in sinks if s.get_name() == "gymcorner"]
        if len(named) != 1:
            raise SourceError(
                f"GStreamer pipeline has {len(sinks)} appsinks; name the one to read `appsink name=gymcorner`",
                Reason.CONFIG_INVALID,
            )
        sinks = named
    sink = sinks[0]
    ours = Gst.Caps.from_string(APPSINK_CAPS)
    theirs = sink.get_property("caps")
    caps = ours if theirs is None or theirs.is_any() else theirs.intersect(ours)
    if caps.is_empty():
        raise SourceError(
            f"appsink caps {theirs.to_string()} allow none of the formats we read ({', '.join(PIXEL_LAYOUTS)})",
            Reason.CONFIG_INVALID,
        )
    sink.set_property("caps", caps)
    sink.set_property("max-buffers", 1)
    sink.set_property("drop", True)
    sink.set_property("sync", False)
    sink.set_property("emit-signals", False)
    return pipeline, sink


def _elements(Gst: Any, pipeline: Any) -> list[Any]:
    """Every element inside the pipeline, recursively (without gst-python's iterator override)."""
    found: list[Any] = []
    iterator = pipeline.iterate_recurse()
    while True:
        result, element = iterator.next()
        if result == Gst.IteratorResult.OK:
            found.append(element)
        elif result == Gst.IteratorResult.RESYNC:
            iterator.resync()
            found.clear()
        else:
            return found


def check_pipeline(uri: str) -> None:
    """Start-up check without touching a camera: PyGObject there, pipeline parses, one appsink."""
    pipeline, _ = build_pipeline(pipeline_text(uri))
    pipeline.set_state(load_gst()[0].State.NULL)


def to_bgr(data: bytes, width: int, height: int, layout: str) -> np.ndarray:
    """A writable (height, width, 3) BGR uint8 copy of one packed frame, row padding removed."""
    if layout not in PIXEL_LAYOUTS:
        raise SourceError(
            f"appsink delivered {layout}, not one of {', '.join(PIXEL_LAYOUTS)}", Reason.SOURCE_UNREADABLE
        )
    bytes_per_pixel, order = PIXEL_LAYOUTS[layout]
    row_bytes = width * bytes_per_pixel
    if height <= 0 or len(data) % height or len(data) // height < row_bytes:
        raise SourceError(f"a {width}x{height} {layout} frame cannot be {len(data)} bytes", Reason.SOURCE_UNREADABLE)
    stride = len(data) // height  # GStreamer pads rows (to 4 bytes by default)
    rows = np.frombuffer(data, np.uint8).reshape(height, stride)[:, :row_bytes]
    pixels = rows.reshape(height, width, bytes_per_pixel)
    return np.ascontiguousarray(pixels[:, :, list(order)])


class GstCapture:
    """One run of the pipeline, shaped like the part of cv2.VideoCapture `LiveFrameSource` uses.

    The constructor starts the pipeline and waits for the first frame, so a pipeline that
    cannot start fails there with the element's message; `read()` raises `SourceError`
    when the bus reports an error or the stream ends, and `release()` sets it to NULL.
    """

    def __init__(self, description: str, start_timeout_s: float, read_timeout_s: float = STREAM_READ_TIMEOUT_S):
        self._Gst = load_gst()[0]
        self._read_timeout_s = read_timeout_s
        self._pipeline, self._sink = build_pipeline(description)
        self._fps: float | None = None
        self._pending: np.ndarray | None = None
        self._error: str | None = None  # the first error the bus reported
        try:
            self._start(start_timeout_s)
        except BaseException:
            self.release()
            raise

    def _start(self, timeout_s: float) -> None:
        Gst = self._Gst
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self._poll_bus()
            raise SourceError(f"GStreamer pipeline cannot start: {self._error or 'state change failed'}",
                              Reason.SOURCE_NOT_FOUND)  # fmt: skip
        sample = self._pull(timeout_s)
        if sample is None:
            raise SourceError(f"GStreamer pipeline gave no first frame: {self._why_no_sample(timeout_s)}",
                              Reason.SOURCE_NOT_FOUND)  # fmt: skip
        self._pending = self._image(sample)

    def isOpened(self) -> bool:
        return self._pipeline is not None

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self._pending is not None:
            image, self._pending = self._pending, None
            return True, image
        sample = self._pull(self._read_timeout_s)
        if sample is None:
            raise SourceError(self._why_no_sample(self._read_timeout_s), Reason.SOURCE_LOST)
        return True, self._image(sample)

    def set(self, prop_id: int, value: float) -> bool:
        return False  # size and rate are the pipeline's caps, not properties

    def get(self, prop_id: int) -> float:
        if prop_id == cv2.CAP_PROP_FPS and self._fps is not None:
            return self._fps
        return 0.0

    def release(self) -> None:
        if self._pipeline is not None:
            self._pipeline.set_state(self._Gst.State.NULL)
            self._pipeline = self._sink = None

    # -- inside -----------------------------------------------------------------------

    def _pull(self, timeout_s: float) -> Any:
        """The next sample, or None on timeout, end of stream or an error on the bus."""
        slice_ns = int(PULL_SLICE_S * self._Gst.SECOND)
        deadline = time.monotonic() + timeout_s
        while True:
            sample = self._sink.try_pull_sample(slice_ns)
            self._poll_bus()
            if self._error is not None:  # the pipeline is broken, whatever is still queued
                return None
            if sample is not None:
                return sample
            if self._sink.is_eos() or time.monotonic() >= deadline:
                return None

    def _image(self, sample: Any) -> np.ndarray:
        structure = sample.get_caps().get_structure(0)
        _, width = structure.get_int("width")
        _, height = structure.get_int("height")
        has_rate, num, den = structure.get_fraction("framerate")
        if has_rate and den:
            self._fps = sane_fps(num / den)
        buffer = sample.get_buffer()
        return to_bgr(buffer.extract_dup(0, buffer.get_size()), width, height, structure.get_string("format"))

    def _why_no_sample(self, timeout_s: float) -> str:
        self._poll_bus()
        if self._error is not None:
            return self._error
        if self._sink.is_eos():
            return "end of stream"
        return f"no frame within {timeout_s:g} s"

    def _poll_bus(self) -> None:
        """Empty the bus (nobody runs a GLib main loop here, so messages would pile up),
        keeping the first error as one line and logging warnings."""
        Gst = self._Gst
        bus = self._pipeline.get_bus()
        while (message := bus.pop()) is not None:
            if message.type == Gst.MessageType.ERROR and self._error is None:
                error, debug = message.parse_error()
                self._error = f"{message.src.get_name()}: {error.message}"
                if debug and "not-negotiated" in debug:
                    self._error += " (caps did not negotiate: put videoconvert before the appsink)"
            elif message.type == Gst.MessageType.WARNING:
                warning, _ = message.parse_warning()
                logger.warning("GStreamer %s: %s", message.src.get_name(), warning.message)


@register_source_kind("gst")
def _make_gst_source(uri: str, config: SourceConfig) -> FrameSource:
    description = pipeline_text(uri)
    return LiveFrameSource(
        lambda: GstCapture(description, start_timeout_s=config.open_timeout_s),
        f"gst:{description}",
        width=config.width,
        height=config.height,
        fps=config.fps,
        open_timeout_s=config.open_timeout_s,
        reconnect_delay_s=config.reconnect_delay_s,
        open_failure_reason=Reason.SOURCE_NOT_FOUND,
        precheck=lambda: check_pipeline(uri),
    )
