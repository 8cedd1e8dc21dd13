"""Decode the next frames of a video file while the current one is being processed.

A file source must deliver every frame in order (no drops, unlike a camera), so decoding
cannot be skipped, but it need not wait for the pose network: OpenCV releases the GIL
while it decodes, so a reader thread a few frames ahead overlaps decoding with inference
on another core. The queue is bounded, so memory stays at `depth` frames.

`DecodeAhead` stands in for the `cv2.VideoCapture` it wraps as far as `VideoFileSource`
uses it after opening: `read()`, `get(CAP_PROP_POS_MSEC)` (the position of the frame
`read()` last returned, recorded with it) and `release()`.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import cv2
import numpy as np

DEFAULT_DEPTH = 2  # frames decoded ahead; with the pose thread one more is in flight (1080p: 6 MB each)
_END = (False, None, -1.0)


class DecodeAhead:
    def __init__(self, capture: Any, depth: int = DEFAULT_DEPTH) -> None:
        self._capture = capture
        self._frames: queue.Queue[tuple[bool, np.ndarray | None, float]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._pos_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))  # of the frame read before wrapping
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="gymcorner-decode-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        item = _END
        try:
            while not self._stop.is_set():
                ok, image = self._capture.read()
                item = (
                    (True, image, float(self._capture.get(cv2.CAP_PROP_POS_MSEC))) if ok and image is not None else _END
                )
                self._put(item)
                if item is _END:
                    return
        except cv2.error:
            pass  # a decoder error ends the file, as a failed read() does
        if item is not _END:
            self._put(_END)

    def _put(self, item: tuple[bool, np.ndarray | None, float]) -> None:
        while not self._stop.is_set():
            try:
                self._frames.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self._ended:
            return False, None
        ok, image, self._pos_ms = self._frames.get()
        self._ended = not ok
        return ok, image

    def get(self, prop: int) -> float:
        if prop != cv2.CAP_PROP_POS_MSEC:
            raise ValueError("DecodeAhead answers CAP_PROP_POS_MSEC only (read other properties before wrapping)")
        return self._pos_ms

    def release(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self._capture.release()
