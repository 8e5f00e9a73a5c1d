"""Document ids and human case numbers, made without coordination (design.md §2).

Formats (all ASCII, all sortable where it matters):

======================  ==============================================  ===========================
what                    form                                            example
======================  ==============================================  ===========================
institution code        administrative division code: city/county 6    ``410621`` (浚县),
                        digits, town 9, village 12 (tier by length)     ``410621100201``
device id               ``{institution code}-{short}``; short is 2-4    ``410621100201-A3``
                        upper-case letters/digits given at enrollment
case id                 the HLC string of the case's creation           ``019ac1f2e3a0-0000-410621100201-A3``
event id                the HLC string of the event                     (same shape)
``_id`` of documents    ``institution:{code}``, ``device:{device id}``,
                        ``service_item:{code}``, ``calendar:{year}``,
                        ``case:{case id}``, ``event:{case id}:{event id}``
case number (编号)      ``{institution}-{year}-{short}-{serial:05d}``   ``410621100201-2026-A3-00017``
======================  ==============================================  ===========================

Why: an HLC string is unique per device (the clock is strictly monotonic per
node) and sorts in clock order, so events of one case list in order under the
key range ``event:{case id}:``. A case number is unique per institution and year
because the device's ``short`` is unique within its institution (the hub assigns
it at enrollment) and each device keeps its own yearly serial; no round trip.

Public API: :func:`device_id`, :func:`split_device_id`, :func:`institution_tier`,
:func:`new_case_id`, :func:`new_event_id`, :func:`doc_id`, :func:`event_doc_id`,
:func:`parse_doc_id`, :func:`case_no`, :func:`parse_case_no`, the ``*_RE`` patterns;
a resident ID card number's GB 11643 check: :func:`gb11643_check_digit`,
:func:`is_valid_id_number`; a firm's unified social credit code's GB 32100-2015 check:
:func:`gb32100_check_char`, :func:`is_valid_uscc`; the organisation code inside it (GB
11714-1997): :func:`gb11714_check_char`, :func:`uscc_org_code_ok`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from schemas.errors import ValidationFailed
from schemas.hlc import HLC, pack, unpack

INSTITUTION_CODE_RE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
SHORT_RE = re.compile(r"^[A-Z][A-Z0-9]{1,3}$")
DEVICE_ID_RE = re.compile(r"^(\d{6}(?:\d{3}(?:\d{3})?)?)-([A-Z][A-Z0-9]{1,3})$")
CASE_NO_RE = re.compile(r"^(\d{6}(?:\d{3}(?:\d{3})?)?)-(\d{4})-([A-Z][A-Z0-9]{1,3})-(\d{5})$")
SERVICE_ITEM_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,39}$")

#: doc type -> _id prefix
ID_PREFIX = {
    "institution": "institution:",
    "device": "device:",
    "service_item": "service_item:",
    "calendar": "calendar:",
    "case": "case:",
    "event": "event:",
    "keyring": "keyring:",
    "chunk": "chunk:",
}


def institution_tier(code: str) -> str:
    """Tier from the code's shape (4.3): 6 digits county or city (``xx xx 00`` is a city),
    9 digits town, 12 digits village."""
    if not INSTITUTION_CODE_RE.match(code):
        raise ValidationFailed.one("institution", "institution_code",
                                   f"not an institution code: {code!r}",
                                   f"机构代码格式错误：{code!r}")
    if len(code) == 12:
        return "village"
    if len(code) == 9:
        return "town"
    return "city" if code.endswith("00") else "county"


def device_id(institution_code: str, short: str) -> str:
    institution_tier(institution_code)
    if not SHORT_RE.match(short):
        raise ValidationFailed.one("device", "device_short",
                                   f"device short name must match {SHORT_RE.pattern}: {short!r}",
                                   f"设备简码格式错误：{short!r}")
    return f"{institution_code}-{short}"


def split_device_id(dev: str) -> tuple[str, str]:
    """``(institution code, short)``."""
    m = DEVICE_ID_RE.match(dev)
    if not m:
        raise ValidationFailed.one("device", "device_id", f"not a device id: {dev!r}",
                                   f"设备标识格式错误：{dev!r}")
    return m.group(1), m.group(2)


def new_case_id(clock: HLC) -> str:
    """A new case id: the creating event's clock (ticked by the device)."""
    return pack(clock)


def new_event_id(clock: HLC) -> str:
    return pack(clock)


