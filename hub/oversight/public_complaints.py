"""The public's own complaint channel (11.1 "网上投诉"; 5 c handled in time), no login.

An applicant files a complaint about their case at ``/oversight/public/CODE/complaint``
with the case number printed on every form they hold (附录A–E), a category, the text and a
contact number. What the hub can and cannot check (design §5: it holds no key that opens
personal data, and a dump of its database holds none in clear):

- it can check that the case number exists (the oversight facts hold case numbers);
- it cannot check that the complainant is the applicant: the applicant's phone is sealed in
  the case. So the complainant's claim (the last 4 digits of the applicant's phone) goes
  *inside* the sealed complaint, and the station, which opens both, compares them. Every
  public complaint is marked 身份未核实 (identity not verified) on the hub's tracking list.

A number that names a case becomes an ordinary ``complaint`` event of that case
(:func:`hub.oversight.complaints.take_complaint`): sealed for every institution of the
case's keyring and escrow, the hub unable to open it; due by ``complaint_working_days``,
tracked on ``/oversight/complaints``, counted in 5 c), synced to the station. A number that
names no case cannot be delivered to anyone who could read it, so its text is not kept;
a ``public_complaint:RECEIPT`` record (no personal data) lets a supervisor tell a caller
quoting the receipt that it did not reach a case. Either way the page answers the same
(the same words, a receipt of the same form): the page tells nobody whether a number exists.

Abuse: each client address files at most ``public_complaints_per_hour`` (its own SQLite
file, shared by every gateway process, as failed logins are: hub.oversight.throttle), so
probing case numbers costs an hour per handful; all addresses together file at most
``public_complaints_all_per_hour`` (many addresses at once: beyond it the page says to
phone); behind a reverse proxy the address is the one it states (``proxy_hops``); fields are bounded below the schema's
limits; the form carries a CSRF token; nothing typed is ever shown back on a hub page
(the text is sealed; the category is one of the vocabulary's keys).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput, HubError
from hub.oversight import complaints as cmp
from hub.oversight.throttle import LoginThrottle
from schemas.vocab import COMPLAINT_CATEGORIES

if TYPE_CHECKING:
    from hub.core import Hub

FILE = "public-complaints.sqlite"
#: The throttle's "login": every public complaint of an address counts together.
_KEY = "public_complaint"
#: The key and the address under which every filing is counted once more, all together.
_ALL_KEY, _EVERYONE = "public_complaint_all", "*"
#: Bounds of what a passer-by may send (the schema allows 8000 characters of text and 100
#: of contact; a stranger gets less: a page of text, a phone number).
MAX_TEXT, MAX_CONTACT, MAX_CASE = 2000, 40, 64
_CONTACT = re.compile(r"[0-9+\-() ]{5,40}")
_LAST4 = re.compile(r"\d{4}")
#: Every filing is answered after at least this long (:func:`file_complaint`), far above
#: the ~30 ms a case's sealed event takes on an idle hub; a hub so loaded that sealing
#: takes longer answers later for real numbers again (docs/operations.md).
ANSWER_SECONDS = 1.0
_clock, _sleep = time.monotonic, time.sleep  # the tests' seam
#: Days the list of receipts that named no case goes back (/oversight/complaints).
UNMATCHED_DAYS = 90
#: Filings served at once by one gateway process (:func:`file_complaint`).
SLOTS = threading.BoundedSemaphore(2)
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


class TooMany(HubError):
    """The address has filed its hour's complaints (429)."""

    status, error = 429, "too_many_requests"


class NotNow(HubError):
    """The complaint cannot be filed now (503): the words name no case."""

    status, error = 503, "service_unavailable"


NOT_NOW = ("the complaint could not be filed now: try again later or phone the institution "
           "/ 暂时无法提交投诉，请稍后再试，或拨打本页所列电话投诉")


BUSY = ("many complaints are being filed right now: send the form again in a minute / "
        "当前提交人数较多，请一分钟后再次提交")

FULL_HOUR = ("the complaint page has taken all it can this hour: phone the institution (the "
             "number is on this page) or try again later / 本时段网上投诉已达上限，请拨打本页所列"
             "电话投诉，或稍后再试")


