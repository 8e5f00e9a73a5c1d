"""Complaint intake at the hub (11.1: on-site, phone, written and online complaints).

A complaint is an event of its case (schemas: ``complaint`` / ``complaint_handled``),
so the station that holds the case sees it, must handle it, and its handling is
tracked against the hub setting ``complaint_working_days`` (5 c). The hub
writes it as G's deadline watcher writes 10.2.5.2 terminations
(:mod:`hub.workers.terminate`): an ordinary event recorded by the hub's own device,
signed with the hub's key, its private part (the complaint text, complainant, contact)
sealed with a fresh data-key generation wrapped for every recipient of the case's
keyring — the hub itself cannot read it afterwards.

The event's ``channel`` uses the schemas' vocabulary (schemas.vocab.COMPLAINT_CHANNELS:
window, phone, online, door, written); the intake form (on-site, phone, written, online)
and the supervisor who took it are kept in a hub-private ``complaint_intake:{hlc}`` document.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from hub.errors import BadInput
from hub.sealing import next_clock, store_hub_event
from schemas import build
from schemas.errors import SchemaError, ValidationFailed
from schemas.events_oversight import ComplaintHandledPrivate, ComplaintPrivate
from schemas.fields import Str
from schemas.hlc import HLC
from schemas.vocab import COMPLAINT_CATEGORIES, COMPLAINT_RESULTS
from sync.crypto.errors import CryptoError
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.core import Hub

#: intake form (11.1) -> the event's channel (schemas.vocab.COMPLAINT_CHANNELS)
INTAKE = {"onsite": ("现场", "window"), "phone": ("电话", "phone"),
          "written": ("书面", "written"), "online": ("网上", "online")}
#: Filed by the complainant on the public page (hub.oversight.public_complaints), not typed
#: in by a supervisor: its intake form on the tracking list, never offered on the form.
PUBLIC = "public"
INTAKE_ZH = {**{k: zh for k, (zh, _c) in INTAKE.items()}, PUBLIC: "网上自助（身份未核实）"}


#: The form's fields as the pages name them (the event's ``private.*``, the intake's
#: labels): a refusal named "private.contact" after "400 bad_request:", words no
#: supervisor typed into.
FIELD_ZH = {"text": "投诉内容", "complainant": "投诉人", "contact": "联系方式"}
HANDLED_ZH = {"text": "处理情况"}
#: The intake box's limit, the schema's (static/count.js counts to it: no maxlength cuts a
#: paste silently; beyond it the schema refuses the text by name, the form given back)
MAX_TEXT: int = cast(Str, ComplaintPrivate._declared_fields["text"]).max_len
#: The handling's box (处理情况), counted and refused alike (a supervisor's report pasted in)
MAX_HANDLED: int = cast(Str, ComplaintHandledPrivate._declared_fields["text"]).max_len


def _refusal(exc: SchemaError, labels: dict[str, str]) -> BadInput:
    """The schema's refusal of a form's text, named by the form's field and its label."""
    if not isinstance(exc, ValidationFailed):
        return BadInput(exc.reason)
    said = []
    for problem in exc.problems:
        field = problem.field.removeprefix("private.")
        said.append(f"{field}: {problem.message_en} / {labels.get(field, field)}："
                    f"{problem.message_zh}")
    return BadInput("; ".join(said))


