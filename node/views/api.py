"""The JSON API under /api/: every UI action, documented at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from node.errors import InvalidInput, NodeError
from node.views.common import catalog, load_case, node, soon, today

bp = Blueprint("api", __name__, url_prefix="/api")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object / 请求体必须是 JSON 对象",
                           fields={"(body)": "必须是 JSON 对象"})
    return data


#: Members of a consultation that are text, and lists of text (the form posts both as such;
#: JSON can send anything, and a number where a name belongs must be refused by name).
CONSULTATION_TEXT = ("applicant_name", "agent_name", "question", "phone", "id_type", "id_number", "address",
                     "paper_date",
                     "service_item", "service_type", "mode", "focus_area", "applicant_kind",
                     "channel", "referred_to", "outcome")
CONSULTATION_LISTS = ("have", "special_groups")


def _typed_body(text: tuple[str, ...], lists: tuple[str, ...] = (), *,
                required: bool = False) -> dict[str, Any]:
    """The JSON body, its ``text`` members strings (each present if ``required``) and its
    ``lists`` lists of strings, or :class:`InvalidInput` naming every member that is not."""
    data = _body()
    bad = {k: "应为文本 / must be text" for k in text
           if (required or data.get(k) is not None) and not isinstance(data.get(k), str)}
    bad.update({k: "应为文本列表 / must be a list of text" for k in lists
                if data.get(k) is not None and not (
                    isinstance(data[k], list) and all(isinstance(x, str) for x in data[k]))})
    if bad:
        raise InvalidInput("；".join(f"{k}: {v}" for k, v in bad.items()), fields=bad)
    return data


@bp.get("/openapi.json")
def openapi() -> Response:
    from node.apischema import openapi as build

    return jsonify(build())


@bp.get("/status")
def status() -> Response:
    n = node()
    enr = n.enrollment or {}
    return jsonify({"enrolled": bool(enr), "institution": enr.get("institution"),
                    "device_id": enr.get("device_id"), "unlocked": n.unlocked,
                    "session": bool(g.get("session_live")),
                    "wiped": bool(enr.get("wiped")), "sync": n.syncer.state.as_json()})


@bp.post("/unlock")
def unlock() -> Response:
    """The passphrase opens a session for this client: its cookie must come back with every
    later call (``curl -c jar -b jar``; node.sessions), even while the node is unlocked."""
    from node.views.home import with_session

    n = node()
    token = n.open_session(str(_body().get("passphrase", "")))
    n.syncer.start_background()
    return with_session(jsonify({"ok": True}), token)


@bp.post("/lock")
def lock() -> Response:
    from node.views.home import without_session

    node().lock()
    return without_session(jsonify({"ok": True}))


@bp.get("/catalog")
def api_catalog() -> Response:
    return jsonify({"items": catalog()})


@bp.post("/consultations")
def consultations() -> tuple[Response, int]:
    from node.views.consultations import record_consultation

    data = _typed_body(CONSULTATION_TEXT, CONSULTATION_LISTS)
    case_id, missing = record_consultation(data, lambda k: data.get(k) or [])
    return jsonify({"ok": True, "case_id": case_id, "id": f"case:{case_id}",
                    "missing": [m.get("code") for m in missing]}), 201


@bp.get("/cases")
def cases() -> Response:
    from node.views.cases import VIEWS
    from schemas.state import STATUSES

    n = node()
    a = request.args
    if a.get("view", "") not in VIEWS:  # an unknown view listed every case, unfiltered
        raise InvalidInput("view 不是已知的列表 / view: not a known list "
                           f"({', '.join(v for v in VIEWS if v)})",
                           fields={"view": "应为 " + "、".join(v for v in VIEWS if v)
                                   + " 之一 / one of the lists named"})
    if a.get("status", "") not in ("", *STATUSES):  # a misspelt status listed nothing, 200
        raise InvalidInput("status 不是已知的案件状态 / status: not a known case status "
                           f"({', '.join(STATUSES)})",
                           fields={"status": "应为 " + "、".join(STATUSES)
                                   + " 之一 / one of the statuses named"})
    page = n.index.search(q=a.get("q", ""), status=a.get("status", ""),
                          service_item=a.get("item", ""), view=a.get("view", ""),
                          today=today().isoformat(), soon=soon(), cursor=a.get("after"),
                          limit=_limit(a.get("limit"), int(n.settings.page_size)),
                          holder=n.institution)
    n.reading.note_search(a.get("q", ""), page.rows)  # logged as the page's search is
    return jsonify({"rows": page.rows, "next_cursor": page.next_cursor})


@bp.get("/counts")
def counts() -> Response:
    """The home page's tiles: ``overdue`` (已超期, the hub's 超期) and ``deadline_passed``
    (待办到期, any deadline) apart, each the length of ``/api/cases?view=…``."""
    n = node()
    return jsonify(n.index.counts(today=today().isoformat(), soon=soon(),
                                  holder=n.institution))


def _limit(raw: str | None, default: int) -> int:
    """``limit`` of a list: 1–500 rows, the page size when absent."""
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 500:
        raise InvalidInput("limit 应为 1–500 的整数 / limit must be a whole number from 1 to 500",
                           fields={"limit": "应为 1–500 的整数 / a whole number from 1 to 500"})
    return value


@bp.get("/cases/<case_id>")
def case(case_id: str) -> Response:
    c = load_case(case_id)
    c.pop("item", None)
    return jsonify(c)


@bp.post("/cases/<case_id>/events/<event_type>")
def event(case_id: str, event_type: str) -> tuple[Response, int]:
    from node.views.handling import record_step
    from schemas.event_types import EVENT_SCHEMAS

    if event_type not in EVENT_SCHEMAS or event_type in ("access", "consultation"):
        raise NodeError(f"unknown step {event_type!r}", status=404, error="not_found")
    doc = record_step(case_id, event_type, _body())
    return jsonify({"ok": True, "id": doc["_id"], "case_id": case_id}), 201


@bp.post("/cases/<case_id>/applicant")
def applicant(case_id: str) -> Response:
    """Correct the applicant's particulars (the case page's 更正, node.views.applicant):
    ``{applicant_name, phone, id_type, id_number, address}``, each checked as the form
    checks it, and ``special_groups`` (9.2) when given; the replaced particulars stay,
    sealed, in the header's history."""
    from node.views.applicant import FIELDS, correct_applicant

    data = _typed_body(FIELDS, ("special_groups",))
    before = load_case(case_id)["private"]  # opened, as the form opens it (access logged)
    after = correct_applicant(case_id, data)
    return jsonify({"ok": True, "case_id": case_id, "changed": after != before})


