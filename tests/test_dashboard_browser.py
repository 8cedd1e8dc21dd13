"""The dashboard end to end in headless Chromium: the real command on a free loopback port.

`gymcorner dashboard` serves a real SQLite file; Chromium logs in, adds a member through the
form, and opens the member's page after sessions were recorded for them by the real
history sink (as the daemon records them, while the dashboard is running). The page must
draw the SVG charts with one mark per session (two for tempo: down and up), and a note is
written on a session; screenshots of the member, session and plan pages are saved under
the test's tmp_path (their paths are printed). Then the whole path on the real daemon: a
member added in Chromium, their session started from their page, a clip coached by `gymcorner
run` with a real Mosquitto, and the session's reps, charts and replay on the member's page.
The same command with `--database` serves a
chain's real PostgreSQL server that two boxes uploaded to: the boxes' labels, the filter
by box, a member's charts, and a session page that says where its replay is.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mqtt_helpers import MqttSubscriber, free_port, wait_until
from test_history_members import sessions_for
from test_web_viewer import CHROMIUM_FLAGS, find_browser

from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.users import add_user

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium, driver_path = find_browser()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1400")
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def _accepts(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def serve(data: Path | None, *args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`gymcorner dashboard` on a free loopback port (unless args name one) until the block
    ends, on the history file in `data` (None: args name the database)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "edge"))
    where = ["--data-dir", str(data)] if data is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "gymcorner", "dashboard", "--port", str(port), *where, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: _accepts(port) or proc.poll() is not None, 30, "the dashboard to listen")
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def with_admin(data: Path) -> Path:
    db = data / "history.sqlite3"
    store = open_sqlite(db)
    add_user(store, "boss", "admin", PASSWORD)
    store.close()
    return db


def log_in(browser: Any, base: str, landing: str) -> Any:
    """Log in as the admin on the login page the browser shows; waits for `landing` and
    returns a WebDriverWait for what the test does next."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element(By.NAME, "name").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait = WebDriverWait(browser, 30)  # a click returns before the next page has loaded
    wait.until(until.url_to_be(f"{base}{landing}"))
    return wait


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = with_admin(tmp_path / "data")
    with serve(tmp_path / "data") as (port, _):
        yield f"http://127.0.0.1:{port}", db


