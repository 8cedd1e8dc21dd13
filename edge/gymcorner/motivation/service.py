"""The daemon's link to emotion recognition and the LLM coach, kept off the frame path.

`Motivation.offer()` is called by the frame loop with each frame and its coach result.
It never waits: once per `emotion.interval_s` of frame time it hands the newest frame to
the emotion worker (a one-slot mailbox; a frame offered while the worker is still busy is
simply not taken), and it hands moments worth a word to the LLM coach, which drops them
while a request is in flight. `poll()` returns the feedback events ready to publish.

An emotion event always reaches the person: through the LLM when it takes the moment
(its template is the configured message), directly otherwise.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

import numpy as np

from gymcorner.coach.emotion import EmotionEvents, EmotionObservation
from gymcorner.coach.events import FeedbackEvent
from gymcorner.config import Config, EmotionConfig
from gymcorner.motivation.llm import LlmCoach
from gymcorner.motivation.prompt import CoachMoment

_log = logging.getLogger(__name__)
# Said aloud besides form cues: the set's summary, the rest's end, where to stand, the plan.
SPOKEN_INFO = frozenset({"set_end", "rest_over", "view_limited", "plan"})


class EmotionWorker:
    """Recognises emotion on one frame at a time in its own thread."""

    def __init__(self, cfg: EmotionConfig, models_dir: Path) -> None:
        from gymcorner.vision.emotion import EmotionRecogniser

        # Loaded here, in start-up: a missing or corrupt model stops the daemon with one line.
        self._recogniser = EmotionRecogniser(
            models_dir, cfg.min_face_score, cfg.crop_scale, cfg.flip_average, cfg.crop_offset_y
        )
        self._debug_dir = cfg.debug_crops_dir
        self._mailbox: queue.Queue[tuple[np.ndarray, float] | None] = queue.Queue(maxsize=1)
        self.results: queue.Queue[tuple[EmotionObservation, dict[str, Any] | None]] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="emotion", daemon=True)
        self._thread.start()

    def offer(self, image: np.ndarray, t_s: float) -> bool:
        try:
            self._mailbox.put_nowait((image.copy(), t_s))
            return True
        except queue.Full:
            return False

    def close(self) -> None:
        try:
            self._mailbox.put(None, timeout=5)
        except queue.Full:
            pass
        self._thread.join(timeout=5)

    def _work(self) -> None:
        while (item := self._mailbox.get()) is not None:
            image, t_s = item
            try:
                result = self._recogniser.recognise(image)
            except Exception:  # the worker thread's boundary: one bad frame must not end emotion recognition
                _log.exception("emotion recognition failed at t=%.2f", t_s)
                continue
            if result is None:
                self.results.put((EmotionObservation(t_s, None), None))
                continue
            if self._debug_dir is not None and self._recogniser.last_crop is not None:
                import cv2

                self._debug_dir.mkdir(parents=True, exist_ok=True)  # debug flag only: crops stay local
                cv2.imwrite(str(self._debug_dir / f"face_{t_s:09.2f}_{result.label}.png"), self._recogniser.last_crop)
            obs = EmotionObservation(t_s, result.label, result.valence, result.probs[result.label])
            self.results.put((obs, result.to_dict()))


def moment_for(event: FeedbackEvent, rep: int | None = None) -> CoachMoment | None:
    """The LLM moment a coach event calls for, if any: a finished rep with faults, a set's end,
    a heart-rate zone change. (Form cues during a rep are published as they are; the LLM
    speaks once the rep is over, with the whole rep in view.)"""
    d = event.details
    if event.kind == "rep" and d.get("faults"):
        tempo = (d.get("down_s") or 0) + (d.get("up_s") or 0)
        return CoachMoment(
            event.t, "rep_fault", event.exercise, d.get("rep", rep), tuple(d["faults"]), tempo_s=tempo or None
        )
    if event.code in ("set_end", "set_done"):
        return CoachMoment(event.t, "set_end", event.exercise, d.get("reps", rep))
    if event.code in ("hr_zone", "hr_zone_change"):
        return CoachMoment(event.t, "hr_zone", event.exercise, rep, heart_rate_bpm=d.get("bpm"), hr_zone=d.get("zone"))
    return None


class Motivation:
    """Emotion worker + emotion events + LLM coach, as the frame loop sees them."""

    def __init__(self, config: Config) -> None:
        from gymcorner.vision.models import default_models_dir

        mot = config.motivation
        self.interval_s = mot.emotion.interval_s
        self.emotion: EmotionWorker | None = None
        if mot.emotion.enabled:
            self.emotion = EmotionWorker(mot.emotion, default_models_dir(config.models.dir))
        self.events = EmotionEvents(mot.emotion.messages, mot.emotion.hold_intervals, mot.emotion.interval_s)
        self.llm = LlmCoach.from_config(mot.llm) if mot.llm.enabled else None
        self.speaker: Any = None
        if mot.speak:
            from gymcorner.motivation.speech import Speaker

            self.speaker = Speaker(mot.speak_voice, mot.speak_words_per_minute)
        self.latest: dict[str, Any] | None = None  # last recognised emotion (for prompts/status)
        self._next_t: float | None = None

    @classmethod
    def create(cls, config: Config) -> Motivation | None:
        mot = config.motivation
        return cls(config) if (mot.emotion.enabled or mot.llm.enabled or mot.speak) else None

    def offer(self, image: np.ndarray, t_s: float, coach_events: list[FeedbackEvent], rep: int | None = None) -> None:
        """Called once per frame; returns at once."""
        if self.emotion is not None and (self._next_t is None or t_s >= self._next_t):
            if self.emotion.offer(image, t_s):
                self._next_t = t_s + self.interval_s
        self.hear(coach_events, rep)

    def hear(self, coach_events: list[FeedbackEvent], rep: int | None = None) -> None:
        """The coach's events without a frame (a set ended with the session): spoken, and to the LLM."""
        if self.speaker is not None:
            for event in coach_events:
                if event.kind == "form" or event.code in SPOKEN_INFO:
                    self.speaker.say(event)
        if self.llm is not None:
            for event in coach_events:
                moment = moment_for(event, rep)
                if moment is not None:
                    self.llm.submit(moment)

    def poll(self) -> list[FeedbackEvent]:
        out: list[FeedbackEvent] = []
        while self.emotion is not None:
            try:
                obs, summary = self.emotion.results.get_nowait()
            except queue.Empty:
                break
            self.latest = summary
            event = self.events.observe(obs)
            if event is None:
                continue
            moment = CoachMoment(event.t, "emotion", emotion=obs.label, emotion_message=event.text)
            if self.llm is None or not self.llm.submit(moment):
                out.append(event)
        if self.llm is not None:
            out.extend(self.llm.poll())
        if self.speaker is not None:
            for event in out:
                self.speaker.say(event)
        return out

    def reset(self) -> None:
        self.events.reset()

    def close(self) -> None:
        if self.speaker is not None:
            self.speaker.close()
        if self.emotion is not None:
            self.emotion.close()
        if self.llm is not None:
            self.llm.close()
