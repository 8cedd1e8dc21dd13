"""The dashboard's HTML: one layout, small helpers, every value escaped where it is written.

Plain f-strings instead of a template engine: the pages are few and small, and `e()`
(html.escape, quotes included) is applied to every value that came from the database or
the request. The only style sheet is /static/dashboard.css; the only script is the session
page's replay (/static/replay.js, sessions.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from gymcorner.dashboard.security import Login


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def layout(title: str, body: str, login: Login | None = None, viewer_url: str | None = None) -> str:
    nav = ""
    if login is not None:
        links = []
        if login.role == "member" and login.member_id is not None:
            links.append(f'<a href="/members/{login.member_id}">My history</a>')
        else:
            links.append('<a href="/members">Members</a>')
            links.append('<a href="/sessions">Sessions</a>')
            links.append('<a href="/boxes">Boxes</a>')
        if login.role == "admin":
            links.append('<a href="/users">Users</a>')
        links.append('<a href="/account/password">Password</a>')
        if viewer_url:
            links.append(f'<a href="{e(viewer_url)}" rel="noopener noreferrer">Live view</a>')
        nav = (
            "<nav>" + " ".join(links) + f'<span class="who">{e(login.name)} ({e(login.role)})</span>'
            '<form method="post" action="/logout" class="inline">'
            f'<input type="hidden" name="csrf" value="{e(login.csrf)}"><button>Log out</button></form></nav>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{e(title)} · gymcorner</title><link rel="stylesheet" href="/static/dashboard.css"></head>'
        f'<body><header><span class="brand">gymcorner</span>{nav}</header><main><h1>{e(title)}</h1>{body}</main>'
        "</body></html>"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """`rows` hold HTML already (cells built with e() or links)."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{e(css)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def message(text: str, kind: str = "error") -> str:
    return f'<p class="{e(kind)}" role="alert">{e(text)}</p>' if text else ""


def when(at: Any) -> str:
    """A Unix time as the pages show it (UTC, to the minute); "–" for none."""
    return "–" if at is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(float(at))) + " UTC"


def num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return e(value)


CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #f7f7f5; }
header { background: #264653; color: #fff; padding: 0.6rem 1rem; display: flex; gap: 1rem; align-items: center; }
header a { color: #fff; margin-right: 0.8rem; }
.brand { font-weight: bold; }
nav { display: flex; gap: 0.6rem; align-items: center; flex: 1; }
.who { margin-left: auto; }
main { padding: 1rem 1.5rem; max-width: 70rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; background: #fff; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; white-space: nowrap; }
td .reason { white-space: normal; }
th { background: #eef2f2; }
form.inline { display: inline; }
form.stacked label { display: block; margin: 0.4rem 0; }
form.stacked input, form.stacked select { margin-left: 0.5rem; }
form.stacked textarea { display: block; margin-top: 0.3rem; font: inherit; }
.notes { padding-left: 1.2rem; max-width: 48rem; }
.note p { margin: 0.2rem 0; white-space: pre-wrap; }
.error { color: #a4161a; background: #fde8e8; padding: 0.5rem; border-radius: 4px; }
.ok { color: #1b4332; background: #e3f5e9; padding: 0.5rem; border-radius: 4px; }
.box { font-family: ui-monospace, monospace; font-size: 0.9rem; background: #eef2f2; padding: 0 0.3rem;
  border-radius: 3px; }
.boxes strong { background: #264653; color: #fff; padding: 0 0.3rem; border-radius: 3px; }
.box-states { list-style: none; padding-left: 0; margin: 0.3rem 0; }
.box-states li::before { content: "\25CF "; color: #888; }
.box-states li.box-online::before { color: #2a9d8f; }
.box-states li.box-offline::before { color: #a4161a; }
.chain { border-left: 3px solid #e9c46a; padding-left: 0.5rem; max-width: 48rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.chart { background: #fff; border: 1px solid #ddd; }
.reason { color: #444; font-size: 0.9rem; }
.replay canvas { display: block; background: #11151c; border-radius: 4px; max-width: 100%; }
.replay .controls { display: flex; gap: 0.8rem; align-items: center; margin: 0.5rem 0; }
.replay input[type=range] { width: 22rem; }
button.danger { background: #a4161a; color: #fff; border: 0; padding: 0.4rem 0.8rem; border-radius: 4px; }
"""
