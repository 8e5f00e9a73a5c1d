"""A device's view of the hub (ScopedStore), the router, the workers and backups, in process."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hub.auth import Device
from hub.backup import backup, restore
from hub.core import Hub
from hub.settings import Settings
from hub.workers import Workers
from sync.errors import Conflict, Forbidden, NotFound

from .conftest import TOWN, VILLAGE_A, VILLAGE_B, World


def view(world: World, code: str):
    return world.node(code).remote


def test_changes_come_from_the_scope_index_and_hold_only_the_view(world: World):
    a, b = world.node(VILLAGE_A), world.node(VILLAGE_B)
    mine, theirs = a.new_case(), b.new_case()
    world.sync()
    ids = {r["id"] for r in view(world, VILLAGE_A).changes(style="all_docs")["results"]}
    assert f"case:{mine}" in ids and f"case:{theirs}" not in ids
    assert not any(r["id"].startswith(("case:", "event:")) and VILLAGE_B + "-" in r["id"]
                   for r in view(world, VILLAGE_A).changes()["results"])
    assert "directory" in ids and any(i.startswith("service_item:") for i in ids)
    # the index lives in the store: one database per scope
    names = set(world.hub.stores.server.all_dbs())
    assert {world.hub.stores.scope_name(VILLAGE_A), world.hub.stores.scope_name("all")} <= names
    # paging with limit returns every row exactly once
    seen, since = [], 0
    while True:
        page = view(world, VILLAGE_A).changes(since=since, limit=3)
        seen += [r["id"] for r in page["results"]]
        since = page["last_seq"]
        if not page["results"]:
            break
    assert sorted(seen) == sorted(ids)


def test_invisible_documents_do_not_exist_for_the_device(world: World):
    b = world.node(VILLAGE_B)
    theirs = b.new_case()
    world.sync()
    va = view(world, VILLAGE_A)
    with pytest.raises(NotFound):
        va.get(f"case:{theirs}")
    with pytest.raises(NotFound):
        va.open_revs(f"case:{theirs}", "all")
    rev = b.store.get(f"case:{theirs}")["_rev"]
    assert va.revs_diff({f"case:{theirs}": [rev]}) == {f"case:{theirs}": {"missing": [rev]}}
    res = va.bulk_get([{"id": f"case:{theirs}", "rev": rev}])
    assert res["results"][0]["docs"][0]["error"]["error"] == "not_found"
    rows = va.all_docs(keys=[f"case:{theirs}"])["rows"]
    assert rows[0].get("error") == "not_found"
    with pytest.raises(Forbidden):
        va.compact()


def test_local_checkpoints_are_kept_per_device(world: World):
    va, vb = view(world, VILLAGE_A), view(world, VILLAGE_B)
    va.put_local({"_id": "_local/cp-test", "seq": 1})
    with pytest.raises(NotFound):
        vb.get_local("_local/cp-test")
    doc = va.get_local("_local/cp-test")
    assert doc["seq"] == 1 and doc["_rev"] == "0-1"
    va.put_local({**doc, "seq": 2})
    assert va.get_local("_local/cp-test")["_rev"] == "0-2"
    with pytest.raises(Conflict):
        va.put_local({**doc, "seq": 3})  # a stale _rev


def test_local_documents_are_bounded_in_size_and_number(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one write a device makes unchecked by the casework rules: one device's
    credentials must not fill the hub's disk with _local documents."""
    import base64
    import json

    from hub.app import create_app
    from hub.replication import local

    node = world.node(VILLAGE_A)
    token = base64.b64encode(f"{node.device_id}:{node.secret}".encode()).decode()
    client = create_app(hub=world.hub).test_client()
    base = f"/{world.hub.stores.prefix}/_local"
    auth = {"Authorization": f"Basic {token}"}
    big = client.put(f"{base}/big", headers=auth,
                     data=json.dumps({"pad": "x" * (local.LOCAL_MAX_BYTES + 1)}))
    assert big.status_code == 413 and "too large" in big.get_json()["reason"]
    assert client.get(f"{base}/big", headers=auth).status_code == 404
    have = local.LocalDocs(world.hub.stores.private, node.device_id).count()
    monkeypatch.setattr(local, "LOCAL_MAX_DOCS", have + 2)
    made = [f"{base}/n{i}" for i in range(2)]
    revs = [client.put(u, headers=auth, data=json.dumps({"seq": 1})).get_json()["rev"]
            for u in made]
    refused = client.put(f"{base}/n2", headers=auth, data=json.dumps({"seq": 1}))
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert "delete old checkpoints" in refused.get_json()["reason"]
    # an existing checkpoint still moves on, and deleting one makes room
    again = client.put(made[0], headers=auth, data=json.dumps({"seq": 2, "_rev": revs[0]}))
    assert again.status_code == 201, again.get_json()
    for u in made:
        rev = client.get(u, headers=auth).get_json()["_rev"]
        assert client.delete(f"{u}?rev={rev}", headers=auth).status_code == 200
    assert client.put(f"{base}/n2", headers=auth, data=json.dumps({"seq": 1})).status_code == 201


