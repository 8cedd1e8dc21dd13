"""`gymcorner run` logging, through the real command line in a subprocess.

What `run` says while it loads its config (e.g. that there is no site calibration yet)
must reach the user, and `--log-level` works after the subcommand as well as before it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EDGE_DIR = Path(__file__).resolve().parents[1] / "edge"


def gymcorner(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(EDGE_DIR))
    return subprocess.run(
        [sys.executable, "-m", "gymcorner", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_run_with_a_missing_site_file_says_so(tmp_path: Path) -> None:
    site = tmp_path / "missing.toml"
    proc = gymcorner("run", "--site", str(site), "--source", str(tmp_path / "nope.mp4"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"no site calibration at {site}" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("gymcorner: error: video file not found")
    checked = gymcorner("run", "--site", str(site), "--validate-config")
    assert checked.returncode == 0 and f"no site calibration at {site}" in checked.stderr


def test_log_level_is_accepted_after_the_subcommand_and_honoured(tmp_path: Path) -> None:
    site = str(tmp_path / "missing.toml")
    for args in (["run", "--log-level", "DEBUG"], ["--log-level", "DEBUG", "run"]):
        proc = gymcorner(*args, "--site", site, "--validate-config")
        assert proc.returncode == 0, proc.stderr
        assert "no site calibration" in proc.stderr
    quiet = gymcorner("run", "--log-level", "WARNING", "--site", site, "--validate-config")
    assert quiet.returncode == 0 and "no site calibration" not in quiet.stderr
    assert "config ok" in quiet.stdout
    assert gymcorner("doctor", "--log-level", "DEBUG", "--help").returncode == 0
    assert gymcorner("run", "--log-level", "LOUD", "--validate-config").returncode == 2
