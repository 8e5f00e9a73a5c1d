"""Who read a case's file at the hub, when and why (PIPL art. 51, 55; design.md §5 "audited
supervision"; 11.1 e).

The hub holds no key to a case's particulars, but its case page and archive show everything
else the hub keeps of the case: the steps, who handled them, the header's cleartext (the
special groups of 9.2: the elderly, the disabled, which is health information, PIPL art. 28),
and the archive carries the sealed parts, which the escrow key opens. A station's reading is
an ``access`` event on the case (node/reading.py); a supervisor's reading here left no trace.
Now each look-up of a case by its number (the page), each download of its archive and each
``hub case export`` stores a ``case_read:CASE_ID:UTC-RANDOM`` record in the hub's private
database *before* the case is shown (who, when, why, what), and the case page lists them.

The records are the audit itself: kept like the cases (backed up with the private database,
never deleted by the hub), and never synced to a station.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput

if TYPE_CHECKING:
    from hub.core import Hub

PREFIX = "case_read:"
#: Why a supervisor or the operator opens a case's file (the page asks; a code, so the
#: record never holds typed personal data).
WHY = {"complaint": "处理投诉或信访（11.1）", "check": "监督检查（11.1 a–e）",
       "dispute": "争议或复核申请", "applicant": "服务对象查询本人信息（个人信息保护法第45条）",
       "audit": "审计", "other": "其他（线下登记）"}
#: What was read: the page, the archive downloaded from it, the operator's export.
WHAT = {"page": "查看案件档案页", "archive": "下载签名档案", "export": "导出签名档案（hub case export）"}


def check_why(why: str | None) -> str:
    """``why`` as given, or a refusal naming the field and its words."""
    why = (why or "").strip()
    if why not in WHY:
        raise BadInput("why: required, the reason for reading the case, one of "
                       f"{', '.join(WHY)} / 查阅理由必须选择：" + "、".join(WHY.values()))
    return why


def record(hub: Hub, case_id: str, *, by: str, what: str, why: str) -> dict[str, Any]:
    """Store the reading (before anything of the case is shown) and return the record."""
    why = check_why(why)
    if what not in WHAT:
        raise ValueError(f"what: one of {', '.join(WHAT)}, got {what!r}")
    now = dt.datetime.now(dt.UTC)
    doc = {"_id": f"{PREFIX}{case_id}:{now:%Y%m%dT%H%M%S%fZ}-{os.urandom(3).hex()}",
           "type": "case_read", "case_id": case_id, "by": by, "what": what, "why": why,
           "at": now.isoformat(timespec="seconds")}
    hub.stores.private.put(doc)
    return doc


def reads_of_case(hub: Hub, case_id: str) -> list[dict[str, Any]]:
    """Every recorded reading of ``case_id``, oldest first (the ids sort by time)."""
    start = f"{PREFIX}{case_id}:"
    rows = hub.stores.private.all_docs(startkey=start, endkey=start + "\ufff0",
                                       include_docs=True, offset=False)["rows"]
    return [{k: v for k, v in r["doc"].items() if k != "_rev"} for r in rows if r.get("doc")]


__all__ = ["PREFIX", "WHAT", "WHY", "check_why", "reads_of_case", "record"]
