"""A new laptop's first pull (tens of thousands of documents at a busy town, minutes on a
poor link): the cases pulled so far are listed before the round ends, and a round the link
cuts still indexes what it wrote (node.indexer.PullIndexer)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from node.core import Node
from node.errors import SyncFailed
from node.indexer import PullIndexer
from node.settings import load
from sync.errors import TransportError
from tests.node.conftest import PASSPHRASE, VILLAGE, make_node_dir


def _node(folder: Path) -> Node:
    node = Node(load({"node_dir": str(folder), "sync_timeout": 2.0, "sync_interval": 0}))
    node.unlock(PASSPHRASE)
    return node


def _cases_elsewhere(tmp_path: Path, n: int) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """``n`` cases opened on another laptop of the station: their ids, and each one's
    stored documents (header, keyring, events) as the hub would send them."""
    other = _node(make_node_dir(tmp_path / "other", f"{VILLAGE}-A2"))
    ids = []
    for k in range(n):
        cw = other.casework
        case_id = cw.open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                               applicant_kind="person", private={"applicant_name": f"赵{k}"})
        cw.record(case_id, "consultation", {"channel": "window", "answered": True},
                  {"name": f"赵{k}", "question": "怎么办？"})
        ids.append(case_id)
    rows = other.store.all_docs(include_docs=True, conflicts=False)["rows"]
    docs = [r["doc"] for r in rows if not r["id"].startswith("_")]
    other.close()
    return ids, [[d for d in docs if case_id in d["_id"]] for case_id in ids]


def _pull_in_chunks(monkeypatch: pytest.MonkeyPatch, chunks: list[list[dict[str, Any]]],
                    after_chunk: Any, cut: bool) -> None:
    """Rounds whose pull writes ``chunks`` one at a time, telling its progress after each
    as the replicator does after a batch (then the link is cut, with ``cut``)."""

    class Remote:
        def close(self) -> None:
            pass

    class Done:
        docs_written = 0
        failures: list[Any] = []
        last_seq = None

        def summary(self) -> dict[str, Any]:
            return {}

    def replicate(src: Any, dst: Any, opts: Any) -> Any:
        if opts.target_location == "hub":
            return Done()
        written = 0
        for k, chunk in enumerate(chunks):
            dst.store.bulk_docs(chunk, new_edits=False)  # past the signature check
            written += len(chunk)
            opts.progress(SimpleNamespace(docs_written=written, docs_read=written, pending=1))
            after_chunk(k)
        if cut:
            raise TransportError("the link went down")
        return Done()

    monkeypatch.setattr("sync.open.open_db", lambda url, timeout=None: Remote())
    monkeypatch.setattr("sync.replicate.replicate", replicate)


def _listed(node: Node) -> set[str]:
    return {r["case_id"] for r in node.index.search(limit=500).rows}


def test_the_cases_pulled_so_far_are_listed_before_the_pull_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, docs = _cases_elsewhere(tmp_path, 3)
    laptop = _node(make_node_dir(tmp_path / "laptop", f"{VILLAGE}-A3"))
    monkeypatch.setattr(PullIndexer, "EVERY", len(docs[0]))
    mid: list[set[str]] = []
    _pull_in_chunks(monkeypatch, docs, lambda k: mid.append(_listed(laptop)), cut=False)
    laptop.syncer.sync_once()
    assert mid[0] == {ids[0]} and mid[1] == {ids[0], ids[1]}
    assert _listed(laptop) == set(ids)
    laptop.close()


def test_a_pull_the_link_cuts_still_lists_what_it_brought(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing was indexed until a round ended well: a laptop whose link never held for
    a whole first pull listed none of the thousands of cases it had pulled."""
    ids, docs = _cases_elsewhere(tmp_path, 2)
    laptop = _node(make_node_dir(tmp_path / "laptop", f"{VILLAGE}-A3"))
    _pull_in_chunks(monkeypatch, docs, lambda k: None, cut=True)
    with pytest.raises(SyncFailed):
        laptop.syncer.sync_once()
    assert laptop.syncer.state.status == "offline"
    assert _listed(laptop) == set(ids)
    laptop.close()
