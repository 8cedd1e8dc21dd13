"""Trainers' notes on a session: the list on the session page, and the forms that write,
edit and delete them.

Staff (admin, trainer) add notes; a note is changed (its text edited, or deleted) by its
author, or by an admin; a member login reads the notes on their own sessions and writes
none. The author is the dashboard user's name, as it was written (user names are unique,
ignoring case). A mistake (an empty or over-long note) is the form again with one line
saying what is wrong and the text kept (status 400), never a traceback.
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
from gymcorner.history.notes import delete_note, edit_note, find_note
from gymcorner.history.store import NOTE_MAX_CHARS, name_key

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

STAFF = ("admin", "trainer")
Row = dict[str, Any]
NOT_YOURS = "only the note's author or an admin may change a note"


def may_change(login: Login, note: Row) -> bool:
    """A note is its author's to change (a trainer, or an admin who wrote it), and any admin's."""
    return login.role == "admin" or (login.role == "trainer" and name_key(str(note["author"])) == name_key(login.name))


def notes_section(
    session_id: int, notes: list[Row], login: Login, note: str = "", draft: str = "", dash: Dashboard | None = None
) -> str:
    """The session's notes, oldest first; staff also get the form that adds one, and a link
    to change each note they may change (on a chain's server, with where a note stays)."""
    from gymcorner.dashboard.chain import NOTES, chain_note

    items = []
    for n in notes:
        edited = f", edited {e(when(n['edited_at']))}" if n.get("edited_at") is not None else ""
        if n.get("from_chain"):  # a box's copy of a note written on the chain's dashboard (history/notes.py)
            edited += ", on the chain's dashboard"
        link = f"/sessions/{session_id}/notes/{n['id']}/edit"
        change = f' · <a href="{link}">Edit or delete</a>' if may_change(login, n) else ""
        items.append(
            f'<li class="note" id="note-{n["id"]}"><p>{e(n["text"])}</p><p class="reason">{e(n["author"])} '
            f"({e(n['author_role'])}), {e(when(n['written_at']))}{edited}{change}</p></li>"
        )
    shown = f'<ul class="notes">{"".join(items)}</ul>' if items else "<p>No notes yet.</p>"
    form = ""
    if login.role in STAFF:
        form = (
            message(note) + f'<form method="post" action="/sessions/{session_id}/notes" class="stacked">'
            f'<input type="hidden" name="csrf" value="{e(login.csrf)}">'
            f'<label>Add a note <textarea name="text" rows="3" cols="60" maxlength="{NOTE_MAX_CHARS}" required>'
            f'{e(draft)}</textarea></label><button type="submit">Save the note</button></form>'
        ) + (chain_note(dash, NOTES) if dash is not None else "")
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


def _edit_form(session_id: int, note: Row, csrf: str, draft: str, said: str = "") -> str:
    action = f"/sessions/{session_id}/notes/{note['id']}"
    return (
        f'<p class="reason">{e(note["author"])} ({e(note["author_role"])}), {e(when(note["written_at"]))}</p>'
        + message(said)
        + f'<form method="post" action="{action}/edit" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        f'<label>The note <textarea name="text" rows="4" cols="60" maxlength="{NOTE_MAX_CHARS}" required>'
        f'{e(draft)}</textarea></label><button type="submit">Save the note</button></form>'
        f'<form method="post" action="{action}/delete" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="confirm" value="yes">'
        '<button type="submit" class="danger">Delete the note</button></form>'
        f'<p><a href="/sessions/{session_id}#notes">Back to the session</a></p>'
    )


async def note_edit(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """GET: the note in a form; POST: its new text (the author's, or an admin's)."""
    from gymcorner.dashboard.app import forbidden

    session_id, note_id = int(request.path_params["session_id"]), int(request.path_params["note_id"])
    note = await dash.db(lambda s: find_note(s, session_id, note_id))
    if not may_change(login, note):
        return forbidden(dash, login, False, NOT_YOURS)
    title = f"A note on session {session_id}"
    if request.method == "GET":
        return dash.page(title, _edit_form(session_id, note, login.csrf, str(note["text"])), login)
    text = form.get("text", "")
    try:
        await dash.db(lambda s: edit_note(s, session_id, note_id, text))
    except HistoryError as err:
        if err.reason is not Reason.HISTORY_CONFLICT:
            raise
        return dash.page(title, _edit_form(session_id, note, login.csrf, text, str(err)), login, 400)
    return RedirectResponse(f"/sessions/{session_id}#note-{note_id}", status_code=303)


async def note_delete(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    from gymcorner.dashboard.app import forbidden

    session_id, note_id = int(request.path_params["session_id"]), int(request.path_params["note_id"])
    note = await dash.db(lambda s: find_note(s, session_id, note_id))
    if not may_change(login, note):
        return forbidden(dash, login, False, NOT_YOURS)
    if form.get("confirm") != "yes":
        return dash.page("Not deleted", message("delete from the note's page"), login, 400)
    await dash.db(lambda s: delete_note(s, session_id, note_id))
    return RedirectResponse(f"/sessions/{session_id}#notes", status_code=303)


def routes(guarded: Callable[..., Any]) -> list[Route]:
    note = "/sessions/{session_id:int}/notes/{note_id:int}"
    return [
        Route("/sessions/{session_id:int}/notes", guarded(note_add, STAFF), methods=["POST"]),
        Route(f"{note}/edit", guarded(note_edit, STAFF), methods=["GET", "POST"]),
        Route(f"{note}/delete", guarded(note_delete, STAFF), methods=["POST"]),
    ]