def throttle(ov: Any) -> LoginThrottle:
    """The per-address count of public complaints (``HUB_DIR/public-complaints.sqlite``),
    one per app (``ov``: its :class:`hub.oversight.Oversight`), as the login failures': a
    new one per request opened the file and its schema again each time."""
    return _counter(ov, "public_complaints_per_hour")


def everyone(ov: Any) -> LoginThrottle:
    """The count of every public complaint of the hour, all addresses together
    (``public_complaints_all_per_hour``), in the same file: rows of its own key under one
    address, :data:`_EVERYONE`."""
    return _counter(ov, "public_complaints_all_per_hour")


def _counter(ov: Any, setting: str) -> LoginThrottle:
    """The hourly count bounded by ``setting``, made once per app."""
    made: LoginThrottle | None = getattr(ov, "_" + setting, None)
    if made is None:
        settings = ov.hub.settings
        limit = int(settings[setting])
        made = LoginThrottle(Path(settings.hub_dir) / FILE, max_failures=limit,
                             max_address_failures=limit, window=3600.0)
        setattr(ov, "_" + setting, made)
    return made


def new_receipt(today: dt.date) -> str:
    """``TS-YYYYMMDD-XXXXXXXX``: 40 random bits, read out on the phone without ambiguity."""
    tail = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(8))
    return f"TS-{today:%Y%m%d}-{tail}"


def check_form(form: Any) -> dict[str, str]:
    """The form's fields, stripped; :class:`BadInput` naming the first field that breaks
    its rule."""
    got = {k: str(form.get(k, "") or "").strip()
           for k in ("case", "last4", "category", "text", "contact")}
    if not got["case"]:
        raise BadInput("case: required / 办件编号：必填（见受理单、回执等表单）")
    if len(got["case"]) > MAX_CASE:
        raise BadInput(f"case: at most {MAX_CASE} characters / 办件编号：不超过 {MAX_CASE} 个字符")
    if got["last4"] and not _LAST4.fullmatch(got["last4"]):
        raise BadInput("last4: 4 digits or empty / 服务对象手机号后 4 位：须为 4 位数字，可不填")
    if got["category"] not in COMPLAINT_CATEGORIES:
        raise BadInput(f"category: one of {', '.join(COMPLAINT_CATEGORIES)} / "
                       "投诉类别：须从列表中选择")
    if not got["text"]:
        raise BadInput("text: required / 投诉内容：必填")
    if len(got["text"]) > MAX_TEXT:
        raise BadInput(f"text: at most {MAX_TEXT} characters / 投诉内容：不超过{MAX_TEXT}字")
    if not _CONTACT.fullmatch(got["contact"]):
        raise BadInput("contact: a phone number, 5 to 40 digits, + - ( ) or spaces / "
                       "联系电话：必填，5 至 40 位数字")
    return got


def _case_of(facts_db: Any, number: str) -> str | None:
    # by case number only: a case id is internal and never printed on a form
    row = facts_db.execute("SELECT case_id FROM facts WHERE case_no = ?", (number,)).fetchone()
    return str(row[0]) if row else None


def file_complaint(ov: Any, limiter: LoginThrottle, *, institution: str, form: Any,
                   address: str, now: dt.datetime | None = None) -> str:
    """File a public complaint about a case (``ov``: the app's
    :class:`hub.oversight.Oversight`); its receipt number.

    The same answer whether the number names a case or not (module doc). Raises
    :class:`BadInput` (a field), :class:`TooMany` (the address's hour is used up),
    :class:`NotNow` (the hour's filings of all addresses, or this process's slots, used up)."""
    got = check_form(form)
    wait = limiter.wait_seconds(_KEY, address)
    if wait:
        minutes = (wait + 59) // 60
        raise TooMany(f"too many complaints from this address: try again in {minutes} min "
                      f"/ 提交过于频繁，请 {minutes} 分钟后再试，或拨打服务电话投诉")
    # a filing holds one of the gateway's request threads (hub_threads, 16) for
    # ANSWER_SECONDS: many addresses at once would hold them all and the stations' syncs
    # would wait; a few at a time per gateway, the others told to try again at once
    total = everyone(ov)
    if total.wait_seconds(_ALL_KEY, _EVERYONE):
        raise NotNow(FULL_HOUR)  # the same words for every number: they name no case
    if not SLOTS.acquire(blocking=False):
        raise NotNow(BUSY)
    try:
        limiter.failed(_KEY, address)  # counted before the look-up: a probe pays as a filing
        total.failed(_ALL_KEY, _EVERYONE)
        return _padded(ov, got, institution, now)
    finally:
        SLOTS.release()


