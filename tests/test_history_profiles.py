"""A member's profile edited anywhere in a gym chain reaches every side: the newer edit wins
(history/profiles.py, migration 12).

The chain of test_history_deletions.py: a real PostgreSQL server, a north box (Ana, Ben, a
guest) and a south box (Ana, Carla) that have uploaded with `gymcorner history sync`. A
profile is edited on a box (the `members` command) or on the chain's server (the store call
its dashboard makes), and every side is looked at after each sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from postgres_helpers import PostgresServer
from test_history_deletions import Chain, members, two_boxes

from gymcorner.history.members import Member
from gymcorner.history.profiles import edit_stamp
from gymcorner.history.store import Store


@pytest.fixture
def chain(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    return two_boxes(tmp_path, pg_server)


def ana(store: Store) -> Member:
    return store.find_member("Ana")


def profile(member: Member) -> dict[str, Any]:
    return {k: v for k, v in member.to_dict().items() if k not in ("id", "created_at", "profile_at")}


def test_a_profile_edited_on_a_box_reaches_the_server_and_then_the_other_box(chain: Chain) -> None:
    members(chain.north, "edit", "Ana", "--weight-kg", "61.5", "--goal", "endurance")
    said = chain.sync(chain.north)
    assert "1 member profiles sent to" in said and "0 taken from it" in said
    on_server = chain.on_server(ana)
    assert (on_server.weight_kg, on_server.goal) == (61.5, "endurance")

    said = chain.sync(chain.south)
    assert "0 member profiles sent to" in said and "1 taken from it" in said
    at_south = chain.on_box(chain.south, ana)
    assert profile(at_south) == profile(on_server) == profile(chain.on_box(chain.north, ana))
    assert at_south.profile_at == on_server.profile_at  # the stamp travels with the fields
    # once the same everywhere, a sync has nothing to say about profiles
    assert "member profiles" not in chain.sync(chain.north) + chain.sync(chain.south)


def test_a_profile_edited_on_the_chain_s_server_reaches_every_box(chain: Chain) -> None:
    def edit(store: Store) -> None:  # as the chain's dashboard does
        store.edit_member(store.find_member("Ana").id, max_hr_bpm=182, language="pt")

    chain.on_server(edit)
    for box in (chain.north, chain.south):
        assert "1 taken from it" in chain.sync(box)
        found = chain.on_box(box, ana)
        assert (found.max_hr_bpm, found.language) == (182, "pt")
    assert chain.on_box(chain.north, lambda s: s.find_member("Ben").max_hr_bpm) is None  # only Ana's changed


def test_when_both_sides_edited_between_two_syncs_the_newer_edit_wins_on_every_side(chain: Chain) -> None:
    chain.on_server(lambda s: s.edit_member(ana(s).id, level="beginner"))
    members(chain.north, "edit", "Ana", "--level", "advanced")  # later
    said = chain.sync(chain.north)
    assert "1 member profiles sent to" in said
    assert chain.on_server(ana).level == "advanced"
    chain.sync(chain.south)
    assert chain.on_box(chain.south, ana).level == "advanced"

    members(chain.south, "edit", "Ana", "--level", "intermediate")
    chain.on_server(lambda s: s.edit_member(ana(s).id, level="beginner"))  # later still
    assert "1 taken from it" in chain.sync(chain.south)
    assert chain.on_box(chain.south, ana).level == "beginner"


def test_an_edit_after_a_sync_wins_over_the_profile_that_sync_brought_even_from_a_clock_ahead(chain: Chain) -> None:
    ahead = chain.on_server(ana).profile_at + 3600.0  # a server whose clock runs an hour ahead

    def edit_ahead(store: Store) -> None:
        store.edit_member(ana(store).id, weight_kg=70.0)
        store.execute("UPDATE members SET profile_at = ? WHERE name_key = 'ana'", (ahead,))

    chain.on_server(edit_ahead)
    chain.sync(chain.north)
    assert chain.on_box(chain.north, ana).profile_at == ahead
    members(chain.north, "edit", "Ana", "--weight-kg", "68")  # made after seeing the server's
    assert chain.on_box(chain.north, ana).profile_at == pytest.approx(ahead + 0.001)
    assert "1 member profiles sent to" in chain.sync(chain.north)
    assert chain.on_server(ana).weight_kg == 68.0


def test_an_edit_that_changes_nothing_or_only_the_name_keeps_the_profile_s_stamp(chain: Chain) -> None:
    stamp = chain.on_box(chain.north, ana).profile_at
    current = chain.on_box(chain.north, ana)
    chain.on_box(chain.north, lambda s: s.edit_member(current.id, goal=current.goal, level=current.level))
    assert chain.on_box(chain.north, ana).profile_at == stamp
    members(chain.north, "edit", "Ana", "--name", "Ana Silva")
    assert chain.on_box(chain.north, lambda s: s.find_member("Ana Silva").profile_at) == stamp


def test_an_edit_s_stamp_is_never_before_the_profile_it_changes() -> None:
    assert edit_stamp(100.0, 50.0) == 100.0
    assert edit_stamp(100.0, 200.0) == pytest.approx(200.001)
