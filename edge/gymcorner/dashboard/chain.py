"""What a dashboard on a chain's PostgreSQL server says that a box's own dashboard does not.

The chain's server holds what the boxes uploaded (`gymcorner history sync`, one way: box to
server) and what is written on its own dashboard. Some things exist only on a box, and
some changes made on the server never reach the boxes; the pages say so where it matters,
in one line each, instead of offering what cannot work:

* a session's replay: landmarks stay on the box that recorded them (they are not uploaded);
* "start session for this member", unless the chain's broker is configured
  ([dashboard.chain_mqtt], start.py): a box's dashboard talks to its own corner over MQTT,
  and a chain's dashboard has no corner of its own;
* a note written here reaches the box that recorded the session at its next sync
  (history/notes.py: chain notes), and is edited here only; a member added, edited,
  renamed or deleted here reaches every box at its next sync (history/profiles.py,
  history/member_changes.py), by name.

On a box (`History.on_box`) every function here returns "" or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gymcorner.dashboard.html import e

if TYPE_CHECKING:
    from gymcorner.dashboard.app import Dashboard

NO_CORNER = (
    "sessions start at a corner: this dashboard has no broker to reach the boxes' corners through "
    "([dashboard.chain_mqtt] enabled = false), so open this member on the dashboard of the box they train at"
)
NO_REPLAY = (
    "the replay stays on {box}, the box that recorded it: a chain's server keeps sessions, not landmarks "
    "(open the session on that box's dashboard)"
)
MEMBER_FORM = (
    "Changes here reach every box at its next sync. A new name too: boxes know "
    "members by name, so the member keeps all of their sessions under the new one. A name another member has "
    "already merges the two. If a box's dashboard changes the same profile before then, the later change wins."
)
MEMBER_DELETE = (
    "This deletes them from the whole chain: here at once, and on every box at its next sync (the sessions it "
    "recorded of them up to now). Someone added later under the same name is a new member."
)
NOTES = (
    "A note written here reaches the box that recorded the session at its next sync; it is edited here only."
)
USERS = "These are the chain dashboard's users, kept on its server; each box's dashboard has its own."


def chain_note(dash: Dashboard, text: str, **values: str) -> str:
    """`text` as a paragraph on a chain's dashboard; "" on a box."""
    if dash.history.on_box:
        return ""
    return f'<p class="reason chain">{e(text.format(**values))}</p>'


def no_replay(dash: Dashboard, box: str) -> str | None:
    """Why a session has no replay here, on a chain's server (None on a box: its own reasons)."""
    return None if dash.history.on_box else NO_REPLAY.format(box=box)
