"""The label-free rep counter on synthetic movements whose reps are known exactly.

A 2-D stick person (pixels, 1280x720 frame, y down) is posed by a few joint angles; each
exercise moves some of them from a rest pose to a far pose and back. Samples carry only
image landmarks with visibility 1 and no world landmarks, as the benchmark and a degraded
camera give.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from gymcorner.coach.any_reps import AnyRepConfig, AnyRepCounter, CountedRep
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L

W, H = 1280, 720
Pose = dict[str, float]  # joint angles in degrees; see stick_person


def stick_person(p: Pose, x: float = 640.0, scale: float = 1.0) -> np.ndarray:
    """(33, 2) pixels. Angles from straight down, counter-clockwise seen from the camera's
    right (the person faces image right): trunk (0 upright = shoulder above hip is 180),
    thigh, shin, upper arm, forearm; `lying` turns the whole body by 90 degrees."""

    def seg(origin: np.ndarray, deg: float, length: float) -> np.ndarray:
        a = math.radians(deg + p.get("lying", 0.0))
        return origin + scale * length * np.array([math.sin(a), math.cos(a)])

    hip = np.array([x, 400.0])
    shoulder = seg(hip, 180.0 + p.get("trunk", 0.0), 100)
    knee = seg(hip, p.get("thigh", 0.0), 90)
    ankle = seg(knee, p.get("thigh", 0.0) - p.get("knee", 0.0), 90)
    elbow = seg(shoulder, p.get("arm", 0.0), 60)
    wrist = seg(elbow, p.get("arm", 0.0) + p.get("elbow", 0.0), 55)
    head = seg(shoulder, 180.0 + p.get("trunk", 0.0), 35)
    pts = np.repeat(hip[None], NUM_LANDMARKS, axis=0)
    for (left, right), pos in (
        ((L.LEFT_SHOULDER, L.RIGHT_SHOULDER), shoulder), ((L.LEFT_ELBOW, L.RIGHT_ELBOW), elbow),
        ((L.LEFT_WRIST, L.RIGHT_WRIST), wrist), ((L.LEFT_HIP, L.RIGHT_HIP), hip),
        ((L.LEFT_KNEE, L.RIGHT_KNEE), knee), ((L.LEFT_ANKLE, L.RIGHT_ANKLE), ankle),
    ):  # fmt: skip
        pts[left], pts[right] = pos + (3.0, 0.0), pos - (3.0, 0.0)  # noqa: RUF005 - numpy arrays, not tuples
    pts[L.NOSE] = head
    return pts


def to_sample(t: float, px: np.ndarray | None) -> PoseSample:
    if px is None:
        return PoseSample(t, W, H)
    image = np.ones((NUM_LANDMARKS, 4), dtype=np.float32)
    image[:, :2] = px / (W, H)
    image[:, 2] = 0.0
    return PoseSample(t, W, H, image)


# (rest pose, far pose) per exercise
EXERCISES: dict[str, tuple[Pose, Pose]] = {
    "squat": ({"knee": 0, "thigh": 0, "trunk": 0}, {"knee": 110, "thigh": 90, "trunk": 35}),
    "push_up": ({"lying": 90, "trunk": 0, "arm": -90, "elbow": 0}, {"lying": 90, "trunk": 0, "arm": -30, "elbow": 85}),
    "front_raise": ({"arm": 0}, {"arm": 95}),
    "bicep_curl": ({"arm": 5, "elbow": 0}, {"arm": 5, "elbow": 135}),
    "bench_press": ({"lying": -90, "arm": -90, "elbow": 0}, {"lying": -90, "arm": -160, "elbow": -100}),
    "sit_up": (
        {"lying": -90, "trunk": 0, "thigh": 40, "knee": 90},
        {"lying": -90, "trunk": -70, "thigh": 40, "knee": 90},
    ),
    "cable_pushdown": ({"arm": 10, "elbow": 100, "trunk": 10}, {"arm": 5, "elbow": 0, "trunk": 10}),
}


def blend(rest: Pose, far: Pose, u: float) -> Pose:
    return {k: rest.get(k, 0.0) + u * (far.get(k, 0.0) - rest.get(k, 0.0)) for k in set(rest) | set(far)}


def movement(
    rest: Pose, far: Pose, reps: int, period_s: float, fps: float = 30.0, lead_s: float = 2.0,
    tail_s: float = 1.5, depth: Callable[[int], float] = lambda k: 1.0, noise_px: float = 1.5, seed: int = 0,
) -> tuple[list[PoseSample], list[float]]:  # fmt: skip
    """Samples of `reps` reps (rest -> far -> rest, cosine eased), and each rep's end time."""
    rng = np.random.default_rng(seed)
    n = int((lead_s + reps * period_s + tail_s) * fps)
    samples, ends = [], [lead_s + (k + 1) * period_s for k in range(reps)]
    for i in range(n):
        t = i / fps
        k, u = divmod((t - lead_s) / period_s, 1.0)
        phase = 0.5 - 0.5 * math.cos(2 * math.pi * u) if 0 <= k < reps else 0.0
        px = stick_person(blend(rest, far, phase * depth(int(k)) if 0 <= k < reps else 0.0))
        samples.append(to_sample(t, px + rng.normal(0, noise_px, px.shape)))
    return samples, ends


