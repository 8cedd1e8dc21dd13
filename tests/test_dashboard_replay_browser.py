"""A long session's replay in headless Chromium: it loads in pages as it plays.

The real `gymcorner dashboard` serves a session of 7,500 frames (12.8 min, 150 chunks: seven
pages of 24); the slider spans the whole session once the first page is in, while only that
page and the next one were fetched (counted by the browser's own resource timing, not by the
replay's code). A seek far ahead fetches the page that holds that moment, playing on crosses
into the page fetched ahead (and fetches the one after it), and no more than four pages
are kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_dashboard_browser import PASSWORD, browser, dashboard  # noqa: F401  (fixtures)
from test_dashboard_replay_pages import frame_time, record_long_session

from gymcorner.history.sqlite import open_sqlite

FETCHED = (
    "return performance.getEntriesByType('resource').map((e) => e.name)"
    ".filter((name) => name.includes('/landmarks')).map((name) => name.split('?')[1] || '')"
)


def test_a_long_replay_spans_the_session_from_its_first_pages(browser: Any, dashboard: tuple[str, Path]) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    base, db = dashboard
    store = open_sqlite(db)
    session_id = record_long_session(store, None, 150)  # a guest's; frame n's time: frame_time(n)
    store.close()
    wait = WebDriverWait(browser, 30)
    browser.get(f"{base}/login?next=/sessions/{session_id}")
    browser.find_element(By.NAME, "name").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(until.url_to_be(f"{base}/sessions/{session_id}"))

    canvas = browser.find_element(By.ID, "replay-canvas")
    slider = browser.find_element(By.ID, "replay-time")
    wait.until(lambda _: canvas.get_attribute("data-state") == "paused" and canvas.get_attribute("data-pages") == "2")
    assert slider.get_attribute("max") == f"{frame_time(7499) - 100:.1f}" == "769.9"  # the whole session
    assert canvas.get_attribute("data-frames") == "7500" and canvas.get_attribute("data-shown") == "0"
    assert browser.find_element(By.ID, "replay-clock").text == "0:00 / 12:50"
    assert browser.execute_script(FETCHED) == ["from=0", "from=24"]  # the first page and the next: 2 of 7

    def seek(s: float) -> None:
        browser.execute_script(
            f"const s = document.getElementById('replay-time'); s.value = '{s}'; s.dispatchEvent(new Event('input'));")  # fmt: skip

    seek(700.0)  # 800 s on the frames' clock: frame 6800, in chunk 136, on the page from chunk 120
    wait.until(lambda _: canvas.get_attribute("data-shown") == "6800")
    assert browser.find_element(By.ID, "replay-status").text == "frame 6801 of 7500"
    wait.until(lambda _: len(browser.execute_script(FETCHED)) == 4)
    assert browser.execute_script(FETCHED)[2:] == ["from_s=700", "from=144"]  # the page that holds it, the next
    seek(45.0)  # in the 20 s nobody was in view (frames 0-399 end at 39.9 s)
    wait.until(lambda _: canvas.get_attribute("data-state") == "paused")
    assert canvas.get_attribute("data-shown") == "-1" and browser.find_element(By.ID, "replay-status").text == "nobody in view"

    seek(379.0)  # 0.9 s before the end of the page from chunk 48 (its last frame: 379.9 s)
    wait.until(lambda _: canvas.get_attribute("data-shown") == "3590")
    browser.find_element(By.ID, "replay-play").click()
    wait.until(lambda _: int(canvas.get_attribute("data-shown")) > 3605)  # on into the page fetched ahead
    browser.find_element(By.ID, "replay-play").click()
    wait.until(lambda _: len(browser.execute_script(FETCHED)) == 7)  # and that page's next, ahead again
    assert browser.execute_script(FETCHED)[4:] == ["from_s=379", "from=72", "from=96"]
    assert canvas.get_attribute("data-pages") == "4" and canvas.get_attribute("data-state") == "paused"
