"""The town coordinator's view (4.3): the villages' open cases from the hub's coordination
boards (design.md §5: the cleartext of the subtree), cases handed up, and assigning work
down (hand-down).

A village's case documents reach the town only once handed up; what the town sees of the
rest is the hub's ``board:{village}`` (schemas/boards.py): case number, item, status, staff
and deadlines, no personal data. Overdue is computed here from today's date, so the page is
right offline as well; the board's ``as_of`` says how fresh the rest is."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node.views.common import node, soon, today
from schemas.boards import BOARD_PREFIX, MAX_ROWS, board_view
from schemas.errors import SchemaError

bp = Blueprint("town", __name__, url_prefix="/town")
#: Board rows on one page of the list (late first), ``?page=N`` for the next; ``/api/town``
#: returns them all. A busy town's 40 villages put 3,000 rows on their boards (design.md
#: §7); the page listed the first 300 and sent the coordinator to the JSON API for the rest.
BOARD_PAGE_ROWS = 100
#: The list's filters a page link and a notice's return keep (validated in :func:`index`).
FILTERS = ("institution", "overdue", "q", "page")


def villages() -> list[dict[str, Any]]:
    """Institutions whose parent is this one (from the synced reference data)."""
    from sync.reference import latest_in_range

    n = node()  # the rosters the hub wrote last (schemas.written)
    here = n.institution  # read once: each read opens the enrollment file
    return [d for d in latest_in_range(n.store, "institution:") if d.get("parent") == here]


def boards() -> list[dict[str, Any]]:
    """The coordination boards this node received (only those of institutions below it
    reach it: the hub sends a board to its ``audience``)."""
    from sync.reference import latest_in_range

    n = node()  # each the board the hub wrote last (schemas.written)
    here = n.institution
    return [d for d in latest_in_range(n.store, BOARD_PREFIX) if here in d.get("audience", ())]


#: Per node (this process's, or a test's): the last value of each :func:`memo` name, with
#: the store's seq and the date it was built at.
_MEMO: weakref.WeakKeyDictionary[Any, dict[str, tuple[tuple[Any, str], Any]]] = \
    weakref.WeakKeyDictionary()
#: Changes read to tell whether any touched a memo's documents; more, and it is rebuilt.
SEEN_CHANGES = 1000


def memo(name: str, build: Callable[[], Any], prefixes: tuple[str, ...],
         update: Callable[[Any, list[str]], Any] | None = None) -> Any:
    """``build()``, again only once a document whose id starts with one of ``prefixes``
    changed in the store, or the date did; with ``update``, ``update(value, ids)`` takes
    in the few such documents changed since instead. The boards change only with a pull,
    and every page of the list, each filter and search and each return from an urge read
    and ordered them all again: a county's 600 boards (28,000 rows) took seconds a page
    (docs/benchmarks.md, town). The value is shared: callers must not change it."""
    n = node()
    seq, day = n.store.info()["update_seq"], today().isoformat()
    mine = _MEMO.setdefault(n, {})
    hit = mine.get(name)
    if hit is not None and hit[0][1] == day:
        if hit[0][0] == seq:
            return hit[1]
        changed = n.store.changes(since=hit[0][0], limit=SEEN_CHANGES)["results"]
        ids = [str(c["id"]) for c in changed if str(c["id"]).startswith(prefixes)]
        if len(changed) < SEEN_CHANGES and (not ids or update is not None):
            # other documents only (cases, notices), or a few to take in
            mine[name] = ((seq, day), update(hit[1], ids) if ids and update else hit[1])
            return mine[name][1]
    value = build()
    mine[name] = ((seq, day), value)
    return value


def overview() -> dict[str, Any]:
    """Per institution below this one: the board's counts beside the handed-up ones; and
    every board's open cases, late ones first (the page and ``/api/town`` share it)."""
    n = node()
    t = today().isoformat()
    # read from the index each time (a case handed down here changes them; 1 ms)
    here = n.institution
    handed = {r["institution"]: r for r in n.index.by_institution(today=t, holder=here)
              if r["institution"] != here}
    held = memo("boards", _boards_view, (BOARD_PREFIX, "institution:"))
    per = []
    for code in sorted(held["codes"] | set(handed)):
        h = handed.get(code, {})
        # 上报在办 per station: what the 上报在办 tile counts, of this station (the cases
        # handed up that this centre holds, open); ``handed_ever`` also counts those handed
        # back down or finished, which is why it is not what the column shows
        per.append({"institution": code, "board": held["summaries"].get(code),
                    "handed_ever": h.get("handed_ever") or 0,
                    "handed_open": h.get("held_open") or 0,
                    "handed_overdue": h.get("held_overdue") or 0})
    return {"per_institution": per, "board_rows": held["rows"]}


