"""A pytest plugin: in CI (`CI` set), a skip because something is missing is a failure.

Why: a test that skips for want of `mosquitto`, `chromium`, a Python package or
`../shared/data` says nothing, and a CI run that is green because half its tests skipped
tells a lie. On a developer's machine such skips stay skips (a fresh clone has no
`../shared`); in CI every system package and the shared data are there, so such a skip
means the CI image is broken and must fail loudly. Skips for other reasons (a recording
that never shows the case a test needs) stay skips everywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

MISSING = re.compile(
    r"not found|not installed|not available|apt install|pip install|could not import|no module named"
    r"|labelled clips not present|images not present|\.\./shared/data is only present",
    re.IGNORECASE,
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def fail_if_missing_in_ci(report: Any) -> None:
    if not (report.skipped and in_ci()):
        return
    reason = skip_reason(report)
    if MISSING.search(reason):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be missing: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    fail_if_missing_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield  # a module-level importorskip skips at collection
    fail_if_missing_in_ci(outcome.get_result())
