"""The dashboard's users (admin only): the list, adding one, a user's role, deleting one.

Users are logins, not members (history/users.py). Each change is a form behind the guard
(an admin's login and its CSRF token; anyone else gets 403) and says what it did:

* a new role takes effect at once: the user's open logins end (their role is kept with the
  login), so their next login has the new one. A member login names its member; the
  other roles name none.
* deleting a user (from their page, with `confirm`) deletes the login only, never a
  member's data; their open logins end with it.
* the last admin can be neither deleted nor made a trainer or member: one line says so
  (409) and nothing changes. An admin may demote or delete their own login while another
  admin is left; then this browser is logged out too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gymcorner.dashboard.html import e, message, table
from gymcorner.dashboard.security import Login
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.store import Store
from gymcorner.history.users import (
    ROLES,
    LastAdminError,
    User,
    add_user,
    delete_user,
    list_users,
    set_role,
    user_by_id,
)

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

ADMIN = ("admin",)


def _member_id(store: Store, role: str, member: str) -> int | None:
    """The member a member login names (by display name or id); None for the other roles."""
    return store.find_member(member).id if member and role == "member" else None


async def users_page(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    note, status = "", 200
    if request.method == "POST":
        role = form.get("role", "")

        def create(s: Store) -> None:
            member_id = _member_id(s, role, form.get("member", "").strip())
            add_user(s, form.get("name", ""), role, form.get("password", ""), member_id)

        try:
            await dash.db(create)
            note = f"added {form.get('name', '').strip()!r} ({role})"
        except HistoryError as err:
            if err.reason is Reason.HISTORY_UNAVAILABLE:
                raise
            note, status = dash.said(err), 400
    users = await dash.db(list_users)
    rows = [
        (
            f'<a href="/users/{u.id}">{e(u.name)}</a>',
            e(u.role),
            e(u.member_id or ""),
            f'<a href="/users/{u.id}">Role, delete</a> · <a href="/users/{u.id}/password">Reset password</a>',
        )
        for u in users
    ]
    options = "".join(f'<option value="{r}">{r}</option>' for r in ROLES)
    from gymcorner.dashboard.chain import USERS, chain_note

    body = (
        (message(note, "ok" if status == 200 else "error") if note else "")
        + chain_note(dash, USERS)
        + table(("Name", "Role", "Member id", ""), rows, "users")
        + '<h2>Add a user</h2><form method="post" action="/users" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(login.csrf)}">'
        '<label>Name <input name="name" required></label>'
        f'<label>Role <select name="role">{options}</select></label>'
        '<label>Member (for a member login) <input name="member"></label>'
        '<label>Password (10 characters or more) <input name="password" type="password" autocomplete="new-password" '
        'required></label><button type="submit">Add</button></form>'
    )
    return dash.page("Dashboard users", body, login, status)


def _user_forms(user: User, member_name: str, csrf: str, note: str = "", ok: bool = False) -> str:
    options = "".join(f'<option value="{r}"{" selected" if r == user.role else ""}>{r}</option>' for r in ROLES)
    return (
        message(note, "ok" if ok else "error")
        + table(("Name", "Role", "Member"), [(e(user.name), e(user.role), e(member_name or "–"))], "user")
        + f'<h2>Role</h2><form method="post" action="/users/{user.id}/role" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        f'<label>Role <select name="role">{options}</select></label>'
        f'<label>Member (for a member login) <input name="member" value="{e(member_name)}"></label>'
        '<button type="submit">Change the role</button></form>'
        f"<h2>Delete</h2><p>This deletes the login of {e(user.name)}, not any member's data; their open "
        "logins end.</p>"
        f'<form method="post" action="/users/{user.id}/delete" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="confirm" value="yes">'
        f'<button type="submit" class="danger">Delete the login of {e(user.name)}</button></form>'
        '<p><a href="/users">Users</a></p>'
    )


def _read_user(store: Store, user_id: int) -> tuple[User, str]:
    user = user_by_id(store, user_id)
    if user is None:
        raise HistoryError(f"no dashboard user {user_id}", Reason.HISTORY_NOT_FOUND)
    return user, store.member(user.member_id).display_name if user.member_id is not None else ""


async def user_page(
    request: Request, dash: Dashboard, login: Login, form: dict[str, str], note: str = "", status: int = 200
) -> Response:
    user_id = int(request.path_params["user_id"])
    user, member_name = await dash.db(lambda s: _read_user(s, user_id))
    body = _user_forms(user, member_name, login.csrf, note, ok=status == 200)
    return dash.page(f"User {user.name}", body, login, status)


async def change_role(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    user_id = int(request.path_params["user_id"])
    role = form.get("role", "")

    def change(s: Store) -> User | HistoryError:
        _read_user(s, user_id)  # no such user: the 404 page
        try:
            return set_role(s, user_id, role, _member_id(s, role, form.get("member", "").strip()))
        except HistoryError as err:  # the form's mistake (an unknown member, the last admin): said on the page
            if err.reason is Reason.HISTORY_UNAVAILABLE:
                raise
            return err

    user = await dash.db(change)
    if isinstance(user, HistoryError):
        status = 409 if isinstance(user, LastAdminError) else 400
        return await user_page(request, dash, login, form, dash.said(user), status)
    dash.logins.end_user(user_id)
    done = f"{user.name!r} is now {user.role}; their open logins have ended"
    if user_id == login.user_id:
        return _logged_out(dash, done)
    return await user_page(request, dash, login, form, done)


async def remove_user(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    user_id = int(request.path_params["user_id"])
    if form.get("confirm") != "yes":
        return dash.page("Not deleted", message("delete from the user's page"), login, 400)
    try:
        gone = await dash.db(lambda s: delete_user(s, user_id))
    except LastAdminError as err:
        return await user_page(request, dash, login, form, dash.said(err), 409)
    dash.logins.end_user(user_id)
    done = f"deleted the login of {gone.name!r} ({gone.role})"
    if user_id == login.user_id:
        return _logged_out(dash, done)
    return dash.page("User deleted", message(done, "ok") + '<p><a href="/users">Users</a></p>', login)


def _logged_out(dash: Dashboard, done: str) -> Response:
    """The admin changed their own login: it has ended; this browser logs in again."""
    from gymcorner.dashboard.app import SESSION_COOKIE

    page = dash.page("Logged out", message(done, "ok") + '<p><a href="/login">Log in</a></p>', None)
    page.delete_cookie(SESSION_COOKIE, path="/")
    return page


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [
        Route("/users", guarded(users_page, ADMIN), methods=["GET", "POST"]),
        Route("/users/{user_id:int}", guarded(user_page, ADMIN)),
        Route("/users/{user_id:int}/role", guarded(change_role, ADMIN), methods=["POST"]),
        Route("/users/{user_id:int}/delete", guarded(remove_user, ADMIN), methods=["POST"]),
    ]
