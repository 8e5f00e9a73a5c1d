"""The labels of recorded steps' fields (zh-CN, the UI's source language).

One table for every page that shows a step: the station's forms and case record
(``node.steps.LABELS`` wraps each in ``lazy_gettext``; ``node/translations/update.py`` adds
them to the English catalog) and the hub's case history (hub.oversight), which may not import
the node. Codes stay in documents; people read these words.
"""

from __future__ import annotations

import functools
from typing import Any

from marshmallow import fields as mf
from marshmallow import validate as mv

FIELD_LABELS: dict[str, str] = {
    "staff": "当前经办人", "channel": "渠道", "answered": "当场答复", "referred_to": "转询审批部门",
    "service_item": "服务事项", "name": "姓名", "contact": "联系方式",
    "question": "咨询问题", "outcome": "结果", "answer": "答复内容",
    "consultation": "对应咨询", "mode": "服务方式", "scope": "委托事项及权限",
    "materials_received": "已收材料（每行一项）", "applicant_signature": "服务对象签字",
    "note": "备注", "ledger_no": "台账编号", "period_end": "委托期限至",
    "zone": "办理区域", "time_limit_days": "承诺时限（工作日）",
    "reasons": "理由", "reason_codes": "不予受理原因",
    "materials": "材料", "materials_due": "材料提交期限", "attachments": "扫描件",
    # 补录 (node.paper): its refusal named the input "paper_date：" to the clerk
    "paper_date": "纸质表单上的日期",
    "due": "期限", "details": "详细说明", "department": "审批部门",
    "request": "对应补正通知", "description": "问题描述", "problem_id": "问题编号",
    "category": "类别", "progress": "进展", "status": "状态",
    "result_text": "处理结果说明", "result": "结果", "reference": "部门收件编号",
    "document_no": "批准文号", "text": "内容", "kind": "类别",
    "reason": "原因", "resumption_deadline": "续办期限",
    "cause_removed_on": "中止原因消除日期", "new_time_limit_days": "新的办理时限（工作日）",
    "from_institution": "移交机构", "to_institution": "接收机构",
    "from_tier": "移交层级", "to_tier": "接收层级", "reason_code": "移交原因",
    "materials_returned": "交还材料（每行一项）", "documents": "审批结果文件（每行一项）",
    "signer": "签字人身份", "signer_name": "签字人姓名（非本人签字时填写）",
    "thumbprint": "以指印代替签字", "completion": "撤销办结",
    "confirm": "我确认撤销该办结",
    "archive_no": "档案号", "level": "评价等级", "comment": "评价意见",
    "complainant": "投诉人", "complaint": "对应投诉", "purpose": "查阅目的",
    "fields_read": "查阅字段", "events": "需复核的步骤", "decision": "复核结论",
    # the case header's personal data (what an access event names as read, 7.2.2.2)
    "applicant_name": "服务对象姓名", "enterprise_name": "企业名称",
    "phone": "联系电话", "id_type": "证件类型", "id_number": "证件号码",
    "address": "住址",
}

#: a form's hint to the clerk, not part of what was recorded (交还材料（每行一项）)
FORM_HINTS = ("（每行一项）",)


def record_label_zh(name: str) -> str:
    """A field's label in a case's record: the form's label without its hint to the clerk."""
    label = FIELD_LABELS.get(name, name)
    for hint in FORM_HINTS:
        label = label.replace(hint, "")
    return label


def code_table(event_type: str, name: str) -> dict[str, tuple[str, str]] | None:
    """The ``schemas.vocab`` table a step's field draws its codes from (its ``OneOf``), or
    None: a ``channel`` of a consultation is one of CHANNELS (窗口), of a submission one of
    SUBMIT_CHANNELS (网上提交)."""
    return _code_tables().get((event_type, name))


@functools.cache  # built whole once (a half-built table never seen by another thread)
def _code_tables() -> dict[tuple[str, str], dict[str, tuple[str, str]]]:
    from schemas import vocab
    from schemas.event_types import EVENT_SCHEMAS

    out: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    tables = [t for n in dir(vocab) if n.isupper() and isinstance(t := getattr(vocab, n), dict)]
    for event_type, cls in EVENT_SCHEMAS.items():
        parts: list[Any] = [cls().fields]
        private = getattr(cls, "PRIVATE", None)
        if private is not None:
            parts.append(private().fields)
        for flds in parts:
            for name, f in flds.items():
                inner = f.inner if isinstance(f, mf.List) else f
                v = next((v for v in inner.validators if isinstance(v, mv.OneOf)), None)
                codes = {str(c) for c in v.choices} if v is not None else set()
                table = next((t for t in tables if codes and codes <= set(t)), None)
                if table is not None:
                    out[(event_type, name)] = table
    return out
