"""The UI's steps: which event types a clerk records, and their form fields.

Form fields are read from the casework schemas (``schemas.event_types.EVENT_SCHEMAS``)
so the UI, the API and the hub validate the same thing: cleartext fields go to the
event's top level, fields of the schema's ``PRIVATE`` part go to ``private`` (sealed
before storing). The node adds only labels, widget kinds and the order of steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields as mf
from marshmallow import validate as mv

#: members every event has; the node fills them in, the form never shows them
BASE_FIELDS = {"_id", "type", "schema_version", "sig", "event_type", "case_id", "hlc",
               "base_hlc", "at", "device", "institution", "staff", "sealed",
               # scans: the node writes the chunk manifests (design.md §4), never typed
               "chunked",
               # hand-over: derived from this node and the receiver's code, never typed
               "from_institution", "from_tier", "to_tier"}

#: the steps offered on a case page, in the standard's order (10.1, 10.2, 11)
STEP_ORDER = (
    "application", "acceptance", "refusal", "entrustment", "conversion", "notification", "material_received",
    "reminder", "correction_requested", "correction_received", "problem_opened",
    "problem_updated", "problem_resolved", "submitted", "decision", "work_log", "suspension",
    "resumption", "hand_up", "hand_down", "completion", "completion_withdrawn", "termination",
    "rating", "complaint",
    "complaint_handled", "archived", "reply",
    # design.md §3: two laptops recorded clashing steps offline; the station settles it
    "review_resolved",
)
#: steps that print a form of the standard's appendices (R: the notice of refusal, 10.1.3:
#: "tell the applicant with reasons", on paper as every other outcome)
FORM_OF_STEP = {"acceptance": "A", "completion": "B", "termination": "B", "entrustment": "C",
                "conversion": "C", "suspension": "D", "resumption": "E", "refusal": "R"}

LABELS: dict[str, Any] = {
    "staff": _l("当前经办人"), "channel": _l("渠道"), "answered": _l("当场答复"), "referred_to": _l("转询审批部门"),
    "service_item": _l("服务事项"), "name": _l("姓名"), "contact": _l("联系方式"),
    "question": _l("咨询问题"), "outcome": _l("结果"), "answer": _l("答复内容"),
    "consultation": _l("对应咨询"), "mode": _l("服务方式"), "scope": _l("委托事项及权限"),
    "materials_received": _l("已收材料（每行一项）"), "applicant_signature": _l("服务对象签字"),
    "note": _l("备注"), "ledger_no": _l("台账编号"), "period_end": _l("委托期限至"),
    "zone": _l("办理区域"), "time_limit_days": _l("承诺时限（工作日）"),
    "reasons": _l("理由"), "reason_codes": _l("不予受理原因"),
    "materials": _l("材料"), "materials_due": _l("材料提交期限"), "attachments": _l("扫描件"),
    # 补录 (node.paper): its refusal named the input "paper_date：" to the clerk
    "paper_date": _l("纸质表单上的日期"),
    "due": _l("期限"), "details": _l("详细说明"), "department": _l("审批部门"),
    "request": _l("对应补正通知"), "description": _l("问题描述"), "problem_id": _l("问题编号"),
    "category": _l("类别"), "progress": _l("进展"), "status": _l("状态"),
    "result_text": _l("处理结果说明"), "result": _l("结果"), "reference": _l("部门收件编号"),
    "document_no": _l("批准文号"), "text": _l("内容"), "kind": _l("类别"),
    "reason": _l("原因"), "resumption_deadline": _l("续办期限"),
    "cause_removed_on": _l("中止原因消除日期"), "new_time_limit_days": _l("新的办理时限（工作日）"),
    "from_institution": _l("移交机构"), "to_institution": _l("接收机构"),
    "from_tier": _l("移交层级"), "to_tier": _l("接收层级"), "reason_code": _l("移交原因"),
    "materials_returned": _l("交还材料（每行一项）"), "documents": _l("审批结果文件（每行一项）"),
    "signer": _l("签字人身份"), "signer_name": _l("签字人姓名（非本人签字时填写）"),
    "thumbprint": _l("以指印代替签字"), "completion": _l("撤销办结"),
    "confirm": _l("我确认撤销该办结"),
    "archive_no": _l("档案号"), "level": _l("评价等级"), "comment": _l("评价意见"),
    "complainant": _l("投诉人"), "complaint": _l("对应投诉"), "purpose": _l("查阅目的"),
    "fields_read": _l("查阅字段"), "events": _l("需复核的步骤"), "decision": _l("复核结论"),
    # the case header's personal data (what an access event names as read, 7.2.2.2)
    "applicant_name": _l("服务对象姓名"), "enterprise_name": _l("企业名称"),
    "phone": _l("联系电话"), "id_type": _l("证件类型"), "id_number": _l("证件号码"),
    "address": _l("住址"),
}

STEP_TITLES: dict[str, Any] = {
    "consultation": _l("咨询"), "reply": _l("咨询答复"), "application": _l("申请"),
    "entrustment": _l("委托（附录C）"), "acceptance": _l("受理（附录A）"),
    "refusal": _l("不予受理"), "notification": _l("一次性告知"),
    "material_received": _l("材料接收"), "reminder": _l("催告"),
    "correction_requested": _l("补正通知"), "correction_received": _l("补正材料接收"),
    "problem_opened": _l("问题登记"), "problem_updated": _l("问题进展"),
    "problem_resolved": _l("问题办结"), "submitted": _l("报送审批部门"),
    "decision": _l("审批决定"), "work_log": _l("工作日志"), "suspension": _l("中止（附录D）"),
    "resumption": _l("续办（附录E）"), "conversion": _l("帮办转代办"), "hand_up": _l("上报"),
    "hand_down": _l("下派"), "completion": _l("办结（附录B）"), "termination": _l("终止（附录B）"),
    "completion_withdrawn": _l("撤销办结"),
    "archived": _l("归档"), "rating": _l("好差评"), "complaint": _l("投诉"),
    "complaint_handled": _l("投诉处理"), "access": _l("查阅个人信息"),
    "review_resolved": _l("冲突复核"),
}


@dataclass
class FormField:
    """One input of a step's form."""

    name: str
    private: bool
    kind: str  # text, textarea, date, number, checkbox, select, multi, lines, signature, file
    required: bool
    label: Any
    choices: list[tuple[str, str]] = field(default_factory=list)


