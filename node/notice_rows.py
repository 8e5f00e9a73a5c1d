"""The rows of the two notices the applicant takes home: the one-time notification (form N:
its 办理条件 and 办理流程, 3 and 10.1.4) and the notice of refusal (form R, 10.1.3 / 10.2.3).

Pure: from a case's catalog item and events, read by :func:`node.formdata.build`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The catalog item's members the one-time notification tells besides its materials and
#: time limit (一次性告知: "条件、程序、材料、时限", 3), with their printed labels.
NOTICE_TERMS = {"conditions": "办理条件", "procedure": "办理流程"}
#: form N before a service item is chosen (暂不确定): the same words as its time limit row
NOT_YET = "待确定服务事项后告知"


def notice_terms(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The 办理条件 and 办理流程 rows of form N. A catalog item without them says so
    plainly and names its 审批部门 to ask, rather than print a blank the applicant would
    read as "no conditions" (a catalog imported before the columns existed has none)."""
    if not item:
        return [(label, NOT_YET) for label in NOTICE_TERMS.values()]
    dept = item.get("department") or "审批部门"
    return [(label, str(item.get(key) or "") or f"服务事项清单未列明{label}，请向{dept}咨询")
            for key, label in NOTICE_TERMS.items()]


#: 10.1.3 / 10.2.3: refused "with reasons"; and what the applicant can do next
AFTER_REFUSAL = {
    "not_in_catalog": "该事项不在帮办代办服务清单内，请直接到审批部门办理。",
    "not_eligible": "目前不符合受理条件。条件具备后，可以重新申请。",
    "not_voluntary": "帮办代办须本人自愿。本人同意后，可以重新申请。",
    "materials_insufficient": "请按一次性告知单补齐材料后，再来申请。",
    "other": "如有疑问，请联系本机构。",
}


def refusal_rows(ev: dict[str, Any] | None, case: Mapping[str, Any],
                 at: str) -> list[tuple[str, str]]:
    """10.1.3 / 10.2.3: not accepted → the applicant is told the reasons, on paper like
    every other outcome (before: a refused applicant was given nothing to take home)."""
    from schemas import vocab

    codes = [str(c) for c in (ev or {}).get("reason_codes") or []]
    reasons = "、".join(vocab.REFUSAL_REASONS.get(c, (c,))[0] for c in codes)
    said = str(((ev or {}).get("private") or {}).get("reasons") or "")
    nxt = [AFTER_REFUSAL.get(c, AFTER_REFUSAL["other"]) for c in codes]
    dept = (case.get("item") or {}).get("department")
    if "not_in_catalog" in codes and dept:
        nxt[codes.index("not_in_catalog")] = f"该事项不在帮办代办服务清单内，请直接到{dept}办理。"
    return [("不予受理日期", at), ("不予受理原因", reasons + (f"：{said}" if said else "")),
            ("后续办理", "".join(dict.fromkeys(nxt)))]
