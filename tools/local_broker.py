"""A throwaway Mosquitto on a free loopback port, for the benchmark tools (soak, cmd_flood).

The tests have their own fixture (tests/mqtt_helpers.py); this is the tools' one copy.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(workdir: Path, tool: str, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], int]:
    """Start an anonymous, non-persistent broker (`extra`: more mosquitto.conf lines); exit with
    one line naming `tool` if it cannot."""
    binary = shutil.which("mosquitto", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if binary is None:
        sys.exit(f"{tool}: mosquitto not found (apt install mosquitto)")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false"]
    lines += ["user root"] if os.geteuid() == 0 else []
    lines += list(extra)
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{tool}: mosquitto did not start")