def _vocab_labels(choices: list[str]) -> list[tuple[str, str]]:
    """Label codes with the vocabularies' zh labels when the codes come from one."""
    from flask_babel import get_locale

    from node.labels import vocab_table

    try:
        en = str(get_locale() or "").startswith("en")
    except RuntimeError:  # outside a request
        en = False
    table = vocab_table(choices)
    if table is not None:
        return [(c, table[c][int(en)] if isinstance(table[c], tuple) else str(table[c]))
                for c in choices]
    return [(c, c) for c in choices]


def _kind(name: str, f: mf.Field) -> tuple[str, list[tuple[str, str]]]:
    from schemas.fields import Bool, DateStr

    one_of = next((v for v in getattr(f, "validators", []) if isinstance(v, mv.OneOf)), None)
    if name == "applicant_signature":
        return "signature", []
    if name == "attachments":
        return "file", []
    if name == "service_item":
        return "item", []
    if name == "to_institution":
        return "institution", []
    if one_of is not None:
        return "select", _vocab_labels([str(c) for c in one_of.choices])
    if isinstance(f, mf.List):
        inner = f.inner
        inner_one = next((v for v in getattr(inner, "validators", []) if isinstance(v, mv.OneOf)),
                         None)
        if inner_one is not None:
            return "multi", _vocab_labels([str(c) for c in inner_one.choices])
        if isinstance(inner, mf.Nested):
            return "materials", []
        return "lines", []
    if isinstance(f, Bool | mf.Boolean):
        return "checkbox", []
    if isinstance(f, DateStr):
        return "date", []
    if isinstance(f, mf.Integer):
        return "number", []
    if getattr(f, "max_len", 0) and getattr(f, "max_len", 0) > 300 or name in ("text", "question"):
        return "textarea", []
    for v in getattr(f, "validators", []):
        if isinstance(v, mv.Length) and (v.max or 0) > 300:
            return "textarea", []
    return "text", []


def form_fields(event_type: str) -> list[FormField]:
    """The inputs of one step, cleartext first, then the private part."""
    from schemas.event_types import EVENT_SCHEMAS

    schema_cls = EVENT_SCHEMAS[event_type]
    out: list[FormField] = []
    schema = schema_cls()
    for name, f in schema.fields.items():
        if name in BASE_FIELDS or f.dump_only:
            continue
        kind, choices = _kind(name, f)
        out.append(FormField(name, False, kind, bool(f.required), LABELS.get(name, name), choices))
    if schema_cls.PRIVATE is not None:
        for name, f in schema_cls.PRIVATE().fields.items():
            kind, choices = _kind(name, f)
            out.append(FormField(name, True, kind, bool(f.required), LABELS.get(name, name),
                                 choices))
    return out


def parse_form(event_type: str, form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Typed values from a submitted form (``request.form``-like, or a JSON dict):
    ``(cleartext fields, private fields)``. Empty inputs are left out so the schema
    names what is missing."""
    clear: dict[str, Any] = {}
    private: dict[str, Any] = {}
    is_json = isinstance(form, dict) and not hasattr(form, "getlist")
    if is_json and not isinstance(form.get("private", {}), dict):
        from node.errors import InvalidInput

        problem = "应为对象（个人信息字段） / must be an object of the private fields"
        raise InvalidInput(f"private: {problem}", fields={"private": problem})
    for ff in form_fields(event_type):
        target = private if ff.private else clear
        if is_json:
            src = form.get("private", {}) if ff.private and "private" in form else form
            if ff.name in src:
                target[ff.name] = src[ff.name]
            elif ff.private and ff.name in form:
                # A member an older client sent at the top level that this version seals
                # (e.g. a completion's materials_returned, schema_version 2): refused, not
                # dropped while the rest of ``private`` is stored.
                from node.errors import InvalidInput

                problem = ("属于个人信息部分，须放在 private 中加密存放 / must be sealed: send it "
                           "inside private (7.2.2.2)")
                raise InvalidInput(f"{ff.name}: {problem}", fields={ff.name: problem})
            continue
        if ff.kind == "checkbox":
            target[ff.name] = form.get(ff.name) in ("1", "on", "true", "yes")
            continue
        if ff.kind == "multi":
            values = form.getlist(ff.name)
            if values:
                target[ff.name] = values
            continue
        if ff.kind in ("file", "materials", "signature"):
            continue  # handled by casework (attachments, item materials, drawn signature)
        raw = (form.get(ff.name) or "").strip()
        if not raw:
            continue
        if ff.kind == "lines":
            target[ff.name] = [x.strip() for x in raw.splitlines() if x.strip()]
        elif ff.kind == "number":
            try:
                target[ff.name] = int(raw)
            except ValueError:
                target[ff.name] = raw  # the schema names the field and the rule
        else:
            target[ff.name] = raw
    return clear, private
