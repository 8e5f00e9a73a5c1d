"""The 清单 (6.2.4) as rules: what an event may ask of the service item it names.

The fold does not carry the catalog, so these checks are apart from
:func:`schemas.rules.check_transition`: the node runs :func:`check_catalog` with the item
from its local reference data, the hub with its own (``hub.transitions``). An item neither
has yet (catalog not synced) is not judged: the hub, which holds the whole catalog, is.

* 10.1.3.2 / 10.2.3 accept "符合帮办条件 / 符合代办条件" cases, and 6.2.4 manages the proxy-able
  items as a list: an application (帮办, 10.1.2) needs an item marked ``assist``, an
  entrustment (代办, 10.2.2) one marked ``proxy``, and neither one withdrawn from the list
  (``active`` false). Before, a station could sign form C for an item the city's list says
  is not handled by proxy, and the hub took it.
* 10.1.3 / 10.2.5: a promised time limit within the statutory one
  (:func:`schemas.rules.check_time_limit`).
* A change of the list (an item withdrawn, no longer for proxy handling, its limit or
  resumption period shortened) judges only what was stated after the station could hold
  it (:func:`_made_before_written`): a laptop offline for two weeks works by the list it
  holds; judged by today's, its entrustment or form A was refused at the hub, and every
  later step of the case with it (their base unknown): 5 a) never saw the case.
* 10.1.3 / 10.2.3 and 4.3: acceptance (form A) only at a tier the item's ``tiers`` list; a
  station consults and is entrusted for any item, and hands up what it cannot accept.
* 10.2.5.2: form D's resumption deadline within the item's ``resumption_period_days``
  (working days from the suspension, ``schemas.reference``): the clock stops while a case
  is suspended, so a deadline a year away kept a stalled case out of 5 a) and 11.1 b) for
  a year without being terminated.

A conversion (10.1.4.3) is not checked here: it names no item, and the case header's item
(the one known at opening) may not be the one the application chose.

Public API: :data:`CATALOG_CHECKED`, :func:`check_catalog`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from schemas.errors import IllegalTransition, SchemaError
from schemas.hlc import is_hlc, unpack
from schemas.ids import institution_tier
from schemas.reference import DEFAULT_RESUMPTION_PERIOD_DAYS
from schemas.rules import PROMISED_LIMITS, check_time_limit
from schemas.state import LOCAL_TZ, event_date
from schemas.vocab import TIER_ORDER, TIERS
from schemas.workdays import Workdays

Event = Mapping[str, Any]

#: event type -> (the item's flag it needs, clause, words for the service in zh)
ELIGIBLE = {"application": ("assist", "10.1.2", "帮办"),
            "entrustment": ("proxy", "10.2.2", "代办")}
#: the event types whose item the callers look up and pass to :func:`check_catalog`
CATALOG_CHECKED = frozenset(ELIGIBLE) | frozenset(PROMISED_LIMITS) | {"suspension"}


def item_code(event: Event, header: Mapping[str, Any] | None,
              events: Sequence[Event] = ()) -> str | None:
    """The item an event is about: its own (application, entrustment), else the one the
    case's latest application or entrustment among ``events`` chose (the fold's
    ``service_item``), else the header's (the consultation's). The header keeps what was
    asked at the consultation: an application that chose another item had its acceptance
    judged against the consultation's item (its time limit, its tiers), or against none."""
    code = event.get("service_item")
    if not code:
        chosen = [e for e in events if e.get("event_type") in ("application", "entrustment")
                  and e.get("service_item") and str(e.get("hlc") or "") < str(event.get("hlc") or "\uffff")]
        if chosen:
            code = max(chosen, key=lambda e: str(e.get("hlc") or "")).get("service_item")
    code = code or (header or {}).get("service_item")
    return str(code) if code else None


def check_catalog(event: Event, item: Mapping[str, Any] | None,
                  workdays: Workdays | None = None, *, tiers: bool = True,
                  held_from: float | None = None) -> None:
    """Raise :class:`IllegalTransition` if ``event`` asks of ``item`` what the 清单 does not
    allow (see the module docstring). ``item`` ``None``: not judged here. ``tiers`` false:
    the tier of an acceptance is not judged (the hub's call: :func:`_tier_listed`).
    ``held_from``: since when (epoch ms, ``math.inf`` not yet) the writer holds this
    revision of ``item`` (:func:`_made_before_written`); ``None``: since its write."""
    if not item:
        return
    # made by a list the station held before this revision: its own check_catalog judged
    # it by that list, which the hub no longer has
    before = _made_before_written(event, item, held_from)
    if not before:
        check_time_limit(event, item)
        if event.get("event_type") == "suspension":
            _resumption_period(event, item, workdays or Workdays())
    if tiers and event.get("event_type") == "acceptance":
        _tier_listed(event, item)
    need = ELIGIBLE.get(str(event.get("event_type")))
    if need is None:
        return
    flag, clause, zh = need
    code = item.get("code")
    if before:
        return
    if item.get("active") is False:
        raise IllegalTransition("6.2.4", "item_inactive",
                                f"service item {code} is no longer on the list",
                                f"事项 {code} 已不在帮办代办事项清单中", event_id=event.get("hlc"))
    if item.get(flag) is not True:
        raise IllegalTransition(clause, f"item_not_{flag}",
                                f"service item {code} is not listed for {flag} handling "
                                "(6.2.4)", f"事项 {code} 不在{zh}事项清单中（6.2.4）",
                                event_id=event.get("hlc"))