def doc_id(doc_type: str, key: str | int) -> str:
    """``_id`` of a reference or case document: ``doc_id("case", case_id)``."""
    return f"{ID_PREFIX[doc_type]}{key}"


def event_doc_id(case_id: str, event_id: str) -> str:
    return f"event:{case_id}:{event_id}"


class ParsedId(NamedTuple):
    doc_type: str
    key: str
    event_id: str | None = None


def parse_doc_id(_id: str) -> ParsedId:
    """Inverse of :func:`doc_id` / :func:`event_doc_id`."""
    for doc_type, prefix in ID_PREFIX.items():
        if _id.startswith(prefix):
            rest = _id[len(prefix):]
            if doc_type == "event":
                # case id and event id are both HLC strings: "<12>-<4>-<node>" each.
                m = re.match(r"^([0-9a-f]{12}-[0-9a-f]{4}-[^:]+):(.+)$", rest)
                if m:
                    unpack(m.group(1))
                    unpack(m.group(2))
                    return ParsedId("event", m.group(1), m.group(2))
                break
            if rest:
                return ParsedId(doc_type, rest)
    raise ValidationFailed.one("_id", "doc_id", f"not a Bangban document id: {_id!r}",
                               f"文档标识格式错误：{_id!r}")


def case_no(institution_code: str, year: int, short: str, serial: int) -> str:
    """The human case number printed on forms A–E (编号)."""
    device_id(institution_code, short)
    if not (1 <= serial <= 99999 and 2000 <= year <= 9999):
        raise ValidationFailed.one("case_no", "case_no_range",
                                   "serial must be 1..99999 and year 2000..9999",
                                   "流水号须在 1–99999 之间，年份须在 2000–9999 之间")
    return f"{institution_code}-{year:04d}-{short}-{serial:05d}"


class CaseNo(NamedTuple):
    institution: str
    year: int
    short: str
    serial: int


def parse_case_no(s: str) -> CaseNo:
    m = CASE_NO_RE.match(s)
    if not m:
        raise ValidationFailed.one("case_no", "case_no", f"not a case number: {s!r}",
                                   f"办件编号格式错误：{s!r}")
    return CaseNo(m.group(1), int(m.group(2)), m.group(3), int(m.group(4)))


# -- resident ID card numbers (GB 11643-1999) ----------------------------------------------

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"


def gb11643_check_digit(first17: str) -> str:
    """GB 11643-1999 check digit (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK[total % 11]


def is_valid_id_number(s: str) -> bool:
    return (len(s) == 18 and s[:17].isdigit() and s[17] in "0123456789X"
            and gb11643_check_digit(s[:17]) == s[17])


# -- unified social credit codes (统一社会信用代码, GB 32100-2015) ------------------------

#: the code's 31 characters (digits and capitals less I, O, Z, S, V), each worth its index
GB32100_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: 3^i mod 31 for positions 1–17
GB32100_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
USCC_RE = re.compile(f"[{GB32100_CHARS}]{{18}}")


def gb32100_check_char(first17: str) -> str:
    """GB 32100-2015 check character (ISO 7064 MOD 31-3 style): 31 - Σ value·weight mod 31,
    31 read as 0, given as the character of that value."""
    total = sum(GB32100_CHARS.index(c) * w for c, w in zip(first17, GB32100_WEIGHTS, strict=True))
    return GB32100_CHARS[(31 - total % 31) % 31]


#: GB 11714-1997 (组织机构代码) weights of the code's 8 body characters
GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def gb11714_check_char(body8: str) -> str:
    """GB 11714-1997 check character of an organisation code's 8 body characters (digits
    worth 0–9, capitals A–Z worth 10–35): 11 - Σ value·weight mod 11, 10 written X and
    11 written 0."""
    total = sum(int(c, 36) * w for c, w in zip(body8, GB11714_WEIGHTS, strict=True))
    return "0123456789X0"[11 - total % 11]


def uscc_org_code_ok(s: str) -> bool:
    """GB 32100-2015: a code's characters 9–17 are the body's 组织机构代码, whose 17th
    is GB 11714's check over characters 9–16: a second check beside the code's own 18th,
    which a code made up with only its 18th computed passes."""
    return len(s) == 18 and gb11714_check_char(s[8:16]) == s[16]


def is_valid_uscc(s: str) -> bool:
    """18 characters of the code set whose last is the check character of the others
    (GB 32100) and whose 9th–17th are an organisation code that checks (GB 11714)."""
    return (bool(USCC_RE.fullmatch(s)) and gb32100_check_char(s[:17]) == s[17]
            and uscc_org_code_ok(s))
