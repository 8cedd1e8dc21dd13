"""Which heart-rate strap is whose: the pairing kept in the history, and a guest session
claimed by its strap's member (the strap -> member map lives in the database, not in
config). Called through `Store`, inside its transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gymcorner.errors import HistoryError, Reason
from gymcorner.history.members import strap_address

if TYPE_CHECKING:
    from gymcorner.history.store import Store


def pair_strap(store: Store, address: str, member_id: int) -> None:
    address = strap_address(address)
    with store.transaction():
        row = store.execute("SELECT member_id FROM straps WHERE address = ?", (address,)).fetchone()
        if row is not None and int(row[0]) != member_id:
            owner = store.execute("SELECT display_name FROM members WHERE id = ?", (row[0],)).fetchone()
            raise HistoryError(
                f"strap {address} is already paired with {owner[0] if owner else row[0]!r}; unpair it first",
                Reason.HISTORY_CONFLICT,
            )
        if row is None:
            store.execute("INSERT INTO straps (address, member_id) VALUES (?, ?)", (address, member_id))


def unpair_strap(store: Store, address: str) -> None:
    with store.transaction():
        store.execute("DELETE FROM straps WHERE address = ?", (strap_address(address),))


def strap_owner(store: Store, address: str) -> int | None:
    row = store.execute("SELECT member_id FROM straps WHERE address = ?", (strap_address(address),)).fetchone()
    return int(row[0]) if row else None


def claim_by_strap(store: Store, device_id: str, uuid: str, address: str) -> int | None:
    """A guest session whose strap is paired becomes its member's; returns the member id
    (None when the strap is nobody's). A session that has a member keeps it."""
    with store.transaction():
        owner = strap_owner(store, address)
        if owner is not None:
            store.execute(
                "UPDATE sessions SET member_id = ?, rev = rev + 1 WHERE device_id = ? AND uuid = ? "
                "AND member_id IS NULL",
                (owner, device_id, uuid),
            )
        return owner
