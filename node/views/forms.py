"""Printable PDFs: forms A–E of DB4106/T 101—2023, the one-time notification and the notice of refusal."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort

from node import formdata
from node.errors import NodeError
from node.pdf import render
from node.state import CLOSED
from node.views.common import load_case, node

bp = Blueprint("forms", __name__, url_prefix="/cases/<case_id>/forms")


def form_pdf(case_id: str, letter: str) -> bytes:
    letter = letter.upper()
    if letter not in formdata.TITLES:
        abort(404)
    n = node()
    case = load_case(case_id)
    signature = None
    ev = formdata._last(case["events"], formdata.EVENT_OF_FORM.get(letter, ()),
                        case.get("state"))
    if ev and "signature.png" in ev.get("attachment_names", []):
        signature, _ = n.reading.open_attachment(case_id, ev["_id"], "signature.png")
    _, name = _staff(case, ev)
    code, holder = issuer(case, ev)
    handled_by = "；".join(x for x in (n.name_of(holder), contact_of(holder)) if x) \
        if holder else ""
    content = formdata.build(letter, case, institution_name=n.name_of(code),
                             signature_png=signature, staff_name=name,
                             contact=contact_of(code), handled_by=handled_by,
                             step_state=state_after(case, ev) if ev else None)
    data = render(content, font_path=n.settings.font_path)
    # each print is a use of the applicant's data on paper: logged with its purpose and the
    # form, even when the case page opened the case a minute before (node/reading.py)
    n.reading.record_use(case_id, "printing", [f"form:{letter}", *sorted(case["private"])])
    return data


def state_after(case: dict[str, Any], ev: dict[str, Any]) -> dict[str, Any]:
    """The case's fold as it stood once ``ev`` was recorded: the due date form A promised
    at the acceptance (10.1.3) and form E at the resumption (10.2.5.1). A reprint took the
    case's due as it is now: form A of a case since resumed with a new period read
    "承诺办理时限 5 个工作日" over the date of the resumption's 3 days, another paper than
    the one the applicant signed."""
    from node.state import fold
    from schemas.fold import order_key

    # as stored: ``private`` and ``attachment_names`` are what load_case opened for display
    upto = [{k: v for k, v in e.items() if k not in ("private", "attachment_names")}
            for e in case["events"] if order_key(e) <= order_key(ev)]
    return fold(case["header"], upto, node())


def issuer(case: dict[str, Any], ev: dict[str, Any] | None) -> tuple[str, str | None]:
    """The institution a form names (the one that recorded the step it prints: a town
    completes a case a village opened, form B is the town's; else the one holding the case)
    and, while the case is open, the one handling it now when that is another (a case
    handed up, 4.3: the applicant's paper named only the village, which no longer had it)."""
    header, state = case["header"], case.get("state") or {}
    holder = str(state.get("holder") or header["institution"])
    # only an institution the case passed through serves the applicant: the hub writes a
    # 10.2.5.2 termination (and takes complaints) under the city's code, and form B of such
    # a case named the city centre, which the applicant never dealt with
    held = {str(header["institution"]), holder, *(str(e.get("to_institution")) for e in
                                                  case["events"] if e.get("to_institution"))}
    recorder = str((ev or {}).get("institution") or "")
    code = recorder if recorder in held else holder
    return code, (holder if holder != code and state.get("status") not in CLOSED else None)


def contact_of(code: str) -> str:
    """The public address and phone of an institution (8.1.2: shown at its window; the
    institution document, down with the reference data), "" when none is on record."""
    from sync.errors import NotFound as StoreNotFound
    from sync.reference import read_latest

    try:
        doc = read_latest(node().store, f"institution:{code}")
    except StoreNotFound:
        return ""
    return "；".join(f"{k}：{doc[f]}" for f, k in (("address", "地址"), ("phone", "电话"))
                    if doc.get(f))


def _staff(case: dict[str, Any], ev: dict[str, Any] | None) -> tuple[str, str]:
    """The 经办人 of a form: the staff id of the step it prints (the acceptance for form A,
    …), else of the case's opening, with the name the roster of the institution that
    recorded it gives ("" when no roster lists it: the form then prints the id).

    Two clerks share a station's laptop (8.1.2, node.window): the acceptance may be
    another's than the consultation, and form A is that clerk's. Rosters are per
    institution: a town holding a handed-up case (4.3) may list another person under the
    same id, so the recorder's roster is read first, then the opener's, then the holder's.
    Every institution document reaches every node (reference data, hub/scope.py ``ALL``)."""
    from node.window import staff_name

    header, state = case["header"], case.get("state") or {}
    if ev and not ev.get("staff"):
        # a step the hub wrote (a 10.2.5.2 termination) names no one: form B of such a case
        # named the opener, who did not end it (turnover15), then left the line blank, which
        # the applicant reads as a clerk who would not sign; it says the platform ended it
        return "", formdata.hub_step_text(ev) if recorded_by_hub(ev) else ""
    recorder = ev if ev else header
    staff = str(recorder.get("staff") or "")
    return staff, staff_name(node(), staff, recorder.get("institution"),
                             header.get("institution"), state.get("holder"))


def recorded_by_hub(ev: dict[str, Any]) -> bool:
    """Whether the hub's own device recorded ``ev``: the signed directory's ``hub`` member
    (sync.bundle.hub_device; design.md §5, trust from the directory, not from names); pull
    has checked the event's signature against that device (node.verify). A directory that
    names no hub (the provisional one before the first sync, an old one) leaves the
    ``{city}-HB`` naming convention, as sync.bundle does for such directories."""
    from sync.bundle import HUB_SHORT, hub_device
    from sync.errors import SyncError

    device = str(ev.get("device") or "")
    try:
        return device == hub_device(node().reading.directory())
    except (SyncError, NodeError):
        return device.endswith(f"-{HUB_SHORT}")


@bp.get("/<letter>.pdf")
def pdf(case_id: str, letter: str) -> Response:
    data = form_pdf(case_id, letter)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{case_id}-{letter.upper()}.pdf"',
        "Cache-Control": "no-store"})
