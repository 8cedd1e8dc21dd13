"""In CI every run draws a fresh Hypothesis seed and prints it in the header, so a failure
CI finds can be replayed exactly: `pytest --hypothesis-seed=N`. A seed given on the command
line is kept. Outside CI Hypothesis chooses as it always does."""

from __future__ import annotations

import os
import secrets

import pytest

_SEED_DEST = "hypothesis_seed"  # the dest of Hypothesis' own --hypothesis-seed option


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' plugin reads the option
def pytest_configure(config: pytest.Config) -> None:
    if _in_ci() and getattr(config.option, _SEED_DEST, None) is None:
        setattr(config.option, _SEED_DEST, str(secrets.randbelow(2**32)))


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = getattr(config.option, _SEED_DEST, None)
    if seed is None:
        return None
    return f"hypothesis seed {seed} (replay: pytest --hypothesis-seed={seed})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Again at the end, where `-q` runs (make test) show it too."""
    line = pytest_report_header(config)
    if line is not None:
        terminalreporter.write_line(line)
