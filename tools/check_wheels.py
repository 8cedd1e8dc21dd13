#!/usr/bin/env python3
"""Check that every package a venv holds has a wheel for another target (default: a Raspberry Pi).

A Raspberry Pi OS 13 box runs CPython 3.13 on aarch64 with glibc 2.41; a package with no
wheel for it would be compiled on the Pi at install time (slow, and it needs compilers and
headers a fresh image lacks). This asks pip, in one `pip download --no-deps
--only-binary=:all:` for the exact versions installed in VENV, whether such wheels exist.

    tools/check_wheels.py --venv .venv-313            # cp313, manylinux aarch64
    tools/check_wheels.py --venv .venv --python-version 3.10   # a Jetson (Ubuntu 22.04)

Exit 0 when every package has a wheel, 1 with the missing ones named.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# glibc 2.17 (manylinux2014) to 2.41 (Debian 13): every manylinux tag such a system accepts.
AARCH64_TAGS = ["manylinux2014_aarch64"] + [f"manylinux_2_{minor}_aarch64" for minor in range(17, 42)]


def installed(venv: Path) -> dict[str, str]:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "list",
            "--format=json",
            "--exclude-editable",
            "--disable-pip-version-check",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    skip = {"pip", "setuptools", "wheel"}
    return {p["name"]: p["version"] for p in json.loads(out) if p["name"].lower() not in skip}


def missing_wheels(packages: dict[str, str], python_version: str, tags: list[str]) -> list[str]:
    """Names whose pinned version has no wheel for the target; [] when all have one."""
    with tempfile.TemporaryDirectory(prefix="wheels-") as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("".join(f"{name}=={version}\n" for name, version in sorted(packages.items())))
        base = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            tmp,
            "--python-version",
            python_version,
            "--implementation",
            "cp",
            "--disable-pip-version-check",
        ]
        for tag in tags:
            base += ["--platform", tag]
        done = subprocess.run([*base, "-r", str(reqs)], capture_output=True, text=True)
        if done.returncode == 0:
            return []
        # pip stops at the first failure: try one at a time to name every missing package.
        missing = []
        for name, version in sorted(packages.items()):
            one = subprocess.run([*base, f"{name}=={version}"], capture_output=True, text=True)
            if one.returncode != 0:
                missing.append(f"{name}=={version}")
        return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=Path(".venv"), help="the venv whose packages to check")
    parser.add_argument("--python-version", default="3.13", help="target CPython (default 3.13, Raspberry Pi OS 13)")
    args = parser.parse_args(argv)
    packages = installed(args.venv)
    missing = missing_wheels(packages, args.python_version, AARCH64_TAGS)
    target = f"cp{args.python_version.replace('.', '')} manylinux aarch64"
    if missing:
        print(f"no {target} wheel for: {', '.join(missing)}")
        return 1
    print(f"all {len(packages)} packages of {args.venv} have a {target} wheel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
