"""The landmark chunks a session keeps for its replay (history/landmark_codec.py): what goes in
comes out within the quantisation, the size is what docs/history.md says, garbage is refused
with one reason, and the dashboard's JavaScript decoder (run with Node) reads the same bytes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_session_counts import SQUATS

from gymcorner.avatar.codec import build_frame
from gymcorner.history.landmark_codec import (
    CHUNK_FRAMES,
    FRAME_SIZE,
    HEADER_SIZE,
    LandmarkCodecError,
    bytes_per_minute,
    pack_chunk,
    unpack,
)
from gymcorner.recording import load_recording

ROOT = Path(__file__).resolve().parents[1]


def squat_frames(n: int = 40) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Real landmarks: the avatar frames our pipeline made of a squat clip."""
    frames = [build_frame(s, None, None, i) for i, s in enumerate(load_recording(SQUATS).samples())]
    return [(f.t_s, f.world_m, f.visibility) for f in frames if f.world_m is not None][:n]


def test_a_chunk_round_trips_within_half_a_millimetre_and_its_size_is_the_format_s() -> None:
    frames = squat_frames()
    data = pack_chunk(frames)
    assert len(data) == HEADER_SIZE + len(frames) * FRAME_SIZE == 14 + 40 * 217
    back = unpack(data)
    assert len(back) == 40
    np.testing.assert_allclose(back.t_s, [t for t, _, _ in frames], atol=0.0005 + 1e-9)
    np.testing.assert_allclose(back.world_m, np.stack([w for _, w, _ in frames]), atol=0.0005 + 1e-9)
    np.testing.assert_allclose(back.visibility, np.stack([v for _, _, v in frames]), atol=1 / 30 + 1e-9)
    assert np.ptp(back.world_m[:, 0, 1]) > 0.05  # the nose moves: these are the frames, not one of them


def test_chunks_one_after_another_are_one_stream() -> None:
    frames = squat_frames(40)
    stream = pack_chunk(frames[:25]) + pack_chunk(frames[25:])
    assert len(unpack(stream)) == 40 and unpack(b"").t_s.shape == (0,)


def test_what_the_avatar_frame_would_not_send_is_kept_as_it_would_send_it() -> None:
    world = np.full((33, 3), 0.5)
    world[3] = np.nan
    world[4] = [40.0, -40.0, 0.0]  # beyond the int16 millimetre range
    (back,) = [unpack(pack_chunk([(2.0, world, np.full(33, 0.9))]))]
    assert back.world_m[0, 3].tolist() == [0.0, 0.0, 0.0] and back.visibility[0, 3] == 0.0
    assert back.world_m[0, 4].tolist() == [32.767, -32.767, 0.0]


def test_frames_out_of_order_or_too_far_apart_for_one_chunk_are_refused() -> None:
    pose = (np.zeros((33, 3)), np.ones(33))
    with pytest.raises(LandmarkCodecError, match="time order"):
        pack_chunk([(5.0, *pose), (4.0, *pose)])
    with pytest.raises(LandmarkCodecError, match=r"within 65\.5 s"):
        pack_chunk([(0.0, *pose), (70.0, *pose)])
    with pytest.raises(LandmarkCodecError, match="1 to 65535"):
        pack_chunk([])


def test_bytes_per_minute_is_computed_from_the_format() -> None:
    assert bytes_per_minute(10) == 600 * 217 + 12 * 14 == 130_368  # what docs/history.md says
    assert bytes_per_minute(5) == 300 * 217 + 6 * 14
    assert bytes_per_minute(0) == 0
    assert CHUNK_FRAMES == 50


def test_bytes_that_are_not_chunks_are_refused_with_what_is_wrong() -> None:
    good = pack_chunk(squat_frames(2))
    cases = {
        good[:10]: "truncated",
        b"XX" + good[2:]: "wrong magic",
        good[:2] + b"\x02" + good[3:]: "version 2 is not supported",
        good[:3] + b"\x01" + good[4:]: "bad header",
        good[:-1]: "the bytes end first",
        good + good[:5]: "truncated",
    }
    for data, reason in cases.items():
        with pytest.raises(LandmarkCodecError, match=reason):
            unpack(data)


@settings(max_examples=200)
@given(st.binary(max_size=600))
def test_garbage_never_raises_anything_but_the_codec_s_error(data: bytes) -> None:
    try:
        frames = unpack(data)
    except LandmarkCodecError:
        return
    assert len(frames) >= 0  # it may be a valid (empty) stream


@settings(max_examples=100)
@given(st.binary(min_size=1, max_size=40), st.integers(0, 2 * FRAME_SIZE + HEADER_SIZE))
def test_a_damaged_chunk_is_refused_or_read_never_crashes(patch: bytes, at: int) -> None:
    good = pack_chunk(squat_frames(2))
    damaged = good[:at] + patch + good[at + len(patch) :]
    try:
        unpack(damaged)
    except LandmarkCodecError:
        pass


def test_the_dashboard_s_javascript_decoder_reads_what_python_packs(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed (Debian: apt install nodejs); the replay is tested in Chromium")
    frames = squat_frames(40)
    (tmp_path / "stream.bin").write_bytes(pack_chunk(frames[:30]) + pack_chunk(frames[30:]))
    for name, folder in (("replay.js", "dashboard/static"), ("skeleton.js", "transport/web")):
        shutil.copy(ROOT / "edge" / "gymcorner" / folder / name, tmp_path / name)
    script = (
        "import { readFileSync } from 'node:fs';"
        "import { decodeLandmarks } from './replay.js';"
        "const f = decodeLandmarks(readFileSync('stream.bin'));"
        "console.log(JSON.stringify({n: f.length, t: Array.from(f.t), xyz: Array.from(f.xyz.slice(0, 99)),"
        " last: Array.from(f.xyz.slice(-3)), vis: Array.from(f.vis.slice(0, 33))}));"
    )
    (tmp_path / "check.mjs").write_text(script)
    run = subprocess.run([node, "check.mjs"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    js = json.loads(run.stdout)
    python = unpack((tmp_path / "stream.bin").read_bytes())
    assert js["n"] == 40
    np.testing.assert_allclose(js["t"], python.t_s, atol=1e-9)
    np.testing.assert_allclose(js["xyz"], python.world_m[0].ravel(), atol=1e-6)
    np.testing.assert_allclose(js["last"], python.world_m[-1, -1], atol=1e-6)
    np.testing.assert_allclose(js["vis"], python.visibility[0], atol=1e-6)
    broken = pack_chunk(frames[:2])[:-5]
    (tmp_path / "stream.bin").write_bytes(broken)
    run = subprocess.run([node, "check.mjs"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "cut short" in run.stderr
