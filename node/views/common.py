"""Helpers shared by the blueprints: the node, dates, catalog, case loading."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask import current_app, g
from werkzeug.wrappers import Response

from node.core import Node
from node.errors import NotFound
from node.once import OnceTokens
from schemas.state import local_today


def node() -> Node:
    n: Node = current_app.extensions["bangban_node"]
    return n


def once() -> OnceTokens:
    """The tokens of forms saved (node.once): one save per form shown."""
    tokens: OnceTokens = current_app.extensions["bangban_once"]
    return tokens


def already_saved(page: str) -> Response:
    """The answer to a form sent again (Back then 保存, a double-click): the first save's."""
    from flask import flash, redirect
    from flask_babel import gettext as _

    flash(_("这张表刚才已经保存过，没有重复保存；以下是保存的结果。"), "ok")
    return redirect(page)


def today() -> dt.date:
    """Beijing's date, not the laptop's: deadlines and "today" lists are local dates."""
    return local_today()


def soon(days: int = 3) -> str:
    return (today() + dt.timedelta(days=days)).isoformat()


def catalog() -> list[dict[str, Any]]:
    """Service items (the 清单, 6.2.4) from the local store (synced from the hub), or the
    sample catalog before the first sync so the station can work from day one. Read once
    per request (a list page names an item on every row)."""
    if "catalog" not in g:
        n = node()
        cached = n.cache.get("catalog")
        if cached is None:  # reference data changes only by a pull, which clears the cache
            cached = n.cache["catalog"] = _read_catalog()
        g.catalog, g.catalog_by_code = cached
    items: list[dict[str, Any]] = g.catalog
    return items


def _read_catalog() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The items on the list (active), and every item by code, withdrawn ones too."""
    from sync.errors import NotFound as StoreNotFound
    from sync.reference import latest_in_range

    n = node()
    try:  # the hub's latest revision of each item, not CouchDB's winner (schemas.written)
        docs = latest_in_range(n.store, "service_item:")
    except StoreNotFound:
        docs = []
    items = [d for d in docs if d.get("active", True)]
    if not items:
        items = _sample_catalog()
    # 6.2.4: a withdrawn item (an item split in two withdraws the old code) is offered for
    # no new case, but still names the open ones taken while it was listed: their page,
    # forms A and N, the materials to tick off and the case list lost the item (no
    # checklist to record what the applicant brought, no department, no name)
    by_code = {str(i["code"]): i for i in [*items, *docs] if i.get("code")}
    return sorted(items, key=lambda i: i.get("code", "")), by_code


def item_by_code(code: str | None) -> dict[str, Any] | None:
    """The item ``code`` names, on the list or withdrawn since (the open cases' item)."""
    if not code:
        return None
    catalog()
    item: dict[str, Any] | None = g.catalog_by_code.get(code)
    return item


def listed_item(code: str | None) -> dict[str, Any] | None:
    """The item ``code`` names if it is on the list now (a new case may choose it)."""
    item = item_by_code(code)
    return item if item and item.get("active", True) else None


def item_names() -> dict[str, str]:
    """``code -> name`` of every item, withdrawn ones too (the case lists' column)."""
    catalog()
    return {c: str(i.get("name", "")) for c, i in g.catalog_by_code.items()}


def load_case(case_id: str) -> dict[str, Any]:
    """Header, events (open), folded state and index row of one case."""
    from node.state import fold

    n = node()
    cw = n.casework
    header = cw.header(case_id)
    events = cw.events(case_id)
    opened = n.reading.open_case(case_id, [header, *events])
    priv = opened.get(header["_id"], {})
    if priv and (n.reading.header_changed(case_id) or n.index.tokenless(case_id)):
        # a synced-in case, or a correction of its applicant made elsewhere: findable by
        # the name as it now stands
        n.reindex_case(case_id, private=priv)
    evs = []
    for e in events:
        item = dict(e)
        item.pop("_attachments", None)
        item["private"] = opened.get(e["_id"], {})
        # chunked scans (design.md §4) are listed and served like inline ones
        item["attachment_names"] = sorted({*(e.get("_attachments") or {}),
                                           *(e.get("chunked") or {})})
        evs.append(item)
    try:
        state = fold(header, events, n)
    except Exception as exc:  # a fold error is shown, never hides the case
        state = {"status": "needs_review", "error": str(exc)}
    # the item the application or entrustment chose (the fold's, as the index lists it),
    # else the consultation's: one left open there showed （未定） after the application
    chosen = item_by_code(state.get("service_item") or header.get("service_item"))
    return {"header": header, "private": priv, "events": evs, "state": state,
            "item": _with_notified(chosen, evs, state)}


def _with_notified(item: dict[str, Any] | None, events: list[dict[str, Any]],
                   state: dict[str, Any]) -> dict[str, Any] | None:
    """``item`` with the materials its one-time notification asked for and still missing
    that the list no longer has (the city took them off its checklist since). The case
    still waits for them (schemas.fold), but the clerk ticked a receipt from the list's
    checklist alone and form A listed what is missing from it: the material could never
    be recorded as brought, the case stayed suspendable under 10.2.5.1 a) for good."""
    missing = set(state.get("materials_missing") or [])
    if not item or not missing:
        return item
    listed = {m.get("code") for m in item.get("materials", [])}
    gone = {str(m["code"]): m for e in events if e.get("event_type") == "notification"
            for m in e.get("materials") or []
            if m.get("code") in missing and m.get("code") not in listed}
    return {**item, "materials": [*item.get("materials", []), *gone.values()]} if gone \
        else item


def require(value: Any, what: str) -> Any:
    if value is None:
        raise NotFound(what)
    return value


@functools.cache
def _sample_catalog() -> list[dict[str, Any]]:
    from schemas.sample import catalog as sample_catalog

    return [dict(i, _sample=True) for i in sample_catalog()]
