"""The recording loader: every bad .npz is one RecordingError, never a library traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gymcorner.errors import RecordingError
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.recording import Recording, load_recording

EDGE_DIR = Path(__file__).resolve().parents[1] / "edge"


def valid_members(n: int = 3) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    samples = [
        PoseSample(
            i / 30,
            640,
            480,
            rng.uniform(0, 1, (NUM_LANDMARKS, 4)).astype(np.float32),
            rng.uniform(-1, 1, (NUM_LANDMARKS, 3)).astype(np.float32),
        )
        for i in range(n)
    ]
    buffer = io.BytesIO()
    Recording.from_samples(samples, fps=30.0, source="synthetic", backend="test").save(buffer)
    with np.load(io.BytesIO(buffer.getvalue())) as z:
        return {name: z[name] for name in z.files}


def npz_bytes(members: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


VALID = npz_bytes(valid_members())


def write(tmp_path: Path, content: bytes, name: str = "rec.npz") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def with_member(name: str, value: Any) -> bytes:
    members = valid_members()
    members[name] = value
    return npz_bytes(members)


def test_a_valid_file_round_trips(tmp_path: Path) -> None:
    rec = load_recording(write(tmp_path, VALID))
    assert len(rec) == 3 and rec.width == 640 and rec.fps == 30.0 and rec.source == "synthetic"


CASES = [
    ("empty", b"", "empty or truncated"),
    ("truncated", VALID[: len(VALID) // 2], "corrupt or truncated"),
    ("version array", with_member("version", np.array([1, 1])), "version must be a single integer"),
    ("width array", with_member("width", np.arange(3)), "width must be a single integer"),
    ("fps array", with_member("fps", np.array([30.0, 30.0])), "fps must be a single number"),
    ("0-D t_s", with_member("t_s", np.float64(1.0)), "t_s must be a 1-D number array"),
    ("2-D t_s", with_member("t_s", np.zeros((3, 2))), "t_s must be a 1-D number array"),
    ("fps zero", with_member("fps", np.float64(0.0)), "fps = 0.0"),
    ("NaN t_s", with_member("t_s", np.array([0.0, np.nan, 0.1])), "NaN"),
    ("string t_s", with_member("t_s", np.array(["a", "b", "c"])), "t_s must be"),
    ("a bare .npy", b"", "single .npy array"),
]


@pytest.mark.parametrize(("label", "content", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_each_defect_is_one_clear_error(tmp_path: Path, label: str, content: bytes, fragment: str) -> None:
    if label == "a bare .npy":
        buffer = io.BytesIO()
        np.save(buffer, np.zeros(3))
        content = buffer.getvalue()
    path = write(tmp_path, content)
    with pytest.raises(RecordingError, match=fragment.replace(".", r"\.").replace("(", r"\(")) as info:
        load_recording(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_replay_of_a_bad_file_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    env = dict(os.environ, PYTHONPATH=str(EDGE_DIR))
    proc = subprocess.run(
        [sys.executable, "-m", "gymcorner", "replay", str(path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "empty or truncated" in line


def load_bytes(tmp_path: Path, content: bytes) -> None:
    """Load; only RecordingError may escape, and what loads must be usable."""
    path = write(tmp_path, content, "fuzz.npz")
    try:
        rec = load_recording(path)
    except RecordingError:
        return
    assert rec.fps > 0 and np.all(np.isfinite(rec.t_s))
    for sample in rec.samples():
        assert np.isfinite(sample.t_s)


FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(content=st.binary(max_size=4096))
def test_random_bytes_only_raise_our_error(tmp_path: Path, content: bytes) -> None:
    load_bytes(tmp_path, content)


@FUZZ
@given(data=st.data())
def test_mutated_valid_files_only_raise_our_error(tmp_path: Path, data: st.DataObject) -> None:
    content = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        index = data.draw(st.integers(0, len(content) - 1), label="index")
        content[index] = data.draw(st.integers(0, 255), label="byte")
    cut = data.draw(st.integers(0, len(content)), label="cut")
    load_bytes(tmp_path, bytes(content[:cut]) if data.draw(st.booleans(), label="truncate") else bytes(content))


ARRAYS = st.one_of(
    st.integers(-3, 3).map(np.int64),
    st.floats(allow_nan=True).map(np.float64),
    st.text(max_size=5).map(np.str_),
    st.lists(st.floats(allow_nan=True), max_size=5).map(np.array),
    st.lists(st.integers(-5, 5), max_size=5).map(lambda v: np.array(v, dtype=np.int64)),
    st.just(np.zeros((3, 33, 4))),
    st.just(np.zeros((2, 2))),
    st.just(np.array([True, False, True])),
)


@FUZZ
@given(name=st.sampled_from(sorted(valid_members())), value=ARRAYS, drop=st.booleans())
def test_members_replaced_or_missing_only_raise_our_error(tmp_path: Path, name: str, value: Any, drop: bool) -> None:
    members = valid_members()
    if drop:
        del members[name]
    else:
        members[name] = value
    load_bytes(tmp_path, npz_bytes(members))


def test_a_zip_without_the_members_is_not_a_recording(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(RecordingError, match="not a gymcorner recording"):
        load_recording(write(tmp_path, buffer.getvalue()))
