"""A member as the history keeps them: the profile's fields and the checks on them, and what
makes two names or two strap addresses the same (used by `Store` and the commands)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from gymcorner.errors import HistoryError, Reason

if TYPE_CHECKING:
    from gymcorner.history.store import Store

MEMBER_FIELDS = ("birth_year", "weight_kg", "height_cm", "goal", "level", "max_hr_bpm", "language")


@dataclass(frozen=True)
class Member:
    id: int
    display_name: str
    birth_year: int | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    goal: str | None = None
    level: str | None = None
    max_hr_bpm: int | None = None  # None: derived from the age (gymcorner.wearables.hr)
    language: str | None = None
    created_at: float = 0.0
    profile_at: float = 0.0  # when a profile field last changed (history/profiles.py)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def strap_address(address: str) -> str:
    """'AA:BB:CC:DD:EE:FF' as the wearables name it (any case, ':' or '-'); other sensor names
    (a relay's strap id) are kept as given, upper-cased."""
    from gymcorner.wearables.readings import normalise_address

    try:
        return normalise_address(address.strip())
    except ValueError:
        return address.strip().upper()


def name_key(display_name: str) -> str:
    """What makes two display names the same member: case and surrounding spaces ignored."""
    return " ".join(display_name.split()).casefold()


def free_name(store: Store, display_name: str, member_id: int | None = None) -> str:
    """The display name with its spaces tidied, or HistoryError when it is empty or another
    member (not `member_id`) already has it, names ignoring case."""
    name = " ".join(display_name.split())
    if not name:
        raise HistoryError("a member needs a display name", Reason.HISTORY_CONFLICT)
    other = member_named(store, name)
    if other is not None and other.id != member_id:
        raise HistoryError(f"a member named {name!r} already exists (names ignore case)", Reason.HISTORY_CONFLICT)
    return name


def member_named(store: Store, name: str) -> Member | None:
    """The member of this name (case and spaces ignored), by name only: unlike
    `Store.find_member`, a name of digits is never taken for an id. How a box finds the
    member a chain's server names: the server keys members by the same name key (sync.py),
    and its ids are not the box's."""
    row = store.execute("SELECT id FROM members WHERE name_key = ?", (name_key(name),)).fetchone()
    return store.member(int(row[0])) if row is not None else None


_PROFILE_CHECKS: dict[str, tuple[type, float | None, float | None]] = {
    "birth_year": (int, 1900, 2100),
    "weight_kg": (float, 20, 400),
    "height_cm": (float, 50, 260),
    "max_hr_bpm": (int, 80, 230),
    "goal": (str, None, None),
    "level": (str, None, None),
    "language": (str, None, None),
}


def _plan_vocabulary() -> dict[str, tuple[str, ...]]:
    from gymcorner.plans.records import GOALS, LEVELS  # what the plan generator understands

    return {"goal": GOALS, "level": LEVELS}


_PROFILE_CHOICES = _plan_vocabulary()


def check_profile(profile: dict[str, Any]) -> None:
    """Known fields with plausible values; None clears a field."""
    for key, value in profile.items():
        if key not in _PROFILE_CHECKS:
            raise ValueError(f"not a member field: {key}")
        kind, low, high = _PROFILE_CHECKS[key]
        if value is None:
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = profile[key] = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise HistoryError(f"{key} must be a {kind.__name__}, got {value!r}", Reason.HISTORY_CONFLICT)
        if low is not None and high is not None and isinstance(value, (int, float)) and not low <= value <= high:
            raise HistoryError(f"{key} = {value} is outside {low:g}..{high:g}", Reason.HISTORY_CONFLICT)
        choices = _PROFILE_CHOICES.get(key)
        if choices is not None and value not in choices:
            raise HistoryError(f"{key} {value!r} is not one of {', '.join(choices)}", Reason.HISTORY_CONFLICT)


def member_of(row: dict[str, Any]) -> Member:
    known = {f.name for f in fields(Member)}
    return Member(**{k: v for k, v in row.items() if k in known})
