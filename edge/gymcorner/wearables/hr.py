"""Pure heart-rate logic: maximum HR, training zones and RR-based HRV (RMSSD).

No clock and no I/O: time comes in with the readings, so a recorded session replays
to the same numbers.
"""

from __future__ import annotations

from collections import deque

RR_MIN_MS = 300.0  # 200 bpm
RR_MAX_MS = 2000.0  # 30 bpm
RR_MAX_CHANGE = 0.20  # a beat differing > 20 % from the previous one is an artefact (Malik 1996)


def max_hr_from_age(age_years: float) -> float:
    """Tanaka, Monahan & Seals 2001: 208 - 0.7 x age (closer than 220 - age past 40)."""
    return 208.0 - 0.7 * age_years


def hr_zone(heart_rate_bpm: float, max_hr_bpm: float) -> int:
    """Five-zone model by % of max HR: 1 = 50-60 %, ... 5 = 90 % and above; 0 below 50 %."""
    pct = round(100.0 * heart_rate_bpm / max_hr_bpm, 6)  # rounded: 60 % must not land in zone 1
    if pct < 50.0:
        return 0
    return min(5, int(pct // 10) - 4)


class RmssdWindow:
    """RMSSD of the RR intervals received in the last `window_s` seconds.

    Intervals outside [300, 2000] ms or changing by more than 20 % from the previous
    accepted one are rejected (counted), and a rejected beat breaks the chain of
    successive differences, so an ectopic beat or a dropped notification never shows up
    as variability.
    """

    def __init__(self, window_s: float = 60.0, min_pairs: int = 10) -> None:
        self.window_s = window_s
        self.min_pairs = min_pairs
        self._diffs: deque[tuple[float, float]] = deque()  # (t_s, squared successive difference)
        self._previous_ms: float | None = None
        self.accepted = 0
        self.rejected = 0

    def add(self, t_s: float, rr_ms: float) -> None:
        if not RR_MIN_MS <= rr_ms <= RR_MAX_MS or (
            self._previous_ms is not None and abs(rr_ms - self._previous_ms) > RR_MAX_CHANGE * self._previous_ms
        ):
            self.rejected += 1
            self._previous_ms = None
            return
        self.accepted += 1
        if self._previous_ms is not None:
            self._diffs.append((t_s, (rr_ms - self._previous_ms) ** 2))
        self._previous_ms = rr_ms
        self._trim(t_s)

    def break_chain(self) -> None:
        """Call on a gap in the data (reconnect, stale strap)."""
        self._previous_ms = None

    def _trim(self, now_s: float) -> None:
        while self._diffs and self._diffs[0][0] < now_s - self.window_s:
            self._diffs.popleft()

    def rmssd_ms(self, now_s: float) -> float | None:
        self._trim(now_s)
        if len(self._diffs) < self.min_pairs:
            return None
        return (sum(d for _, d in self._diffs) / len(self._diffs)) ** 0.5


class ZoneTracker:
    """A strap's training zone, steadied: a new zone is taken once it has held `hold_s`, so a
    heart rate hovering on a zone boundary does not announce a change with every beat."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.zone: int | None = None
        self._candidate: int | None = None
        self._since_s = 0.0

    def update(self, t_s: float, zone: int) -> tuple[int | None, int] | None:
        """Returns (previous zone, new zone) when the zone changes; None otherwise."""
        if zone == self.zone:
            self._candidate = None
            return None
        if zone != self._candidate:
            self._candidate, self._since_s = zone, t_s
        if t_s - self._since_s < self.hold_s:
            return None
        previous, self.zone, self._candidate = self.zone, zone, None
        return previous, zone
