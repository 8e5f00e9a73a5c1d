"""The public disclosure page of an institution (8.1.2 staff on duty and the service items,
5 b 信息公开): no login, so it shows only what the standard asks to publish — names and roles
from the roster, the items the institution's tier handles, and each staff member's count of
cases handled in the last 30 days."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hub.errors import HubError
from schemas.reference import closed, on_duty
from schemas.state import local_today
from schemas.vocab import STAFF_ROLES

#: A staff id is free text a station writes (schemas.case, up to 64 characters): one with
#: 7 digits or more in a row holds a phone number (landline or mobile) or an ID number,
#: which a station whose staff sign in by their mobile puts there. The public page names
#: staff from the roster (8.1.2); an id is shown to the public only when it is no such number.
#: Digits grouped as people write them (138-1234-5678, 138 1234 5678, 0392.2345678) are one
#: number: a run of 7 digits only was published whole once grouped (7.2.2.2).
_PERSONAL_NUMBER = re.compile(r"\d(?:[\s.\-－—_/]?\d){6,}")
WITHHELD = "工作人员（编号不公开）"


def public_id(staff_id: str) -> str:
    """``staff_id`` as the public page may show it."""
    return WITHHELD if _PERSONAL_NUMBER.search(staff_id) else staff_id


def public_page(ov: Any, code: str) -> dict[str, Any]:
    """The template's values for ``/oversight/public/CODE``; 404 for an unknown code."""
    names = ov.institutions()
    inst = names.get(code)
    if inst is None:  # a citizen's typo: said in words, not the API's {"reason": "missing"}
        raise HubError(f"code: no institution {code} / 没有代码为 {code} 的机构", status=404,
                       error="not_found")
    ov.catch_up()
    since = (local_today() - dt.timedelta(days=30)).isoformat()
    db = ov.facts.reader()
    # 近 30 日经办: open, or finished in the last 30 days; a consultation answered (10.1.1,
    # not open, never finished) in the 30 days after its answer. Two ranges of facts_inst.
    staff_rows = db.execute(
        "SELECT staff, COUNT(*) FROM facts WHERE institution = ? AND staff != '' AND "
        "(finished_on IS NULL AND (status IS NOT 'consulted' OR "
        "json_extract(data, '$.answered_on') >= ?) OR finished_on >= ?) "
        "GROUP BY staff ORDER BY staff", (code, since, since)).fetchall()
    res = ov.hub.stores.main.all_docs(startkey="service_item:", endkey="service_item:\ufff0",
                                      include_docs=True, offset=False)
    items = [r["doc"] for r in res["rows"] if r.get("doc") and r["doc"].get("active", True)
             and inst.get("tier") in r["doc"].get("tiers", [inst.get("tier")])]
    parent = names.get(inst.get("parent", ""))
    # 8.1.2 the staff on duty, by name and role from the roster (`hub institution staff`);
    # a hub whose roster is not filled in yet shows the staff ids that handled cases
    counts = {str(s): int(n) for s, n in staff_rows}
    roster = [(m["name"], STAFF_ROLES.get(m.get("role", ""), ("", ""))[0],
               counts.get(str(m["id"]), 0))
              for m in inst.get("staff") or [] if on_duty(m)]
    staff = [(public_id(str(s)), int(n)) for s, n in staff_rows]
    return {"inst": inst, "parent": parent, "staff": staff, "roster": roster,
            "closed": closed(inst),  # merged (hub.closing): the public must go elsewhere
            "items": sorted(items, key=lambda d: d["code"])}
