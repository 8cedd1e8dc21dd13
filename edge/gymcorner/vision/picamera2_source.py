"""The Raspberry Pi camera module through picamera2: `picamera2:<camera index>`.

Why it exists: on a Pi 5 (and a Pi 4 on Bookworm) the camera module lives on the
libcamera stack, which cv2.VideoCapture cannot open. picamera2 is the Raspberry Pi's
own Python interface to libcamera; `Picamera2Capture` wraps it as one more
cv2.VideoCapture-like object, so the newest-frame-only reader thread, the monotonic
timestamps and the reconnection with backoff are `gymcorner.vision.live`'s, as for
every other live source.

Frames are asked for as picamera2's "RGB888", which despite its name lies in memory as
B, G, R per pixel — exactly the (height, width, 3) BGR uint8 the pose backends take, so
no conversion is made. Size and rate come from `[source] width/height/fps` (1280x720
unless both width and height are set; the camera's own rate unless fps is) and are set in
the configuration, since libcamera has no per-property setters.

picamera2 is not installable from PyPI in a usable form (it needs the libcamera Python
bindings built for the system), so Raspberry Pi OS's `python3-picamera2` package is used
and the venv is created with `--system-site-packages`; the import is guarded and a
missing module is one clear line at start-up. An unknown camera index is caught before
the camera is opened, from `Picamera2.global_camera_info()`.
"""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from gymcorner.config import SourceConfig
from gymcorner.errors import Reason, SourceError
from gymcorner.vision.live import LiveFrameSource
from gymcorner.vision.sources import FrameSource, register_source_kind

logger = logging.getLogger(__name__)

URI_PREFIX = "picamera2:"
DEFAULT_SIZE = (1280, 720)  # picamera2's own video default, plenty for BlazePose
STREAM = "main"
INSTALL_HINT = "on Raspberry Pi OS install python3-picamera2 and create the venv with --system-site-packages"


def load_picamera2() -> Any:
    """The `Picamera2` class; `SourceError` saying what to install when it cannot be imported."""
    try:
        from picamera2 import Picamera2
    except ImportError as err:  # also libcamera's bindings missing underneath it
        raise SourceError(f"picamera2 not importable ({err}): {INSTALL_HINT}", Reason.DEPENDENCY_MISSING) from err
    return Picamera2


def camera_index(uri: str) -> int:
    """The camera number of `picamera2:N` (`picamera2:` alone is camera 0)."""
    text = uri[len(URI_PREFIX) :].strip() if uri.lower().startswith(URI_PREFIX) else uri.strip()
    if not text:
        return 0
    if not text.isdigit():
        raise SourceError(f"picamera2 source wants a camera index (picamera2:0), not {text!r}", Reason.CONFIG_INVALID)
    return int(text)


def cameras(picamera2_class: Any) -> list[str]:
    """The models libcamera lists, in camera-index order ("imx708", ...)."""
    return [str(info.get("Model", "unknown")) for info in picamera2_class.global_camera_info()]


def check_camera_listed(index: int) -> None:
    """Start-up check: picamera2 importable and libcamera lists camera `index`."""
    models = cameras(load_picamera2())
    if index < len(models):
        return
    listed = f"cameras: {', '.join(f'{i} {m}' for i, m in enumerate(models))}" if models else "no camera at all"
    raise SourceError(
        f"picamera2: no camera {index} (libcamera lists {listed}; "
        "check the ribbon cable and `rpicam-hello --list-cameras`)",
        Reason.SOURCE_NOT_FOUND,
    )


class Picamera2Capture:
    """One opened camera, shaped like the part of cv2.VideoCapture `LiveFrameSource` uses.

    Opening happens in the constructor (picamera2 raises on a busy or missing camera);
    `read()` lets capture errors propagate, which the live reader turns into a
    reconnection; `release()` stops and closes the camera so it can be opened again.
    """

    def __init__(self, index: int, size: tuple[int, int], fps: float | None) -> None:
        picamera2_class = load_picamera2()
        self._fps = fps
        self._camera: Any = picamera2_class(index)
        try:
            controls = {}
            if fps is not None:
                frame_us = round(1_000_000 / fps)
                controls["FrameDurationLimits"] = (frame_us, frame_us)
            config = self._camera.create_video_configuration(main={"size": size, "format": "RGB888"}, controls=controls)
            self._camera.configure(config)
            self._camera.start()
        except BaseException:
            self.release()
            raise

    def isOpened(self) -> bool:
        return self._camera is not None

    def read(self) -> tuple[bool, np.ndarray | None]:
        return True, self._camera.capture_array(STREAM)

    def set(self, prop_id: int, value: float) -> bool:
        return False  # size and rate are set in the configuration, before start

    def get(self, prop_id: int) -> float:
        if prop_id == cv2.CAP_PROP_FPS and self._fps is not None:
            return self._fps
        return 0.0

    def release(self) -> None:
        camera, self._camera = self._camera, None
        if camera is None:
            return
        for step in (camera.stop, camera.close):
            try:
                step()
            except Exception as err:  # a camera that vanished cannot be stopped cleanly; close it anyway
                logger.debug("picamera2: %s failed: %s", step.__name__, err)


@register_source_kind("picamera2")
def _make_picamera2_source(uri: str, config: SourceConfig) -> FrameSource:
    index = camera_index(uri)
    size = (config.width, config.height) if config.width and config.height else DEFAULT_SIZE
    return LiveFrameSource(
        lambda: Picamera2Capture(index, size, config.fps),
        f"picamera2:{index}",
        width=config.width,
        height=config.height,
        fps=config.fps,
        open_timeout_s=config.open_timeout_s,
        reconnect_delay_s=config.reconnect_delay_s,
        open_failure_reason=Reason.SOURCE_UNREADABLE,  # listed by libcamera (precheck) but will not open
        precheck=lambda: check_camera_listed(index),
    )
