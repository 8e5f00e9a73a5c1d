"""The node-local index: keyed-hash name search, keyset pages; no plaintext personal data
in the node's SQLite files (design §5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from node.errors import Locked
from node.index import CaseIndex, name_tokens, normalize
from tests.node.conftest import PASSPHRASE

PEOPLE = [("欧阳娜娜", "13512340001", "410621195001011232"),
          ("王 建 军", "13512340002", "41062119600202104X")]


def _raw_files(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file()
                    and p.name.startswith(("store.sqlite", "index.sqlite")))


def test_name_tokens_normalize() -> None:
    assert normalize(" 王 建军 ") == "王建军"
    toks = name_tokens("王建军", "41062119600202104x")
    assert {"王建军", "建军", "41062119600202104x"} <= toks


def test_search_by_name_phone_id_and_number_and_no_plaintext(client: Any, node_dir: Path) -> None:
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    ids = []
    for name, phone, idno in PEOPLE:
        r = client.post("/api/consultations", json={"applicant_name": name, "phone": phone,
                                                     "id_number": idno, "question": "咨询事项"})
        assert r.status_code == 201, r.json
        ids.append(r.json["case_id"])

    def found(q: str) -> list[str]:
        return [row["case_id"] for row in client.get("/api/cases", query_string={"q": q}).json["rows"]]

    assert found("欧阳娜娜") == [ids[0]]
    assert found("娜娜") == [ids[0]]
    assert found("王建军") == [ids[1]] and found("王 建 军") == [ids[1]]
    assert found("13512340002") == [ids[1]]
    assert found("41062119600202104x") == [ids[1]]
    assert found("张三") == []
    case_no = client.get(f"/api/cases/{ids[0]}").json["header"]["case_no"]
    assert found(case_no) == [ids[0]] and ids[0] in found(case_no[:-2])
    node = client.application.extensions["bangban_node"]
    node.close()  # flush WAL into the files
    raw = _raw_files(node_dir)
    assert len(raw) > 10_000
    for name, phone, idno in PEOPLE:
        for value in (name, name.replace(" ", ""), phone, idno):
            for form in (value.encode(), json.dumps(value).encode()[1:-1]):
                assert form not in raw, f"{value!r} found in the node's files"


def test_hash_needs_the_unlocked_key(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "i.sqlite")
    with pytest.raises(Locked):
        index.search(q="王建军")
    index.name_key = b"k" * 32
    row = {"case_id": "c1", "case_no": "X-1", "institution": "410621100201", "status": "handling",
           "updated": "2026-11-26T00:00:00|a"}
    index.upsert(row, ["王建军"])
    assert [r["case_id"] for r in index.search(q="王建军").rows] == ["c1"]
    index.name_key = b"j" * 32  # another institution's key finds nothing
    assert index.search(q="王建军").rows == []
    index.close()


def test_keyset_pages_cover_everything_once(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "i.sqlite")
    rows: list[tuple[dict[str, Any], list[str]]] = [({"case_id": f"c{i:04d}", "case_no": f"N-{i:04d}", "institution": "410621100201",
              "status": "handling" if i % 3 else "completed",
              "updated": f"2026-11-{1 + i % 25:02d}T00:00:00|{i:04d}",
              "due": f"2026-12-{1 + i % 28:02d}", "limit_due": f"2026-12-{1 + i % 28:02d}"},
             []) for i in range(230)]
    index.upsert_many(rows)
    seen: list[str] = []
    cursor = None
    while True:
        page = index.search(cursor=cursor, limit=50)
        seen += [r["case_id"] for r in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 230 and len(set(seen)) == 230
    open_rows = index.search(view="open", limit=500).rows
    assert len(open_rows) == sum(1 for i in range(230) if i % 3)
    expected = {f"c{i:04d}" for i in range(230) if i % 3 and f"2026-12-{1 + i % 28:02d}" < "2026-12-10"}
    for view in ("overdue", "deadline_passed"):
        overdue: list[str] = []
        cursor = None
        while True:  # deadline views page by (due, case_id)
            page = index.search(view=view, today="2026-12-10", cursor=cursor, limit=7)
            overdue += [r["case_id"] for r in page.rows]
            dues = [r["due"] for r in page.rows]
            assert dues == sorted(dues)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert len(overdue) == len(set(overdue)) and set(overdue) == expected, view
    counts = index.counts(today="2026-12-10", soon="2026-12-13")
    assert counts["open"] == len(open_rows)
    assert counts["overdue"] == len(index.search(view="overdue", today="2026-12-10", limit=500).rows)
    index.close()


def test_pulled_cases_are_indexed_and_findable_once_opened(client: Any) -> None:
    """Pulled while locked: cleartext rows, the tokens owed; made after the unlock (a machine
    step: no access event), so the name finds the case before anyone opened it here."""
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    case_id = client.post("/api/consultations", json={"applicant_name": "司马光明",
                                                      "question": "咨询"}).json["case_id"]
    node = client.application.extensions["bangban_node"]
    node.index.clear()  # as if the documents had arrived by a pull
    node.lock()
    node.syncer.after_pull()  # locked: cleartext rows only
    assert node.index.get(case_id)["status"] == "consulting"
    assert node.index.tokenless(case_id)
    accesses = [e["_id"] for e in node.casework.events(case_id) if e["event_type"] == "access"]
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    assert node.owed.idle.wait(30)  # in the background (tests/node/test_unlock_tokens.py)
    assert not node.index.tokenless()
    assert accesses == [e["_id"] for e in node.casework.events(case_id)
                        if e["event_type"] == "access"]  # the unlock read nobody's data
    rows = client.get("/api/cases", query_string={"q": "光明"}).json["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


def test_a_row_replaces_the_old_one(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "i.sqlite")
    base = {"case_id": "c1", "case_no": "N-1", "institution": "410621100201",
            "updated": "2026-11-26T00:00:00|a"}
    index.upsert({**base, "status": "handling", "due": "2026-11-20", "limit_due": "2026-11-20"})
    assert index.counts(today="2026-11-26", soon="2026-11-29")["overdue"] == 1
    index.upsert({**base, "status": "completed", "due": None, "limit_due": None})
    row = index.get("c1")
    assert row is not None and row["due"] is None and row["closed"] == 1
    assert index.counts(today="2026-11-26", soon="2026-11-29")["overdue"] == 0
    index.close()
