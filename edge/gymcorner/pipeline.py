"""The per-frame pipeline after pose estimation: smoothing -> coach -> avatar.

Pure: time comes in with the sample, nothing here opens a device or reads the clock,
so the daemon, `analyze`, `replay` and `bench` all run exactly this code and a recorded
landmark file replays bit for bit. The stages are separate methods so that `bench`
can time each one; `process` runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from gymcorner.assets import load_reference
from gymcorner.avatar.codec import AvatarFrame, build_frame, encode_binary
from gymcorner.avatar.codec_json import encode_json
from gymcorner.avatar.head import HeadYawTracker
from gymcorner.avatar.limbs import LimbRotationTracker
from gymcorner.coach.coach import Coach, CoachFrame, LabelFreeCounter
from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.exercises import AUTO, Exercise
from gymcorner.config import Config
from gymcorner.motion.filters import make_smoother
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import View

VIEW_CODES = {View.UNKNOWN: 0, View.FRONTAL: 1, View.LATERAL: 2}


@dataclass(frozen=True)
class FrameResult:
    raw: PoseSample
    smoothed: PoseSample
    coach: CoachFrame
    avatar: AvatarFrame


class Pipeline:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._smoother = make_smoother(config.smoothing)
        reference = load_reference(config.coach.reference_file) if config.coach.reference_file else None
        recognizer = _make_recognizer(config)
        label_free = LabelFreeCounter() if recognizer is not None and config.coach.count_unknown else None
        self._coach = Coach(config.coach, recognizer, reference, unknown_counter=label_free)
        self._head = HeadYawTracker(config.avatar)
        self._limbs = LimbRotationTracker(config.avatar)
        self._seq = 0

    def reset(self) -> None:
        """Forget the current person (new session, or the coach was told to start over)."""
        self._smoother.reset()
        self._coach.reset()
        self._head = HeadYawTracker(self._config.avatar)
        self._limbs = LimbRotationTracker(self._config.avatar)

    def set_exercise(self, exercise: Exercise) -> None:
        self._coach.set_exercise(exercise)

    def smooth(self, sample: PoseSample) -> PoseSample:
        return self._smoother.smooth(sample)

    def coach(self, sample: PoseSample, heart_rate_bpm: float | None = None) -> CoachFrame:
        return self._coach.update(sample, heart_rate_bpm)

    def set_targets(self, reps_per_set: dict[str, int]) -> None:
        self._coach.set_targets(reps_per_set)

    def finish(self, t_s: float) -> list[FeedbackEvent]:
        """The session (or the clip) ends at `t_s`: the events that closes (the open set's end)."""
        return self._coach.finish(t_s)

    def avatar(self, sample: PoseSample, coach: CoachFrame) -> AvatarFrame:
        head = self._head.update(sample)
        bones = self._limbs.update(sample)
        frame = build_frame(
            sample,
            head,
            bones,
            seq=self._seq,
            view=VIEW_CODES[coach.view.view],
            exercise=coach.exercise,
        )
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        return frame

    def encode(self, frame: AvatarFrame) -> bytes:
        return encode_json(frame) if self._config.avatar.format == "json" else encode_binary(frame)

    def process(self, sample: PoseSample, heart_rate_bpm: float | None = None) -> FrameResult:
        smoothed = self.smooth(sample)
        coach = self.coach(smoothed, heart_rate_bpm)
        return FrameResult(sample, smoothed, coach, self.avatar(smoothed, coach))


def _make_recognizer(config: Config) -> object | None:
    """The exercise recogniser, only when the config asks the coach to follow it."""
    if config.coach.exercise != AUTO:
        return None
    from gymcorner.assets import make_recognizer

    return make_recognizer()
