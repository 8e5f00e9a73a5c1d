"""The public complaint page (11.1 online complaints; no login), registered on the oversight
blueprint beside the disclosure page it is linked from: ``/oversight/public/CODE/complaint``
(the form) and ``…/complaint/receipt`` (its answer). The rules are in
:mod:`hub.oversight.public_complaints`; this module is the page."""

from __future__ import annotations

import secrets
from typing import Any

from flask import redirect, render_template, request, session, url_for

from hub.errors import BadInput, HubError
from hub.oversight import public_complaints as pc
from hub.oversight.login import csrf_token
from hub.oversight.views import _ov, blueprint
from schemas.vocab import COMPLAINT_CATEGORIES

#: The form's token expired or never came (a page left open a day, another site's form):
#: said without "login", which a member of the public never had.
STALE = ("csrf: the form has expired: what you typed is below, send it again / "
         "表单已过期，填写的内容已保留在下方，请再次提交")


#: The largest form body taken (2000 characters of text, 3 bytes each in UTF-8 and
#: percent-encoded 9, and the other fields): far below the hub's max_request_bytes.
MAX_BODY = 32 * 1024


#: The public form's inputs: a refusal ``FIELD: English / 中文`` (check_form) is tied to its
#: input (aria-invalid, aria-describedby), so a screen reader says it on the field (GB/T 37668).
FIELDS = ("case", "last4", "category", "text", "contact")
#: ``?size=large`` / ``?size=normal`` on a public page: the large-text switch (MIIT 适老化
#: text of 18 px or more on request; the standard serves the elderly, 9.2), a link since the
#: oversight pages run no script, kept in the session for the next page.
SIZES = {"large": True, "normal": False}


@blueprint.before_request
def _text_size() -> None:
    size = request.args.get("size", "")
    if size in SIZES and (request.endpoint or "").startswith("oversight.public"):
        session["large_text"] = SIZES[size]


@blueprint.context_processor
def _large_text() -> dict[str, Any]:
    return {"large_text": bool(session.get("large_text"))}


def said(reason: str) -> dict[str, str]:
    """A refusal ``FIELD: English / 中文`` as the page shows it: the input it names (one of
    :data:`FIELDS`, else ""), the Chinese first (the page's language), then the English."""
    head, _, zh = reason.rpartition(" / ")
    if not head:
        return {"field": "", "zh": reason, "en": ""}
    field, _, en = head.partition(": ")
    if field not in FIELDS:  # the form expired, too many, not now: no one input's fault
        return {"field": "", "zh": zh, "en": head}
    return {"field": field, "zh": zh, "en": en}


def _institution(code: str) -> dict[str, Any]:
    inst = _ov().institutions().get(code)
    if inst is None:  # as the disclosure page answers a typo
        raise HubError(f"code: no institution {code} / 没有代码为 {code} 的机构", status=404,
                       error="not_found")
    return inst


@blueprint.route("/public/<code>/complaint", methods=["GET", "POST"])
def public_complaint(code: str) -> Any:
    inst = _institution(code)
    error, status = "", 200
    if request.method == "POST":
        # the hub takes 64 MiB bodies from stations (max_request_bytes); a passer-by's form
        # is a page of text: refused before it is read or parsed
        if (request.content_length or 0) > MAX_BODY:
            raise HubError(f"body: at most {MAX_BODY} bytes / 提交内容过长", status=413,
                           error="too_large")
        try:
            if not secrets.compare_digest(request.form.get("csrf", ""),
                                          session.get("csrf", "") or "-"):
                raise BadInput(STALE)
            ov = _ov()
            receipt = pc.file_complaint(ov, pc.throttle(ov), institution=code,
                                        form=request.form, address=request.remote_addr or "")
            # Post/Redirect/Get: a reload must not file it twice; the receipt is said once
            session["public_receipt"] = receipt
            return redirect(url_for("oversight.public_complaint_receipt", code=code), code=303)
        except HubError as exc:  # BadInput 400, TooMany 429, NotNow 503: the form again
            error, status = exc.reason, exc.status
    return render_template("oversight/public_complaint.html", inst=inst, error=error,
                           said=said(error) if error else {},
                           sent=request.form if error else {}, csrf_token=csrf_token,
                           categories=COMPLAINT_CATEGORIES, max_text=pc.MAX_TEXT,
                           complaint_days=_ov().complaint_days), status


@blueprint.get("/public/<code>/complaint/receipt")
def public_complaint_receipt(code: str) -> Any:
    inst = _institution(code)
    receipt = session.pop("public_receipt", "")
    if not receipt:  # opened again later, or never filed: the form
        return redirect(url_for("oversight.public_complaint", code=code))
    return render_template("oversight/public_complaint.html", inst=inst, receipt=receipt,
                           complaint_days=_ov().complaint_days)
