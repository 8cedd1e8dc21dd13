"""The pose thread one frame ahead: the same frames and poses as the serial loop, in order,
and every way a source or an estimator can fail arrives in the caller's thread."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from shared_data import clip_path

from gymcorner.config import Config, SourceConfig
from gymcorner.errors import FrameError
from gymcorner.motion.landmarks import PoseSample
from gymcorner.vision.pose import create_estimator
from gymcorner.vision.pose_ahead import PoseAhead, PoseStillRunning
from gymcorner.vision.sources import Frame, FrameTimeout, open_source

CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4"  # 38 frames, one squat


class ScriptedSource:
    """Frames 0..n-1 (FrameTimeout where the script says), then the end."""

    description = "scripted"

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.index = 0
        self.reads = 0

    def read(self, timeout_s: float | None = None) -> Frame | None:
        self.reads += 1
        if not self.script:
            return None
        step = self.script.pop(0)
        if step == "timeout":
            raise FrameTimeout("no frame in time")
        if step == "lost":
            raise OSError("camera unplugged")
        frame = Frame(self.index, self.index / 30.0, np.full((8, 8, 3), self.index, np.uint8))
        self.index += 1
        return frame


class TaggingEstimator:
    """A sample per frame that says which frame it was made from; fails on request."""

    name = "tagging"

    def __init__(self, fail_on: int | None = None, delay_s: float = 0.0) -> None:
        self.fail_on = fail_on
        self.delay_s = delay_s
        self.threads: set[str] = set()

    def estimate(self, image: np.ndarray, t_s: float) -> PoseSample:
        self.threads.add(threading.current_thread().name)
        if self.delay_s:
            time.sleep(self.delay_s)
        if int(image[0, 0, 0]) == self.fail_on:
            raise FrameError("pose input is empty")
        return PoseSample(t_s, int(image[0, 0, 0]), 1)

    def close(self) -> None:
        pass


def drain(ahead: PoseAhead) -> list[tuple[int, float, int]]:
    out = []
    while (item := ahead.read(timeout_s=5.0)) is not None:
        out.append((item.frame.index, item.sample.t_s, item.sample.width))
    return out


@pytest.mark.shared_data
def test_a_clip_gives_exactly_the_serial_loop_s_poses_in_order() -> None:
    config = Config()
    video = str(clip_path(CLIP))
    serial_source = open_source(SourceConfig(), video)
    serial_estimator = create_estimator(config.pose, config.models.dir)
    serial = []
    while (frame := serial_source.read()) is not None:
        serial.append((frame.index, serial_estimator.estimate(frame.image, frame.t_s)))
    serial_source.close()
    serial_estimator.close()

    source = open_source(SourceConfig(), video)
    estimator = create_estimator(config.pose, config.models.dir)
    ahead = PoseAhead(source, estimator, None)
    pipelined = []
    while (item := ahead.read(timeout_s=30.0)) is not None:
        pipelined.append((item.frame.index, item.sample))
        assert item.times_ms["pose_model"] > 0 and item.times_ms["landmark_invoke"] >= 0
    ahead.close()
    source.close()
    estimator.close()

    assert len(serial) == len(pipelined) == 38
    assert [i for i, _ in pipelined] == list(range(38))
    with_person = 0
    for (_, a), (_, b) in zip(serial, pipelined, strict=True):
        assert a.t_s == b.t_s and a.present == b.present
        if a.present:
            with_person += 1
            np.testing.assert_array_equal(a.image, b.image)
            np.testing.assert_array_equal(a.world, b.world)
    assert with_person >= 30


def test_frames_arrive_in_order_and_the_estimator_runs_only_on_the_pose_thread() -> None:
    estimator = TaggingEstimator()
    ahead = PoseAhead(ScriptedSource(["frame"] * 20), estimator, 1.0)
    assert drain(ahead) == [(i, i / 30.0, i) for i in range(20)]
    assert ahead.read() is None  # and stays ended
    ahead.close()
    assert estimator.threads == {"gymcorner-pose-ahead"}


def test_a_live_source_timeout_reaches_the_caller_and_the_frames_after_it_still_come() -> None:
    ahead = PoseAhead(ScriptedSource(["frame", "timeout", "frame"]), TaggingEstimator(), 1.0)
    assert ahead.read(timeout_s=5.0).frame.index == 0
    with pytest.raises(FrameTimeout):
        ahead.read(timeout_s=5.0)
    assert ahead.read(timeout_s=5.0).frame.index == 1
    assert ahead.read(timeout_s=5.0) is None
    ahead.close()


def test_an_estimator_error_is_raised_in_the_caller_after_the_frames_before_it() -> None:
    ahead = PoseAhead(ScriptedSource(["frame"] * 5), TaggingEstimator(fail_on=2), 1.0)
    assert [ahead.read(timeout_s=5.0).frame.index for _ in range(2)] == [0, 1]
    with pytest.raises(FrameError, match="empty"):
        ahead.read(timeout_s=5.0)
    assert ahead.read() is None  # the worker stopped with the error
    ahead.close()


def test_a_source_error_is_raised_in_the_caller() -> None:
    ahead = PoseAhead(ScriptedSource(["frame", "lost", "frame"]), TaggingEstimator(), 1.0)
    assert ahead.read(timeout_s=5.0).frame.index == 0
    with pytest.raises(OSError, match="unplugged"):
        ahead.read(timeout_s=5.0)
    ahead.close()


def test_a_short_wait_says_the_pose_is_still_running_and_the_frame_comes_after() -> None:
    ahead = PoseAhead(ScriptedSource(["frame"]), TaggingEstimator(delay_s=0.5), 1.0)
    with pytest.raises(PoseStillRunning):
        ahead.read(timeout_s=0.05)
    assert ahead.read(timeout_s=5.0).frame.index == 0
    ahead.close()


def test_close_stops_a_worker_waiting_to_hand_over_and_reads_no_further() -> None:
    source = ScriptedSource(["frame"] * 1000)
    ahead = PoseAhead(source, TaggingEstimator(), 1.0)
    deadline = time.monotonic() + 5.0
    while source.reads < 2 and time.monotonic() < deadline:  # one handed over, one waiting
        time.sleep(0.01)
    started = time.monotonic()
    ahead.close()
    assert time.monotonic() - started < 1.0
    assert not any(t.name == "gymcorner-pose-ahead" and t.is_alive() for t in threading.enumerate())
    assert source.reads <= 3  # it never raced through the rest of the source


class TwoNetworkEstimator(TaggingEstimator):
    """An estimator with two workers (as litert with `pose.landmark_workers = 2`): records
    which worker index ran each frame on which thread, and takes uneven times, so a later
    frame often finishes first."""

    workers = 2

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__(fail_on)
        self.calls: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()

    def prepare(self, image: np.ndarray) -> np.ndarray:
        return image

    def infer(self, image: np.ndarray, width: int, height: int, t_s: float, worker: int = 0) -> PoseSample:
        index = int(image[0, 0, 0])
        with self._lock:
            self.calls.append((index, worker, threading.current_thread().name))
        time.sleep(0.03 if index % 3 == 0 else 0.005)
        return self.estimate(image, t_s)


def test_two_workers_estimate_frames_side_by_side_and_hand_them_over_in_order() -> None:
    estimator = TwoNetworkEstimator()
    source = ScriptedSource(["frame"] * 30)
    ahead = PoseAhead(source, estimator, 1.0)
    taken, most_ahead = [], 0
    while (item := ahead.read(timeout_s=5.0)) is not None:
        taken.append((item.frame.index, item.sample.t_s, item.sample.width))
        most_ahead = max(most_ahead, source.reads - len(taken))
        time.sleep(0.01)  # a caller slower than the workers: they must wait, not race ahead
    ahead.close()
    assert taken == [(i, i / 30.0, i) for i in range(30)]
    assert sorted(i for i, _, _ in estimator.calls) == list(range(30))  # each frame estimated once
    workers = {(w, name) for _, w, name in estimator.calls}
    assert workers == {(0, "gymcorner-pose-ahead"), (1, "gymcorner-pose-ahead-1")}  # each thread its own network
    assert most_ahead <= 2 * estimator.workers  # two waiting, two being estimated at most


def test_with_two_workers_an_estimator_error_still_comes_after_the_frames_before_it() -> None:
    ahead = PoseAhead(ScriptedSource(["frame"] * 8), TwoNetworkEstimator(fail_on=3), 1.0)
    assert [ahead.read(timeout_s=5.0).frame.index for _ in range(3)] == [0, 1, 2]
    with pytest.raises(FrameError, match="empty"):
        ahead.read(timeout_s=5.0)
    assert ahead.read() is None
    ahead.close()


@pytest.mark.shared_data
def test_two_litert_workers_track_a_clip_as_closely_as_one() -> None:
    """Frame n's crop comes from the track one or two frames back: the landmarks stay within
    the parity target of the serial tracker's (mean 0.5 % of the frame diagonal)."""
    video = str(clip_path(CLIP))
    runs = []
    for workers, threads in ((1, 2), (2, 1)):
        config = Config()
        pose = config.pose.model_copy(update={"landmark_workers": workers, "num_threads": threads})
        source = open_source(SourceConfig(), video)
        estimator = create_estimator(pose, config.models.dir)
        assert getattr(estimator, "workers", 1) == workers
        source.open()
        ahead = PoseAhead(source, estimator, None)
        samples = []
        while (item := ahead.read(timeout_s=30.0)) is not None:
            samples.append(item.sample)
        ahead.close()
        source.close()
        estimator.close()
        runs.append(samples)
    serial, paired = runs
    assert [s.t_s for s in serial] == [s.t_s for s in paired] and len(serial) == 38
    both = [(a, b) for a, b in zip(serial, paired, strict=True) if a.present and b.present]
    assert len(both) >= 30
    diagonal = np.hypot(serial[0].width, serial[0].height)
    dist = [
        np.hypot((a.image[:, 0] - b.image[:, 0]) * a.width, (a.image[:, 1] - b.image[:, 1]) * a.height) / diagonal
        for a, b in both
    ]
    assert float(np.mean(dist)) < 0.005
