"""The oversight blueprint: server-rendered pages, zh-CN first, no script, no CDN.

Supervisors log in (``/oversight/login``) and see their subtree; ``scope`` narrows it
to one institution below. Period = ``from``/``to`` months (``YYYY-MM``); ``as_of``
(a date) fixes "today" for the live lists (used by tests and reports).
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from markupsafe import Markup, escape

from hub.errors import BadInput, HubError
from hub.oversight import clocks as clk
from hub.oversight import indicators as ind
from hub.oversight import login as auth
from hub.oversight import supervisors as sup
from hub.oversight.charts import rate_bars, stacked_ratings
from hub.oversight.facts import RATING_LEVELS
from hub.oversight.login import login_required, script_nonce
from hub.oversight.outage import store_failed_page
from hub.oversight.params import period_params
from schemas.event_types import EVENT_SCHEMAS
from schemas.state import STATUS_LABELS
from schemas.vocab import COMPLAINT_CATEGORIES, COMPLAINT_RESULTS
from sync.errors import SyncError

blueprint = Blueprint("oversight", __name__, url_prefix="/oversight",
                      template_folder="templates", static_folder="static",
                      static_url_path="/static")

RATING_ZH = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
             "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
#: A step as the standard names it (上报, not hand_up): the case page's and the 补录 list's 环节
STEP_ZH = {code: cls.LABEL_ZH for code, cls in EVENT_SCHEMAS.items()}
#: Rows a page of a full case list shows (``/oversight/cases/NAME``); the dashboard shows
#: the first DASHBOARD_LIST_ROWS of each list and links to the rest.
CASES_PER_PAGE, DASHBOARD_LIST_ROWS = 50, 20
#: Overdue cases the 11.1 checks report lists (the earliest deadlines; it says so, and
#: links to the full list, when there are more).
CHECKS_LIST_ROWS = 100


def _ov() -> Any:
    from hub.oversight import oversight_for

    return oversight_for(current_app)


_csrf, _check_csrf = auth.csrf_token, auth.check_csrf  # the names the views use
blueprint.after_request(auth.no_store)


@blueprint.errorhandler(HubError)
def refused(exc: HubError | SyncError) -> Any:
    """People read these pages: a browser gets the refusal (the argument and its rule, in
    both languages) on a page of the dashboard; other clients the hub's JSON, as before."""
    # best_match, not best: Chromium lists image types at q=1 beside text/html, and a
    # client sending */* (curl, the tests) gets the first offer, JSON
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
        return Response(json.dumps(exc.as_json(), ensure_ascii=False) + "\n",
                        status=exc.status, content_type="application/json")
    return render_template("oversight/error.html", exc=exc, p=None), exc.status


blueprint.register_error_handler(SyncError, store_failed_page)  # the store down: a page


def _no_page(rule: str, zh: str) -> HubError:
    return HubError(f"{rule} / {zh}", status=404, error="not_found")


