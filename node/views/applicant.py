"""Correcting the applicant's particulars on a case (name, phone, ID, address), and the
special groups it serves (9.2).

A typo in the name or ID number at the consultation was printed on every form (A–E) and
could not be fixed: the case page had no way back. The particulars live in the case
header's private part (sealed), one merge unit with its own clock (design.md §3,
schemas.merge): a correction is a new header revision clocked now, signed by this device.
Nothing is lost: the version it replaces stays, sealed, in the header's ``history`` (as a
merge keeps a losing version), and the consultation event keeps what was said then.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node.casework import next_clock
from node.drafts import refusal, validate_draft
from node.errors import InvalidInput, NodeError
from node.particulars import clean_name, stored_id_problem
from node.views.common import load_case, node, today
from node.views.consultations import form_checks, id_number_of, phone_of

bp = Blueprint("applicant", __name__, url_prefix="/cases/<case_id>/applicant")

#: the inputs of the form, as the consultation form names them
FIELDS = ("applicant_name", "agent_name", "phone", "id_type", "id_number", "address")
#: the refusal of a save whose input another tab (or a synced correction) changed meanwhile
CHANGED = "changed_meanwhile"


def merged(typed: dict[str, Any], old: dict[str, Any], data: Any) -> dict[str, Any]:
    """The particulars to store: an input this form left as it showed it (its hidden
    ``was_*``) keeps what is stored now. Two tabs on one case: tab A opened, tab B corrected
    the phone, tab A corrected the name, and its save put the old phone back, unsaid. Both
    changed one input differently: refused (409), naming the input and what it is now. A
    body without ``was_*`` (the API) is the whole new state, as before."""
    if not any(f"was_{k}" in data for k in FIELDS):
        return typed
    out, clash = dict(typed), {}
    for k in FIELDS:
        was, now = data.get(f"was_{k}") or None, old.get(k) or None
        if typed.get(k) == was:
            out[k] = now
        elif now != was and now != typed.get(k):
            clash[k] = (f"打开此页后已被改为“{now or '（空）'}”（另一个窗口或同步到的更正），请核对后"
                        f"再保存 / changed to '{now or ''}' after this page was opened (another "
                        "tab, or a correction synced in): check it, then save again")
    if clash:
        raise InvalidInput(refusal(clash).reason, fields=clash, error=CHANGED, status=409)
    return out


def special_groups_of(data: Any) -> list[str] | None:
    """The special groups a correction sets (9.2: a disability found on the home visit, an
    old age not ticked at a phone consultation), or None when it does not touch them: the
    form says it shows them (``groups_shown``), a JSON body names ``special_groups``. A
    header merge field (schemas.case), in clear: the hub counts it (clause 9)."""
    if hasattr(data, "getlist"):
        return list(data.getlist("special_groups")) if data.get("groups_shown") else None
    value = data.get("special_groups") if isinstance(data, dict) else None
    return [str(v) for v in value] if isinstance(value, list) else None


def number_kept(data: Any, old: dict[str, Any]) -> bool:
    """Whether the form leaves the ID number (and its type) as stored, or as the page
    showed it (its ``was_*``: another tab may have corrected it since)."""
    typed = (data.get("id_type") or "resident_id", id_number_of(data))
    shown = [(str(old.get("id_type") or "resident_id"), str(old.get("id_number") or ""))]
    if "was_id_number" in data:
        shown.append((data.get("was_id_type") or "resident_id", data.get("was_id_number") or ""))
    return bool(typed[1]) and typed in shown


def _id_types() -> dict[str, Any]:
    from schemas import vocab

    return dict(vocab.ID_TYPES)


def correct_applicant(case_id: str, data: Any) -> dict[str, Any]:
    """Check the corrected particulars as the consultation form does, then store the new
    header revision; returns the new private part."""
    from schemas.build import set_fields
    from schemas.merge import unit_value
    from sync.crypto import sign_document

    errors = form_checks({**{k: data.get(k) for k in FIELDS}, "question": "-"}, None)
    n = node()
    cw = n.casework
    stored = cw.header(case_id)

    def opened() -> dict[str, Any]:  # decrypted (an access event) only when needed
        return dict(n.reading.open_case(case_id, [stored]).get(stored["_id"], {}))

    old = opened() if errors.get("id_number") else None
    if old is not None and number_kept(data, old):
        # The check (GB 11643, GB 32100) is of what is typed in (node.particulars): a number
        # stored before it, left as it is, is not typed in now. Refusing every save until it
        # is fixed kept the case's other particulars wrong too (a phone or address to reach
        # the applicant by, 10.1.1's record); the form and the case page flag it instead.
        del errors["id_number"]
    if errors:
        raise refusal(errors)
    old = opened() if old is None else old
    id_number = id_number_of(data) or None
    typed = {"applicant_name": clean_name(data.get("applicant_name")) or None,
             "phone": phone_of(data) or None, "id_number": id_number,
             "id_type": (data.get("id_type") or "resident_id") if id_number else None,
             "address": (data.get("address") or "").strip() or None,
             "agent_name": clean_name(data.get("agent_name")) or None}
    new = {**old, **merged(typed, old, data)}
    new = {k: v for k, v in new.items() if v not in (None, "")}
    changes: dict[str, Any] = {"private": new} if new != old else {}
    groups = special_groups_of(data)
    if groups is not None and sorted(groups) != sorted(stored.get("special_groups") or []):
        changes["special_groups"] = groups
    if not changes:
        return old
    body = {k: v for k, v in stored.items() if k not in ("sig", "sealed")}
    clocks = stored.get("clocks") or {}
    body["history"] = [*(stored.get("history") or []), *(
        {"field": name, "hlc": str(clocks.get(name, "")),
         "value": unit_value(stored) if name == "private" else stored.get(name)}
        for name in changes)]
    # after the clocks it replaces, as the merge compares them (a laptop's clock set back)
    after = max((str(clocks[k]) for k in changes if clocks.get(k)), default=None)
    edited = set_fields({**body, "private": new}, changes, next_clock(n.device_id, after))
    validate_draft(edited)
    key = cw.case_key(case_id)
    if "private" in changes:
        sealed = key.seal(edited)
    else:
        # The particulars unchanged keep the envelope their clock stamps: sealed again (a
        # new nonce) under the same clock, the stored envelope was neither current nor in
        # history, and the hub refused the revision as dropping it (hub.header_kept).
        sealed = {**{k: v for k, v in edited.items() if k != "private"},
                  "sealed": stored["sealed"]}
    result = n.store.bulk_docs([sign_document(sealed, n.keys.signer)])
    if result and "error" in result[0]:
        raise NodeError(f"办件未更新，请重试 / the case was not updated ({result[0].get('reason')}): "
                        "try again", status=409, error="conflict")
    n.note_pending(1)
    n.reading.remember(case_id, key, {stored["_id"]: new}, edited["clocks"]["private"])
    n.reindex_case(case_id, private=new)
    n.index.mark_pending(case_id)
    return new


def _groups(chosen: list[str]) -> dict[str, Any]:
    from schemas.vocab import SPECIAL_GROUPS

    return {"groups": SPECIAL_GROUPS, "chosen_groups": list(chosen)}


@bp.get("/")
def form(case_id: str) -> str:
    case = load_case(case_id)
    return render_template("applicant.html", case=case, values=case["private"], errors={},
                           id_types=_id_types(), was=case["private"], was_fields=FIELDS,
                           stored_problem=stored_id_problem(case["private"], today()),
                           **_groups(case["header"].get("special_groups") or []))


@bp.post("/")
def save(case_id: str) -> str | Response:
    try:
        correct_applicant(case_id, request.form)
    except InvalidInput as exc:
        case = load_case(case_id)  # after a clash, the next save is judged against now
        was = case["private"] if exc.error == CHANGED else {
            k: request.form.get(f"was_{k}") for k in FIELDS}
        return render_template("applicant.html", case=case, values=request.form,  # type: ignore[return-value]
                               errors=exc.fields, error=exc.reason, id_types=_id_types(),
                               was=was, was_fields=FIELDS,
                               stored_problem=stored_id_problem(case["private"], today()),
                               **_groups(request.form.getlist("special_groups"))), exc.status
    flash(_("服务对象信息已更正。"), "ok")
    return redirect(url_for("cases.detail", case_id=case_id))
