"""Shared fixtures: a real Mosquitto broker on a free loopback port, and a real PostgreSQL
server per test module (`pg_server`).

Only these server fixtures live here (and one guard: the history database of every daemon the
tests start goes to a temporary folder, never to the checkout's data/); test modules keep
their own fixtures. Tests that use them
skip with a clear reason where the `mosquitto` binary is absent (Debian: apt install mosquitto).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from mqtt_helpers import MosquittoBroker, find_mosquitto, free_port
from postgres_helpers import PostgresServer, running_server

# Property tests: no per-example deadline (CI machines are shared and noisy). CI explores
# with a fresh seed each run, printed in the header (hypothesis_seed.py), and a failure
# prints the blob that reproduces it (@reproduce_failure), so what CI finds can be replayed.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# In CI a skip for a missing binary, package or ../shared/data is a failure (ci_skips.py).
pytest_plugins = ["ci_skips", "hypothesis_seed"]  # and in CI a fresh, printed Hypothesis seed

BrokerFactory = Callable[..., MosquittoBroker]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    """A started PostgreSQL server for this test module (initdb + pg_ctl, loopback only),
    removed after it; a skip saying why where the server's binaries are missing."""
    with running_server() as pg:
        yield pg


@pytest.fixture(autouse=True, scope="session")
def _history_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`[history] path` defaults to data/ beside the venv; daemons started by tests (in process
    or as subprocesses, which inherit the environment) write under a temporary folder instead."""
    previous = os.environ.get("GYMCORNER_DATA_DIR")
    os.environ["GYMCORNER_DATA_DIR"] = str(tmp_path_factory.mktemp("gymcorner-data"))
    yield
    if previous is None:
        os.environ.pop("GYMCORNER_DATA_DIR", None)
    else:
        os.environ["GYMCORNER_DATA_DIR"] = previous


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[BrokerFactory]:
    """Make brokers (not yet started) with options: persistence, users, extra_config.

    Every broker made is stopped at teardown, whatever state the test left it in."""
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("mosquitto binary not found (Debian/Ubuntu: apt install mosquitto)")
    brokers: list[MosquittoBroker] = []

    def make(**options: Any) -> MosquittoBroker:
        broker = MosquittoBroker(binary, tmp_path / f"broker-{len(brokers)}", free_port(), **options)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def mosquitto_broker(mosquitto_factory: BrokerFactory) -> MosquittoBroker:
    """A running anonymous broker without persistence; `stop()`/`start()` keep its port."""
    broker = mosquitto_factory()
    broker.start()
    return broker
