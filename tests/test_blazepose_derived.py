"""The derived pose model files: the same outputs bit for bit, made once, checked, mapped, given back.

Real model files (`gymcorner models fetch`), real frames of a labelled clip, real mappings of
this process (/proc/self/smaps).
"""

from __future__ import annotations

import mmap
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_blazepose_prune import crop_tensor, outputs, real_frame, shapes
from test_litert_pose import require_pose_models

from gymcorner.vision.blazepose import derived, prune
from gymcorner.vision.blazepose.detector import PoseDetector
from gymcorner.vision.blazepose.landmarks import READ_OUTPUTS, LandmarkNetwork
from gymcorner.vision.blazepose.runtime import DETECTOR_MODEL, LANDMARK_MODEL
from gymcorner.vision.face import open_interpreter
from gymcorner.vision.models import fetch_models

DENSIFY = 124  # TFLite's builtin operator code


def resident_kb(path: Path) -> int:
    """This process's resident memory in its mappings of the file at `path`."""
    target, total, inside = str(path.resolve()), 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields[0].split("-")) == 2 and ":" not in fields[0]:
                inside = len(fields) >= 6 and fields[5] == target
            elif inside and fields[0] == "Rss:":
                total += int(fields[1])
    return total


def operator_codes(model: bytes) -> set[int]:
    from ai_edge_litert import schema_py_generated as schema

    root = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    codes = [max(int(c.builtinCode), int(c.deprecatedBuiltinCode)) for c in root.operatorCodes]
    return {codes[op.opcodeIndex] for op in root.subgraphs[0].operators}


def detector_tensor() -> np.ndarray:
    """A real frame with a person in it, as the detector's 224x224 input."""
    rgb = cv2.cvtColor(cv2.resize(real_frame(), (224, 224)), cv2.COLOR_BGR2RGB)
    return (rgb.astype(np.float32) / 127.5 - 1.0)[None]


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """A models folder of the two verified pose files and nothing derived yet."""
    source = require_pose_models()
    folder = tmp_path / "models"
    folder.mkdir()
    for name in (DETECTOR_MODEL, LANDMARK_MODEL):
        shutil.copy(source / name, folder / name)
    return folder


def test_the_detector_with_its_weights_stored_dense_computes_the_same_bit_for_bit() -> None:
    path = require_pose_models() / DETECTOR_MODEL
    original = path.read_bytes()
    dense = prune.dense_weights(original)
    assert dense is not None
    assert DENSIFY in operator_codes(original) and DENSIFY not in operator_codes(dense)
    whole, rewritten = open_interpreter(path, 1), open_interpreter(path, 1, dense)
    assert shapes(rewritten) == shapes(whole)
    tensor = detector_tensor()
    expected, got = outputs(whole, tensor), outputs(rewritten, tensor)
    scores = next(v for k, v in expected.items() if k[-1] == 1)
    assert float(1 / (1 + np.exp(-scores.max()))) > 0.5  # a person: the comparison is of a real detection
    for shape, value in expected.items():
        np.testing.assert_array_equal(got[shape], value)
    assert prune.dense_weights(dense) is None  # nothing left to expand


def test_a_network_runs_its_derived_file_made_once_and_several_share_it(models: Path) -> None:
    first = LandmarkNetwork(models / LANDMARK_MODEL, 1)
    made = first.network.mapped
    assert made is not None and made.parent == models / derived.DERIVED_DIR
    assert shapes(first.network._interpreter) == sorted(READ_OUTPUTS)  # the pruned network
    stamp = made.stat().st_mtime_ns
    second = LandmarkNetwork(models / LANDMARK_MODEL, 1)
    assert second.network.mapped == made and made.stat().st_mtime_ns == stamp  # not made again
    tensor = crop_tensor()
    for x, y in zip(
        first.network.run(tensor, first._outputs), second.network.run(tensor, second._outputs), strict=True
    ):
        np.testing.assert_array_equal(x, y)
    detector = PoseDetector(models / DETECTOR_MODEL, 1)
    assert detector.network.mapped is not None and detector.network.mapped.parent == made.parent


def test_derived_files_of_an_older_rewrite_or_another_verified_file_are_removed_when_one_is_made(
    models: Path,
) -> None:
    folder = models / derived.DERIVED_DIR
    folder.mkdir()
    stale = [
        folder / "pose_landmark_full-0123456789abcdef-r1-cc04d272.tflite",
        folder / "pose_landmark_full-e9a5c5cb17f736fa-r0-cc04d272.tflite",
    ]
    other = folder / "pose_detection-0123456789abcdef-r1-5ef5ef03.tflite"  # another model's: not touched
    for path in (*stale, other):
        path.write_bytes(b"old")
    made = derived.make_derived(models / LANDMARK_MODEL, READ_OUTPUTS)
    assert made is not None and made.is_file()
    assert not any(p.exists() for p in stale) and other.exists()


