"""The dashboard's pages: members, a member's history with charts, a plan.

Roles: an admin and a trainer see every member and may add and edit them; a member login
sees only its own member's pages (the users' pages are users.py). The
member form validates as `gymcorner members` does (the same Store checks), and a mistake
is the form again with one line saying what is wrong (status 400), never a traceback.
Every session is labelled with its box, and the members list and a member's page take
`?box=ID` (boxes.py): on a chain's server, one box's members, or a member's sessions and
charts at one box.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gymcorner.dashboard.boxes import box_filter, chosen_box
from gymcorner.dashboard.chain import MEMBER_FORM, chain_note
from gymcorner.dashboard.charts import (
    SessionPoint,
    depth_chart,
    faults_chart,
    heart_rate_chart,
    quality_chart,
    reps_chart,
    tempo_chart,
)
from gymcorner.dashboard.html import e, message, num, table, when
from gymcorner.dashboard.progress import exercises_of, has_phase_depth, points_of
from gymcorner.dashboard.security import Login
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.store import Member

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

STAFF = ("admin", "trainer")
ANYONE = ("admin", "trainer", "member")

# (form field, label, kind): kind int/float/str or a tuple of choices
PROFILE_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("birth_year", "Year of birth", int),
    ("weight_kg", "Weight (kg)", float),
    ("height_cm", "Height (cm)", float),
    ("goal", "Goal", ("strength", "hypertrophy", "endurance", "general_fitness", "weight_loss")),
    ("level", "Level", ("beginner", "intermediate", "advanced")),
    ("max_hr_bpm", "Maximum heart rate (bpm; empty: from the age)", int),
    ("language", "Language of spoken cues (en, pt, de, ...)", str),
)


def own(login: Login, member_id: int | None) -> bool:
    """Whether the login may see a member's data: staff all of it, a member login only its own."""
    return login.role in STAFF or (member_id is not None and login.member_id == member_id)


def not_yours(dash: Dashboard, login: Login, api: bool = False) -> Response:
    from gymcorner.dashboard.app import forbidden

    return forbidden(dash, login, api, "this is another member's data")


# ------------------------------------------------------------------ members


