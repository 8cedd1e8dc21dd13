"""What every report command does with `--json OUT`: one way to write it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: str | Path | None, report: Any) -> None:
    """Write `report` as indented JSON to `path` (nothing when `path` is None)."""
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