def _made_before_written(event: Event, item: Mapping[str, Any],
                         held_from: float | None = None) -> bool:
    """Whether ``event`` states a time before the hub's last write of ``item`` (its
    ``written`` clock, schemas.written), so before the item could have been withdrawn;
    with ``held_from``, before the writer could hold that write.

    A station offline for weeks signs form C for an item still on the list it holds; the
    city withdraws the item meanwhile. Judged by today's list when the laptop comes back,
    the entrustment was refused, and with it every later step of the case (their base
    unknown at the hub): a case the standard lets run to its end (6.2.4 manages what may be
    *taken*) never reached supervision. The list keeps no date of withdrawal, but the
    withdrawing write is at or before ``written``: an event stated before it may have
    been made while the item was listed, and is not refused for the withdrawal (the other
    rules still apply). The stated time is the laptop's; a clock set back to get past
    this shows in the hub's clock checks (hub/oversight/clocks.py).

    The laptop works on for two weeks after the write, by the list it holds: what it
    stated then was refused just the same. The hub knows when the device first pulled
    after the write (``held_from``, hub.transitions): before that, the laptop could not
    know the new list, and is judged by none of it."""
    written, at = item.get("written"), event.get("at")
    if not is_hlc(written) or not at:
        return False
    threshold = float(unpack(str(written)).wall_ms)
    if held_from is not None:
        threshold = max(threshold, held_from)
    try:
        stated = dt.datetime.fromisoformat(str(at))
    except ValueError:
        return False
    if stated.tzinfo is None:
        stated = stated.replace(tzinfo=LOCAL_TZ)
    return stated.timestamp() * 1000 < threshold


def _tier_listed(event: Event, item: Mapping[str, Any]) -> None:
    """10.1.3 / 10.2.3: only a tier whose 清单 lists the item (``tiers``, 6.2.4: what the public
    page of each institution discloses, hub/oversight/public.py) accepts it; a case the
    station cannot handle goes up (4.3). A village issued form A for 企业设立登记, listed for
    the county and the city only, and the hub took it.

    The station judges it, the hub does not: laptops of the release before this rule accept
    such items, and a hub upgraded first (docs/operations.md) refusing their acceptance
    refused every later step of the case with it (its base unknown), the hand-up too, so the
    case never left the laptop nor reached supervision. A wrong tier's acceptance is a
    matter of organisation, not of the applicant's rights: the case is still handled."""
    tiers = item.get("tiers")
    try:
        tier = institution_tier(str(event.get("institution")))
    except SchemaError:
        return  # not an institution code: the event's schema says so
    if not isinstance(tiers, list) or not tiers or tier in tiers:
        return
    code = item.get("code")
    listed_en = ", ".join(str(t) for t in tiers)
    listed_zh = "、".join(TIERS.get(str(t), (str(t), ""))[0] for t in tiers)
    # up when a tier above lists it (a village's 企业设立登记), else down (a county's item
    # listed for villages and towns only): TIER_ORDER runs top down
    up = any(t in TIER_ORDER and TIER_ORDER.index(t) < TIER_ORDER.index(tier) for t in tiers)
    way_en, way_zh = ("up", "上报") if up else ("down", "下派")
    raise IllegalTransition(
        "6.2.4", "item_not_for_tier",
        f"service item {code} is listed for {listed_en}, not the {tier} tier: hand the case "
        f"{way_en} (4.3) to an institution that handles it",
        f"事项 {code} 不在本级（{TIERS[tier][0]}）帮办代办清单内（清单所列：{listed_zh}），"
        f"请{way_zh}（4.3）由可办理该事项的机构受理", event_id=event.get("hlc"))


def _resumption_period(event: Event, item: Mapping[str, Any], wd: Workdays) -> None:
    period = item.get("resumption_period_days") or DEFAULT_RESUMPTION_PERIOD_DAYS
    latest = wd.add_working_days(event_date(event), int(period)).isoformat()
    if str(event.get("resumption_deadline")) > latest:
        raise IllegalTransition(
            "10.2.5.2", "resumption_deadline_over_period",
            f"resumption_deadline {event.get('resumption_deadline')} is after {latest}: the "
            f"resumption period of {item.get('code')} is {period} working days",
            f"续办期限 {event.get('resumption_deadline')} 超过该事项的续办期限 {period} 个工作日"
            f"（最迟 {latest}）", event_id=event.get("hlc"))
