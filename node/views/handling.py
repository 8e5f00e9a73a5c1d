"""Recording a step of a case (events): acceptance, refusal, entrustment, handling,
suspension/resumption, hand-up/down, completion/termination with a drawn signature,
archiving, rating, complaint, scanned materials. One generic form per event type,
its fields read from the schemas (node.steps). Refused input keeps what was typed and
says in Chinese what to fix.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from node import window
from node.drafts import decode_data_url, refusal
from node.errors import DiskFull, InvalidInput, NodeError, disk_full_said
from node.once import content_digest
from node.state import workdays
from node.steps import FORM_OF_STEP, STEP_TITLES, form_fields, parse_form
from node.views.common import already_saved, catalog, item_by_code, load_case, node, once, today
from schemas.reference import DEFAULT_RESUMPTION_PERIOD_DAYS

bp = Blueprint("handling", __name__, url_prefix="/cases/<case_id>/steps")

ALLOWED_SCANS = {"image/jpeg", "image/png", "application/pdf", "image/tiff", "image/webp"}
#: material-code lists chosen from the item's checklist instead of typed
MATERIAL_PICKS = {"material_received", "reminder", "correction_requested"}


def defaults(event_type: str, case: dict[str, Any]) -> dict[str, Any]:
    """Sensible pre-filled values (still editable) so a clerk types as little as possible."""
    header, item = case["header"], case.get("item") or {}
    chosen = {"service_item": item.get("code") or header.get("service_item"),
              "mode": (case.get("state") or {}).get("mode") or header.get("mode")}
    t = today()
    out: dict[str, Any] = {}
    if event_type == "acceptance":
        # the list's promise, else its statutory limit: a 即办 item's 0 is a promise (`or`
        # offered the 5 days of an unknown item, which the station then refused, 10.1.3)
        limits = [item.get(k) for k in ("promised_days", "time_limit_days")]
        out = {"zone": "assisted_zone",
               "time_limit_days": next((d for d in limits if d is not None), 5)}
    elif event_type in ("entrustment", "conversion"):
        out = {"channel": "offline", **chosen, "ledger_no": f"DB-{header.get('case_no', '')}",
               "period_end": (t + dt.timedelta(days=60)).isoformat(),
               "scope": "代为提交申请材料、领取审批结果"}
    elif event_type == "application":
        out = {"channel": "offline", **chosen}
    elif event_type == "suspension":
        # working days (schemas.reference), as the hub checks them (schemas.eligibility)
        period = int(item.get("resumption_period_days") or DEFAULT_RESUMPTION_PERIOD_DAYS)
        out = {"resumption_deadline": workdays(node()).add_working_days(t, period).isoformat()}
    elif event_type == "resumption":
        out = {"cause_removed_on": t.isoformat()}
    elif event_type in ("submitted", "decision", "correction_requested"):
        out = {"department": item.get("department", ""), "channel": "window"}
    elif event_type in ("problem_opened",):
        out = {"problem_id": "P" + secrets.token_hex(3).upper()}
    elif event_type == "archived":
        out = {"archive_no": f"GD-{header.get('case_no', '')}"}
    elif event_type in ("hand_up", "hand_down"):
        out = handover_defaults(event_type)
    elif event_type == "rating":
        out = {"channel": "window"}
    elif event_type in ("complaint", "reply"):
        out = {"channel": "window"}
    elif event_type == "work_log":
        out = {"kind": "tracking"}
    if event_type in SIGNED_STEPS:
        out.update(signer_defaults(case))
    for name, items in open_items(event_type, case).items():  # the oldest open item
        if items:
            out.setdefault(name, items[0][0])
    return out


#: the steps whose form the applicant signs (Appendices B–E), recording who signed
SIGNED_STEPS = ("entrustment", "conversion", "suspension", "resumption", "completion",
                "termination")


def signer_defaults(case: dict[str, Any]) -> dict[str, Any]:
    """Who signs, as the case's particulars suggest (schemas.event_signed): the agent named
    on the case (an old person's son, the firm's employee), else a person in person. A
    firm with no agent named is left to choose (法定代表人 or 委托代理人, either named)."""
    agent = str((case.get("private") or {}).get("agent_name") or "")
    if agent:
        return {"signer": "agent", "signer_name": agent}
    if case["header"].get("applicant_kind") == "enterprise":
        return {}
    return {"signer": "self"}


def open_items(event_type: str, case: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """``{input: [(id, words), …]}``: the case's open items an input names (node.state
    ``open_ids``), picked, never typed, each as the clerk knows it (when, which step, its
    first words); 10.2.4 problems by their number."""
    from node.state import OPEN_ITEMS, open_ids

    state = case.get("state") or {}
    words = item_words(case)
    out = {name: [(h, words.get(h, h)) for h in open_ids(state, event_type, name) or []]
           for name in OPEN_ITEMS}
    problems = open_ids(state, event_type, "problem_id")
    if problems is not None:
        out["problem_id"] = [(p, p) for p in problems]
    done = open_ids(state, event_type, "completion")
    if done is not None:  # 撤销办结: the completion that may still be withdrawn
        out["completion"] = [(h, words.get(h, h)) for h in done]
    reviews = open_ids(state, event_type, "events")
    if reviews is not None:  # each step kept for review, as the clerk knows it
        out["events"] = [(h, words.get(h, h)) for h in reviews]
    return out


def item_words(case: dict[str, Any]) -> dict[str, str]:
    """``{hlc: words}``: each event of the case as the clerk knows it (when, which step,
    its first words), for the items a later step names (a reply's consultation, a handled
    complaint) in the picker and in the case's record."""
    from node.labels import local_time
    from node.steps import STEP_TITLES

    out = {}
    for e in case.get("events") or []:
        priv = e.get("private") or {}
        text = str(priv.get("question") or priv.get("text") or priv.get("details") or "")
        head = f"{local_time(e.get('at'))} {STEP_TITLES.get(str(e.get('event_type')), '')}"
        out[str(e.get("hlc"))] = f"{head}：{text[:30]}" if text else head.strip() or str(e.get("hlc"))
    return out


