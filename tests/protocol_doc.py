"""Reading docs/protocol.md and docs/schemas/ for the protocol tests (tables, examples, schemas)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL_DOC = ROOT / "docs" / "protocol.md"
SCHEMAS = ROOT / "docs" / "schemas"
VECTORS = ROOT / "tests" / "vectors"


def doc_text() -> str:
    return PROTOCOL_DOC.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the `## title` section, up to the next `## `."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", doc_text(), flags=re.S | re.M)
    assert match, f"docs/protocol.md has no section '## {title}'"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """Cells of every markdown table row in `text` (header and rule rows excluded)."""
    rows = []
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    for i, line in enumerate(lines):
        if re.fullmatch(r"\|[\s|:-]+\|", line) or (i + 1 < len(lines) and re.fullmatch(r"\|[\s|:-]+\|", lines[i + 1])):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append([c.replace("\\|", "|") for c in cells])
    return rows


def json_blocks(text: str) -> list[Any]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, flags=re.S)]


def vectors(kind: str) -> list[Any]:
    pattern = rf"<!-- vector: {re.escape(kind)} -->\s*```json\n(.*?)```"
    return [json.loads(block) for block in re.findall(pattern, doc_text(), flags=re.S)]


def registry() -> Registry:
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.json")]
    return Registry().with_resources(resources)


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry(), format_checker=jsonschema.FormatChecker())
