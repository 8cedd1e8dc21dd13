"""The CI rule for skips, checked by running pytest itself on a small test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent

SAMPLE = """
import pytest

def test_needs_a_binary():
    pytest.skip("mosquitto binary not found (Debian/Ubuntu: apt install mosquitto)")

def test_needs_shared_data():
    pytest.skip("labelled clips not present (../shared/data); they ship beside the project in CI")

@pytest.mark.skipif(True, reason="ffmpeg binary not installed")
def test_needs_ffmpeg():
    pass

def test_skips_for_a_reason_of_its_own():
    pytest.skip("no recording shows a sideways face for 10 frames")

def test_passes():
    pass
"""


def run(tmp_path: Path, ci: str | None) -> str:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "ci_skips",
            "-p",
            "no:cacheprovider",
            "-v",
            str(tmp_path / "test_sample.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    return proc.stdout


def outcome(out: str, name: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.startswith(f"test_sample.py::{name} ")]
    return line.split()[1]


def test_in_ci_a_skip_for_something_missing_fails(tmp_path: Path) -> None:
    out = run(tmp_path, "true")
    assert outcome(out, "test_needs_a_binary") == "FAILED"
    assert outcome(out, "test_needs_shared_data") == "FAILED"
    assert outcome(out, "test_needs_ffmpeg") == "ERROR"  # a skipif is decided at setup: a failed setup
    assert outcome(out, "test_skips_for_a_reason_of_its_own") == "SKIPPED"
    assert outcome(out, "test_passes") == "PASSED"
    assert "skipped in CI, where nothing may be missing" in out


def test_outside_ci_those_skips_stay_skips(tmp_path: Path) -> None:
    for ci in (None, "false"):
        out = run(tmp_path, ci)
        for name in ("test_needs_a_binary", "test_needs_shared_data", "test_needs_ffmpeg"):
            assert outcome(out, name) == "SKIPPED", out


HYPOTHESIS_SAMPLE = """
from hypothesis import given, strategies as st

@given(st.integers())
def test_any_integer(n):
    assert isinstance(n, int)
"""


def run_seeded(tmp_path: Path, ci: str | None, *extra: str) -> str:
    (tmp_path / "test_seeded.py").write_text(HYPOTHESIS_SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")])
    args = [sys.executable, "-m", "pytest", "-q", "-p", "hypothesis_seed", "-p", "no:cacheprovider", *extra]
    proc = subprocess.run(
        [*args, str(tmp_path / "test_seeded.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def printed_seed(out: str) -> str | None:
    import re

    found = re.search(r"^hypothesis seed (\d+) \(replay: pytest --hypothesis-seed=\1\)$", out, re.MULTILINE)
    return found.group(1) if found else None


def test_in_ci_each_run_draws_a_seed_and_prints_it(tmp_path: Path) -> None:
    first, second = printed_seed(run_seeded(tmp_path, "true")), printed_seed(run_seeded(tmp_path, "true"))
    assert first is not None and second is not None and first != second


def test_a_seed_given_is_kept_and_outside_ci_none_is_forced(tmp_path: Path) -> None:
    assert printed_seed(run_seeded(tmp_path, "true", "--hypothesis-seed=1234")) == "1234"
    assert printed_seed(run_seeded(tmp_path, None)) is None
