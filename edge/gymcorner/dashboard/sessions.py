"""A session's page: its sets and reps, its heart rate over time, its replay, the notes.

Who may see it, and its landmarks (`/api/sessions/N/landmarks`): staff every session, a
member login only the sessions of its own member (another's is 403). The heart-rate curve
is drawn on the server like the member's charts (inline SVG, `charts.hr_curve_chart`), with
the five zones behind it when the member's maximum heart rate is known (their profile's,
else from their age at the session). The replay is the one script of the dashboard
(static/replay.js, served from this box): it fetches the session's landmark chunks a page
at a time as it plays (docs/dashboard.md, "The replay's pages") and draws the stick figure
on a canvas, so this page alone allows scripts from 'self'. On a
chain's server there are no landmarks to replay (they stay on the box that recorded them):
the page says so and names the box.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gymcorner.dashboard.chain import no_replay
from gymcorner.dashboard.charts import hr_curve_chart
from gymcorner.dashboard.html import e, num, table, when
from gymcorner.dashboard.notes import notes_section
from gymcorner.dashboard.pages import not_yours, own
from gymcorner.dashboard.progress import faults_of
from gymcorner.dashboard.security import Login
from gymcorner.history.store import Member, Store

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard
    from gymcorner.history.landmarks import LandmarkPage

ANYONE = ("admin", "trainer", "member")
Row = dict[str, Any]


@dataclass(frozen=True)
class SessionRows:
    """What the session page shows, read in one go."""

    session: Row
    member: Member | None  # None: a guest's session
    sets: list[Row]
    reps: list[Row]
    notes: list[Row]
    hr_samples: list[Row]
    landmarks: dict[str, Any]  # landmarks.landmark_summary: frames, chunks, bytes, t0, t1


def read_session(store: Store, session_id: int) -> SessionRows:
    from gymcorner.history.landmarks import landmark_summary

    session = store.session(session_id)
    member = store.member(session["member_id"]) if session["member_id"] is not None else None
    return SessionRows(
        session,
        member,
        store.rows("sets", session_id),
        store.rows("reps", session_id),
        store.rows("notes", session_id),
        store.rows("hr_samples", session_id),
        landmark_summary(store, session_id),
    )


def session_max_hr(member: Member | None, started_at: float) -> float | None:
    """The member's maximum heart rate: their profile's, else from their age in the session's
    year (Tanaka's 208 - 0.7 x age, as the wearables use); None for a guest or no birth year."""
    from gymcorner.wearables.hr import max_hr_from_age

    if member is None:
        return None
    if member.max_hr_bpm:
        return float(member.max_hr_bpm)
    if member.birth_year:
        return max_hr_from_age(time.gmtime(started_at).tm_year - member.birth_year)
    return None


def origin_t(rows: SessionRows) -> float | None:
    """The session's first frame time we know of (its first rep's start, heart-rate sample,
    landmark frame): where the curve's and the replay's clocks start, so minute 3 is the same
    moment in both."""
    times = [float(r["start_t"]) for r in rows.reps if r.get("start_t") is not None]
    times += [float(rows.hr_samples[0]["t"])] if rows.hr_samples else []
    times += [float(rows.landmarks["t0"])] if rows.landmarks["t0"] is not None else []
    return min(times) if times else None


def heart_rate_section(rows: SessionRows) -> str:
    if not rows.hr_samples:
        return "<h2>Heart rate</h2><p>No heart-rate samples in this session (no strap was worn).</p>"
    start = origin_t(rows) or 0.0
    samples = [(float(r["t"]) - start, float(r["bpm"])) for r in rows.hr_samples]
    max_hr = session_max_hr(rows.member, float(rows.session["started_at"]))
    said = (
        f"zones from a maximum of {max_hr:.0f} bpm"
        if max_hr
        else "no zones: the maximum heart rate is not known (a guest, or no year of birth)"
    )
    return (
        '<h2 id="heart-rate">Heart rate</h2><div class="charts">'
        + hr_curve_chart(samples, max_hr)
        + f'</div><p class="reason">{len(samples)} samples, one a second at most; {e(said)}.</p>'
    )


def replay_section(session_id: int, rows: SessionRows, elsewhere: str | None = None) -> str:
    """The player (replay.js fills it in): a canvas, play / pause, a time slider, the view;
    `elsewhere` says where the landmarks are when they are not here (a chain's server)."""
    kept = rows.landmarks
    if not kept["frames"] and elsewhere:
        return f'<h2>Replay</h2><p class="reason chain">{e(elsewhere[:1].upper() + elsewhere[1:])}.</p>'
    if not kept["frames"]:
        return "<h2>Replay</h2><p>No landmarks were kept for this session (none are kept with landmarks_hz = 0).</p>"
    start = origin_t(rows) or float(kept["t0"])
    length_s = float(kept["t1"]) - start
    return (
        '<h2 id="replay">Replay</h2><div class="replay">'
        f'<canvas id="replay-canvas" width="480" height="480" data-src="/api/sessions/{session_id}/landmarks" '
        f'data-origin="{start:.3f}" data-state="loading" data-frames="0" data-shown="-1" role="img" '
        f'aria-label="the person as a stick figure, from the landmarks the coach saw"></canvas>'
        '<div class="controls"><button id="replay-play" type="button" aria-pressed="false" disabled>Play</button>'
        f'<input id="replay-time" type="range" min="0" max="{length_s:.1f}" step="0.1" value="0" '
        'aria-label="time in the session" disabled><output id="replay-clock">0:00</output>'
        '<label>View <select id="replay-view" disabled><option value="front">front</option>'
        '<option value="side">side</option></select></label></div>'
        '<p id="replay-status" class="reason" role="status">loading…</p>'
        f'<p class="reason">{kept["frames"]} frames ({kept["bytes"] / 1024:.0f} KiB): coordinates only, never an '
        "image.</p></div>"
        '<script type="module" src="/static/replay.js"></script>'
    )


async def session_page(
    request: Request,
    dash: Dashboard,
    login: Login,
    form: dict[str, str],
    note: str = "",
    draft: str = "",
    status: int = 200,
) -> Response:
    """A session's sets, reps, heart rate and notes; `note` is a mistake to show above the note form."""
    session_id = int(request.path_params["session_id"])
    rows = await dash.db(lambda s: read_session(s, session_id))
    session = rows.session
    if not own(login, session["member_id"]):
        return not_yours(dash, login)
    who = rows.member.display_name if rows.member is not None else "guest"
    summary = (
        f"<p>{e(who)} · {e(when(session['started_at']))} to {e(when(session['ended_at']))} · {e(session['state'])}"
        f' · {e(session["reps"])} reps · box <span class="box">{e(session["device_id"])}</span></p>'
    )
    if session["member_id"] is not None:
        summary += f'<p><a href="/members/{session["member_id"]}">Back to {e(who)}</a></p>'
    set_rows = [
        (
            e(x["number"]),
            e(x["exercise"]),
            e(x["reps"]),
            e(x["target_reps"] or "–"),
            e(x["good_reps"]),
            num(x["mean_quality"], 0),
            num(x["down_s"]),
            num(x["up_s"]),
            num(x["hr_peak_bpm"], 0),
        )
        for x in rows.sets
    ]
    rep_rows = [
        (
            e(r["set_number"]),
            e(r["number"]),
            e(r["exercise"]),
            num(r["quality_score"], 0),
            e(", ".join(faults_of(r["faults"])) or "none"),
            num(r["depth"], 2),
            num(r["down_s"]),
            num(r["up_s"]),
        )
        for r in rows.reps
    ]
    body = (
        summary
        + "<h2>Sets</h2>"
        + table(
            ("Set", "Exercise", "Reps", "Planned", "Good", "Mean quality", "Down s", "Up s", "Peak HR"),
            set_rows,
            "sets",
        )
        + "<h2>Reps</h2>"
        + table(("Set", "Rep", "Exercise", "Quality", "Faults", "Depth", "Down s", "Up s"), rep_rows, "reps")
        + heart_rate_section(rows)
        + replay_section(session_id, rows, no_replay(dash, str(session["device_id"])))
        + notes_section(session_id, rows.notes, login, note, draft, dash)
    )
    page = dash.page(f"Session {session_id}", body, login, status)
    page.headers["content-security-policy"] = REPLAY_CSP
    return page


# A page of the replay's landmarks: PAGE_CHUNKS chunks unless asked for fewer or more, at
# most MAX_PAGE_CHUNKS. Chunks hold at most 50 frames: 1,200 frames and 261 KB by default (2 min
# of a person in view at 10 Hz), 6,000 and 1.3 MB at most, however long the session.
PAGE_CHUNKS = 24
MAX_PAGE_CHUNKS = 120
PAGE_PARAMS = ("from", "from_s", "chunks")


class BadPage(ValueError):
    """A page query the landmarks API refuses (400, one line)."""


def page_query(query: dict[str, str]) -> tuple[int | None, float | None, int]:
    """`from` (a chunk cursor, as `x-landmark-next` gives it), or `from_s` (seconds after the
    session's first frame), and `chunks` (the page size) from the query string."""
    unknown = sorted(set(query) - set(PAGE_PARAMS))
    if unknown:
        raise BadPage(f"unknown parameter {unknown[0]!r}: the landmarks take from, from_s and chunks")
    if "from" in query and "from_s" in query:
        raise BadPage("give from (a chunk cursor) or from_s (seconds), not both")
    first: int | None = None
    at_s: float | None = None
    if "from" in query:
        if not _whole(query["from"]):
            raise BadPage(f"from must be a chunk cursor (a whole number from 0), not {query['from'][:20]!r}")
        first = int(query["from"])
    if "from_s" in query:
        try:
            at_s = float(query["from_s"])
        except ValueError:
            at_s = None
        if at_s is None or not math.isfinite(at_s) or at_s < 0:
            raise BadPage(f"from_s must be seconds from 0 on, not {query['from_s'][:20]!r}")
    size = query.get("chunks", str(PAGE_CHUNKS))
    if not _whole(size) or not 1 <= int(size) <= MAX_PAGE_CHUNKS:
        raise BadPage(f"chunks must be a whole number from 1 to {MAX_PAGE_CHUNKS}, not {size[:20]!r}")
    return first, at_s, int(size)


def _whole(text: str) -> bool:
    """A whole number from 0 in ASCII digits, short enough for the database's integers."""
    return 0 < len(text) <= 9 and all("0" <= c <= "9" for c in text)


def read_page(store: Store, session_id: int, first: int | None, at_s: float | None, size: int) -> LandmarkPage:
    """The page asked for; `from_s` gives the page of `size` chunks (counted from the first
    chunk, so pages of one size never overlap) that holds that moment."""
    from gymcorner.history.landmarks import chunk_at, landmark_page, landmark_summary

    if at_s is not None:
        t0 = landmark_summary(store, session_id)["t0"]
        first = chunk_at(store, session_id, float(t0) + at_s) // size * size if t0 is not None else 0
    return landmark_page(store, session_id, first or 0, size)


async def api_landmarks(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """A page of the session's landmark chunks one after another (landmark_codec v1), for the
    replay; the x-landmark-* headers say where it is in the session and how long that is."""
    session_id = int(request.path_params["session_id"])
    session = await dash.db(lambda s: s.session(session_id))
    if not own(login, session["member_id"]):
        return not_yours(dash, login, api=True)
    try:
        first, at_s, size = page_query(dict(request.query_params))
    except BadPage as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    page = await dash.db(lambda s: read_page(s, session_id, first, at_s, size))
    elsewhere = no_replay(dash, str(session["device_id"]))
    if not page.summary["chunks"] and elsewhere:
        return JSONResponse({"error": elsewhere}, status_code=404)
    kept = page.summary
    headers = {
        "x-landmark-format": "1",
        "x-landmark-from": str(page.first_chunk),
        "x-landmark-first-frame": str(page.first_frame),
        "x-landmark-chunks": str(kept["chunks"]),
        "x-landmark-frames": str(kept["frames"]),
    }
    if kept["t0"] is not None:  # times as repr gives them: exact, so a player can compare with the frames'
        headers |= {"x-landmark-t0": repr(float(kept["t0"])), "x-landmark-t1": repr(float(kept["t1"]))}
    if page.next_chunk is not None:
        headers |= {"x-landmark-next": str(page.next_chunk), "x-landmark-next-t0": repr(page.next_t0)}
    return Response(page.data, media_type="application/octet-stream", headers=headers)


# The session page's policy: the dashboard's own (app.SECURITY_HEADERS), plus the replay's
# module script and its fetch of the landmarks, both from this box only.
REPLAY_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [
        Route("/sessions/{session_id:int}", guarded(session_page, ANYONE)),
        Route("/api/sessions/{session_id:int}/landmarks", guarded(api_landmarks, ANYONE)),
    ]
