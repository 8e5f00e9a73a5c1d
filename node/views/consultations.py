"""Recording a consultation (10.1.1 / 10.2.1) with the one-time notification (3, 10.1.4.2).

The clerk picks the service item; the page shows its checklist of required materials,
each with how to obtain it; what the applicant did not bring becomes the one-time
notification, printable at once. A consultation opens a case (the header holds the
applicant, sealed), so that a later application or entrustment continues it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node import window
from node.casework import FirstStep
from node.drafts import refusal
from node.errors import DiskFull, InvalidInput, NotSyncedSinceRestore, disk_full_said
from node.nametokens import PHONE
from node.once import content_digest
from node.particulars import clean_name, id_number_problem
from node.views.common import already_saved, catalog, listed_item, node, once

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


def _vocab() -> dict[str, Any]:
    from schemas import vocab

    return {"channels": vocab.CHANNELS, "modes": vocab.MODES, "types": vocab.SERVICE_TYPES,
            "kinds": vocab.APPLICANT_KINDS, "groups": vocab.SPECIAL_GROUPS,
            "focus": vocab.FOCUS_AREAS, "id_types": vocab.ID_TYPES}


def _blocked() -> str | None:
    """Why no case can be opened here now: a store put back from a backup that has not
    synced since (node.restore), said before the clerk types a whole form."""
    from node.restore import require_synced

    try:
        require_synced(node().store)
    except NotSyncedSinceRestore as exc:
        return exc.reason
    return None


@bp.get("/new")
def new() -> str:
    return render_template("consultation.html", items=catalog(), values={}, errors={},
                           blocked=_blocked(), **_vocab())


#: the consultation event's private fields (10.1.1 record) as the form names them
FORM_NAMES = {"name": "applicant_name", "contact": "phone"}


def phone_of(data: Any) -> str:
    """The phone as typed, full-width digits and signs read as ASCII (NFKC): pasted from a
    WeChat message or typed with a Chinese input method, ＋８６ １３８… looks right on
    screen and was refused as 'digits only'."""
    return unicodedata.normalize("NFKC", data.get("phone") or "").strip()


def id_number_of(data: Any) -> str:
    """The ID number as typed, NFKC (full-width digits and letters as ASCII); a resident
    ID's check character x as X, as the card prints it (GB 11643), and without the spaces
    of one pasted in groups ("410602 19500101 123X"), refused as not 18 characters."""
    value = unicodedata.normalize("NFKC", data.get("id_number") or "").strip()
    # a licence's code (GB 32100) likewise: capitals only, read in groups over the phone
    if (data.get("id_type") or "resident_id") not in ("resident_id", "uscc"):
        return value
    return "".join(value.split()).upper()


def _answered(data: Any) -> bool:
    return str(data.get("answered", "")).lower() in ("1", "on", "true", "yes")


def form_checks(data: Any, item: dict[str, Any] | None) -> dict[str, str]:
    """What the form itself requires (10.1.1: name, contact, question), each message naming
    the field and the rule, Chinese then English."""
    from schemas.state import local_today

    errors: dict[str, str] = {}
    if not clean_name(data.get("applicant_name")):
        errors["applicant_name"] = ("请填写服务对象姓名或企业名称 / applicant's name (or the "
                                    "enterprise's): required")
    phone = phone_of(data)
    if phone and not PHONE.fullmatch(phone):
        errors["phone"] = ("联系电话只能填数字（可含 +、-、空格、括号），如 13800000000 / phone: "
                           "digits only (+, -, spaces, brackets allowed), e.g. 13800000000")
    problem = id_number_problem(data.get("id_type") or "resident_id", id_number_of(data),
                                local_today())
    if problem:
        errors["id_number"] = problem
    if not (data.get("question") or "").strip():
        errors["question"] = "请填写咨询问题 / question: required"
    # 10.1.1.2 / 10.2.1.1: the record of a question answered on the spot holds its 处理结果
    # (one awaiting a reply gets it from the reply, 10.1.1.3); saved without, the record
    # said what was asked and nothing of what the applicant was told
    if _answered(data) and not (data.get("outcome") or "").strip():
        errors["outcome"] = ("已当场答复的，请填写答复结果（10.1.1.2）/ outcome: required when "
                             "answered on the spot (10.1.1.2)")
    if data.get("service_item") and item is None:
        errors["service_item"] = "服务事项不在清单中 / service item: not in the catalog (6.2.4)"
    return errors


def record_consultation(data: Any, getlist: Any) -> tuple[str, list[dict[str, Any]]]:
    """Open the case, record the consultation and (if materials are missing) the one-time
    notification. Returns ``(case_id, missing materials)``. Shared by UI and API.
    Everything is checked before the case is opened: refused input writes nothing."""
    n = node()
    cw = n.casework
    item = listed_item(data.get("service_item") or None)
    errors = form_checks(data, item)
    answered = _answered(data)
    clear = {"channel": data.get("channel") or "window", "answered": answered,
             "referred_to": (data.get("referred_to") or "").strip() or None,
             "service_item": item["code"] if item else None}
    private = {"name": clean_name(data.get("applicant_name")),
               "contact": phone_of(data) or None,
               "question": (data.get("question") or "").strip(),
               "outcome": (data.get("outcome") or "").strip() or None}
    try:
        cw.check_first("consultation", clear, private)
    except InvalidInput as exc:
        for key, problem in exc.fields.items():
            errors.setdefault(FORM_NAMES.get(key, key), problem)
    from node.paper import opening_at

    try:  # a case of the paper ledger: its real date (补录, node.paper)
        at = opening_at(n, data.get("paper_date"))
    except InvalidInput as exc:
        at = None
        errors.update(exc.fields)
    staff = None
    try:  # the member at the window (8.1.2, 11.2.2; node.window), the API's ``staff``
        staff = window.required(n, data.get("staff"))
    except InvalidInput as exc:
        errors.update(exc.fields)
    if errors:
        raise refusal(errors)
    have = set(getlist("have"))
    missing = [m for m in (item or {}).get("materials", []) if m.get("code") not in have]
    first = [FirstStep("consultation", clear, private)]
    if missing:  # optional: the rules may allow the notification only later; it is
        # printed from the item then
        first.append(FirstStep("notification", {"materials": [
            {k: m[k] for k in ("code", "name", "how_to_obtain", "original", "copies") if k in m}
            for m in missing]}, optional=True))
    with disk_full_said():  # one write: refused, nothing of it is stored (casework.open_case)
        case_id = cw.open_case(
            service_type=data.get("service_type") or "assist",
            mode=data.get("mode") or "nearby",
            focus_area=(item or {}).get("focus_area") or data.get("focus_area") or "livelihood",
            applicant_kind=data.get("applicant_kind") or "person",
            special_groups=list(getlist("special_groups")),
            service_item=item["code"] if item else None,
            private={"applicant_name": clean_name(data.get("applicant_name")),
                     "phone": phone_of(data) or None,
                     "id_number": id_number_of(data) or None,
                     "id_type": (data.get("id_type") or "resident_id")
                     if (data.get("id_number") or "").strip() else None,
                     "address": (data.get("address") or "").strip() or None,
                     # who acts for the applicant (schemas.case: 经办人): printed and signing
                     "agent_name": clean_name(data.get("agent_name")) or None},
            staff=staff, first=first, at=at)
    return case_id, missing


@bp.post("/")
def create() -> str | Response:
    token, digest = request.form.get("once"), content_digest(request.form.lists())
    with once().claim(token, digest) as earlier:  # Back then 保存 again: the case it opened
        if earlier:
            return already_saved(earlier)
        return _create(token, digest)


def _create(token: str | None, digest: str) -> str | Response:
    try:
        case_id, missing = record_consultation(request.form, request.form.getlist)
    except InvalidInput as exc:
        return render_template("consultation.html", items=catalog(), values=request.form,
                               errors=exc.fields, error=exc.reason, **_vocab()), 400  # type: ignore[return-value]
    except NotSyncedSinceRestore as exc:  # what was typed stays on the page
        return render_template("consultation.html", items=catalog(), values=request.form,
                               errors={}, blocked=exc.reason, **_vocab()), 409  # type: ignore[return-value]
    except DiskFull as exc:  # nothing was stored (one write): the same form saves again
        return render_template("consultation.html", items=catalog(), values=request.form,
                               errors={}, full=exc.reason, **_vocab()), 507  # type: ignore[return-value]
    page = url_for("cases.detail", case_id=case_id)
    once().done(token, digest, page)
    flash(_("咨询已登记。") + (_("一次性告知单可以打印。") if missing else ""), "ok")
    return redirect(page)