def test_longpoll_returns_empty_after_its_timeout(world: World):
    va = view(world, VILLAGE_A)
    now = va.changes(since="now")["last_seq"]
    started = time.monotonic()
    res = va.changes(since=now, feed="longpoll", timeout=0.3)
    assert res["results"] == [] and time.monotonic() - started >= 0.25


def test_hand_up_routes_the_whole_case_to_the_town(world: World):
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    world.sync()
    assert case_id not in town.cases()
    routed = world.hub.indexer.routed
    a.hand_up(case_id, TOWN)
    world.sync(VILLAGE_A)
    world.sync(TOWN)
    assert case_id in town.cases()
    case_docs = {r["id"] for r in a.store.all_docs()["rows"] if case_id in r["id"]}
    assert case_docs <= {r["id"] for r in town.store.all_docs()["rows"]}
    assert world.hub.indexer.routed == routed + 1


def test_resolver_writes_one_resolution_per_conflict(world: World):
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    world.round()
    town.edit_header(case_id, labels=["t"])
    a.edit_header(case_id, labels=["a"])
    world.round()
    workers = Workers(world.hub)
    workers.run_once()
    assert workers.resolver.resolved == 0  # one resolution per conflict: nothing left
    docs = [n.store.get(f"case:{case_id}", conflicts=True) for n in (a, town)]
    hub_doc = world.hub.stores.main.get(f"case:{case_id}", conflicts=True)
    assert "_conflicts" not in hub_doc and {d["_rev"] for d in docs} == {hub_doc["_rev"]}
    # the loser in history, beside the opening value each edit replaced (hub.header_kept)
    lost = {v for h in hub_doc["history"] if h["field"] == "labels" for v in h["value"]}
    assert {hub_doc["labels"][0]} | lost == {"a", "t"}
    leaves = world.hub.stores.main.open_revs(f"case:{case_id}", "all")
    assert sum(1 for leaf in leaves if not leaf["ok"].get("_deleted")) == 1


def test_backup_and_restore_keep_every_revision(world: World, tmp_path):
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    world.round()
    town.edit_header(case_id, labels=["t"])
    a.edit_header(case_id, labels=["a"])
    world.round()
    counts = backup(world.hub, tmp_path / "bk")
    assert all(counts[n]["revisions"] > 0 for n in ("main", "private", "receipts"))
    fresh = Hub(Settings.load({"hub_dir": str(tmp_path / "restored"), "scrypt_n": 1024},
                              environ={}))
    try:
        restore(fresh, tmp_path / "bk")
        src, dst = world.hub.stores.main, fresh.stores.main
        ids = [r["id"] for r in src.changes(style="all_docs")["results"]]
        for docid in ids:
            want = sorted(str(x["ok"]) for x in src.open_revs(docid, "all"))
            assert sorted(str(x["ok"]) for x in dst.open_revs(docid, "all")) == want
        device = Device(a.device_id, VILLAGE_A, {})
        assert {r["id"] for r in fresh.view(device).changes()["results"]} == \
            {r["id"] for r in world.hub.view(device).changes()["results"]}
        assert fresh.auth.record(a.device_id) is not None
        # receipt times are not derived: a restore must bring them back (hub.receipts)
        assert fresh.stores.receipts.info()["doc_count"] == \
            world.hub.stores.receipts.info()["doc_count"] == counts["receipts"]["documents"]
    finally:
        fresh.close()