def _padded(ov: Any, got: dict[str, str], institution: str, now: dt.datetime | None) -> str:
    started = _clock()
    try:
        # the fold inside the padded time too: the next filing's fold of a real number's
        # event took ~18 ms more than after an invented one's (measured)
        ov.catch_up()  # a case registered a moment ago is known by its number
        return _file(ov.hub, ov.facts.reader(), got, institution, now)
    finally:
        # as long for a number that names no case as for one that does: sealing, signing
        # and storing the event took ~30 ms against ~3 ms for the record alone, and that
        # told whether a number exists in one request (measured on the test client)
        _sleep(max(0.0, ANSWER_SECONDS - (_clock() - started)))


def _file(hub: Hub, facts_db: Any, got: dict[str, str], institution: str,
          now: dt.datetime | None) -> str:
    at = now or dt.datetime.now(dt.UTC).astimezone()
    receipt = new_receipt(at.date())
    record: dict[str, Any] = {"_id": f"public_complaint:{receipt}", "type": "public_complaint",
                              "receipt": receipt, "institution": institution,
                              "category": got["category"],
                              "received_at": at.isoformat(timespec="seconds")}
    case_id = _case_of(facts_db, got["case"])
    if case_id is not None:
        claim = f"，自报服务对象手机号后 4 位：{got['last4']}" if got["last4"] else ""
        # the receipt and the claim inside the sealed text: the station quotes the one and
        # checks the other against the case's applicant (the hub cannot: design §5)
        text = (f"【网上自助投诉 回执 {receipt}；投诉人身份未核实{claim}，请与本件服务对象核对】"
                f"\n{got['text']}")
        try:
            event = cmp.take_complaint(hub, case_id, intake=cmp.PUBLIC,
                                       category=got["category"], text=text,
                                       complainant="网上投诉人（身份未核实）",
                                       contact=got["contact"], received_by="public",
                                       receipt=receipt, now=at)
        except BadInput as exc:
            # the case cannot be sealed for now (no keyring synced yet, a key being
            # replaced): said in words that do not name the case ("case: the hub has no
            # keyring of this case" told a prober the number exists); not kept, not lost
            # in silence either: the complainant is asked to try again or phone
            raise NotNow(NOT_NOW) from exc
        record |= {"case_id": case_id, "complaint": event["hlc"]}
    hub.stores.private.put(record)
    return receipt


def receipts(hub: Hub) -> dict[str, str]:
    """complaint hlc -> receipt number, for the tracking list (an open complaint stays
    listed whatever its month: every receipt, as :func:`complaints.intake_forms` reads)."""
    return {d["complaint"]: d["receipt"] for d in _records(hub) if d.get("complaint")}


def unmatched(hub: Hub, sees: Any, limit: int = 50,
              today: dt.date | None = None) -> list[dict[str, Any]]:
    """The latest public complaints of the last :data:`UNMATCHED_DAYS` whose number named no
    case, filed on the page of an institution ``sees(code)`` accepts: what a supervisor
    answers a caller quoting one. Read by the receipt's date in its id: not every
    invented number of every year on each view of the page."""
    since = (today or dt.date.today()) - dt.timedelta(days=UNMATCHED_DAYS)
    rows = [d for d in _records(hub, f"TS-{since:%Y%m%d}")
            if not d.get("complaint") and sees(d.get("institution"))]
    return sorted(rows, key=lambda d: d.get("received_at", ""), reverse=True)[:limit]


def _records(hub: Hub, first: str = "") -> list[dict[str, Any]]:
    res = hub.stores.private.all_docs(startkey=f"public_complaint:{first}",
                                      endkey="public_complaint:\ufff0", include_docs=True,
                                      offset=False)
    return [r["doc"] for r in res["rows"] if r.get("doc")]
