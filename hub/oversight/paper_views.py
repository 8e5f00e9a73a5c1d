"""``/oversight/paper``: the cases each station brought in from its paper ledger (补录), for
the supervisor to hold against that ledger (11.1), and its exports ``/oversight/paper.csv``,
``/oversight/paper.xlsx`` (hub.oversight.paper says what is listed and why).

Scoped as every list here: the institutions under the period's ``scope`` the supervisor sees
(hub.oversight.params). The list names cases as the overdue lists do; each links to the case
page, which asks its reason first (hub.oversight.readlog).
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from hub.oversight import clocks as clk
from hub.oversight import paper as pp
from hub.oversight.login import login_required
from hub.oversight.views import _name, _no_page, _ov, _params, _staff_label, blueprint

#: steps the page shows (the first by station and case); the exports hold them all
PAGE_ROWS = 1000


def _late_days() -> int:
    return int(_ov().hub.settings.paper_entry_days)


def _steps(p: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
    """:func:`hub.oversight.paper.step_rows` with each item's name from the 清单 beside
    its code (the paper ledger names the item, not the code)."""
    ov = _ov()
    rows = pp.step_rows(ov.facts.reader(), p["prefix"], p["first"], p["last"], _late_days(),
                        limit=limit)
    items = ov.hub.stores.service_items()
    for r in rows:
        code = str(r["service_item"] or "")
        r["service_item"] = f"{code} {(items.get(code) or {}).get('name', '')}".strip()
    return rows


@blueprint.get("/paper")
@login_required
def paper() -> Any:
    ov = _ov()
    ov.catch_up()
    p = _params()
    db, days = ov.facts.reader(), _late_days()
    stations = pp.station_rows(db, p["prefix"], p["first"], p["last"], days)
    steps = _steps(p, limit=PAGE_ROWS + 1)
    return render_template("oversight/paper.html", p=p, stations=stations,
                           steps=steps[:PAGE_ROWS], more=len(steps) > PAGE_ROWS,
                           page_rows=PAGE_ROWS, late_days=days, local_time=clk.local_time,
                           name=lambda c: _name(p["names"], c))


@blueprint.get("/paper.<fmt>")
@login_required
def paper_export(fmt: str) -> Response:
    from hub.oversight import exports

    p = _params()
    period = p["first"] if p["last"] == p["first"] else f"{p['first']} 至 {p['last']}"
    if fmt not in ("csv", "xlsx"):
        raise _no_page("fmt: csv or xlsx", "导出格式只有 xlsx 和 csv，请用补录核对页下方的导出链接")
    _ov().catch_up()
    table = pp.export_table(_steps(p), lambda c: _name(p["names"], c), _staff_label,
                            exports.local_datetime)
    sent = exports.download(table, fmt, f"paper-{p['scope']}-{p['first']}-{p['last']}",
                            f"补录 {period}")
    assert sent is not None  # the format was checked above
    return sent
