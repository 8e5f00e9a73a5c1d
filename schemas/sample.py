"""Deterministic sample data for the demo, the tests and the benchmarks (seeded ``random.Random``).

Reference data: :func:`institutions`, :func:`devices`, :func:`catalog`, :func:`calendars`.
People: :func:`person`, :func:`id_number` (GB 11643 check digit), :func:`mobile`.
Case histories: :func:`schemas.sample_cases.case_history` / ``case_histories`` (a separate
module because they use the case rules). All documents are in their open form (``private`` present, not sealed).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import chinese_calendar

from schemas.ids import (
    GB32100_CHARS,
    device_id,
    doc_id,
    gb11643_check_digit,
    gb11714_check_char,
    gb32100_check_char,
)
from schemas.registry import validate_open
from schemas.sample_data import (
    CATALOG,
    CITY,
    COUNTIES,
    ENTERPRISE_KINDS,
    ENTERPRISE_WORDS,
    GIVEN,
    MOBILE_PREFIXES,
    SURNAMES,
)
from schemas.sample_terms import TERMS
from schemas.vocab import SCHEMA_VERSION
from schemas.workdays import PROVISIONAL

ENROLLED_AT = "2026-01-05T09:00:00+08:00"


#: Given names of the sample staff: none starts with a character of the applicants' GIVEN, so
#: no staff name contains a sample applicant's name (the leak scans look for those).
_STAFF_GIVEN = ("思远", "嘉宁", "俊辰", "睿", "思琪", "嘉豪")


def _roster(code: str, tier: str) -> list[dict[str, Any]]:
    """Sample staff (7.1, 8.1.2): ids as the sample cases record them (``staff-XXX-N``, the
    code's last three digits), three at a station, two at a town or county, one at the city."""
    count = {"village": 3, "town": 2, "county": 2}.get(tier, 1)
    seed = int(code)
    return [{"id": f"staff-{code[-3:]}-{n}",
             "name": SURNAMES[(seed + 7 * n) % len(SURNAMES)]
             + _STAFF_GIVEN[(seed + n) % len(_STAFF_GIVEN)],
             "role": ("proxy", "assistant", "both")[n % 3], "on_duty": True}
            for n in range(1, count + 1)]


def _inst(code: str, name: str, tier: str, parent: str | None, region: str) -> dict[str, Any]:
    doc = {"_id": doc_id("institution", code), "type": "institution",
           "schema_version": SCHEMA_VERSION, "code": code, "name": name, "tier": tier,
           "region": region, "public_keys": [], "active": True, "staff": _roster(code, tier)}
    if parent:
        doc["parent"] = parent
    return validate_open(doc)


def institutions() -> list[dict[str, Any]]:
    """The city center, 5 county/district centers, their town centers and village stations."""
    out = [_inst(CITY[0], f"{CITY[1]}政务服务中心", "city", None, CITY[1])]
    for ccode, (cname, towns) in COUNTIES.items():
        out.append(_inst(ccode, f"{cname}政务服务中心", "county", CITY[0], cname))
        for t, (tname, villages) in enumerate(towns, start=1):
            tcode = f"{ccode}{100 + t:03d}"
            out.append(_inst(tcode, f"{tname}便民服务中心", "town", ccode, f"{cname}{tname}"))
            for v, vname in enumerate(villages, start=1):
                vcode = f"{tcode}{200 + v:03d}"
                station = vname.replace("社区", "社区便民服务站").replace("村", "村便民服务站")
                if not station.endswith("服务站"):
                    station += "便民服务站"
                out.append(_inst(vcode, station, "village", tcode, f"{cname}{tname}{vname}"))
    return out


def devices(insts: list[dict[str, Any]], per_institution: int = 1) -> list[dict[str, Any]]:
    """One (or more) enrolled laptop per institution, shorts A1, A2, …; no keys (sync.crypto)."""
    out = []
    for inst in insts:
        for n in range(1, per_institution + 1):
            short = f"A{n}"
            dev = device_id(inst["code"], short)
            out.append(validate_open({
                "_id": doc_id("device", dev), "type": "device", "schema_version": SCHEMA_VERSION,
                "device_id": dev, "institution": inst["code"], "short": short,
                "label": f"{inst['name']} 笔记本 {n}", "public_keys": [],
                "enrolled_at": ENROLLED_AT}))
    return out


def _terms(code: str) -> dict[str, str]:
    """办理条件 and 办理流程 of the item (一次性告知, 3), when the sample lists them."""
    conditions, procedure = TERMS.get(code, ("", ""))
    return {k: v for k, v in (("conditions", conditions), ("procedure", procedure)) if v}


def catalog() -> list[dict[str, Any]]:
    """~30 service items (6.2.4 清单), both focus areas (9.1, 9.2)."""
    out = []
    for code, name, dept, focus, assist, proxy, tiers, limit, fees, materials in CATALOG:
        mats = [{"code": f"M{i:02d}", "name": m, "how_to_obtain": how, "original": "原件" in how,
                 "copies": 1} for i, (m, how) in enumerate(materials, start=1)]
        out.append(validate_open({
            "_id": doc_id("service_item", code), "type": "service_item",
            "schema_version": SCHEMA_VERSION, "code": code, "name": name, "department": dept,
            "tiers": list(tiers), "assist": assist, "proxy": proxy, "focus_area": focus,
            "modes": ["door", "online", "nearby"], "materials": mats, "time_limit_days": limit,
            "promised_days": max(1, limit * 2 // 3) if limit else 0,
            "materials_period_days": 5, "resumption_period_days": 20, "fees": fees,
            "active": True, **_terms(code)}))
    return out


def calendar_doc(year: int) -> dict[str, Any]:
    """A ``calendar`` document for ``year``: from chinesecalendar when it knows the year,
    else a provisional one with the fixed-date holidays only (元旦, 劳动节, 国庆节)."""
    holidays: list[str] = []
    workdays: list[str] = []
    source = "chinesecalendar"
    day = dt.date(year, 1, 1)
    try:
        while day.year == year:
            on, _name = chinese_calendar.get_holiday_detail(day)
            if day.weekday() < 5 and on:
                holidays.append(day.isoformat())
            elif day.weekday() >= 5 and not on:
                workdays.append(day.isoformat())
            day += dt.timedelta(days=1)
    except NotImplementedError:
        # an estimate (schemas.workdays.PROVISIONAL): its deadlines say so until the hub
        # sets the State Council's notice
        source = f"{PROVISIONAL} (fixed-date holidays only; edit at the hub)"
        fixed = [dt.date(year, 1, 1)] + [dt.date(year, 5, d) for d in range(1, 6)] + \
            [dt.date(year, 10, d) for d in range(1, 8)]
        holidays = [d.isoformat() for d in fixed if d.weekday() < 5]
        workdays = []
    return validate_open({"_id": doc_id("calendar", year), "type": "calendar",
                          "schema_version": SCHEMA_VERSION, "year": year,
                          "holidays": holidays, "workdays": workdays, "source": source})


def calendars(years: range = range(2026, 2028)) -> list[dict[str, Any]]:
    return [calendar_doc(y) for y in years]


# -- people ------------------------------------------------------------------------------------

def id_number(rng: random.Random, *, area: str = "410621", birth: dt.date | None = None,
              female: bool | None = None) -> str:
    """An 18-digit resident ID number with a valid check digit (fake person)."""
    if birth is None:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
    seq = rng.randrange(0, 500) * 2 + (rng.randrange(2) if female is None else (0 if female else 1))
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + gb11643_check_digit(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def name(rng: random.Random) -> str:
    given = rng.choice(GIVEN)
    if rng.random() < 0.6:
        given += rng.choice(GIVEN)
    return rng.choice(SURNAMES) + given


def person(rng: random.Random, *, area: str = "410621", address_prefix: str = "",
           elderly: bool = False) -> dict[str, Any]:
    """A fake applicant: name, resident ID, mobile, address (the case header's private part)."""
    year = rng.randrange(1936, 1961) if elderly else rng.randrange(1961, 2004)
    birth = dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29))
    return {"applicant_name": name(rng), "id_type": "resident_id",
            "id_number": id_number(rng, area=area, birth=birth), "phone": mobile(rng),
            "address": f"{address_prefix}{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号"}


def enterprise(rng: random.Random, *, region: str = "鹤壁市") -> dict[str, Any]:
    """A fake enterprise applicant with a unified social credit code the window takes (its
    GB 32100 check character right: node.particulars refuses a wrong one)."""
    agent = person(rng)
    # ten draws as before (the rest of a seeded sample stays as it was), the last replaced
    uscc = "91" + "410600" + "".join(rng.choice(GB32100_CHARS) for _ in range(10))
    uscc = uscc[:16] + gb11714_check_char(uscc[8:16])  # its organisation code's (GB 11714)
    uscc = uscc[:17] + gb32100_check_char(uscc[:17])
    return {"applicant_name": agent["applicant_name"],
            "enterprise_name": f"{region}{rng.choice(ENTERPRISE_WORDS)}"
                               f"{rng.choice(ENTERPRISE_KINDS)}",
            "id_type": "uscc", "id_number": uscc, "phone": agent["phone"],
            "agent_name": agent["applicant_name"], "address": f"{region}{rng.randrange(1, 300)}号"}
