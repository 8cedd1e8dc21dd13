"""Estimate the pose of the next frame while the caller coaches the current one.

The pose networks release the GIL while they run, and so does OpenCV, so a thread that
reads frame n+1 and runs the estimator on it overlaps with the Python work the frame loop
does on frame n (smoothing, coach, avatar, publishing). The hand-over queue holds one
result: at most one frame waits while the next is being estimated, so a live camera's
frame is at most one frame older than without the thread, and a file's frames all come
out in order, each estimated exactly as the serial loop would (the estimator only ever
runs on this one thread, frame after frame).

`read()` returns what the serial loop's `source.read()` + `estimator.estimate()` would
(as an `Estimated`), None at the end, `FrameTimeout` when a live source times out, and any
other error of the source or the estimator re-raised in the caller's thread.
`PoseStillRunning` only says the wait was cut short: nothing is wrong, ask again.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

from gymcorner.motion.landmarks import PoseSample
from gymcorner.vision.pose import PoseEstimator
from gymcorner.vision.sources import Frame, FrameSource, FrameTimeout

PUT_POLL_S = 0.1  # how often a worker blocked on a full queue checks that it should stop


@dataclass(frozen=True)
class Estimated:
    """One frame with its pose; `times_ms` are the worker's own stages (for `bench`):
    decode (the source read), pose_prep and pose_model (or pose_model alone for an estimator
    without prepare/infer), plus the estimator's `stage_ms()` (its network invokes)."""

    frame: Frame
    sample: PoseSample
    times_ms: dict[str, float]


class PoseStillRunning(TimeoutError):
    """The wait in `PoseAhead.read` ended before the next frame's pose was ready."""


_END = object()


class PoseAhead:
    """A thread running `source.read()` then `estimator.estimate()`, one frame ahead."""

    def __init__(self, source: FrameSource, estimator: PoseEstimator, read_timeout_s: float | None) -> None:
        self._source = source
        self._estimator = estimator
        self._read_timeout_s = read_timeout_s
        self._results: queue.Queue[object] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="gymcorner-pose-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        clock = time.perf_counter
        while not self._stop.is_set():
            t0 = clock()
            try:
                frame = self._source.read(timeout_s=self._read_timeout_s)
            except FrameTimeout as err:
                self._put(err)  # the caller reports it; the source keeps retrying
                continue
            except Exception as err:  # the caller's thread raises it, as the serial loop would
                self._put(err)
                return
            if frame is None:
                self._put(_END)
                return
            t1 = clock()
            try:
                sample, times_ms = timed_estimate(self._estimator, frame)
            except Exception as err:  # e.g. FrameError on an odd frame: raised in the caller
                self._put(err)
                return
            self._put(Estimated(frame, sample, {"decode": (t1 - t0) * 1000.0, **times_ms}))

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._results.put(item, timeout=PUT_POLL_S)
                return
            except queue.Full:
                continue

    def read(self, timeout_s: float | None = None) -> Estimated | None:
        """The next frame and its pose; None when the source has ended.

        `timeout_s` bounds the wait and then raises `PoseStillRunning`, which only keeps the
        caller responsive (to its stop event, to commands); a live source that delivers
        nothing arrives as the source's own FrameTimeout from the worker."""
        if self._ended:
            return None
        try:
            item = self._results.get(timeout=timeout_s)
        except queue.Empty:
            raise PoseStillRunning(f"pose of the next frame not ready within {timeout_s:g} s") from None
        if item is _END:
            self._ended = True
            return None
        if isinstance(item, BaseException):
            if not isinstance(item, FrameTimeout):
                self._ended = True
            raise item
        assert isinstance(item, Estimated)
        return item

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the worker and wait for it (it finishes the frame it is on); idempotent.
        The source and the estimator stay open: their owner closes them."""
        self._stop.set()
        try:
            self._results.get_nowait()  # unblock a worker waiting to hand over
        except queue.Empty:
            pass
        self._thread.join(timeout_s)


def timed_estimate(estimator: PoseEstimator, frame: Frame) -> tuple[PoseSample, dict[str, float]]:
    """`estimator.estimate` on one frame, with its stage times in ms: pose_prep and
    pose_model when the estimator splits them (`prepare` / `infer`), pose_model alone
    otherwise, and whatever the estimator's `stage_ms()` reports (its network invokes)."""
    clock = time.perf_counter
    prepare, infer = getattr(estimator, "prepare", None), getattr(estimator, "infer", None)
    t0 = clock()
    if prepare is not None and infer is not None:
        height, width = frame.image.shape[:2]
        image = prepare(frame.image)
        t1 = clock()
        sample = infer(image, width, height, frame.t_s)
        times = {"pose_prep": (t1 - t0) * 1000.0, "pose_model": (clock() - t1) * 1000.0}
    else:
        sample = estimator.estimate(frame.image, frame.t_s)
        times = {"pose_model": (clock() - t0) * 1000.0}
    stage_ms = getattr(estimator, "stage_ms", None)
    if stage_ms is not None:
        times.update(stage_ms())
    return sample, times
