"""Camera view: frontal vs lateral with hysteresis and persistence."""

from __future__ import annotations

import math

import pytest
from poses import frontal, lateral, sample

from gymcorner.config import ViewConfig
from gymcorner.motion.view import View, ViewTracker, off_square_deg


def turned(yaw_deg: float, t: float = 0.0):
    """A frontal person turned by yaw: narrower in the image, rotated in the world."""
    c = abs(math.cos(math.radians(yaw_deg)))
    return sample(frontal(shoulder_w=400 * c, hip_w=260 * c), t_s=t, yaw_deg=yaw_deg)


def feed(tracker: ViewTracker, samples) -> list[View]:
    return [tracker.update(s).view for s in samples]


@pytest.mark.parametrize(("yaw", "off"), [(0, 0), (180, 0), (-180, 0), (90, 90), (-90, 90), (135, 45), (-30, 30)])
def test_off_square(yaw: float, off: float) -> None:
    assert off_square_deg(yaw) == pytest.approx(off)


def test_frontal_and_lateral_after_hold() -> None:
    cfg = ViewConfig(hold_frames=5)
    tr = ViewTracker(cfg)
    views = feed(tr, [sample(frontal(), t_s=i / 30) for i in range(6)])
    assert views[:4] == [View.UNKNOWN] * 4 and views[4] == View.FRONTAL
    assert tr.state.facing == "camera"
    views = feed(tr, [sample(lateral(), t_s=1 + i / 30) for i in range(6)])
    assert views[3] == View.FRONTAL and views[-1] == View.LATERAL
    assert tr.state.facing in ("left", "right")


def test_back_to_camera_is_frontal_facing_away() -> None:
    tr = ViewTracker(ViewConfig(hold_frames=1))
    # Seen from behind, the person's left shoulder is on the image's left.
    tr.update(sample(frontal(facing_away=True), yaw_deg=0.0))
    assert tr.state.view == View.FRONTAL and tr.state.facing == "away"


def test_hysteresis_band_keeps_the_current_view() -> None:
    # The synthetic person's (shoulder + hip span) / torso is 660 / 250 px square-on.
    cfg = ViewConfig(hold_frames=1, frontal_max_yaw_deg=30, lateral_min_yaw_deg=50, square_on_width_ratio=2.64)
    tr = ViewTracker(cfg)
    assert feed(tr, [turned(10)]) == [View.FRONTAL]
    assert feed(tr, [turned(40)] * 5)[-1] == View.FRONTAL  # inside the band: no change
    assert feed(tr, [turned(60)])[-1] == View.LATERAL
    assert feed(tr, [turned(40)] * 5)[-1] == View.LATERAL  # band again: stays lateral
    assert feed(tr, [turned(20)])[-1] == View.FRONTAL


def test_a_short_flicker_does_not_switch() -> None:
    tr = ViewTracker(ViewConfig(hold_frames=4))
    feed(tr, [sample(frontal())] * 4)
    assert feed(tr, [sample(lateral())] * 3 + [sample(frontal())])[-1] == View.FRONTAL


def test_hidden_torso_or_no_person_gives_no_evidence() -> None:
    tr = ViewTracker(ViewConfig(hold_frames=1))
    from gymcorner.motion.landmarks import Landmark as L
    from gymcorner.motion.landmarks import PoseSample

    hidden = sample(frontal(), low_visibility=(L.LEFT_HIP,))
    assert tr.update(hidden).view == View.UNKNOWN
    tr.update(sample(frontal()))
    assert tr.state.view == View.FRONTAL
    assert tr.update(PoseSample(1.0, 1000, 1000)).facing == "unknown"


def test_square_on_but_hip_outside_the_feet_is_not_frontal() -> None:
    pts = frontal()
    from gymcorner.motion.landmarks import Landmark as L

    # Both ankles far to one side of the hips (stepping sideways): the seed's test fails.
    pts[L.LEFT_ANKLE] = (900.0, 950.0)
    pts[L.RIGHT_ANKLE] = (850.0, 950.0)
    tr = ViewTracker(ViewConfig(hold_frames=1))
    assert tr.update(sample(pts)).view == View.UNKNOWN