def run(samples: list[PoseSample], config: AnyRepConfig | None = None) -> tuple[list[CountedRep], list[float]]:
    counter = AnyRepCounter(config)
    reps, announced = [], []
    for s in samples:
        for rep in counter.update(s):
            reps.append(rep)
            announced.append(s.t_s)
    assert counter.count == len(reps)
    return reps, announced


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
@pytest.mark.parametrize(("reps", "period_s", "fps"), [(5, 2.0, 30.0), (8, 1.2, 25.0), (3, 3.5, 24.0)])
def test_periodic_movements_count_exactly(exercise: str, reps: int, period_s: float, fps: float) -> None:
    rest, far = EXERCISES[exercise]
    samples, _ = movement(rest, far, reps, period_s, fps)
    got, _ = run(samples)
    assert len(got) == reps, [(r.start_t, r.end_t, r.signal) for r in got]
    assert [r.number for r in got] == list(range(1, reps + 1))


@pytest.mark.parametrize("exercise", ["squat", "front_raise", "bench_press"])
def test_rep_is_announced_within_half_a_second_of_its_end(exercise: str) -> None:
    rest, far = EXERCISES[exercise]
    samples, ends = movement(rest, far, 6, 2.0)
    got, announced = run(samples)
    assert len(got) == 6
    for rep, at, end in zip(got, announced, ends, strict=False):
        assert at == rep.end_t
        assert at - end <= 0.5, (at, end)
        assert end - at <= 0.8  # not before the movement is mostly back: the rep is done
        assert rep.start_t < rep.bottom_t < rep.end_t
        assert rep.amplitude > 0.5


def test_partial_movements_are_not_reps() -> None:
    rest, far = EXERCISES["squat"]
    # five full squats, then four quarter-depth bobs, then two full squats
    def depth(k: int) -> float:
        return 0.25 if 5 <= k < 9 else 1.0

    samples, _ = movement(rest, far, 11, 2.0, depth=depth)
    got, _ = run(samples)
    assert len(got) == 7


def test_a_still_person_counts_nothing() -> None:
    rest, _ = EXERCISES["squat"]
    samples, _ = movement(rest, rest, 5, 2.0, noise_px=3.0)
    assert run(samples)[0] == []


def walking(t0: float, duration_s: float, x0: float, speed_px_s: float, fps: float = 30.0) -> list[PoseSample]:
    out = []
    for i in range(int(duration_s * fps)):
        t = i / fps
        swing = 30 * math.sin(2 * math.pi * 1.0 * t)  # one stride a second: legs and arms swing
        pose = {"thigh": swing, "knee": 20 + 20 * math.sin(2 * math.pi * t + 1.0), "arm": -swing, "elbow": 15}
        out.append(to_sample(t0 + t, stick_person(pose, x=x0 + speed_px_s * t)))
    return out


