"""What field calibration measures, from pose samples alone (pure: no clock, no I/O).

The person stands in the corner, then squats a few times. From the landmarks we measure
the framing (whole body in view, how much of the frame the body fills, the lighting),
the camera view (frontal or lateral, decided by the daemon's own `ViewTracker`), the
person standing (shoulder width, natural stance, limb lengths), each squat (depth, lean
over the shins, knee tracking) and how far the head turned (the head x range).
Everything is measured with the coach's own `squat_metrics`, so a threshold derived from
it means exactly what the coach will compare it with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gymcorner.avatar.head import face_yaw_deg, yaw_to_x
from gymcorner.coach.hysteresis import ThresholdCycle
from gymcorner.coach.squat_metrics import SquatMetrics, squat_metrics
from gymcorner.config import Config
from gymcorner.motion.geometry import distance
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import View, ViewTracker

FRAMING_POINTS = (
    L.NOSE,
    L.LEFT_SHOULDER,
    L.RIGHT_SHOULDER,
    L.LEFT_HIP,
    L.RIGHT_HIP,
    L.LEFT_KNEE,
    L.RIGHT_KNEE,
    L.LEFT_ANKLE,
    L.RIGHT_ANKLE,
)
# Side-on, the far limb is hidden behind the near one: one of each pair must be seen.
FRAMING_PAIRS = (
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_KNEE, L.RIGHT_KNEE),
    (L.LEFT_ANKLE, L.RIGHT_ANKLE),
)
LIMBS = {
    "upper_arm_m": ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW)),
    "forearm_m": ((L.LEFT_ELBOW, L.LEFT_WRIST), (L.RIGHT_ELBOW, L.RIGHT_WRIST)),
    "femur_m": ((L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_HIP, L.RIGHT_KNEE)),
    "shin_m": ((L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_KNEE, L.RIGHT_ANKLE)),
}


@dataclass
class Rep:
    """One descent and rise: from the frame flexion passes `squat_min` to the frame it is back under `rep_top`."""

    start: int
    end: int
    deepest_flexion_deg: float
    max_lean_over_shin_deg: float | None
    max_knee_out_sw: float | None  # (knee span - ankle span) / shoulder width: varus side
    min_knee_over_ankle: float | None  # knee span / ankle span once bent: valgus side


class RepCounter:
    """Counts squats with the coach's own descent hysteresis (`ThresholdCycle`, as the
    `DescentTracker` uses it): image-plane flexion between two thresholds."""

    def __init__(self, down_deg: float, up_deg: float) -> None:
        self.down_deg, self.up_deg = down_deg, up_deg
        self._cycle: ThresholdCycle[int] = ThresholdCycle(down_deg, up_deg)
        self.count = 0

    def update(self, index: int, flexion_deg: float | None) -> tuple[int, int] | None:
        """Feed one frame; returns (start, end) when a rep has just finished."""
        cycle = self._cycle.update(index, flexion_deg)
        if cycle is None:
            return None
        self.count += 1
        return cycle.start, cycle.end


@dataclass
class Measurements:
    frames: int
    frames_with_person: int
    t_s: np.ndarray
    flexion_deg: np.ndarray  # per frame, NaN where unknown (for the plot)
    lean_over_shin_deg: np.ndarray
    stance_sw: np.ndarray  # ankle span / shoulder width per frame
    knee_over_ankle: np.ndarray  # knee span / ankle span per frame (knee tracking, frontal)
    luma: np.ndarray
    whole_body_fraction: float  # present frames with every framing point visible and inside
    body_height_fraction: float  # median nose-to-ankle height / frame height
    median_luma: float
    view: View
    view_frames: dict[str, int]
    standing_frames: int
    shoulder_width_px: float | None
    shoulder_width_m: float | None
    natural_stance_sw: float | None  # ankle span / shoulder width, standing
    limbs_m: dict[str, float]
    reps: list[Rep] = field(default_factory=list)
    face_yaw_range_deg: tuple[float, float] | None = None
    head_x_range: tuple[float, float] | None = None


def _median(values: list[float]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _whole_body(sample: PoseSample, min_visibility: float) -> bool:
    assert sample.image is not None
    pts = sample.image[list(FRAMING_POINTS)]
    inside = (pts[:, 0] >= 0) & (pts[:, 0] <= 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= 1)
    vis = sample.image[:, 3]
    seen = vis[L.NOSE] >= min_visibility and all(max(vis[a], vis[b]) >= min_visibility for a, b in FRAMING_PAIRS)
    return bool(np.all(inside) and seen)


def _body_height(sample: PoseSample) -> float:
    assert sample.image is not None
    feet = max(float(sample.image[L.LEFT_ANKLE, 1]), float(sample.image[L.RIGHT_ANKLE, 1]))
    return feet - float(sample.image[L.NOSE, 1])


def _limbs(world: np.ndarray, vis: np.ndarray, min_visibility: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pairs in LIMBS.items():
        lengths = [
            distance(world[a], world[b]) for a, b in pairs if vis[a] >= min_visibility and vis[b] >= min_visibility
        ]
        if lengths:
            out[name] = float(np.mean(lengths))
    return out


def _rep(start: int, end: int, metrics: list[SquatMetrics | None], config: Config) -> Rep:
    squat = config.coach.squat
    window = [m for m in metrics[start : end + 1] if m is not None]
    flexions = [m.knee_flexion_deg for m in window if m.knee_flexion_deg is not None]
    bent = [m for m in window if (m.knee_flexion_deg or 0.0) >= squat.squat_min_knee_flexion_deg]
    leans = [
        m.trunk_lean_deg - m.shin_lean_deg for m in bent if m.trunk_lean_deg is not None and m.shin_lean_deg is not None
    ]
    knee_out = [
        (m.knee_span_px - m.ankle_span_px) / m.shoulder_span_px
        for m in bent
        if m.knee_span_px and m.ankle_span_px and m.shoulder_span_px
    ]
    valgus_gate = squat.knee_valgus_min_flexion_deg
    knee_in = [
        m.knee_span_px / m.ankle_span_px
        for m in window
        if m.knee_span_px
        and m.ankle_span_px
        and ((m.knee_flexion_3d_deg if m.knee_flexion_3d_deg is not None else m.knee_flexion_deg) or 0.0) >= valgus_gate
    ]
    return Rep(
        start,
        end,
        max(flexions) if flexions else math.nan,
        float(np.percentile(leans, 95)) if leans else None,
        float(np.percentile(knee_out, 95)) if knee_out else None,
        float(np.percentile(knee_in, 5)) if knee_in else None,
    )


def measure(samples: list[PoseSample], lumas: list[float], config: Config) -> Measurements:
    """Everything calibration needs from one pass over the samples (and their frame brightness)."""
    coach = config.coach
    tracker = ViewTracker(coach.view)
    counter = RepCounter(coach.squat.squat_min_knee_flexion_deg, coach.squat.rep_top_knee_flexion_deg)
    metrics: list[SquatMetrics | None] = []
    views: dict[str, int] = {}
    whole = with_metrics = 0
    body_heights: list[float] = []
    spans: list[tuple[int, int]] = []
    shoulders_px: list[float] = []
    shoulders_m: list[float] = []
    stances: list[float] = []
    limbs: dict[str, list[float]] = {name: [] for name in LIMBS}
    yaws: list[float] = []
    n = len(samples)
    flexion = np.full(n, np.nan)
    lean = np.full(n, np.nan)
    stance = np.full(n, np.nan)
    knee_ratio = np.full(n, np.nan)
    for i, sample in enumerate(samples):
        m = squat_metrics(sample, coach.min_visibility)
        metrics.append(m)
        state = tracker.update(sample)
        if not sample.present or m is None:
            continue
        views[state.view.value] = views.get(state.view.value, 0) + 1
        if _whole_body(sample, coach.min_visibility):
            whole += 1
            body_heights.append(_body_height(sample))
        with_metrics += 1
        if m.knee_flexion_deg is not None:
            flexion[i] = m.knee_flexion_deg
        if m.trunk_lean_deg is not None and m.shin_lean_deg is not None:
            lean[i] = m.trunk_lean_deg - m.shin_lean_deg
        if m.ankle_span_px and m.shoulder_span_px:
            stance[i] = m.ankle_span_px / m.shoulder_span_px
        if m.knee_span_px and m.ankle_span_px:
            knee_ratio[i] = m.knee_span_px / m.ankle_span_px
        span = counter.update(i, m.knee_flexion_deg)
        if span is not None:
            spans.append(span)
        standing_flexion = m.knee_flexion_3d_deg if m.knee_flexion_3d_deg is not None else m.knee_flexion_deg
        if standing_flexion is not None and standing_flexion < coach.squat.rep_top_knee_flexion_deg:
            if m.shoulder_span_px:
                shoulders_px.append(m.shoulder_span_px)
                if math.isfinite(stance[i]):
                    stances.append(float(stance[i]))
            if sample.world is not None:
                vis = sample.visibility()
                if vis[L.LEFT_SHOULDER] >= coach.min_visibility and vis[L.RIGHT_SHOULDER] >= coach.min_visibility:
                    shoulders_m.append(distance(sample.world[L.LEFT_SHOULDER], sample.world[L.RIGHT_SHOULDER]))
                for name, value in _limbs(sample.world, vis, coach.min_visibility).items():
                    limbs[name].append(value)
        if sample.world is not None:
            yaw = face_yaw_deg(sample.world, sample.visibility())
            if yaw is not None:
                yaws.append(yaw)
    present = int(sum(s.present for s in samples))
    judged = {k: v for k, v in views.items() if k != View.UNKNOWN.value}
    view = View(max(judged, key=judged.__getitem__)) if judged else View.UNKNOWN
    yaw_range = (float(np.percentile(yaws, 5)), float(np.percentile(yaws, 95))) if len(yaws) >= 5 else None
    x_range = None
    if yaw_range is not None:
        x_range = (
            yaw_to_x(yaw_range[0], config.avatar.head_x_min, config.avatar.head_x_max),
            yaw_to_x(yaw_range[1], config.avatar.head_x_min, config.avatar.head_x_max),
        )
    return Measurements(
        frames=n,
        frames_with_person=present,
        t_s=np.array([s.t_s for s in samples], dtype=np.float64),
        flexion_deg=flexion,
        lean_over_shin_deg=lean,
        stance_sw=stance,
        knee_over_ankle=knee_ratio,
        luma=np.asarray(lumas, dtype=np.float64),
        whole_body_fraction=whole / with_metrics if with_metrics else 0.0,
        body_height_fraction=_median(body_heights) or 0.0,
        median_luma=float(np.median(lumas)) if len(lumas) else math.nan,
        view=view,
        view_frames=views,
        standing_frames=len(shoulders_px),
        shoulder_width_px=_median(shoulders_px),
        shoulder_width_m=_median(shoulders_m),
        natural_stance_sw=_median(stances),
        limbs_m={k: v for k, vs in limbs.items() if (v := _median(vs)) is not None},
        reps=[_rep(a, b, metrics, config) for a, b in spans],
        face_yaw_range_deg=yaw_range,
        head_x_range=x_range,
    )
