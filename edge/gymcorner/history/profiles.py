"""A member's profile across a gym chain, both ways: the newer edit wins (migration 12).

A member's year of birth, weight, height, goal, level, maximum heart rate and language are
edited wherever the member happens to be asked: on a box's dashboard, with `gymcorner
members edit`, or on the chain's dashboard. Each edit that changes a field stamps the row's
`profile_at` (`Store.edit_member`). At each sync (sync.py), after the chain's renames have
come down, every member of the box that the server also has (by name key) is compared: the
side whose `profile_at` is newer gives the other its fields and its stamp; on a tie (rows
made before migration 12 are both 0) the server's profile wins, the chain being the one
place all boxes share. Display names are not part of it: they are renames
(member_changes.py). A member the server does not have yet goes up with their profile when
their first session does.

Clocks: a stamp is wall-clock time, so a box whose clock is behind would lose to an older
edit made elsewhere. An edit is therefore stamped at least a millisecond after the profile
it changes, whichever clock stamped that: an edit made after a sync always beats the profile
the sync brought. Only two edits of the same member on two sides between two syncs are
ordered by the clocks.

Each copy is conditional on the stamp read (`... WHERE profile_at = ?`): an edit made on
either side while the sync runs is kept, and goes over at the next sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gymcorner.history.members import MEMBER_FIELDS

if TYPE_CHECKING:
    from gymcorner.history.store import Store

_COLUMNS = ("name_key", "profile_at", *MEMBER_FIELDS)
_CHUNK = 500  # names per query to the server


@dataclass
class ProfileSync:
    """Profiles the sync sent to the server (`up`) and took from it (`down`)."""

    up: int = 0
    down: int = 0

    def happened(self) -> bool:
        return bool(self.up or self.down)

    def line(self, where: str) -> str:
        return f"{self.up} member profiles sent to {where} and {self.down} taken from it (the newer edit wins)"


def edit_stamp(now: float, before: float) -> float:
    """When an edit of a profile stamped `before` is stamped, at `now` by this clock."""
    return max(now, before + 0.001)


def sync_profiles(local: Store, remote: Store) -> ProfileSync:
    done = ProfileSync()
    mine = {str(row[0]): tuple(row) for row in local.execute(f"SELECT {', '.join(_COLUMNS)} FROM members")}
    keys = sorted(mine)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        sql = f"SELECT {', '.join(_COLUMNS)} FROM members WHERE name_key IN ({', '.join('?' for _ in chunk)})"
        for row in remote.execute(sql, chunk).fetchall():
            theirs = tuple(row)
            ours = mine[str(theirs[0])]
            if ours[2:] == theirs[2:]:
                continue
            if float(ours[1]) > float(theirs[1]):
                done.up += _copy(remote, ours, float(theirs[1]))
            else:
                done.down += _copy(local, theirs, float(ours[1]))
    return done


def _copy(store: Store, row: tuple[Any, ...], stamp_read: float) -> int:
    """`row`'s profile and stamp onto the member of its name key in `store`, if that
    member's stamp is still `stamp_read`; 1 when copied."""
    sets = ", ".join(f"{col} = ?" for col in _COLUMNS[1:])
    with store.transaction():
        cur = store.execute(
            f"UPDATE members SET {sets} WHERE name_key = ? AND profile_at = ?", (*row[1:], row[0], stamp_read)
        )
        return int(cur.rowcount or 0)
