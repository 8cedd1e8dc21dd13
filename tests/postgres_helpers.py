"""A real PostgreSQL server for tests: the tools' throwaway server (tools/scratch_postgres.py:
initdb + pg_ctl in a temporary folder, loopback only), started per test module, with a skip
that says why where it cannot run."""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from scratch_postgres import USER, PostgresServer, find_pg_bin

__all__ = ["USER", "PostgresServer", "find_pg_bin", "fresh_database", "running_server"]


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server for a test module's fixture, removed after it; a skip with the reason
    where the server's binaries are not installed."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found (Debian: apt install postgresql)")
    pg = PostgresServer(bin_dir).start()
    try:
        yield pg
    finally:
        pg.remove()


_databases = itertools.count()


def fresh_database(pg: PostgresServer, prefix: str = "chain") -> str:
    """The URL of a new, empty database on the server (one per test)."""
    return pg.create_database(f"{prefix}_{next(_databases)}")
