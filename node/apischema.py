"""marshmallow schemas of the node's JSON API, and its OpenAPI document (apispec).

Event bodies are the casework schemas themselves (``schemas.event_types``): the API
documents exactly what the hub validates.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from schemas.state import STATUSES

API_VERSION = "1.0"


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "short code"})
    reason = fields.String(required=True, metadata={"description": "what went wrong (zh/en)"})
    field_errors = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields",
                               metadata={"description": "field -> what to fix, in Chinese"})


class UnlockSchema(Schema):
    passphrase = fields.String(required=True)


class ConsultationSchema(Schema):
    """10.1.1 / 10.2.1: opens a case and records the consultation (and the one-time
    notification of the materials not in ``have``)."""

    applicant_name = fields.String(required=True)
    agent_name = fields.String(metadata={"description": "代理人（经办人）: who acts for the "
                                         "applicant, printed on the forms"})
    phone = fields.String()
    id_type = fields.String(metadata={"enum": ["resident_id", "uscc", "passport", "hk_macao",
                                               "taiwan"]})
    id_number = fields.String(metadata={"description": "checked at entry: a resident ID's "
                                        "GB 11643 and a uscc's GB 32100 check character"})
    address = fields.String()
    applicant_kind = fields.String(metadata={"enum": ["person", "enterprise"]})
    special_groups = fields.List(fields.String())
    channel = fields.String(metadata={"enum": ["window", "phone", "online", "door"]})
    service_item = fields.String(metadata={"description": "catalog code"})
    service_type = fields.String(metadata={"enum": ["assist", "proxy"]})
    mode = fields.String(metadata={"enum": ["door", "online", "nearby"]})
    question = fields.String(required=True)
    answered = fields.Boolean()
    outcome = fields.String(metadata={"description": "处理结果: required when answered on the "
                                      "spot (10.1.1.2)"})
    have = fields.List(fields.String(), metadata={"description": "material codes brought"})
    paper_date = fields.String(metadata={"description": "补录: the date on the paper ledger's "
                                        "signed form (YYYY-MM-DD, before today) of a case "
                                        "brought in from paper; the step states that day "
                                        "(schemas.paper, node.paper)"})
    staff = fields.String(metadata={"description": "the staff id at the window (8.1.2): "
                                   "on duty on this institution's roster; default: this "
                                   "session's choice (POST /api/staff). Required, here or "
                                   "chosen, when several are on duty; an institution without "
                                   "a roster records the device (node.window)"})


class CaseSummarySchema(Schema):
    case_id = fields.String()
    case_no = fields.String()
    institution = fields.String()
    holder = fields.String()
    service_item = fields.String()
    service_type = fields.String()
    status = fields.String()
    needs_review = fields.Integer()
    created = fields.String()
    updated = fields.String()
    due = fields.String(allow_none=True, metadata={
        "description": "the nearest running deadline of any kind (time limit, materials, "
                       "reply, resumption): past it, the case is in view=deadline_passed"})
    closed = fields.Integer()
    handed_from = fields.String(allow_none=True)
    limit_due = fields.String(allow_none=True, metadata={
        "description": "the time limit (10.1.3): past it while handled, the case is in "
                       "view=overdue, the hub's 超期 (schemas/overdue.py)"})
    suspended_since = fields.String(allow_none=True)


class CasePageSchema(Schema):
    rows = fields.List(fields.Nested(CaseSummarySchema))
    next_cursor = fields.String(allow_none=True)


class CaseDetailSchema(Schema):
    header = fields.Dict()
    private = fields.Dict(metadata={"description": "opened personal data (access logged)"})
    events = fields.List(fields.Dict())
    state = fields.Dict()


class EventRequestSchema(Schema):
    """Cleartext fields of the event type at top level, its private part in ``private``;
    ``signature_png_base64`` for the applicant's drawn signature (sealed attachment). With no
    ``private`` object the private fields may come at the top level too; beside one, a
    private field at the top level is refused (e.g. a completion's ``materials_returned``,
    sealed since its schema_version 2), never dropped."""

    private = fields.Dict()
    signature_png_base64 = fields.String()
    paper_date = fields.String(metadata={"description": "补录: the date on the paper ledger's "
                                        "signed form (YYYY-MM-DD, before today) of a case "
                                        "brought in from paper; the step states that day "
                                        "(schemas.paper, node.paper)"})
    confirm = fields.Boolean(metadata={"description": "only for completion_withdrawn "
                                       "(schemas.withdraw): true, as the form's box"})
    staff = fields.String(metadata={"description": "the staff id at the window (8.1.2): "
                                   "on duty on this institution's roster; default: this "
                                   "session's choice (POST /api/staff). Required, here or "
                                   "chosen, when several are on duty; an institution without "
                                   "a roster records the device (node.window)"})


class StaffChoiceSchema(Schema):
    staff = fields.String(required=True, metadata={"description": "a staff id on duty"})


class StaffStateSchema(Schema):
    """The staff at the window for this session (node.window, 8.1.2)."""

    staff = fields.String(allow_none=True, metadata={"description": "chosen (or the only "
                                                     "one on duty); null: none"})
    on_duty = fields.List(fields.Dict(), metadata={"description": "id, name, role (7.1)"})
    roster_empty = fields.Boolean(metadata={"description": "no roster: steps are recorded "
                                            "under the enrollment's staff, else the device"})
    required = fields.Boolean(metadata={"description": "a step would be refused (staff) "
                                        "until one is chosen or named"})
    recorded_as = fields.String(metadata={"description": "the id a step is recorded under "
                                          "now"})


class RecordedSchema(Schema):
    ok = fields.Boolean()
    id = fields.String()
    case_id = fields.String()


class SyncStateSchema(Schema):
    status = fields.String()
    last_ok = fields.String(allow_none=True)
    last_attempt = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    pending = fields.Integer()
    phase = fields.String()
    docs_done = fields.Integer()
    docs_total = fields.Integer(allow_none=True)
    pushed = fields.Integer()
    pulled = fields.Integer()
    label = fields.String()


#: (path, method, summary, request schema, response schema, tag)
ROUTES: list[tuple[str, str, str, str | None, str, str]] = [
    ("/api/status", "get", "Node status: enrollment, lock, sync", None, "SyncState", "node"),
    ("/api/unlock", "post", "Unlock the keys with the passphrase", "Unlock", "Recorded", "node"),
    ("/api/lock", "post", "Drop the keys from memory", None, "Recorded", "node"),
    ("/api/staff", "get", "The staff at the window: this session's choice and the roster "
     "members on duty (8.1.2)", None, "StaffState", "node"),
    ("/api/staff", "post", "Choose the staff at the window for this session: later steps "
     "and reads are recorded under that id", "StaffChoice", "StaffState", "node"),
    ("/api/catalog", "get", "Service items (清单) with materials", None, "Recorded", "catalog"),
    ("/api/consultations", "post", "Record a consultation (opens a case)", "Consultation",
     "Recorded", "cases"),
    ("/api/cases", "get", "List and search cases (q, view, status, item, after, limit); view: "
     "open, today, due_soon, overdue (已超期: past the time limit, as the hub counts it), "
     "deadline_passed (待办到期: any deadline passed), needs_review, handed_up, elsewhere, "
     "pending; status: " + ", ".join(STATUSES) + " (consulting: a reply is due, consulted: "
     "answered)", None, "CasePage", "cases"),
    ("/api/counts", "get", "The home page's numbers, each the length of its view's list "
     "(overdue and deadline_passed apart)", None, "Recorded", "cases"),
    ("/api/cases/{case_id}", "get", "One case: header, opened private part, events, state",
     None, "CaseDetail", "cases"),
    ("/api/cases/{case_id}/events/{event_type}", "post",
     "Record a step (any event type of the casework schemas)", "EventRequest", "Recorded",
     "handling"),
    ("/api/cases/{case_id}/applicant", "post", "Correct the applicant's particulars "
     "(applicant_name, agent_name, phone, id_type, id_number, address; checked as the consultation "
     "form checks them) and, when given, special_groups (9.2); the replaced ones stay, sealed, "
     "in the header's history", None,
     "Recorded", "cases"),
    ("/api/cases/{case_id}/forms/{letter}.pdf", "get", "Printable form A–E, N (notification) or R (refusal)",
     None, "Recorded", "forms"),
    ("/api/sync", "get", "Sync state", None, "SyncState", "sync"),
    ("/api/sync", "post", "Run one sync round now", None, "SyncState", "sync"),
    ("/api/town", "get", "Town view: per originating station `handed_ever` (every case it "
     "handed up) and `held_open` / `held_overdue` (those this centre holds now, as the "
     "上报在办 / 上报超期 tiles count them), handed-up cases, and "
     "the villages' open cases from the hub's coordination boards (`boards`, `board_rows`)",
     None, "CasePage", "town"),
    ("/api/town/notice", "post", "Urge a station about a case on its board (4.2): to, case, "
     "reason (due, reply_due, resume_by, review, follow_up)", None, "Recorded", "town"),
    ("/api/town/notice/late", "post", "Urge every overdue row on the boards (optional "
     "`institution`: one station's) with reason `due`, except those urged today: `ids` of "
     "the notices written", None, "Recorded", "town"),
]


#: routes answered without a session (node.app.OPEN_ENDPOINTS): no case data
OPEN_ROUTES = {("/api/status", "get"), ("/api/unlock", "post"), ("/api/sync", "get")}


def openapi() -> dict[str, Any]:
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    from schemas.event_types import EVENT_SCHEMAS

    spec = APISpec(title="Bangban node API", version=API_VERSION, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "The field app's JSON API: every UI action "
                                        "(DB4106/T 101—2023 casework), on 127.0.0.1."})
    own = {"Error": ErrorSchema, "Unlock": UnlockSchema, "Consultation": ConsultationSchema,
           "CaseSummary": CaseSummarySchema, "CasePage": CasePageSchema,
           "CaseDetail": CaseDetailSchema, "EventRequest": EventRequestSchema,
           "Recorded": RecordedSchema, "SyncState": SyncStateSchema,
           "StaffChoice": StaffChoiceSchema, "StaffState": StaffStateSchema}
    for name, own_schema in own.items():
        spec.components.schema(name, schema=own_schema)
    spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "bangban_node_{port}",
        "description": "Set by POST /api/unlock (or the unlock page) for the right passphrase, "
                       "even while the node is unlocked; send it back with every call. It "
                       "ends when the node locks (node.sessions)."})
    event_refs = []
    for event_type, cls in sorted(EVENT_SCHEMAS.items()):
        name = "Event_" + event_type
        try:
            spec.components.schema(name, schema=cls)
            event_refs.append({"$ref": f"#/components/schemas/{name}"})
        except Exception:  # a custom field apispec cannot map: document it as an object
            spec.components.schema(name, {"type": "object", "description": cls.__doc__ or ""})
            event_refs.append({"$ref": f"#/components/schemas/{name}"})
    paths: dict[str, dict[str, Any]] = {}
    for path, method, summary, req, resp, tag in ROUTES:
        op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {
            "200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{resp}"}}}},
            "400": {"description": "invalid input (fields say what to fix)", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "423": {"description": "keys locked"}}}
        if (path, method) not in OPEN_ROUTES:
            op["security"] = [{"session": []}]
            op["responses"]["401"] = {
                "description": "no_session: unlocked, but this client sent no live session "
                               "cookie (POST /api/unlock first)", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in ("case_id", "event_type", "letter") if "{" + p + "}" in path]
        if params:
            op["parameters"] = params
        if req:
            body: dict[str, Any] = {"$ref": f"#/components/schemas/{req}"}
            if req == "EventRequest":
                body = {"allOf": [body], "oneOf": event_refs}
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": body}}}
        if path.endswith(".pdf"):
            op["responses"]["200"] = {"description": "PDF", "content": {"application/pdf": {}}}
        paths.setdefault(path, {})[method] = op
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()