def _store_for_case(hub: Hub, case_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event sealed under a fresh key generation for it alone, stored with its keyring."""
    try:
        return store_hub_event(hub, case_id, event)
    except CryptoError as exc:
        # a recipient of the case has no active key (its key is being replaced after a
        # lost laptop, README "Lost laptop"): as a SyncError it reached the page of a
        # store outage ("the database does not answer"), which it is not
        raise BadInput(f"case: it cannot be sealed for all its institutions now "
                       f"({exc.reason}); try again once the station's new key is registered / "
                       "该办件有机构正在更换密钥，暂不能登记；请在其新密钥登记后再试，"
                       "急件请电话联系该机构") from exc
    except NotFound:
        # named by what the supervisor typed (the page says the case number), not the
        # internal case id; and what to do about it
        raise BadInput("case: the hub has no keyring of this case yet (its station has not "
                       "synced it): try again once the station has synced / 该办件的密钥环尚未"
                       "同步到平台，暂不能登记；请在该站同步后再试，急件请电话联系该机构") from None


def _clock(hub: Hub, case_id: str) -> tuple[HLC, str | None]:
    res = hub.stores.main.all_docs(startkey=f"event:{case_id}:",
                                   endkey=f"event:{case_id}:\ufff0", offset=False)
    last = max((r["id"].split(":", 2)[2] for r in res["rows"]), default=None)
    return next_clock(hub, last), last


def find_case(hub: Hub, case_ref: str, facts_db: Any) -> str:
    """A case id from a case number (``410621101201-2026-A1-00017``) or a case id."""
    ref = (case_ref or "").strip()
    if not ref:
        raise BadInput("case: required / 办件编号：必填")
    row = facts_db.execute("SELECT case_id FROM facts WHERE case_no = ? OR case_id = ?",
                           (ref, ref)).fetchone()
    if row is None:
        raise BadInput(f"case: no case numbered {ref} / 办件编号 {ref} 不存在")
    return str(row[0])


def take_complaint(hub: Hub, case_id: str, *, intake: str, category: str, text: str,
                   complainant: str = "", contact: str = "", received_by: str = "",
                   receipt: str = "", now: dt.datetime | None = None) -> dict[str, Any]:
    """Record a complaint about a case as a hub-signed, sealed ``complaint`` event.

    ``receipt`` (the public page's receipt number) marks it filed by the complainant
    online: intake :data:`PUBLIC`, the event's channel ``online``."""
    if receipt:
        form = PUBLIC
    elif intake in INTAKE:
        form = intake
    else:
        raise BadInput(f"intake: one of {', '.join(INTAKE)} / 投诉方式：现场、电话、书面、网上")
    if category not in COMPLAINT_CATEGORIES:
        raise BadInput(f"category: one of {', '.join(COMPLAINT_CATEGORIES)} / 投诉类别无效")
    if not text.strip():
        raise BadInput("text: required / 投诉内容：必填")
    clock, base = _clock(hub, case_id)
    at = (now or dt.datetime.now(dt.UTC).astimezone()).isoformat(timespec="seconds")
    private = {"text": text.strip()}
    if complainant.strip():
        private["complainant"] = complainant.strip()
    if contact.strip():
        private["contact"] = contact.strip()
    try:
        event = build.make_event("complaint", case_id=case_id, clock=clock, at=at,
                                 institution=hub.identity["city"], base_hlc=base,
                                 channel=INTAKE[form if form in INTAKE else "online"][1],
                                 category=category, private=private)
    except SchemaError as exc:
        raise _refusal(exc, FIELD_ZH) from exc
    sealed = _store_for_case(hub, case_id, event)
    hub.stores.private.put({"_id": f"complaint_intake:{event['hlc']}", "type": "complaint_intake",
                            "case_id": case_id, "intake": form, "received_by": received_by,
                            "received_at": at, **({"receipt": receipt} if receipt else {})})
    return sealed


def handle_complaint(hub: Hub, case_id: str, complaint: str, *, result: str, text: str,
                     now: dt.datetime | None = None) -> dict[str, Any]:
    """Record the handling of a complaint decided at the hub (``complaint_handled``)."""
    if result not in COMPLAINT_RESULTS:
        raise BadInput(f"result: one of {', '.join(COMPLAINT_RESULTS)} / 处理结果无效")
    if not text.strip():
        raise BadInput("text: required / 处理情况：必填")
    # 11.1: one handling per complaint. A second one (the form sent twice, two supervisors)
    # is an illegal step (schemas.rules "complaint_not_open"): every replica would flag
    # the station's case for review, so it is refused here, before it is signed.
    from schemas.fold import fold

    res = hub.stores.main.all_docs(startkey=f"event:{case_id}:",
                                   endkey=f"event:{case_id}:\ufff0", include_docs=True,
                                   offset=False)
    if complaint not in fold(r["doc"] for r in res["rows"] if r.get("doc")).complaints_open:
        raise BadInput(f"complaint: {complaint} is not an open complaint of this case "
                       f"/ 该投诉已处理或不存在")
    clock, base = _clock(hub, case_id)
    at = (now or dt.datetime.now(dt.UTC).astimezone()).isoformat(timespec="seconds")
    try:
        event = build.make_event("complaint_handled", case_id=case_id, clock=clock, at=at,
                                 institution=hub.identity["city"], base_hlc=base,
                                 complaint=complaint, result=result,
                                 private={"text": text.strip()})
    except SchemaError as exc:
        raise _refusal(exc, HANDLED_ZH) from exc
    return _store_for_case(hub, case_id, event)


def intake_forms(hub: Hub) -> dict[str, str]:
    """complaint hlc -> intake form, for the tracking list."""
    res = hub.stores.private.all_docs(startkey="complaint_intake:",
                                      endkey="complaint_intake:\ufff0", include_docs=True, offset=False)
    return {r["id"].split(":", 1)[1]: r["doc"].get("intake", "")
            for r in res["rows"] if r.get("doc")}
