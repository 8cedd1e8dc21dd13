"""The replay's landmarks in pages: `/api/sessions/N/landmarks?from=K&chunks=M` or `?from_s=S`.

A session long enough to need several pages is written through the history's own
`record_landmarks` (chunks of 50 frames at 10 Hz, with a stretch where nobody was in view).
Read page after page by the `x-landmark-next` cursor, every frame comes back once, in
order, and the pages one after another are byte for byte the whole stream the API served
in one response before (`session_landmarks`). The same paging runs on a real PostgreSQL
server through the same storage layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient
from test_dashboard import PASSWORD, app_client, clock, db, log_in  # noqa: F401  (fixtures)

from gymcorner.history.landmark_codec import CHUNK_FRAMES, LANDMARKS, unpack
from gymcorner.history.landmarks import landmark_page, record_landmarks, session_landmarks
from gymcorner.history.sqlite import open_sqlite
from gymcorner.history.store import Store
from gymcorner.history.users import add_user

HZ = 10.0
GAP_AFTER_CHUNK = 7  # nobody in view for GAP_S after this chunk
GAP_S = 20.0


def frame_time(n: int) -> float:
    """Frame n's time: 10 a second from 100 s, GAP_S later after the gap."""
    gap = GAP_S if n >= (GAP_AFTER_CHUNK + 1) * CHUNK_FRAMES else 0.0
    return 100.0 + n / HZ + gap


def record_long_session(store: Store, member_id: int | None, chunks: int, uuid: str = "long") -> int:
    """A session of `chunks` full chunks (frame n's nose x is n mm, so frames are told apart)."""
    store.open_session("corner-long", uuid, 1_790_000_000, member_id)
    for seq in range(chunks):
        frames = []
        for n in range(seq * CHUNK_FRAMES, (seq + 1) * CHUNK_FRAMES):
            world = np.zeros((LANDMARKS, 3))
            world[:, 1] = np.linspace(0.8, -0.9, LANDMARKS)
            world[0, 0] = n / 1000.0
            frames.append((frame_time(n), world, np.ones(LANDMARKS)))
        record_landmarks(store, "corner-long", uuid, seq, frames)
    return int(store.sessions("corner-long")[-1]["id"])


@pytest.fixture
def long_session(db: Path) -> int:  # noqa: F811
    store = open_sqlite(db)
    try:
        return record_long_session(store, 1, 40)  # Ana's: 2000 frames, 220 s
    finally:
        store.close()


def all_pages(c: TestClient, session_id: int, chunks: int) -> Iterator[tuple[int, bytes, dict[str, str]]]:
    cursor: str | None = "0"
    while cursor is not None:
        answer = c.get(f"/api/sessions/{session_id}/landmarks?from={cursor}&chunks={chunks}")
        assert answer.status_code == 200, answer.text
        yield int(cursor), answer.content, dict(answer.headers)
        cursor = answer.headers.get("x-landmark-next")


def test_the_pages_one_after_another_are_every_frame_once_in_order(
    app_client: TestClient,  # noqa: F811
    db: Path,  # noqa: F811
    long_session: int,
) -> None:
    store = open_sqlite(db)
    whole = session_landmarks(store, long_session)  # what the one response used to be
    store.close()
    log_in(app_client, name="ana")
    pages = list(all_pages(app_client, long_session, 7))
    assert [first for first, _, _ in pages] == [0, 7, 14, 21, 28, 35]
    assert b"".join(data for _, data, _ in pages) == whole
    seen = 0
    for first, data, headers in pages:
        frames = unpack(data)
        assert headers["x-landmark-format"] == "1" and headers["x-landmark-from"] == str(first)
        assert headers["x-landmark-chunks"] == "40" and headers["x-landmark-frames"] == "2000"
        assert (headers["x-landmark-t0"], headers["x-landmark-t1"]) == ("100.0", repr(frame_time(1999)))
        if first < 35:  # the moments this page holds: up to the next page's first frame
            assert float(headers["x-landmark-next-t0"]) == frame_time((first + 7) * CHUNK_FRAMES)
        assert headers["x-landmark-first-frame"] == str(seen)
        noses = np.round(frames.world_m[:, 0, 0] * 1000).astype(int)
        assert noses.tolist() == list(range(seen, seen + len(frames)))  # each frame once, in order
        assert np.all(np.diff(frames.t_s) > 0)
        seen += len(frames)
    assert seen == 2000 and "x-landmark-next" not in pages[-1][2] and "x-landmark-next-t0" not in pages[-1][2] and len(unpack(pages[-1][1])) == 5 * CHUNK_FRAMES

    first = app_client.get(f"/api/sessions/{long_session}/landmarks")  # no query: the first page of the default size
    assert first.headers["x-landmark-next"] == "24" and len(unpack(first.content)) == 24 * CHUNK_FRAMES
    past = app_client.get(f"/api/sessions/{long_session}/landmarks?from=40")
    assert past.status_code == 200 and past.content == b"" and "x-landmark-next" not in past.headers


