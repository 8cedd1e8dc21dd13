"""Starting a session for a member from their page (admin, trainer): at the box's own
corner, or, on a chain's server, at the box of the chain the trainer picks.

The button on the member's page posts (with the login's CSRF token) to /members/N/start
and the dashboard shows what the device answered: the member it now coaches and today's
plan, or its error, or that no reply came in time, or that the broker is out of reach.
The status says which (200, 502, 504, 503), so a script can tell.

* **On a box**: `start_session {"member": "<id>"}` to the box's device over `[mqtt]`
  (`corner.CornerLink`).
* **On a chain's server**: the form also picks a box (the boxes the chain knows: a session
  uploaded under their device id, `history.browse.boxes`; `box` in the POST must be one of
  them, else 400 and nothing is sent), and the command goes to that box's device id through
  the chain's broker, `[dashboard.chain_mqtt]` (`corner.ChainCorners`), naming the member
  by name: `start_session {"member_key": "<name key>"}`. The server's member ids are not the
  box's; the server keys members by the name key boxes upload them under (history/sync.py),
  so the box finds its own record of them (every box has the chain's members from its last
  sync: history/profiles.py), or refuses when it has none (added on the chain since that
  sync). Without a chain broker the page says so in one line and a POST is 503.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gymcorner.config.device import DEVICE_ID_PATTERN
from gymcorner.dashboard.chain import NO_CORNER, chain_note
from gymcorner.dashboard.corner import CornerReply, Outcome
from gymcorner.dashboard.html import e, message
from gymcorner.dashboard.security import Login
from gymcorner.history.store import Member, Store

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

STATUS = {Outcome.DONE: 200, Outcome.REFUSED: 502, Outcome.NO_REPLY: 504, Outcome.UNREACHABLE: 503}
MQTT_OFF = "no corner to start a session on: MQTT is off in this box's config ([mqtt] enabled = false)"
NO_BOXES = "no box to start a session on: none has uploaded a session to this server yet"
BY_NAME = "The box looks them up by name: a box that has not synced since they were added refuses."


async def start_form(dash: Dashboard, login: Login, member: Member, last_box: str | None) -> str:
    """The form on a member's page (staff, and only where a device can be reached); on a
    chain's server it picks the box (`last_box`, where they trained last, chosen first), or
    says in one line why there is none."""
    if login.role not in ("admin", "trainer"):
        return ""
    if not dash.history.on_box:
        return await _chain_form(dash, login, member, last_box)
    if dash.corner is None:
        return ""
    return (
        f'<form method="post" action="/members/{member.id}/start" class="inline">'
        f'<input type="hidden" name="csrf" value="{e(login.csrf)}">'
        f'<button type="submit">Start session for this member on {e(dash.corner.device_id)}</button></form>'
    )


async def _chain_form(dash: Dashboard, login: Login, member: Member, last_box: str | None) -> str:
    if dash.chain is None:
        return chain_note(dash, NO_CORNER[:1].upper() + NO_CORNER[1:] + ".")
    known = await dash.db(startable)
    if not known:
        return chain_note(dash, NO_BOXES[:1].upper() + NO_BOXES[1:] + ".")
    chosen = last_box if last_box in known else known[0]
    options = "".join(
        f'<option value="{e(box)}"{" selected" if box == chosen else ""}>{e(box)}</option>' for box in known
    )
    return (
        f'<form method="post" action="/members/{member.id}/start" class="inline">'
        f'<input type="hidden" name="csrf" value="{e(login.csrf)}">'
        f'<label>Box <select name="box">{options}</select></label> '
        f'<button type="submit">Start session for this member on the chosen box</button></form>'
        + _box_states(dash, known)
        + chain_note(dash, BY_NAME)
    )


def _box_states(dash: Dashboard, known: Sequence[str]) -> str:
    """Each box as the chain's broker last heard of it (online, offline, nothing heard)."""
    if dash.boxes is None:
        return ""
    items = []
    for box in known:
        status = dash.boxes.of(box)
        items.append(f'<li class="box-{e(status.state)}"><span class="box">{e(box)}</span>: {e(status.line)}</li>')
    return '<ul class="box-states" aria-label="Boxes">' + "".join(items) + "</ul>"


def startable(store: Store) -> list[str]:
    """The boxes of the chain a session can be started on: every device id the server has
    sessions of that is a device id a topic can carry (one level, no wildcard)."""
    from gymcorner.history.browse import boxes

    return [box for box, _ in boxes(store) if re.fullmatch(DEVICE_ID_PATTERN, box)]


async def start_session(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    member_id = int(request.path_params["member_id"])
    member = await dash.db(lambda s: s.member(member_id))
    title = f"Start a session for {member.display_name}"
    back = f'<p><a href="/members/{member.id}">Back to {e(member.display_name)}</a></p>'
    if not dash.history.on_box:
        return await _start_on_box(dash, login, member, form.get("box", "").strip(), title, back)
    if dash.corner is None:
        return dash.page(title, message(MQTT_OFF) + back, login, 503)
    answer = await run_in_threadpool(dash.corner.start_session, member_id)
    return dash.page(title, _answer(answer, dash.corner.device_id, member) + back, login, STATUS[answer.outcome])


async def _start_on_box(dash: Dashboard, login: Login, member: Member, box: str, title: str, back: str) -> Response:
    """The chain's way: the chosen box, through the chain's broker, the member by name."""
    if dash.chain is None:
        return dash.page(title, message(NO_CORNER) + back, login, 503)
    known = await dash.db(startable)
    if box not in known:
        said = f"no box {box!r} in this chain: choose one of" if box else "choose a box: one of"
        said += f" {_listed(known)}"
        return dash.page(title, message(said) + back, login, 400)
    answer = await run_in_threadpool(dash.chain.link(box).start_named, member.display_name)
    return dash.page(title, _answer(answer, box, member) + back, login, STATUS[answer.outcome])


def _listed(boxes: Sequence[str]) -> str:
    return ", ".join(boxes) if boxes else "none (no box has uploaded a session yet)"


def _answer(answer: CornerReply, device_id: str, member: Member) -> str:
    if answer.outcome is not Outcome.DONE:
        return message(answer.line)
    said = message(f"{device_id} coaches {member.display_name} now: their session has started", "ok")
    plan = answer.reply.get("plan")
    if isinstance(plan, dict) and isinstance(plan.get("items"), list):
        items = "".join(
            f"<li>{e(i.get('exercise'))}: {e(i.get('sets'))} × {e(i.get('reps'))} {e(i.get('unit'))}, "
            f"{e(i.get('rest_s'))} s rest</li>"
            for i in plan["items"]
            if isinstance(i, dict)
        )
        said += f'<h2>Today\'s plan</h2><ul class="plan">{items}</ul>'
    elif answer.reply.get("plan_error"):
        said += message(f"no plan today: {answer.reply['plan_error']}", "reason")
    return said


def routes(guarded: Callable[..., Any]) -> list[Route]:
    return [Route("/members/{member_id:int}/start", guarded(start_session, ("admin", "trainer")), methods=["POST"])]
