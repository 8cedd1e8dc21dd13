"""The browser viewer's JavaScript decoder (gymcorner/transport/web/avatar-frame.js) against the shared
vectors, run with Node; and the device's viewer server (`gymcorner viewer`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import viewer_server

from gymcorner.transport.webviewer import VIEWER_DIR

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"


def run_node_tests(vectors: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed (Debian: apt install nodejs); the page itself is tested in Chromium")
    return subprocess.run(
        [node, str(ROOT / "host" / "web" / "test" / "vectors.test.mjs"), str(vectors)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_javascript_decoder_passes_the_shared_vectors() -> None:
    run = run_node_tests(VECTORS)
    assert run.returncode == 0, run.stdout + run.stderr
    invalid = json.loads((VECTORS / "avatar_v1_invalid.json").read_text())
    assert sum(line.startswith("PASS rejects") for line in run.stdout.splitlines()) == len(invalid)


def test_the_javascript_check_fails_on_a_corrupted_vector(tmp_path: Path) -> None:
    valid = json.loads((VECTORS / "avatar_v1.json").read_text())
    valid[0]["json"]["bones"]["spine"][0] += 0.01
    (tmp_path / "avatar_v1.json").write_text(json.dumps(valid))
    shutil.copy(VECTORS / "avatar_v1_invalid.json", tmp_path)
    run = run_node_tests(tmp_path)
    assert run.returncode == 1 and "bone spine differs" in run.stdout


@pytest.fixture
def viewer_url() -> Iterator[str]:
    with viewer_server() as url:
        yield url


def test_the_viewer_server_serves_the_page_and_its_modules_only(viewer_url: str) -> None:
    with urllib.request.urlopen(f"{viewer_url}/index.html?device=corner-1") as page:
        assert b'<script type="module" src="viewer.js">' in page.read()
    for module in ("viewer.js", "avatar-frame.js", "skeleton.js", "vendor/deps.js"):
        with urllib.request.urlopen(f"{viewer_url}/{module}") as response:
            assert response.headers["Content-Type"].startswith("text/javascript"), module
    for hidden in ("node_modules/three/package.json", "vendor/", "package.json", "../README.md"):
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{viewer_url}/{hidden}")


def test_a_browser_that_hangs_up_mid_download_leaves_no_traceback(viewer_url: str, capfd) -> None:
    """The bundle is large; a client that reads the headers and closes (a tab closed while
    loading) is a broken pipe on the server's side: no traceback on stderr for it."""
    import socket
    import struct
    import time

    host, port = viewer_url.removeprefix("http://").split(":")
    for _ in range(5):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(b"GET /vendor/deps.js HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.0 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset, the body unread
    time.sleep(0.5)  # the handler threads hit the closed socket
    with urllib.request.urlopen(f"{viewer_url}/viewer.js") as again:  # the server still serves
        assert again.status == 200
    assert "Traceback" not in capfd.readouterr().err


def test_the_page_loads_nothing_from_the_network() -> None:
    """No CDN: every script and stylesheet the page names is a relative path beside the page."""
    html = (VIEWER_DIR / "index.html").read_text()
    for source in ("viewer.js", "viewer.css"):
        assert f'"{source}"' in html and (VIEWER_DIR / source).is_file()
    for path in ("index.html", "viewer.js", "avatar-frame.js", "skeleton.js"):
        text = (VIEWER_DIR / path).read_text()
        assert "https://" not in text and "http://" not in text, path
    assert (VIEWER_DIR / "vendor" / "deps.js").stat().st_size > 100_000  # three.js + mqtt.js, bundled
