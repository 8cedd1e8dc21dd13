"""Members and their profiles across a gym chain, both ways: every member everywhere, the
newer profile edit wins (migration 12).

Members: at each sync, after the renames and erasures have come down, a member the box has
and the server lacks (by name key) is added on the server, and one the server has and the
box lacks is added on the box, with their profile and its stamp. So a member created on the
chain's dashboard, or on any box, can be picked at every box of the chain (their sessions
stay where they were recorded; straps stay on their box). A box that has shared members
records its deletions for the server from then on (deletions.py), so a member deleted on
it is erased chain-wide instead of coming back down at the next sync.

Profiles:

A member's year of birth, weight, height, goal, level, maximum heart rate and language are
edited wherever the member happens to be asked: on a box's dashboard, with `gymcorner
members edit`, or on the chain's dashboard. Each edit that changes a field stamps the row's
`profile_at` (`Store.edit_member`). At each sync (sync.py), after the chain's renames have
come down, every member of the box that the server also has (by name key) is compared: the
side whose `profile_at` is newer gives the other its fields and its stamp; on a tie (rows
made before migration 12 are both 0) the server's profile wins, the chain being the one
place all boxes share. Display names are not part of it: they are renames
(member_changes.py).

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
MEMBER_COLUMNS = ("display_name", "name_key", "created_at", "profile_at", *MEMBER_FIELDS)  # a whole row
_CHUNK = 500  # names per query to the server
SHARED = "members_shared"  # the box's chain_cursor row once it has exchanged members with a server


@dataclass
class ProfileSync:
    """Profiles the sync sent to the server (`up`) and took from it (`down`)."""

    up: int = 0
    down: int = 0
    added_up: int = 0  # members the server lacked, added there
    added_down: int = 0  # members the box lacked, added here

    def happened(self) -> bool:
        return bool(self.up or self.down or self.added_up or self.added_down)

    def line(self, where: str) -> str:
        said = []
        if self.added_up or self.added_down:
            said.append(f"{self.added_up} members added to {where} and {self.added_down} taken from it")
        if self.up or self.down:
            profiles = f"{self.up} member profiles sent to {where} and {self.down} taken from it"
            said.append(profiles + " (the newer edit wins)")
        return "; ".join(said)


def edit_stamp(now: float, before: float) -> float:
    """When an edit of a profile stamped `before` is stamped, at `now` by this clock."""
    return max(now, before + 0.001)


def shares_members(store: Store) -> bool:
    """Whether this box has exchanged its members with a chain's server."""
    return store.execute("SELECT 1 FROM chain_cursor WHERE name = ?", (SHARED,)).fetchone() is not None


def sync_members(local: Store, remote: Store) -> ProfileSync:
    """Members missing on either side added there, then the newer profiles copied."""
    done = ProfileSync()
    mine = {str(row[0]) for row in local.execute("SELECT name_key FROM members")}
    theirs = {str(row[0]) for row in remote.execute("SELECT name_key FROM members")}
    done.added_up = _add(local, remote, sorted(mine - theirs))
    done.added_down = _add(remote, local, sorted(theirs - mine))
    with local.transaction():
        local.upsert("chain_cursor", {"name": SHARED, "value": 1}, ("name",))
    return sync_profiles(local, remote, done)


def insert_member(target: Store, row: tuple[Any, ...]) -> bool:
    """Inside the caller's transaction: a member's row (`MEMBER_COLUMNS`) added to `target`,
    unless a member of that name key is there already (who is kept); True when added."""
    cols, marks = ", ".join(MEMBER_COLUMNS), ", ".join("?" for _ in MEMBER_COLUMNS)
    cur = target.execute(f"INSERT INTO members ({cols}) VALUES ({marks}) ON CONFLICT (name_key) DO NOTHING", row)
    return int(cur.rowcount or 0) > 0


def _add(source: Store, target: Store, keys: list[str]) -> int:
    """The members of `keys` in `source` added to `target` (one made there meanwhile under the
    same name is kept); returns how many were added."""
    added = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        sql = f"SELECT {', '.join(MEMBER_COLUMNS)} FROM members WHERE name_key IN ({', '.join('?' for _ in chunk)})"
        rows = source.execute(sql, chunk).fetchall()
        with target.transaction():
            added += sum(insert_member(target, tuple(row)) for row in rows)
    return added


def sync_profiles(local: Store, remote: Store, done: ProfileSync | None = None) -> ProfileSync:
    done = done or ProfileSync()
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
