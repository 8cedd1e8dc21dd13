"""Sessions by box: every session labelled with the box that recorded it, and a filter.

A box is the device id a session was recorded under. On a chain's server (every box's
sessions) the members list, a member's page and the sessions list (`/sessions`, staff) can
be narrowed to one box with `?box=ID`; the filter's links show only where there is more
than one box to choose from (a box's own file usually holds one).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gymcorner.dashboard.html import e, table, when
from gymcorner.dashboard.security import Login
from gymcorner.history.browse import box_summaries, box_syncs, boxes, recent_sessions

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard
    from gymcorner.history.store import Store

STAFF = ("admin", "trainer")
PAGE_SESSIONS = 100  # sessions a page of /sessions lists


def chosen_box(request: Request) -> str | None:
    """The `box` the request asks for (None: every box)."""
    box = request.query_params.get("box", "").strip()
    return box or None


def box_link(path: str, box: str | None, **more: Any) -> str:
    query = {k: v for k, v in {"box": box, **more}.items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


def box_filter(path: str, available: Sequence[str], chosen: str | None) -> str:
    """Links to every box of `available` and to all of them, the chosen one marked; nothing
    when there is only one box and none is chosen (no choice to make)."""
    if len(available) < 2 and chosen is None:
        return ""
    links = [("all boxes", None), *((b, b) for b in available)]
    if chosen is not None and chosen not in available:
        links.append((chosen, chosen))
    items = [
        f'<strong aria-current="true">{e(label)}</strong>'
        if box == chosen
        else f'<a href="{e(box_link(path, box))}">{e(label)}</a>'
        for label, box in links
    ]
    return '<p class="boxes" role="navigation" aria-label="Box">Box: ' + " · ".join(items) + "</p>"


async def sessions_list(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """The newest sessions of every box (or of the chosen one), members' and guests' alike."""
    box = chosen_box(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1

    def read(store: Any) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
        offset = (page - 1) * PAGE_SESSIONS
        return boxes(store), recent_sessions(store, box, PAGE_SESSIONS + 1, offset)

    found, rows = await dash.db(read)
    more = len(rows) > PAGE_SESSIONS
    cells = [
        (
            f'<a href="/sessions/{s["id"]}">{e(when(s["started_at"]))}</a>',
            f'<span class="box">{e(s["device_id"])}</span>',
            f'<a href="/members/{s["member_id"]}">{e(s["member"])}</a>' if s["member_id"] is not None else "guest",
            e(s["state"]),
            e(s["exercise"]),
            e(s["reps"]),
            e(s["notes"] or "–"),
        )
        for s in rows[:PAGE_SESSIONS]
    ]
    counts = ", ".join(f"{e(b)}: {n}" for b, n in found)
    body = box_filter("/sessions", [b for b, _ in found], box) + (
        f'<p class="reason">Sessions per box: {counts}.</p>' if found else ""
    )
    if cells:
        headers = ("Started", "Box", "Member", "State", "Exercise", "Reps", "Notes")
        body += table(headers, cells, "sessions")
    else:
        body += f"<p>No sessions{' at ' + e(box) if box else ''} yet.</p>"
    pages = []
    if page > 1:
        pages.append(f'<a href="{e(box_link("/sessions", box, page=page - 1))}">Newer</a>')
    if more:
        pages.append(f'<a href="{e(box_link("/sessions", box, page=page + 1))}">Older</a>')
    body += f"<p>{' · '.join(pages)}</p>" if pages else ""
    return dash.page("Sessions" + (f" at {box}" if box else ""), body, login)


NEVER_SYNCED = "no sync recorded"  # a box's own file, or a box that synced before migration 14
NO_WATCH = "not watched: this dashboard has no chain broker ([dashboard.chain_mqtt] enabled = false)"


async def boxes_page(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """Every box that recorded a session or synced: how many sessions, the newest, when it
    last synced (a chain's server records each sync: `box_syncs`) and (on a chain's
    dashboard with its broker) whether it is up, as `box_status.BoxWatch` last heard."""

    def read(store: Store) -> tuple[list[tuple[str, int, float]], dict[str, tuple[float, str]]]:
        return box_summaries(store), box_syncs(store)

    found, syncs = await dash.db(read)
    sessions_of = {box: (count, newest) for box, count, newest in found}
    cells = []
    for box in sorted(set(sessions_of) | set(syncs)):
        count, newest = sessions_of.get(box, (0, None))
        if dash.boxes is not None:
            status = dash.boxes.of(box)
            state = f'<span class="box-{e(status.state)}">{e(status.line)}</span>'
        else:
            state = e(NO_WATCH if not dash.history.on_box else "this box")
        synced = syncs.get(box)
        last_sync = e(f"{when(synced[0])} (version {synced[1]})") if synced else e(NEVER_SYNCED)
        sessions = f'<a href="{e(box_link("/sessions", box))}">{count}</a>' if count else "0"
        cells.append((f'<span class="box">{e(box)}</span>', sessions, e(when(newest)), last_sync, state))
    body = (
        table(("box", "sessions", "newest session", "last sync", "status"), cells, "boxes-list")
        if cells
        else "<p>No box has recorded a session or synced here yet.</p>"
    )
    return dash.page("Boxes", body, login)


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [Route("/sessions", guarded(sessions_list, STAFF)), Route("/boxes", guarded(boxes_page, STAFF))]
