"""What a session keeps over time beside its events: the strap's heart rate and the person's
landmarks, sampled on the frame thread and handed to the writer a few seconds at a time.

* heart rate: at most one sample a second of frame time (the daemon offers one a second,
  `App._sample_heart_rate`), of the session's strap only (the first that delivered readings
  stays it: a neighbour's strap never mixes in); a reading outside HR_BPM_RANGE is a glitch;
  batches of HR_BATCH, or whatever the next summary finds (one commit every 5 s);
* landmarks: the avatar frames' world landmarks at most `landmarks_hz` a second, frames
  with a person only, in chunks of CHUNK_FRAMES (`landmark_codec`, packed on the writer
  thread: this side only keeps references).

A session opens with its first event, which is often the end of its first rep: what was
sampled in the PREROLL_S before it is the session's too. Times are frame times (the reps'
clock), so a replay, a curve and the reps line up.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gymcorner.history.landmark_codec import CHUNK_FRAMES, CHUNK_SPAN_S, Frame
from gymcorner.history.landmarks import record_landmarks
from gymcorner.history.store import Store

HR_SAMPLE_EVERY_S = 1.0  # at most one heart-rate sample a second of frame time is kept
HR_BATCH = 10  # samples handed to the writer at once (a summary, every 5 s, hands over what it has)
HR_BPM_RANGE = (25, 250)  # a strap's reading outside it is a glitch, not a heart rate
PREROLL_S = 10.0  # a session opens with its first event; what came this long before it is its own too

Write = Callable[[Store], None]


@dataclass
class SessionSamples:
    """One session's sampling state: its strap, and what is not yet handed to the writer."""

    uuid: str
    hr_sensor: str | None = None  # the strap whose heart rate is this session's
    hr_slot: int | None = None  # the last second of frame time with a sample
    heart: list[tuple[float, int]] = field(default_factory=list)
    landmarks: list[Frame] = field(default_factory=list)  # the chunk being gathered
    chunks: int = 0  # landmark chunks handed to the writer


class Sampler:
    """The sink's sampling: per session (a `SessionSamples`), and the pre-roll while none is open."""

    def __init__(self, device_id: str, submit: Callable[[Write], None], landmarks_hz: float) -> None:
        self.device_id = device_id
        self.submit = submit
        self.landmarks_hz = landmarks_hz  # 0: no landmarks kept
        self.last_t: float | None = None  # the newest frame time seen (samples, events)
        self._landmark_slot: int | None = None
        self._heart_preroll: deque[tuple[float, dict[str, Any]]] = deque(maxlen=int(2 * PREROLL_S))
        self._landmark_preroll: deque[Frame] = deque(maxlen=max(1, math.ceil(landmarks_hz * PREROLL_S)))

    def heart_rate(self, session: SessionSamples | None, t: float, bpm_by_sensor: Mapping[str, Any]) -> None:
        self.last_t = t
        if session is None:
            self._heart_preroll.append((t, dict(bpm_by_sensor)))
        else:
            self._heart_rate(session, t, bpm_by_sensor)

    def landmarks(self, session: SessionSamples | None, frame: Any) -> None:
        """An avatar frame's landmarks (anything else, or a frame without a person: nothing)."""
        world, visibility = getattr(frame, "world_m", None), getattr(frame, "visibility", None)
        t = _finite(getattr(frame, "t_s", None))
        if self.landmarks_hz <= 0 or world is None or visibility is None or t is None:
            return
        slot = math.floor(t * self.landmarks_hz)
        if slot == self._landmark_slot:
            return
        self._landmark_slot = slot
        self.last_t = t
        if session is None:
            self._landmark_preroll.append((t, world, visibility))
        else:
            self._landmark(session, (t, world, visibility))

    def opened(self, session: SessionSamples) -> None:
        """A session began: what was sampled in the PREROLL_S before now becomes its own."""
        since = (self.last_t or 0.0) - PREROLL_S
        for t, rates in self._heart_preroll:
            if t >= since:
                self._heart_rate(session, t, rates)
        for item in self._landmark_preroll:
            if item[0] >= since:
                self._landmark(session, item)
        self._heart_preroll.clear()
        self._landmark_preroll.clear()

    def flush_heart_rate(self, session: SessionSamples) -> None:
        if not session.heart:
            return
        samples, session.heart = session.heart, []
        device_id, uuid = self.device_id, session.uuid
        self.submit(lambda s: s.record_heart_rate(device_id, uuid, samples))

    def flush(self, session: SessionSamples) -> None:
        """Everything the session holds goes to the writer (it ends)."""
        self.flush_heart_rate(session)
        self._flush_landmarks(session)

    def _heart_rate(self, session: SessionSamples, t: float, bpm_by_sensor: Mapping[str, Any]) -> None:
        if session.hr_sensor is None:
            session.hr_sensor = next((str(k) for k, v in bpm_by_sensor.items() if bpm_of(v) is not None), None)
        bpm = bpm_of(bpm_by_sensor.get(session.hr_sensor)) if session.hr_sensor is not None else None
        slot = math.floor(t / HR_SAMPLE_EVERY_S)
        if bpm is None or slot == session.hr_slot:
            return
        session.hr_slot = slot
        session.heart.append((round(t, 3), bpm))
        if len(session.heart) >= HR_BATCH:
            self.flush_heart_rate(session)

    def _landmark(self, session: SessionSamples, item: Frame) -> None:
        gathered = session.landmarks
        if gathered and (item[0] < gathered[-1][0] or item[0] - gathered[0][0] > CHUNK_SPAN_S):
            self._flush_landmarks(session)  # time went back (a new clip), or the chunk's clock would overflow
        session.landmarks.append(item)
        if len(session.landmarks) >= CHUNK_FRAMES:
            self._flush_landmarks(session)

    def _flush_landmarks(self, session: SessionSamples) -> None:
        if not session.landmarks:
            return
        frames, session.landmarks = session.landmarks, []
        seq, session.chunks = session.chunks, session.chunks + 1
        device_id, uuid = self.device_id, session.uuid
        self.submit(lambda s: record_landmarks(s, device_id, uuid, seq, frames))


def bpm_of(value: Any) -> int | None:
    """A reading as a whole bpm within HR_BPM_RANGE; None for a glitch or no number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    bpm = int(value)
    return bpm if HR_BPM_RANGE[0] <= bpm <= HR_BPM_RANGE[1] else None


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
