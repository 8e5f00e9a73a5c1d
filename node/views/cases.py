"""Case list and search (fast at 100,000 cases: the node-local index), and one case's page."""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from node.errors import NotFound
from node.particulars import stored_id_problem
from node.state import allowed_steps
from node.steps import FORM_OF_STEP, FORM_TITLES, STEP_ORDER, STEP_TITLES
from node.views.common import item_by_code, item_names, load_case, node, soon, today
from schemas.ids import CASE_NO_RE
from schemas.state import STATUSES

#: a case number or its start (schemas.ids.CASE_NO_RE: the institution's 6, 9 or 12 digits,
#: a region code, never a phone's leading 0 or an 11-digit mobile; then -year-device-serial),
#: which finds every case here, opened on this laptop or not: a mistyped one was told to
#: search by the case number (the unfound note, index())
CASE_NO_TYPED = re.compile(r"[1-9]\d{5}(?:\d{3}){0,2}(?:-[0-9A-Z-]*)?")

bp = Blueprint("cases", __name__, url_prefix="/cases")

VIEWS = ("", "open", "today", "due_soon", "overdue", "deadline_passed", "needs_review",
         "handed_up", "elsewhere", "pending")


#: Searches remembered per node (the newest kept).
SEARCHES_KEPT = 200


@bp.post("/")
def search() -> Response:
    """A search is posted, then the list shown at an address holding only a token: the
    browser's history (on the laptop's disk, in clear) would otherwise keep every name and
    ID number a clerk searched for (7.2.2.2), and a results page answered to a POST would
    ask to post again when the clerk goes back to it."""
    n = node()
    q = request.form.get("q", "").strip()
    args: dict[str, Any] = {}
    if q:
        token = secrets.token_urlsafe(9)
        n.searches[token] = q
        while len(n.searches) > SEARCHES_KEPT:
            n.searches.pop(next(iter(n.searches)))
        args["s"] = token
    view = request.form.get("view", "")
    if view in VIEWS and view:
        args["view"] = view
    status = request.form.get("status", "")
    if status in STATUSES:  # the list's status filter (咨询待答复 apart from 咨询已答复)
        args["status"] = status
    if request.form.get("handed", "") == "1":
        args["handed"] = "1"
    if request.form.get("institution", ""):
        args["institution"] = request.form["institution"]
    return redirect(url_for("cases.index", **args))


@bp.get("/")
def index() -> str:
    n = node()
    args = request.args
    view = args.get("view", "") if args.get("view", "") in VIEWS else ""
    # the town's "handed up, open / overdue" tiles open these lists (counts(handed=True))
    handed = args.get("handed", "") == "1"
    # ?institution=CODE: the cases registered there (the town's per-station 上报在办 column)
    origin = args.get("institution", "")
    token = args.get("s", "")
    q = n.searches.get(token, "") if token else args.get("q", "")
    status = args.get("status", "") if args.get("status", "") in STATUSES else ""
    page = n.index.search(q=q, status=status,
                          service_item=args.get("item", ""), view=view,
                          today=today().isoformat(), soon=soon(), cursor=args.get("after"),
                          limit=int(n.settings.page_size), holder=n.institution,
                          handed=handed, institution=origin)
    n.reading.note_search(q, page.rows)  # a search by a person is a reading (reading.py)
    items = item_names()
    # a name, ID number or phone finds only the cases opened on this laptop (node.core
    # index_entry): a case the station's other laptop opened is found by its number
    unfound = n.index.tokenless(later=False) if q and not page.rows and \
        not args.get("after") and \
        not CASE_NO_TYPED.fullmatch(unicodedata.normalize("NFKC", q).strip().upper()) else 0
    # the tokens owed still being made (after an unlock, node.tokenmaker.OwedTokens; a pull's
    # catch-ups): said while they are, found or not, as a result list may lack some of them
    indexing = n.index.tokenless(later=True)
    return render_template("cases.html", page=page, items=items, view=view, args=args,
                           unfound=unfound, indexing=indexing,
                           offline=n.syncer.state.status == "offline",
                           handed=handed, origin=origin, q=q, token=token if q else "",
                           status=status, statuses=STATUSES,
                           forgotten=bool(token) and not q)


