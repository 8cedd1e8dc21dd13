"""Push-up head drop: the metric on synthetic poses with the head moved by a known amount,
the rule on a real clean recording with the head drop moved in, and on the labelled clips."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from poses import sample
from shared_data import LANDMARKS

from gymcorner.coach.pushup import PUSHUP_RULES, pushup_metrics
from gymcorner.commands.analyze import analyze_samples
from gymcorner.config import Config, PushupConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording

HEAD_DROP = next(r for r in PUSHUP_RULES if r.code == "head_drop")
CFG = PushupConfig()


def side_plank(ear_drop: float) -> dict[L, tuple[float, float]]:
    """A straight plank seen from the side, facing left; the ear sits on the hip-shoulder line
    extended past the shoulder, then `ear_drop` torso lengths below it."""
    shoulder, hip, ankle = np.array([300.0, 500.0]), np.array([550.0, 520.0]), np.array([800.0, 540.0])
    axis = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    down = np.array([-axis[1], axis[0]])
    down = down if down[1] > 0 else -down  # the line's normal pointing down in the image
    torso = float(np.linalg.norm(shoulder - hip))
    ear = shoulder + axis * 0.4 * torso + down * ear_drop * torso
    pts: dict[L, tuple[float, float]] = {}
    for dx, side in ((4.0, "LEFT"), (-4.0, "RIGHT")):
        for name, p in (("SHOULDER", shoulder), ("HIP", hip), ("ANKLE", ankle), ("KNEE", (hip + ankle) / 2)):
            pts[L[f"{side}_{name}"]] = (p[0] + dx, p[1])
        pts[L[f"{side}_ELBOW"]] = (shoulder[0] + dx, shoulder[1] + 120)
        pts[L[f"{side}_WRIST"]] = (shoulder[0] + dx, shoulder[1] + 240)
        pts[L[f"{side}_EAR"]] = (ear[0] + dx, ear[1])
    pts[L.NOSE] = (ear[0] - 40, ear[1] + 20)
    return pts


def front_plank(nose_below_ears: float, head_below_shoulders: float) -> dict[L, tuple[float, float]]:
    """Seen from the floor in front: shoulders 400 px apart, ears 160; the ears sit
    `head_below_shoulders` shoulder spans below the shoulder line, the nose
    `nose_below_ears` ear spans below the ears."""
    ears_y = 400 + head_below_shoulders * 400
    pts = {
        L.LEFT_SHOULDER: (700.0, 400.0), L.RIGHT_SHOULDER: (300.0, 400.0),
        L.LEFT_ELBOW: (720.0, 600.0), L.RIGHT_ELBOW: (280.0, 600.0),
        L.LEFT_HIP: (620.0, 380.0), L.RIGHT_HIP: (380.0, 380.0),
        L.LEFT_EAR: (580.0, ears_y), L.RIGHT_EAR: (420.0, ears_y),
        L.NOSE: (500.0, ears_y + nose_below_ears * 160),
    }  # fmt: skip
    return pts


def judged(pose: dict[L, tuple[float, float]], in_rep: bool = True) -> bool | None:
    m = pushup_metrics(sample(pose), 0.6, CFG.side_on_max_ratio)
    assert m is not None
    return HEAD_DROP.check(replace(m, in_rep=in_rep), CFG)


@pytest.mark.parametrize("drop", [0.0, 0.1, 0.3, 0.5])
def test_side_metric_is_the_ear_drop_in_torso_lengths(drop: float) -> None:
    m = pushup_metrics(sample(side_plank(drop)), 0.6, CFG.side_on_max_ratio)
    assert m is not None and m.side_on
    assert m.ear_below_body_line == pytest.approx(drop, abs=0.02)


def test_side_view_fires_only_past_the_threshold_and_during_a_rep() -> None:
    limit = CFG.head_drop_side_line
    assert judged(side_plank(limit - 0.1)) is False
    assert judged(side_plank(limit + 0.1)) is True
    assert judged(side_plank(limit + 0.1), in_rep=False) is False  # resting between reps is not judged


def test_front_view_fires_when_the_face_turns_to_the_feet_below_the_shoulders() -> None:
    limit = CFG.head_drop_front_ear_spans
    m = pushup_metrics(sample(front_plank(0.3, 0.2)), 0.6, CFG.side_on_max_ratio)
    assert m is not None and not m.side_on
    assert m.nose_below_ears == pytest.approx(0.3) and m.nose_below_shoulders == pytest.approx(0.2 + 0.3 * 0.4)
    assert judged(front_plank(limit - 0.2, 0.2)) is True
    assert judged(front_plank(limit + 0.3, 0.2)) is False  # nose well below the ears: face to the floor
    assert judged(front_plank(limit - 0.2, -0.6)) is False  # head raised above the shoulders: looking up


def test_front_view_needs_the_face_visible() -> None:
    m = pushup_metrics(sample(front_plank(0.1, 0.2), low_visibility=(L.NOSE,)), 0.6, CFG.side_on_max_ratio)
    assert m is not None and m.nose_below_ears is None
    assert HEAD_DROP.check(replace(m, in_rep=True), CFG) is None


def push_up_faults(samples: list[PoseSample]) -> set[str]:
    config = Config()
    config.coach.exercise = "push_up"
    return {str(e.details.get("reason", e.code)) for e in analyze_samples(samples, config, "clip").events
            if e.kind == "form"}  # fmt: skip


def drop_head(s: PoseSample, torso_lengths: float) -> PoseSample:
    """The same frame with the head (nose, eyes, ears, mouth) moved straight down in the
    image by `torso_lengths` × the hip-shoulder distance."""
    if s.image is None:
        return s
    px = s.pixels().astype(np.float64)
    torso = float(np.linalg.norm((px[L.LEFT_SHOULDER] + px[L.RIGHT_SHOULDER]) / 2 - (px[L.LEFT_HIP] + px[L.RIGHT_HIP]) / 2))
    image = s.image.copy()
    image[: L.MOUTH_RIGHT + 1, 1] += np.float32(torso_lengths * torso / s.height)
    return replace(s, image=image)


def recording(name: str) -> list[PoseSample]:
    path = LANDMARKS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path.name} not recorded")
    return list(load_recording(path).samples())


def test_a_head_drop_moved_into_a_clean_side_view_recording_is_caught() -> None:
    clean = recording("pushfit_pushup_form__correct__correct111")
    assert "head_drop" not in push_up_faults(clean)
    assert "head_drop" not in push_up_faults([drop_head(s, 0.1) for s in clean])  # within a neutral neck's range
    assert "head_drop" in push_up_faults([drop_head(s, 0.4) for s in clean])


LABELLED = [
    ("workouttracker_reps__push-ups__push-up_10", True),
    ("pushfit_pushup_form__wrong__wrong96", True),
    ("pushfit_pushup_form__wrong__wrong112", True),
    ("workouttracker_reps__push-ups__push-up_1", False),
    ("workouttracker_reps__push-ups__push-up_23", False),
    ("pushfit_pushup_form__correct__correct1", False),
    ("pushfit_pushup_form__correct__correct47", False),
    ("pushfit_pushup_form__correct__correct111", False),
]


@pytest.mark.parametrize(("name", "labelled"), LABELLED, ids=[n for n, _ in LABELLED])
def test_head_drop_follows_the_manifest_labels(name: str, labelled: bool) -> None:
    assert ("head_drop" in push_up_faults(recording(name))) == labelled


def plank(hip_raise: float, elbow_drop: float) -> dict[L, tuple[float, float]]:
    """A side-on plank with the hip raised `hip_raise` × the shoulder-ankle length above the
    line (negative: sagging below it) and the elbow `elbow_drop` upper arms below the shoulder
    (1: straight arms; near 0: at the bottom of a push-up)."""
    pts = side_plank(0.0)
    shoulder, ankle = np.array(pts[L.LEFT_SHOULDER]), np.array(pts[L.LEFT_ANKLE])
    length = float(np.linalg.norm(ankle - shoulder))
    for side in ("LEFT", "RIGHT"):
        hx, hy = pts[L[f"{side}_HIP"]]
        pts[L[f"{side}_HIP"]] = (hx, hy - hip_raise * length)
        sx, sy = pts[L[f"{side}_SHOULDER"]]
        dy = 120.0 * elbow_drop
        pts[L[f"{side}_ELBOW"]] = (sx - math.sqrt(120.0**2 - dy**2), sy + dy)
    return pts


@pytest.mark.parametrize(("code", "hip_raise"), [("hips_pike", 0.25), ("hips_sag", -0.1)])
def test_body_line_is_judged_while_the_arms_bend_not_on_straight_arms(code: str, hip_raise: float) -> None:
    rule = next(r for r in PUSHUP_RULES if r.code == code)
    for drop, expected in ((0.5, True), (0.95, False)):  # lowering / a rest on straight arms
        m = pushup_metrics(sample(plank(hip_raise, drop)), 0.6, CFG.side_on_max_ratio)
        assert m is not None and m.side_on
        assert m.shoulder_below_elbow == pytest.approx(-drop, abs=0.01)
        assert rule.check(replace(m, in_rep=True), CFG) is expected
    other = "hips_sag" if code == "hips_pike" else "hips_pike"
    m = pushup_metrics(sample(plank(hip_raise, 0.5)), 0.6, CFG.side_on_max_ratio)
    assert m is not None
    assert next(r for r in PUSHUP_RULES if r.code == other).check(replace(m, in_rep=True), CFG) is False


def test_a_rep_whose_arms_never_bent_is_not_a_partial_push_up() -> None:
    rule = next(r for r in PUSHUP_RULES if r.code == "partial_range")
    m = pushup_metrics(sample(plank(0.0, 0.5)), 0.6, CFG.side_on_max_ratio)
    assert m is not None
    assert rule.check(replace(m, rep_depth_reached=-0.7), CFG) is True  # bent, but not far enough
    assert rule.check(replace(m, rep_depth_reached=-0.95), CFG) is None  # never bent: not judged
    assert rule.check(replace(m, rep_depth_reached=-0.2), CFG) is False


def test_rests_between_sets_raise_no_body_line_or_depth_fault() -> None:
    """A 55 s clip of 30 push-ups in 6 sets with downward-dog rests, labelled clean."""
    assert push_up_faults(recording("workouttracker_reps__push-ups__videoplayback")) == set()


def test_every_rep_lists_its_head_drop_though_the_cue_is_said_once() -> None:
    """Three reps 1.2 s apart, the head hanging at each bottom: the 4 s cooldown holds back
    the second and third cue, but each rep still carries the fault."""
    config = Config()
    config.coach.exercise = "push_up"
    events = analyze_samples(recording("pushfit_pushup_form__wrong__wrong96"), config, "wrong96").events
    cues = [e for e in events if e.code == "head_drop"]
    reps = [e for e in events if e.kind == "rep"]
    assert len(cues) == 1 and config.coach.cooldown_s > reps[-1].t - reps[0].t
    assert len(reps) == 3 and all("head_drop" in r.details["faults"] for r in reps)