async def home(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    if login.role == "member":
        return RedirectResponse(f"/members/{login.member_id}", status_code=303)
    return RedirectResponse("/members", status_code=303)


async def members_list(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    from gymcorner.history.browse import boxes, member_boxes

    box = chosen_box(request)
    members, trained_at, found = await dash.db(lambda s: (s.list_members(), member_boxes(s), boxes(s)))
    rows = [
        (
            f'<a href="/members/{m.id}">{e(m.display_name)}</a>',
            e(m.birth_year),
            e(m.level),
            e(m.goal),
            e(m.max_hr_bpm or "from age"),
            " ".join(f'<span class="box">{e(b)}</span>' for b in trained_at.get(m.id, [])) or "–",
        )
        for m in members
        if box is None or box in trained_at.get(m.id, [])
    ]
    headers = ("Name", "Born", "Level", "Goal", "Max HR", "Boxes")
    nobody = f"<p>No member has a session at {e(box)}.</p>" if box else "<p>No members yet.</p>"
    body = (
        '<p><a href="/members/new">Add a member</a></p>'
        + box_filter("/members", [b for b, _ in found], box)
        + (table(headers, rows, "members") if rows else nobody)
    )
    return dash.page("Members" + (f" with sessions at {box}" if box else ""), body, login)


def _member_form(action: str, values: dict[str, Any], csrf: str, note: str = "", said: str = "") -> str:
    """The profile form; `note` a mistake to show, `said` what the page adds (chain.py)."""
    fields = [f'<label>Name <input name="display_name" value="{e(values.get("display_name"))}" required></label>']
    for key, label, kind in PROFILE_FIELDS:
        value = values.get(key)
        if isinstance(kind, tuple):
            options = '<option value="">–</option>' + "".join(
                f'<option value="{e(c)}"{" selected" if c == value else ""}>{e(c)}</option>' for c in kind
            )
            fields.append(f'<label>{e(label)} <select name="{key}">{options}</select></label>')
        else:
            fields.append(f'<label>{e(label)} <input name="{key}" value="{e(value)}"></label>')
    return (
        message(note)
        + said
        + f'<form method="post" action="{e(action)}" class="stacked">'
        + f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        + "".join(fields)
        + '<button type="submit">Save</button></form>'
    )


def _profile(form: dict[str, str]) -> dict[str, Any]:
    """The form's profile fields, typed; empty means unset. ValueError says which is wrong."""
    out: dict[str, Any] = {}
    for key, label, kind in PROFILE_FIELDS:
        raw = form.get(key, "").strip()
        if not raw:
            out[key] = None
        elif kind is int:
            try:
                out[key] = int(raw)
            except ValueError:
                raise ValueError(f"{label}: {raw!r} is not a whole number") from None
        elif kind is float:
            try:
                out[key] = float(raw)
            except ValueError:
                raise ValueError(f"{label}: {raw!r} is not a number") from None
        else:
            out[key] = raw
    return out


async def member_new(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    said = chain_note(dash, MEMBER_FORM)
    if request.method == "GET":
        return dash.page("Add a member", _member_form("/members/new", {}, login.csrf, said=said), login)
    try:
        profile = _profile(form)
        set_fields = {k: v for k, v in profile.items() if v is not None}
        member = await dash.db(lambda s: s.add_member(form.get("display_name", ""), **set_fields))
    except (ValueError, HistoryError) as err:
        if isinstance(err, HistoryError) and err.reason is not Reason.HISTORY_CONFLICT:
            raise
        return dash.page("Add a member", _member_form("/members/new", form, login.csrf, str(err), said), login, 400)
    return RedirectResponse(f"/members/{member.id}", status_code=303)


async def member_edit(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    member_id = int(request.path_params["member_id"])
    action = f"/members/{member_id}/edit"
    said = chain_note(dash, MEMBER_FORM)
    if request.method == "GET":
        member = await dash.db(lambda s: s.member(member_id))
        page = _member_form(action, member.to_dict(), login.csrf, said=said)
        return dash.page(f"Edit {member.display_name}", page, login)
    try:
        profile = _profile(form)
        name = form.get("display_name", "")
        if not name.strip():
            raise ValueError("a member needs a display name")
        member = await dash.db(lambda s: s.edit_member(s.member(member_id).id, display_name=name, **profile))
    except (ValueError, HistoryError) as err:
        if isinstance(err, HistoryError) and err.reason is not Reason.HISTORY_CONFLICT:
            raise
        return dash.page("Edit member", _member_form(action, form, login.csrf, str(err), said), login, 400)
    return RedirectResponse(f"/members/{member.id}", status_code=303)


async def member_page(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    member_id = int(request.path_params["member_id"])
    if not own(login, member_id):
        return not_yours(dash, login)
    view = await dash.member_view(member_id)
    data = view.data
    m = Member(**data["member"])
    box = chosen_box(request)
    shown = [s for s in data["sessions"] if box is None or s["device_id"] == box]
    trained_at = sorted({str(s["device_id"]) for s in data["sessions"]})
    profile = table(
        ("Born", "Weight", "Height", "Goal", "Level", "Max HR", "Language"),
        [
            (
                e(m.birth_year),
                num(m.weight_kg),
                num(m.height_cm),
                e(m.goal),
                e(m.level),
                e(m.max_hr_bpm or "from age"),
                e(m.language),
            )
        ],
        "profile",
    )
    links = [f'<a href="/members/{m.id}/plan">Plan</a>']
    if login.role in STAFF:
        links[:0] = [f'<a href="/members/{m.id}/edit">Edit</a>', f'<a href="/members/{m.id}/delete">Delete</a>']
    points = view.points
    if box is not None:  # the charts of the sessions at that box, drawn from the same read
        points = view.derive(("points", box), lambda d: points_of({**d, "sessions": shown}))
    charts = (
        '<h2>Progress</h2><div class="charts">'
        + reps_chart(points)
        + quality_chart(points)
        + faults_chart(points)
        + heart_rate_chart(points)
        + "</div>"
        + _exercise_charts(points)
        if points
        else f"<p>No sessions recorded{' at ' + e(box) if box else ''} yet.</p>"
    )
    noted = Counter(n["session_id"] for n in data["notes"])
    rows = [
        (
            f'<a href="/sessions/{s["id"]}">{e(when(s["started_at"]))}</a>',
            e(s["state"]),
            e(s["exercise"]),
            e(s["reps"]),
            f'<span class="box">{e(s["device_id"])}</span>',
            e(noted.get(s["id"], 0) or "–"),
        )
        for s in reversed(shown)
    ]
    sessions = table(("Started", "State", "Exercise", "Reps", "Box", "Notes"), rows, "sessions") if rows else ""
    from gymcorner.dashboard.start import start_form

    last_box = str(data["sessions"][-1]["device_id"]) if data["sessions"] else None

    body = (
        profile
        + "<p>"
        + " · ".join(links)
        + "</p>"
        + await start_form(dash, login, m, last_box)
        + box_filter(f"/members/{m.id}", trained_at, box)
        + charts
        + "<h2>Sessions</h2>"
        + sessions
    )
    return dash.page(m.display_name, body, login)


def _exercise_charts(points: list[SessionPoint]) -> str:
    """Depth and tempo, one chart each per exercise with reps (the most reps first): a squat's
    depth and a push-up's are different measures. An exercise counted without a joint-angle
    phase has tempo only, and the page says why."""
    exercises = exercises_of(points)
    if not exercises:
        return ""
    charts = "".join((depth_chart(points, x) if has_phase_depth(x) else "") + tempo_chart(points, x) for x in exercises)
    no_depth = [x for x in exercises if not has_phase_depth(x)]
    said = (
        f'<p class="reason no-depth">No depth chart for {e(", ".join(no_depth))}: counted without a '
        "joint-angle phase, their reps carry the movement's amplitude, not a share of the exercise's range.</p>"
        if no_depth
        else ""
    )
    return '<h2>Depth and tempo, per exercise</h2><div class="charts">' + charts + "</div>" + said


async def plan_page(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    from gymcorner.plans.generator import generate_plan
    from gymcorner.plans.records import ProfileError, history_of, profile_of

    member_id = int(request.path_params["member_id"])
    if not own(login, member_id):
        return not_yours(dash, login)
    view = await dash.member_view(member_id)
    name = view.data["member"]["display_name"]
    today = dt.date.today()
    try:
        plan = view.derive(("plan", today), lambda d: generate_plan(profile_of(d["member"]), history_of(d), today))
    except ProfileError as err:
        return dash.page(f"Plan for {name}", message(str(err)), login, 400)
    parts = []
    for session in plan.sessions:
        rows = [
            (
                e(i.exercise),
                e(i.sets),
                f"{e(i.reps)} {'s' if i.exercise == 'plank' else 'reps'}",
                f"{e(i.rest_s)} s",
                '<span class="reason">' + e("; ".join(i.reasons)) + f" [{e(', '.join(i.guidelines))}]</span>",
            )
            for i in session.items
        ]
        parts.append(
            f"<h2>{e(session.day.isoformat())}</h2>"
            + table(("Exercise", "Sets", "Per set", "Rest", "Why"), rows, "plan")
        )
    notes = "".join(f"<li>{e(n)}</li>" for n in plan.notes)
    body = f'<p><a href="/members/{member_id}">Back to {e(name)}</a></p>' + "".join(parts) + f"<ul>{notes}</ul>"
    return dash.page(f"Plan for {name}", body, login)


# ------------------------------------------------------------------ API (JSON, read-only)


async def api_members(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    members = await dash.db(lambda s: s.list_members())
    return JSONResponse([m.to_dict() for m in members])


async def api_member_sessions(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    member_id = int(request.path_params["member_id"])
    if not own(login, member_id):
        return not_yours(dash, login, api=True)
    data = (await dash.member_view(member_id)).data
    keep = ("id", "device_id", "uuid", "started_at", "ended_at", "state", "exercise", "reps")
    return JSONResponse([{k: s[k] for k in keep} for s in data["sessions"]])


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [
        Route("/", guarded(home, ANYONE)),
        Route("/members", guarded(members_list, STAFF)),
        Route("/members/new", guarded(member_new, STAFF), methods=["GET", "POST"]),
        Route("/members/{member_id:int}", guarded(member_page, ANYONE)),
        Route("/members/{member_id:int}/edit", guarded(member_edit, STAFF), methods=["GET", "POST"]),
        Route("/members/{member_id:int}/plan", guarded(plan_page, ANYONE)),
        Route("/api/members", guarded(api_members, STAFF)),
        Route("/api/members/{member_id:int}/sessions", guarded(api_member_sessions, ANYONE)),
    ]
