"""Estimate the pose of the next frame while the caller coaches the current one.

The pose networks release the GIL while they run, and so does OpenCV, so a thread that
reads frame n+1 and runs the estimator on it overlaps with the Python work the frame loop
does on frame n (smoothing, coach, avatar, publishing). The hand-over queue holds one
result: at most one frame waits while the next is being estimated, so a live camera's
frame is at most one frame older than without the thread, and a file's frames all come
out in order, each estimated exactly as the serial loop would (the estimator only ever
runs on this one thread, frame after frame). An estimator that can run several frames at
once (`workers` > 1: the litert backend with `pose.landmark_workers`) gets that many
threads, each on the next frame in turn; results still come out in frame order.

`read()` returns what the serial loop's `source.read()` + `estimator.estimate()` would
(as an `Estimated`), None at the end, `FrameTimeout` when a live source times out, and any
other error of the source or the estimator re-raised in the caller's thread.
`PoseStillRunning` only says the wait was cut short: nothing is wrong, ask again.
"""

from __future__ import annotations

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


def _thread_name(worker: int) -> str:
    return "gymcorner-pose-ahead" if worker == 0 else f"gymcorner-pose-ahead-{worker}"


class PoseAhead:
    """Threads running `source.read()` then `estimator.estimate()`, ahead of the caller.

    One thread, unless the estimator says it can run `infer` on several frames at once
    (`workers`, the litert backend's `pose.landmark_workers`): then that many, each taking
    the next frame from the source in turn (under one lock, so frames keep their order and
    numbers) and estimating it with its own worker index. Results are handed over in frame
    order; a thread waits while `workers` results are already ahead of the caller, so at
    most that many frames wait (one, with one thread: the frame loop's old queue of one).
    """

    def __init__(self, source: FrameSource, estimator: PoseEstimator, read_timeout_s: float | None) -> None:
        self._source = source
        self._estimator = estimator
        self._read_timeout_s = read_timeout_s
        self._workers = max(1, int(getattr(estimator, "workers", 1)))
        numbered = self._workers > 1 and hasattr(estimator, "ticket")
        self._ticket = estimator.ticket if numbered else lambda: None  # type: ignore[attr-defined]
        self._ready = threading.Condition()  # guards _results, _taken
        self._results: dict[int, object] = {}  # frame number -> Estimated, _END or an exception
        self._taken = 0  # the next frame number the caller takes
        self._read_lock = threading.Lock()  # guards the source and _next, _source_done
        self._next = 0
        self._source_done = False
        self._stop = threading.Event()
        self._ended = False
        self._threads = [
            threading.Thread(target=self._run, args=(k,), name=_thread_name(k), daemon=True)
            for k in range(self._workers)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, worker: int) -> None:
        clock = time.perf_counter
        while not self._stop.is_set():
            with self._read_lock:
                if self._source_done or self._stop.is_set():  # another worker may have waited here
                    return
                number = self._next
                self._next += 1
                t0 = clock()
                try:
                    frame = self._source.read(timeout_s=self._read_timeout_s)
                    # the estimator's own frame number, taken in reading order (several workers)
                    ticket = self._ticket() if isinstance(frame, Frame) else None
                except FrameTimeout as err:
                    frame = err  # the caller reports it; the source keeps retrying
                except Exception as err:  # the caller's thread raises it, as the serial loop would
                    self._source_done = True
                    self._put(number, err)
                    return
                if frame is None:
                    self._source_done = True
                    self._put(number, _END)
                    return
            if isinstance(frame, FrameTimeout):
                self._put(number, frame)
                continue
            t1 = clock()
            try:
                sample, times_ms = timed_estimate(self._estimator, frame, worker, ticket)
            except Exception as err:  # e.g. FrameError on an odd frame: raised in the caller
                if ticket is not None:
                    self._estimator.skip_frame(ticket)  # type: ignore[attr-defined]
                with self._read_lock:
                    self._source_done = True
                self._put(number, err)
                return
            self._put(number, Estimated(frame, sample, {"decode": (t1 - t0) * 1000.0, **times_ms}))

    def _put(self, number: int, item: object) -> None:
        """Hand over frame `number`'s result once fewer than `workers` are waiting before it."""
        with self._ready:
            while not self._stop.is_set() and number >= self._taken + self._workers:
                self._ready.wait(PUT_POLL_S)
            self._results[number] = item
            self._ready.notify_all()

    def read(self, timeout_s: float | None = None) -> Estimated | None:
        """The next frame and its pose; None when the source has ended.

        `timeout_s` bounds the wait and then raises `PoseStillRunning`, which only keeps the
        caller responsive (to its stop event, to commands); a live source that delivers
        nothing arrives as the source's own FrameTimeout from the worker."""
        if self._ended:
            return None
        with self._ready:
            if not self._ready.wait_for(lambda: self._taken in self._results, timeout_s):
                raise PoseStillRunning(f"pose of the next frame not ready within {timeout_s:g} s")
            item = self._results.pop(self._taken)
            self._taken += 1
            self._ready.notify_all()
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
        """Stop the workers and wait for them (each finishes the frame it is on); idempotent.
        The source and the estimator stay open: their owner closes them."""
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)


def timed_estimate(
    estimator: PoseEstimator, frame: Frame, worker: int = 0, ticket: int | None = None
) -> tuple[PoseSample, dict[str, float]]:
    """`estimator.estimate` on one frame, with its stage times in ms: pose_prep and
    pose_model when the estimator splits them (`prepare` / `infer`), pose_model alone
    otherwise, and whatever the estimator's `stage_ms()` reports (its network invokes).
    `worker` and `ticket` (only for an estimator with `workers`: its network, and the frame's
    number taken in reading order) go to `infer`."""
    clock = time.perf_counter
    prepare, infer = getattr(estimator, "prepare", None), getattr(estimator, "infer", None)
    t0 = clock()
    if prepare is not None and infer is not None:
        height, width = frame.image.shape[:2]
        image = prepare(frame.image)
        t1 = clock()
        numbered: dict[str, int] = {"worker": worker} if worker else {}
        if ticket is not None:
            numbered["ticket"] = ticket
        sample = infer(image, width, height, frame.t_s, **numbered)
        times = {"pose_prep": (t1 - t0) * 1000.0, "pose_model": (clock() - t1) * 1000.0}
    else:
        sample = estimator.estimate(frame.image, frame.t_s)
        times = {"pose_model": (clock() - t0) * 1000.0}
    stage_ms = getattr(estimator, "stage_ms", None)
    if stage_ms is not None:
        times.update(stage_ms())
    return sample, times
