"""Printable PDFs: forms A–E of DB4106/T 101—2023 and the one-time notification."""

from __future__ import annotations

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
    content = formdata.build(letter, case, institution_name=n.name_of(case["header"]["institution"]),
                             signature_png=signature)
    return render(content, font_path=n.settings.font_path)


@bp.get("/<letter>.pdf")
def pdf(case_id: str, letter: str) -> Response:
    data = form_pdf(case_id, letter)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{case_id}-{letter.upper()}.pdf"',
        "Cache-Control": "no-store"})