def handover_defaults(event_type: str) -> dict[str, Any]:
    from schemas.ids import institution_tier

    n = node()
    path = n.institution_path()
    me = n.institution
    out: dict[str, Any] = {"from_institution": me, "from_tier": institution_tier(me),
                           "reason_code": "needs_coordination" if event_type == "hand_up"
                           else "door_service"}
    if event_type == "hand_up" and len(path) >= 2:
        out["to_institution"] = path[-2]
        out["to_tier"] = institution_tier(path[-2])
    return out


def _render(case: dict[str, Any], event_type: str, values: Any, errors: dict[str, str],
            error: str | None = None, status: int = 200) -> Any:
    fields = form_fields(event_type)
    if hasattr(values, "getlist"):
        getlist = values.getlist
    else:
        def getlist(key: str) -> list[Any]:
            value = values.get(key) or []
            return value if isinstance(value, list) else [value]
    return render_template("step.html", case=case, getlist=getlist,
                           villages=_handover_targets(event_type),
                           items=catalog(), event_type=event_type, fields=fields,
                           title=STEP_TITLES.get(event_type, event_type), values=values,
                           errors=errors, error=error, form_letter=FORM_OF_STEP.get(event_type),
                           materials=(case.get("item") or {}).get("materials", []),
                           picks=event_type in MATERIAL_PICKS, paper=_paper(case, event_type),
                           open_items=open_items(event_type, case)), status


def _paper(case: dict[str, Any], event_type: str) -> bool:
    """Whether the step form offers a paper date (补录, node.paper): only on a case brought
    in from paper whose steps so far are all paper ones, so a live case never shows it."""
    from node.paper import typing_day
    from schemas.paper import PAPER_STEPS, entered_later, hlc_day

    steps = [e for e in case.get("events") or [] if e.get("event_type") != "access"]
    if not (event_type in PAPER_STEPS and steps and all(entered_later(e) for e in steps)):
        return False
    # typed in the day the case was brought in only (schemas.paper.check_paper_day), that
    # day as the step's clock will say it, not the laptop's calendar (node.paper.typing_day)
    typed = typing_day(node(), case.get("events") or [])
    return min(hlc_day(e) or typed for e in steps) == typed


