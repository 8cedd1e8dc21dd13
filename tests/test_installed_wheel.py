"""The package as a device installs it: a built wheel in a fresh venv finds its own files.

`deploy/install.sh` installs gymcorner non-editable, so nothing may be looked up relative
to the checkout. The wheel goes into a new venv without its dependencies; those are lent
from the test venv by a .pth line, so the test builds no numpy or OpenCV.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, threading, urllib.request
import gymcorner
from gymcorner.transport.webviewer import VIEWER_DIR, make_server
from gymcorner.assets import DEFAULT_MODEL_PATH, load_recognizer_model
from gymcorner.vision.models import default_models_dir

server = make_server("127.0.0.1", 0)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]
page = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10).read().decode()
bundle = urllib.request.urlopen(f"http://127.0.0.1:{port}/vendor/deps.js", timeout=10).read()
server.shutdown()
assert str(DEFAULT_MODEL_PATH).startswith(sys.prefix), DEFAULT_MODEL_PATH; load_recognizer_model()
print(json.dumps({"package": gymcorner.__file__, "viewer": str(VIEWER_DIR), "page": "<html" in page.lower(),
                  "bundle_bytes": len(bundle), "models_dir": str(default_models_dir(None))}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(work / "dist"), str(ROOT)], check=True, timeout=300)
    wheel = next((work / "dist").glob("gymcorner-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, timeout=300)
    # Dependencies from the test venv, after the wheel on sys.path; its editable gymcorner
    # (a .pth of its own) is not read from there, so only the wheel's gymcorner can import.
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_installed_wheel_serves_the_viewer_and_loads_its_own_files(installed: Path, tmp_path: Path) -> None:
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GYMCORNER_MODELS_DIR")}
    done = subprocess.run([str(installed), "-c", PROBE], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    venv_dir = installed.parents[1]
    assert Path(got["package"]).is_relative_to(venv_dir)  # the wheel's copy, not the checkout's
    assert Path(got["viewer"]).is_relative_to(venv_dir) and got["page"]
    assert got["bundle_bytes"] > 100_000  # three.js + mqtt.js, bundled
    assert Path(got["models_dir"]) == venv_dir.resolve().parent / "models"
