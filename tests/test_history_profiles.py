"""Members added anywhere in a gym chain reach every side, and a profile edited anywhere
reaches every side: the newer edit wins (history/profiles.py, migration 12).

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
from test_dashboard_chain import box_file
from test_history_deletions import SOUTH, Chain, members, two_boxes
from test_history_members import sessions_for

from gymcorner.history.deletions import pending
from gymcorner.history.members import Member
from gymcorner.history.profiles import edit_stamp
from gymcorner.history.sqlite import open_sqlite
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


def names(store: Store) -> list[str]:
    return [m.display_name for m in store.list_members()]


def test_the_fixture_s_south_box_took_ben_down_and_the_north_box_takes_carla_at_its_next_sync(chain: Chain) -> None:
    assert chain.on_box(chain.south, names) == ["Ana", "Ben", "Carla"]  # Ben trains at north only
    assert chain.on_box(chain.north, names) == ["Ana", "Ben"]  # it synced before Carla reached the server
    said = chain.sync(chain.north)
    assert "0 members added to" in said and "and 1 taken from it" in said
    assert chain.on_box(chain.north, names) == ["Ana", "Ben", "Carla"]
    carla = chain.on_box(chain.north, lambda s: s.find_member("Carla"))
    assert profile(carla) == profile(chain.on_server(lambda s: s.find_member("Carla")))  # with her profile
    assert carla.profile_at == chain.on_server(lambda s: s.find_member("Carla")).profile_at
    assert chain.on_box(chain.north, lambda s: s.sessions(SOUTH)) == []  # her sessions stay at south
    assert "members added" not in chain.sync(chain.north)  # the same lists: nothing to say


def test_a_member_added_on_the_chain_s_dashboard_or_on_a_box_reaches_every_box(chain: Chain) -> None:
    chain.on_server(lambda s: s.add_member("Dora", birth_year=1985, goal="endurance"))
    members(chain.north, "add", "Eli", "--birth-year", "2001")  # no session yet: it goes up all the same
    said = chain.sync(chain.north)
    assert "1 members added to" in said and "and 2 taken from it" in said  # Eli up; Carla and Dora down
    assert chain.on_server(names) == ["Ana", "Ben", "Carla", "Dora", "Eli"]
    chain.sync(chain.south)
    for box in (chain.north, chain.south):
        assert chain.on_box(box, names) == ["Ana", "Ben", "Carla", "Dora", "Eli"]
        dora = chain.on_box(box, lambda s: s.find_member("Dora"))
        assert (dora.birth_year, dora.goal) == (1985, "endurance")
    assert chain.on_box(chain.south, lambda s: s.find_member("Eli").birth_year) == 2001


def test_a_member_a_new_box_took_down_and_deleted_is_erased_on_the_chain_not_taken_down_again(
    chain: Chain, tmp_path: Path
) -> None:
    """A box with no session of its own (just set up) takes the chain's members down; a member
    deleted there asks the chain: the erasure goes up without any session of the box."""
    east, _ = box_file(tmp_path, "gym-east-1")
    said = chain.sync(east)
    assert "and 3 taken from it" in said
    assert chain.on_box(east, names) == ["Ana", "Ben", "Carla"]
    assert "deleted 'Ben'" in members(east, "delete", "Ben", "--yes")
    assert chain.on_box(east, pending) == 1  # his erasure, with no device's sessions
    said = chain.sync(east)
    assert "deleted 2 sessions, 0 notes, 1 members on" in said  # his two sessions at north went with him
    assert chain.on_server(names) == ["Ana", "Carla"]
    assert chain.on_box(east, names) == ["Ana", "Carla"]  # not taken down again
    assert chain.on_box(east, pending) == 0
    assert "1 erased (2 sessions) as the chain did" in chain.sync(chain.north)
    assert chain.on_box(chain.north, names) == ["Ana", "Carla"]


def test_a_box_that_never_synced_records_no_erasure(tmp_path: Path) -> None:
    solo, ids = box_file(tmp_path, "gym-solo-1", "Ana")
    sessions_for(solo, ids["Ana"], workouts=1, device_id="gym-solo-1")
    members(solo, "delete", "Ana", "--yes")
    store = open_sqlite(solo)
    try:
        assert pending(store) == 0  # no chain has her from this box: nothing to tell, nor her name to keep
    finally:
        store.close()