def test_walking_in_and_out_is_not_a_rep() -> None:
    fps = 30.0
    rest, far = EXERCISES["squat"]
    walk_in = walking(0.0, 4.0, 100.0, 135.0)  # walks from the left edge to the middle
    # the first squat starts 2.5 s after the person stopped (the walking gate settles, then ready_s)
    reps, _ = movement(rest, far, 3, 2.0, fps, lead_s=2.5, tail_s=1.0)
    t1 = 4.0
    reps = [to_sample(s.t_s + t1, None if s.image is None else s.image[:, :2] * (W, H)) for s in reps]
    t2 = reps[-1].t_s + 1 / fps
    walk_out = walking(t2, 4.0, 640.0, 135.0)
    gone = [to_sample(t2 + 4.0 + i / fps, None) for i in range(30)]
    got, _ = run(walk_in + reps + walk_out + gone)
    assert len(got) == 3
    # each rep is the squat's own cycle, not one read from the bottom of a squat to the bottom
    # of the next: the last strides of walking in do not decide where rest is (cycles.py)
    ends = [t1 + 2.5 + 2.0 * (k + 1) for k in range(3)]
    assert [abs(rep.end_t - end) < 0.5 for rep, end in zip(got, ends, strict=True)] == [True] * 3, got


def test_someone_else_stepping_in_is_a_reset() -> None:
    """A sudden change of body position and scale mid-movement starts over: no phantom rep."""
    rest, far = EXERCISES["front_raise"]
    first, _ = movement(rest, far, 3, 2.0, tail_s=0.0)
    t0 = first[-1].t_s
    # halfway through a raise the person is replaced by a bigger one elsewhere in the frame, standing still
    half = stick_person(blend(rest, far, 0.6))
    other = [to_sample(t0 + i / 30, stick_person(rest, x=300.0, scale=2.0)) for i in range(1, 150)]
    got, _ = run([*first, to_sample(t0, half), *other])
    assert len(got) == 3


def test_a_person_lost_for_long_starts_over() -> None:
    rest, far = EXERCISES["bicep_curl"]
    samples, _ = movement(rest, far, 4, 1.5)
    gap = [to_sample(samples[-1].t_s + (i + 1) / 30, None) for i in range(60)]
    again, _ = movement(rest, far, 2, 1.5, lead_s=1.5, seed=1)
    again = [to_sample(s.t_s + gap[-1].t_s, None if s.image is None else s.image[:, :2] * (W, H)) for s in again]
    got, _ = run(samples + gap + again)
    assert [r.number for r in got] == list(range(1, 7))


def test_world_landmarks_and_visibility_do_not_change_the_count() -> None:
    rest, far = EXERCISES["squat"]
    samples, _ = movement(rest, far, 4, 2.0)
    rng = np.random.default_rng(3)
    with_world = []
    for s in samples:
        assert s.image is not None
        image = s.image.copy()
        image[:, 3] = rng.uniform(0.3, 1.0, NUM_LANDMARKS)
        with_world.append(PoseSample(s.t_s, W, H, image, rng.normal(0, 0.3, (NUM_LANDMARKS, 3)).astype(np.float32)))
    assert len(run(samples)[0]) == len(run(with_world)[0]) == 4


def test_replay_is_bit_for_bit() -> None:
    rest, far = EXERCISES["sit_up"]
    samples, _ = movement(rest, far, 5, 2.0)
    assert run(samples) == run(samples)


def test_a_bigger_movement_past_where_rest_was_read_reads_rest_at_the_other_end() -> None:
    """A cycle counter whose rest was read on a small movement (rest at the low end) sees a
    movement 3x bigger below it: rest is now the high end, where it was read, and the
    movement's cycles are counted from there; noise-sized changes of the range flip nothing."""
    from gymcorner.coach.cycles import CycleCounter

    counter = CycleCounter(0.3, AnyRepConfig())
    small = [(i / 30, 0.5 * (15 <= i < 25)) for i in range(30)]  # at rest at 0, then a move to 0.5 above it
    counter.set_range(0.0, 0.5, small)
    assert counter.rest_high is False
    counter.set_range(-0.05, 0.6, small)  # the range wobbles: no new reading
    assert counter.rest_high is False
    history = [(2.0 + i / 30, 0.0) for i in range(30)] + [(3.0 + i / 30, -1.5) for i in range(15)]
    counter.set_range(-1.5, 0.5, history)  # squats go 1.5 below where rest was read
    assert counter.rest_high is True
    cycles = [counter.update(3.5 + i / 30, v) for i, v in enumerate([-1.5] * 10 + [0.0] * 10)]
    assert [c for c in cycles if c is not None] != []  # back up at rest: one cycle
