"""Trainers' notes on a session: the list on the session page, and the forms that write them.

Staff (admin, trainer) add notes; a member login reads the notes on their own sessions and
writes none. A mistake (an empty or over-long note) is the session page again with one
line saying what is wrong and the text kept in the form (status 400), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gymcorner.dashboard.html import e, message, when
from gymcorner.dashboard.security import Login
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.store import NOTE_MAX_CHARS

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

STAFF = ("admin", "trainer")
Row = dict[str, Any]


def notes_section(session_id: int, notes: list[Row], login: Login, note: str = "", draft: str = "") -> str:
    """The session's notes, oldest first; staff also get the form that adds one."""
    items = "".join(
        f'<li class="note"><p>{e(n["text"])}</p><p class="reason">{e(n["author"])} ({e(n["author_role"])}), '
        f"{e(when(n['written_at']))}</p></li>"
        for n in notes
    )
    shown = f'<ul class="notes">{items}</ul>' if items else "<p>No notes yet.</p>"
    form = ""
    if login.role in STAFF:
        form = (
            message(note) + f'<form method="post" action="/sessions/{session_id}/notes" class="stacked">'
            f'<input type="hidden" name="csrf" value="{e(login.csrf)}">'
            f'<label>Add a note <textarea name="text" rows="3" cols="60" maxlength="{NOTE_MAX_CHARS}" required>'
            f'{e(draft)}</textarea></label><button type="submit">Save the note</button></form>'
        )
    return '<h2 id="notes">Notes</h2>' + shown + form


async def note_add(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """A trainer's (or an admin's) note on a session, written as the login's user."""
    from gymcorner.dashboard.sessions import session_page

    session_id = int(request.path_params["session_id"])
    text = form.get("text", "")
    try:
        await dash.db(lambda s: s.add_note(session_id, login.name, login.role, text))
    except HistoryError as err:
        if err.reason is not Reason.HISTORY_CONFLICT:
            raise
        return await session_page(request, dash, login, form, note=str(err), draft=text, status=400)
    return RedirectResponse(f"/sessions/{session_id}#notes", status_code=303)


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [
        Route("/sessions/{session_id:int}/notes", guarded(note_add, STAFF), methods=["POST"]),
    ]
