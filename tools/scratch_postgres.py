"""A throwaway PostgreSQL server: initdb + pg_ctl in a temporary folder, loopback only.

The one copy of this logic: the tests' fixture (tests/postgres_helpers.py, which adds the
pytest parts: a skip where the server is not installed) and the benchmark tools
(tools/dashboard_load.py) both use it.

Debian installs the server binaries under /usr/lib/postgresql/<version>/bin, off PATH.
initdb refuses to run as root, so as root the server runs as the unprivileged `nobody`
(through util-linux's runuser) in a folder handed to it; nothing on the system changes.
The server trusts local connections (it listens on 127.0.0.1 and a socket in its own
folder only) and runs with fsync off: durability is the box's concern, tested on SQLite.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from local_broker import free_port

USER = "gymcorner"


def find_pg_bin() -> Path | None:
    """The newest PostgreSQL server's bin folder (Debian's layout), else one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    bin_dir: Path
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gymcorner-pg-")))
    nice: int = 0  # the server's niceness (a benchmark keeps it beside the dashboard's); 0: as the caller
    idle: bool = False  # SCHED_IDLE (chrt --idle), as the dashboard's in the same benchmark

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        prefix += ["nice", "-n", str(self.nice)] if self.nice else []
        prefix += ["chrt", "--idle", "0"] if self.idle else []
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresServer:
        """initdb on first start; later starts reuse the data folder and the port."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "nobody")
        if not self.data.exists():
            self._init()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                            "-o", options, "-w", "-t", "60", "start")  # fmt: skip
        if started.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr or started.stdout}\n{log}")
        return self

    def _init(self) -> None:
        init = self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                         "-E", "UTF8", "--no-sync")  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr or init.stdout}")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (an outage); `start()` brings it back with its data."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
