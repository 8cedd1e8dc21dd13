"""Recorded landmarks (.npz): what `gymcorner record` writes and `replay` reads.

Layout (format version 1), one row per decoded frame:
  t_s      (N,)       float64  frame timestamps, seconds
  present  (N,)       bool     a person was found
  image    (N,33,4)   float32  x, y (normalised), z, visibility; NaN where absent
  world    (N,33,3)   float32  metres, hip-centred; NaN where absent
  width, height       int      frame size in pixels
  fps                 float    nominal frame rate of the source
  source              str      where it came from (file name or camera)
  backend             str      pose backend that produced it
  version             int      1
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.npyio import NpzFile

from gymcorner.errors import RecordingError
from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample

FORMAT_VERSION = 1


@dataclass
class Recording:
    t_s: np.ndarray
    present: np.ndarray
    image: np.ndarray
    world: np.ndarray
    width: int
    height: int
    fps: float
    source: str = ""
    backend: str = ""

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def samples(self) -> Iterator[PoseSample]:
        for i in range(len(self)):
            if self.present[i]:
                yield PoseSample(float(self.t_s[i]), self.width, self.height, self.image[i], self.world[i])
            else:
                yield PoseSample(float(self.t_s[i]), self.width, self.height)

    @classmethod
    def from_samples(cls, samples: list[PoseSample], fps: float, source: str = "", backend: str = "") -> Recording:
        n = len(samples)
        image = np.full((n, NUM_LANDMARKS, 4), np.nan, dtype=np.float32)
        world = np.full((n, NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
        present = np.zeros(n, dtype=bool)
        for i, s in enumerate(samples):
            if s.image is not None:
                image[i] = s.image
                present[i] = True
            if s.world is not None:
                world[i] = s.world
        width = samples[0].width if samples else 0
        height = samples[0].height if samples else 0
        t_s = np.array([s.t_s for s in samples], dtype=np.float64)
        return cls(t_s, present, image, world, width, height, float(fps), source, backend)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            t_s=self.t_s,
            present=self.present,
            image=self.image,
            world=self.world,
            width=np.int32(self.width),
            height=np.int32(self.height),
            fps=np.float64(self.fps),
            source=np.str_(self.source),
            backend=np.str_(self.backend),
            version=np.int32(FORMAT_VERSION),
        )


def load_recording(path: str | Path) -> Recording:
    """Read a recording, or raise RecordingError saying what is wrong with the file.

    The file is untrusted input (copied around, truncated, hand-made): every member is
    checked for its kind and shape before use, so a bad file is one clear error, never a
    numpy, zipfile or arithmetic exception deep in replay."""
    p = Path(path)
    try:
        loaded = np.load(p, allow_pickle=False)
        if not isinstance(loaded, NpzFile):
            raise RecordingError(f"{p}: not a gymcorner recording (a single .npy array, not an .npz archive)")
        with loaded as z:
            return _validated(p, {name: z[name] for name in _MEMBERS})
    except FileNotFoundError as err:
        raise RecordingError(f"{p}: recording not found") from err
    except KeyError as err:
        raise RecordingError(f"{p}: not a gymcorner recording (missing {err})") from err
    except EOFError as err:
        raise RecordingError(f"{p}: empty or truncated file, not an .npz recording") from err
    except (zipfile.BadZipFile, zlib.error) as err:
        raise RecordingError(f"{p}: corrupt or truncated .npz archive: {err}") from err
    except (ValueError, OSError, MemoryError, NotImplementedError, UnicodeError) as err:
        raise RecordingError(f"{p}: not a readable .npz recording: {type(err).__name__}: {err}") from err


_MEMBERS = ("version", "t_s", "present", "image", "world", "width", "height", "fps", "source", "backend")


def _validated(p: Path, members: dict[str, np.ndarray]) -> Recording:
    version = _scalar(p, members, "version", "iu")
    if version != FORMAT_VERSION:
        raise RecordingError(f"{p}: recording format {version} is not supported (expected {FORMAT_VERSION})")
    t_s = _array(p, members, "t_s", "fiu", 1)
    n = t_s.shape[0]
    present = _array(p, members, "present", "biu", 1)
    image = _array(p, members, "image", "fiu", 3)
    world = _array(p, members, "world", "fiu", 3)
    if image.shape != (n, NUM_LANDMARKS, 4) or world.shape != (n, NUM_LANDMARKS, 3) or present.shape != (n,):
        raise RecordingError(f"{p}: array shapes do not match the recording layout")
    if not np.all(np.isfinite(t_s)):
        raise RecordingError(f"{p}: t_s holds NaN or infinite timestamps")
    width, height = int(_scalar(p, members, "width", "iu")), int(_scalar(p, members, "height", "iu"))
    if n and (width < 1 or height < 1):
        raise RecordingError(f"{p}: frame size {width}x{height} is not a size in pixels")
    fps = float(_scalar(p, members, "fps", "fiu"))
    if not (np.isfinite(fps) and fps > 0):
        raise RecordingError(f"{p}: fps = {fps} (must be a positive frame rate)")
    return Recording(
        t_s=t_s.astype(np.float64),
        present=present.astype(bool),
        image=image.astype(np.float32),
        world=world.astype(np.float32),
        width=width,
        height=height,
        fps=fps,
        source=str(_scalar(p, members, "source", "U")),
        backend=str(_scalar(p, members, "backend", "U")),
    )


def _array(p: Path, members: dict[str, np.ndarray], name: str, kinds: str, ndim: int) -> np.ndarray:
    value = members[name]
    if value.dtype.kind not in kinds or value.ndim != ndim:
        raise RecordingError(
            f"{p}: {name} must be a {ndim}-D {_KIND_NAMES[kinds]} array, got {value.ndim}-D {value.dtype}"
        )
    return value


def _scalar(p: Path, members: dict[str, np.ndarray], name: str, kinds: str) -> int | float | str:
    value = members[name]
    if value.shape != () or value.dtype.kind not in kinds:
        raise RecordingError(
            f"{p}: {name} must be a single {_KIND_NAMES[kinds]}, got an array of shape "
            f"{value.shape} and type {value.dtype}"
        )
    item = value.item()
    return item if not isinstance(item, bytes) else item.decode("utf-8", "replace")


_KIND_NAMES = {"iu": "integer", "fiu": "number", "biu": "boolean", "U": "string"}
