"""Exercise recognition: feature invariances, the model file, the live `stable` flag, and
replays of real recordings through the shipped model.

The replayed clips were part of the shipped model's training data, so the replay tests
guard against regressions (a broken feature, a stale model file); they are not an
accuracy measurement. That is tools/train_recognizer.py's leave-one-source-out table.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from shared_data import LANDMARKS

from gymcorner.assets import DEFAULT_MODEL_PATH, load_recognizer_model, make_recognizer
from gymcorner.coach import recognition as rec
from gymcorner.coach.recognition import ExerciseRecognizer, RecognizerModel, classify_clip
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.motion.landmarks import PoseSample
from gymcorner.recording import load_recording

SQUAT = LANDMARKS / "navya_squat_form__correct__squat_correct_videoplayback.npz"
FRONTAL_SQUAT = LANDMARKS / "kaiakol_exercises__squat__incorrect__squat_incorrect_004.npz"
PUSH_UP = LANDMARKS / "pushfit_pushup_form__correct__correct111.npz"
PLANK = LANDMARKS / "kaiakol_exercises__plank__correct__plank_correct_002.npz"
_PAIRS = [(L.LEFT_SHOULDER + 2 * k, L.RIGHT_SHOULDER + 2 * k) for k in range(6)] + [
    (L.LEFT_HIP + 2 * k, L.RIGHT_HIP + 2 * k) for k in range(5)
] + [(L.LEFT_EYE_INNER + k, L.RIGHT_EYE_INNER + k) for k in range(3)] + [(L.LEFT_EAR, L.RIGHT_EAR),
                                                                          (L.MOUTH_LEFT, L.MOUTH_RIGHT)]


def samples_of(path) -> list[PoseSample]:
    if not path.exists():
        pytest.skip(f"fixture recording missing: {path.name}")
    return list(load_recording(path).samples())


def points_of(samples: list[PoseSample]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([s.t_s for s in samples]), np.stack([rec.sample_points(s) for s in samples])


@pytest.fixture(scope="module")
def squat() -> tuple[np.ndarray, np.ndarray]:
    return points_of(samples_of(SQUAT))


@pytest.fixture(scope="module")
def model() -> RecognizerModel:
    return load_recognizer_model()


def windows(t: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return rec.clip_windows(t, pts)


def same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-7, equal_nan=True)


def test_features_ignore_body_size_and_position(squat) -> None:
    t, pts = squat
    base = windows(t, pts)
    assert base.shape[1] == len(rec.FEATURE_NAMES) and len(base) > 5
    same(windows(t, pts * 2.7), base)
    same(windows(t, pts + np.array([340.0, -120.0])), base)


def test_features_ignore_mirroring_and_which_side_is_left(squat) -> None:
    t, pts = squat
    base = windows(t, pts)
    mirrored = pts.copy()
    mirrored[..., 0] = 1000.0 - mirrored[..., 0]
    same(windows(t, mirrored), base)
    swapped = mirrored.copy()
    for left, right in _PAIRS:
        swapped[:, [left, right]] = mirrored[:, [right, left]]
    same(windows(t, swapped), base)


@pytest.mark.parametrize("yaw_deg", [-20.0, -10.0, 10.0, 20.0])
def test_a_small_camera_turn_changes_little(model, yaw_deg) -> None:
    """The same squat seen from a camera turned by yaw_deg (world landmarks rotated about
    the vertical and projected): features move by a fraction of their spread in the
    training data, and the verdict holds."""
    samples = samples_of(FRONTAL_SQUAT)
    present = [s for s in samples if s.world is not None and np.isfinite(s.world).all()]
    t = np.array([s.t_s for s in present])
    world = np.stack([s.world for s in present]).astype(np.float64)
    vis = np.stack([s.image[:, 3] for s in present])

    def project(deg: float) -> np.ndarray:
        a = np.radians(deg)
        x = world[..., 0] * np.cos(a) + world[..., 2] * np.sin(a)
        pts = np.stack([x, world[..., 1]], axis=-1) * 500.0
        pts[vis < rec.VISIBILITY_MIN] = np.nan
        return pts

    front, turned = windows(t, project(0.0)), windows(t, project(yaw_deg))
    change = np.nanmedian(np.abs((turned - front) / model.std))
    assert change < 0.25
    assert rec.classify_windows(model, turned)[0] == rec.classify_windows(model, front)[0] == "squat"


def test_missing_landmarks_give_nan_features_and_still_a_verdict(squat, model) -> None:
    """The CSV training rows hold a subset of landmarks; live, hidden ones are masked."""
    t, pts = squat
    upper_body = np.full_like(pts, np.nan)
    keep = [L.NOSE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW,
            L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_HIP, L.RIGHT_HIP]
    upper_body[:, keep] = pts[:, keep]
    win = windows(t, upper_body)
    knee = rec.FEATURE_NAMES.index("knee_angle_mean")
    elbow = rec.FEATURE_NAMES.index("elbow_angle_mean")
    assert np.isnan(win[:, knee]).all() and np.isfinite(win[:, elbow]).all()
    proba = model.predict_proba(win)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_model_json_round_trip(model, squat) -> None:
    doc = json.loads(json.dumps(model.to_json()))
    again = RecognizerModel.from_json(doc)
    assert again.labels == model.labels == rec.LABELS
    win = windows(*squat)
    np.testing.assert_array_equal(again.predict_proba(win), model.predict_proba(win))
    with pytest.raises(ValueError):
        RecognizerModel.from_json({**doc, "format": "pickle"})
    with pytest.raises(ValueError):
        RecognizerModel.from_json({**doc, "feature_names": doc["feature_names"][:-1]})


def test_shipped_model_is_small_plain_json(model) -> None:
    text = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    assert json.loads(text)["format"] == rec.MODEL_FORMAT
    assert rec.model_size(model) < 20_000


def test_recognition_is_deterministic(model) -> None:
    samples = samples_of(SQUAT)
    runs = []
    for _ in range(2):
        r = ExerciseRecognizer(model)
        runs.append([r.update(s) for s in samples])
    assert runs[0] == runs[1]
    assert classify_clip(samples, model) == classify_clip(samples, model)


def constant_model(label: str) -> RecognizerModel:
    """A model that always answers `label` (zero weights, one positive bias)."""
    n_feat, n_cls = len(rec.FEATURE_NAMES), len(rec.LABELS)
    bias = np.where(np.array(rec.LABELS) == label, 5.0, 0.0)
    return RecognizerModel(rec.LABELS, rec.FEATURE_NAMES, np.zeros(n_feat), np.ones(n_feat),
                           ((np.zeros((n_feat, n_cls)), bias),))


def test_stable_needs_the_label_on_top_for_stable_s() -> None:
    samples = samples_of(SQUAT)
    r = ExerciseRecognizer(constant_model("lunge"), stable_s=1.0)
    out = [r.update(s) for s in samples]
    first_ready = next(o for o in out if o.ready)
    assert all(o.label == rec.OTHER and not o.stable for o in out if not o.ready)
    for o in out:
        if o.ready:
            assert o.label == "lunge"
            assert o.stable == (o.t_s - first_ready.t_s >= 1.0)
    assert out[-1].stable


def unsure_model(first: str, second: str) -> RecognizerModel:
    """A model torn between two labels, the first a little ahead (0.40 against 0.36)."""
    n_feat, n_cls = len(rec.FEATURE_NAMES), len(rec.LABELS)
    labels = np.array(rec.LABELS)
    bias = np.where(labels == first, 3.0, np.where(labels == second, 2.9, 0.0))
    return RecognizerModel(rec.LABELS, rec.FEATURE_NAMES, np.zeros(n_feat), np.ones(n_feat),
                           ((np.zeros((n_feat, n_cls)), bias),))


def test_a_top_label_the_model_is_unsure_of_never_becomes_stable() -> None:
    """Top for all of the clip but less likely than the others together: the exercise stays
    unknown (the coach runs no form rule for it and the label-free counter counts)."""
    samples = samples_of(SQUAT)
    r = ExerciseRecognizer(unsure_model("squat", "lunge"), stable_s=0.5)
    out = [r.update(s) for s in samples if s.image is not None]
    ready = [o for o in out if o.ready]
    assert ready and all(o.label == "squat" and 0.35 < o.probabilities["squat"] < 0.5 for o in ready)
    assert not any(o.stable for o in out)
    sure = ExerciseRecognizer(unsure_model("squat", "lunge"), stable_s=0.5, min_probability=0.35)
    assert [sure.update(s) for s in samples][-1].stable


def test_no_person_is_other_and_never_ready(model) -> None:
    r = ExerciseRecognizer(model, stable_s=0.5)
    out = [r.update(PoseSample(t_s=k / 30, width=640, height=480)) for k in range(60)]
    assert all(o.label == rec.OTHER and not o.ready for o in out)
    assert out[-1].stable  # "nobody exercising" is itself a stable verdict


def test_a_person_leaving_empties_the_window(model) -> None:
    samples = samples_of(SQUAT)
    r = ExerciseRecognizer(model)
    for s in samples:
        r.update(s)
    last_t = samples[-1].t_s
    gone = [r.update(dataclasses.replace(samples[-1], t_s=last_t + k / 30, image=None, world=None))
            for k in range(1, 60)]
    assert not gone[-1].ready and gone[-1].label == rec.OTHER


@pytest.mark.parametrize("path, label", [(SQUAT, "squat"), (PUSH_UP, "push_up"), (PLANK, "plank")])
def test_replay_through_the_shipped_model(path, label, model) -> None:
    samples = samples_of(path)
    assert classify_clip(samples, model)[0] == label
    r = ExerciseRecognizer(model, stable_s=1.0)
    out = [r.update(s) for s in samples]
    assert any(o.stable and o.label == label for o in out)


def test_default_model_loads_through_make_recognizer() -> None:
    r = make_recognizer()
    assert r.model.labels == rec.LABELS


@pytest.mark.parametrize(
    "stem", ["workouttracker_reps__push-ups__videoplayback", "navya_squat_form__correct__squat_correct_strongher_side"]
)
def test_features_computed_in_batches_give_the_frame_by_frame_verdicts(stem: str, model) -> None:
    """The recogniser featurises the frames since its last run in one batch; doing it on
    every frame instead must not change a single verdict (a person leaving included)."""
    samples = list(load_recording(LANDMARKS / f"{stem}.npz").samples())
    gone = [PoseSample(s.t_s, s.width, s.height, None, None) for s in samples[100:160]]
    back = [PoseSample(s.t_s + 2.0, s.width, s.height, s.image, s.world) for s in samples[160:]]
    stream = samples[:100] + gone + back
    lazy, eager = ExerciseRecognizer(model), ExerciseRecognizer(model)
    for s in stream:
        a = lazy.update(s)
        b = eager.update(s)
        eager._featurise_pending()  # as if every frame had been featurised at once
        assert (a.label, a.ready, a.stable, a.probabilities) == (b.label, b.ready, b.stable, b.probabilities), s.t_s
