"""The index pass after a write takes the bodies the gateway just wrote (hub.index), instead
of reading every one back from the main database: the same index, fewer reads."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.index import ScopeIndexer
from hub.replication.scoped import taken
from hub.storage import HubStores
from sync.open import open_server

from .conftest import VILLAGE_A, VILLAGE_B, World

CASE = "01a21c705346-0000-410602101201-A1"  # made by a device of VILLAGE_A


def _event(n: int, *, hand: str | None = None, note: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": f"event:{CASE}:01a21c7053{n:02d}-0000-410602101201-A1",
                           "type": "event", "case_id": CASE, "event_type": "consultation",
                           "note": note}
    if hand:
        doc |= {"event_type": "hand_up", "to_institution": hand}
    return doc


def _stores(folder: Path) -> HubStores:
    stores = HubStores(open_server(folder), "t")
    stores.create()
    return stores


def _index(stores: HubStores) -> dict[str, dict[str, Any]]:
    """Every scope database's entries (rev, revs, deleted) and every route."""
    out: dict[str, dict[str, Any]] = {}
    for name in stores.server.all_dbs():
        if "-scope-" in name:
            rows = stores.server.db(name).all_docs(include_docs=True)["rows"]
            out[name] = {r["id"]: {k: r["doc"][k] for k in ("rev", "revs", "deleted")}
                         for r in rows}
    rows = stores.private.all_docs(startkey="route:", endkey="route:\ufff0",
                                   include_docs=True)["rows"]
    out["routes"] = {r["id"]: r["doc"]["handed"] for r in rows}
    return out


# One document as the hub may hold it before the batch (a revision with some body, or
# nothing), and as the batch sends it (the same or another revision, the same or another
# body: a replay of a stored revision with a forged body must be indexed by what is kept),
# once or as two revisions in the same batch (a conflict the batch itself makes).
_doc_plan = st.tuples(
    st.integers(0, 5),                                   # which event id
    st.sampled_from(["none", "same", "forged", "other-rev"]),  # what the hub held before
    st.sampled_from([None, VILLAGE_B, "410602101"]),     # the sent body's hand-over target
    st.booleans(),                                       # a second revision in the batch
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_doc_plan, min_size=1, max_size=8), st.booleans())
@example([(0, "forged", VILLAGE_B, False)], False)  # another gateway's write, not indexed yet
@example([(0, "none", None, True)], True)
def test_indexing_with_the_written_bodies_equals_reading_them_back(plan: list[Any],
                                                                   indexed: bool) -> None:
    """The equivalence the index pass relies on: handed what ``bulk_docs`` took (less what
    the hub already had), it writes the very entries and routes that reading every row
    back with ``include_docs`` writes; replays, forged replays and conflicts included, of
    documents indexed before the batch or still waiting for it (another gateway's write
    that this one's pass indexes)."""
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for side in ("handed", "read"):
            stores = _stores(Path(tmp) / side)
            before, batch = [], []
            for n, held, hand, twice in plan:
                sent = {**_event(n, hand=hand), "_rev": f"1-{n:032x}"}
                if held == "same":
                    before.append(sent)
                elif held == "forged":  # that very revision with another body
                    before.append({**_event(n, note="stored"), "_rev": sent["_rev"]})
                elif held == "other-rev":  # another revision: a conflict once sent
                    before.append({**_event(n), "_rev": f"1-{n + 100:032x}"})
                batch.append(sent)
                if twice:  # the last one sent is not the winner (the highest rev wins)
                    batch.append({**_event(n), "_rev": f"1-{n + 300:032x}"})
                    batch.append({**_event(n, hand=VILLAGE_B), "_rev": f"1-{n + 200:032x}"})
            stores.main.bulk_docs(before, new_edits=False)
            indexer = ScopeIndexer(stores)
            if indexed:
                indexer.catch_up()
            existing = {r["key"] for r in stores.main.all_docs(
                keys=[d["_id"] for d in batch])["rows"] if "error" not in r}
            failures = stores.main.bulk_docs(batch, new_edits=False)
            written = taken(batch, failures, new_edits=False, stored=existing)
            indexer.catch_up(written=written if side == "handed" else None)
            results.append(_index(stores))
            stores.close()
        assert results[0] == results[1]


