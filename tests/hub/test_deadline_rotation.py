"""The deadline watcher (10.2.5.2) while a station's institution key is being replaced
(README "Lost laptop": between `institution rotate-key` and the new key's registration the
station has no active key, and nothing can be wrapped for it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from schemas import build
from schemas.state import LOCAL_TZ, local_today

from .conftest import VILLAGE_A, VILLAGE_B, open_world


def _suspended_past_deadline(node: Any) -> str:
    """A proxy case suspended 20 days ago whose resumption deadline passed 10 days ago."""
    from schemas.fold import fold

    case_id = node.new_case()
    today = local_today()
    at = dt.datetime.combine(today - dt.timedelta(days=20), dt.time(10), LOCAL_TZ)
    rows = node.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                               include_docs=True)["rows"]
    if fold([r["doc"] for r in rows]).service_type != "proxy":  # 10.1.4.3: proxy first
        conv = build.make_event("conversion", case_id=case_id, clock=node.clock(),
                                at=at.isoformat(), institution=node.institution,
                                private={"reason": "申请人办理困难", "applicant_signature": "c.png"},
                                base_hlc=node.last_event(case_id), ledger_no="DB-9",
                                period_end=(today + dt.timedelta(days=90)).isoformat())
        node.store.put(node._seal_sign(conv, node.case_key(case_id)))
    ev = build.make_event("suspension", case_id=case_id, clock=node.clock(),
                          at=at.isoformat(), institution=node.institution,
                          private={"details": "申请人要求暂停"},
                          base_hlc=node.last_event(case_id), reason="c",
                          resumption_deadline=(today - dt.timedelta(days=10)).isoformat())
    node.store.put(node._seal_sign(ev, node.case_key(case_id)))
    node.sync()
    return case_id


def _terminated(hub: Any, case_id: str) -> bool:
    rows = hub.stores.main.all_docs(startkey=f"event:{case_id}:",
                                    endkey=f"event:{case_id}:\ufff0", include_docs=True)["rows"]
    return any(r["doc"].get("event_type") == "termination" for r in rows)


def test_a_station_without_an_active_key_holds_up_no_other_termination(
        tmp_path: Path) -> None:
    """Sealing the hub's termination for a station whose key was revoked raised, and the
    whole workers' pass failed with it: no other case in the city was terminated, and the
    oversight fold and the boards (later in the pass) stopped, until the new key came."""
    from hub.rotation import begin_key_rotation
    from hub.workers import Workers

    with open_world(tmp_path) as w:
        a, b = w.node(VILLAGE_A), w.node(VILLAGE_B)
        mine, other = _suspended_past_deadline(a), _suspended_past_deadline(b)
        begin_key_rotation(w.hub, VILLAGE_A)
        workers = Workers(w.hub)
        workers.run_once()
        assert _terminated(w.hub, other) and not _terminated(w.hub, mine)
        assert workers.deadlines.waiting == {mine}
        # the station registers its new key: the next pass terminates its case too
        from hub import admin

        a.adopt_institution_key()
        admin.register_keys(w.hub, a.device_id, a.public_entries())
        workers.run_once()
        assert _terminated(w.hub, mine) and not workers.deadlines.waiting


def test_a_complaint_on_such_a_case_is_refused_in_words_not_as_an_outage(
        tmp_path: Path) -> None:
    """The same missing key made the complaint intake raise a crypto error, which the
    oversight pages answer as a store outage (503, "the database does not answer")."""
    import pytest

    from hub.errors import BadInput
    from hub.oversight.complaints import take_complaint
    from hub.rotation import begin_key_rotation

    with open_world(tmp_path) as w:
        a = w.node(VILLAGE_A)
        case_id = a.new_case()
        a.sync()
        begin_key_rotation(w.hub, VILLAGE_A)
        with pytest.raises(BadInput) as refused:
            take_complaint(w.hub, case_id, intake="phone", category="inaction", text="无人处理")
        assert refused.value.status == 400 and "正在更换密钥" in refused.value.reason