def test_hand_up_without_the_recipients_wrap_is_refused(world: World):
    from schemas import build
    from sync.crypto import sign_document

    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    world.sync(VILLAGE_A)
    key = a.case_key(case_id)
    ev = build.make_event("hand_up", case_id=case_id, clock=a.clock(), at=a.now(),
                          institution=VILLAGE_A, private={}, base_hlc=a.last_event(case_id),
                          **build.handover_fields(VILLAGE_A, TOWN, "needs_coordination"))
    doc = sign_document(key.seal(ev), a.signer)
    (row,) = view(world, VILLAGE_A).bulk_docs([doc])
    assert row["error"] == "forbidden" and "no wrap for" in row["reason"]
    assert world.hub.indexer.case_scopes(case_id) == {VILLAGE_A}


def test_deadline_watcher_writes_overdue_marks_and_remembers_open_cases(world: World):
    a = world.node(VILLAGE_A)
    (late,) = a.sample_cases(1, town=TOWN, seed=11, scenarios=("in_handling",))
    world.round()
    marks = world.hub.stores.private.get("deadlines:overdue")["cases"]
    assert late in marks and marks[late]["institution"] == VILLAGE_A  # March case: late now
    assert late in world.hub.stores.private.get("deadlines:watch")["cases"]
    fresh = Workers(world.hub)  # a restarted hub still watches the open case
    fresh.run_once()
    assert late in fresh.deadlines.marks


def test_the_deadline_watcher_judges_by_beijing_today(world: World, off_beijing_tz: str):
    """10.2.5.2: a resumption deadline passes at midnight in Beijing; the watcher took the
    server's date (a UTC hub terminated 8 hours late and marked overdue a day late)."""
    from schemas.state import local_today

    fresh = Workers(world.hub)
    fresh.run_once()
    marks = world.hub.stores.private.get("deadlines:overdue")
    assert marks["as_of"] == local_today().isoformat(), off_beijing_tz


def test_a_batch_waits_for_the_batch_in_flight_that_holds_its_dependencies(world: World):
    """Replicators pipeline batches: the later one may be validated first."""
    import threading

    a = world.node(VILLAGE_A)
    (case_id,) = a.sample_cases(1, town=TOWN, seed=5, scenarios=("proxy_completed",))
    docs = [r["doc"] for r in a.store.all_docs(include_docs=True)["rows"]
            if case_id in r["id"]]
    docs = [{**d, "_revisions": {"start": 1, "ids": [d["_rev"].split("-", 1)[1]]}}
            for d in docs]
    events = sorted((d for d in docs if d["type"] == "event"), key=lambda d: d["hlc"])
    first = [d for d in docs if d["type"] != "event"] + events[:3]
    later = events[3:]
    va = view(world, VILLAGE_A)
    out: dict[str, list] = {}
    validator = world.hub.validator
    checked, release = threading.Event(), threading.Event()
    check_batch = validator.check_batch
    calls = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = check_batch(*args, **kwargs)
        calls.append(threading.current_thread())
        if len(calls) == 1:  # the later batch's first check: it read before the first landed
            checked.set()
            release.wait(60)
        return result

    validator.check_batch = spy  # type: ignore[method-assign]
    slow = threading.Thread(target=lambda: out.setdefault("later", va.bulk_docs(
        later, new_edits=False)))
    validator.enter(a.device_id)  # the first batch's request is already in flight
    try:
        slow.start()
        assert checked.wait(60)
        # The first batch lands and every other request of the device ends while the later
        # batch's (stale) check is still running: it must check again, not refuse for good.
        out["first"] = va.bulk_docs(first, new_edits=False)
    finally:
        validator.leave(a.device_id)
        release.set()
    slow.join(timeout=60)
    validator.check_batch = check_batch  # type: ignore[method-assign]
    assert out == {"later": [], "first": []}
    stored = world.hub.stores.main.all_docs(keys=[d["_id"] for d in docs])["rows"]
    assert all("error" not in r for r in stored)