def _boards_view() -> dict[str, Any]:
    """The boards' part of :func:`overview`: each board's counts, every row in order."""
    held = boards()
    summaries, rows = board_view(held, today().isoformat(), soon())
    return {"codes": {v["code"] for v in villages()} | {b["institution"] for b in held},
            "summaries": {s["institution"]: s for s in summaries}, "rows": rows}


def urged() -> dict[tuple[str, str], dict[str, Any]]:
    """This institution's latest notice per (station, case) (:func:`node.notices.
    sent_by_case`), the notices written since taken in as they come."""
    from node.notices import sent_by_case, sent_since

    n = node()
    return memo("urged", lambda: sent_by_case(n), ("notice:",),  # type: ignore[no-any-return]
                lambda value, ids: sent_since(n, value, ids))


@bp.get("/")
def index() -> str:
    n = node()
    t = today().isoformat()
    names = memo("names", lambda: {v["code"]: v.get("name", v["code"]) for v in villages()},
                 ("institution:",))
    view = overview()
    page = n.index.search(view="handed_up", today=t, soon=soon(), limit=int(n.settings.page_size))
    rows = view["board_rows"]
    # ?institution=CODE: the cases behind one station's counts (4.2 coordination)
    only = request.args.get("institution", "")
    if only:
        from node.errors import InvalidInput

        if only not in {r["institution"] for r in view["per_institution"]}:
            raise InvalidInput("institution: 不是本中心下辖机构 / not an institution below this one",
                               fields={"institution": "不是下辖机构 / not below this one"})
        rows = [r for r in rows if r["institution"] == only]
    # ?overdue=1: the rows the 下辖超期 tile and the per-station 超期 column count (the time
    # limit passed, schemas.overdue); the page listed every open row behind them before
    late_only = request.args.get("overdue") == "1"
    if late_only:
        rows = [r for r in rows if "due" in r["late"]]
    # ?q=: a case number (or a part of one) asked about on the telephone; the boards carry
    # no names (design.md §5), so a name is searched among the cases handed up instead
    q = request.args.get("q", "").strip()
    if q:
        rows = [r for r in rows if q.upper() in str(r.get("no") or "").upper() or q == r["case"]]
    number, pages = page_number(request.args.get("page"), len(rows))
    rows_here = rows[(number - 1) * BOARD_PAGE_ROWS:number * BOARD_PAGE_ROWS]
    staff_names = board_staff_names(rows_here)
    shown = [r["board"] for r in view["per_institution"] if r["board"]]
    totals = {k: sum(b[k] for b in shown) for k in ("open", "overdue")}
    from schemas.notices import NOTICE_REASONS

    return render_template("town.html", per=view["per_institution"], names=names, page=page,
                           staff_names=staff_names, unclaimed=unclaimed(rows_here),
                           # a county's list mixes its towns and their villages (4.3)
                           below_towns=n.tier in ("county", "city"),
                           board_rows=rows_here, totals=totals, rows_total=len(rows),
                           urged=urged(),
                           reasons=list(NOTICE_REASONS), only=only,
                           late_only=late_only, q=q, number=number, pages=pages,
                           filters={"institution": only or None, "overdue": 1 if late_only
                                    else None, "q": q or None},
                           # open cases the hub left off full boards (schemas.boards.MAX_ROWS)
                           max_rows=MAX_ROWS,
                           left_off=[r for r in view["per_institution"]
                                     if r["board"] and r["board"]["more"]
                                     and (not only or r["institution"] == only)],
                           counts=n.index.counts(today=t, soon=soon(), handed=True,
                                                 holder=n.institution))


