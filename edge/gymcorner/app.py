"""The daemon: frame source -> pose -> pipeline -> MQTT, until told to stop.

`App.run()` reads as its steps: start (fail loudly: model, camera, then the broker
client, which never blocks), the frame loop (never waits on the network; commands are
handled between frames), and a clean shutdown (session summary, retained "offline",
threads joined). Signals are handled in `__main__`, which sets the one stop event.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from gymcorner.coach.events import FeedbackEvent
from gymcorner.coach.sets import SessionTally
from gymcorner.config import Config
from gymcorner.device.link import EXIT_CALIBRATE, DeviceLink, Press
from gymcorner.motion.landmarks import PoseSample
from gymcorner.pipeline import FrameResult, Pipeline
from gymcorner.presence import PresenceHysteresis
from gymcorner.transport.commands import Command, CommandName
from gymcorner.transport.sinks import CommandLink, Sinks, open_sinks
from gymcorner.vision.pose import PoseEstimator, create_estimator
from gymcorner.vision.pose_ahead import PoseAhead, PoseStillRunning
from gymcorner.vision.sources import Frame, FrameSource, FrameTimeout, open_source

if TYPE_CHECKING:
    from gymcorner.motivation.service import Motivation
    from gymcorner.wearables.service import WearablesService

_log = logging.getLogger(__name__)

READ_TIMEOUT_S = 1.0
SESSION_EVERY_S = 5.0  # frame time between two session summaries
HR_SAMPLE_EVERY_S = 1.0  # frame time between two heart-rate samples handed to the history
COMMANDS_PER_TURN = 8  # commands handled between two frames; the rest wait (bounded) for the next turns


class App:
    def __init__(self, config: Config, stop: threading.Event | None = None) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.source: FrameSource | None = None
        self.estimator: PoseEstimator | None = None
        self._ahead: PoseAhead | None = None  # the pose thread, one frame ahead ([pose] ahead)
        self.pipeline = Pipeline(config)
        self.sinks = Sinks()  # MQTT, TCP JSON lines, VMC: transport/sinks.py
        self.motivation: Motivation | None = None  # emotion worker + LLM coach: motivation/service.py
        self.wearables: WearablesService | None = None  # heart-rate straps, BLE or ESP32 relay
        self._detail = ""
        self._presence = PresenceHysteresis()  # the status detail follows a steadied presence
        self._frames = 0  # since start (the status reply)
        self._session_frames = 0  # this session (the session summary), like the counts below
        self._frames_with_person = 0
        self._event_counts: Counter[str] = Counter()
        self._tally = SessionTally(config.coach.quality.good_min_score)  # reps, quality, sets per exercise
        self._last_t: float | None = None  # the newest frame's time: when a session is stopped
        self._last_session_t: float | None = None
        self._hr_slot: int | None = None  # the last second of frame time whose heart rate was sampled
        self._coaching = True
        self._exercise = config.coach.exercise
        self.device: DeviceLink | None = None  # systemd notify/watchdog + GPIO (device/link.py)
        self._exit_code = 0

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        try:
            self.start()
        except Exception:
            if self.device is not None:
                self.device.detail("error: start-up failed")
            raise
        try:
            self.loop()
        finally:
            self.shutdown()
        return self._exit_code

    def start(self) -> None:
        """The start-up steps in order, cheapest check first; one that fails releases what
        the earlier ones opened (camera, model, threads, sockets) and raises its one line."""
        cfg = self.config
        self.device = DeviceLink.open(cfg.gpio)
        self.device.booting()
        with ExitStack() as undo:
            self.source = open_source(cfg.source)  # a missing camera is one line
            undo.callback(self.source.close)
            self.estimator = create_estimator(cfg.pose, cfg.models.dir)
            undo.callback(self.estimator.close)
            if cfg.pose.ahead:
                self._ahead = PoseAhead(self.source, self.estimator, READ_TIMEOUT_S)
                undo.callback(self._ahead.close)  # before the estimator and source it uses
            _log.info(
                "source %s open (%s), pose backend %s", self.source.description, self.source.size, self.estimator.name
            )
            # emotion worker + LLM coach threads, off unless [motivation] enables them
            from gymcorner.motivation.service import Motivation

            self.motivation = Motivation.create(cfg)  # a missing/corrupt model file stops here, one line
            if self.motivation is not None:
                undo.callback(self.motivation.close)
            # MQTT, TCP JSON lines, VMC (and Home Assistant discovery): every enabled sink
            self.sinks, publisher = open_sinks(cfg, undo)
            # heart-rate straps read on their own thread, off unless [wearables] source is set
            if cfg.wearables.source != "none":
                from gymcorner.wearables.service import WearablesService

                self.wearables = WearablesService(cfg.wearables, publisher)
                self.wearables.start()
                undo.callback(self.wearables.stop)
            undo.pop_all()
        self._set_detail("starting")
        self.device.ready("ready: camera and pose model up, waiting for a person")

    def loop(self) -> None:
        assert self.source is not None and self.estimator is not None
        every_n = self.config.avatar.every_n_frames
        while not self.stop.is_set():
            self._device_turn()
            self._handle_commands()
            try:
                estimated = self._next_frame()
            except PoseStillRunning:
                continue  # the pose thread is still on the next frame: commands, stop, then wait again
            except FrameTimeout:
                self._set_detail("camera lost, retrying")
                continue
            if estimated is None:
                _log.info("end of %s after %d frames", self.source.description, self._frames)
                return
            frame, sample = estimated
            heart_rate = self.wearables.heart_rate() if self.wearables is not None else None
            result = self.pipeline.process(sample, heart_rate)
            self._last_t = frame.t_s
            events = [*result.coach.events, *self._hr_zone_events(frame.t_s, result.coach.exercise)]
            if self.motivation is not None and self._coaching:  # paused: nothing spoken, nothing to the LLM
                self.motivation.offer(frame.image, frame.t_s, events, result.coach.reps)
            self._frames += 1
            self._session_frames += 1
            self._publish(result, events, send_avatar=frame.index % every_n == 0)

    def _next_frame(self) -> tuple[Frame, PoseSample] | None:
        """The next frame and its pose: from the pose thread, or read and estimated here."""
        if self._ahead is not None:
            item = self._ahead.read(timeout_s=READ_TIMEOUT_S)
            return None if item is None else (item.frame, item.sample)
        assert self.source is not None and self.estimator is not None
        frame = self.source.read(timeout_s=READ_TIMEOUT_S)
        return None if frame is None else (frame, self.estimator.estimate(frame.image, frame.t_s))

    def shutdown(self) -> None:
        if self.device is not None:
            self.device.stopping()
        if self.wearables is not None:
            self.wearables.stop()  # its state stays readable for the final session summary
        if self._coaching:
            self._end_sets()
        self.sinks.publish_session(self._session_summary(final=True))
        self.sinks.close()  # each sink publishes its own offline status
        if self._ahead is not None:
            self._ahead.close()  # the pose thread first: it uses the source and the estimator
        if self.source is not None:
            self.source.close()
        if self.estimator is not None:
            self.estimator.close()
        if self.motivation is not None:
            self.motivation.close()
        if self.device is not None:
            self.device.close()
        _log.info("stopped after %d frames, %d feedback events", self._frames, sum(self._event_counts.values()))

    # ------------------------------------------------------------------ per frame

    def _publish(self, result: FrameResult, events: list[FeedbackEvent], send_avatar: bool) -> None:
        coach = result.coach
        if result.raw.present:
            self._frames_with_person += 1
            self._exercise = coach.exercise
        if self._presence.update(result.raw.present, result.raw.t_s):
            self._set_detail(f"coaching: {self._exercise}, rep {coach.reps}" if self._coaching else "paused")
        else:
            self._set_detail("waiting for a person")
        if not self._coaching:
            return
        extra = self.motivation.poll() if self.motivation is not None else []  # emotion / LLM coach events
        self._emit([*events, *extra])
        self._sample_heart_rate(result.raw.t_s)
        if send_avatar:
            self.sinks.publish_avatar(result.avatar)
        t = result.raw.t_s
        if self._last_session_t is None or t - self._last_session_t >= SESSION_EVERY_S:
            self._last_session_t = t
            self.sinks.publish_session(self._session_summary(final=False, t=t))

    def _sample_heart_rate(self, t_s: float) -> None:
        """Once a second of frame time, each fresh strap's heart rate to the sinks that keep it
        (the history's curve within a session); the frame loop only reads the strap state."""
        if self.wearables is None:
            return
        slot = math.floor(t_s / HR_SAMPLE_EVERY_S)
        if slot == self._hr_slot:
            return
        self._hr_slot = slot
        rates = self.wearables.fresh_heart_rates()
        if rates:
            self.sinks.record_heart_rate(t_s, rates)

    def _emit(self, events: list[FeedbackEvent]) -> None:
        for event in events:
            self._event_counts[event.code] += 1
            self._tally.add(event, self._exercise)
            if self.device is not None:
                self.device.feedback(event.kind)  # buzzer pulse on a form fault
            _log.info("feedback t=%.2f %s: %s", event.t, event.code, event.text)
            self.sinks.publish_feedback(event.to_dict())

    def _hr_zone_events(self, t_s: float, exercise: str) -> list[FeedbackEvent]:
        """A strap's heart rate entered another zone: an `hr_zone` event at this frame's time."""
        if self.wearables is None:
            return []
        return [
            FeedbackEvent(
                t=t_s,
                code="hr_zone",
                text=f"Heart rate {change.bpm} bpm: zone {change.zone}.",
                kind="info",
                severity="info",
                exercise=exercise,
                details={
                    "sensor": change.sensor,
                    "user": change.user,
                    "zone": change.zone,
                    "previous_zone": change.previous_zone,
                    "bpm": change.bpm,
                },
            )
            for change in self.wearables.zone_changes()
        ]

    def _follow_plan(self, plan: dict[str, Any], member: str) -> None:
        """This session's plan: its reps a set go to the set summaries, and it is said once
        (to the app as a `plan` event, and to the spoken / LLM coach)."""
        items = [i for i in plan.get("items", []) if isinstance(i, dict)]
        self.pipeline.set_targets({i["exercise"]: i["reps"] for i in items if i.get("unit") == "reps"})
        parts = [f"{i['exercise'].replace('_', ' ')} {i['sets']} x {i['reps']}{' s' if i.get('unit') == 's' else ''}"
                 for i in items]  # fmt: skip
        event = FeedbackEvent(
            t=self._last_t or 0.0,
            code="plan",
            text=f"Today's plan for {member}: " + ", ".join(parts) + ".",
            kind="info",
            severity="info",
            exercise=self._exercise,
            details={"member": member, **plan},
        )
        if self.motivation is not None:
            self.motivation.hear([event])
        self._emit([event])

    def _end_sets(self) -> None:
        """The session ends: the set in progress ends with it, and its `set_end` is published."""
        if self._last_t is None:
            return
        events = self.pipeline.finish(self._last_t)
        if self.motivation is not None and events:
            self.motivation.hear(events)
        self._emit(events)

    def _set_detail(self, detail: str) -> None:
        if detail == self._detail:
            return
        self._detail = detail
        _log.info("status: %s", detail)
        if self.device is not None:
            self.device.detail(detail)
        self.sinks.publish_status("online", detail=detail, exercise=self._exercise)

    def _session_summary(self, final: bool, t: float | None = None) -> dict[str, Any]:
        return {
            "state": "ended" if final else ("active" if self._coaching else "paused"),
            "exercise": self._exercise,
            "reps": self._tally.reps(),
            "reps_by_exercise": self._tally.reps_by_exercise(),
            "by_exercise": self._tally.to_dict(),
            "t": None if t is None else round(t, 3),
            "frames": self._session_frames,
            "frames_with_person": self._frames_with_person,
            "events": dict(self._event_counts),
            **({"wearables": self.wearables.snapshot()} if self.wearables is not None else {}),
        }

    # ------------------------------------------------------------------ device (systemd, GPIO)

    def _device_turn(self) -> None:
        """Once per loop turn, never blocking: watchdog ping, then button presses."""
        if self.device is None:
            return
        self.device.frame()
        for press in self.device.poll():
            if press is Press.SHORT:
                self._toggle_session()
            elif press is Press.LONG and self.device.request_calibration():
                self._exit_code = EXIT_CALIBRATE
                self.stop.set()

    def _toggle_session(self) -> None:
        """Button short press: stop a running session, or start a fresh one."""
        if self._coaching:
            self._stop_session()
        else:
            self._start_session()
            self._set_detail("waiting for a person")

    def _start_session(self) -> None:
        """A fresh session: coach state and every per-session count back to zero."""
        if self._coaching:
            self._end_sets()  # the old session's open set is reported before it is forgotten
        self.pipeline.reset()
        if self.motivation is not None:
            self.motivation.reset()
        self._event_counts.clear()
        self._tally.reset()
        self._session_frames = self._frames_with_person = 0
        self._last_session_t = None
        self._coaching = True

    # ------------------------------------------------------------------ commands

    def _stop_session(self) -> None:
        """Button, or `stop_session`: coaching pauses, the session's summary is final."""
        if self._coaching:
            self._end_sets()
        self._coaching = False
        self._set_detail("paused")
        self.sinks.publish_session(self._session_summary(final=True))

    # ------------------------------------------------------------------ commands

    def _handle_commands(self) -> None:
        """Commands from every sink that carries them, at most COMMANDS_PER_TURN from each."""
        for link, command in self.sinks.poll_commands(limit=COMMANDS_PER_TURN):
            self._handle(link, command)

    def _handle(self, link: CommandLink, command: Command) -> None:
        name = command.name
        if name is CommandName.PING:
            link.reply(command, True)
        elif name is CommandName.STATUS:
            link.reply(command, True, detail=self._detail, frames=self._frames, stats=link.stats())
        elif name is CommandName.RESET_SESSION:
            self._start_session()
            link.reply(command, True)
        elif name is CommandName.STOP_SESSION:
            self._stop_session()
            link.reply(command, True)
        elif name is CommandName.START_SESSION:  # a fresh session, in the history as a member's or a guest's
            if self._coaching:
                self._end_sets()  # the open set belongs to the session that ends here
            fields = self.sinks.start_session(command.args.get("member"), command.args.get("member_key"))
            if "error" not in fields:
                self._start_session()
                if isinstance(fields.get("plan"), dict):
                    self._follow_plan(fields["plan"], str(fields.get("member", "")))
            link.reply(command, "error" not in fields, **fields)
        elif name is CommandName.SET_EXERCISE:
            self.pipeline.set_exercise(command.args["exercise"])
            link.reply(command, True, exercise=command.args["exercise"])
        else:  # pragma: no cover - the schema admits only the names above
            link.reply(command, False, error=f"unsupported command {name.value}")
