"""Pages that remove or replace what exists: deleting a member, changing a password.

Each one is a form behind the guard (a login, a role, the login's CSRF token), and each
says what it did on the page it answers with:

* deleting a member (admin, trainer) is two steps: a page that counts what will go (their
  sessions, reps, notes, straps and logins) and a POST from it. Their logins end at once,
  not only their rows: a member login open in a browser is of nobody any more.
* one's own password (anyone logged in) needs the current one, verified as a login is
  (argon2id, the same slots, the same per-name failure limit); the new one ends every other
  login of the user, and this browser gets a fresh one.
* an admin resets another user's password without the old one (a trainer forgot theirs);
  every login of that user ends. Their own goes through the first form, which asks for the
  current password, so an unattended admin browser cannot be used to take the account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gymcorner.dashboard.html import e, message
from gymcorner.dashboard.security import Login
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.store import Store, name_key
from gymcorner.history.users import MIN_PASSWORD_CHARS, list_users, set_password, user_by_id, verify_password

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

STAFF = ("admin", "trainer")
ANYONE = ("admin", "trainer", "member")


@dataclass(frozen=True)
class MemberFootprint:
    """What deleting one member removes: the counts the confirm page shows, and their logins."""

    display_name: str
    sessions: int
    reps: int
    notes: int
    straps: int
    login_ids: tuple[int, ...]
    tombstones: int = 0  # after the deletion: what a box that uploads keeps for the chain's server

    def line(self) -> str:
        return (
            f"{self.sessions} sessions, {self.reps} reps, {self.notes} notes, {self.straps} straps, "
            f"{len(self.login_ids)} logins"
        )


def footprint(store: Store, member_id: int) -> MemberFootprint:
    data = store.member_data(member_id, events=False)
    logins = tuple(u.id for u in list_users(store) if u.member_id == member_id)
    return MemberFootprint(
        data["member"]["display_name"],
        len(data["sessions"]),
        len(data["reps"]),
        len(data["notes"]),
        len(data["straps"]),
        logins,
    )


def delete_and_count(store: Store, member_id: int) -> MemberFootprint:
    """Delete the member (every row of theirs goes by cascade); what went, counted first."""
    found = footprint(store, member_id)
    return replace(found, tombstones=store.delete_member(member_id))


async def member_delete(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """GET: the confirm page with what will go; POST (from it): delete, end their logins."""
    member_id = int(request.path_params["member_id"])
    if request.method == "GET":
        from gymcorner.dashboard.chain import MEMBER_DELETE, chain_note

        found = await dash.db(lambda s: footprint(s, member_id))
        body = chain_note(dash, MEMBER_DELETE) + _confirm_form(member_id, found, login.csrf)
        return dash.page(f"Delete {found.display_name}?", body, login)
    if form.get("confirm") != "yes":
        return dash.page("Not deleted", message("confirm on the member's delete page"), login, 400)
    gone = await dash.db(lambda s: delete_and_count(s, member_id))
    for user_id in gone.login_ids:
        dash.logins.end_user(user_id)
    said = f"deleted {gone.display_name!r} and all of their data: {gone.line()}"
    if gone.tombstones:
        said += "; the chain's server and its other boxes delete them too after this box's next upload"
    return dash.page("Member deleted", message(said, "ok") + '<p><a href="/members">Members</a></p>', login)


def _confirm_form(member_id: int, found: MemberFootprint, csrf: str) -> str:
    return (
        f"<p>This deletes {e(found.display_name)} and everything stored about them, for good: "
        f"{e(found.line())}. Export their data first if they asked for it "
        "(<code>gymcorner members export</code>).</p>"
        f'<form method="post" action="/members/{member_id}/delete" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="confirm" value="yes">'
        f'<button type="submit" class="danger">Delete {e(found.display_name)} and all of their data</button></form>'
        f'<p><a href="/members/{member_id}">Cancel</a></p>'
    )


# ------------------------------------------------------------------ passwords


def _new_password_problem(form: dict[str, str]) -> str:
    """Why the form's new password cannot be taken ("" when it can), before any hashing."""
    new = form.get("new_password", "")
    if new != form.get("new_password_again", ""):
        return "the two new passwords differ"
    if len(new) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    return ""


