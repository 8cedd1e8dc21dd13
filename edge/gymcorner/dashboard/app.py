"""The Starlette app: routing, the login, and the guard every page and API route passes.

Every route but /login and the static files (the style sheet and the replay's two
scripts: code, no data) is wrapped by `guarded`: no live login means a
redirect to /login (pages) or 401 (`/api/...`); a role that may not see the route gets
403; a form POST whose `csrf` field is not the login's token gets 403. Database work runs
in a worker thread on a connection of its own (`History.run`, database.py: the box's file
or a chain's PostgreSQL server); a locked or corrupt file, or a server out of reach, is a
503 page that says why (and the next request tries again), an unknown member or session a 404.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gymcorner.config.dashboard import DashboardConfig
from gymcorner.dashboard.box_status import BoxWatch
from gymcorner.dashboard.charts import SessionPoint
from gymcorner.dashboard.corner import ChainCorners, CornerLink
from gymcorner.dashboard.database import History, Version, open_history
from gymcorner.dashboard.html import CSS, e, layout, message
from gymcorner.dashboard.progress import points_of
from gymcorner.dashboard.security import Clock, Login, LoginLimiter, Logins, same_token
from gymcorner.errors import HistoryError, Reason
from gymcorner.history.store import Store, name_key

_log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
SESSION_COOKIE = "gymcorner_session"
LOGIN_CSRF_COOKIE = "gymcorner_login_csrf"
MAX_FORM_BYTES = 64 * 1024
VERIFY_SLOTS = 2  # password verifications at once (argon2id: 64 MiB and ~0.7 s of a core each)
MEMBER_VIEWS = 64  # members whose history is kept read between requests
MEMBER_VIEW_TTL_S = 30.0  # and for at most this long, whatever the version says
T = TypeVar("T")

SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


class SecurityHeaders:
    """Adds the same headers to every response (pages, errors, redirects)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                present = {k.lower() for k, _ in msg.get("headers", [])}
                msg["headers"] = list(msg.get("headers", [])) + [h for h in SECURITY_HEADERS if h[0] not in present]
            await send(msg)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


@dataclass(frozen=True)
class MemberView:
    """A member's rows (`Store.member_data`) and their chart points, as read at `version`."""

    version: Version
    read_at: float
    data: dict[str, Any]
    points: list[SessionPoint]
    derived: dict[Any, Any] = field(default_factory=dict)  # what pages compute from `data`, by key

    def derive(self, key: Any, compute: Callable[[dict[str, Any]], T]) -> T:
        """`compute(data)`, kept with this view (e.g. the plan for a day): computed once per read."""
        if key not in self.derived:
            self.derived[key] = compute(self.data)
        return cast(T, self.derived[key])


@dataclass
class Dashboard:
    history: History
    config: DashboardConfig
    logins: Logins
    limiter: LoginLimiter
    corner: CornerLink | None = None  # the box's device over MQTT (None: [mqtt] is off)
    chain: ChainCorners | None = None  # a chain's boxes over its broker (None: on a box, or no chain broker)
    boxes: BoxWatch | None = None  # what the chain's broker last heard of each box (with `chain`)
    verify_slots: anyio.Semaphore = field(default_factory=lambda: anyio.Semaphore(VERIFY_SLOTS))
    members: dict[int, MemberView] = field(default_factory=dict)  # newest last, at most MEMBER_VIEWS

    async def db(self, work: Callable[[Store], T]) -> T:
        return await run_in_threadpool(self.history.run, work)

    async def member_view(self, member_id: int) -> MemberView:
        """A member's history for their pages, read again only when the database changed.

        A member's page and plan read every rep of the member (hundreds of rows, ~10 ms of
        a core) while the box coaches beside them; most requests see the same data."""
        version = self.history.version()  # before the read: a commit during it shows next time
        now = time.monotonic()
        view = self.members.get(member_id)
        if view is not None and view.version == version and now - view.read_at < MEMBER_VIEW_TTL_S:
            return view
        data = await self.db(lambda s: s.member_data(member_id, events=False))
        if version is None:  # no version to check against: read every time
            return MemberView(0, now, data, points_of(data))
        view = MemberView(version, now, data, points_of(data))
        self.members.pop(member_id, None)
        self.members[member_id] = view
        while len(self.members) > MEMBER_VIEWS:
            self.members.pop(next(iter(self.members)))
        return view

    def page(self, title: str, body: str, login: Login | None, status: int = 200) -> HTMLResponse:
        return HTMLResponse(layout(title, body, login, self.config.viewer_url), status_code=status)

    def said(self, err: HistoryError) -> str:
        """The error's one line without where the database is (that is for the 503 page, which
        helps whoever fixes it; a form's mistake or a 404 needs none of it)."""
        return str(err).replace(f" in {self.history.where}", "")

    def secure(self, request: Request) -> bool:
        return self.config.secure_cookies or request.url.scheme == "https"


