"""Dashboard users: who may log in to `gymcorner dashboard`, with which role.

Users are not members: a trainer or an admin has a login and no workouts. A `member`
login names one member (`member_id`) and sees only that member's data; deleting the
member deletes their login too (ON DELETE CASCADE). Passwords are kept as argon2id hashes
(argon2-cffi's defaults, RFC 9106's second recommended profile); the clear password is
never stored, logged or passed on a command line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.store import Store, name_key

ROLES = ("admin", "trainer", "member")


class LastAdminError(HistoryError):
    """The change would leave the dashboard without an admin (nobody could manage users)."""

    reason = Reason.HISTORY_CONFLICT


MIN_PASSWORD_CHARS = 10


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    member_id: int | None
    password_hash: str


def _hasher() -> Any:
    from argon2 import PasswordHasher  # imported here: the daemon never needs it

    return PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise HistoryError(f"a password needs at least {MIN_PASSWORD_CHARS} characters", Reason.HISTORY_CONFLICT)
    return str(_hasher().hash(password))


# A hash of nothing anyone knows: an unknown user name costs one verification too, so the
# time a login takes does not say whether the name exists.
_DUMMY_HASH: list[str] = []


def verify_password(user: User | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(str(hasher.hash("not a password of anyone's")))
    stored = user.password_hash if user is not None else _DUMMY_HASH[0]
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def add_user(store: Store, name: str, role: str, password: str, member_id: int | None = None) -> User:
    shown = " ".join(name.split())
    if not shown:
        raise HistoryError("a dashboard user needs a name", Reason.HISTORY_CONFLICT)
    if role not in ROLES:
        raise HistoryError(f"role {role!r} is not one of {', '.join(ROLES)}", Reason.HISTORY_CONFLICT)
    if (role == "member") != (member_id is not None):
        raise HistoryError("a member login names its member, and only a member login does", Reason.HISTORY_CONFLICT)
    hashed = hash_password(password)
    with store.transaction():
        if store.execute("SELECT id FROM dashboard_users WHERE name_key = ?", (name_key(shown),)).fetchone():
            raise HistoryError(
                f"a dashboard user named {shown!r} already exists (names ignore case)", Reason.HISTORY_CONFLICT
            )
        if member_id is not None:
            store.member(member_id)  # HISTORY_NOT_FOUND when there is no such member
        store.execute(
            "INSERT INTO dashboard_users (name, name_key, role, password_hash, member_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (shown, name_key(shown), role, hashed, member_id, time.time()),
        )
    found = find_user(store, shown)
    assert found is not None
    return found


def find_user(store: Store, name: str) -> User | None:
    row = store.execute(
        "SELECT id, name, role, member_id, password_hash FROM dashboard_users WHERE name_key = ?", (name_key(name),)
    ).fetchone()
    return _user(row) if row is not None else None


def user_by_id(store: Store, user_id: int) -> User | None:
    row = store.execute(
        "SELECT id, name, role, member_id, password_hash FROM dashboard_users WHERE id = ?", (user_id,)
    ).fetchone()
    return _user(row) if row is not None else None


def list_users(store: Store) -> list[User]:
    rows = store.execute(
        "SELECT id, name, role, member_id, password_hash FROM dashboard_users ORDER BY name_key"
    ).fetchall()
    return [_user(r) for r in rows]


def set_password(store: Store, user_id: int, password: str) -> None:
    hashed = hash_password(password)
    with store.transaction():
        store.execute("UPDATE dashboard_users SET password_hash = ? WHERE id = ?", (hashed, user_id))


def _admins(store: Store) -> int:
    """The number of admins, inside the caller's transaction, so that the count still holds
    when the change commits. SQLite's transaction holds the file's write lock from its
    start (BEGIN IMMEDIATE): nobody else changes a role meanwhile. PostgreSQL's does not:
    two admins demoting each other at once would each count two, so the admins' rows are
    locked (FOR UPDATE): the second transaction waits for the first, then counts again."""
    lock = " FOR UPDATE" if store.dialect == "postgresql" else ""
    return len(store.execute(f"SELECT id FROM dashboard_users WHERE role = 'admin'{lock}").fetchall())


def _existing(store: Store, user_id: int) -> User:
    user = user_by_id(store, user_id)
    if user is None:
        raise HistoryError(f"no dashboard user {user_id}", Reason.HISTORY_NOT_FOUND)
    return user


def set_role(store: Store, user_id: int, role: str, member_id: int | None = None) -> User:
    """A user's new role (a member login names its member; other roles none). The last admin
    keeps the role: without one nobody could manage users any more."""
    if role not in ROLES:
        raise HistoryError(f"role {role!r} is not one of {', '.join(ROLES)}", Reason.HISTORY_CONFLICT)
    if (role == "member") != (member_id is not None):
        raise HistoryError("a member login names its member, and only a member login does", Reason.HISTORY_CONFLICT)
    with store.transaction():  # counted and changed in one transaction: two admins demoting each other take turns
        admins = _admins(store)  # first: on PostgreSQL it locks the admins' rows, then the user is read
        user = _existing(store, user_id)
        if user.role == "admin" and role != "admin" and admins == 1:
            raise LastAdminError(f"{user.name!r} is the last admin and stays one: make another user an admin first")
        if member_id is not None:
            store.member(member_id)  # HISTORY_NOT_FOUND when there is no such member
        store.execute("UPDATE dashboard_users SET role = ?, member_id = ? WHERE id = ?", (role, member_id, user_id))
    return _existing(store, user_id)


def delete_user(store: Store, user_id: int) -> User:
    """Delete a login (never a member's data: that is deleting the member). The last admin
    cannot be deleted. Returns the user as it was."""
    with store.transaction():
        admins = _admins(store)
        user = _existing(store, user_id)
        if user.role == "admin" and admins == 1:
            raise LastAdminError(
                f"{user.name!r} is the last admin and cannot be deleted: make another user an admin first"
            )
        store.execute("DELETE FROM dashboard_users WHERE id = ?", (user_id,))
    return user


def _user(row: Any) -> User:
    return User(int(row[0]), str(row[1]), str(row[2]), None if row[3] is None else int(row[3]), str(row[4]))