def test_a_batch_reads_its_cases_events_in_one_request(world: World, monkeypatch):
    # the transition check needs each case's stored events: one _all_docs/queries for the
    # whole batch (CouchDB >= 2.2), not one range read per case
    a = world.node(VILLAGE_A)
    for _ in range(3):
        a.new_case()
    main = world.hub.stores.main
    calls: list[int] = []
    real = main.all_docs_queries

    def counted(queries):  # type: ignore[no-untyped-def]
        calls.append(len(queries))
        return real(queries)

    monkeypatch.setattr(main, "all_docs_queries", counted)
    ranges: list[str] = []
    real_all_docs = main.all_docs

    def all_docs(**kw):  # type: ignore[no-untyped-def]
        if str(kw.get("startkey", "")).startswith("event:") and not kw.get("keys"):
            ranges.append(kw["startkey"])
        return real_all_docs(**kw)

    monkeypatch.setattr(main, "all_docs", all_docs)
    world.sync(VILLAGE_A)
    assert calls and max(calls) >= 3  # one request carried every case of the batch
    # the embedded store answers the queries one by one, inside that one call
    assert len(ranges) == sum(calls)


def _stepper(a: Any, case_id: str) -> Any:
    """``event(type, base_hlc, **fields)``: a step of village A on ``case_id``, sealed and
    signed, not stored (the hub's answer to it is what the tests read)."""
    from schemas import build
    from sync.crypto import sign_document

    key = a.case_key(case_id)

    def event(event_type: str, base: str | None, private: dict | None = None,
              **fields: Any) -> dict:
        ev = build.make_event(event_type, case_id=case_id, clock=a.clock(), at=a.now(),
                              institution=VILLAGE_A, private=private or {}, base_hlc=base,
                              **fields)
        return sign_document(key.seal(ev), a.signer)

    return event


def test_an_acceptance_promising_more_than_the_statutory_limit_is_refused(world: World):
    """10.1.3: the hub holds every station to the 清单's statutory limit, whatever its
    software (the node checks too, when it has the item)."""
    a = world.node(VILLAGE_A)
    (case_id,) = a.sample_cases(1, town=TOWN, seed=23, scenarios=("consult_reply",))
    world.sync(VILLAGE_A)
    from hub import admin
    from schemas import sample

    code = world.hub.stores.main.get(f"case:{case_id}")["service_item"]
    admin.import_catalog(world.hub, [i for i in sample.catalog() if i["code"] == code])
    world.pull_list(VILLAGE_A)
    limit = world.hub.stores.service_items(max_age=0)[code]["time_limit_days"]
    event = _stepper(a, case_id)
    applied = event("application", a.last_event(case_id), channel="offline", mode="nearby",
                    service_item=code)
    assert view(world, VILLAGE_A).bulk_docs([applied])[0].get("ok")
    over = event("acceptance", applied["hlc"], zone="assisted_zone", time_limit_days=limit + 30)
    (row,) = view(world, VILLAGE_A).bulk_docs([over])
    assert row["error"] == "forbidden" and "time_limit_days_over_statutory" in row["reason"]
    within = event("acceptance", applied["hlc"], zone="assisted_zone", time_limit_days=limit)
    (row,) = view(world, VILLAGE_A).bulk_docs([within])
    assert row.get("ok"), row