def test_it_listens_on_loopback_only_unless_told_and_serves_tls_with_secure_cookies(tmp_path: Path) -> None:
    import psutil

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not found (Debian: apt install openssl)")
    with_admin(tmp_path / "data")
    with serve(tmp_path / "data") as (port, proc):
        server = psutil.Process(proc.pid)
        sockets = server.net_connections(kind="inet") if hasattr(server, "net_connections") else server.connections()
        listening = {c.laddr.ip for c in sockets if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    config = tmp_path / "site.toml"
    config.write_text(f'[dashboard]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
    with serve(tmp_path / "data", "--config", str(config)) as (port, _):
        context = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
        conn.request("GET", "/members")
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 303 and answer.getheader("location") == "/login?next=/members"
        conn.request("GET", "/login")
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200
        cookie = answer.getheader("set-cookie") or ""
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        conn.close()
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with pytest.raises((http.client.HTTPException, OSError)):  # no clear-text answer on a TLS port
            plain.request("GET", "/login")
            plain.getresponse().read()


def test_log_in_add_a_member_and_see_their_sessions_charted(
    browser: Any, dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import Select

    base, db = dashboard
    browser.get(f"{base}/members")
    assert browser.current_url.startswith(f"{base}/login?next=/members")
    wait = log_in(browser, base, "/members")
    cookie = browser.get_cookie("gymcorner_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    browser.find_element(By.LINK_TEXT, "Add a member").click()
    wait.until(until.presence_of_element_located((By.NAME, "display_name"))).send_keys("Ana Silva")
    browser.find_element(By.NAME, "birth_year").send_keys("1990")
    Select(browser.find_element(By.NAME, "goal")).select_by_value("strength")
    Select(browser.find_element(By.NAME, "level")).select_by_value("beginner")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Ana Silva"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ana Silva"
    member_url = browser.current_url
    member_id = int(member_url.rsplit("/", 1)[1])
    assert "No sessions recorded yet." in browser.page_source

    browser.get(f"{base}/members/new")  # the same name again: one clear line, the form kept
    browser.find_element(By.NAME, "display_name").send_keys("ana silva")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    alert = wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]"))).text
    assert alert == "a member named 'ana silva' already exists (names ignore case)"

    sessions_for(db, member_id, workouts=3)  # the daemon's sink writes while the dashboard runs
    browser.get(member_url)
    charts = (("reps", "rect.bar", 3), ("quality", "circle.point", 3), ("faults", "rect.bar", 3),
              ("depth", "circle.point", 3), ("tempo", "circle.point", 6))  # fmt: skip
    for kind, mark, count in charts:
        chart = browser.find_element(By.CSS_SELECTOR, f"svg.chart-{kind}")
        assert chart.is_displayed() and chart.size["width"] > 300 and chart.size["height"] > 150
        marks = chart.find_elements(By.CSS_SELECTOR, mark)
        assert len(marks) == count, kind
        assert all(m.size["height"] > 0 for m in marks), kind
    heart = browser.find_element(By.CSS_SELECTOR, "svg.chart-heart-rate")  # no strap in these sessions
    assert heart.is_displayed() and "nothing recorded yet" in heart.text
    shots = {"member": tmp_path / "dashboard_member.png"}
    browser.save_screenshot(str(shots["member"]))

    browser.find_elements(By.CSS_SELECTOR, "table.sessions a")[0].click()
    wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Session "))
    assert "knee_valgus" in browser.find_element(By.CSS_SELECTOR, "table.reps").text
    curve = browser.find_element(By.CSS_SELECTOR, "svg.chart-hr-curve")  # the strap's samples over the session
    assert curve.is_displayed() and curve.find_elements(By.CSS_SELECTOR, "polyline.line")
    assert len(curve.find_elements(By.CSS_SELECTOR, "rect.zone")) >= 1  # born 1990: the zones are known
    shots["replay"] = watch_the_replay(browser, wait, tmp_path)
    browser.find_element(By.NAME, "text").send_keys("Knees out on the way up; try 2 s down.")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/notes'] button").click()
    wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "li.note")))
    assert browser.find_element(By.CSS_SELECTOR, "li.note").text.startswith("Knees out on the way up; try 2 s down.\nboss (admin), ")
    shots["session"] = tmp_path / "dashboard_session.png"
    browser.save_screenshot(str(shots["session"]))

    browser.get(f"{member_url}/plan")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Plan for Ana Silva"
    assert "acsm-2009" in browser.find_element(By.CSS_SELECTOR, "table.plan").text
    shots["plan"] = tmp_path / "dashboard_plan.png"
    browser.save_screenshot(str(shots["plan"]))
    for name, path in shots.items():
        assert path.stat().st_size > 10_000, name
        print(f"screenshot {name}: {path}")

    browser.find_element(By.CSS_SELECTOR, "nav form button").click()  # log out
    wait.until(until.url_contains("/login"))
    browser.get(member_url)
    assert browser.current_url.startswith(f"{base}/login")


