"""Starting a session for a member at the corner, from their page (admin, trainer).

The button on the member's page posts (with the login's CSRF token) to
/members/N/start; the dashboard sends `start_session {"member": "<id>"}` to the box's
device over MQTT (`corner.CornerLink`) and shows what the device answered: the member it
now coaches and today's plan, or its error, or that no reply came in time, or that the
broker is out of reach. The status says which (200, 502, 504, 503), so a script can tell.
A dashboard on a chain's server has no corner: the member's page says where sessions start
instead of the button, and a POST is 503 with that line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gymcorner.dashboard.chain import NO_CORNER, chain_note
from gymcorner.dashboard.corner import CornerReply, Outcome
from gymcorner.dashboard.html import e, message
from gymcorner.dashboard.security import Login
from gymcorner.history.store import Member

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

STATUS = {Outcome.DONE: 200, Outcome.REFUSED: 502, Outcome.NO_REPLY: 504, Outcome.UNREACHABLE: 503}
MQTT_OFF = "no corner to start a session on: MQTT is off in this box's config ([mqtt] enabled = false)"


def start_button(dash: Dashboard, login: Login, member: Member) -> str:
    """The form on a member's page (staff, and only when the box speaks MQTT); on a chain's
    server, the line that says where sessions start."""
    if login.role not in ("admin", "trainer"):
        return ""
    if not dash.history.on_box:
        return chain_note(dash, NO_CORNER[:1].upper() + NO_CORNER[1:] + ".")
    if dash.corner is None:
        return ""
    return (
        f'<form method="post" action="/members/{member.id}/start" class="inline">'
        f'<input type="hidden" name="csrf" value="{e(login.csrf)}">'
        f'<button type="submit">Start session for this member on {e(dash.corner.device_id)}</button></form>'
    )


async def start_session(request: Request, dash: Dashboard, login: Login, form: dict[str, str]) -> Response:
    member_id = int(request.path_params["member_id"])
    member = await dash.db(lambda s: s.member(member_id))
    title = f"Start a session for {member.display_name}"
    back = f'<p><a href="/members/{member.id}">Back to {e(member.display_name)}</a></p>'
    if dash.corner is None:
        return dash.page(title, message(MQTT_OFF if dash.history.on_box else NO_CORNER) + back, login, 503)
    answer = await run_in_threadpool(dash.corner.start_session, member_id)
    return dash.page(title, _answer(answer, dash.corner.device_id, member) + back, login, STATUS[answer.outcome])


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
