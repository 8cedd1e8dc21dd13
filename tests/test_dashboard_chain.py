"""The dashboard on a chain's PostgreSQL server: every box's members and sessions in one place.

A real PostgreSQL server (postgres_helpers.py: initdb + pg_ctl, loopback only). Two boxes,
gym-north-1 and gym-south-1, record sessions as the daemon does (the real history sink and
writer, into their own SQLite files, with heart rate and landmarks) and upload them with
`gymcorner history sync`; the first admin is made with `gymcorner dashboard user add
--database URL`. The dashboard then serves the server (Starlette's TestClient): the
members and sessions of both boxes, each labelled with its box, the filter by box, a
member's charts, a session's heart rate, a trainer's note, an admin's role change; what
exists only on a box (the replay, "start session") said on the page; a member's history
read again only when the server changed; a member deleted on their box gone from the pages
once it synced; two admins demoting each other at once; a write
waiting past lock_timeout_s for another session's lock; and the server out of reach at
start (one line, exit status 1) and while running (503, then back).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mqtt_helpers import free_port
from postgres_helpers import PostgresServer, fresh_database
from starlette.testclient import TestClient
from test_dashboard import PASSWORD, Clock, alert, count_member_reads, csrf_of, form_token, log_in, other_client
from test_history_members import sessions_for
from test_history_postgres import run_cli

from gymcorner import __version__
from gymcorner.config.dashboard import DashboardConfig
from gymcorner.dashboard.app import SESSION_COOKIE, build_app
from gymcorner.errors import HistoryError
from gymcorner.history.postgres import open_postgres
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store
from gymcorner.history.users import LastAdminError, add_user, find_user, set_role

NORTH, SOUTH = "gym-north-1", "gym-south-1"


@dataclass
class Chain:
    url: str
    north: Path  # the boxes' own files
    south: Path
    ana: int  # member ids on the server
    ben: int


def box_file(tmp_path: Path, device_id: str, *members: str) -> tuple[Path, dict[str, int]]:
    path = tmp_path / f"{device_id}.sqlite3"
    store = open_sqlite(path)
    ids = {name: store.add_member(name, birth_year=1990, goal="strength", level="beginner").id for name in members}
    store.close()
    return path, ids


@pytest.fixture
def chain(tmp_path: Path, pg_server: PostgresServer) -> Chain:
    """Ana trains at both boxes, Ben at the south one, and a guest at the north one; both
    boxes upload; the server has an admin (made by the CLI) and a trainer."""
    url = fresh_database(pg_server)
    north, at_north = box_file(tmp_path, NORTH, "Ana Silva")
    south, at_south = box_file(tmp_path, SOUTH, "Ana Silva", "Ben")
    sessions_for(north, at_north["Ana Silva"], workouts=2, device_id=NORTH)
    sessions_for(north, None, workouts=1, device_id=NORTH)
    sessions_for(south, at_south["Ana Silva"], workouts=1, device_id=SOUTH)
    sessions_for(south, at_south["Ben"], workouts=1, device_id=SOUTH)
    assert "uploaded 3 sessions" in run_cli(["history", "sync", "--to", url, "--db", str(north)])
    assert "uploaded 2 sessions" in run_cli(["history", "sync", "--to", url, "--db", str(south)])
    secret = tmp_path / "admin-password"
    secret.write_text(PASSWORD + "\n")
    said = run_cli(["dashboard", "user", "add", "boss", "--role", "admin", "--database", url,
                    "--password-file", str(secret)])  # fmt: skip
    assert "added dashboard user 'boss' (admin)" in said
    store = open_postgres(url)
    try:
        add_user(store, "tess", "trainer", PASSWORD)
        members = {m.display_name: m.id for m in store.list_members()}
    finally:
        store.close()
    assert run_cli(["dashboard", "user", "list", "--database", url]).split() == ["boss", "admin", "tess", "trainer"]
    return Chain(url, north, south, members["Ana Silva"], members["Ben"])


@pytest.fixture
def dashboard(chain: Chain) -> Iterator[TestClient]:
    app = build_app(chain.url, DashboardConfig(lock_timeout_s=2.0), now=Clock())
    with TestClient(app, follow_redirects=False) as c:  # its lifespan closes the pool's connections
        yield c


def rows_of(html: str, css: str) -> list[list[str]]:
    """The cells of table.`css` as text (tags dropped)."""
    body = html.split(f'<table class="{css}">', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]

    def text(cell: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", cell).split())

    return [[text(c) for c in re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", body)]


def bars(html: str) -> int:
    return html.split('class="chart chart-reps"')[1].split("</svg>")[0].count('class="bar"')


def test_the_chain_s_dashboard_shows_every_box_s_members_and_sessions_labelled_and_filtered_by_box(
    dashboard: TestClient, chain: Chain
) -> None:
    assert log_in(dashboard).status_code == 303
    members = dashboard.get("/members")
    assert members.status_code == 200
    assert [(r[0], r[5]) for r in rows_of(members.text, "members")] == [("Ana Silva", f"{NORTH} {SOUTH}"),
                                                                        ("Ben", SOUTH)]  # fmt: skip
    north_only = dashboard.get(f"/members?box={NORTH}").text
    assert [r[0] for r in rows_of(north_only, "members")] == ["Ana Silva"]
    assert f'<strong aria-current="true">{NORTH}</strong>' in north_only

    everything = rows_of(dashboard.get("/sessions").text, "sessions")  # Started, Box, Member, State, ...
    assert sorted((r[1], r[2]) for r in everything) == [(NORTH, "Ana Silva"), (NORTH, "Ana Silva"), (NORTH, "guest"),
                                                        (SOUTH, "Ana Silva"), (SOUTH, "Ben")]  # fmt: skip
    south = rows_of(dashboard.get(f"/sessions?box={SOUTH}").text, "sessions")
    assert sorted(r[2] for r in south) == ["Ana Silva", "Ben"] and {r[1] for r in south} == {SOUTH}
    assert "No sessions at gym-east-9 yet." in dashboard.get("/sessions?box=gym-east-9").text
    missing = dashboard.get("/members/999")
    assert missing.status_code == 404 and alert(missing.text) == "no member 999"  # the server's URL is for 503s

    ana = dashboard.get(f"/members/{chain.ana}").text
    assert bars(ana) == 3  # her sessions at both boxes, one bar each
    assert sorted(r[4] for r in rows_of(ana, "sessions")) == [NORTH, NORTH, SOUTH]  # the Box column
    at_north = dashboard.get(f"/members/{chain.ana}?box={NORTH}").text
    assert bars(at_north) == 2 and {r[4] for r in rows_of(at_north, "sessions")} == {NORTH}
    assert dashboard.get(f"/api/members/{chain.ana}/sessions").json()[0]["device_id"] in (NORTH, SOUTH)
    plan = dashboard.get(f"/members/{chain.ana}/plan")
    assert plan.status_code == 200 and "[acsm-2009" in plan.text

    # Only on a box: "start session" (its own corner) and the replay (landmarks stay there)
    assert "Start session for this member" not in ana and "open this member on the dashboard of the box" in ana
    start = dashboard.post(f"/members/{chain.ana}/start", data={"csrf": form_token(dashboard)})
    assert start.status_code == 503 and alert(start.text).startswith("sessions start at a corner")
    session_id = int(re.findall(r'href="/sessions/(\d+)"', at_north)[0])
    page = dashboard.get(f"/sessions/{session_id}")
    assert page.status_code == 200 and f'box <span class="box">{NORTH}</span>' in page.text
    assert f"The replay stays on {NORTH}, the box that recorded it" in page.text and "<canvas" not in page.text
    assert 'class="chart chart-hr-curve"' in page.text and 'class="zone"' in page.text  # its heart rate went up
    assert "2 samples, one a second at most; zones from a maximum of 183 bpm" in page.text
    landmarks = dashboard.get(f"/api/sessions/{session_id}/landmarks")
    assert landmarks.status_code == 404 and landmarks.json()["error"].startswith(f"the replay stays on {NORTH}")
    from gymcorner.history.landmarks import landmark_summary

    uuid = open_postgres_session(chain.url, session_id)["uuid"]
    box = open_sqlite(chain.north)  # the box that recorded the session keeps its replay
    try:
        (local,) = [s for s in box.sessions() if s["uuid"] == uuid]
        assert landmark_summary(box, local["id"])["frames"] == 60
    finally:
        box.close()


def open_postgres_session(url: str, session_id: int) -> dict[str, object]:
    store = open_postgres(url)
    try:
        return store.session(session_id)
    finally:
        store.close()


def test_a_trainer_notes_a_session_and_an_admin_changes_a_role_on_the_chain_s_server(
    dashboard: TestClient, chain: Chain
) -> None:
    tess = other_client(dashboard, "10.1.0.2")
    assert log_in(tess, name="tess").status_code == 303
    page = tess.get(f"/members/{chain.ben}").text
    session_id = int(re.findall(r'href="/sessions/(\d+)"', page)[0])
    session = tess.get(f"/sessions/{session_id}").text
    assert "A note written here reaches the box that recorded the session at its next sync" in session
    r = tess.post(f"/sessions/{session_id}/notes", data={"csrf": csrf_of(session), "text": "Brace before the descent"})
    assert r.status_code == 303
    shown = tess.get(f"/sessions/{session_id}").text
    assert "Brace before the descent" in shown and "tess (trainer)" in shown
    note_id = int(re.findall(r'/notes/(\d+)/edit"', shown)[0])
    edit = f"/sessions/{session_id}/notes/{note_id}/edit"
    assert tess.post(edit, data={"csrf": csrf_of(shown), "text": "Brace first"}).status_code == 303
    store = open_postgres(chain.url)
    try:
        (note,) = store.rows("notes", session_id)
        assert (note["text"], note["author"], note["edited_at"] is not None) == ("Brace first", "tess", True)
        assert store.session(session_id)["device_id"] == SOUTH
    finally:
        store.close()
    assert tess.get("/users").status_code == 403

    # a member added through the form lands on the server, with the form's checks
    form = tess.get("/members/new").text
    assert "Changes here reach every box at its next sync. A new name too" in form
    assert "the later change wins" in form  # profile edits go both ways (history/profiles.py)
    dup = tess.post("/members/new", data={"csrf": csrf_of(form), "display_name": "ana SILVA"})
    assert dup.status_code == 400 and alert(dup.text) == "a member named 'ana SILVA' already exists (names ignore case)"
    added = tess.post("/members/new", data={"csrf": csrf_of(form), "display_name": "Carla", "max_hr_bpm": "181"})
    assert added.status_code == 303
    assert "This deletes them from the whole chain" in tess.get(f"{added.headers['location']}/delete").text

    log_in(dashboard)
    users = dashboard.get("/users").text
    assert "the chain dashboard&#x27;s users, kept on its server" in users
    token = csrf_of(users)
    r = dashboard.post("/users/2/role", data={"csrf": token, "role": "member", "member": "Zed"})
    assert r.status_code == 400 and alert(r.text) == "no member 'Zed'"  # without the server's URL
    r = dashboard.post("/users/2/role", data={"csrf": token, "role": "admin"})
    assert r.status_code == 200 and alert(r.text) == "'tess' is now admin; their open logins have ended"
    assert tess.get("/members").status_code == 303  # her login ended: the next one is an admin's
    store = open_postgres(chain.url)
    try:
        user = find_user(store, "tess")
        assert user is not None and user.role == "admin"
    finally:
        store.close()
    r = dashboard.post("/users", data={"csrf": token, "name": "ben", "role": "member", "member": "Ben",
                                       "password": PASSWORD})  # fmt: skip
    assert r.status_code == 200 and alert(r.text) == "added 'ben' (member)"
    ben = other_client(dashboard, "10.1.0.3")
    log_in(ben, name="ben")
    assert ben.get("/").headers["location"] == f"/members/{chain.ben}"
    assert ben.get(f"/members/{chain.ana}").status_code == 403 and ben.get("/sessions").status_code == 403


def test_a_member_s_history_is_read_again_only_when_the_chain_s_server_changed(
    dashboard: TestClient, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_member_reads(monkeypatch)
    log_in(dashboard, name="tess")
    page = f"/members/{chain.ana}"
    assert bars(dashboard.get(page).text) == 3
    assert dashboard.get(f"{page}/plan").status_code == 200
    assert len(dashboard.get(f"/api/members/{chain.ana}/sessions").json()) == 3
    assert bars(dashboard.get(f"{page}?box={SOUTH}").text) == 1
    assert reads == [chain.ana]  # four pages, one read: nothing was written in between

    store = open_sqlite(chain.south)
    ana_south = store.find_member("Ana Silva").id
    store.close()
    sessions_for(chain.south, ana_south, workouts=1, device_id=SOUTH)
    run_cli(["history", "sync", "--to", chain.url, "--db", str(chain.south)])  # a box uploads her new session
    assert bars(dashboard.get(page).text) == 4 and reads == [chain.ana] * 2  # seen at once
    assert bars(dashboard.get(f"{page}?box={SOUTH}").text) == 2 and reads == [chain.ana] * 2

    session_id = int(re.findall(r'href="/sessions/(\d+)"', dashboard.get(page).text)[0])
    token = form_token(dashboard, f"/sessions/{session_id}")
    dashboard.post(f"/sessions/{session_id}/notes", data={"csrf": token, "text": "Deeper"})  # the dashboard writes
    assert "<td>1</td></tr>" in dashboard.get(page).text and reads == [chain.ana] * 3
    edit = dashboard.get(f"/members/{chain.ana}/edit").text
    dashboard.post(f"/members/{chain.ana}/edit", data={"csrf": csrf_of(edit), "display_name": "Ana Silva",
                                                       "max_hr_bpm": "185"})  # fmt: skip
    assert "<td>185</td>" in dashboard.get(page).text and len(reads) == 4  # a profile edited: read again
    assert bars(dashboard.get(page).text) == 4 and len(reads) == 4


def test_a_member_deleted_on_their_box_is_gone_from_the_chain_s_dashboard_after_the_box_s_sync(
    dashboard: TestClient, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_member_reads(monkeypatch)
    log_in(dashboard, name="tess")
    ben = f"/members/{chain.ben}"
    assert dashboard.get(ben).status_code == 200 and reads == [chain.ben]  # read, and kept for the next request
    said = run_cli(["members", "delete", "Ben", "--yes", "--db", str(chain.south)])
    assert said.strip().endswith("the chain's server and its other boxes delete them too after the next sync")
    assert dashboard.get(ben).status_code == 200  # still there: the box has not synced yet
    assert "deleted 1 sessions, 0 notes, 1 members on" in run_cli(["history", "sync", "--to", chain.url,
                                                                  "--db", str(chain.south)])  # fmt: skip
    gone = dashboard.get(ben)
    assert gone.status_code == 404 and alert(gone.text) == f"no member {chain.ben}" and reads[-1] == chain.ben
    assert [r[0] for r in rows_of(dashboard.get("/members").text, "members")] == ["Ana Silva"]
    listed = rows_of(dashboard.get("/sessions").text, "sessions")
    assert sorted((r[1], r[2]) for r in listed) == [(NORTH, "Ana Silva"), (NORTH, "Ana Silva"), (NORTH, "guest"),
                                                    (SOUTH, "Ana Silva")]  # fmt: skip  # the other box's as they were


def test_two_admins_demoting_each_other_at_once_leave_one_admin_on_postgresql(pg_server: PostgresServer) -> None:
    """The count of admins and the change are one transaction; on PostgreSQL the second
    demotion waits for the first (the admins' rows are locked), then sees one admin left."""
    url = fresh_database(pg_server)
    first, second = open_postgres(url), open_postgres(url)
    try:
        boss = add_user(first, "boss", "admin", PASSWORD)
        kim = add_user(first, "kim", "admin", PASSWORD)
        outcome: list[object] = []
        with first.transaction():  # boss demotes kim; not committed yet
            set_role(first, kim.id, "trainer")
            waiting = threading.Thread(target=lambda: outcome.append(_try_set_role(second, boss.id, "trainer")))
            waiting.start()  # kim demotes boss meanwhile
            waiting.join(1.0)
            assert waiting.is_alive() and outcome == []  # waits for the first transaction's locks
        waiting.join(10.0)
        assert len(outcome) == 1 and isinstance(outcome[0], LastAdminError), outcome
        assert [(u.name, u.role) for u in (find_user(first, "boss"), find_user(first, "kim")) if u] == [
            ("boss", "admin"), ("kim", "trainer")]  # fmt: skip
    finally:
        first.close()
        second.close()


def _try_set_role(store: Store, user_id: int, role: str) -> object:
    try:
        return set_role(store, user_id, role)
    except HistoryError as err:
        return err


def test_a_write_that_waits_past_lock_timeout_for_another_session_is_a_503_that_says_so(chain: Chain) -> None:
    import psycopg

    app = build_app(chain.url, DashboardConfig(lock_timeout_s=0.5), now=Clock())
    with TestClient(app, follow_redirects=False) as c, psycopg.connect(chain.url) as holder:
        log_in(c, name="tess")
        token = form_token(c, f"/members/{chain.ben}/edit")
        holder.execute("SELECT * FROM members WHERE id = %s FOR UPDATE", (chain.ben,))  # psql, mid-transaction
        r = c.post(f"/members/{chain.ben}/edit", data={"csrf": token, "display_name": "Ben", "max_hr_bpm": "190"})
        assert r.status_code == 503 and "Traceback" not in r.text
        assert re.fullmatch(r"history database \S+ is locked by another session \(.+\)", alert(r.text)), alert(r.text)
        assert c.get(f"/members/{chain.ben}").status_code == 200  # reads do not wait for it
        holder.rollback()
        r = c.post(f"/members/{chain.ben}/edit", data={"csrf": token, "display_name": "Ben", "max_hr_bpm": "190"})
        assert r.status_code == 303


def gymcorner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gymcorner", *args], capture_output=True, text=True, timeout=60)


def test_a_server_out_of_reach_at_start_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    closed = f"postgresql://gymcorner@127.0.0.1:{free_port()}/chain"  # nothing listens there
    config = tmp_path / "chain.toml"
    config.write_text(f'[dashboard]\ndatabase = "{closed}"\n')
    for argv in (
        ("dashboard", "--database", closed, "--port", str(free_port())),
        ("dashboard", "--config", str(config), "--port", str(free_port())),
        ("dashboard", "user", "list", "--database", closed),
    ):
        done = gymcorner(*argv)
        assert done.returncode == 1, (argv, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith(f"gymcorner: error: history database {closed} is unreachable: "), lines
        assert "dashboard: http" not in done.stdout  # it never listened
    config.write_text('[dashboard]\ndatabase = "/var/lib/gymcorner/history.sqlite3"\n')
    done = gymcorner("dashboard", "--config", str(config))
    assert done.returncode == 1 and "dashboard.database" in done.stderr and "postgresql:// URL" in done.stderr
    done = gymcorner("dashboard", "--database", "/tmp/history.sqlite3")
    assert done.returncode == 1 and "--database /tmp/history.sqlite3: must be a postgresql:// URL" in done.stderr


def test_the_server_away_mid_run_is_a_503_page_and_the_dashboard_recovers_when_it_is_back(
    dashboard: TestClient, chain: Chain, pg_server: PostgresServer
) -> None:
    assert log_in(dashboard, name="tess").status_code == 303
    assert dashboard.get("/members").status_code == 200  # the pool holds a connection now
    member = f"/members/{chain.ana}"
    assert dashboard.get(member).status_code == 200
    pg_server.stop()
    try:
        for path in ("/members", member, f"{member}/plan", "/sessions"):
            r = dashboard.get(path)
            assert r.status_code == 503, path
            assert "<h1>History unavailable</h1>" in r.text and "Traceback" not in r.text
            assert re.fullmatch(r"history database postgresql://\S+ is unreachable: .+", alert(r.text)), alert(r.text)
            assert "works again as soon as the server answers" in r.text
        api = dashboard.get("/api/members")
        assert api.status_code == 503 and "is unreachable" in api.json()["error"]
        stranger = other_client(dashboard, "10.1.0.9")
        assert log_in(stranger, name="boss").status_code == 503  # a login needs the users' table
        assert SESSION_COOKIE not in stranger.cookies
    finally:
        pg_server.start()
    assert dashboard.get("/members").status_code == 200  # the first request after the restart
    assert bars(dashboard.get(member).text) == 3
    assert log_in(other_client(dashboard, "10.1.0.10"), name="boss").status_code == 303
    pg_server.stop()  # a restart while the dashboard was idle: its pooled connections are dead ones now
    pg_server.start()
    assert dashboard.get("/members").status_code == 200  # not a 503 for the first page after it


def test_a_member_renamed_or_deleted_on_the_chain_s_dashboard_is_so_on_each_box_after_its_sync(
    dashboard: TestClient, chain: Chain
) -> None:
    """The forms a trainer uses (edit, delete), then each box's sync: the box's own record of
    the member takes the new name (a daemon asked for them by it finds them), or goes."""
    log_in(dashboard, name="tess")
    ana = f"/members/{chain.ana}"
    form = dashboard.get(f"{ana}/edit").text
    assert "Changes here reach every box at its next sync. A new name too" in form
    assert "the later change wins" in form  # profile edits go both ways (history/profiles.py)
    r = dashboard.post(f"{ana}/edit", data={"csrf": csrf_of(form), "display_name": "Ana Lima"})
    assert r.status_code == 303
    for box in (chain.north, chain.south):
        said = run_cli(["history", "sync", "--to", chain.url, "--db", str(box)])
        assert "1 members renamed, 0 merged, 0 erased (0 sessions) as the chain did" in said
        store = open_sqlite(box)
        try:
            assert [m.display_name for m in store.list_members()][:1] == ["Ana Lima"]
        finally:
            store.close()

    delete_page = dashboard.get(f"/members/{chain.ben}/delete").text
    assert "This deletes them from the whole chain" in delete_page
    r = dashboard.post(f"/members/{chain.ben}/delete", data={"csrf": csrf_of(delete_page), "confirm": "yes"})
    assert r.status_code == 200 and alert(r.text).startswith("deleted 'Ben' and all of their data")
    said = run_cli(["history", "sync", "--to", chain.url, "--db", str(chain.south)])
    assert "0 members renamed, 0 merged, 1 erased (1 sessions) as the chain did" in said and "uploaded" not in said
    store = open_sqlite(chain.south)
    try:
        assert [m.display_name for m in store.list_members()] == ["Ana Lima"]
        assert all(s["member_id"] is not None for s in store.sessions())  # Ben's session went with him
    finally:
        store.close()


def test_a_box_that_synced_without_a_session_is_listed_with_its_last_sync(
    dashboard: TestClient, chain: Chain, tmp_path: Path
) -> None:
    from gymcorner.history.sync import upload

    store, remote = open_sqlite(tmp_path / "east.sqlite3"), open_postgres(chain.url)
    try:  # the daemon's uploader names its own device id: a box set up today, nothing recorded yet
        upload(store, remote, device_id="gym-east-1")
    finally:
        store.close()
        remote.close()
    log_in(dashboard, name="tess")
    rows = rows_of(dashboard.get("/boxes").text, "boxes-list")
    east = [r for r in rows if r[0] == "gym-east-1"]
    assert len(east) == 1 and east[0][1:3] == ["0", "–"] and east[0][3].endswith(f"(version {__version__})")


def test_the_boxes_page_lists_every_box_with_its_sessions_for_staff_only(dashboard: TestClient, chain: Chain) -> None:
    log_in(dashboard, name="tess")
    page = dashboard.get("/boxes")
    assert page.status_code == 200
    rows = rows_of(page.text, "boxes-list")
    no_watch = "not watched: this dashboard has no chain broker ([dashboard.chain_mqtt] enabled = false)"
    assert [(r[0], r[1], r[4]) for r in rows] == [(NORTH, "3", no_watch), (SOUTH, "2", no_watch)]
    assert all(r[3].endswith(f"(version {__version__})") for r in rows)  # each box's last sync, as the server saw it
    assert f'href="/sessions?box={SOUTH}"' in page.text  # its sessions, one click away
    store = open_postgres(chain.url)
    try:
        add_user(store, "ana", "member", PASSWORD, member_id=chain.ana)
    finally:
        store.close()
    member = other_client(dashboard, "10.0.0.9")
    log_in(member, name="ana")
    assert member.get("/boxes").status_code == 403
