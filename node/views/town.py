"""The town coordinator's view (4.3): cases handed up from its villages, open and overdue
counts per village, and assigning work down (hand-down)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from node.views.common import node, soon, today

bp = Blueprint("town", __name__, url_prefix="/town")


def villages() -> list[dict[str, Any]]:
    """Institutions whose parent is this one (from the synced reference data)."""
    n = node()
    rows = n.store.all_docs(startkey="institution:", endkey="institution:\uffff",
                            include_docs=True, offset=False)["rows"]
    return [r["doc"] for r in rows if r.get("doc") and r["doc"].get("parent") == n.institution]


@bp.get("/")
def index() -> str:
    n = node()
    t = today().isoformat()
    names = {v["code"]: v.get("name", v["code"]) for v in villages()}
    per = [r for r in n.index.by_institution(today=t) if r["institution"] != n.institution]
    for code in names:
        if not any(r["institution"] == code for r in per):
            per.append({"institution": code, "total": 0, "open": 0, "overdue": 0, "handed": 0})
    page = n.index.search(view="handed_up", today=t, soon=soon(), limit=int(n.settings.page_size))
    return render_template("town.html", per=sorted(per, key=lambda r: r["institution"]),
                           names=names, page=page,
                           counts=n.index.counts(today=t, soon=soon(), handed=True))
