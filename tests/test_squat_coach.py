"""Squat form rules (stance width, knee varus, knee valgus, lateral posture)."""

from __future__ import annotations

import pytest
from poses import frontal, lateral, run, sample

from gymcorner.coach.squat import SQUAT_RULES, SquatCoach
from gymcorner.coach.squat_metrics import squat_metrics
from gymcorner.config import CoachConfig, ViewConfig
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample

FPS = 30.0


def coach(**squat: float) -> SquatCoach:
    cfg = CoachConfig(view=ViewConfig(hold_frames=1), cooldown_s=4.0)
    for k, v in squat.items():
        setattr(cfg.squat, k, v)
    return SquatCoach(cfg)


def frames(pts, n: int, start: float = 0.0, **kw) -> list[PoseSample]:
    return [sample(pts, t_s=start + i / FPS, **kw) for i in range(n)]


def codes(events) -> list[str]:
    return [e.details.get("reason", e.code) for e in events]


def test_rules_are_data_with_unique_keys() -> None:
    keys = [r.key for r in SQUAT_RULES]
    assert len(keys) == len(set(keys))
    assert all(r.text and r.views <= {"frontal", "lateral"} for r in SQUAT_RULES)


def test_good_frontal_squat_raises_nothing() -> None:
    assert run(coach(), frames(frontal(), 60) + frames(frontal(hip_y=700), 60, start=2)) == []


@pytest.mark.parametrize(("n", "expected"), [(2, []), (3, ["narrow_stance"]), (90, ["narrow_stance"])])
def test_narrow_stance_after_three_observations_once_per_onset(n: int, expected: list[str]) -> None:
    # ankle span 250 px < shoulder width 400 × (1 - 0.25) = 300 px
    assert codes(run(coach(), frames(frontal(ankle_w=250, knee_w=240), n))) == expected


def test_narrow_stance_threshold_is_scaled_by_shoulder_width() -> None:
    # Same ankle span, a smaller person (shoulders 300 px): 250 >= 300 × 0.75, no fault.
    assert run(coach(), frames(frontal(shoulder_w=300, hip_w=200, ankle_w=250, knee_w=240), 30)) == []


def test_knee_varus_needs_ten_consecutive_frames() -> None:
    bowed = frontal(knee_w=700, ankle_w=420)  # 700 > 420 + 0.55 × 400
    assert run(coach(), frames(bowed, 9)) == []
    events = run(coach(), frames(bowed, 10))
    assert codes(events) == ["knee_varus"] and events[0].view == "frontal"


def test_knee_valgus_when_knees_cave_in_during_the_squat() -> None:
    caving = frontal(hip_w=260, knee_w=150, ankle_w=420, hip_y=700)
    events = run(coach(), frames(caving, 12))
    assert codes(events) == ["knee_valgus"]
    assert events[0].details["knee_flexion_3d_deg"] >= 45


def test_knees_close_while_standing_is_not_valgus() -> None:
    standing = frontal(hip_w=150, knee_w=150, ankle_w=420, hip_y=550)
    m = squat_metrics(sample(standing), 0.6)
    assert m is not None and m.knee_flexion_deg is not None and m.knee_flexion_deg < 45
    assert run(coach(), frames(standing, 30)) == []


def test_low_visibility_landmarks_never_trigger_a_fault() -> None:
    caving = frontal(hip_w=260, knee_w=150, ankle_w=420, hip_y=700)
    assert run(coach(), frames(caving, 30, low_visibility=(L.LEFT_ANKLE,))) == []
    narrow = frontal(ankle_w=250, knee_w=240)
    assert run(coach(), frames(narrow, 30, low_visibility=(L.RIGHT_SHOULDER,))) == []


def test_no_person_breaks_the_run_of_frames() -> None:
    narrow = frontal(ankle_w=250, knee_w=240)
    gap = [PoseSample(0.07, 1000, 1000)]
    seq = frames(narrow, 2) + gap + frames(narrow, 2, start=0.1)
    assert run(coach(), seq) == []


def test_cooldown_between_onsets() -> None:
    narrow, good = frontal(ankle_w=250, knee_w=240), frontal()
    c = coach()
    first = run(c, frames(narrow, 5) + frames(good, 5, start=0.2) + frames(narrow, 5, start=0.4))
    assert codes(first) == ["narrow_stance"]  # the second onset came within 4 s
    later = run(c, frames(good, 5, start=5.0) + frames(narrow, 5, start=5.2))
    assert codes(later) == ["narrow_stance"]


def test_frontal_rules_do_not_run_in_lateral_view() -> None:
    assert run(coach(), frames(lateral(knee_flexion_deg=90, trunk_lean_deg=20, shin_lean_deg=30), 30)) == []


def test_forward_lean_in_lateral_view_carries_its_reason() -> None:
    leaning = lateral(knee_flexion_deg=90, trunk_lean_deg=65, shin_lean_deg=20)
    events = run(coach(), frames(leaning, 4))
    assert events == []
    events = run(coach(), frames(leaning, 8))
    assert [(e.code, e.details["reason"]) for e in events] == [("posture_incorrect", "forward_lean")]
    assert "lean" in events[0].text


@pytest.mark.parametrize("facing", ["left", "right"])
def test_shallow_descent_is_judged_when_standing_up(facing: str) -> None:
    def squat_to(depth: float, start: float) -> list[PoseSample]:
        path = [0, 20, 40, depth, depth, 40, 20, 5, 0]
        return [
            sample(lateral(knee_flexion_deg=f, trunk_lean_deg=f / 4, facing=facing), t_s=start + i / FPS)
            for i, f in enumerate(path)
        ]

    c = coach()
    shallow = run(c, squat_to(55, 0.0))
    assert codes(shallow) == ["shallow_depth"]
    assert shallow[0].details["max_knee_flexion_deg"] == pytest.approx(55, abs=1)
    assert run(c, squat_to(100, 10.0)) == []


def test_messages_can_be_overridden() -> None:
    cfg = CoachConfig(view=ViewConfig(hold_frames=1), messages={"narrow_stance": "Feet wider, please."})
    events = run(SquatCoach(cfg), frames(frontal(ankle_w=250, knee_w=240), 5))
    assert [e.text for e in events] == ["Feet wider, please."]
