"""What this station holds about an applicant, for the applicant (PIPL art. 45: a person may
consult and copy their personal information; art. 44: and know how it is processed).

The station had no way to answer "what do you keep about me?": the case page shows one
case, and the applicant's other cases only by number. ``/cases/CASE/applicant/copy`` prints,
on one page, everything this laptop holds in the applicant's name: every case found by the
applicant's ID number (node/applicant_cases.py, through the index's keyed hash), each with
the particulars, every step with what was recorded in it, the scans by name, and who read the
case when and why (its ``access`` events). Each case copied is an ``access`` event of purpose
``export`` with the reason in its sealed note (design.md §5: every reading is logged).

Correction (art. 46) is the case page's 更正 (node/views/applicant.py). Deletion (art. 47)
is not offered: the case file is an archive the standard requires to keep (10.1.6, 11.1 e),
and the page says so; docs/operations.md "An applicant asks about their data" is the
station's procedure.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from node.steps import STEP_TITLES
from node.views.common import item_by_code, load_case, node

bp = Blueprint("applicant_copy", __name__, url_prefix="/cases/<case_id>/applicant")

#: the sealed note of each copy's access event (read by the station's own laptops only)
NOTE = "服务对象查阅、复制本人信息（个人信息保护法第45条）"
#: what a copy lists of a step: not the stored envelope, the words
_ENVELOPE = {"_id", "_rev", "type", "schema_version", "sig", "sealed", "case_id", "hlc",
             "base_hlc", "device", "_revisions", "docs", "private", "attachment_names",
             "attachment_types", "chunked"}


def _copy_of(case_id: str) -> dict[str, Any]:
    n = node()
    case = load_case(case_id)
    steps = [{"at": e.get("at"), "title": STEP_TITLES.get(e["event_type"], e["event_type"]),
              "event_type": e["event_type"], "staff": e.get("staff") or "",
              "fields": {k: v for k, v in e.items() if k not in _ENVELOPE and
                        k not in ("at", "event_type", "staff", "institution")
                        and v not in (None, "", [])},
              "private": {k: v for k, v in e["private"].items()
                          if v and k != "applicant_signature"},
              "scans": e["attachment_names"]}
             for e in case["events"] if e["event_type"] != "access"]
    reads = [e for e in case["events"] if e["event_type"] == "access"]
    fields = sorted({*case["private"], *(k for s in steps for k in s["private"])})
    n.reading.record_use(case_id, "export", fields or ["case"], note=NOTE)
    return {"case": case, "steps": steps, "reads": reads}


@bp.get("/copy")
def copy(case_id: str) -> str:
    """The applicant's copy: this case first, then their other cases here."""
    from node.applicant_cases import applicant_cases

    n = node()
    first = _copy_of(case_id)
    others = [_copy_of(r["case_id"]) for r in
              applicant_cases(n, case_id, first["case"]["private"], item_by_code)]
    from schemas.vocab import ACCESS_PURPOSES, ID_TYPES

    return render_template("applicant_copy.html", copies=[first, *others],
                           institution=n.institution, by=n.acting_staff() or "",
                           purposes=ACCESS_PURPOSES, id_types=ID_TYPES)
