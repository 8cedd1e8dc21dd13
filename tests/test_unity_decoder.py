"""The Unity client's protocol model (host/unity/Gymcorner/Protocol, plain C#) built with
Debian's `mcs` and run with `mono` against the shared vectors: every valid vector decodes to
its JSON, every invalid one is rejected."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITY = ROOT / "host" / "unity"
VECTORS = ROOT / "tests" / "vectors"


@pytest.fixture(scope="module")
def test_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mcs, mono = shutil.which("mcs"), shutil.which("mono")
    if mcs is None or mono is None:
        pytest.skip("mcs/mono not installed (Debian: apt install mono-mcs mono-runtime)")
    out = tmp_path_factory.mktemp("unity") / "VectorTests.exe"
    sources = [*sorted((UNITY / "Gymcorner" / "Protocol").glob("*.cs")), UNITY / "Tests" / "VectorTests.cs"]
    build = subprocess.run(
        [mcs, "-langversion:7", "-warnaserror+", f"-out:{out}", *map(str, sources)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def test_the_csharp_decoder_passes_the_shared_vectors(test_program: Path) -> None:
    run = subprocess.run(["mono", str(test_program), str(VECTORS)], capture_output=True, text=True, timeout=120)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    valid = json.loads((VECTORS / "avatar_v1.json").read_text())
    invalid = json.loads((VECTORS / "avatar_v1_invalid.json").read_text())
    lines = run.stdout.splitlines()
    assert sum(line.startswith("PASS vector") for line in lines) == len(valid)
    assert sum(line.startswith("PASS rejects") for line in lines) == len(invalid)
    assert not any(line.startswith("FAIL") for line in lines)


def test_the_csharp_program_fails_on_a_corrupted_vector(test_program: Path, tmp_path: Path) -> None:
    """The check can fail: a vector whose JSON no longer matches its bytes is reported."""
    valid = json.loads((VECTORS / "avatar_v1.json").read_text())
    valid[0]["json"]["landmarks"]["nose"][0] += 0.01
    (tmp_path / "avatar_v1.json").write_text(json.dumps(valid))
    shutil.copy(VECTORS / "avatar_v1_invalid.json", tmp_path)
    run = subprocess.run(["mono", str(test_program), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "FAIL vector" in run.stdout and "landmark nose differs" in run.stdout


def test_the_unity_only_scripts_are_kept_out_of_the_mcs_build() -> None:
    """Only Protocol/ is compiled here; the MonoBehaviours need UnityEngine (documented setup)."""
    for path in (UNITY / "Gymcorner" / "Protocol").glob("*.cs"):
        assert "UnityEngine" not in path.read_text(), path
    assert "MonoBehaviour" in (UNITY / "Gymcorner" / "Unity" / "AvatarDriver.cs").read_text()