def _password_form(action: str, csrf: str, note: str = "", ask_current: bool = True) -> str:
    current = (
        '<label>Current password <input name="password" type="password" autocomplete="current-password" '
        "required></label>"
        if ask_current
        else ""
    )
    return (
        message(note)
        + f'<form method="post" action="{e(action)}" class="stacked">'
        + f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        + current
        + f'<label>New password ({MIN_PASSWORD_CHARS} characters or more) <input name="new_password" '
        'type="password" autocomplete="new-password" required></label>'
        '<label>New password again <input name="new_password_again" type="password" autocomplete="new-password" '
        'required></label><button type="submit">Change the password</button></form>'
    )


async def own_password(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """The logged-in user's own password: the current one first, then the new one twice."""
    title, action = "Change your password", "/account/password"
    if request.method == "GET":
        return dash.page(title, _password_form(action, login.csrf), login)
    key = f"user:{name_key(login.name)}"
    wait = dash.limiter.retry_after_s(key)
    if wait > 0:
        note = f"too many wrong passwords: try again in {wait:.0f} s"
        response = dash.page(title, _password_form(action, login.csrf, note), login, 429)
        response.headers["retry-after"] = str(max(1, round(wait)))
        return response
    problem = _new_password_problem(form)
    if problem:
        return dash.page(title, _password_form(action, login.csrf, problem), login, 400)
    user = await dash.db(lambda s: user_by_id(s, login.user_id))
    async with dash.verify_slots:
        verified = await run_in_threadpool(verify_password, user, form.get("password", ""))
    if not verified:
        dash.limiter.failed(key)
        return dash.page(title, _password_form(action, login.csrf, "the current password is wrong"), login, 400)
    await dash.db(lambda s: set_password(s, login.user_id, form["new_password"]))
    return _fresh_login(request, dash, login)


def _fresh_login(request: Request, dash: Dashboard, login: Login) -> Response:
    """Every login of the user ends; this browser continues on a new one (a new cookie)."""
    from gymcorner.dashboard.app import SESSION_COOKIE, set_cookie

    dash.logins.end_user(login.user_id)
    token, fresh = dash.logins.start(login.user_id, login.name, login.role, login.member_id)
    said = message("password changed; every other login of yours has ended", "ok")
    response = dash.page("Password changed", said, fresh)
    set_cookie(response, SESSION_COOKIE, token, dash.secure(request))
    return response


async def reset_password(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    """An admin sets another user's password (no old one); that user's logins end."""
    user_id = int(request.path_params["user_id"])
    user = await dash.db(lambda s: user_by_id(s, user_id))
    if user is None:
        raise HistoryError(f"no dashboard user {user_id}", Reason.HISTORY_NOT_FOUND)
    title, action = f"Reset the password of {user.name}", f"/users/{user_id}/password"
    if user_id == login.user_id:
        note = "your own password: change it on the Password page, which asks for the current one"
        return dash.page(title, message(note) + '<p><a href="/account/password">Password</a></p>', login, 400)
    if request.method == "GET":
        return dash.page(title, _password_form(action, login.csrf, ask_current=False), login)
    problem = _new_password_problem(form)
    if problem:
        return dash.page(title, _password_form(action, login.csrf, problem, ask_current=False), login, 400)
    await dash.db(lambda s: set_password(s, user_id, form["new_password"]))
    dash.logins.end_user(user_id)
    said = message(f"the password of {user.name!r} is reset; their logins have ended", "ok")
    return dash.page("Password reset", said + '<p><a href="/users">Users</a></p>', login)


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [
        Route("/members/{member_id:int}/delete", guarded(member_delete, STAFF), methods=["GET", "POST"]),
        Route("/account/password", guarded(own_password, ANYONE), methods=["GET", "POST"]),
        Route("/users/{user_id:int}/password", guarded(reset_password, ("admin",)), methods=["GET", "POST"]),
    ]
