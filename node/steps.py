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

from schemas.field_labels import FIELD_LABELS

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
#: the standard's papers by letter, as the case page's print buttons and its record name them
FORM_TITLES = {"A": _l("受理单（附录A）"), "B": _l("办结（终止）单（附录B）"), "C": _l("委托书（附录C）"),
               "D": _l("中止单（附录D）"), "E": _l("续办委托书（附录E）"), "N": _l("一次性告知单"),
               "R": _l("不予受理告知单")}
FORM_OF_STEP = {"acceptance": "A", "completion": "B", "termination": "B", "entrustment": "C",
                "conversion": "C", "suspension": "D", "resumption": "E", "refusal": "R"}

#: the fields' labels are the schemas' (hub.oversight shows them too), in the page's language
LABELS: dict[str, Any] = {k: _l(v) for k, v in FIELD_LABELS.items()}

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
