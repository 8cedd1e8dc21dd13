"""The serial frame codec: shared vectors, independent oracles (cobs, crc packages),
hypothesis round trips and fuzzing, and the same vectors run under real MicroPython."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gymcorner.wearables import relay_codec as codec

VECTORS = json.loads((Path(__file__).parent / "vectors" / "serial_v1.json").read_text())
CODEC_FILE = Path(codec.__file__)


def test_crc_vectors_and_crc_package_agree() -> None:
    from crc import Calculator, Crc16

    calc = Calculator(Crc16.IBM_3740)  # = CRC-16/CCITT-FALSE
    for v in VECTORS["crc16_ccitt_false"]:
        data = bytes.fromhex(v["data"])
        assert codec.crc16(data) == int(v["crc"], 16) == calc.checksum(data)


@pytest.mark.parametrize("v", VECTORS["cobs"], ids=lambda v: v["raw"][:12])
def test_cobs_vectors(v: dict) -> None:
    from cobs import cobs

    raw, enc = bytes.fromhex(v["raw"]), bytes.fromhex(v["encoded"])
    assert codec.cobs_encode(raw) == enc == cobs.encode(raw)
    assert codec.cobs_decode(enc) == raw


@pytest.mark.parametrize("v", VECTORS["frames"], ids=lambda v: v["name"])
def test_frame_vectors(v: dict) -> None:
    wire = bytes.fromhex(v["wire"])
    assert codec.encode_frame(v["type"], v["seq"], bytes.fromhex(v["body"])) == wire
    [frame] = codec.Decoder().feed(wire)
    assert (frame.ftype, frame.seq, frame.body.hex()) == (v["type"], v["seq"] & 0xFFFF, v["body"])


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_cobs_matches_the_cobs_package(data: bytes) -> None:
    from cobs import cobs

    assert codec.cobs_encode(data) == cobs.encode(data)
    assert 0 not in codec.cobs_encode(data)
    assert codec.cobs_decode(codec.cobs_encode(data)) == data


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_crc_matches_the_crc_package(data: bytes) -> None:
    from crc import Calculator, Crc16

    assert codec.crc16(data) == Calculator(Crc16.IBM_3740).checksum(data)


frames_st = st.lists(
    st.tuples(st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=codec.MAX_BODY)), max_size=8
)


@settings(max_examples=200)
@given(frames_st, st.lists(st.binary(max_size=300), min_size=9, max_size=9), st.integers(1, 64))
def test_garbage_between_frames_never_costs_a_frame(frames: list, garbage: list, chunk: int) -> None:
    """Any garbage between frames, any read chunking: every frame comes out, nothing raises."""
    stream = bytearray(garbage[0])
    for (t, s, body), junk in zip(frames, garbage[1:], strict=False):
        stream += codec.encode_frame(t, s, body) + junk
    dec = codec.Decoder()
    out = []
    for i in range(0, len(stream), chunk):
        out += dec.feed(stream[i : i + chunk])
    got = [(f.ftype, f.seq, f.body) for f in out]
    it = iter(got)  # the frames appear in order (garbage may add rare extra valid-CRC frames)
    assert all(any(g == (t, s, b) for g in it) for t, s, b in frames)


@settings(max_examples=500)
@given(st.binary(max_size=2000))
def test_decoder_fuzz_never_raises_and_stays_bounded(data: bytes) -> None:
    dec = codec.Decoder()
    dec.feed(data)
    assert len(dec._buf) <= codec.MAX_WIRE
    [frame] = dec.feed(codec.encode_frame(codec.T_HR, 5, b"ok"))  # and it resynchronises
    assert frame.body == b"ok"


def test_each_fault_is_counted() -> None:
    good = codec.encode_frame(codec.T_HR, 1, b"\x01\x02")
    bad_crc = bytearray(good)
    bad_crc[3] ^= 0x40
    inner = bytearray(codec.cobs_decode(good[1:-1]))
    inner[0] = 2  # version 2
    inner[-2:] = codec.crc16(inner[:-2]).to_bytes(2, "big")
    bad_version = b"\x00" + codec.cobs_encode(bytes(inner)) + b"\x00"
    dec = codec.Decoder()
    out = dec.feed(bytes(bad_crc) + good[:6] + b"\x00\x02\x01\x01\x00" + bad_version + b"\x05\xff" * 200 + good)
    assert [f.seq for f in out] == [1]
    c = dec.counters()
    assert (c["bad_crc"], c["runts"] + c["bad_cobs"], c["bad_version"], c["overruns"], c["frames"]) == (1, 2, 1, 1, 1)


def _micropython_wasm(tmp_root: Path) -> Path | None:
    """The MicroPython WebAssembly port (npm), installed once beside the venv."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    root = Path(
        os.environ.get("GYMCORNER_MPY_WASM", Path(__file__).resolve().parents[1] / ".venv" / "micropython-wasm")
    )
    module = root / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
    if not module.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--prefix",
                str(root),
                "@micropython/micropython-webassembly-pyscript@1.27.0",
            ],
            capture_output=True,
            timeout=300,
        )
        if r.returncode != 0:
            return None
    return root


MP_SCRIPT = r"""
import sys, json
sys.path.append('/')
import relay_codec as c
V = json.loads(open('/vectors.json').read())
def unhex(s): return bytes(int(s[i:i+2], 16) for i in range(0, len(s), 2))
ok = 0
for v in V['crc16_ccitt_false']:
    assert c.crc16(unhex(v['data'])) == int(v['crc'], 16); ok += 1
for v in V['cobs']:
    assert c.cobs_encode(unhex(v['raw'])) == unhex(v['encoded']); assert c.cobs_decode(unhex(v['encoded'])) == unhex(v['raw']); ok += 1
d = c.Decoder()
for v in V['frames']:
    w = unhex(v['wire'])
    assert c.encode_frame(v['type'], v['seq'], unhex(v['body'])) == w, v['name']
    f = d.feed(b'\x13\x37garbage' + w)
    assert len(f) == 1 and f[0].body == unhex(v['body']) and f[0].seq == v['seq'] & 0xFFFF, v['name']
    ok += 1
print('MICROPYTHON-OK', ok, sys.implementation.name, sys.version)
"""


def test_codec_runs_unchanged_under_micropython(tmp_path: Path) -> None:
    root = _micropython_wasm(tmp_path)
    if root is None:
        pytest.skip("node/npm or the MicroPython WebAssembly package not available")
    runner = tmp_path / "run.mjs"
    runner.write_text(
        'import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";\n'
        'import fs from "fs";\n'
        "const mp = await loadMicroPython({stdout: (l) => console.log(l), stderr: (l) => console.error(l)});\n"
        'mp.FS.writeFile("/relay_codec.py", fs.readFileSync(process.argv[2]));\n'
        'mp.FS.writeFile("/vectors.json", fs.readFileSync(process.argv[3]));\n'
        'mp.runPython(fs.readFileSync(process.argv[4], "utf8"));\n'
    )
    script = tmp_path / "check.py"
    script.write_text(MP_SCRIPT)
    env = {**os.environ, "NODE_PATH": str(root / "node_modules")}
    (tmp_path / "node_modules").symlink_to(root / "node_modules")
    r = subprocess.run(
        ["node", str(runner), str(CODEC_FILE), str(Path(__file__).parent / "vectors" / "serial_v1.json"), str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    n = len(VECTORS["crc16_ccitt_false"]) + len(VECTORS["cobs"]) + len(VECTORS["frames"])
    assert f"MICROPYTHON-OK {n} micropython" in r.stdout