def _handover_targets(event_type: str) -> list[dict[str, Any]]:
    """The institutions a hand-over can go to, as ``{code, name}``: up to the one above
    (4.3: a case moves one tier at a time, schemas.rules ``handover_adjacent_tier``), down
    to the ones below. A village's hand-up offered the villages below it (none), so the
    clerk saw only the town's bare code in a text box."""
    if event_type != "hand_up":
        from schemas.reference import closed

        # a merged village (`hub institution close`) is handed nothing: no laptop is left
        return [v for v in _villages() if not closed(v)]
    n = node()
    path = n.institution_path()
    if len(path) < 2:
        return []
    return [{"code": path[-2], "name": n.name_of(path[-2])}]


def _villages() -> list[dict[str, Any]]:
    from node.views.town import villages

    try:
        return villages()
    except NodeError:
        return []


@bp.get("/<event_type>")
def form(case_id: str, event_type: str) -> Any:
    _known(event_type)
    case = load_case(case_id)
    return _render(case, event_type, defaults(event_type, case), {})


def _known(event_type: str) -> None:
    from schemas.event_types import EVENT_SCHEMAS

    if event_type not in EVENT_SCHEMAS or event_type in ("access", "consultation"):
        abort(404)


def _json_list(data: Any, name: str) -> list[str]:
    """A list member of a JSON step (``materials``: codes picked from the item)."""
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problem = "应为文本列表 / must be a list of text"
        raise InvalidInput(f"{name}: {problem}", fields={name: problem})
    return value


#: deadlines the clerk sets, each by its clause: a date already past is no deadline
#: (10.2.2 entrustment period, 10.1.4 materials, 10.2.5 resumption)
DEADLINES = {"period_end": "10.2.2", "materials_due": "10.1.4", "resumption_deadline": "10.2.5"}


def _past_deadlines(clear: dict[str, Any], on: dt.date) -> None:
    """A deadline is not before the step's day: today, or a paper step's date (node.paper)."""
    t = on.isoformat()
    word = ("今天", "today") if on == today() else ("该步骤的日期", "the step's date")
    errors = {name: f"不能早于{word[0]}（{t}，{clause}） / must not be before {word[1]} ({t})"
              for name, clause in DEADLINES.items()
              if isinstance(clear.get(name), str) and len(clear[name]) == 10 and clear[name] < t}
    if errors:
        raise refusal(errors)