def test_a_written_body_counts_only_as_the_documents_one_leaf(tmp_path: Path) -> None:
    """A body handed in whose revision is not the document's only leaf (a conflict) is not
    trusted: the winner is read, and a hand-over only that body names routes nothing."""
    stores = _stores(tmp_path)
    plain = {**_event(1), "_rev": "1-" + "a" * 32}
    handed = {**_event(1, hand=VILLAGE_B), "_rev": "1-" + "b" * 32}
    stores.main.bulk_docs([plain, handed | _event(1)], new_edits=False)
    ScopeIndexer(stores).catch_up(written={plain["_id"]: (handed["_rev"], handed)})
    assert _index(stores)["routes"] == {}
    stores.close()


def test_a_write_is_indexed_without_reading_its_bodies_back(world: World) -> None:
    """A device's ``_bulk_docs``: its own documents go into the scope index, and no body
    of them is read from the main database after they are written (before: the index pass
    read each one back with ``_changes?include_docs=true`` and parsed it again)."""
    main = world.hub.stores.main
    node = world.node(VILLAGE_A)
    case_id = node.new_case()
    reads: list[str] = []
    after_write = False
    real_bulk, real_changes, real_all = main.bulk_docs, main.changes, main.all_docs

    def bulk_docs(docs: Any, **kw: Any) -> Any:
        nonlocal after_write
        out = real_bulk(docs, **kw)
        after_write = True
        return out

    def record(rows: list[Mapping[str, Any]]) -> None:
        if after_write:
            reads.extend(str((r.get("doc") or {}).get("_id")) for r in rows if r.get("doc"))

    def changes(**kw: Any) -> Any:
        out = real_changes(**kw)
        record(out["results"])
        return out

    def all_docs(**kw: Any) -> Any:
        out = real_all(**kw)
        record(out["rows"])
        return out

    main.bulk_docs, main.changes, main.all_docs = bulk_docs, changes, all_docs  # type: ignore[method-assign]
    try:
        world.sync(VILLAGE_A)
    finally:
        del main.bulk_docs, main.changes, main.all_docs
    mine = [i for i in reads if case_id in i]
    assert after_write and not mine
    ids = {r["id"] for r in world.hub.stores.scope(VILLAGE_A).all_docs()["rows"]}
    assert f"case:{case_id}" in ids and f"keyring:{case_id}" in ids
    assert any(i.startswith(f"event:{case_id}:") for i in ids)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("couch", marks=pytest.mark.couchdb)])
def test_a_revision_sent_twice_in_one_batch_is_indexed_by_the_body_kept(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """One new revision sent twice in one ``new_edits=false`` batch, the second copy a
    hand-over: the store keeps the first copy (CouchDB's merge keeps the value already in
    the tree), and the index handed the batch must route as reading it back does, not
    after the last copy sent (a route, and the case back-filled into a scope, the stored
    event never named)."""
    results = []
    for side in ("handed", "read"):
        if backend == "couch":
            from sync.couch import CouchServer

            stores = HubStores(CouchServer(request.getfixturevalue("couchdb_url")),
                               "r" + uuid.uuid4().hex[:10])
            stores.create()
        else:
            stores = _stores(tmp_path / side)
        try:
            plain = {**_event(1), "_rev": "1-" + "a" * 32}
            batch = [plain, {**_event(1, hand=VILLAGE_B), "_rev": plain["_rev"]}]
            failures = stores.main.bulk_docs(batch, new_edits=False)
            written = taken(batch, failures, new_edits=False, stored=set())
            ScopeIndexer(stores).catch_up(written=written if side == "handed" else None)
            results.append({k.replace(stores.prefix + "-", "P-"): v for k, v in _index(stores).items()})
        finally:
            if backend == "couch":
                for name in stores.server.all_dbs():
                    if name.startswith(stores.prefix):
                        stores.server.delete_db(name)
            stores.close()
    assert results[0] == results[1]
    assert results[1]["routes"] == {}
