"""One case's whole history for a supervisor (11.1 b, c, e; 5 d): ``/oversight/case?no=…``
and its signed archive, ``/oversight/case/archive.json?no=…`` (hub.oversight.archive).

Only a supervisor whose area holds the case reads it; a case outside the area is answered
as an unknown number is (``views._case_in_area``: the number's existence told nothing).
Everything shown is cleartext the hub holds: steps, who and when (stated and received),
the header's versions; particulars stay sealed (design.md §5).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, g, render_template, request

from hub.oversight.login import login_required
from hub.oversight.views import _case_in_area, _ov, _params, blueprint


def step_fields(event_type: str, fields: dict[str, Any],
                name: Any) -> list[tuple[str, str]]:
    """A step's cleartext as a supervisor reads it: each field by the label the station's
    forms give it (schemas.field_labels), a code by its vocabulary's label (渠道：窗口, not
    ``channel=window``), an institution by its name. The codes stay in the cell's title."""
    from schemas.field_labels import code_table, record_label_zh

    def shown(k: str, v: Any) -> str:
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, list):
            return "、".join(shown(k, x) for x in v)
        table = code_table(event_type, k)
        if table is not None and str(v) in table:
            return str(table[str(v)][0])
        return str(name(v)) if k.endswith("institution") else str(v)

    return [(record_label_zh(k), shown(k, v)) for k, v in fields.items()]


def _archive(ref: str, *, attachments: bool, why: str) -> dict[str, Any]:
    from hub.oversight.archive import case_archive
    from hub.oversight.clocks import case_receipts
    from hub.oversight.readlog import record

    ov = _ov()
    ov.catch_up()
    case_id = _case_in_area(ov, ref)
    # on record before anything of the case is shown (PIPL art. 51; hub.oversight.readlog)
    record(ov.hub, case_id, by=f"supervisor:{g.supervisor.login}",
           what="archive" if attachments else "page", why=why)
    return case_archive(ov.hub, case_id, receipts=case_receipts(ov.facts.reader(), case_id),
                        exported_by=f"supervisor:{g.supervisor.login}",
                        attachments=attachments)


@blueprint.get("/case")
@login_required
def case_history() -> Any:
    from hub.oversight.archive_check import check_archive, timeline
    from hub.oversight.readlog import WHAT, WHY, reads_of_case
    from schemas.vocab import WITHDRAWAL_REASONS

    ref = request.args.get("no", "").strip()
    why = request.args.get("why", "").strip()
    p = _params()
    if not ref or not why:  # the number alone (a link, a first visit): the reason is asked
        return render_template("oversight/case.html", p=p, ref=ref, why=why, whys=WHY,
                               tl=None, report=None, ask_why=bool(ref))
    archive = _archive(ref, attachments=False, why=why)  # the page shows no scan
    report = check_archive(archive, archive["root_keys"])
    from hub.escrow import uses_of_case  # design.md §5 "audited supervision"

    hub, case_id = _ov().hub, str(archive["case_id"])
    return render_template("oversight/case.html", p=p, ref=ref, why=why, whys=WHY,
                           tl=timeline(archive), report=report,
                           name=lambda c: p["names"].get(c, {}).get("name", c),
                           escrow=uses_of_case(hub, case_id), reads=reads_of_case(hub, case_id),
                           what_zh=WHAT, withdraw_reasons=WITHDRAWAL_REASONS,  # 撤销办结
                           step_fields=step_fields)


@blueprint.get("/case/archive.json")
@login_required
def case_archive_file() -> Response:
    archive = _archive(request.args.get("no", ""), attachments=True,
                       why=request.args.get("why", ""))
    stem = str(archive.get("case_no") or archive["case_id"])
    body = json.dumps(archive, ensure_ascii=False, sort_keys=True, indent=1)
    return Response(body, content_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=case-{stem}.json"})
