"""The public complaint page (11.1 online complaints; no login), registered on the oversight
blueprint beside the disclosure page it is linked from: ``/oversight/public/CODE/complaint``
(the form) and ``…/complaint/receipt`` (its answer). The rules are in
:mod:`hub.oversight.public_complaints`; this module is the page."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

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
#: A longer body (a paste of a whole letter, without the page's script to count it) is
#: read this far to give the form back with its text, refused by the field; the rest of
#: it is read and dropped, never kept: a passer-by's request costs the hub this much memory.
GIVEN_BACK = 256 * 1024


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
        # is a page of text: one longer is refused, read no further than GIVEN_BACK
        if (request.content_length or 0) > MAX_BODY:
            return _too_long(inst)
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


def given_back(head: bytes, *, whole: bool) -> tuple[dict[str, str], str]:
    """The form's fields (:data:`FIELDS`) parsed from the first bytes of its urlencoded
    body, and the field cut off by their end ("" if ``whole``): its value kept up to the
    last whole character received (a %XX or a UTF-8 sequence split at the end dropped)."""
    pairs = head.split(b"&")
    got: dict[str, str] = {}
    cut = ""
    for n, pair in enumerate(pairs):
        name, _, value = pair.partition(b"=")
        field = unquote_plus(name.decode("ascii", "replace"))
        last = not whole and n == len(pairs) - 1
        if last:
            value = re.sub(rb"%[0-9A-Fa-f]?$", b"", value)
            cut = field if field in FIELDS else ""
        if field in FIELDS and field not in got:  # the first, as request.form.get
            text = unquote_to_bytes(value.replace(b"+", b" "))
            got[field] = text.decode("utf-8", "ignore" if last else "replace")
    return got, cut


def _too_long(inst: dict[str, Any]) -> Any:
    """A body over :data:`MAX_BODY`: its first :data:`GIVEN_BACK` bytes parsed, the form
    given back with them and refused by the field too long (was: a bare 413 page,
    "提交内容过长", the citizen's text lost)."""
    if request.mimetype != "application/x-www-form-urlencoded":  # not the page's form
        raise HubError(f"body: at most {MAX_BODY} bytes / 提交内容过长", status=413,
                       error="too_large")
    head = request.stream.read(GIVEN_BACK)
    # the rest read and dropped: a server may not take an answer before the whole request
    while request.stream.read(64 * 1024):
        pass
    sent, cut = given_back(head, whole=(request.content_length or 0) <= GIVEN_BACK)
    try:
        pc.check_form(sent)
        error = f"body: at most {MAX_BODY} bytes / 提交内容过长"
    except BadInput as exc:
        error = exc.reason
    if cut:  # what is below is not all that was sent: said, lest it be sent as it stands
        en, _, zh = error.rpartition(" / ")
        error = f"{en}; only its beginning arrived, below / {zh}；内容过长，下方仅为收到的开头部分"
    return render_template("oversight/public_complaint.html", inst=inst, error=error,
                           said=said(error), sent=sent, csrf_token=csrf_token,
                           categories=COMPLAINT_CATEGORIES, max_text=pc.MAX_TEXT,
                           complaint_days=_ov().complaint_days), 413


@blueprint.get("/public/<code>/complaint/receipt")
def public_complaint_receipt(code: str) -> Any:
    inst = _institution(code)
    receipt = session.pop("public_receipt", "")
    if not receipt:  # opened again later, or never filed: the form
        return redirect(url_for("oversight.public_complaint", code=code))
    return render_template("oversight/public_complaint.html", inst=inst, receipt=receipt,
                           complaint_days=_ov().complaint_days)