@bp.get("/cases/<case_id>/forms/<letter>.pdf")
def form(case_id: str, letter: str) -> Response:
    from node.views.forms import form_pdf

    return Response(form_pdf(case_id, letter), mimetype="application/pdf")


@bp.get("/sync")
def sync_state() -> Response:
    return jsonify(node().syncer.state.as_json())


@bp.post("/sync")
def sync_now() -> tuple[Response, int]:
    n = node()
    try:
        n.syncer.sync_once()
    except NodeError as exc:
        body = n.syncer.state.as_json()
        body.update(exc.as_json())
        return jsonify(body), exc.status
    return jsonify(n.syncer.state.as_json()), 200


@bp.get("/town")
def town() -> Response:
    n = node()
    t = today().isoformat()
    page = n.index.search(view="handed_up", today=t, soon=soon(), limit=int(n.settings.page_size))
    from node.views.town import overview

    view = overview()
    return jsonify({"per_institution": n.index.by_institution(today=t, holder=n.institution),
                    "rows": page.rows,
                    "next_cursor": page.next_cursor, "boards": view["per_institution"],
                    "board_rows": view["board_rows"]})


@bp.post("/town/notice")
def town_notice() -> tuple[Response, int]:
    """Urge a station about a case on its board (4.2): ``{to, case, reason}``."""
    from node.views.town import urge

    data = _typed_body(("to", "case", "reason"), required=True)
    doc = urge(data["to"], data["case"], data["reason"])
    return jsonify({"ok": True, "id": doc["_id"]}), 201


@bp.post("/town/notice/late")
def town_notice_late() -> tuple[Response, int]:
    """Urge every overdue row on the boards (of ``institution``, or all) not urged today."""
    from node.views.town import urge_late

    data = _typed_body(("institution",))
    sent = urge_late(data.get("institution") or "")
    return jsonify({"ok": True, "ids": [d["_id"] for d in sent]}), 201