def test_an_entrustment_for_an_item_not_listed_for_proxy_handling_is_refused(world: World):
    """6.2.4 / 10.2.2: the city's 清单 says which items are handled by proxy; the hub holds
    every station to it (before, form C for an assist-only item was taken)."""
    from hub import admin
    from schemas import build, sample
    from sync.crypto import sign_document

    a = world.node(VILLAGE_A)
    (case_id,) = a.sample_cases(1, town=TOWN, seed=61, scenarios=("consult_reply",))
    world.sync(VILLAGE_A)
    admin.import_catalog(world.hub, [i for i in sample.catalog() if i["code"] == "MS-010"])
    world.pull_list(VILLAGE_A)
    assert world.hub.stores.service_items(max_age=0)["MS-010"]["proxy"] is False
    key = a.case_key(case_id)

    def entrust(item: str) -> dict:
        ev = build.make_event("entrustment", case_id=case_id, clock=a.clock(), at=a.now(),
                              institution=VILLAGE_A, base_hlc=a.last_event(case_id),
                              private={"scope": "代为申报", "applicant_signature": "s.png"},
                              channel="offline", service_item=item, mode="nearby",
                              ledger_no="DB-1", period_end="2099-12-31")
        return sign_document(key.seal(ev), a.signer)

    (row,) = view(world, VILLAGE_A).bulk_docs([entrust("MS-010")])
    assert row["error"] == "forbidden" and "item_not_proxy" in row["reason"], row
    (row,) = view(world, VILLAGE_A).bulk_docs([entrust("MS-010-UNKNOWN")])  # not judged here
    assert row.get("ok") or "item_not_proxy" not in row.get("reason", ""), row


def test_an_acceptance_is_judged_against_the_item_the_application_chose(world: World):
    """10.1.3 / 6.2.4: the case header keeps the item asked about at the consultation; the
    application chose another, with a longer statutory limit. The hub judged the acceptance
    by the consultation's item, and refused a time limit the chosen item allows."""
    a = world.node(VILLAGE_A)
    (case_id,) = a.sample_cases(1, town=TOWN, seed=29, scenarios=("consult_reply",))
    world.sync(VILLAGE_A)
    from hub import admin
    from schemas import sample

    asked = world.hub.stores.main.get(f"case:{case_id}")["service_item"]
    items = {i["code"]: i for i in sample.catalog()}
    chosen = next(c for c in ("MS-005", "MS-006") if c != asked)
    assert items[asked]["time_limit_days"] < items[chosen]["time_limit_days"] == 30
    admin.import_catalog(world.hub, [items[asked], items[chosen]])
    event = _stepper(a, case_id)
    applied = event("application", a.last_event(case_id), channel="offline", mode="nearby",
                    service_item=chosen)
    assert view(world, VILLAGE_A).bulk_docs([applied])[0].get("ok")
    accepted = event("acceptance", applied["hlc"], zone="assisted_zone", time_limit_days=30)
    (row,) = view(world, VILLAGE_A).bulk_docs([accepted])
    assert row.get("ok"), row


def test_a_village_s_acceptance_of_an_item_not_listed_for_villages_reaches_the_hub(
        world: World):
    """6.2.4 / 4.3: 企业设立登记 is listed for the county and the city; a station of this
    release does not issue form A for it (tests/node/test_clerk_catalog.py), but the hub
    takes the acceptance of a laptop of the release before: refused, it stranded the case
    and every later step of it, the hand-up too, on that laptop (schemas.eligibility)."""
    import datetime as dt
    import random

    from hub import admin
    from schemas import sample
    from schemas.sample_cases import case_history

    a = world.node(VILLAGE_A)
    insts = {i["code"]: i for i in sample.institutions()}
    item = next(i for i in sample.catalog() if i["code"] == "QY-001")
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    (case_id,) = a.load_histories([case_history(
        random.Random(67), "consult_reply", village=insts[VILLAGE_A], town=insts[TOWN],
        item=item, serial=67, start=at)])
    world.sync(VILLAGE_A)
    admin.import_catalog(world.hub, [item])
    assert world.hub.stores.service_items(max_age=0)["QY-001"]["tiers"] == ["county", "city"]
    event = _stepper(a, case_id)
    applied = event("application", a.last_event(case_id), channel="offline", mode="nearby",
                    service_item="QY-001")
    assert view(world, VILLAGE_A).bulk_docs([applied])[0].get("ok")
    accepted = event("acceptance", applied["hlc"], zone="assisted_zone", time_limit_days=1)
    assert view(world, VILLAGE_A).bulk_docs([accepted])[0].get("ok")
    # and the step after it, which the refusal took with it
    logged = event("work_log", accepted["hlc"], kind="tracking", private={"text": "已上报"})
    assert view(world, VILLAGE_A).bulk_docs([logged])[0].get("ok")