def test_a_derived_file_that_does_not_match_its_checksum_is_made_again_never_run(models: Path) -> None:
    made = derived.make_derived(models / LANDMARK_MODEL, READ_OUTPUTS)
    assert made is not None
    good = made.read_bytes()
    broken = bytearray(good)
    broken[len(broken) // 2] ^= 0xFF  # one weight byte: a model that would load and compute wrong
    made.write_bytes(bytes(broken))
    network = LandmarkNetwork(models / LANDMARK_MODEL, 1)
    assert network.network.mapped == made
    assert made.read_bytes() == good


def test_where_no_derived_file_can_be_written_the_rewrite_runs_from_memory_and_one_line_says_so(
    models: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reference = LandmarkNetwork(require_pose_models() / LANDMARK_MODEL, 1)
    (models / derived.DERIVED_DIR).write_text("a file where the folder should be")  # mkdir fails, even as root
    monkeypatch.setattr(derived, "_memory", {})
    monkeypatch.setattr(derived, "_said", set())
    with caplog.at_level("INFO", logger=derived.__name__):
        first, second = LandmarkNetwork(models / LANDMARK_MODEL, 1), LandmarkNetwork(models / LANDMARK_MODEL, 1)
    assert first.network.mapped is None and second.network.mapped is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "cannot be written" in lines[0] and "models fetch" in lines[0]
    assert shapes(first.network._interpreter) == sorted(READ_OUTPUTS)
    tensor = crop_tensor()
    for x, y in zip(
        first.network.run(tensor, first._outputs), reference.network.run(tensor, reference._outputs), strict=True
    ):
        np.testing.assert_array_equal(x, y)


def test_without_a_schema_module_or_a_derived_file_the_verified_file_runs_as_it_is(
    models: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reference = LandmarkNetwork(require_pose_models() / LANDMARK_MODEL, 1)
    monkeypatch.setattr(prune, "_schema", lambda: None)
    monkeypatch.setattr(derived, "_said", set())
    with caplog.at_level("INFO", logger=derived.__name__):
        network = LandmarkNetwork(models / LANDMARK_MODEL, 1)
    assert network.network.mapped == models / LANDMARK_MODEL
    assert "runs as it is" in caplog.text
    assert not (models / derived.DERIVED_DIR).exists()
    assert (1, 256, 256, 1) in shapes(network.network._interpreter)  # whole: the mask is computed too
    tensor = crop_tensor()
    for x, y in zip(
        network.network.run(tensor, network._outputs), reference.network.run(tensor, reference._outputs), strict=True
    ):
        np.testing.assert_array_equal(x, y)


def test_after_its_first_invoke_a_network_holds_none_of_its_file_s_pages_and_computes_the_same(models: Path) -> None:
    network = LandmarkNetwork(models / LANDMARK_MODEL, 1)
    mapped = network.network.mapped
    assert mapped is not None
    size_kb = mapped.stat().st_size // 1024
    assert resident_kb(mapped) > size_kb // 2  # packing the weights read the file
    tensor = crop_tensor()
    first = [a.copy() for a in network.network.run(tensor, network._outputs)]
    assert resident_kb(mapped) < size_kb // 20
    again = network.network.run(tensor, network._outputs)
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)


def test_release_drops_read_only_mappings_and_never_a_writable_one(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    content = np.random.default_rng(3).integers(0, 256, 4 << 20, dtype=np.uint8).tobytes()
    path.write_bytes(content)
    with open(path, "rb") as f, open(path, "r+b") as g:
        shared = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        private = mmap.mmap(g.fileno(), 0, access=mmap.ACCESS_COPY)  # a private, writable copy
        assert shared[:] == content
        private[:4] = b"mine"
        private[len(content) // 2 :] = content[len(content) // 2 :]  # touch half of its pages
        before = resident_kb(path)
        assert before >= 4 * 1024
        assert derived.release_pages(path) == len(content)  # only the read-only one
        assert resident_kb(path) <= before - 4 * 1024 + 64
        assert private[:4] == b"mine"  # what was written stays
        assert shared[:] == content  # and the released pages read back from the file
        shared.close()
        private.close()


def test_models_fetch_makes_the_derived_files_and_a_second_run_finds_them_intact(tmp_path: Path) -> None:
    source = require_pose_models()
    target = tmp_path / "models"
    lines: list[str] = []
    fetch_models(target, source, log=lines.append)
    made = sorted(line for line in lines if line.startswith("derived"))
    assert len(made) == 2 and all(str(target / derived.DERIVED_DIR) in line for line in made)
    names = sorted(p.name for p in (target / derived.DERIVED_DIR).glob("*.tflite"))
    assert [n.split("-")[0] for n in names] == ["pose_detection", "pose_landmark_full"]
    lines.clear()
    fetch_models(target, source, log=lines.append)
    assert all(line.startswith("ok") for line in lines)


def test_doctor_says_whether_the_derived_files_are_there_and_how_to_write_them(models: Path) -> None:
    from gymcorner.commands.doctor import Status, check_pose_model
    from gymcorner.config import load_config

    config = load_config(None, {"models.dir": str(models)})
    before = check_pose_model(config)
    assert before.status is Status.PASS  # it runs all the same
    assert "no derived file for pose_detection.tflite, pose_landmark_full.tflite" in before.detail
    assert f"gymcorner models fetch --dir {models}" in before.detail
    fetch_models(models, require_pose_models(), log=lambda line: None)
    after = check_pose_model(config)
    assert after.status is Status.PASS and after.detail.endswith("derived files intact")
