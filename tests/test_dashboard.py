"""The dashboard through Starlette's TestClient, on a real SQLite file.

Logins, cookies, CSRF, the login rate limit, expiry and roles; the bad input the issue
lists (a duplicate name, an unknown member, a locked or corrupt file); the pages over
sessions recorded by the real history sink. Time is the app's injected clock, moved by the
tests: nothing sleeps.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from test_history_members import sessions_for

from gymcorner.config.dashboard import DashboardConfig
from gymcorner.dashboard.app import SESSION_COOKIE, build_app
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.users import add_user, find_user, list_users

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    store = open_sqlite(path)
    try:
        add_user(store, "boss", "admin", PASSWORD)
        add_user(store, "tess", "trainer", PASSWORD)
        ana = store.add_member("Ana Silva", birth_year=1990, goal="strength", level="beginner")
        store.add_member("Ben")
        add_user(store, "ana", "member", PASSWORD, member_id=ana.id)
    finally:
        store.close()
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client(db: Path, clock: Clock, base_url: str = "http://testserver", **config: object) -> TestClient:
    app = build_app(db, DashboardConfig(lock_timeout_s=0.2, **config), now=clock)  # type: ignore[arg-type]
    return TestClient(app, base_url=base_url, follow_redirects=False)


@pytest.fixture
def app_client(db: Path, clock: Clock) -> Iterator[TestClient]:
    with client(db, clock) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def alert(html: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', html)
    return found.group(1).replace("&#x27;", "'") if found else ""


def log_in(c: TestClient, name: str = "boss", password: str = PASSWORD, next_path: str = "/") -> object:
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"csrf": token, "name": name, "password": password, "next": next_path})


def form_token(c: TestClient, path: str = "/members/new") -> str:
    page = c.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


# ------------------------------------------------------------------ every route is guarded


def test_every_page_redirects_to_login_and_every_api_route_answers_401(app_client: TestClient) -> None:
    checked = 0
    for route in app_client.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        if route.path == "/login" or route.path.startswith("/static/"):  # the style sheet and scripts: no data
            continue
        path = route.path
        for param in ("member_id", "session_id", "user_id", "note_id"):
            path = path.replace(f"{{{param}:int}}", "1")
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            r = app_client.request(method, path)
            if path.startswith("/api/"):
                assert r.status_code == 401, (method, path)
                assert r.json() == {"error": "log in first"}
            else:
                assert r.status_code == 303, (method, path)
                assert r.headers["location"].startswith("/login?next=")
            checked += 1
    assert checked >= 18
    assert app_client.get("/members/1").headers["location"] == "/login?next=/members/1"


def test_login_sets_an_httponly_samesite_strict_cookie_and_lands_on_next(app_client: TestClient) -> None:
    r = log_in(app_client, next_path="/members/1")
    assert r.status_code == 303 and r.headers["location"] == "/members/1"
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = app_client.get("/members")
    assert page.status_code == 200 and "Ana Silva" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text


def test_cookies_are_secure_over_https_and_when_configured(db: Path, clock: Clock) -> None:
    r = log_in(client(db, clock, base_url="https://testserver"))
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    assert "Secure" in cookie and "HttpOnly" in cookie
    # behind a TLS proxy the app sees http, and secure_cookies says the browser sees https
    behind_proxy = client(db, clock, secure_cookies=True)
    (login_cookie,) = behind_proxy.get("/login").headers.get_list("set-cookie")
    assert "Secure" in login_cookie
    assert "Secure" not in client(db, clock).get("/login").headers["set-cookie"]


def test_next_never_leaves_the_site(app_client: TestClient) -> None:
    assert log_in(app_client, next_path="//evil.example/x").headers["location"] == "/"
    assert log_in(app_client, next_path="https://evil.example/").headers["location"] == "/"


def test_a_wrong_password_or_an_unknown_name_is_401_with_one_message(app_client: TestClient) -> None:
    wrong = log_in(app_client, password="not the password")
    assert wrong.status_code == 401 and alert(wrong.text) == "wrong name or password"
    nobody = log_in(app_client, name="nobody")
    assert nobody.status_code == 401 and alert(nobody.text) == "wrong name or password"
    assert SESSION_COOKIE not in app_client.cookies


# ------------------------------------------------------------------ CSRF


def test_the_login_form_needs_its_csrf_token(app_client: TestClient) -> None:
    app_client.get("/login")
    r = app_client.post("/login", data={"csrf": "forged", "name": "boss", "password": PASSWORD})
    assert r.status_code == 403 and "security token" in alert(r.text)
    fresh = TestClient(app_client.app, follow_redirects=False)  # no login-CSRF cookie at all
    r = fresh.post("/login", data={"csrf": "x", "name": "boss", "password": PASSWORD})
    assert r.status_code == 403


def test_a_form_post_with_a_wrong_or_missing_csrf_token_is_403_and_changes_nothing(app_client: TestClient) -> None:
    log_in(app_client)
    for data in ({"csrf": "forged", "display_name": "Mallory"}, {"display_name": "Mallory"}):
        r = app_client.post("/members/new", data=data)
        assert r.status_code == 403 and "security token" in alert(r.text)
    assert "Mallory" not in app_client.get("/members").text
    r = app_client.post("/logout", data={"csrf": "forged"})
    assert r.status_code == 403
    assert app_client.get("/members").status_code == 200  # still logged in


def test_logout_ends_the_login_on_the_server(app_client: TestClient) -> None:
    log_in(app_client)
    cookie = app_client.cookies[SESSION_COOKIE]
    r = app_client.post("/logout", data={"csrf": form_token(app_client)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    app_client.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, replayed
    assert app_client.get("/members").status_code == 303


# ------------------------------------------------------------------ expiry and rate limit


def test_a_login_expires_when_idle_and_after_its_maximum_age(app_client: TestClient, clock: Clock) -> None:
    log_in(app_client)
    clock.t += 29 * 60
    assert app_client.get("/members").status_code == 200  # used: the idle timer restarts
    clock.t += 29 * 60
    assert app_client.get("/members").status_code == 200
    clock.t += 31 * 60
    assert app_client.get("/members").status_code == 303
    assert app_client.get("/api/members").status_code == 401

    log_in(app_client)
    for _ in range(25):  # busy all along (25 x 29 min), but 12 hours is the most a login lasts
        clock.t += 29 * 60
        app_client.get("/members")
    assert app_client.get("/members").status_code == 303


def test_five_failures_a_minute_for_one_name_then_429_even_with_the_right_password(
    app_client: TestClient, clock: Clock
) -> None:
    for _ in range(5):
        assert log_in(app_client, password="guess guess").status_code == 401
    r = log_in(app_client)
    assert r.status_code == 429 and "too many failed logins" in alert(r.text)
    assert 1 <= int(r.headers["retry-after"]) <= 60
    other = TestClient(app_client.app, client=("10.0.0.9", 4000), follow_redirects=False)
    assert log_in(other).status_code == 429  # the name is limited from every client
    assert log_in(other, name="tess").status_code == 303  # other names are not
    clock.t += 61
    assert log_in(app_client).status_code == 303


def test_five_failures_a_minute_from_one_client_then_429_for_any_name(app_client: TestClient, clock: Clock) -> None:
    for i in range(5):
        assert log_in(app_client, name=f"guess{i}", password="guess guess").status_code == 401
    assert log_in(app_client, name="tess").status_code == 429
    elsewhere = TestClient(app_client.app, client=("10.0.0.7", 4000), follow_redirects=False)
    assert log_in(elsewhere, name="tess").status_code == 303
    clock.t += 60
    assert log_in(app_client, name="tess").status_code == 303


# ------------------------------------------------------------------ roles


def test_a_trainer_sees_members_but_not_users(app_client: TestClient) -> None:
    log_in(app_client, name="tess")
    assert app_client.get("/members").status_code == 200
    assert app_client.get("/users").status_code == 403
    r = app_client.post("/users", data={"csrf": form_token(app_client), "name": "x", "role": "admin"})
    assert r.status_code == 403


def test_a_member_sees_only_their_own_data(app_client: TestClient) -> None:
    log_in(app_client, name="ana")
    assert app_client.get("/").headers["location"] == "/members/1"
    assert app_client.get("/members/1").status_code == 200
    assert app_client.get("/members/1/plan").status_code == 200
    assert app_client.get("/api/members/1/sessions").status_code == 200
    for path in ("/members", "/members/2", "/members/2/plan", "/members/new", "/members/1/edit", "/users"):
        assert app_client.get(path).status_code == 403, path
    assert app_client.get("/api/members").status_code == 403
    assert app_client.get("/api/members/2/sessions").json() == {"error": "this is another member's data"}


def test_an_admin_adds_users_and_mistakes_are_one_line(app_client: TestClient, db: Path) -> None:
    log_in(app_client)
    token = form_token(app_client, "/users")
    r = app_client.post("/users", data={"csrf": token, "name": "Tom", "role": "trainer", "password": PASSWORD})
    assert r.status_code == 200 and alert(r.text) == "added 'Tom' (trainer)"
    r = app_client.post("/users", data={"csrf": token, "name": "tom", "role": "trainer", "password": PASSWORD})
    assert r.status_code == 400 and alert(r.text) == "a dashboard user named 'tom' already exists (names ignore case)"
    r = app_client.post("/users", data={"csrf": token, "name": "Ugo", "role": "trainer", "password": "short"})
    assert r.status_code == 400 and alert(r.text) == "a password needs at least 10 characters"
    r = app_client.post("/users", data={"csrf": token, "name": "Ugo", "role": "root", "password": PASSWORD})
    assert r.status_code == 400 and "not one of admin, trainer, member" in alert(r.text)
    store = open_sqlite(db)
    user = find_user(store, "TOM")
    store.close()
    assert user is not None and user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


# ------------------------------------------------------------------ members: bad input gets a clear answer


def test_members_are_added_and_edited_with_the_cli_s_checks(app_client: TestClient) -> None:
    log_in(app_client, name="tess")
    token = form_token(app_client)
    r = app_client.post("/members/new", data={"csrf": token, "display_name": "Carla", "birth_year": "1985",
                                               "goal": "endurance", "level": "intermediate"})
    assert r.status_code == 303
    page = app_client.get(r.headers["location"])
    assert page.status_code == 200 and "<h1>Carla</h1>" in page.text and "endurance" in page.text
    mistakes = {
        "ana SILVA": ({}, "a member named 'ana SILVA' already exists (names ignore case)"),
        "Dan": ({"birth_year": "nineteen"}, "Year of birth: 'nineteen' is not a whole number"),
        "Eve": ({"max_hr_bpm": "400"}, "max_hr_bpm = 400 is outside 80..230"),
        "Fay": ({"goal": "fame"}, "goal 'fame' is not one of strength, hypertrophy, endurance, general_fitness, "
                                  "weight_loss"),
        "": ({}, "a member needs a display name"),
    }
    for name, (fields, expected) in mistakes.items():
        r = app_client.post("/members/new", data={"csrf": token, "display_name": name, **fields})
        assert r.status_code == 400, name
        assert alert(r.text) == expected
        assert f'value="{name}"' in r.text  # the form comes back filled in
    member_id = next(m["id"] for m in app_client.get("/api/members").json() if m["display_name"] == "Carla")
    edit = f"/members/{member_id}/edit"
    r = app_client.post(edit, data={"csrf": token, "display_name": "Ana Silva"})
    assert r.status_code == 400 and "already exists" in alert(r.text)
    r = app_client.post(edit, data={"csrf": token, "display_name": "Carla B", "max_hr_bpm": "181"})
    assert r.status_code == 303
    assert [m["display_name"] for m in app_client.get("/api/members").json()] == ["Ana Silva", "Ben", "Carla B"]


def test_an_unknown_member_or_session_is_a_404_page(app_client: TestClient) -> None:
    log_in(app_client)
    for path in ("/members/99", "/members/99/edit", "/members/99/plan", "/sessions/99"):
        r = app_client.get(path)
        assert r.status_code == 404, path
        assert "<h1>Not found</h1>" in r.text and "Traceback" not in r.text
    r = app_client.post("/members/99/edit", data={"csrf": form_token(app_client), "display_name": "X"})
    assert r.status_code == 404
    assert app_client.get("/api/members/99/sessions").status_code == 404


def test_a_locked_file_is_a_503_for_writes_while_pages_still_read(app_client: TestClient, db: Path) -> None:
    log_in(app_client)
    token = form_token(app_client)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock, as the daemon does mid-commit
    try:
        assert app_client.get("/members").status_code == 200  # WAL: readers do not wait for writers
        r = app_client.post("/members/new", data={"csrf": token, "display_name": "Gus"})
        assert r.status_code == 503
        assert "<h1>History unavailable</h1>" in r.text and "is locked by another process" in alert(r.text)
        assert "Traceback" not in r.text
    finally:
        holder.rollback()
        holder.close()
    assert app_client.post("/members/new", data={"csrf": token, "display_name": "Gus"}).status_code == 303


def test_a_corrupt_file_is_a_503_page_that_says_so(app_client: TestClient, db: Path) -> None:
    log_in(app_client)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 400)
    r = app_client.get("/members")
    assert r.status_code == 503 and "is corrupt" in alert(r.text) and "Traceback" not in r.text
    assert app_client.get("/api/members").status_code == 503
    login = TestClient(app_client.app, client=("10.0.0.3", 1), follow_redirects=False)
    assert log_in(login).status_code == 503  # no login without the users' table: said, not a 500


# ------------------------------------------------------------------ pages over recorded sessions


def test_a_member_page_draws_their_sessions_and_the_session_page_lists_reps(app_client: TestClient, db: Path) -> None:
    sessions_for(db, 1, workouts=3)
    log_in(app_client, name="tess")
    page = app_client.get("/members/1").text
    for kind in ("reps", "quality", "faults"):
        assert f'class="chart chart-{kind}"' in page
    reps_svg = page.split('class="chart chart-reps"')[1].split("</svg>")[0]
    assert reps_svg.count('class="bar"') == 3 and reps_svg.count(": 2 squat reps</title>") == 3
    quality_svg = page.split('class="chart chart-quality"')[1].split("</svg>")[0]
    assert quality_svg.count('class="point"') == 3 and "mean quality 80" in quality_svg
    faults_svg = page.split('class="chart chart-faults"')[1].split("</svg>")[0]
    assert faults_svg.count(": 1 faults</title>") == 3
    session_id = int(re.findall(r'href="/sessions/(\d+)"', page)[0])
    session = app_client.get(f"/sessions/{session_id}")
    assert session.status_code == 200
    assert "<td>knee_valgus</td>" in session.text and "<td>80</td>" in session.text
    assert app_client.get("/api/members/1/sessions").json()[0]["reps"] == 2
    plan = app_client.get("/members/1/plan")
    assert plan.status_code == 200 and "strength" in plan.text and "[acsm-2009" in plan.text


def test_sessions_carry_their_box_and_a_file_with_two_boxes_filters_by_box(app_client: TestClient, db: Path) -> None:
    """The box labels and the filter are the same on the box's file as on a chain's server
    (test_dashboard_chain.py): a box renamed keeps its old sessions under the old id."""
    sessions_for(db, 1, workouts=2, device_id="corner-old")
    sessions_for(db, 1, workouts=1, device_id="corner-new")
    sessions_for(db, None, workouts=1, device_id="corner-new")
    log_in(app_client, name="tess")
    listed = app_client.get("/sessions").text
    assert listed.count('<span class="box">corner-old</span>') == 2 and "<td>guest</td>" in listed
    assert listed.count('<span class="box">corner-new</span>') == 2
    assert "Sessions per box: corner-new: 2, corner-old: 2." in listed
    only_new = app_client.get("/sessions?box=corner-new").text
    assert "corner-old</span>" not in only_new and '<strong aria-current="true">corner-new</strong>' in only_new

    def reps_bars(html: str) -> int:
        return html.split('class="chart chart-reps"')[1].split("</svg>")[0].count('class="bar"')

    page = app_client.get("/members/1").text
    assert reps_bars(page) == 3 and page.count('<span class="box">corner-old</span>') == 2
    old = app_client.get("/members/1?box=corner-old").text
    assert reps_bars(old) == 2
    assert "corner-new</span>" not in old
    assert "Ben" not in app_client.get("/members?box=corner-new").text  # Ben has no session there
    assert app_client.get("/members").text.count('<span class="box">') == 2  # Ana's two boxes
    assert "a chain&#x27;s server" not in page + listed  # nothing of the chain's notes on a box


def count_member_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The member ids `Store.member_data` is called with from now on: how often a member's
    history is read from the database."""
    from gymcorner.history.store import Store

    reads: list[int] = []
    real = Store.member_data

    def counted(self: Store, member_id: int, events: bool = True) -> dict[str, object]:
        reads.append(member_id)
        return real(self, member_id, events=events)

    monkeypatch.setattr(Store, "member_data", counted)
    return reads


