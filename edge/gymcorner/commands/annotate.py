"""Drawing for `analyze --annotate`: skeleton, view and the coach's messages on the frame.

Only ever writes to a local file the user asked for; frames never leave the device.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from gymcorner.errors import SourceError
from gymcorner.motion.landmarks import Landmark as L
from gymcorner.pipeline import FrameResult

BONES: tuple[tuple[L, L], ...] = (
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_SHOULDER, L.LEFT_HIP),
    (L.RIGHT_SHOULDER, L.RIGHT_HIP),
    (L.LEFT_SHOULDER, L.LEFT_ELBOW),
    (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW),
    (L.RIGHT_ELBOW, L.RIGHT_WRIST),
    (L.LEFT_HIP, L.LEFT_KNEE),
    (L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.RIGHT_HIP, L.RIGHT_KNEE),
    (L.RIGHT_KNEE, L.RIGHT_ANKLE),
    (L.LEFT_ANKLE, L.LEFT_HEEL),
    (L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    (L.LEFT_ANKLE, L.LEFT_FOOT_INDEX),
    (L.RIGHT_ANKLE, L.RIGHT_HEEL),
    (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
    (L.RIGHT_ANKLE, L.RIGHT_FOOT_INDEX),
    (L.NOSE, L.LEFT_EYE),
    (L.NOSE, L.RIGHT_EYE),
)
_LEFT = (80, 200, 255)  # BGR: the person's left side in orange
_RIGHT = (255, 200, 80)  # and right side in light blue
_WARN = (40, 40, 230)
MESSAGE_HOLD_S = 2.5


class Annotator:
    """Writes an annotated copy of the clip; messages stay on screen for a moment."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int], min_visibility: float = 0.5) -> None:
        self._path = Path(path)
        self._writer = cv2.VideoWriter(str(self._path), cv2.VideoWriter_fourcc(*"mp4v"), fps or 30.0, size)
        if not self._writer.isOpened():
            raise SourceError(f"cannot write annotated video: {self._path}")
        self._size = size
        self._min_vis = min_visibility
        self._messages: list[tuple[float, str]] = []

    def write(self, image: np.ndarray, result: FrameResult) -> None:
        canvas = image.copy()
        t = result.raw.t_s
        self._messages = [(t0, m) for t0, m in self._messages if t - t0 < MESSAGE_HOLD_S]
        self._messages += [(t, e.text) for e in result.coach.events]
        sample = result.smoothed
        if sample.image is not None:
            self._skeleton(canvas, sample.pixels(), sample.visibility())
        view = result.coach.view
        label = f"{result.coach.exercise}  reps: {result.coach.reps}  view: {view.view.value} ({view.facing})"
        if result.coach.active:
            label += "  faults: " + ", ".join(result.coach.active)
        y = _text(canvas, label, 10, (255, 255, 255))
        for _, message in self._messages[-4:]:
            y = _text(canvas, message, y + _GAP, _WARN)
        if (canvas.shape[1], canvas.shape[0]) != self._size:
            canvas = cv2.resize(canvas, self._size)
        self._writer.write(canvas)

    def _skeleton(self, canvas: np.ndarray, px: np.ndarray, vis: np.ndarray) -> None:
        pts = np.round(px).astype(int)
        for a, b in BONES:
            if vis[a] < self._min_vis or vis[b] < self._min_vis:
                continue
            color = _LEFT if a.name.startswith("LEFT") else _RIGHT
            cv2.line(canvas, tuple(pts[a]), tuple(pts[b]), color, 3, cv2.LINE_AA)
        for i in range(len(pts)):
            if vis[i] >= self._min_vis:
                cv2.circle(canvas, tuple(pts[i]), 4, (255, 255, 255), -1, cv2.LINE_AA)

    def close(self) -> None:
        self._writer.release()


_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MARGIN = 10  # px from the frame's left and right edges
_GAP = 8  # px between messages


def wrap(text: str, max_width: float, width_of: Callable[[str], float]) -> list[str]:
    """Break `text` at spaces into lines no wider than `max_width` (a word wider than
    that gets a line of its own); the spacing inside a line is kept."""
    lines: list[str] = []
    line = ""
    for word in re.findall(r"\S+\s*", text):
        if line and width_of((line + word).rstrip()) > max_width:
            lines.append(line.rstrip())
            line = ""
        line += word
    if line:
        lines.append(line.rstrip())
    return lines


def _text(canvas: np.ndarray, text: str, top: int, color: tuple[int, int, int]) -> int:
    """Draw `text` from `top` down, wrapped to the frame's width (a portrait phone clip is
    narrow); returns the y below the last line."""
    scale = max(0.45, canvas.shape[1] / 1400)
    (_, height), baseline = cv2.getTextSize("Ag", _FONT, scale, 4)
    step = height + baseline + 4
    lines = wrap(text, canvas.shape[1] - 2 * _MARGIN, lambda s: cv2.getTextSize(s, _FONT, scale, 4)[0][0])
    for line in lines:
        top += step
        origin = (_MARGIN, top - baseline)
        cv2.putText(canvas, line, origin, _FONT, scale, (0, 0, 0), 4, cv2.LINE_AA)
        cv2.putText(canvas, line, origin, _FONT, scale, color, 1, cv2.LINE_AA)
    return top
