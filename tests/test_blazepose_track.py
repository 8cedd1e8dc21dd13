"""The litert backend's track (vision/blazepose/tracking.py `Track`): which ROI each frame
starts from when several frames are estimated at once, and that the order results finish
in never changes it."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from gymcorner.vision.blazepose.roi import Roi
from gymcorner.vision.blazepose.tracking import Track

SIZE = (640, 480)


def alignment(frame: int) -> np.ndarray:
    """A person walking right: hip centre and scale point (frame-normalised) of frame `frame`."""
    x = 0.3 + 0.01 * frame
    return np.array([[x, 0.6, 0.0], [x, 0.3, 0.0]])


def run(track: Track, outcomes: list[str], order: list[int]) -> dict[int, Roi | None]:
    """Tickets for every frame, each frame started once the results of frames up to n - lag
    are in (a real worker would block in `start`), results given in `order`."""
    tickets = [track.ticket() for _ in outcomes]
    started: dict[int, Roi | None] = {}
    done: set[int] = set()
    todo = list(order)
    while todo:
        for n in todo:
            if all(m in done for m in range(n - track.lag + 1)):  # start would not wait
                started.setdefault(n, track.start(tickets[n], SIZE))
        n = next(n for n in todo if n in started)
        outcome = outcomes[n]
        if outcome == "found":
            track.found(tickets[n], alignment(n), n / 30.0, SIZE)
        elif outcome == "lost":
            track.lost(tickets[n], n / 30.0, SIZE)
        else:
            track.skip(tickets[n])
        done.add(n)
        todo.remove(n)
    return started


def test_one_worker_starts_each_frame_from_the_previous_frame_s_result() -> None:
    started = run(Track(lag=1), ["found"] * 5, [0, 1, 2, 3, 4])
    assert started[0] is None  # nobody tracked yet: the detector runs
    for n in range(1, 5):
        roi = started[n]
        assert roi is not None
        assert roi.cx_px > (started[n - 1].cx_px if started[n - 1] else 0)  # it follows the walk


def test_two_workers_start_frame_n_from_frame_n_minus_2_whatever_order_results_finish_in() -> None:
    outcomes = ["found"] * 6 + ["lost", "found", "skip", "found", "found", "found"]
    in_order = run(Track(lag=2), outcomes, list(range(12)))
    assert in_order[0] is None and in_order[1] is None  # both before any result
    assert in_order[8] is None  # frame 6 lost the person: frame 8 runs the detector
    assert in_order[9] is not None  # frame 7 found them again
    assert in_order[10] is in_order[9]  # frame 8 was skipped: it changed nothing
    for seed in range(5):  # pairs finishing the other way round
        order = list(range(12))
        rng = random.Random(seed)
        for i in range(0, 12, 2):
            if rng.random() < 0.5:
                order[i], order[i + 1] = order[i + 1], order[i]
        assert run(Track(lag=2), outcomes, order) == in_order


def test_a_frame_in_another_size_starts_without_a_roi_and_the_filter_starts_over() -> None:
    track = Track(lag=1)
    first = track.ticket()
    assert track.start(first, SIZE) is None
    track.found(first, alignment(0), 0.0, SIZE)
    second = track.ticket()
    assert track.start(second, SIZE) is not None
    assert track.start(second, (1280, 720)) is None  # the track is in the old frame's pixels


def test_a_frame_that_never_finishes_holds_the_next_ones_only_as_long_as_the_stall_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Track, "STALL_S", 0.2)
    track = Track(lag=1)
    first, second = track.ticket(), track.ticket()
    result: list[Roi | None] = []
    waiting = threading.Thread(target=lambda: result.append(track.start(second, SIZE)))
    waiting.start()
    waiting.join(2.0)
    assert not waiting.is_alive() and result == [None]  # went on from the newest ROI (none yet)
    track.found(first, alignment(0), 0.0, SIZE)  # late, and still applied first
    third = track.ticket()
    track.found(second, alignment(1), 1 / 30, SIZE)
    assert track.start(third, SIZE) is not None
