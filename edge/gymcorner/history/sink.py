"""The history sink: what the daemon publishes, recorded as sessions, sets, reps and events.

It sees exactly what the other sinks see (`transport/sinks.py`'s `Sink` calls) and derives
the session from them, so the daemon needs no hook of its own:

* a session opens with the first feedback event after the daemon starts or after the last
  session ended (a daemon idling with nobody in front of it stores nothing);
* it ends with a session summary whose state is "ended" (stop_session, the button, shutdown),
  or when a summary's frame count goes down (reset_session started a fresh one);
* a guest session becomes a member's when their paired strap delivers readings (the
  summary's `wearables.straps`);
* a set ends with a `set_end` event, or when a rep's number does not follow the last one
  (a new exercise, a restarted counter): rep rows are keyed (set, rep), never overwritten;
* the session strap's heart rate is sampled once a second of frame time (`record_heart_rate`,
  which the daemon calls beside the Sink calls), and the person's world landmarks
  `landmarks_hz` times a second from the avatar frames, for the session's replay; both are
  handed to the writer a few seconds at a time (`samples.py`), and what came in the 10 s
  before a session's first event (the end of its first rep, often) is the session's too.

Everything here runs on the frame thread and only builds small dicts and keeps references;
the writes (and the packing of landmarks) go to the `HistoryWriter` thread. There are no
images anywhere to store.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gymcorner.avatar.codec import AvatarFrame
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.members import Member, member_named, name_key
from gymcorner.history.samples import Sampler, SessionSamples
from gymcorner.history.sqlite import HistoryWriter, open_sqlite
from gymcorner.history.store import Store

_log = logging.getLogger(__name__)


@dataclass
class _Session:
    uuid: str
    started_at: float
    set_number: int = 1
    last_rep: int = 0
    set_exercise: str | None = None
    seq: int = 0  # events of this session
    reps: int = 0
    straps_tried: set[str] = field(default_factory=set)
    written: dict[str, Any] = field(default_factory=dict)  # the state and exercise last written
    samples: SessionSamples = field(init=False)  # its heart rate and landmarks on their way to the writer

    def __post_init__(self) -> None:
        self.samples = SessionSamples(self.uuid)


class HistorySink:
    """A `Sink` over a `HistoryWriter`; when the database could not be opened it is
    `unavailable` and records nothing, and says so in the daemon's status (`status_fields`)."""

    name = "history"

    def __init__(
        self,
        device_id: str,
        writer: HistoryWriter | None,
        unavailable: str | None = None,
        clock: Callable[[], float] = time.time,
        landmarks_hz: float = 10.0,
    ) -> None:
        self.device_id = device_id
        self.writer = writer
        self.unavailable = unavailable
        self.clock = clock
        self.session: _Session | None = None
        self.member_id: int | None = None  # the next session's member (None: a guest); start_session sets it
        self._read_store: Store | None = None  # the frame thread's own connection (start_session)
        self._frames_seen = 0  # the last summary's frame count: it goes down when a session is reset
        self.sampler = Sampler(device_id, self._submit, landmarks_hz)  # heart rate and landmarks over time
        self.uploader: Any = None  # history.uploader.Uploader with [history] upload_url

    # ------------------------------------------------------------------ the Sink calls

    def publish_status(self, state: str, **fields: Any) -> None:
        """Nothing to store: status is the device's, not the session's."""

    def publish_feedback(self, event: Mapping[str, Any]) -> str | None:
        t = _float(event.get("t"))
        if t is not None:
            self.sampler.last_t = t
        session = self._session()
        code = str(event.get("code", ""))
        raw = event.get("details")
        details: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if event.get("kind") == "rep" or code == "rep":
            self._rep(session, event, details)
        elif code in ("set_end", "set_done"):
            self._set_end(session, event, details)
        else:
            self._event(session, event, details)
        return None

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        frames = _int(summary.get("frames")) or 0
        previous, self._frames_seen = self._frames_seen, frames  # followed with or without a session
        session = self.session
        if session is None:
            return
        if frames < previous:  # reset_session: this summary belongs to a fresh session
            self._end(session, "ended")
            return
        self._claim_by_strap(session, summary.get("wearables"))
        heart = self._heart_rate(session, summary.get("wearables"))
        self.sampler.flush_heart_rate(session.samples)
        state = summary.get("state")
        if state == "ended":
            self._end(session, "ended", exercise=_text(summary.get("exercise")), **heart)
        elif state in ("active", "paused"):
            values = {"state": state, "exercise": _text(summary.get("exercise")), **heart}
            if values != session.written:  # a summary every 5 s: written (one commit) only when it says something new
                session.written = values
                self._submit(lambda s: s.update_session(self.device_id, session.uuid, **values))

    def _heart_rate(self, session: _Session, wearables: Any) -> dict[str, Any]:
        """The session's heart rate from the summary's straps: the first strap that delivered
        readings this session stays its strap (a neighbour's strap never mixes in)."""
        straps = wearables.get("straps") if isinstance(wearables, Mapping) else None
        if not isinstance(straps, Mapping):
            return {}
        samples = session.samples
        if samples.hr_sensor is None:
            samples.hr_sensor = next(
                (str(k) for k, v in straps.items() if isinstance(v, Mapping) and v.get("readings")), None
            )
        strap = straps.get(samples.hr_sensor) if samples.hr_sensor is not None else None
        if not isinstance(strap, Mapping):
            return {}
        zones = strap.get("zone_s")
        return {
            "hr_sensor": samples.hr_sensor,
            "hr_mean_bpm": _float(strap.get("mean_bpm")),
            "hr_peak_bpm": _float(strap.get("peak_bpm")),
            "hr_zone_s": json.dumps(_jsonable(zones), sort_keys=True) if isinstance(zones, Mapping) else None,
        }

    def record_heart_rate(self, t_s: float, bpm_by_sensor: Mapping[str, Any]) -> None:
        """A heart-rate sample of the session's strap at frame time `t_s` (the daemon offers
        one a second): see `samples.Sampler`. Nothing is kept while no session is open,
        except the pre-roll."""
        t = _float(t_s)
        if t is not None and isinstance(bpm_by_sensor, Mapping):
            self.sampler.heart_rate(self.session.samples if self.session else None, t, bpm_by_sensor)

    def _claim_by_strap(self, session: _Session, wearables: Any) -> None:
        """A strap that delivers readings makes a guest session its paired member's. Each
        strap is tried once a session; the store leaves a session that has a member alone,
        so the first paired strap wins."""
        straps = wearables.get("straps") if isinstance(wearables, Mapping) else None
        if not isinstance(straps, Mapping):
            return
        for sensor, strap in straps.items():
            address = str(sensor)
            if address in session.straps_tried or not isinstance(strap, Mapping) or not strap.get("readings"):
                continue
            session.straps_tried.add(address)

            def claim(store: Store, address: str = address) -> None:
                store.claim_by_strap(self.device_id, session.uuid, address)

            self._submit(claim)

    def start_session(self, member: str | None, member_key: str | None = None) -> dict[str, Any]:
        """`start_session` (MQTT): end the current session; the next one is the member's
        (`member`: a name, else an id; `member_key`: a name only, as a chain names them).

        Runs on the frame thread between frames: one indexed read on a WAL file, which
        never waits for the writer. An unknown member changes nothing and says why."""
        member_id: int | None = None
        reply: dict[str, Any] = {}
        if member is not None or member_key is not None:
            if self.writer is None:
                return {"error": f"history unavailable, no member can be looked up: {self.unavailable}"}
            try:
                found = self._named(member_key) if member_key is not None else self._reader().find_member(str(member))
            except HistoryError as err:
                return {"error": str(err)}
            member_id, reply = found.id, {"member": found.display_name, "member_id": found.id}
            reply.update(self._next_session_plan(found.id))
        if self.session is not None:
            self._end(self.session, "ended")
        self.member_id = member_id
        return reply

    def _named(self, member_key: str) -> Member:
        found = member_named(self._reader(), member_key)
        if found is None:
            raise HistoryError(
                f"no member named {name_key(member_key)!r} here: a box knows its own members and, once it syncs "
                "with a chain, the chain's members as of its last sync (gymcorner history sync); "
                "or add them on this box: gymcorner members add",
                Reason.HISTORY_NOT_FOUND,
            )
        return found

    def _next_session_plan(self, member_id: int) -> dict[str, Any]:
        """The member's plan for this session (plans/generator.py), from their stored sets:
        `plan` (the items), or `plan_error` when their profile cannot be planned for."""
        import datetime as dt

        from gymcorner.plans.generator import generate_plan
        from gymcorner.plans.records import ProfileError, history_of, profile_of

        data = self._reader().member_data(member_id, events=False)  # sets and reps: what a plan reads
        try:
            profile = profile_of(data["member"])
        except ProfileError as err:
            return {"plan_error": str(err)}
        plan = generate_plan(profile, history_of(data), dt.date.today(), sessions=1)
        return {"plan": plan.sessions[0].to_dict()}

    def _reader(self) -> Store:
        if self._read_store is None:
            self._read_store = open_sqlite(Path(self.writer.store.where), migrate=False) if self.writer else None
        if self._read_store is None:
            raise HistoryError("history unavailable")
        return self._read_store

    def publish_avatar(self, frame: AvatarFrame) -> None:
        """The person's world landmarks, at most `landmarks_hz` frames a second of frame time,
        for the session's replay (never an image: an avatar frame carries none); see
        `samples.Sampler`."""
        self.sampler.landmarks(self.session.samples if self.session else None, frame)

    def close(self) -> None:
        if self.session is not None:  # the final summary normally ended it already
            self._end(self.session, "ended")
        if self.uploader is not None:
            self.uploader.close()
        if self._read_store is not None:
            self._read_store.close()
            self._read_store = None
        if self.writer is not None:
            self.writer.close()

    def status_fields(self) -> dict[str, Any]:
        """Merged into every status the daemon publishes: whether history is being kept."""
        if self.unavailable:
            return {"history": f"unavailable: {self.unavailable}"}
        stats = self.writer.stats() if self.writer is not None else {}
        if stats.get("last_error"):
            return {"history": f"failing: {stats['last_error']}"}
        return {"history": "recording"}

    def stats(self) -> dict[str, Any]:
        stats = self.writer.stats() if self.writer is not None else {"unavailable": self.unavailable}
        if self.uploader is not None:
            stats["upload"] = self.uploader.stats()
        return stats

    # ------------------------------------------------------------------ sessions

    def _session(self) -> _Session:
        if self.session is None:
            session = _Session(str(uuidlib.uuid4()), self.clock())
            self.session = session
            member, self.member_id = self.member_id, None  # for this session only; the next is a guest's
            self._submit(lambda s: s.open_session(self.device_id, session.uuid, session.started_at, member))
            self.sampler.opened(session.samples)
        return self.session

    def _end(self, session: _Session, state: str, exercise: Any = None, **heart: Any) -> None:
        self.sampler.flush(session.samples)
        ended_at = self.clock()
        values: dict[str, Any] = {"state": state, "ended_at": ended_at, **heart}  # reps: counted by the store
        if exercise:
            values["exercise"] = exercise
        self._submit(lambda s: s.update_session(self.device_id, session.uuid, **values))
        self.session = None

    def _rep(self, session: _Session, event: Mapping[str, Any], details: Mapping[str, Any]) -> None:
        number = _int(details.get("rep")) or session.last_rep + 1
        exercise = _text(event.get("exercise"))
        if session.last_rep and (number <= session.last_rep or exercise != session.set_exercise):
            session.set_number += 1  # the counter restarted or the exercise changed: a new set
        session.last_rep, session.set_exercise = number, exercise
        session.reps += 1
        raw_quality = details.get("quality")
        quality: Mapping[str, Any] | None = raw_quality if isinstance(raw_quality, Mapping) else None
        rep = {
            "set_number": session.set_number,
            "number": number,
            "exercise": exercise,
            **{k: _float(details.get(k)) for k in ("start_t", "bottom_t", "end_t", "depth", "down_s", "up_s")},
            "faults": [str(f) for f in _items(details.get("faults"))],
            "quality_score": _int(quality.get("score")) if quality else None,
            "quality_deductions": [_jsonable(d) for d in _items(quality.get("deductions"))] if quality else None,
            "event_id": _text(event.get("id")),
            "recorded_at": self.clock(),
        }
        self._submit(lambda s: s.record_rep(self.device_id, session.uuid, rep))  # one transaction, one fsync

    def _set_end(self, session: _Session, event: Mapping[str, Any], details: Mapping[str, Any]) -> None:
        heart_rate = details.get("heart_rate")
        heart: Mapping[str, Any] = heart_rate if isinstance(heart_rate, Mapping) else {}
        # Keyed by the session's own set count, the one its reps were stored under; the event's
        # `set` numbers the sets of one exercise (set 1 of squats, set 1 of push-ups).
        number = session.set_number
        row = {
            "number": number,
            "exercise": _text(event.get("exercise")),
            "reps": _int(details.get("reps")),
            "good_reps": _int(details.get("good_reps")),
            "mean_quality": _float(details.get("mean_quality")),
            **{k: _float(details.get(k)) for k in ("down_s", "up_s", "start_t", "end_t")},
            "hr_mean_bpm": _float(heart.get("mean_bpm")),
            "hr_peak_bpm": _float(heart.get("peak_bpm")),
            "target_reps": _int(details.get("target_reps")),
        }
        self._submit(lambda s: s.record_set(self.device_id, session.uuid, row))
        self._event(session, event, details)  # what was said at the set's end is kept too
        session.set_number = number + 1  # the next rep starts the next set
        session.last_rep = 0

    def _event(self, session: _Session, event: Mapping[str, Any], details: Mapping[str, Any]) -> None:
        session.seq += 1
        row = {
            "seq": session.seq,
            "event_id": _text(event.get("id")),
            "t": _float(event.get("t")),
            "code": str(event.get("code", "")),
            "kind": _text(event.get("kind")),
            "exercise": _text(event.get("exercise")),
            "text": _text(event.get("text")),
            "details": _jsonable(details),
            "hr_zone": _int(details.get("zone")) if event.get("code") in ("hr_zone", "hr_zone_change") else None,
            "recorded_at": self.clock(),
        }
        self._submit(lambda s: s.record_event(self.device_id, session.uuid, row))

    def _submit(self, write: Callable[[Store], None]) -> None:
        if self.writer is not None:
            self.writer.submit(write)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _items(value: Any) -> list[Any]:
    """A list or tuple as a list; anything else (a bad payload) as no items."""
    return list(value) if isinstance(value, (list, tuple)) else []


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON types (what the frame thread hands the writer must encode there):
    mappings with string keys, lists, str, finite numbers, bools and None; anything else as text."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
