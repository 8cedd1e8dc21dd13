"""The daemon: frame source -> pose -> pipeline -> MQTT, until told to stop.

`App.run()` reads as its steps: start (fail loudly: model, camera, then the broker
client, which never blocks), the frame loop (never waits on the network; commands are
handled between frames), and a clean shutdown (session summary, retained "offline",
threads joined). Signals are handled in `__main__`, which sets the one stop event.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from gymcorner.config import Config
from gymcorner.pipeline import FrameResult, Pipeline
from gymcorner.transport.commands import Command, CommandName
from gymcorner.vision.pose import PoseEstimator, create_estimator
from gymcorner.vision.sources import FrameSource, FrameTimeout, open_source

_log = logging.getLogger(__name__)

READ_TIMEOUT_S = 1.0
SESSION_EVERY_S = 5.0  # frame time between two session summaries


class App:
    def __init__(self, config: Config, stop: threading.Event | None = None) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.source: FrameSource | None = None
        self.estimator: PoseEstimator | None = None
        self.pipeline = Pipeline(config)
        self.publisher: Any = None
        self._detail = ""
        self._frames = 0
        self._frames_with_person = 0
        self._event_counts: Counter[str] = Counter()
        self._last_session_t: float | None = None
        self._coaching = True

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        self.start()
        try:
            self.loop()
        finally:
            self.shutdown()
        return 0

    def start(self) -> None:
        cfg = self.config
        self.source = open_source(cfg.source)  # cheapest check first: a missing camera is one line
        try:
            self.estimator = create_estimator(cfg.pose)
        except Exception:
            self.source.close()
            raise
        _log.info("source %s open (%s), pose backend %s", self.source.description, self.source.size, self.estimator.name)
        if cfg.mqtt.enabled:
            from gymcorner.transport.mqtt import MqttPublisher

            self.publisher = MqttPublisher(cfg.mqtt, cfg.device.id)
            self.publisher.start()
            _log.info("MQTT: %r, status on %s", self.publisher, self.publisher.topics.status)
        self._set_detail("starting")

    def loop(self) -> None:
        assert self.source is not None and self.estimator is not None
        every_n = self.config.avatar.every_n_frames
        while not self.stop.is_set():
            self._handle_commands()
            try:
                frame = self.source.read(timeout_s=READ_TIMEOUT_S)
            except FrameTimeout:
                self._set_detail("camera lost, retrying")
                continue
            if frame is None:
                _log.info("end of %s after %d frames", self.source.description, self._frames)
                return
            sample = self.estimator.estimate(frame.image, frame.t_s)
            result = self.pipeline.process(sample)
            self._frames += 1
            self._publish(result, send_avatar=frame.index % every_n == 0)

    def shutdown(self) -> None:
        if self.publisher is not None:
            self.publisher.publish_session(self._session_summary(final=True))
            self.publisher.close()
        if self.source is not None:
            self.source.close()
        if self.estimator is not None:
            self.estimator.close()
        _log.info("stopped after %d frames, %d feedback events", self._frames, sum(self._event_counts.values()))

    # ------------------------------------------------------------------ per frame

    def _publish(self, result: FrameResult, send_avatar: bool) -> None:
        coach = result.coach
        if result.raw.present:
            self._frames_with_person += 1
            self._set_detail(f"coaching: squat ({coach.view.view.value} view)" if self._coaching else "paused")
        else:
            self._set_detail("waiting for a person")
        if not self._coaching:
            return
        for event in coach.events:
            self._event_counts[event.code] += 1
            _log.info("feedback t=%.2f %s: %s", event.t, event.code, event.text)
            if self.publisher is not None:
                self.publisher.publish_feedback(event.to_dict())
        if self.publisher is None:
            return
        if send_avatar:
            self.publisher.publish_avatar(self.pipeline.encode(result.avatar))
        t = result.raw.t_s
        if self._last_session_t is None or t - self._last_session_t >= SESSION_EVERY_S:
            self._last_session_t = t
            self.publisher.publish_session(self._session_summary(final=False, t=t))

    def _set_detail(self, detail: str) -> None:
        if detail == self._detail:
            return
        self._detail = detail
        _log.info("status: %s", detail)
        if self.publisher is not None:
            self.publisher.publish_status("online", detail=detail, exercise="squat")

    def _session_summary(self, final: bool, t: float | None = None) -> dict[str, Any]:
        return {
            "state": "ended" if final else ("active" if self._coaching else "paused"),
            "exercise": "squat",
            "t": None if t is None else round(t, 3),
            "frames": self._frames,
            "frames_with_person": self._frames_with_person,
            "events": dict(self._event_counts),
        }

    # ------------------------------------------------------------------ commands

    def _handle_commands(self) -> None:
        if self.publisher is None:
            return
        for command in self.publisher.poll_commands():
            self._handle(command)

    def _handle(self, command: Command) -> None:
        name = command.name
        if name is CommandName.PING:
            self.publisher.reply(command, True)
        elif name is CommandName.STATUS:
            self.publisher.reply(
                command, True, detail=self._detail, frames=self._frames, mqtt=self.publisher.stats()
            )
        elif name is CommandName.RESET_SESSION:
            self.pipeline.reset()
            self._event_counts.clear()
            self._coaching = True
            self.publisher.reply(command, True)
        elif name is CommandName.STOP_SESSION:
            self._coaching = False
            self.publisher.publish_session(self._session_summary(final=True))
            self.publisher.reply(command, True)
        elif name is CommandName.SET_EXERCISE:
            # Only the squat coach exists so far; the schema already rejects other names.
            self.publisher.reply(command, True, exercise=command.args["exercise"])
        else:  # pragma: no cover - the schema admits only the names above
            self.publisher.reply(command, False, error=f"unsupported command {name.value}")