def page_number(raw: str | None, rows: int) -> tuple[int, int]:
    """``(page, pages)`` of the board rows from ``?page=`` (1 when absent)."""
    from node.errors import InvalidInput

    pages = max(1, -(-rows // BOARD_PAGE_ROWS))
    if raw in (None, ""):
        return 1, pages
    if not (raw.isdigit() and 1 <= int(raw) <= pages):
        raise InvalidInput(f"page: 应为 1–{pages} 的整数 / a whole number from 1 to {pages}",
                           fields={"page": f"1–{pages}"})
    return int(raw), pages


def board_staff_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Case id -> the name of its board row's staff (8.1.2). The row carries the staff id
    (cleartext), named from the roster of the institution holding the case, else of the one
    that opened it (an older hub's row of a case handed on kept its opener until the holder
    recorded a step; a newer one names nobody then: :func:`unclaimed`). Only the direct children's rosters were read: a county's page
    showed its villages' staff, and a town's the staff of a case handed up, as bare ids."""
    from schemas.reference import staff_names
    from sync.errors import NotFound
    from sync.reference import read_latest

    rosters: dict[str, dict[str, str]] = {}

    def roster(code: str) -> dict[str, str]:
        if code not in rosters:
            try:
                rosters[code] = staff_names(read_latest(node().store, f"institution:{code}"))
            except NotFound:
                rosters[code] = {}
        return rosters[code]

    out = {}
    for r in rows:
        sid = str(r.get("staff") or "")
        if not sid:
            continue
        origin = case_origin(str(r["case"]))
        name = roster(str(r["institution"])).get(sid) or (origin and roster(origin).get(sid))
        if name:
            out[str(r["case"])] = name
    return out


def case_origin(case_id: str) -> str:
    """The institution that registered a case: its id is the opening device's clock
    (schemas/ids.py); "" for an id that is not one."""
    from schemas.hlc import unpack
    from schemas.ids import split_device_id

    try:
        return split_device_id(unpack(case_id).node)[0]
    except (SchemaError, ValueError):
        return ""


def unclaimed(rows: list[dict[str, Any]]) -> set[str]:
    """The cases on a board that nobody at their holder has taken yet: handed down (or up)
    and no step recorded there, the hub's row naming no one (hub.oversight.boards: it named
    the registering clerk at the other station). What the coordinator needs is the holder,
    in the row, and that it waits there: 待接办, not a person."""
    return {str(r["case"]) for r in rows if not r.get("staff")
            and case_origin(str(r["case"])) not in ("", str(r["institution"]))}


@bp.post("/notice")
def notice() -> Response:
    """Urge a station about a case its board lists (4.2): only what the board shows here."""
    doc = urge(request.form.get("to", ""), request.form.get("case", ""),
               request.form.get("reason", "follow_up"))
    flash(_("已催办：") + str(doc.get("case_no") or doc["case_id"]), "ok")
    # back to the page of the list the row was urged from (query values only: no open redirect)
    back: dict[str, Any] = {k: request.form[k] for k in FILTERS if request.form.get(k)}
    return redirect(url_for("town.index", **back) + "#board-rows")


@bp.post("/notice/late")
def notice_late() -> Response:
    """Urge every row the 超期 filter lists (all stations, or ``institution``'s) at once,
    each with the reason 办理时限已过; a row already urged today is left out, so a second
    press the same day sends nothing twice. One notice a row took a page round trip each:
    a town's 150 late cases of a Monday were 150 presses and page loads."""
    only = request.form.get("institution", "")
    sent = urge_late(only)
    flash(_("已催办 %(n)s 件超期办件（今天已催办的不重复发送）。", n=len(sent)), "ok")
    return redirect(url_for("town.index", overdue=1, institution=only or None) + "#board-rows")


def urge_late(only: str = "") -> list[dict[str, Any]]:
    """The notices urging the overdue board rows (of station ``only``, or all) not urged
    today (the page and ``POST /api/town/notice/late`` share it)."""
    from node.notices import send_many
    from schemas.state import local_timestamp

    n = node()
    day = today().isoformat()
    last = urged()
    rows = [(str(r["institution"]), r) for r in overview()["board_rows"]
            if "due" in r["late"] and (not only or r["institution"] == only)
            and local_timestamp(str(last.get((r["institution"], r["case"]), {}).get("at", "")))[:10]
            != day]
    return send_many(n, rows, "due")


def urge(to: str, case: str, reason: str) -> dict[str, Any]:
    """The notice about ``case`` for station ``to``, if its board lists the case here (the
    page and ``POST /api/town/notice`` share it)."""
    from node.errors import InvalidInput
    from node.notices import send
    from sync.errors import NotFound
    from sync.reference import read_latest

    n = node()
    try:  # that station's board only (a county's urge read all 600 of them)
        board = read_latest(n.store, f"{BOARD_PREFIX}{to}") if to else {}
    except NotFound:
        board = {}
    if n.institution not in board.get("audience", ()):  # sent here by the hub, as boards()
        board = {}
    row = next((r for r in board.get("cases", ()) if r.get("case") == case), None)
    if row is None:
        raise InvalidInput("case: 该办件不在下辖机构的看板上 / the case is not on that station's board",
                           fields={"case": "不在看板上 / not on the board"})
    return send(n, row, to, reason)
