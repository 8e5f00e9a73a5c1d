"""Printable PDFs: forms A–E of DB4106/T 101—2023 and the one-time notification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort

from node import formdata
from node.pdf import render
from node.views.common import load_case, node

bp = Blueprint("forms", __name__, url_prefix="/cases/<case_id>/forms")


def form_pdf(case_id: str, letter: str) -> bytes:
    letter = letter.upper()
    if letter not in formdata.TITLES:
        abort(404)
    n = node()
    case = load_case(case_id)
    signature = None
    ev = formdata._last(case["events"], formdata.EVENT_OF_FORM.get(letter, ()))
    if ev and "signature.png" in ev.get("attachment_names", []):
        signature, _ = n.reading.open_attachment(case_id, ev["_id"], "signature.png")
    header = case["header"]
    content = formdata.build(letter, case, institution_name=n.name_of(header["institution"]),
                             signature_png=signature, staff_name=_staff_name(case))
    return render(content, font_path=n.settings.font_path)


def _staff_name(case: dict[str, Any]) -> str:
    """The 经办人's name from the roster of the institution that opened the case, else of the
    one that holds it (the roster on the institution document, `hub institution staff`:
    8.1.2); "" when neither lists the staff id (the form then prints the id).

    The header's staff id was written by the opening station's device, and rosters are per
    institution: a town holding a handed-up case (4.3) may list another person under the
    same id, so the opener's roster is read first. Every institution document reaches every
    node (reference data, hub/scope.py ``ALL``), so the village's roster is known at the town."""
    from schemas.reference import staff_names
    from sync.errors import NotFound
    from sync.reference import read_latest

    header, state = case["header"], case.get("state") or {}
    staff = str(header.get("staff") or "")
    for code in dict.fromkeys(c for c in (header.get("institution"), state.get("holder")) if c):
        try:
            name = staff_names(read_latest(node().store, f"institution:{code}")).get(staff)
        except NotFound:
            continue
        if name:
            return name
    return ""


@bp.get("/<letter>.pdf")
def pdf(case_id: str, letter: str) -> Response:
    data = form_pdf(case_id, letter)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{case_id}-{letter.upper()}.pdf"',
        "Cache-Control": "no-store"})