def test_every_page_of_the_menu_opens_for_an_admin_and_a_member_s_menu_is_their_own(
    browser: Any, dashboard: tuple[str, Path], tmp_path: Path
) -> None:
    """The login page and each page the admin's menu links to, in Chromium, one screenshot
    each; a member's login shows their own history and nothing of anyone else's."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until

    base, db = dashboard
    store = open_sqlite(db)
    ana = store.add_member("Ana Silva", birth_year=1990).id
    bo = store.add_member("Bo Lind", birth_year=1975).id
    add_user(store, "ana", "member", PASSWORD, member_id=ana)
    store.close()
    sessions_for(db, ana, workouts=2)
    sessions_for(db, bo, workouts=1)
    shots = []

    def shoot(name: str) -> None:
        shots.append(tmp_path / f"dashboard_{name}.png")
        browser.save_screenshot(str(shots[-1]))

    browser.get(f"{base}/")
    assert browser.current_url.startswith(f"{base}/login")
    shoot("login")
    wait = log_in(browser, base, "/members")
    menu = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    assert menu == ["Members", "Sessions", "Boxes", "Users", "Password", "Live view"]  # the viewer: its own server
    pages = {"Members": ("Members", "table.members"), "Sessions": ("Sessions", "table.sessions"),
             "Boxes": ("Boxes", "table.boxes-list"), "Users": ("Dashboard users", "table.users"),
             "Password": ("Change your password", "form input[type=password]")}  # fmt: skip
    for link, (title, content) in pages.items():
        browser.find_element(By.LINK_TEXT, link).click()
        wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), title))
        assert browser.find_elements(By.CSS_SELECTOR, content), link
        assert not browser.find_elements(By.CSS_SELECTOR, "[role=alert]"), link
        shoot(link.lower())
    browser.get(f"{base}/sessions")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.sessions tbody tr")) == 3  # everyone's
    browser.find_element(By.CSS_SELECTOR, "nav form button").click()  # log out
    wait.until(until.url_contains("/login"))

    browser.get(f"{base}/login")
    browser.find_element(By.NAME, "name").send_keys("ana")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Ana Silva"))
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav a")] == ["My history", "Password", "Live view"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.sessions tbody tr")) == 2
    shoot("member_login")
    browser.get(f"{base}/members/{bo}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed" and "Bo Lind" not in browser.page_source
    for path in shots:
        assert path.stat().st_size > 10_000, path.name
        print(f"screenshot: {path}")


def lit_pixels(browser: Any) -> int:
    """Pixels of the replay canvas that are not its background: the figure drawn."""
    return int(browser.execute_script(
        "const c = document.getElementById('replay-canvas');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        "for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0x11) + Math.abs(d[i + 1] - 0x15) +"
        " Math.abs(d[i + 2] - 0x1c) > 60) n++; return n;"))  # fmt: skip


def watch_the_replay(browser: Any, wait: Any, tmp_path: Path) -> Path:
    """The session's replay: it loads the landmarks, draws the figure, plays, pauses, seeks,
    and turns to the side view; a screenshot of it is returned."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    canvas = browser.find_element(By.ID, "replay-canvas")
    wait.until(lambda _: canvas.get_attribute("data-state") == "paused")
    assert canvas.get_attribute("data-frames") == "60" and canvas.get_attribute("data-shown") == "0"
    assert lit_pixels(browser) > 300, "the first frame's figure is drawn"
    first = browser.execute_script("return document.getElementById('replay-canvas').toDataURL()")
    play = browser.find_element(By.ID, "replay-play")
    play.click()
    wait.until(lambda _: int(canvas.get_attribute("data-shown")) > 10)  # it moves on with the clock
    assert play.text == "Pause" and play.get_attribute("aria-pressed") == "true"
    play.click()
    shown = canvas.get_attribute("data-shown")
    assert play.text == "Play" and canvas.get_attribute("data-state") == "paused"
    assert canvas.get_attribute("data-shown") == shown  # paused: it stays
    browser.execute_script(
        "const s = document.getElementById('replay-time'); s.value = '3.1'; s.dispatchEvent(new Event('input'));")
    wait.until(lambda _: canvas.get_attribute("data-shown") == "30")  # the newest at 3.1 s: the clip's 3.003 s
    assert browser.find_element(By.ID, "replay-clock").text == "0:03 / 0:06"
    assert browser.execute_script("return document.getElementById('replay-canvas').toDataURL()") != first
    Select(browser.find_element(By.ID, "replay-view")).select_by_value("side")
    assert lit_pixels(browser) > 300
    browser.execute_script("document.getElementById('replay').scrollIntoView()")
    shot = tmp_path / "dashboard_replay.png"
    browser.save_screenshot(str(shot))
    browser.execute_script("window.scrollTo(0, 0)")
    return shot


