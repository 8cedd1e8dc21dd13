"""The `litert` pose backend: BlazePose's two networks on LiteRT, checked against MediaPipe.

Parity runs real clips through the backend and compares with the landmarks the mediapipe
backend recorded from the same frames (tests/fixtures/landmarks). A wrong anchor, box
decode, ROI rotation or projection moves landmarks by whole percent of the frame, far
outside the targets; the two runtimes' own numerical noise stays well inside them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_data import LANDMARKS, clip_path, fixture_name

from gymcorner.config import PoseConfig
from gymcorner.errors import ConfigError, FrameError, ModelError
from gymcorner.motion.landmarks import Landmark, PoseSample
from gymcorner.recording import load_recording
from gymcorner.vision.blazepose.backend import LiteRtPose
from gymcorner.vision.blazepose.detector import NUM_ANCHORS, ssd_anchor_centres, weighted_nms
from gymcorner.vision.blazepose.roi import Roi
from gymcorner.vision.blazepose.runtime import DETECTOR_MODEL, LANDMARK_MODEL
from gymcorner.vision.models import FETCH_HINT, default_models_dir
from gymcorner.vision.pose import available_backends, create_estimator

MODELS_DIR = default_models_dir(None)
MIN_VISIBILITY = 0.5
MEAN_TARGET = 0.005  # fraction of the frame diagonal
P95_TARGET = 0.015
PARITY_CLIPS = (
    "kaiakol_exercises/squat/correct/squat_correct_008.avi",
    "kaiakol_exercises/squat/correct/squat_correct_003.mp4",
    "pushfit_pushup_form/correct/correct1.mp4",
)


def require_pose_models() -> Path:
    missing = [n for n in (DETECTOR_MODEL, LANDMARK_MODEL) if not (MODELS_DIR / n).is_file()]
    if missing:
        message = f"pose model {missing[0]} not provisioned in {MODELS_DIR}: run `gymcorner models fetch`"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI runs it before the tests)")
        pytest.skip(message)
    return MODELS_DIR


@pytest.fixture(scope="module")
def pose() -> LiteRtPose:
    require_pose_models()
    return LiteRtPose(PoseConfig())


def frames(clip: str, limit: int | None = None) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(clip_path(clip)))
    out: list[np.ndarray] = []
    while limit is None or len(out) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        out.append(frame)
    capture.release()
    return out


def run_clip(clip: str) -> list[PoseSample]:
    from gymcorner.config import load_config
    from gymcorner.vision.sources import open_source

    config = load_config(None)
    source = open_source(config.source.model_copy(update={"realtime": False, "loop": False}), str(clip_path(clip)))
    estimator = LiteRtPose(config.pose)
    try:
        return [estimator.estimate(frame.image, frame.t_s) for frame in source]
    finally:
        source.close()
        estimator.close()


# ------------------------------------------------------------------------ parity


@pytest.mark.shared_data
@pytest.mark.model
@pytest.mark.parametrize("clip", PARITY_CLIPS)
def test_landmarks_match_the_mediapipe_recording(clip: str) -> None:
    require_pose_models()
    reference = load_recording(LANDMARKS / fixture_name(clip))
    samples = run_clip(clip)
    assert len(samples) == len(reference)
    present = np.array([s.present for s in samples])
    assert np.mean(present == reference.present) >= 0.95
    both = present & reference.present
    assert both.sum() >= 0.9 * reference.present.sum()
    scale = np.array([reference.width, reference.height])
    diagonal = math.hypot(reference.width, reference.height)
    distances = []
    for i in np.flatnonzero(both):
        visible = reference.image[i, :, 3] >= MIN_VISIBILITY
        ours = samples[i].image
        assert ours is not None and samples[i].world is not None
        d = np.linalg.norm((ours[:, :2] - reference.image[i, :, :2]) * scale, axis=1) / diagonal
        distances.append(d[visible])
    dist = np.concatenate(distances)
    assert dist.mean() <= MEAN_TARGET, f"mean {100 * dist.mean():.2f}% of the diagonal"
    assert np.percentile(dist, 95) <= P95_TARGET, f"p95 {100 * np.percentile(dist, 95):.2f}% of the diagonal"


@pytest.mark.shared_data
@pytest.mark.model
def test_world_landmarks_are_hip_centred_metres_like_mediapipe() -> None:
    require_pose_models()
    clip = PARITY_CLIPS[0]
    reference = load_recording(LANDMARKS / fixture_name(clip))
    samples = run_clip(clip)
    i = int(np.flatnonzero(reference.present)[len(reference) // 2])
    ours = samples[i].world
    assert ours is not None
    hips = (ours[Landmark.LEFT_HIP] + ours[Landmark.RIGHT_HIP]) / 2
    assert np.linalg.norm(hips) < 0.05
    # Metres, not pixels: close to the reference within a few centimetres on the main joints.
    joints = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE]
    assert np.abs(ours[joints] - reference.world[i][joints]).max() < 0.08


# ---------------------------------------------------------------------- tracking


@pytest.mark.shared_data
@pytest.mark.model
def test_the_detector_runs_once_while_the_person_is_tracked() -> None:
    require_pose_models()
    clip = PARITY_CLIPS[0]
    images = frames(clip, 20)
    estimator = LiteRtPose(PoseConfig())
    samples = [estimator.estimate(image, i / 30.0) for i, image in enumerate(images)]
    assert all(s.present for s in samples)
    assert estimator.detector_invocations == 1
    assert estimator.landmark_invocations == len(images)
    estimator.reset()
    estimator.estimate(images[0], 10.0)
    assert estimator.detector_invocations == 2
    # Another frame size (another source): the old ROI is in the wrong pixels, detect again.
    smaller = cv2.resize(images[1], (images[1].shape[1] // 2, images[1].shape[0] // 2), interpolation=cv2.INTER_AREA)
    assert estimator.estimate(smaller, 10.033).present
    assert estimator.detector_invocations == 3


@pytest.mark.shared_data
@pytest.mark.model
def test_losing_the_person_sends_the_next_frame_back_to_the_detector() -> None:
    require_pose_models()
    images = frames(PARITY_CLIPS[0], 2)
    estimator = LiteRtPose(PoseConfig())
    assert estimator.estimate(images[0], 0.0).present
    assert not estimator.estimate(np.zeros_like(images[0]), 0.033).present  # tracked ROI sees no one
    before = estimator.detector_invocations
    assert estimator.estimate(images[1], 0.066).present
    assert estimator.detector_invocations == before + 1


# ------------------------------------------------------------------ odd frames


@pytest.mark.model
@pytest.mark.parametrize("shape", [(480, 640, 3), (1, 1, 3), (1, 1), (7, 3000, 3)])
def test_blank_noise_and_tiny_frames_have_no_person(pose: LiteRtPose, shape: tuple[int, ...]) -> None:
    pose.reset()
    rng = np.random.default_rng(7)
    for image in (np.zeros(shape, np.uint8), rng.integers(0, 256, shape, dtype=np.uint8)):
        sample = pose.estimate(image, 0.0)
        assert not sample.present and (sample.width, sample.height) == (shape[1], shape[0])


@pytest.mark.shared_data
@pytest.mark.model
def test_gray_bgra_and_huge_frames_are_taken(pose: LiteRtPose) -> None:
    image = frames(PARITY_CLIPS[0], 1)[0]
    height, width = image.shape[:2]
    pose.reset()
    bgr = pose.estimate(image, 0.0)
    pose.reset()
    bgra = pose.estimate(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA), 0.0)
    assert bgr.image is not None and bgra.image is not None
    np.testing.assert_allclose(bgra.image, bgr.image, atol=1e-6)  # alpha is dropped on the crop
    pose.reset()
    assert pose.estimate(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 0.0).present
    pose.reset()
    huge = cv2.resize(image, (8000, 6000), interpolation=cv2.INTER_LINEAR)
    big = pose.estimate(huge, 0.0)
    assert big.image is not None and (big.width, big.height) == (8000, 6000)
    # The same person in the same place, in normalised coordinates (the aspect ratio changed).
    visible = bgr.image[:, 3] >= MIN_VISIBILITY
    assert np.abs(big.image[visible, :2] - bgr.image[visible, :2]).mean() < 0.02
    assert (height, width) == image.shape[:2]


@pytest.mark.model
@pytest.mark.parametrize(
    "image",
    [
        np.zeros((10, 10, 3), np.float32),
        np.zeros((10, 10, 3), np.uint16),
        np.zeros((10, 10, 2), np.uint8),
        np.zeros((1, 10, 10, 3), np.uint8),
        np.zeros((0, 10, 3), np.uint8),
        np.zeros(10, np.uint8),
    ],
)
def test_frames_of_the_wrong_kind_are_refused_clearly(pose: LiteRtPose, image: np.ndarray) -> None:
    with pytest.raises(FrameError) as info:
        pose.estimate(image, 0.0)
    assert isinstance(info.value, ValueError) and "pose input" in str(info.value)


# ------------------------------------------------------------------ models, registry


def test_missing_model_file_is_one_line_with_the_fetch_hint(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        LiteRtPose(PoseConfig(), models_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message and "missing" in message and FETCH_HINT in message


@pytest.mark.model
def test_corrupt_model_file_is_refused_with_the_fetch_hint(tmp_path: Path) -> None:
    source = require_pose_models()
    shutil.copy(source / DETECTOR_MODEL, tmp_path / DETECTOR_MODEL)
    data = (source / LANDMARK_MODEL).read_bytes()
    (tmp_path / LANDMARK_MODEL).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError) as info:
        LiteRtPose(PoseConfig(), models_dir=tmp_path)
    assert "corrupt" in str(info.value) and FETCH_HINT in str(info.value)


def test_only_the_full_landmark_model_is_offered() -> None:
    with pytest.raises(ConfigError):
        LiteRtPose(PoseConfig(model_complexity=0))


@pytest.mark.model
def test_registered_as_litert_and_built_from_config() -> None:
    require_pose_models()
    assert "litert" in available_backends()
    estimator = create_estimator(PoseConfig(backend="litert", num_threads=1))
    assert estimator.name == "litert"
    estimator.close()


# ------------------------------------------------------------ geometry, no models


def test_anchor_grid_is_the_pose_detectors() -> None:
    anchors = ssd_anchor_centres()
    assert anchors.shape == (NUM_ANCHORS, 2)
    # stride 8: 28x28 cells, two anchors each, row-major from the top-left cell.
    np.testing.assert_allclose(anchors[:3], [[0.5 / 28, 0.5 / 28]] * 2 + [[1.5 / 28, 0.5 / 28]])
    # the three stride-32 layers share a 7x7 grid with six anchors per cell
    np.testing.assert_allclose(anchors[-6:], [[6.5 / 7, 6.5 / 7]] * 6)


def test_weighted_nms_averages_a_cluster_and_keeps_the_best_score() -> None:
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0], [5.0, 5.0, 6.0, 6.0]])
    keypoints = np.array([[[0.0, 0.0]] * 4, [[1.0, 1.0]] * 4, [[9.0, 9.0]] * 4])
    scores = np.array([0.9, 0.6, 0.8])
    found = weighted_nms(boxes, keypoints, scores, max_detections=3)
    assert [round(s, 3) for s, _, _ in found] == [0.9, 0.8]
    np.testing.assert_allclose(found[0][1], [0.04, 0.0, 1.04, 1.0])
    np.testing.assert_allclose(found[0][2], [[0.4, 0.4]] * 4)


def test_roi_upright_when_the_scale_point_is_above_the_centre() -> None:
    roi = Roi.from_alignment_points(np.array([0.5, 0.6]), np.array([0.5, 0.4]), 1000, 500)
    assert roi.rotation == pytest.approx(0.0)
    assert roi.side_px == pytest.approx(2 * 100 * 1.25)
    lying = Roi.from_alignment_points(np.array([0.5, 0.5]), np.array([0.6, 0.5]), 1000, 500)
    assert lying.rotation == pytest.approx(math.pi / 2)


@pytest.mark.parametrize("rotation", [0.0, 0.7, -2.0])
def test_projection_inverts_the_crop(rotation: float) -> None:
    roi = Roi(300.0, 200.0, 150.0, rotation)
    width, height = 640, 480
    matrix = roi.crop_matrix(256)
    frame_px = np.array([[310.0, 190.0], [250.0, 260.0], [360.0, 150.0]])
    crop_px = frame_px @ matrix[:, :2].T + matrix[:, 2]
    crop_norm = np.hstack([crop_px / 256.0, np.zeros((3, 1))])
    back = roi.project(crop_norm, width, height)[:, :2] * [width, height]
    np.testing.assert_allclose(back, frame_px, atol=1e-9)


@pytest.mark.shared_data
@pytest.mark.model
def test_bench_runs_the_litert_backend(tmp_path: Path) -> None:
    require_pose_models()
    from gymcorner.cli import main as cli_main

    config = tmp_path / "offline.toml"
    config.write_text("[mqtt]\nenabled = false\n")
    out = tmp_path / "bench.json"
    video = clip_path(PARITY_CLIPS[0])
    argv = [
        "bench",
        str(video),
        "--config",
        str(config),
        "--backend",
        "litert",
        "--max-frames",
        "5",
        "--json",
        str(out),
        "-q",
    ]
    assert cli_main(argv) == 0
    result = json.loads(out.read_text())
    assert result["backend"] == "litert" and result["frames"] == 5
    # prepare only checks the frame; the crops are cut inside the model stage
    assert result["stages_ms"]["pose_prep"]["p95"] <= result["stages_ms"]["pose_model"]["p50"]