@blueprint.route("/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
def no_such_page(rest: str) -> Any:
    """Any other address under /oversight/ (mistyped, a link cut short, ``GET /logout``):
    it fell through to the replication endpoint's ``/<db>/<path>``, whose JSON asked a
    supervisor's browser for "HTTP Basic with device id and secret" (401); a page instead."""
    raise _no_page(f"/oversight/{rest}: no such page of the oversight dashboard",
                   "监督平台没有这个页面，请从总览进入")


@blueprint.app_template_filter("pct")
def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@blueprint.context_processor
def _context() -> dict[str, Any]:
    return {"csrf_token": _csrf, "supervisor": getattr(g, "supervisor", None),
            "oversight_behind": _ov()._materializer is not None and _ov().behind,
            "levels": sup.LEVELS, "rating_zh": RATING_ZH, "status_zh": STATUS_LABELS,
            "step_zh": STEP_ZH, "staff_label": _staff_label, "clause9": ind.CLAUSE9_COLUMNS,
            "script_nonce": script_nonce}  # a complaint box's count (static/count.js)



def _staff_label(code: str, staff_id: str | None) -> str:
    """A staff id as the lists show it: with the name from the roster (`hub institution
    staff`, 8.1.2) when the institution lists it."""
    from hub.staff import staff_label

    return staff_label(_ov().institutions(), code, staff_id) if staff_id else ""


def _params() -> dict[str, Any]:
    return period_params(g.supervisor, _ov().institutions())


def _name(names: dict[str, Any], code: str) -> str:
    doc = names.get(code)
    return str(doc["name"]) if doc else code


def _dashboard_data(p: dict[str, Any], *, by_staff: bool = False) -> dict[str, Any]:
    db = _ov().facts.reader()
    rows, total = ind.rollup(db, p["prefix"], p["first"], p["last"], today=p["today"],
                             by_staff=by_staff)
    return {"rows": rows, "total": total}


# -- login (hub.oversight.login) ---------------------------------------------------------
blueprint.add_url_rule("/login", "login", auth.login, methods=["GET", "POST"])
blueprint.add_url_rule("/logout", "logout", auth.logout, methods=["POST"])


# -- dashboard --------------------------------------------------------------------------
@blueprint.get("/")
@login_required
def index() -> Any:
    _ov().catch_up()
    p = _params()
    data = _dashboard_data(p)
    names = p["names"]
    labels = [(_name(names, r.key), r) for r in data["rows"]]
    charts = {
        "on_time": rate_bars("按时办结率（5 a）", [(n, r.on_time_rate) for n, r in labels]),
        "consult": rate_bars("咨询 1 个工作日内答复率（10.1.1.3）",
                             [(n, r.consult_rate) for n, r in labels]),
        "records": rate_bars("档案完整率（5 d、11.1 e）", [(n, r.records_rate) for n, r in labels]),
        "ratings": stacked_ratings("好差评五级分布（11.2）",
                                   [(n, list(r.ratings.values())) for n, r in labels],
                                   [RATING_ZH[lv] for lv in RATING_LEVELS]),
    }
    db = _ov().facts.reader()
    lists = {name: (label, ind.case_list(db, name, p["prefix"], p["today"],
                                         limit=DASHBOARD_LIST_ROWS))
             for name, (label, _c, _o) in ind.CASE_LISTS.items()}
    return render_template("oversight/dashboard.html", p=p, data=data, charts=charts,
                           lists=lists, name=lambda c: _name(names, c),
                           estimated=_estimated_years(p, lists),
                           rate_legend=ind.rate_legend(_ov().complaint_days),
                           complaint_days=_ov().complaint_days)


def _estimated_years(p: dict[str, Any], lists: dict[str, Any]) -> list[int]:
    """The years of the page (its period, its day, the deadlines it lists) whose holidays
    neither a hub calendar nor chinesecalendar knows: their deadlines count Monday-Friday,
    an estimate the page must say (design.md §6); a supervisor read 2027's due dates and
    the overdue list built on them as certain."""
    days = [f"{p['first']}-01", f"{p['last']}-01", p["today"].isoformat()]
    days += [str(c[k]) for _label, cases in lists.values() for c in cases
             for k in ("due", "reply_due", "resumption_deadline") if c.get(k)]
    workdays = _ov().materializer.workdays()
    return sorted({int(d[:4]) for d in days if not workdays.known(d)})


@blueprint.get("/cases/<name>")
@login_required
def cases(name: str) -> Any:
    """One live list in full, a page at a time: the dashboard lists the first 20 of each
    (overdue 5 a and 11.1 b, replies 10.1.1.3, review, near the resumption deadline)."""
    if name not in ind.CASE_LISTS:
        raise _no_page(f"name: one of {', '.join(ind.CASE_LISTS)}",
                       "没有这个办件列表，请从总览的各列表进入")
    _ov().catch_up()
    p = _params()
    db = _ov().facts.reader()
    total = ind.case_count(db, name, p["prefix"], p["today"])
    pages = max(1, -(-total // CASES_PER_PAGE))
    raw = request.args.get("page", "1")
    if not (raw.isdigit() and 1 <= int(raw) <= pages):
        raise BadInput(f"page: a whole number from 1 to {pages} / 页码应为 1–{pages} 的整数")
    page = int(raw)
    rows = ind.case_list(db, name, p["prefix"], p["today"], limit=CASES_PER_PAGE,
                         offset=(page - 1) * CASES_PER_PAGE)
    return render_template("oversight/cases.html", p=p, key=name, label=ind.CASE_LISTS[name][0],
                           cases=rows, total=total, page=page, pages=pages,
                           name=lambda c: _name(p["names"], c))


@blueprint.get("/staff")
@login_required
def staff() -> Any:
    _ov().catch_up()
    p = _params()
    from hub.oversight import exports

    data = _dashboard_data(p, by_staff=True)
    table = exports.table(data["rows"], data["total"], lambda c: _name(p["names"], c),
                          by_staff=True, staff_name=_staff_label)
    return render_template("oversight/staff.html", p=p, table=table, body=_tbody(table[1:-1]),
                           name=lambda c: _name(p["names"], c))


def _tbody(rows: list[list[Any]]) -> Markup:
    """Table rows built in Python: a county's ~1,000 staff rows x 30 cells would take Jinja
    most of the page's time budget (docs/benchmarks.md). Every cell is escaped: by staff,
    the fourth is the roster's name, text typed at the hub (``hub institution staff
    --name``), and a name with markup ran as script in every supervisor's browser."""
    out = []
    for row in rows:
        cells = [f'<td class="l">{escape(v or "（未记录）")}</td>' for v in row[1:3]]
        for v in row[3:]:
            # text (the roster's name) escaped; a count or a rate is digits, and escaping
            # each of a city's 120,000 cells was a third of the page (docs/benchmarks.md)
            text = "—" if v is None else (_pct(v) if isinstance(v, float) else str(v))
            cells.append(f"<td>{escape(text) if isinstance(v, str) else text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return Markup("\n".join(out))


@blueprint.get("/checks")
@login_required
def checks() -> Any:
    """11.1 a–e as one report."""
    _ov().catch_up()
    p = _params()
    data = _dashboard_data(p)
    db = _ov().facts.reader()
    clocks = clk.device_clocks(db, p["prefix"], p["first"], p["last"])
    late = clk.late_receipts(db, p["prefix"], p["first"], p["last"])
    # times stated before the device existed at the hub (design.md §6): said apart
    clk.mark_before_enrollment(clocks, late, clk.enrollments(
        _ov().hub.stores, [r["device"] for r in (*clocks, *late)]))
    clk.mark_restored(late, clk.restores(_ov().hub.stores))  # receipts lost with the store
    from hub.oversight.withdrawals import report as withdrawals  # 撤销办结 (11.1 b)

    return render_template(
        "oversight/checks.html", p=p, data=data, name=lambda c: _name(p["names"], c),
        overdue=ind.case_list(db, "overdue", p["prefix"], p["today"], limit=CHECKS_LIST_ROWS),
        departments=ind.departments(db, p["prefix"], p["first"], p["last"]),
        missing=ind.missing_breakdown(data["total"]), categories=COMPLAINT_CATEGORIES,
        clocks=clocks, late=late, duration=clk.duration, local_time=clk.local_time,
        tolerance_min=clk.TOLERANCE_MS // 60000,
        withdrawn=withdrawals(db, p["prefix"], p["first"], p["last"]))


# -- complaints -------------------------------------------------------------------------
def _case_in_area(ov: Any, ref: str) -> str:
    """The case numbered ``ref`` if this supervisor sees it. A case outside the area is
    refused as an unknown number is: "not in your area" told a town supervisor which
    numbers exist in other towns (security audit)."""
    from hub.oversight.complaints import find_case

    ref = ref.strip()
    try:
        case_id = find_case(ov.hub, ref, ov.facts.reader())
    except BadInput:
        if not ref:
            raise
        case_id = None
    holder = ov.facts.get(case_id) if case_id else None
    if holder is None or not g.supervisor.sees(holder.institution):
        raise BadInput(f"case: no case numbered {ref} in your area / "
                       f"您的监督范围内不存在办件编号 {ref}")
    return str(case_id)


@blueprint.route("/complaints", methods=["GET", "POST"])
@login_required
def complaints() -> Any:
    from hub.oversight import complaints as cmp
    from hub.oversight import public_complaints as pc

    ov = _ov()
    ov.catch_up()  # like every page: fold what arrived since (README: "a page read folds")
    message, error = "", ""
    if request.method == "POST":
        f = request.form
        try:
            # refused on this page, the form as it was typed and a fresh token with it
            _check_csrf(auth.STALE_KEPT)
            case_id = _case_in_area(ov, f.get("case", ""))
            if f.get("action") == "handle":
                cmp.handle_complaint(ov.hub, case_id, f.get("complaint", ""),
                                     result=f.get("result", ""), text=f.get("text", ""))
                message = "已登记处理结果 / handling recorded"
            else:
                cmp.take_complaint(ov.hub, case_id, intake=f.get("intake", ""),
                                        category=f.get("category", ""), text=f.get("text", ""),
                                        complainant=f.get("complainant", ""),
                                        contact=f.get("contact", ""),
                                        received_by=g.supervisor.login)
                # named by its case as the supervisor typed it (the event clock meant
                # nothing to anyone); its deadline is on its row below (5 c)
                ref = f.get("case", "").strip()
                message = (f"投诉已登记：办件 {ref}，处理期限见下表投诉跟踪 / complaint "
                           f"recorded on case {ref}; its deadline is in the list below")
            ov.catch_up(force=True)
            # Post/Redirect/Get: the answer to the form was the page itself, and a reload
            # (or Back, then Forward) sent the form again, a second complaint of the same
            # call; the confirmation goes through the session, said once
            session["complaint_message"] = message
            return redirect(request.full_path, code=303)
        except BadInput as exc:
            error = exc.reason
    else:
        message = session.pop("complaint_message", "")
    p = _params()
    rows = ind.complaints(ov.facts.reader(), p["prefix"], p["first"], p["last"])
    return render_template("oversight/complaints.html", p=p, rows=rows, message=message,
                           error=error, intake=cmp.INTAKE, intake_zh=cmp.INTAKE_ZH,
                           forms=cmp.intake_forms(ov.hub),
                           # the public page's (hub.oversight.public_complaints)
                           receipts=pc.receipts(ov.hub),
                           unmatched=pc.unmatched(ov.hub, g.supervisor.sees),
                           # a refused form comes back as it was typed (a complaint taken
                           # down on the phone was lost to a typo in the case number)
                           sent=request.form if error else {},
                           categories=COMPLAINT_CATEGORIES, results=COMPLAINT_RESULTS,
                           complaint_days=ov.complaint_days, max_text=cmp.MAX_TEXT,
                           max_handled=cmp.MAX_HANDLED,
                           name=lambda c: _name(p["names"], c)), 400 if error else 200


# -- exports and the monthly report -----------------------------------------------------
@blueprint.get("/export.<fmt>")
@login_required
def export(fmt: str) -> Response:
    from hub.oversight import exports

    _ov().catch_up()
    p = _params()
    by = request.args.get("by", "")
    if by not in ("", "staff"):
        raise BadInput("by: empty (per institution) or staff / 分组只能为空（按机构）或 staff（按工作人员）")
    by_staff = by == "staff"
    data = _dashboard_data(p, by_staff=by_staff)
    table = exports.table(data["rows"], data["total"], lambda c: _name(p["names"], c),
                          by_staff=by_staff, staff_name=_staff_label)
    stem = f"oversight-{p['scope']}-{p['first']}-{p['last']}"
    # the sheet's name is the period, all of it: a tab of "2026-09" on an export of
    # September to November read as one month's numbers (the file name is lost on copy)
    period = p["first"] if p["last"] == p["first"] else f"{p['first']} 至 {p['last']}"
    sent = exports.download(table, fmt, stem, period)
    if sent is not None:
        return sent
    raise _no_page("fmt: csv or xlsx", "导出格式只有 xlsx 和 csv，请用总览页下方的导出链接")


@blueprint.get("/report.pdf")
@login_required
def report() -> Response:
    from hub.oversight import report as rep

    _ov().catch_up()
    p = _params()
    data = _dashboard_data(p)
    db = _ov().facts.reader()
    pdf = rep.monthly_report(
        scope_name=_name(p["names"], p["scope"]), first=p["first"], last=p["last"],
        today=p["today"], rows=data["rows"], total=data["total"],
        name=lambda c: _name(p["names"], c),
        overdue=ind.case_list(db, "overdue", p["prefix"], p["today"], limit=200),
        missing=ind.missing_breakdown(data["total"]),
        complaints=ind.complaints(db, p["prefix"], p["first"], p["last"]),
        staff=_staff_label, complaint_days=_ov().complaint_days)
    # named by the whole period, as the exports' files are: "report-…-2026-09.pdf" for
    # September to November was filed as September's report
    period = p["first"] if p["last"] == p["first"] else f"{p['first']}-{p['last']}"
    return Response(pdf, content_type="application/pdf",
                    headers={"Content-Disposition":
                             f"inline; filename=report-{p['scope']}-{period}.pdf"})


# -- public disclosure (8.1.2, 5 b): no login -------------------------------------------
@blueprint.get("/public/<code>")
def public(code: str) -> Any:
    from hub.oversight.public import public_page

    return render_template("oversight/public.html", **public_page(_ov(), code))


# one case's history and archive, the 补录 audit, the public complaint page (their own
# modules; registered
# on this blueprint)
from hub.oversight import case_views, paper_views, public_views  # noqa: E402, F401