@pytest.mark.broker
def test_the_start_session_button_reaches_the_corner_named_in_the_config(
    browser: Any, tmp_path: Path, mosquitto_broker
) -> None:
    """The real command builds its MQTT link from [mqtt] and [device]; a click in Chromium
    sends start_session to that device and the page shows its reply."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from test_dashboard_corner import FakeDevice

    db = with_admin(tmp_path / "data")
    store = open_sqlite(db)
    ana = store.add_member("Ana Silva")
    store.close()
    config = tmp_path / "site.toml"
    config.write_text(f'[device]\nid = "corner-7"\n[mqtt]\nhost = "{mosquitto_broker.host}"\n'
                      f"port = {mosquitto_broker.port}\npassword_env = \"\"\n")  # fmt: skip
    device = FakeDevice(mosquitto_broker.host, mosquitto_broker.port,
                        lambda cmd: {"ok": True, "member": "Ana Silva", "member_id": int(cmd["args"]["member"])},
                        device_id="corner-7")  # fmt: skip
    try:
        with serve(tmp_path / "data", "--config", str(config)) as (port, _):
            base = f"http://127.0.0.1:{port}"
            browser.get(f"{base}/login?next=/members/{ana.id}")
            wait = log_in(browser, base, f"/members/{ana.id}")
            button = browser.find_element(By.XPATH, "//button[starts-with(., 'Start session for this member')]")
            assert button.text == "Start session for this member on corner-7"
            button.click()
            alert = wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]"))).text
            assert alert == "corner-7 coaches Ana Silva now: their session has started"
            shot = tmp_path / "dashboard_start_session.png"
            browser.save_screenshot(str(shot))
            print(f"screenshot start session: {shot}")
    finally:
        device.close()
    (command,) = device.commands
    assert (command["cmd"], command["args"]) == ("start_session", {"member": str(ana.id)})


DAEMON_CLIP = "navya_squat_form/correct/squat_correct_strongher_side.mp4"  # 5 squats, side view, ~2.5 s apart


def members_reps(db: Path, member_id: int) -> int:
    """The member's reps in the file now (a second reader beside the daemon's writer: WAL)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM reps JOIN sessions ON sessions.id = reps.session_id WHERE sessions.member_id = ?",
            (member_id,),
        ).fetchone()
    return int(row[0])


