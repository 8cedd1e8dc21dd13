"""Read the Exercise-Correction landmark CSVs (../shared/data/exercise_correction_landmarks)
into PoseSamples: one row per frame, a `label` column, then x, y, z, v per landmark for the
subset of BlazePose landmarks the file keeps (`nose_x`, ..., `right_foot_index_v`).

The rows carry no file id, frame size or time. So:
* rows are grouped into *blocks*: maximal runs of consecutive rows with the same label,
  taken as one labelled window each (the nearest thing to a clip the file has);
* the frame size is an assumption (`width`, `height`; normalised x and y have different
  units on a non-square frame) and the time step too (`fps`);
* landmarks the file leaves out have visibility 0, so no rule ever uses them; there are no
  world landmarks.

I/O lives here, in tools/, not in the pure core.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gymcorner.motion.landmarks import NUM_LANDMARKS, PoseSample
from gymcorner.motion.landmarks import Landmark as L


@dataclass(frozen=True)
class Block:
    label: str
    first_row: int  # 0-based data row of the block's first frame
    samples: list[PoseSample]


def read_blocks(path: str | Path, width: int = 1000, height: int = 1000, fps: float = 30.0) -> list[Block]:
    with Path(path).open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    columns: list[tuple[int, L, int]] = []  # (column, landmark, 0..3 for x, y, z, v)
    for col, name in enumerate(header[1:], start=1):
        base, _, axis = name.rpartition("_")
        columns.append((col, L[base.upper()], "xyzv".index(axis)))
    blocks: list[Block] = []
    current: list[PoseSample] = []
    label, first = None, 0
    for i, row in enumerate(rows):
        if row[0] != label:
            if current and label is not None:
                blocks.append(Block(label, first, current))
            label, first, current = row[0], i, []
        image = np.zeros((NUM_LANDMARKS, 4), dtype=np.float32)
        for col, lm, axis in columns:
            image[lm, axis] = float(row[col])
        current.append(PoseSample(len(current) / fps, width, height, image, None))
    if current and label is not None:
        blocks.append(Block(label, first, current))
    return blocks


def split_blocks(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """(choose, report): the file's first half of rows, whole blocks, and the second half.
    Contiguous halves, not alternate blocks, so that neighbouring windows of one recording
    (likely, as the rows are in recording order) mostly fall on one side."""
    total = sum(len(b.samples) for b in blocks)
    choose: list[Block] = []
    seen = 0
    for b in blocks:
        if seen + len(b.samples) / 2 > total / 2:
            break
        choose.append(b)
        seen += len(b.samples)
    return choose, blocks[len(choose) :]