def _staff_labels(case: dict[str, Any]) -> dict[str, str]:
    """Doc id -> its 经办人 as ``name（id）`` from the roster of the institution that recorded
    it (8.1.2; node.window), the id alone when no roster lists it: two clerks of one station
    are told apart on the case's record (11.2.2)."""
    from node import formdata
    from node.views.forms import recorded_by_hub
    from node.window import staff_name

    n, header = node(), case["header"]
    out = {}
    for doc in (header, *case["events"]):
        staff = str(doc.get("staff") or "")
        if not staff and doc.get("type") == "event" and recorded_by_hub(doc):
            # a 10.2.5.2 termination or a complaint taken at the hub: the record says the
            # platform did it, as form B does (formdata.hub_step_text), not a blank 经办人
            out[str(doc["_id"])] = formdata.hub_step_text(doc)
            continue
        if staff:
            name = staff_name(n, staff, doc.get("institution"), header.get("institution"))
            if not name and staff == str(doc.get("device") or ""):
                # no roster then: recorded under the laptop (名册为空：以设备记录), said so, not a
                # bare code under 经办人 that reads as a person's
                name = gettext("以设备记录")
            out[str(doc["_id"])] = f"{name}（{staff}）" if name else staff
    return out


def review_rows(case: dict[str, Any], staff_of: dict[str, str]) -> list[dict[str, Any]]:
    """The case's steps the fold kept but did not apply (design.md §3), each as the clerks
    know it: which step, when, by whom on which laptop, and the rule it broke. The page said
    only 需复核: nothing told the two clerks which of their steps did not count, nor why."""
    from flask_babel import get_locale

    from node.drafts import status_words
    from node.labels import local_time

    en = str(get_locale() or "").startswith("en")
    by_hlc = {str(e.get("hlc")): e for e in case["events"]}
    out = []
    for r in (case.get("state") or {}).get("reviews") or []:
        e = by_hlc.get(str(r["event_id"]), {})
        device = str(e.get("device") or "")
        out.append({"hlc": r["event_id"], "title": STEP_TITLES.get(r["event_type"], r["event_type"]),
                    "at": local_time(e.get("at")), "staff": staff_of.get(str(e.get("_id")), ""),
                    "laptop": device.rsplit("-", 1)[-1] if device else "",
                    "why": r["message_en"] if en else status_words(r["message_zh"], node().name_of),
                    "clause": r["clause"]})
    return out


def follow_up_due(events: list[dict[str, Any]]) -> bool:
    """The applicant rated the service 不满意 or 非常不满意 (11.2.1: the institution improves
    accordingly) and nothing was recorded since that the hub counts as following it up (a
    work-log entry or a complaint handled: hub/oversight/facts.py). The supervisors saw
    差评 … 已回访 … and the station was never told a call back was due."""
    from schemas.state import followed_up
    from schemas.vocab import BAD_RATINGS

    ratings = [e for e in events if e.get("event_type") == "rating"]
    return bool(ratings) and ratings[-1].get("level") in BAD_RATINGS \
        and not followed_up(events, ratings[-1])


@bp.get("/<case_id>")
def detail(case_id: str) -> Any:
    n = node()
    if CASE_NO_RE.match(case_id):  # a number typed in (the board and a call give numbers)
        held = [r for r in n.index.search(q=case_id, limit=2).rows if r["case_no"] == case_id]
        if held:
            return redirect(url_for("cases.detail", case_id=held[0]["case_id"]))
    if n.index.get(case_id) is None:
        try:
            n.casework.header(case_id)
        except NotFound:
            raise
    case = load_case(case_id)
    allowed = allowed_steps(case["header"], case["events"], STEP_ORDER, n)
    from node.applicant_cases import applicant_cases
    from node.notices import about_case
    from node.views.handling import item_words

    printed = request.args.get("printed", "")  # the step just saved issues this form
    from node.formdata import not_applied

    staff_of = _staff_labels(case)
    return render_template("case.html", case=case, steps=allowed, staff_of=staff_of,
                           form_titles=FORM_TITLES,
                           reviews=review_rows(case, staff_of),
                           unapplied=not_applied(case.get("state") or {}),
                           withdrawn={str(w.get("completion")) for w in  # 撤销办结
                                      (case.get("state") or {}).get("withdrawals") or []},
                           more=[s for s in STEP_ORDER if s not in allowed], titles=STEP_TITLES,
                           forms=FORM_OF_STEP, notices=about_case(n, case_id),
                           refs=item_words(case), follow_up=follow_up_due(case["events"]),
                           related=applicant_cases(n, case_id, case["private"], item_by_code,
                                                   case.get("state")),
                           print_now=printed if printed in FORM_OF_STEP.values() else None,
                           # a number stored before the check: flagged (node.views.applicant)
                           id_problem=stored_id_problem(case["private"], today()))