Handler = Callable[[Request, Dashboard, Login, dict[str, str]], Awaitable[Response]]


def guarded(handler: Handler, roles: tuple[str, ...] = ("admin", "trainer", "member")) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        dash: Dashboard = request.app.state.dashboard
        api = request.url.path.startswith("/api/")
        login = dash.logins.get(request.cookies.get(SESSION_COOKIE))
        if login is None:
            if api:
                return JSONResponse({"error": "log in first"}, status_code=401)
            target = urllib.parse.quote(request.url.path, safe="/")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        if login.role not in roles:
            return forbidden(dash, login, api, "your role may not open this page")
        form: dict[str, str] = {}
        if request.method == "POST":
            parsed = await read_form(request)
            if parsed is None:
                return dash.page("Too large", message("the form is too large"), login, 413)
            form = parsed
            if not same_token(form.get("csrf"), login.csrf):
                return forbidden(dash, login, api, "the form's security token is wrong or old: reload the page")
        return await handler(request, dash, login, form)

    return endpoint


def forbidden(dash: Dashboard, login: Login, api: bool, why: str) -> Response:
    if api:
        return JSONResponse({"error": why}, status_code=403)
    return dash.page("Not allowed", message(why), login, 403)


async def read_form(request: Request) -> dict[str, str] | None:
    """An url-encoded form as {field: last value}; None when larger than MAX_FORM_BYTES."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


def _login_form(csrf: str, next_path: str, note: str = "", name: str = "") -> str:
    return (
        message(note) + '<form method="post" action="/login" class="stacked">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="next" value="{e(next_path)}">'
        f'<label>Name <input name="name" autocomplete="username" value="{e(name)}" required></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password" required></label>'
        '<button type="submit">Log in</button></form>'
    )


def _safe_next(value: str | None) -> str:
    """Only a path of this site (never //host or a scheme): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def login_page(request: Request) -> Response:
    dash: Dashboard = request.app.state.dashboard
    if request.method == "GET":
        csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or _new_token()
        response = dash.page("Log in", _login_form(csrf, _safe_next(request.query_params.get("next"))), None)
        set_cookie(response, LOGIN_CSRF_COOKIE, csrf, dash.secure(request), max_age=3600)
        return response
    form = await read_form(request) or {}
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not csrf or not same_token(form.get("csrf"), csrf):
        stale = message("the login form's security token is wrong or old: reload the page")
        return dash.page("Log in", stale, None, 403)
    name, password = form.get("name", ""), form.get("password", "")
    next_path = _safe_next(form.get("next"))
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{name_key(name)}", f"client:{client}")
    wait = dash.limiter.retry_after_s(*keys)
    if wait > 0:
        note = f"too many failed logins: try again in {wait:.0f} s"
        response = dash.page("Log in", _login_form(csrf, next_path, note, name), None, 429)
        response.headers["retry-after"] = str(max(1, round(wait)))
        return response
    from gymcorner.history.users import find_user, verify_password

    user = await dash.db(lambda store: find_user(store, name))
    async with dash.verify_slots:  # each verification takes 64 MiB: a burst of logins must not take the box's RAM
        verified = await run_in_threadpool(verify_password, user, password)
    if not verified or user is None:
        dash.limiter.failed(*keys)
        return dash.page("Log in", _login_form(csrf, next_path, "wrong name or password", name), None, 401)
    dash.limiter.succeeded(keys[0])
    token, _ = dash.logins.start(user.id, user.name, user.role, user.member_id)
    redirect = RedirectResponse(next_path, status_code=303)
    set_cookie(redirect, SESSION_COOKIE, token, dash.secure(request))
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return redirect


async def logout(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    dash.logins.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def set_cookie(response: Response, key: str, value: str, secure: bool, max_age: int | None = None) -> None:
    """One of the dashboard's cookies: HttpOnly, SameSite=Strict, the whole site, Secure over HTTPS."""
    response.set_cookie(key, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=secure)


async def stylesheet(request: Request) -> Response:
    return Response(CSS, media_type="text/css", headers={"cache-control": "max-age=3600"})


def _script(path: Path) -> Callable[[Request], Awaitable[Response]]:
    """A script of the pages (code, no data: served without a login, like the style sheet)."""
    text = path.read_text(encoding="utf-8")

    async def serve(request: Request) -> Response:
        return Response(text, media_type="text/javascript", headers={"cache-control": "max-age=3600"})

    return serve


async def history_error(request: Request, exc: Exception) -> Response:
    """A HistoryError that reached the top: 404 for what is not there, else 503 with why."""
    dash: Dashboard = request.app.state.dashboard
    login = dash.logins.get(request.cookies.get(SESSION_COOKIE))
    assert isinstance(exc, HistoryError)
    status = 404 if exc.reason is Reason.HISTORY_NOT_FOUND else 409 if exc.reason is Reason.HISTORY_CONFLICT else 503
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": str(exc)}, status_code=status)
    title = {404: "Not found", 409: "Not possible", 503: "History unavailable"}[status]
    said = str(exc) if status == 503 else dash.said(exc)
    hint = UNAVAILABLE_HINT[dash.history.on_box] if status == 503 else ""
    return dash.page(title, message(said) + hint, login, status)


UNAVAILABLE_HINT = {
    True: "<p>The coaching daemon keeps coaching; try again once the file is usable.</p>",
    False: "<p>The boxes keep coaching and keep their sessions until they can upload them; this page works "
    "again as soon as the server answers.</p>",
}


def build_app(
    database: Path | str,
    config: DashboardConfig | None = None,
    now: Clock = time.monotonic,
    corner: CornerLink | None = None,
) -> Starlette:
    """The dashboard over a box's history file or a chain's postgresql:// server (which must
    answer now: HistoryError otherwise); `corner` is the device "start session" talks to
    (on the box's file only). On a chain's server "start session" goes to the chosen box
    through `config.chain_mqtt`, when it is enabled."""
    from gymcorner.dashboard import boxes, manage, notes, pages, sessions, start, users

    config = config or DashboardConfig()
    history = open_history(database, config.lock_timeout_s)
    chain = None
    watch = None
    if not history.on_box and config.chain_mqtt.enabled:
        chain = ChainCorners(config.chain_mqtt.as_mqtt(), config.command_timeout_s)
        watch = BoxWatch(config.chain_mqtt.as_mqtt())
    dash = Dashboard(
        history,
        config,
        Logins(config.session_idle_min * 60.0, config.session_max_h * 3600.0, now),
        LoginLimiter(config.login_failures_per_min, 60.0, now),
        corner if history.on_box else None,
        chain,
        watch,
    )
    try:  # migrate the file now, once, rather than in the first requests at the same time (a server: done)
        dash.history.run(lambda store: None)
    except HistoryError as err:  # served as 503 pages until the file is usable
        _log.error("dashboard: history unavailable: %s", err)
    from gymcorner.transport.webviewer import VIEWER_DIR

    routes = [
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/static/dashboard.css", stylesheet),
        Route("/static/replay.js", _script(STATIC_DIR / "replay.js")),
        Route("/static/skeleton.js", _script(VIEWER_DIR / "skeleton.js")),  # the live viewer's, shared
        Route("/logout", guarded(logout), methods=["POST"]),
        *pages.routes(guarded),
        *sessions.routes(guarded),
        *boxes.routes(guarded),
        *notes.routes(guarded),
        *users.routes(guarded),
        *manage.routes(guarded),
        *start.routes(guarded),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if watch is not None:
            watch.start()
        yield
        if watch is not None:
            watch.stop()
        history.close()  # the pool's connections to a chain's server, or the file's probe

    app = Starlette(routes=routes, exception_handlers={HistoryError: history_error}, lifespan=lifespan)
    app.state.dashboard = dash
    app.add_middleware(SecurityHeaders)
    return app
