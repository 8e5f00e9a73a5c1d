"""The oversight pages' query arguments (DB4106/T 101—2023 clauses 5 and 11.1 are counted
per period and scope): checked once, refused by name, and handed back for the links.

A refusal is a :class:`hub.errors.BadInput` (400) naming the argument and its rule in
English and Chinese; a scope outside the supervisor's area is 403. Links are built from the
checked values only (never ``request.args``: a stray ``fmt`` or ``by`` clashed with
``url_for``'s own arguments)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import request

from hub.errors import BadInput, HubError
from hub.oversight import indicators as ind
from hub.oversight import supervisors as sup
from schemas.state import local_today

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
#: Years a period or ``as_of`` may name: the working-day calendar's reach and then some
#: (a date near 9999-12-31 overflowed "as_of + 5 days" into a 500).
YEARS = (2000, 2099)


def period_params(who: sup.Supervisor, names: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The request's period (``from``/``to`` months), ``as_of`` day and ``scope``, checked:
    a refusal names the argument and its rule (400), a scope outside ``who``'s area is
    403; with the links' query (``q``) and the scope menu (``path``, ``children``)."""
    today = local_today()  # the standard's dates are Beijing dates, whatever the server's zone
    as_of = request.args.get("as_of", "")
    lo, hi = YEARS
    try:
        today = dt.date.fromisoformat(as_of) if as_of else today
    except ValueError:
        raise BadInput("as_of: a date YYYY-MM-DD / 统计日期（as_of）格式应为 YYYY-MM-DD") from None
    if not lo <= today.year <= hi:
        raise BadInput(f"as_of: a year from {lo} to {hi} / 统计日期（as_of）的年份应在 {lo}–{hi} 之间")
    first = request.args.get("from") or today.isoformat()[:7]
    last = request.args.get("to") or first
    # the Chinese half names the box as the filter labels it (统计月份 … 至 …)
    for name, zh, value in (("from", "统计月份", first), ("to", "“至”月份", last)):
        if not _MONTH.fullmatch(value):
            raise BadInput(f"{name}: a month YYYY-MM / {zh}格式应为 YYYY-MM，如 2026-03")
        if not lo <= int(value[:4]) <= hi:
            raise BadInput(f"{name}: a year from {lo} to {hi} / {zh}的年份应在 {lo}–{hi} 之间")
    if last < first:
        raise BadInput("to: must not be before from / “至”月份不能早于统计月份")
    scope = request.args.get("scope") or who.institution
    if not who.sees(scope):
        raise HubError(f"scope: {scope} is outside your area ({who.institution}) / "
                       f"范围：{scope} 超出您的监督范围，请在“范围”中选择", status=403, error="forbidden")
    if scope not in names:
        raise BadInput(f"scope: unknown institution {scope} / 范围：机构 {scope} 不存在，请在“范围”中选择")
    prefix = "" if names[scope].get("tier") == "city" else scope
    # the checked arguments again, for links (never request.args: a stray "fmt" or "by"
    # clashed with url_for's own arguments, a 500)
    q = {"from": first, "to": last, "scope": scope, **({"as_of": as_of} if as_of else {})}
    p = {"today": today, "first": first, "last": last, "scope": scope, "prefix": prefix,
         "names": names, "as_of": as_of, "q": q}
    # the scope menu of every page's filter (staff, checks and complaints had none)
    p["path"], p["children"] = _scope_path(p, who), _children(p)
    return p


def _children(p: dict[str, Any]) -> list[tuple[str, str]]:
    n = ind.child_length(p["prefix"])
    return sorted((c, d["name"]) for c, d in p["names"].items()
                  if c.startswith(p["prefix"]) and len(c) == n and c != p["scope"])


def _scope_path(p: dict[str, Any], who: sup.Supervisor) -> list[tuple[str, str]]:
    """The units from below the supervisor's own down to the current scope (county, town,
    …): the scope menu offers them, so a drilled-down scope stays selected when the period
    changes, and the way back up is one choice."""
    path = [(c, str(d["name"])) for c, d in p["names"].items()
            if p["scope"].startswith(c) and c != who.institution and who.sees(c)]
    return sorted(path, key=lambda cn: len(cn[0]))
