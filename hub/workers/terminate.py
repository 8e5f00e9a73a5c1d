"""10.2.5.2: a suspended case past its resumption deadline is terminated by the hub.

The termination is an ordinary event, written by the hub's own device (``{city}-HUB``),
signed with its key. Its private part (the reason text) must be sealed like every
event's, but the hub holds no case key (design.md §5). So it makes a fresh data key
generation for this one event, wraps it with F's :func:`sync.crypto.add_recipient`
for every recipient of the case's keyring (public keys only, from the verified
directory) and escrow, and seals with it. The keyring's ``current`` generation is
left unchanged, so nodes keep sealing with a key the hub never knew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.sealing import next_clock, store_hub_event
from schemas import build
from schemas.fold import fold
from schemas.state import CLOSED  # no deadline runs: dropped from the watch
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.core import Hub



def calendars(hub: Hub) -> list[dict[str, Any]]:
    res = hub.stores.main.all_docs(startkey="calendar:", endkey="calendar:\ufff0",
                                   include_docs=True, offset=False)
    return [r["doc"] for r in res["rows"] if r.get("doc")]


def terminate_if_due(hub: Hub, case_id: str, events: Sequence[Mapping[str, Any]],
                     today: dt.date) -> tuple[str, Any]:
    """``("terminated" | "overdue" | "closed" | "open", the folded state)``."""
    if not events:
        return "open", None
    state = fold(events, calendars=calendars(hub), as_of=today)
    if state.status in CLOSED:
        return "closed", state
    if "resumption_deadline" not in state.overdue:
        return ("overdue" if state.overdue else "open"), state
    write_termination(hub, case_id, base_hlc=state.last_hlc, today=today)
    return "terminated", state


def write_termination(hub: Hub, case_id: str, *, base_hlc: str | None,
                      today: dt.date) -> dict[str, Any]:
    clock = next_clock(hub, base_hlc)
    at = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    event = build.make_event(
        "termination", case_id=case_id, clock=clock, at=at, institution=hub.identity["city"],
        base_hlc=base_hlc, reason="resumption_deadline_passed",
        private={"reasons": "超过续办期限，视为终止（10.2.5.2） / resumption deadline passed"})
    try:
        return store_hub_event(hub, case_id, event)
    except NotFound:
        raise NotFound(f"case {case_id} has no keyring at the hub") from None
