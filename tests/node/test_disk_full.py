"""A full disk on the station laptop, and a hub whose disk is full: the clerk is told which
disk, what to do, and that nothing is lost; the form keeps what was typed; nothing is taken
for refused (tests.diskfull fills the store without root or a tmpfs)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from node.errors import SyncFailed
from node.repush import kept
from node.syncstate import offline_words
from sync.errors import from_status
from sync.sqlite import SQLiteStore
from tests.diskfull import full_disk
from tests.node.test_casework_flow import _consult, _step, later
from tests.node.test_sync_honest import _consult as _consult_here
from tests.node.test_sync_honest import _dir, _node, _round_against


def test_a_step_saved_on_a_full_disk_keeps_the_form_and_says_what_to_do(unlocked: Any) -> None:
    c = unlocked
    node = c.application.extensions["bangban_node"]
    case_id = _consult(c)
    before = node.store.info()["doc_count"]
    form = _entrustment()
    with full_disk(node.store):
        r = _step(c, case_id, "entrustment", **form)
    html = r.data.decode()
    assert r.status_code == 507, html[:3000]
    assert "本机磁盘已满" in html and "disk is full" in html
    assert "未丢失" in html and "call the operator" in html
    assert "我输入的委托范围" in html and "DB-7" in html  # the form keeps what was typed
    assert node.store.info()["doc_count"] == before  # nothing half-written
    # space freed: the same form saves
    r = _step(c, case_id, "entrustment", **form)
    assert r.status_code == 302, r.data.decode()[:3000]
    assert node.store.info()["doc_count"] > before


def _entrustment() -> dict[str, str]:
    from schemas.sample import catalog
    from tests.node.test_casework_flow import PNG

    return dict(channel="offline", mode="nearby", service_item=catalog()[0]["code"],
                ledger_no="DB-7", period_end=later(60),
                signature_data="data:image/png;base64," + base64.b64encode(PNG).decode(),
                scope="我输入的委托范围" + "很长" * 990)


def test_a_consultation_on_a_full_disk_writes_nothing_and_keeps_the_form(
        unlocked: Any) -> None:
    """Opening the case (header, keyring) and recording its consultation and notification
    were separate writes: on a full disk the header could be stored without its record, so
    the page could not say "nothing was saved, save again" (a second case) and showed the
    general full-disk page with the form lost. They are one write now: refused whole, the
    form kept with what to do, and the same form saved again makes one case."""
    from schemas.sample import catalog
    from tests.node.conftest import csrf

    c = unlocked
    node = c.application.extensions["bangban_node"]
    item = catalog()[0]
    form = {"csrf": csrf(c), "applicant_name": "王小明", "phone": "13800000000",
            "question": "我输入的咨询问题" + "很长" * 1900, "service_item": item["code"],
            "service_type": "proxy", "mode": "nearby", "channel": "window", "answered": "1", "outcome": "已当场答复"}
    before = node.store.info()["doc_count"]
    with full_disk(node.store):
        r = c.post("/consultations/", data=form)
    html = r.data.decode()
    assert r.status_code == 507, html[:3000]
    assert "本机磁盘已满" in html and "save again" in html
    assert "我输入的咨询问题" in html and "王小明" in html  # the form keeps what was typed
    assert node.store.info()["doc_count"] == before  # no case without its record
    r = c.post("/consultations/", data=form)  # space freed: the same form saves
    assert r.status_code == 302, r.data.decode()[:3000]
    case_id = r.headers["Location"].rstrip("/").split("/")[-1]
    cases = [row["id"] for row in node.store.all_docs()["rows"] if row["id"].startswith("case:")]
    assert cases == [f"case:{case_id}"]
    kinds = [e["event_type"] for e in node.casework.events(case_id)]
    assert kinds[0] == "consultation" and ("notification" in kinds) == bool(
        item.get("materials"))


def test_the_case_index_without_room_does_not_fail_a_stored_step(unlocked: Any) -> None:
    """The case list's index is another file, written after the store: with the step stored
    and no room for its row, the page said "index write failed" (500) and the clerk took
    the stored step for lost. Its row waits for the catch-up from the store's feed
    (node.indexer, each sync round and unlock) instead; a batch still says the disk is
    full, and the index file works again once space is freed."""
    from node.errors import IndexFull
    from node.indexer import index_changes

    c = unlocked
    node = c.application.extensions["bangban_node"]
    case_id = _consult(c)
    row = dict(node.index.get(case_id))
    db = node.index._db
    db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
    # a case number far larger than a page: its row needs new pages (overflow), none left
    node.index.upsert({**row, "case_no": "号" * 20_000})
    assert not db.in_transaction and node.index.get(case_id)["case_no"] == row["case_no"]
    with pytest.raises(IndexFull) as caught:
        node.index.upsert_many([({**row, "case_no": "号" * 20_000}, [])])
    assert caught.value.status == 507 and "本机磁盘已满" in caught.value.reason
    db.execute("PRAGMA max_page_count=4294967294")  # space freed
    r = _step(c, case_id, "entrustment", **_entrustment())
    assert r.status_code == 302, r.data.decode()[:3000]
    index_changes(node)
    assert node.index.get(case_id)["status"] != row["status"]


def test_a_hub_whose_disk_is_full_is_said_and_nothing_is_refused(tmp_path: Path) -> None:
    """The hub answers 507 insufficient_storage (hub.diskfull.STORE_FULL): the page said
    "cannot reach the hub: the network is down", and nothing told the clerk to call the
    hub's operator. The documents stay waiting, none kept as refused."""
    node, st = _round_against(tmp_path / "n", 507, {
        "error": "insufficient_storage", "reason": "the hub's storage is full"})
    assert st.status == "offline" and st.last_error, st
    assert "平台的存储空间已满" in st.last_error and "hub's operator" in st.last_error
    assert "网络中断" not in st.last_error and "自动上传" in st.last_error
    assert st.refused == [] and kept(node.store) == []
    node.close()


