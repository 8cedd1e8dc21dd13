"""Where the labelled clips and our derived fixtures live, and how tests skip without them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures"
LANDMARKS = FIXTURES / "landmarks"


def require_shared_data() -> Path:
    if not (SHARED_DATA / "manifest.csv").is_file():
        pytest.skip(f"labelled clips not present ({SHARED_DATA}); they ship beside the project in CI")
    return SHARED_DATA


def clip_path(clip: str) -> Path:
    path = require_shared_data() / clip
    if not path.is_file():
        pytest.skip(f"clip {clip} not in {SHARED_DATA}")
    return path


def manifest_rows() -> list[dict[str, str]]:
    path = SHARED_DATA / "manifest.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def fixture_name(clip: str) -> str:
    return clip.replace("/", "__").rsplit(".", 1)[0] + ".npz"