def record_step(case_id: str, event_type: str, data: Any, files: Any = None,
                getlist: Any = None) -> dict[str, Any]:
    """Parse, then record one step (shared by the UI and the API)."""
    n = node()
    # the member at the window (8.1.2, 11.2.2; node.window), the API's ``staff``: checked
    # first, so a refused step writes nothing
    staff = window.required(n, data.get("staff"))
    clear, private = parse_form(event_type, data)
    if event_type == "completion_withdrawn" and data.get("confirm") not in ("1", "on", True):
        # 撤销办结 takes back what the applicant signed (form B): asked twice, as a 确认 box
        raise refusal({"confirm": "请勾选确认撤销办结 / confirm: tick to confirm the withdrawal"})
    from node.paper import step_at

    at, on = step_at(n, case_id, event_type, data.get("paper_date"))  # 补录: the paper's date
    _past_deadlines(clear, on)
    from schemas.event_signed import check_signer

    if problems := check_signer(clear, private):  # 9.2: whose hand is on the form
        raise refusal(problems)
    getlist = getlist or (lambda k: _json_list(data, k))
    if event_type in MATERIAL_PICKS and "materials" not in clear:
        picked = list(getlist("materials"))
        if picked:
            clear["materials"] = picked
    if event_type == "notification" and "materials" not in clear:
        header = n.casework.header(case_id)
        # the item the application chose (the index row's is the fold's), else the
        # consultation's: the checklist the form offered (common.load_case)
        row = n.index.get(case_id) or {}
        item = item_by_code(row.get("service_item") or header.get("service_item")) or {}
        chosen = set(getlist("materials"))
        clear["materials"] = [{k: m[k] for k in ("code", "name", "how_to_obtain", "original",
                                                 "copies") if k in m}
                              for m in item.get("materials", []) if m.get("code") in chosen]
    if event_type in ("hand_up", "hand_down"):
        base = handover_defaults(event_type)
        for key in ("from_institution", "from_tier"):
            clear[key] = base[key]
        if not clear.get("to_institution"):
            # the receiving tier follows from the institution: the form asks only that one
            # (the clerk was also told 接收层级 was missing, an input the page has not)
            raise refusal({"to_institution": "请选择接收机构 / to_institution: choose the "
                                             "institution that receives the case (4.3)"})
        if clear.get("to_institution"):
            from schemas.ids import institution_tier

            try:
                clear["to_tier"] = institution_tier(str(clear["to_institution"]))
            except Exception as exc:
                raise refusal({"to_institution": "应为机构代码（县 6 位、镇 9 位、村 12 位数字） / "
                               "must be an institution code (6, 9 or 12 digits, 4.3)"}) from exc
    signature = decode_data_url(str(data.get("signature_data") or ""))
    if isinstance(data, dict) and data.get("signature_png_base64"):
        import base64
        import binascii

        problem = "应为 PNG 图片的 base64 文本 / must be a PNG image as base64 text"
        try:
            signature = base64.b64decode(str(data["signature_png_base64"]), validate=True) \
                if isinstance(data["signature_png_base64"], str) else b""
        except (binascii.Error, ValueError):
            signature = b""
        if not signature.startswith(b"\x89PNG"):
            raise InvalidInput(f"signature_png_base64: {problem}",
                               fields={"signature_png_base64": problem})
    scans: list[tuple[str, str, bytes]] = []
    for f in (files.getlist("scans") if files else []):
        if not f or not f.filename:
            continue
        ctype = f.mimetype or "application/octet-stream"
        if ctype not in ALLOWED_SCANS:
            raise refusal({"scans": "只能上传图片或 PDF 扫描件 / only images or PDF scans (8.2.3)"})
        blob = f.read()
        if len(blob) > n.settings.max_upload_bytes:
            mb = n.settings.max_upload_bytes // 1_048_576
            raise refusal({"scans": f"扫描件太大（每份不超过 {mb} MB） / the scan is too large "
                                    f"(at most {mb} MB each)"})
        name = f"scan-{len(scans) + 1}-{secrets.token_hex(3)}" + (".pdf" if ctype.endswith("pdf") else ".img")
        scans.append((name, ctype, blob))
    with disk_full_said():  # the form is shown again with what was typed (submit)
        return n.casework.record(case_id, event_type, clear, private, signature_png=signature,
                                 attachments=scans, staff=staff, at=at)


@bp.post("/<event_type>")
def submit(case_id: str, event_type: str) -> Any:
    _known(event_type)
    # the scans chosen are content too (by name: Back, then another scan, is a new step)
    scans = [f.filename or "" for f in request.files.getlist("scans") if f and f.filename]
    token = request.form.get("once")
    digest = content_digest([*request.form.lists(), ("scans", scans)])
    with once().claim(token, digest) as earlier:  # Back then 保存 again: not a second record
        if earlier:
            return already_saved(earlier)
        return _submit(case_id, event_type, token, digest)


def _submit(case_id: str, event_type: str, token: str | None, digest: str) -> Any:
    try:
        record_step(case_id, event_type, request.form, request.files, request.form.getlist)
    except NodeError as exc:
        if exc.status >= 500 and not isinstance(exc, DiskFull):
            raise
        case = load_case(case_id)
        return _render(case, event_type, request.form, exc.fields or {"_": exc.reason},
                       exc.reason, 400 if exc.status < 409 else exc.status)
    letter = FORM_OF_STEP.get(event_type)
    page = (url_for("cases.detail", case_id=case_id, printed=letter) if letter
            else url_for("cases.detail", case_id=case_id))
    once().done(token, digest, page)
    flash(_("已保存：") + str(STEP_TITLES.get(event_type, event_type)), "ok")
    return redirect(page)


@bp.get("/attachment/<path:doc_id>/<name>")
def attachment(case_id: str, doc_id: str, name: str) -> Response:
    data, ctype = node().reading.open_attachment(case_id, doc_id, name)
    # The type is what the event's writer declared: any station holding the case, whose
    # device signs what it likes. Served as given, "text/html" ran its script as this
    # app (the same origin as /api/, every case in clear). Only the scan and signature
    # types a station can upload are shown in the browser; anything else is a download.
    ctype = ctype.split(";", 1)[0].strip().lower()
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if ctype not in ALLOWED_SCANS:
        ctype = "application/octet-stream"
        headers["Content-Disposition"] = "attachment"
    return Response(data, mimetype=ctype, headers=headers)