class Hub(SQLiteStore):
    """The hub's device view as a store in this process (tests.node.test_repush), the same
    for every round."""

    def close(self) -> None:
        pass


def _held(store: Any) -> set[str]:
    return {r["id"] for r in store.all_docs()["rows"]}


def test_a_round_into_a_full_hub_keeps_everything_waiting_and_goes_once_freed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The node's own round (push with the replicator's retries, then the re-push of refused
    documents): the hub's 507 fails the round; nothing is kept as refused, the case stays
    waiting for upload, and the next round after the hub frees space takes it all."""
    node = _node(_dir(tmp_path / "n"))
    hub = Hub(str(tmp_path / "hub.sqlite"))
    monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)
    try:
        case_id = _consult_here(node)
        mine = _held(node.store)
        with full_disk(hub), pytest.raises(SyncFailed):
            node.syncer.sync_once()
        st = node.syncer.state
        assert st.last_error and "平台的存储空间已满" in st.last_error, st.last_error
        assert "本机磁盘" not in st.last_error
        assert st.refused == [] and kept(node.store) == []
        assert case_id in node.index.pending_ids() and st.pending > 0
        assert not mine & _held(hub)
        node.syncer.sync_once()  # the hub has room again
        assert mine <= _held(hub) and node.syncer.state.refused == []
        assert node.index.pending_ids() == set()
    finally:
        node.close()
        SQLiteStore.close(hub)


def test_a_round_that_meets_this_laptops_full_disk_names_this_laptop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pull writes what the hub sends on this laptop: with its disk full the round
    fails there, and the page named the network. It names this laptop's disk now."""
    node = _node(_dir(tmp_path / "n"))
    hub = Hub(str(tmp_path / "hub.sqlite"))
    monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)
    try:
        _consult_here(node)
        hub.bulk_docs([{"_id": f"note:{i}", "type": "note", "v": "x" * 4000} for i in range(20)])
        with full_disk(node.store), pytest.raises(SyncFailed):
            node.syncer.sync_once()
        said = str(node.syncer.state.last_error)
        assert "本机磁盘已满" in said and "this laptop's disk is full" in said, said
        assert "平台" not in said
        assert node.syncer.state.refused == [] and kept(node.store) == []
    finally:
        node.close()
        SQLiteStore.close(hub)
    assert "本机磁盘已满" in offline_words(OSError(28, "No space left on device"))
    hub_said = offline_words(from_status(507, "insufficient_storage", "full"), str(tmp_path))
    assert "平台的存储空间已满" in hub_said and "本机磁盘" not in hub_said


def test_node_sync_names_the_hubs_full_disk(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from http.server import ThreadingHTTPServer

    from ops.cli import main
    from tests.node.conftest import answering, make_node_dir, serving

    full = answering(507, {"error": "insufficient_storage", "reason": "the hub's storage is full"})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), full)) as url:
        folder = make_node_dir(tmp_path / "n", db_url=f"{url}/bangban")
        assert main(["node", "sync", "--dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "平台的存储空间已满" in err and "tell the hub's operator" in err
    assert "cannot reach the hub" not in err


def test_a_good_round_whose_index_catch_up_meets_a_full_disk_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Push and pull went through, then the index's catch-up (node.indexer, after the pull)
    found no room: the round raised IndexFull, which the sync page showed as a raw error
    (the loop's repr) or not at all ("ok"). It says the laptop's disk is full now, in the
    words every full disk here has, and the next round with room catches up."""
    node = _node(_dir(tmp_path / "n"))
    hub = Hub(str(tmp_path / "hub.sqlite"))
    monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)
    try:
        cases = [_consult_here(node) for _ in range(30)]
        db = node.index._db
        node.index.clear()  # the catch-up has every case to write again, from the feed's start
        node.index.set_meta("store_seq", "0")
        db.execute("VACUUM")  # no free page left inside the file
        db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
        with pytest.raises(SyncFailed):
            node.syncer.sync_once()
        st = node.syncer.state
        assert set(cases) <= {r["id"].split(":")[1] for r in hub.all_docs()["rows"]}
        assert st.last_error and "本机磁盘已满" in st.last_error, st.last_error
        assert "this laptop's disk is full" in st.last_error and "IndexFull(" not in st.last_error
        assert "平台" not in st.last_error and st.status == "error"
        db.execute("PRAGMA max_page_count=4294967294")  # space freed
        node.syncer.sync_once()
        assert node.syncer.state.status == "ok" and node.syncer.state.last_error is None
        assert all(node.index.get(c) for c in cases)
    finally:
        node.close()
        SQLiteStore.close(hub)
