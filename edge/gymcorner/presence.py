"""Whether a person is in front of the camera, steadied for the status line.

Why: the pose model loses a person for a frame or two (occlusion, motion blur, someone
walking past), and each flip of the raw answer used to change the status detail: an INFO
line, an sd_notify status and a retained QoS 1 MQTT message per flip. The steady answer
looks at the last `hold_s` of frames: it turns to "present" when at least `ENTER_SHARE` of
them had a person, back to "absent" when at most `LEAVE_SHARE` did, and never changes
twice within `hold_s`. Time is the frames' own timestamps, never the clock, so a replay
gives the same result.
"""

from __future__ import annotations

from collections import deque

PRESENCE_HOLD_S = 1.0  # window of frame time judged, and the least time between two changes
ENTER_SHARE = 0.7  # share of frames with a person that makes the steady answer "present"
LEAVE_SHARE = 0.3  # share at or below which it becomes "absent" again


class PresenceHysteresis:
    """`update(present, t_s)` -> the steady presence; starts as "nobody there"."""

    def __init__(self, hold_s: float = PRESENCE_HOLD_S) -> None:
        if hold_s <= 0:
            raise ValueError(f"hold_s must be > 0, not {hold_s}")
        self.hold_s = hold_s
        self.present = False
        self._window: deque[tuple[float, bool]] = deque()
        self._changed_s: float | None = None  # last change, or the first frame

    def update(self, present: bool, t_s: float) -> bool:
        if self._window and t_s < self._window[-1][0]:  # a looped clip restarts its time
            self._window.clear()
            self._changed_s = None
        if self._changed_s is None:
            self._changed_s = t_s
        self._window.append((t_s, present))
        while self._window[0][0] <= t_s - self.hold_s:
            self._window.popleft()
        if t_s - self._changed_s < self.hold_s:
            return self.present
        share = sum(p for _, p in self._window) / len(self._window)
        if share >= ENTER_SHARE if not self.present else share <= LEAVE_SHARE:
            self.present, self._changed_s = not self.present, t_s
        return self.present

    def reset(self) -> None:
        self.present, self._changed_s = False, None
        self._window.clear()