def test_from_s_gives_the_page_that_holds_that_moment(
    app_client: TestClient,  # noqa: F811
    long_session: int,
) -> None:
    log_in(app_client, name="tess")

    def page_of(s: float, chunks: int = 7) -> tuple[int, np.ndarray]:
        answer = app_client.get(f"/api/sessions/{long_session}/landmarks?from_s={s}&chunks={chunks}")
        assert answer.status_code == 200, answer.text
        return int(answer.headers["x-landmark-from"]), unpack(answer.content).t_s

    assert page_of(0)[0] == 0 and page_of(0.0, 120)[0] == 0
    start, times = page_of(150.0)  # 150 s after the first frame: frame 1300 (after the gap), chunk 26
    assert start == 21 and times[0] - 100 <= 150.0 <= times[-1] - 100
    start, times = page_of(45.0)  # in the gap (frames end at 39.9 s, go on at 60 s): the page before it
    assert start == 7 and times[0] - 100 <= 45.0 and frame_time(399) in times
    assert page_of(10_000.0)[0] == 35  # past the end: the last page


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("from=-1", "from must be a chunk cursor"),
        ("from=abc", "from must be a chunk cursor"),
        ("from=1.5", "from must be a chunk cursor"),
        ("from=", "from must be a chunk cursor"),
        ("from=9999999999", "from must be a chunk cursor"),
        ("from_s=-0.1", "from_s must be seconds from 0 on"),
        ("from_s=soon", "from_s must be seconds from 0 on"),
        ("from_s=nan", "from_s must be seconds from 0 on"),
        ("from_s=inf", "from_s must be seconds from 0 on"),
        ("chunks=0", "chunks must be a whole number from 1 to 120"),
        ("chunks=121", "chunks must be a whole number from 1 to 120"),
        ("chunks=lots", "chunks must be a whole number from 1 to 120"),
        ("from=0&from_s=3", "give from (a chunk cursor) or from_s (seconds), not both"),
        ("page=2", "unknown parameter 'page'"),
    ],
)
def test_a_bad_page_query_is_400_with_one_line(
    app_client: TestClient,  # noqa: F811
    long_session: int,
    query: str,
    says: str,
) -> None:
    log_in(app_client, name="ana")
    answer = app_client.get(f"/api/sessions/{long_session}/landmarks?{query}")
    assert answer.status_code == 400
    (line,) = answer.json()["error"].splitlines()
    assert line.startswith(says)


def test_the_largest_page_is_the_bound(app_client: TestClient, long_session: int) -> None:  # noqa: F811
    log_in(app_client, name="ana")
    answer = app_client.get(f"/api/sessions/{long_session}/landmarks?chunks=120")
    assert answer.status_code == 200 and len(unpack(answer.content)) == 2000  # the whole of this one
    assert "x-landmark-next" not in answer.headers


def test_every_page_keeps_the_access_rules(
    app_client: TestClient,  # noqa: F811
    db: Path,  # noqa: F811
    long_session: int,
) -> None:
    queries = ("", "?from=7&chunks=7", "?from_s=150", "?chunks=999", "?from=-1")
    for query in queries:  # before the query is looked at: not logged in, not theirs
        answer = app_client.get(f"/api/sessions/{long_session}/landmarks{query}")
        assert (answer.status_code, answer.json()) == (401, {"error": "log in first"})
    store = open_sqlite(db)
    add_user(store, "ben", "member", PASSWORD, member_id=2)
    store.close()
    log_in(app_client, name="ben")
    for query in queries:
        answer = app_client.get(f"/api/sessions/{long_session}/landmarks{query}")
        assert (answer.status_code, answer.json()) == (403, {"error": "this is another member's data"})
    log_in(app_client, name="ana")
    assert app_client.get(f"/api/sessions/{long_session}/landmarks?from=7&chunks=7").status_code == 200


def test_the_same_pages_from_postgresql() -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")
    from postgres_helpers import fresh_database, running_server

    from gymcorner.history.landmarks import chunk_at
    from gymcorner.history.postgres import open_postgres

    with running_server() as pg:
        store = open_postgres(fresh_database(pg))
        try:
            session_id = record_long_session(store, None, 12)
            pages, cursor = [], 0
            while True:
                page = landmark_page(store, session_id, cursor, 5)
                pages.append(page)
                if page.next_chunk is None:
                    break
                cursor = page.next_chunk
            assert [(p.first_chunk, p.chunks, p.first_frame) for p in pages] == [(0, 5, 0), (5, 5, 250), (10, 2, 500)]
            assert [p.next_t0 for p in pages] == [frame_time(250), frame_time(500), None]
            assert b"".join(p.data for p in pages) == session_landmarks(store, session_id)
            assert pages[0].summary["frames"] == 600 and pages[0].summary["chunks"] == 12
            assert chunk_at(store, session_id, frame_time(420)) == 8 and chunk_at(store, session_id, 0.0) == 0
        finally:
            store.close()
