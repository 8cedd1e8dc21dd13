"""The pure core (motion/, coach/, avatar/, plans/) reads no file, socket, clock or environment.

DESIGN.md principle 1: everything the core does can be replayed from a recorded landmark
file, bit for bit. That holds only while no module in it imports an I/O or clock module or
calls `open`; files it needs come in as parsed dicts from `gymcorner.assets`. The check is
on the source (ast), so a lazy import inside a function is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "edge" / "gymcorner"
PACKAGES = ("motion", "coach", "avatar", "plans")
# json stays allowed: avatar.codec renders messages to strings, which is not I/O.
FORBIDDEN_MODULES = {
    "os", "io", "pathlib", "shutil", "tempfile", "socket", "select", "time",
    "threading", "asyncio", "subprocess", "importlib", "urllib", "http", "sqlite3", "random",
}
FORBIDDEN_CALLS = {"open", "input", "print"}
# datetime's types are data (a plan's days); reading the clock through them is not allowed.
FORBIDDEN_METHODS = {"today", "now", "utcnow"}


def core_modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (CORE / pkg).glob("*.py"))


def offences(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FORBIDDEN_MODULES:
            found.append(node.module)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append(f"{node.func.id}()")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FORBIDDEN_METHODS:
            found.append(f".{node.func.attr}()")
    return found


def test_the_core_is_where_we_think() -> None:
    names = {p.name for p in core_modules()}
    assert {"recognition.py", "reference.py", "geometry.py", "head.py"} <= names


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_core_module_does_no_io(path: Path) -> None:
    assert offences(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_check_catches_io() -> None:
    source = "import json\nfrom pathlib import Path\ndef f():\n    import time\n    return open('x')\n"
    assert offences(ast.parse(source)) == ["pathlib", "time", "open()"]
    assert offences(ast.parse("import datetime as dt\nday = dt.date.today()\n")) == [".today()"]
