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

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

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
    def from_samples(
        cls, samples: list[PoseSample], fps: float, source: str = "", backend: str = ""
    ) -> "Recording":
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
    """Read a recording, or raise RecordingError saying what is wrong with the file."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            version = int(z["version"])
            if version != FORMAT_VERSION:
                raise RecordingError(f"{p}: recording format {version} is not supported (expected {FORMAT_VERSION})")
            rec = Recording(
                t_s=z["t_s"].astype(np.float64),
                present=z["present"].astype(bool),
                image=z["image"].astype(np.float32),
                world=z["world"].astype(np.float32),
                width=int(z["width"]),
                height=int(z["height"]),
                fps=float(z["fps"]),
                source=str(z["source"]),
                backend=str(z["backend"]),
            )
    except FileNotFoundError as err:
        raise RecordingError(f"{p}: recording not found") from err
    except KeyError as err:
        raise RecordingError(f"{p}: not a gymcorner recording (missing {err})") from err
    except (ValueError, OSError) as err:
        raise RecordingError(f"{p}: not a readable .npz recording: {err}") from err
    n = len(rec)
    if rec.image.shape != (n, NUM_LANDMARKS, 4) or rec.world.shape != (n, NUM_LANDMARKS, 3) or rec.present.shape != (n,):
        raise RecordingError(f"{p}: array shapes do not match the recording layout")
    return rec