def test_a_member_s_history_is_read_once_until_the_daemon_writes_again(
    app_client: TestClient, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_member_reads(monkeypatch)
    sessions_for(db, 1, workouts=2)
    log_in(app_client, name="tess")

    def chart_bars() -> int:
        page = app_client.get("/members/1").text
        return page.split('class="chart chart-reps"')[1].split("</svg>")[0].count('class="bar"')

    assert chart_bars() == 2
    assert app_client.get("/members/1/plan").status_code == 200
    assert app_client.get("/api/members/1/sessions").json()[0]["reps"] == 2
    assert chart_bars() == 2
    assert reads == [1]  # four pages, one read: nothing was written in between
    sessions_for(db, 1, workouts=1)  # the daemon records another session (its own connection)
    assert chart_bars() == 3  # seen at once, not after a delay
    assert reads == [1, 1]
    sessions_for(db, 2, workouts=1)  # someone else's session changes the file too
    assert chart_bars() == 3 and reads == [1, 1, 1]


def test_text_from_the_database_is_escaped(app_client: TestClient) -> None:
    log_in(app_client)
    token = form_token(app_client)
    r = app_client.post("/members/new", data={"csrf": token, "display_name": "<script>alert(1)</script>"})
    page = app_client.get(r.headers["location"]).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ------------------------------------------------------------------ the command


def gym(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gymcorner", "dashboard", *args], input=stdin, capture_output=True, text=True,
        timeout=60,
    )


def test_user_add_reads_the_password_from_stdin_or_a_file_never_argv(tmp_path: Path) -> None:
    done = gym("user", "add", "boss", "--role", "admin", "--data-dir", str(tmp_path), stdin=PASSWORD + "\n")
    assert done.returncode == 0 and done.stdout.strip() == "added dashboard user 'boss' (admin)", done.stderr
    secret = tmp_path / "pw"
    secret.write_text("another good one\n")
    done = gym("user", "add", "tess", "--role", "trainer", "--password-file", str(secret), "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    again = gym("user", "add", "BOSS", "--role", "admin", "--data-dir", str(tmp_path), stdin=PASSWORD + "\n")
    assert again.returncode == 1
    assert again.stderr.strip() == "gymcorner: error: a dashboard user named 'BOSS' already exists (names ignore case)"
    kept = gym("user", "add", "boss", "--role", "admin", "--if-absent", "--data-dir", str(tmp_path), stdin="")
    assert kept.returncode == 0 and "unchanged" in kept.stdout
    short = gym("user", "add", "ugo", "--role", "admin", "--data-dir", str(tmp_path), stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert gym("user", "add", "x", "--role", "admin", "--password", "p", "--data-dir", str(tmp_path)).returncode == 2
    listed = gym("user", "list", "--data-dir", str(tmp_path)).stdout.split()
    assert listed == ["boss", "admin", "tess", "trainer"]
    with TestClient(build_app(tmp_path / "history.sqlite3"), follow_redirects=False) as c:
        assert log_in(c, name="tess", password="another good one").status_code == 303


def test_charts_draw_each_exercise_apart_and_leave_gaps_where_no_rep_was_scored() -> None:
    from gymcorner.dashboard.charts import SessionPoint, faults_chart, quality_chart, reps_chart

    points = [
        SessionPoint("a", {"squat": 10, "push_up": 5}, 70.0, 2),
        SessionPoint("b", {"squat": 8}, None, 0),  # no scored rep: no point, the line breaks
        SessionPoint("c", {"push_up": 12}, 90.0, 3),
        SessionPoint("d", {"squat": 4}, 50.0, 1),
    ]
    reps = reps_chart(points)
    heights = {t: float(h) for h, t in re.findall(r'height="([\d.]+)" fill="[^"]+"><title>([^<]+)</title>', reps)}
    assert set(heights) == {"a: 10 squat reps", "a: 5 push_up reps", "b: 8 squat reps", "c: 12 push_up reps",
                            "d: 4 squat reps"}
    assert heights["c: 12 push_up reps"] > heights["a: 10 squat reps"] > heights["a: 5 push_up reps"]
    assert abs(heights["a: 10 squat reps"] / heights["a: 5 push_up reps"] - 2) < 0.01  # to scale
    assert ">push_up</text>" in reps and ">squat</text>" in reps  # the legend
    quality = quality_chart(points)
    assert quality.count('class="point"') == 3 and "b: mean quality" not in quality
    assert quality.count("<polyline") == 1  # a, then a gap, then c-d
    faults = faults_chart(points)
    assert [t for t in re.findall(r"<title>([^<]+)</title>", faults)][1:] == [
        "a: 2 faults", "b: 0 faults", "c: 3 faults", "d: 1 faults"]
    assert ">1.5<" not in faults and ">3<" in faults  # a count axis has whole numbers only
    assert reps_chart([]).startswith("<svg") and "<rect" not in reps_chart([]).split("</title>", 1)[1]


def test_an_admin_binds_a_member_login_to_its_member(app_client: TestClient, db: Path) -> None:
    log_in(app_client)
    token = form_token(app_client, "/users")
    r = app_client.post("/users", data={"csrf": token, "name": "ben", "role": "member", "member": "ben",
                                         "password": PASSWORD})
    assert r.status_code == 200 and alert(r.text) == "added 'ben' (member)"
    r = app_client.post("/users", data={"csrf": token, "name": "zed", "role": "member", "member": "Zed",
                                         "password": PASSWORD})
    assert r.status_code == 400 and "no member 'Zed'" in alert(r.text)
    r = app_client.post("/users", data={"csrf": token, "name": "zed", "role": "member", "password": PASSWORD})
    assert r.status_code == 400 and alert(r.text) == "a member login names its member, and only a member login does"
    ben = TestClient(app_client.app, client=("10.0.0.5", 1), follow_redirects=False)
    log_in(ben, name="ben")
    assert ben.get("/").headers["location"] == "/members/2"
    assert ben.get("/members/2").status_code == 200 and ben.get("/members/1").status_code == 403
    store = open_sqlite(db)
    store.delete_member(2)  # deleting the member deletes their login
    store.close()
    assert log_in(TestClient(app_client.app, client=("10.0.0.6", 1), follow_redirects=False), name="ben").status_code == 401


# ------------------------------------------------------------------ trainers' notes on a session


def first_session_of(c: TestClient, member_id: int = 1) -> int:
    return int(re.findall(r'href="/sessions/(\d+)"', c.get(f"/members/{member_id}").text)[0])


def notes_of(html: str) -> list[tuple[str, str]]:
    """(text, who and when) of each note shown, without the link to change it."""
    found = re.findall(r'<li class="note"[^>]*><p>([^<]*)</p><p class="reason">([^<]*?)( · <a [^>]*>[^<]*</a>)?</p>', html)
    return [(text, by) for text, by, _ in found]


def test_a_trainer_notes_a_session_and_the_member_reads_it_but_cannot_write(app_client: TestClient, db: Path) -> None:
    sessions_for(db, 1, workouts=1)
    log_in(app_client, name="tess")
    session_id = first_session_of(app_client)
    page = app_client.get(f"/sessions/{session_id}").text
    assert "No notes yet." in page and f'action="/sessions/{session_id}/notes"' in page
    token = csrf_of(page)
    r = app_client.post(f"/sessions/{session_id}/notes", data={"csrf": token, "text": "Knees <out>, chest up"})
    assert r.status_code == 303 and r.headers["location"] == f"/sessions/{session_id}#notes"
    ((text, by),) = notes_of(app_client.get(f"/sessions/{session_id}").text)
    assert text == "Knees &lt;out&gt;, chest up" and by.startswith("tess (trainer), 20") and by.endswith(" UTC")
    assert "<td>1</td></tr>" in app_client.get("/members/1").text  # the session list counts its notes
    r = app_client.post(f"/sessions/{session_id}/notes", data={"csrf": token, "text": "   "})
    assert r.status_code == 400 and alert(r.text) == "a note needs some text"
    r = app_client.post(f"/sessions/{session_id}/notes", data={"csrf": token, "text": "y" * 2001})
    assert r.status_code == 400 and "at most 2000 characters" in alert(r.text) and "y" * 2001 in r.text  # kept
    r = app_client.post(f"/sessions/{session_id}/notes", data={"csrf": "forged", "text": "forged note"})
    assert r.status_code == 403
    assert app_client.post("/sessions/99/notes", data={"csrf": token, "text": "lost"}).status_code == 404

    member = TestClient(app_client.app, client=("10.0.0.8", 1), follow_redirects=False)
    log_in(member, name="ana")
    page = member.get(f"/sessions/{session_id}").text
    assert [t for t, _ in notes_of(page)] == ["Knees &lt;out&gt;, chest up"]
    assert "/notes\"" not in page and "<textarea" not in page  # no form for a member
    r = member.post(f"/sessions/{session_id}/notes", data={"csrf": csrf_of(page), "text": "I wrote this"})
    assert r.status_code == 403
    store = open_sqlite(db)
    notes = store.rows("notes", session_id)
    store.close()
    assert [(n["author"], n["author_role"], n["text"]) for n in notes] == [("tess", "trainer", "Knees <out>, chest up")]


# ------------------------------------------------------------------ deleting a member, passwords


def other_client(c: TestClient, host: str) -> TestClient:
    """Another browser (its own cookies and client address, so rate limits stay apart)."""
    return TestClient(c.app, client=(host, 1), follow_redirects=False)


def test_deleting_a_member_asks_first_then_removes_everything_and_ends_their_login(
    app_client: TestClient, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import counts, every_table, member_rows

    reads = count_member_reads(monkeypatch)
    sessions_for(db, 1, workouts=2)
    sessions_for(db, 2, workouts=1)
    ana = other_client(app_client, "10.0.1.1")
    log_in(ana, name="ana")
    assert ana.get("/members/1").status_code == 200
    assert ana.get("/members/1/delete").status_code == 403  # a member deletes nobody, not even themselves
    log_in(app_client, name="tess")
    session_id = first_session_of(app_client)
    token = form_token(app_client, f"/sessions/{session_id}")
    app_client.post(f"/sessions/{session_id}/notes", data={"csrf": token, "text": "Ana's squat is deeper"})
    assert 'href="/members/1/delete"' in app_client.get("/members/1").text
    confirm = app_client.get("/members/1/delete")
    assert confirm.status_code == 200 and "<h1>Delete Ana Silva?</h1>" in confirm.text
    assert "2 sessions, 4 reps, 1 notes, 0 straps, 1 logins" in confirm.text
    assert ana.post("/members/1/delete", data={"csrf": csrf_of(ana.get("/members/1").text), "confirm": "yes"}
                    ).status_code == 403  # fmt: skip
    assert app_client.post("/members/1/delete", data={"csrf": "forged", "confirm": "yes"}).status_code == 403
    assert app_client.post("/members/1/delete", data={"csrf": token}).status_code == 400  # not from the confirm page
    assert [m["display_name"] for m in app_client.get("/api/members").json()] == ["Ana Silva", "Ben"]

    r = app_client.post("/members/1/delete", data={"csrf": csrf_of(confirm.text), "confirm": "yes"})
    assert r.status_code == 200
    assert alert(r.text) == "deleted 'Ana Silva' and all of their data: 2 sessions, 4 reps, 1 notes, 0 straps, 1 logins"
    assert [m["display_name"] for m in app_client.get("/api/members").json()] == ["Ben"]
    assert ana.get("/members/1").status_code == 303  # her open login ended with her
    assert app_client.post("/members/1/delete", data={"csrf": token, "confirm": "yes"}).status_code == 404
    seen = len(reads)
    gone = app_client.get("/members/1")  # her page was read and kept before: read again, not shown from memory
    assert gone.status_code == 404 and alert(gone.text) == "no member 1" and reads[seen:] == [1]
    store = open_sqlite(db)
    try:
        assert counts(member_rows(store, "Ana Silva")) == dict.fromkeys(every_table(store), 0)  # every table
        left = {t: store.count(t) for t in every_table(store)}
        users = [u.name for u in list_users(store)]
    finally:
        store.close()
    assert left == {"members": 1, "straps": 0, "sessions": 1, "sets": 1, "reps": 2, "events": 2, "notes": 0,
                    "hr_samples": 2, "landmarks": 2, "dashboard_users": 2, "deletions": 0, "member_changes": 0,
                    "chain_cursor": 0, "box_syncs": 0}  # fmt: skip  # Ben's
    assert users == ["boss", "tess"]


def password_form(current: str, new: str, again: str | None = None) -> dict[str, str]:
    return {"password": current, "new_password": new, "new_password_again": new if again is None else again}


def stored_hash(db: Path, name: str) -> str:
    store = open_sqlite(db)
    user = find_user(store, name)
    store.close()
    assert user is not None
    return user.password_hash


def test_changing_one_s_own_password_needs_the_current_one_and_ends_the_other_logins(
    app_client: TestClient, db: Path
) -> None:
    new = "a brand new passphrase"
    elsewhere = other_client(app_client, "10.0.2.1")
    log_in(elsewhere, name="ana")
    log_in(app_client, name="ana")
    token = form_token(app_client, "/account/password")
    before = stored_hash(db, "ana")
    mistakes = (
        (password_form(PASSWORD, new, "a brand new passphrasE"), "the two new passwords differ"),
        (password_form(PASSWORD, "short"), "a password needs at least 10 characters"),
        (password_form("not my password", new), "the current password is wrong"),
    )
    for data, expected in mistakes:
        r = app_client.post("/account/password", data={"csrf": token, **data})
        assert r.status_code == 400 and alert(r.text) == expected
    assert app_client.post("/account/password", data={"csrf": "forged", **password_form(PASSWORD, new)}
                           ).status_code == 403  # fmt: skip
    assert stored_hash(db, "ana") == before  # nothing changed

    r = app_client.post("/account/password", data={"csrf": token, **password_form(PASSWORD, new)})
    assert r.status_code == 200 and alert(r.text) == "password changed; every other login of yours has ended"
    assert SESSION_COOKIE in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    assert app_client.get("/members/1").status_code == 200  # this browser goes on, on a new login
    assert elsewhere.get("/members/1").status_code == 303  # the other one is logged out
    assert stored_hash(db, "ana").startswith("$argon2id$") and stored_hash(db, "ana") != before
    assert log_in(other_client(app_client, "10.0.2.2"), name="ana").status_code == 401
    assert log_in(other_client(app_client, "10.0.2.3"), name="ana", password=new).status_code == 303


def test_wrong_current_passwords_are_limited_like_logins(app_client: TestClient, clock: Clock) -> None:
    log_in(app_client, name="tess")
    token = form_token(app_client, "/account/password")
    for _ in range(5):
        r = app_client.post("/account/password", data={"csrf": token, **password_form("guess guess", "x" * 12)})
        assert r.status_code == 400
    r = app_client.post("/account/password", data={"csrf": token, **password_form(PASSWORD, "x" * 12)})
    assert r.status_code == 429 and "too many wrong passwords" in alert(r.text) and int(r.headers["retry-after"]) >= 1
    clock.t += 61
    r = app_client.post("/account/password", data={"csrf": token, **password_form(PASSWORD, "x" * 12)})
    assert r.status_code == 200


def test_an_admin_resets_another_user_s_password_and_their_logins_end(app_client: TestClient, db: Path) -> None:
    new = "the trainer forgot it"
    tess = other_client(app_client, "10.0.3.1")
    log_in(tess, name="tess")
    assert tess.get("/users/2/password").status_code == 403  # a trainer resets nobody's
    tess_token = form_token(tess)
    data = {"new_password": new, "new_password_again": new}
    assert tess.post("/users/1/password", data={"csrf": tess_token, **data}).status_code == 403
    log_in(app_client)
    users = app_client.get("/users").text
    assert 'href="/users/2/password"' in users
    page = app_client.get("/users/2/password")
    assert page.status_code == 200 and "<h1>Reset the password of tess</h1>" in page.text
    assert 'name="password"' not in page.text  # no current password asked: the admin does not know it
    token = csrf_of(page.text)
    assert app_client.post("/users/2/password", data={"csrf": "forged", **data}).status_code == 403
    r = app_client.post("/users/2/password", data={"csrf": token, "new_password": new, "new_password_again": "x"})
    assert r.status_code == 400 and alert(r.text) == "the two new passwords differ"
    assert tess.get("/members").status_code == 200  # nothing changed yet

    r = app_client.post("/users/2/password", data={"csrf": token, **data})
    assert r.status_code == 200 and alert(r.text) == "the password of 'tess' is reset; their logins have ended"
    assert tess.get("/members").status_code == 303
    assert log_in(other_client(app_client, "10.0.3.2"), name="tess", password=new).status_code == 303
    own = app_client.post("/users/1/password", data={"csrf": token, **data})
    assert own.status_code == 400 and "asks for the current one" in alert(own.text)
    assert app_client.get("/users/99/password").status_code == 404
    assert log_in(other_client(app_client, "10.0.3.3")).status_code == 303  # the admin's own password is unchanged


# ------------------------------------------------------------------ depth, tempo and heart-rate charts

RECORDED_FOR_CHARTS = (  # per session: reps as (depth, down s, up s, quality), then heart rate
    {"reps": [(0.8, 1.0, 0.5, 70), (0.9, 2.0, 0.7, 90)], "session_hr": (120.0, 150.0)},
    {"reps": [(0.6, 1.5, 1.0, 60), (0.7, 1.5, 1.0, 60)], "set_hr": (110.0, 160.0)},  # the summary had none
    {"reps": [(None, None, None, None)]},  # nothing measured: a gap in every line
    {"reps": [(1.0, 2.5, 1.25, 95), (1.0, 2.5, 1.25, 85)], "session_hr": (130.0, 170.0)},
)


def record_chart_sessions(db: Path, member_id: int) -> None:
    """RECORDED_FOR_CHARTS written through the store, a day apart, so each chart value is known."""
    store = open_sqlite(db)
    for i, spec in enumerate(RECORDED_FOR_CHARTS):
        uuid = f"chart-{i}"
        store.open_session("corner-charts", uuid, 1_790_000_000 + i * 86400, member_id)
        for n, (depth, down, up, quality) in enumerate(spec["reps"], 1):
            rep = {"set_number": 1, "number": n, "exercise": "squat", "depth": depth, "down_s": down, "up_s": up,
                   "quality_score": quality}
            store.record_rep("corner-charts", uuid, rep)
        mean, peak = spec.get("set_hr", (None, None))
        store.record_set("corner-charts", uuid, {"number": 1, "exercise": "squat", "reps": len(spec["reps"]),
                                                 "hr_mean_bpm": mean, "hr_peak_bpm": peak})
        if "session_hr" in spec:
            mean, peak = spec["session_hr"]
            store.update_session("corner-charts", uuid, hr_mean_bpm=mean, hr_peak_bpm=peak)
    store.close()


def svg_of(page: str, kind: str, exercise: str | None = None) -> ET.Element:
    """The page's first chart of `kind` (with `exercise`: that exercise's one)."""
    start = page.index(f'<svg class="chart chart-{kind}"' + (f' data-exercise="{exercise}"' if exercise else ""))
    return ET.fromstring(page[start : page.index("</svg>", start) + len("</svg>")])


def plotted(svg: ET.Element, series: str) -> tuple[list[tuple[float, float]], list[str], list[list[tuple[float, float]]]]:
    """A series' points (cx, cy), their tooltips and its polylines' coordinates."""
    circles = [c for c in svg.iter(f"{SVG}circle") if c.get("data-series") == series]
    lines = [p for p in svg.iter(f"{SVG}polyline") if p.get("data-series") == series]
    return (
        [(float(c.attrib["cx"]), float(c.attrib["cy"])) for c in circles],
        [c.findtext(f"{SVG}title") or "" for c in circles],
        [[tuple(map(float, xy.split(","))) for xy in p.attrib["points"].split()] for p in lines],  # type: ignore[misc]
    )


def expected(values: list[float | None], low: float, top: float) -> list[tuple[float, float]]:
    """Where the chart must put each known value: slot middles across, `low`..`top` up."""
    from gymcorner.dashboard.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH

    slot = (WIDTH - LEFT - RIGHT) / len(values)
    plot_h = HEIGHT - TOP - BOTTOM
    return [(round(LEFT + slot * (i + 0.5), 1), round(TOP + plot_h * (1 - (v - low) / (top - low)), 1))
            for i, v in enumerate(values) if v is not None]  # fmt: skip


SVG = "{http://www.w3.org/2000/svg}"


def test_depth_tempo_and_heart_rate_charts_plot_the_stored_reps_and_sets(app_client: TestClient, db: Path) -> None:
    import numpy as np

    record_chart_sessions(db, 1)
    log_in(app_client, name="tess")
    page = app_client.get("/members/1").text

    depth = svg_of(page, "depth", "squat")
    means = [0.85, 0.65, None, 1.0]  # the mean of each session's reps
    points, titles, lines = plotted(depth, "mean depth")
    assert points == expected(means, 0.0, 1.0)
    assert titles == ["09-21 14:13: mean depth 0.85", "09-22 14:13: mean depth 0.65", "09-24 14:13: mean depth 1.00"]
    assert lines == [expected(means, 0.0, 1.0)[:2]]  # sessions 1-2 joined; the gap leaves session 4 alone
    (trend,) = [t for t in depth.iter(f"{SVG}line") if t.get("class") == "trend"]
    slope = np.polyfit([0, 1, 3], [0.85, 0.65, 1.0], 1)[0]
    assert trend.findtext(f"{SVG}title") == f"mean depth trend: {slope:+.3f} a session" and slope > 0

    tempo = svg_of(page, "tempo", "squat")
    for series, values in (("down", [1.5, 1.5, None, 2.5]), ("up", [0.6, 1.0, None, 1.25])):
        points, titles, _ = plotted(tempo, series)
        assert points == expected(values, 0.0, 2.5), series  # the axis: 0 to 2.5 s (the slowest, in half seconds)
        assert [t.split(": ", 1)[1] for t in titles] == [f"{series} {v:.1f} s" for v in values if v is not None]

    heart = svg_of(page, "heart-rate")
    for series, values in (("mean", [120.0, 110.0, None, 130.0]), ("peak", [150.0, 160.0, None, 170.0])):
        points, titles, _ = plotted(heart, series)
        assert points == expected(values, 100.0, 180.0), series  # 10 bpm below the lowest to 10 above the highest
        assert [t.split(": ", 1)[1] for t in titles] == [f"{series} {v:.0f} bpm" for v in values if v is not None]
    assert {"100", "140", "180"} <= {t.text for t in heart.iter(f"{SVG}text")}  # the axis is labelled so

    quality = svg_of(page, "quality")
    points, titles, _ = plotted(quality, "mean quality")
    assert points == expected([80.0, 60.0, None, 90.0], 0.0, 100.0)
    assert len([t for t in quality.iter(f"{SVG}line") if t.get("class") == "trend"]) == 1


MIXED_SESSIONS = (  # per session, its reps as (exercise, depth, down s, up s), in the order done
    [("squat", 0.9, 1.2, 0.8), ("squat", 0.7, 1.0, 0.6), ("push_up", 0.5, 0.8, 0.6), ("push_up", 0.6, 1.0, 0.4),
     ("push_up", 0.7, 0.6, 0.5)],
    [("push_up", 0.8, 1.4, 0.9), ("push_up", 0.9, 1.0, 0.7), ("bench_press", 1.7, 1.5, 1.1),
     ("bench_press", 2.3, 2.5, 1.3)],  # bench press: the label-free counter's amplitude in `depth`
    [("squat", 1.1, 2.0, 1.5)],  # deeper than the nominal bottom: the squat axis goes to 1.1
)  # fmt: skip


def record_mixed_sessions(db: Path, member_id: int, sessions: tuple[list[tuple[str, float, float, float]], ...],
                          first: int = 0) -> list[str]:  # fmt: skip
    """Each session's reps through the store, a set per exercise; the sessions' labels."""
    store = open_sqlite(db)
    labels = []
    for i, reps in enumerate(sessions, first):
        uuid, started = f"mixed-{i}", 1_790_000_000 + i * 86400
        store.open_session("corner-mixed", uuid, started, member_id)
        order = list(dict.fromkeys(x for x, *_ in reps))
        done: dict[str, int] = {}
        for exercise, depth, down, up in reps:
            done[exercise] = done.get(exercise, 0) + 1
            rep = {"set_number": order.index(exercise) + 1, "number": done[exercise], "exercise": exercise,
                   "depth": depth, "down_s": down, "up_s": up, "quality_score": 80}  # fmt: skip
            store.record_rep("corner-mixed", uuid, rep)
        labels.append(time.strftime("%m-%d %H:%M", time.gmtime(started)))
    store.close()
    return labels


def means_of(sessions: tuple[list[tuple[str, float, float, float]], ...], exercise: str, column: int) -> list[float | None]:
    """Per session, the mean of one column over that exercise's reps (None: no rep of it)."""
    return [statistics.fmean(v) if (v := [r[column] for r in reps if r[0] == exercise]) else None for reps in sessions]


def test_depth_and_tempo_are_charted_per_exercise_and_an_amplitude_is_no_depth(app_client: TestClient, db: Path) -> None:
    import numpy as np

    labels = record_mixed_sessions(db, 1, MIXED_SESSIONS)
    log_in(app_client, name="tess")
    page = app_client.get("/members/1").text
    drawn = re.findall(r'<svg class="chart chart-(depth|tempo)" data-exercise="([a-z_]+)"', page)
    assert drawn == [("depth", "push_up"), ("tempo", "push_up"), ("depth", "squat"), ("tempo", "squat"),
                     ("tempo", "bench_press")]  # the most reps first: 5 push-ups, 3 squats, 2 bench presses  # fmt: skip

    for exercise, name in (("squat", "squat"), ("push_up", "push_up")):
        means = means_of(MIXED_SESSIONS, exercise, 1)
        top = max([1.0, *(v for v in means if v is not None)])
        depth = svg_of(page, "depth", exercise)
        assert depth.findtext(f"{SVG}title") == f"{name}: mean rep depth per session (1: full range)"
        points, titles, _ = plotted(depth, "mean depth")
        assert points == expected(means, 0.0, top), exercise
        assert titles == [f"{label}: mean depth {v:.2f}" for label, v in zip(labels, means, strict=True) if v is not None]
        (trend,) = [t for t in depth.iter(f"{SVG}line") if t.get("class") == "trend"]
        known = [(i, v) for i, v in enumerate(means) if v is not None]
        slope = np.polyfit([i for i, _ in known], [v for _, v in known], 1)[0]
        assert trend.findtext(f"{SVG}title") == f"mean depth trend: {slope:+.3f} a session"
        tempo = svg_of(page, "tempo", exercise)
        assert tempo.findtext(f"{SVG}title") == f"{name}: rep tempo per session (seconds down, up)"
    assert svg_of(page, "depth", "squat").findtext(f"{SVG}title") != svg_of(page, "depth", "push_up").findtext(
        f"{SVG}title"
    )
    # the session mixing both: squat depth 0.8 and push-up depth 0.6, never their mix (0.68)
    assert "mean depth 0.80" in ET.tostring(svg_of(page, "depth", "squat"), encoding="unicode")
    assert "mean depth 0.68" not in page

    assert '<svg class="chart chart-depth" data-exercise="bench_press"' not in page
    assert "No depth chart for bench_press: counted without a joint-angle phase" in page
    bench = svg_of(page, "tempo", "bench_press")
    for series, column in (("down", 2), ("up", 3)):
        values = means_of(MIXED_SESSIONS, "bench_press", column)
        points, titles, _ = plotted(bench, series)
        assert points == expected(values, 0.0, 2.0), series  # the slowest mean is 2.0 s down: the axis to 2 s
        assert [t.split(": ", 1)[1] for t in titles] == [f"{series} {v:.1f} s" for v in values if v is not None]


def test_an_exercise_without_a_phase_has_no_depth_whichever_it_is(app_client: TestClient, db: Path) -> None:
    from gymcorner.coach.exercises import SELECTABLE
    from gymcorner.dashboard.progress import has_phase_depth

    label_free = ("bench_press", "front_raise", "sit_up", "cable_pushdown", "russian_twist")
    assert {str(x) for x in SELECTABLE if x != "plank" and not has_phase_depth(x)} == set(label_free)
    assert not has_phase_depth("unknown")  # counted before the recogniser made up its mind: an amplitude too
    record_mixed_sessions(db, 1, ([("sit_up", 0.9, 1.0, 1.0)], [("front_raise", 1.4, 0.9, 0.7)]))
    log_in(app_client, name="tess")
    page = app_client.get("/members/1").text
    assert "chart-depth" not in page and "No depth chart for front_raise, sit_up:" in page
    assert re.findall(r'chart-tempo" data-exercise="([a-z_]+)"', page) == ["front_raise", "sit_up"]  # 1 rep each
    record_mixed_sessions(db, 1, ([("squat", 0.9, 1.0, 1.0)],), first=2)  # the kept view is read again
    page = app_client.get("/members/1").text
    assert re.findall(r'chart-depth" data-exercise="([a-z_]+)"', page) == ["squat"]
    assert "No depth chart for front_raise, sit_up:" in page


def test_a_chart_with_nothing_recorded_says_so_instead_of_drawing_marks() -> None:
    from gymcorner.dashboard.charts import SessionPoint, heart_rate_chart, trend_of

    points = [SessionPoint("a", {"squat": 3}, None, 0), SessionPoint("b", {"squat": 2}, None, 0)]
    empty = heart_rate_chart(points)
    assert "nothing recorded yet" in empty and "<circle" not in empty and "<polyline" not in empty
    assert trend_of([None, 5.0, None]) is None  # one value is no trend
    at0, slope = trend_of([10.0, None, 14.0])  # type: ignore[misc]
    assert (at0, slope) == (10.0, 2.0)


# ------------------------------------------------------------------ a session's heart rate over time


def record_hr_session(db: Path, member_id: int | None, uuid: str) -> int:
    """A session with one rep starting at frame time 100 s and a strap's samples from 100 s to
    160 s (one a second, 120 to 160 bpm), with a dropout from 121 s to 139 s."""
    store = open_sqlite(db)
    store.open_session("corner-hr", uuid, 1_790_000_000, member_id)  # 2026-09-21
    store.record_rep("corner-hr", uuid, {"set_number": 1, "number": 1, "exercise": "squat", "start_t": 100.0})
    samples = [(100.0 + s, 120 + round(s * 40 / 60)) for s in range(61) if not 21 <= s <= 39]
    store.record_heart_rate("corner-hr", uuid, samples)
    session_id = int(store.sessions("corner-hr")[-1]["id"])
    store.close()
    return session_id


def test_a_session_page_draws_its_heart_rate_over_time_with_the_member_s_zones(
    app_client: TestClient, db: Path
) -> None:
    from gymcorner.dashboard.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH

    ana = record_hr_session(db, 1, "ana-hr")  # born 1990, no maximum given: 208 - 0.7 x 36 = 182.8 bpm
    guest = record_hr_session(db, None, "guest-hr")
    log_in(app_client, name="ana")
    page = app_client.get(f"/sessions/{ana}").text
    curve = svg_of(page, "hr-curve")
    lines = [p for p in curve.iter(f"{SVG}polyline") if p.get("class") == "line"]
    runs = [[tuple(map(float, xy.split(","))) for xy in p.attrib["points"].split()] for p in lines]
    assert [len(r) for r in runs] == [21, 21]  # 100-120 s and 140-160 s: the dropout is a gap, not a line

    def at(t_s: float, bpm: float) -> tuple[float, float]:  # the axis: 0 to 60 s across, 110 to 170 bpm up
        x = LEFT + (WIDTH - LEFT - RIGHT) * t_s / 60
        return round(x, 1), round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - (bpm - 110) / 60), 1)

    assert runs[0][0] == at(0, 120) and runs[1][-1] == at(60, 160) and runs[1][0] == at(40, 147)
    zones = {int(r.attrib["data-zone"]): r.findtext(f"{SVG}title") for r in curve.iter(f"{SVG}rect")
             if r.get("class") == "zone"}  # fmt: skip
    assert sorted(zones) == [2, 3, 4, 5]  # zone 1 (91-110 bpm) is below what the axis shows
    assert zones[3] == "zone 3: 128-146 bpm (70-80 % of 183)"
    (peak,) = [c for c in curve.iter(f"{SVG}circle") if "peak" in (c.get("class") or "")]
    assert peak.findtext(f"{SVG}title") == "peak 160 bpm at 1:00; mean 140 bpm over 42 samples"
    assert "zones from a maximum of 183 bpm" in page and "42 samples" in page

    log_in(app_client, name="tess")
    guest_page = app_client.get(f"/sessions/{guest}").text
    assert not [r for r in svg_of(guest_page, "hr-curve").iter(f"{SVG}rect") if r.get("class") == "zone"]
    assert "no zones: the maximum heart rate is not known" in guest_page
    store = open_sqlite(db)
    store.open_session("corner-hr", "no-strap", 1_790_000_000, 1)
    bare = int(store.sessions("corner-hr")[-1]["id"])
    store.close()
    bare_page = app_client.get(f"/sessions/{bare}").text
    assert "No heart-rate samples in this session" in bare_page and "chart-hr-curve" not in bare_page
    ben = TestClient(app_client.app, client=("10.0.4.1", 1), follow_redirects=False)
    store = open_sqlite(db)
    add_user(store, "ben", "member", PASSWORD, member_id=2)
    store.close()
    log_in(ben, name="ben")
    assert ben.get(f"/sessions/{ana}").status_code == 403  # Ana's heart rate is hers


def test_a_long_curve_is_thinned_to_about_a_point_a_pixel_and_keeps_its_shape() -> None:
    from gymcorner.dashboard.charts import CURVE_POINTS, hr_curve_chart

    hour = [(float(t), 100.0 + (t % 600) / 10) for t in range(3600)]  # an hour, a saw tooth
    svg = ET.fromstring(hr_curve_chart(hour, 190.0))
    (line,) = [p for p in svg.iter(f"{SVG}polyline") if p.get("class") == "line"]
    points = line.attrib["points"].split()
    assert CURVE_POINTS // 2 <= len(points) <= CURVE_POINTS
    highest = min(float(p.split(",")[1]) for p in points)  # the teeth keep their height (within 1 bpm)
    from gymcorner.dashboard.charts import _y

    assert _y(160.0, 170.0, 90.0) <= highest <= _y(158.9, 170.0, 90.0)
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "label"]
    assert labels == ["0:00", "10:00", "20:00", "30:00", "40:00", "50:00"]  # minutes:seconds, round steps


# ------------------------------------------------------------------ a session's replay


def test_the_session_page_replays_the_landmarks_that_follow_the_page_s_access_rules(
    app_client: TestClient, db: Path
) -> None:
    from test_history_members import squat_avatar_frames

    from gymcorner.history.landmark_codec import unpack

    sessions_for(db, 1, workouts=1)  # Ana's
    sessions_for(db, None, workouts=1)  # a guest's
    store = open_sqlite(db)
    ana_id, guest_id = (s["id"] for s in store.sessions())
    store.open_session("corner-x", "no-landmarks", 1_790_000_000, 1)
    bare_id = store.sessions("corner-x")[0]["id"]
    store.close()
    assert app_client.get(f"/api/sessions/{ana_id}/landmarks").json() == {"error": "log in first"}

    log_in(app_client, name="ana")
    page = app_client.get(f"/sessions/{ana_id}")
    assert page.status_code == 200
    assert f'data-src="/api/sessions/{ana_id}/landmarks" data-origin="0.000"' in page.text
    assert '<script type="module" src="/static/replay.js"></script>' in page.text
    assert 'id="replay-play"' in page.text and 'id="replay-time" type="range" min="0" max="5.9"' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "script-src" not in app_client.get("/members/1").headers["content-security-policy"]  # only this page
    answer = app_client.get(f"/api/sessions/{ana_id}/landmarks")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["cache-control"] == "no-store"
    frames = unpack(answer.content)
    recorded = squat_avatar_frames()[0]
    assert len(frames) == 60 and recorded.world_m is not None
    assert abs(frames.world_m[0] - recorded.world_m).max() <= 0.0005 + 1e-9  # the clip's first frame, to the mm
    assert app_client.get(f"/api/sessions/{guest_id}/landmarks").json() == {"error": "this is another member's data"}
    assert app_client.get(f"/api/sessions/{guest_id}/landmarks").status_code == 403
    assert app_client.get(f"/sessions/{guest_id}").status_code == 403
    bare = app_client.get(f"/sessions/{bare_id}").text
    assert "No landmarks were kept for this session" in bare and "<script" not in bare

    log_in(app_client, name="tess")
    assert len(unpack(app_client.get(f"/api/sessions/{guest_id}/landmarks").content)) == 60  # staff: every session
    assert app_client.get("/api/sessions/999/landmarks").status_code == 404
    anonymous = TestClient(app_client.app, follow_redirects=False)
    for script, defines in (("replay.js", "export function decodeLandmarks"), ("skeleton.js", "export const CONNECTIONS")):
        served = anonymous.get(f"/static/{script}")  # code, no data: no login needed, as for the style sheet
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/javascript")
        assert defines in served.text and "http" not in served.text  # nothing fetched from elsewhere


# ------------------------------------------------------------------ users: roles and deleting (admin)


def role_of(db: Path, name: str) -> tuple[str, int | None]:
    store = open_sqlite(db)
    user = find_user(store, name)
    store.close()
    assert user is not None
    return user.role, user.member_id


def test_an_admin_changes_a_user_s_role_and_it_applies_at_once(app_client: TestClient, db: Path) -> None:
    tess = other_client(app_client, "10.0.5.1")
    log_in(tess, name="tess")
    assert tess.get("/users/1").status_code == 403  # a trainer changes nobody's role
    assert tess.post("/users/2/role", data={"csrf": form_token(tess), "role": "admin"}).status_code == 403
    assert role_of(db, "tess") == ("trainer", None)
    log_in(app_client)
    assert 'href="/users/2"' in app_client.get("/users").text
    page = app_client.get("/users/2")
    assert page.status_code == 200 and "<h1>User tess</h1>" in page.text
    token = csrf_of(page.text)
    assert app_client.post("/users/2/role", data={"csrf": "forged", "role": "admin"}).status_code == 403
    mistakes = (
        ({"role": "root"}, 400, "role 'root' is not one of admin, trainer, member"),
        ({"role": "member"}, 400, "a member login names its member, and only a member login does"),
        ({"role": "member", "member": "Zed"}, 400, "no member 'Zed'"),
    )
    for data, status, expected in mistakes:
        r = app_client.post("/users/2/role", data={"csrf": token, **data})
        assert (r.status_code, alert(r.text)) == (status, expected), data
    assert role_of(db, "tess") == ("trainer", None) and tess.get("/members").status_code == 200  # nothing changed

    r = app_client.post("/users/2/role", data={"csrf": token, "role": "admin"})
    assert r.status_code == 200 and alert(r.text) == "'tess' is now admin; their open logins have ended"
    assert role_of(db, "tess") == ("admin", None)
    assert tess.get("/members").status_code == 303  # her open login ended: the next one has the new role
    log_in(tess, name="tess")
    assert tess.get("/users").status_code == 200
    r = app_client.post("/users/2/role", data={"csrf": token, "role": "member", "member": "ana silva"})
    assert r.status_code == 200 and role_of(db, "tess") == ("member", 1)
    log_in(tess, name="tess")
    assert tess.get("/").headers["location"] == "/members/1" and tess.get("/members/2").status_code == 403
    r = app_client.post("/users/2/role", data={"csrf": token, "role": "trainer", "member": "ana silva"})
    assert r.status_code == 200 and role_of(db, "tess") == ("trainer", None)  # only a member login names one
    assert app_client.get("/users/99").status_code == 404
    assert app_client.post("/users/99/role", data={"csrf": token, "role": "admin"}).status_code == 404


def test_the_last_admin_can_be_neither_demoted_nor_deleted(app_client: TestClient, db: Path) -> None:
    log_in(app_client)
    token = form_token(app_client, "/users/1")
    r = app_client.post("/users/1/role", data={"csrf": token, "role": "trainer"})
    assert r.status_code == 409
    assert alert(r.text) == "'boss' is the last admin and stays one: make another user an admin first"
    r = app_client.post("/users/1/delete", data={"csrf": token, "confirm": "yes"})
    assert r.status_code == 409
    assert alert(r.text) == "'boss' is the last admin and cannot be deleted: make another user an admin first"
    assert role_of(db, "boss") == ("admin", None) and app_client.get("/users").status_code == 200

    assert app_client.post("/users/2/role", data={"csrf": token, "role": "admin"}).status_code == 200
    r = app_client.post("/users/1/role", data={"csrf": token, "role": "trainer"})  # another admin is left: allowed
    assert r.status_code == 200 and alert(r.text) == "'boss' is now trainer; their open logins have ended"
    assert 'href="/login"' in r.text and f"{SESSION_COOKIE}=" in r.headers["set-cookie"]  # this browser too
    assert app_client.get("/members").status_code == 303
    tess = other_client(app_client, "10.0.6.1")
    log_in(tess, name="tess")
    r = tess.post("/users/2/delete", data={"csrf": form_token(tess, "/users/2"), "confirm": "yes"})
    assert r.status_code == 409 and "'tess' is the last admin and cannot be deleted" in alert(r.text)
    assert role_of(db, "tess") == ("admin", None)


def test_an_admin_deletes_a_login_but_never_the_member_s_data(app_client: TestClient, db: Path) -> None:
    sessions_for(db, 1, workouts=1)
    ana = other_client(app_client, "10.0.7.1")
    log_in(ana, name="ana")
    assert ana.get("/members/1").status_code == 200
    tess = other_client(app_client, "10.0.7.2")
    log_in(tess, name="tess")
    assert tess.post("/users/3/delete", data={"csrf": form_token(tess), "confirm": "yes"}).status_code == 403
    log_in(app_client)
    page = app_client.get("/users/3")
    assert "Delete the login of ana" in page.text and "Ana Silva" in page.text  # the member it names
    token = csrf_of(page.text)
    assert app_client.post("/users/3/delete", data={"csrf": "forged", "confirm": "yes"}).status_code == 403
    assert app_client.post("/users/3/delete", data={"csrf": token}).status_code == 400  # not from its page
    assert ana.get("/members/1").status_code == 200  # nothing happened yet

    r = app_client.post("/users/3/delete", data={"csrf": token, "confirm": "yes"})
    assert r.status_code == 200 and alert(r.text) == "deleted the login of 'ana' (member)"
    assert ana.get("/members/1").status_code == 303  # her open login ended with it
    assert log_in(other_client(app_client, "10.0.7.3"), name="ana").status_code == 401
    assert [m["display_name"] for m in app_client.get("/api/members").json()] == ["Ana Silva", "Ben"]
    assert app_client.get("/api/members/1/sessions").json()[0]["reps"] == 2  # her history stays
    assert app_client.post("/users/3/delete", data={"csrf": token, "confirm": "yes"}).status_code == 404


# ------------------------------------------------------------------ editing and deleting notes


def test_a_trainer_edits_and_deletes_their_own_note_and_an_admin_any(app_client: TestClient, db: Path) -> None:
    sessions_for(db, 1, workouts=2)
    store = open_sqlite(db)
    add_user(store, "tom", "trainer", PASSWORD)
    first, second = (s["id"] for s in store.sessions())
    tess_note = store.add_note(first, "tess", "trainer", "Knees out")["id"]
    tom_note = store.add_note(first, "tom", "trainer", "Chest up")["id"]
    rev = store.session(first)["rev"]
    store.close()
    tess = other_client(app_client, "10.0.8.1")
    log_in(tess, name="TESS")  # names ignore case: still her note
    page = tess.get(f"/sessions/{first}").text
    assert page.count("Edit or delete</a>") == 1 and f"/notes/{tess_note}/edit" in page  # hers only
    token = csrf_of(page)
    for method, path in (("GET", "edit"), ("POST", "edit"), ("POST", "delete")):
        r = tess.request(method, f"/sessions/{first}/notes/{tom_note}/{path}",
                         data={"csrf": token, "text": "mine now", "confirm": "yes"})  # fmt: skip
        assert r.status_code == 403 and alert(r.text) == "only the note's author or an admin may change a note"
    edit = f"/sessions/{first}/notes/{tess_note}/edit"
    form = tess.get(edit)
    assert form.status_code == 200 and ">Knees out</textarea>" in form.text
    assert tess.post(edit, data={"csrf": "forged", "text": "forged"}).status_code == 403
    r = tess.post(edit, data={"csrf": token, "text": "   "})
    assert r.status_code == 400 and alert(r.text) == "a note needs some text"
    r = tess.post(edit, data={"csrf": token, "text": "z" * 2001})
    assert r.status_code == 400 and "at most 2000 characters" in alert(r.text) and "z" * 2001 in r.text  # kept
    assert tess.get(f"/sessions/{second}/notes/{tess_note}/edit").status_code == 404  # not that session's note
    assert tess.get(f"/sessions/{first}/notes/999/edit").status_code == 404

    r = tess.post(edit, data={"csrf": token, "text": "Knees out, <3 s> down"})
    assert r.status_code == 303 and r.headers["location"] == f"/sessions/{first}#note-{tess_note}"
    page = tess.get(f"/sessions/{first}").text
    shown = notes_of(page)
    assert shown[0][0] == "Knees out, &lt;3 s&gt; down" and ", edited 20" in shown[0][1]
    assert shown[1] == ("Chest up", shown[1][1]) and "edited" not in shown[1][1]
    store = open_sqlite(db)
    (kept,) = [n for n in store.rows("notes", first) if n["id"] == tess_note]
    assert kept["text"] == "Knees out, <3 s> down" and kept["edited_at"] >= kept["written_at"]
    assert store.session(first)["rev"] > rev  # the edit goes up to the chain with the session
    store.close()
    delete = f"/sessions/{first}/notes/{tess_note}/delete"
    assert tess.post(delete, data={"csrf": token}).status_code == 400  # not from the note's page
    assert tess.post(delete, data={"csrf": token, "confirm": "yes"}).status_code == 303
    assert [t for t, _ in notes_of(tess.get(f"/sessions/{first}").text)] == ["Chest up"]

    ana = other_client(app_client, "10.0.8.2")
    log_in(ana, name="ana")
    assert "Edit or delete" not in ana.get(f"/sessions/{first}").text
    assert ana.get(f"/sessions/{first}/notes/{tom_note}/edit").status_code == 403  # a member changes no note
    log_in(app_client)  # an admin changes any note
    token = form_token(app_client, f"/sessions/{first}")
    r = app_client.post(f"/sessions/{first}/notes/{tom_note}/edit", data={"csrf": token, "text": "Chest up, boss"})
    assert r.status_code == 303
    assert [t for t, _ in notes_of(app_client.get(f"/sessions/{first}").text)] == ["Chest up, boss"]
    r = app_client.post(f"/sessions/{first}/notes/{tom_note}/delete", data={"csrf": token, "confirm": "yes"})
    assert r.status_code == 303
    assert "No notes yet." in app_client.get(f"/sessions/{first}").text
    assert app_client.post(f"/sessions/{first}/notes/{tom_note}/delete",
                           data={"csrf": token, "confirm": "yes"}).status_code == 404  # fmt: skip