@pytest.mark.shared_data
@pytest.mark.broker
def test_a_clip_the_daemon_coaches_for_a_member_picked_in_chromium_shows_as_their_session(
    browser: Any, tmp_path: Path, mosquitto_broker
) -> None:
    """The whole path a gym owner takes: log in, add a member, start their session on the
    corner from the member's page, let the real daemon coach a real clip (paced like a
    camera), stop it as systemd would, and find the session with its reps, charts and replay."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import Select
    from shared_data import clip_path
    from test_daemon_e2e import daemon

    device = "corner-e2e"
    data = tmp_path / "data"
    db = with_admin(data)
    config = tmp_path / "box.toml"
    config.write_text(f'[device]\nid = "{device}"\n[source]\nuri = "{clip_path(DAEMON_CLIP)}"\n'
                      '[coach]\nexercise = "squat"\n'
                      f'[mqtt]\nhost = "{mosquitto_broker.host}"\nport = {mosquitto_broker.port}\n'
                      'reconnect_min_delay_s = 0.1\npassword_env = ""\n'
                      f'[history]\npath = "{db}"\n')  # fmt: skip
    topics = f"gymcorner/{device}"
    with (
        serve(data, "--config", str(config)) as (port, _),
        MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, f"{topics}/#") as sub,
    ):
        base = f"http://127.0.0.1:{port}"
        browser.get(f"{base}/members/new")
        wait = log_in(browser, base, "/members/new")
        browser.find_element(By.NAME, "display_name").send_keys("Ana Silva")
        browser.find_element(By.NAME, "birth_year").send_keys("1990")
        Select(browser.find_element(By.NAME, "goal")).select_by_value("strength")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Ana Silva"))
        member_url = browser.current_url
        member_id = int(member_url.rsplit("/", 1)[1])

        proc = daemon(config, "--loop", "--realtime")
        try:
            sub.wait_for_json(f"{topics}/status", lambda s: s["state"] == "online", timeout_s=60)
            browser.get(member_url)
            browser.find_element(By.XPATH, f"//button[.='Start session for this member on {device}']").click()
            alert = wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]"))).text
            assert alert == f"{device} coaches Ana Silva now: their session has started"
            wait_until(lambda: members_reps(db, member_id) >= 2, 120, "two of Ana's reps in the file")
        finally:
            proc.send_signal(signal.SIGTERM)  # as systemd stops the service
            out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out.decode(errors="replace")

        with contextlib.closing(sqlite3.connect(db)) as conn:
            kept = conn.execute("SELECT id, state, exercise, reps FROM sessions WHERE member_id = ?", (member_id,))
            ((session_id, state, exercise, reps),) = kept.fetchall()
        assert (state, exercise) == ("ended", "squat") and reps == members_reps(db, member_id) >= 2

        browser.get(member_url)
        (row,) = browser.find_elements(By.CSS_SELECTOR, "table.sessions tbody tr")
        assert "squat" in row.text and str(reps) in row.text.split()
        bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart-reps rect.bar")
        assert len(bars) == 1 and bars[0].size["height"] > 0
        assert browser.find_element(By.CSS_SELECTOR, "svg.chart-quality").is_displayed()
        member_shot = tmp_path / "dashboard_daemon_member.png"
        browser.save_screenshot(str(member_shot))

        row.find_element(By.TAG_NAME, "a").click()
        wait.until(until.url_to_be(f"{base}/sessions/{session_id}"))
        rep_rows = browser.find_elements(By.CSS_SELECTOR, "table.reps tbody tr")
        assert len(rep_rows) == reps and all("squat" in r.text for r in rep_rows)
        canvas = browser.find_element(By.ID, "replay-canvas")  # the daemon kept the landmarks, never an image
        wait.until(lambda _: canvas.get_attribute("data-state") == "paused")
        assert int(canvas.get_attribute("data-frames")) > 20 and lit_pixels(browser) > 300
        session_shot = tmp_path / "dashboard_daemon_session.png"
        browser.save_screenshot(str(session_shot))
    for path in (member_shot, session_shot):
        assert path.stat().st_size > 10_000
        print(f"screenshot: {path}")


def test_the_chain_s_dashboard_filters_by_box_in_chromium(browser: Any, tmp_path: Path) -> None:
    from postgres_helpers import fresh_database, running_server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from test_history_postgres import run_cli

    from gymcorner.history.postgres import open_postgres

    with running_server() as pg:
        url = fresh_database(pg)
        for box, workouts in (("gym-north-1", 2), ("gym-south-1", 1)):
            db = tmp_path / f"{box}.sqlite3"
            store = open_sqlite(db)
            ana = store.add_member("Ana Silva", birth_year=1990).id
            store.close()
            sessions_for(db, ana, workouts=workouts, device_id=box)
            run_cli(["history", "sync", "--to", url, "--db", str(db)])
        store = open_postgres(url)
        add_user(store, "boss", "admin", PASSWORD)
        store.close()
        with serve(None, "--database", url) as (port, proc):
            base = f"http://127.0.0.1:{port}"
            browser.get(f"{base}/login?next=/members")
            wait = log_in(browser, base, "/members")
            labels = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "table.members span.box")]
            assert labels == ["gym-north-1", "gym-south-1"]  # Ana's two boxes
            browser.find_element(By.LINK_TEXT, "Ana Silva").click()
            wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Ana Silva"))
            assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart-reps rect.bar")) == 3
            assert "open this member on the dashboard of the box" in browser.page_source  # no corner here
            browser.find_element(By.LINK_TEXT, "gym-north-1").click()  # the filter
            wait.until(until.presence_of_element_located((By.CSS_SELECTOR, "p.boxes strong")))
            assert browser.find_element(By.CSS_SELECTOR, "p.boxes strong").text == "gym-north-1"
            marks = browser.find_elements(By.CSS_SELECTOR, "svg.chart-reps rect.bar")
            assert len(marks) == 2 and all(m.size["height"] > 0 for m in marks)
            boxes = {b.text for b in browser.find_elements(By.CSS_SELECTOR, "table.sessions span.box")}
            assert boxes == {"gym-north-1"}
            shot = tmp_path / "dashboard_chain_member.png"
            browser.save_screenshot(str(shot))
            browser.find_elements(By.CSS_SELECTOR, "table.sessions a")[0].click()
            wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Session "))
            assert browser.find_element(By.CSS_SELECTOR, "svg.chart-hr-curve").is_displayed()
            said = browser.find_element(By.CSS_SELECTOR, "p.chain").text
            assert said.startswith("The replay stays on gym-north-1, the box that recorded it")
            assert not browser.find_elements(By.ID, "replay-canvas")
            session_shot = tmp_path / "dashboard_chain_session.png"
            browser.save_screenshot(str(session_shot))
            assert proc.poll() is None
        for path in (shot, session_shot):
            assert path.stat().st_size > 10_000
            print(f"screenshot: {path}")
