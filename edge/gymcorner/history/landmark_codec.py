"""The landmarks a session kept for its replay: chunks of frames, packed (format version 1).

Why this format: a session's replay needs the 33 world landmarks of the person (the avatar
frame's, `avatar/codec.py`: metres, hip-centred, +x their right, +y up, +z their forward)
about ten times a second, and nothing else: never an image. Quantised as the avatar frame
quantises them (int16 millimetres, 4-bit visibility), a frame is 217 bytes, so its cost is
fixed and known in advance: `bytes_per_minute`. Frames are kept in chunks (one BLOB, one row
and one commit each) of at most `CHUNK_FRAMES` frames spanning at most `CHUNK_SPAN_S`.

A chunk, little-endian (docs/history.md):

    offset  size  field
    0       2     magic "GL"
    2       1     version (1)
    3       1     flags (0)
    4       2     frames n (uint16)
    6       8     t0: the first frame's time, seconds (float64; the reps' clock)
    14      217n  frames, each: dt (uint16, ms after t0), x y z of 33 landmarks (int16 mm,
                  landmark-major), visibility (17 bytes: landmark 2i in the low nibble of
                  byte i, 2i+1 in the high one; level / 15)

Chunks are self-delimiting, so a session's chunks one after another are one valid stream,
and so is any run of them (a page of `/api/sessions/N/landmarks`). Pure: no I/O, no clock.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

VERSION = 1
MAGIC = b"GL"
LANDMARKS = 33
HEADER = struct.Struct("<2sBBHd")
HEADER_SIZE = HEADER.size  # 14
_XYZ_SIZE = LANDMARKS * 3 * 2
_VIS_SIZE = (LANDMARKS + 1) // 2
FRAME_SIZE = 2 + _XYZ_SIZE + _VIS_SIZE  # 217
CHUNK_FRAMES = 50  # 5 s at 10 Hz: what a power cut can lose of a replay
CHUNK_SPAN_S = 60.0  # the uint16 millisecond offsets reach 65.5 s
_MM_PER_M = 1000.0
_INT16_MAX = 32767
_VIS_LEVELS = 15
_FRAME_DTYPE = np.dtype([("dt", "<u2"), ("xyz", "<i2", (_XYZ_SIZE // 2,)), ("vis", "u1", (_VIS_SIZE,))])

Frame = tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]  # (t_s, world (33, 3) m, visibility (33,))


class LandmarkCodecError(ValueError):
    """Bytes that are not version-1 landmark chunks, or frames that cannot be packed."""


@dataclass(frozen=True)
class Frames:
    """Decoded frames: `t_s` (n,), `world_m` (n, 33, 3) metres, `visibility` (n, 33) in [0, 1]."""

    t_s: npt.NDArray[np.float64]
    world_m: npt.NDArray[np.float64]
    visibility: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def bytes_per_minute(hz: float, chunk_frames: int = CHUNK_FRAMES) -> int:
    """What a minute of replay costs in chunk bytes at `hz` frames a second (a person in view
    all along; the database's own row and page overhead comes on top)."""
    frames = round(hz * 60)
    chunks = -(-frames // chunk_frames) if frames else 0
    return frames * FRAME_SIZE + chunks * HEADER_SIZE


def pack_chunk(frames: Sequence[Frame]) -> bytes:
    """One chunk of 1..CHUNK_FRAMES frames in time order spanning at most CHUNK_SPAN_S.

    Coordinates are clipped to the int16 millimetre range and a non-finite landmark is kept
    as the origin with visibility 0, as the avatar frame does."""
    if not 1 <= len(frames) <= 0xFFFF:
        raise LandmarkCodecError(f"a chunk holds 1 to 65535 frames, not {len(frames)}")
    t0 = float(frames[0][0])
    offsets = np.array([round((float(t) - t0) * 1000.0) for t, _, _ in frames], dtype=np.int64)
    if not np.isfinite(t0) or np.any(np.diff(offsets) < 0) or offsets[-1] > 0xFFFF:
        raise LandmarkCodecError("a chunk's frames must be in time order within 65.5 s of the first")
    world = np.stack([np.asarray(w, dtype=np.float64).reshape(LANDMARKS, 3) for _, w, _ in frames])
    visibility = np.stack([np.asarray(v, dtype=np.float64).reshape(LANDMARKS) for _, _, v in frames])
    bad = ~np.all(np.isfinite(world), axis=2)
    world[bad] = 0.0
    visibility = np.nan_to_num(visibility, nan=0.0)
    visibility[bad] = 0.0
    mm = np.clip(np.round(world * _MM_PER_M), -_INT16_MAX, _INT16_MAX).astype("<i2")
    levels = np.round(np.clip(visibility, 0.0, 1.0) * _VIS_LEVELS).astype(np.uint8)
    padded = np.zeros((len(frames), _VIS_SIZE * 2), dtype=np.uint8)
    padded[:, :LANDMARKS] = levels
    nibbles = padded[:, 0::2] | (padded[:, 1::2] << 4)
    body = np.zeros(len(frames), dtype=_FRAME_DTYPE)
    body["dt"] = offsets
    body["xyz"] = mm.reshape(len(frames), -1)
    body["vis"] = nibbles
    return HEADER.pack(MAGIC, VERSION, 0, len(frames), t0) + body.tobytes()


def unpack(data: bytes) -> Frames:
    """Every frame of one chunk or of several one after another; LandmarkCodecError says what
    is wrong with bytes that are not version-1 chunks (nothing is trusted)."""
    times: list[npt.NDArray[np.float64]] = []
    worlds: list[npt.NDArray[np.float64]] = []
    visibilities: list[npt.NDArray[np.float64]] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < HEADER_SIZE:
            raise LandmarkCodecError(f"truncated landmark chunk at byte {offset}: {len(data) - offset} bytes left")
        magic, version, flags, count, t0 = HEADER.unpack_from(data, offset)
        if magic != MAGIC:
            raise LandmarkCodecError(f"not a landmark chunk at byte {offset}: wrong magic")
        if version != VERSION:
            raise LandmarkCodecError(f"landmark chunk version {version} is not supported (this reader knows 1)")
        if flags or not count or not np.isfinite(t0):
            raise LandmarkCodecError(f"landmark chunk at byte {offset}: bad header (flags {flags}, {count} frames)")
        end = offset + HEADER_SIZE + count * FRAME_SIZE
        if end > len(data):
            raise LandmarkCodecError(f"landmark chunk at byte {offset} claims {count} frames; the bytes end first")
        body = np.frombuffer(data, dtype=_FRAME_DTYPE, count=count, offset=offset + HEADER_SIZE)
        if np.any(body["vis"][:, -1] >> 4):
            raise LandmarkCodecError(f"landmark chunk at byte {offset}: visibility padding is not zero")
        times.append(t0 + body["dt"].astype(np.float64) / 1000.0)
        worlds.append(body["xyz"].astype(np.float64).reshape(count, LANDMARKS, 3) / _MM_PER_M)
        levels = np.empty((count, _VIS_SIZE * 2), dtype=np.float64)
        levels[:, 0::2] = body["vis"] & 0x0F
        levels[:, 1::2] = body["vis"] >> 4
        visibilities.append(levels[:, :LANDMARKS] / _VIS_LEVELS)
        offset = end
    if not times:
        return Frames(np.zeros(0), np.zeros((0, LANDMARKS, 3)), np.zeros((0, LANDMARKS)))
    return Frames(np.concatenate(times), np.concatenate(worlds), np.concatenate(visibilities))
