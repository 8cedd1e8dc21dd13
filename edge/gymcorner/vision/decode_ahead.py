"""Decode the next frames of a video file while the current one is being processed.

A file source must deliver every frame in order (no drops, unlike a camera), so decoding
cannot be skipped, but it need not wait for the pose network: OpenCV releases the GIL
while it decodes, so a reader thread a few frames ahead overlaps decoding with inference
on another core. The queue is bounded, so memory stays at `depth` frames.

The decoder writes each frame into an array it handed out before once nobody else holds
that array (`FrameArrays`), so a steady run decodes into the same few buffers instead of
allocating 6 MB (1080p) a frame: no page faults on fresh memory, and no freed frames
left behind in the allocator's per-thread arenas.

`DecodeAhead` stands in for the `cv2.VideoCapture` it wraps as far as `VideoFileSource`
uses it after opening: `read()`, `get(CAP_PROP_POS_MSEC)` (the position of the frame
`read()` last returned, recorded with it) and `release()`.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any

import cv2
import numpy as np

# Frames waiting decoded (one more is being decoded; with the pose one frame ahead, two more
# are in use). 1080p push-up correct111: 6 MB (one frame) less peak RSS than with 2; with the
# reused arrays 229 -> 218 MB at the same fps within this machine's noise (docs/litert_parity.md).
DEFAULT_DEPTH = 1
MAX_ARRAYS = 8  # decoded arrays kept for reuse; a consumer holding more gets fresh ones
_END = (False, None, -1.0)


class FrameArrays:
    """Arrays the decoder may write the next frame into: those nobody but this holds any more.

    Whether anyone else holds an array is read from its reference count, against a sentinel
    array no one else ever sees, counted the same way, so the test does not depend on how a
    Python version counts its own references. A view, a `Frame` or a queue entry holding the
    array counts, so a frame in use is never overwritten.
    """

    def __init__(self, most: int = MAX_ARRAYS) -> None:
        self._arrays: list[np.ndarray] = [np.empty(0, np.uint8)]  # [0]: the sentinel
        self._most = most

    def free(self) -> np.ndarray | None:
        """An array no one else holds, or None."""
        counts = [sys.getrefcount(a) for a in self._arrays]
        for array, count in zip(self._arrays[1:], counts[1:], strict=True):
            if count <= counts[0]:
                return array
        return None

    def keep(self, array: np.ndarray) -> None:
        """Remember a newly decoded array for reuse (up to `most`)."""
        if len(self._arrays) <= self._most:
            self._arrays.append(array)

    def drop(self, array: np.ndarray) -> None:
        """Forget an array the decoder would not write into (the frame size changed)."""
        self._arrays = [a for a in self._arrays if a is not array]

    def __len__(self) -> int:
        return len(self._arrays) - 1


class DecodeAhead:
    def __init__(self, capture: Any, depth: int = DEFAULT_DEPTH) -> None:
        self._capture = capture
        self._frames: queue.Queue[tuple[bool, np.ndarray | None, float]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._pos_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))  # of the frame read before wrapping
        self._ended = False
        self.arrays = FrameArrays()  # the decode thread's alone
        self._thread = threading.Thread(target=self._run, name="gymcorner-decode-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ended = False
        try:
            while not self._stop.is_set() and not ended:
                ended = not self._queue_next()
        except cv2.error:
            pass  # a decoder error ends the file, as a failed read() does
        if not ended:
            self._put(_END)

    def _queue_next(self) -> bool:
        """Decode the next frame and queue it; False when the file ended (the end is queued).
        Once this returns only the queue holds the frame, so its count says when the consumer
        is done with it."""
        ok, image = self._decode()
        if not ok or image is None:
            self._put(_END)
            return False
        self._put((True, image, float(self._capture.get(cv2.CAP_PROP_POS_MSEC))))
        return True

    def _decode(self) -> tuple[bool, np.ndarray | None]:
        target = self.arrays.free()
        if target is None:
            ok, image = self._capture.read()
            if ok and image is not None:
                self.arrays.keep(image)
            return ok, image
        ok, image = self._capture.read(target)
        if ok and image is not None and image is not target:  # another size: OpenCV made a new array
            self.arrays.drop(target)
            self.arrays.keep(image)
        return ok, image

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
