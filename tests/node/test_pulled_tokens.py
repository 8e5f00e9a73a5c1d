"""A case the station's other laptop registered (or the town handed down) is found here by the
applicant's name, ID number or phone as soon as it is pulled, not only once opened here
(node.tokenmaker): the applicant back after lunch at laptop 2 was not found, and the clerk
opened a second case. Making the tokens reads nobody's data (no access event); listing the
case by a search and opening it still write theirs (design.md §5)."""

from __future__ import annotations

import copy
from typing import Any

from node.index import name_tokens
from tests.node.test_applicant_papers import _applied
from tests.node.test_two_laptops import _search

ID = "410602199001011231"
PHONE = "13912345678"


def _node(client: Any) -> Any:
    return client.application.extensions["bangban_node"]


def _accesses(n: Any, case_id: str) -> list[dict[str, Any]]:
    return [e for e in n.casework.events(case_id) if e["event_type"] == "access"]


def _as_pulled(n: Any) -> None:
    """As if the station's other laptop had written the cases: nothing of them is open in
    this laptop's memory or its index; the pull's catch-up reads them from the store."""
    n.reading._opened.clear()
    n.reading._keys.clear()
    n.reading._readers.clear()
    n.index.clear()
    n.index.set_meta("store_seq", "0")


def test_a_pulled_case_is_found_by_name_id_and_phone_without_an_access_event(
        unlocked: Any) -> None:
    case_id = _applied(unlocked, applicant_name="司马光明", id_type="resident_id",
                       id_number=ID, phone=PHONE)
    n = _node(unlocked)
    _as_pulled(n)
    before = len(_accesses(n, case_id))
    n.syncer.after_pull()
    assert len(_accesses(n, case_id)) == before  # a machine step: nobody read anything
    assert not n.index.tokenless(case_id)
    for q in ("司马光明", "光明", ID, PHONE):
        rows = unlocked.get("/api/cases", query_string={"q": q}).json["rows"]
        assert [r["case_id"] for r in rows] == [case_id], q
    found = _accesses(n, case_id)[before:]  # the search that listed it wrote its event
    assert [e["fields_read"] for e in found] == [["search"]]
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    assert len(_accesses(n, case_id)) == before + 2  # and opening it writes its own


def test_cases_pulled_while_locked_get_their_tokens_at_the_unlock(unlocked: Any) -> None:
    case_id = _applied(unlocked, applicant_name="欧阳春晓")
    n = _node(unlocked)
    _as_pulled(n)
    n.lock()
    n.syncer.after_pull()  # the keys open nothing while locked
    assert n.index.tokenless(case_id)
    from tests.node.conftest import PASSPHRASE

    assert unlocked.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    assert n.owed.idle.wait(30)  # made in the background (tests/node/test_unlock_tokens.py)
    rows = unlocked.get("/api/cases", query_string={"q": "春晓"}).json["rows"]
    assert [r["case_id"] for r in rows] == [case_id]
    assert not n.index.tokenless() and not n.index.owed_later()


def test_a_correction_made_on_the_other_laptop_stops_the_old_name_matching(
        unlocked: Any) -> None:
    """This laptop opened the case in the morning (its particulars are in memory); the
    other laptop corrected the name (更正) and the pull brought the new header: the tokens
    were made from the name in memory, so the old name still found the case and the new
    one did not."""
    case_id = _applied(unlocked, applicant_name="张小明")
    n = _node(unlocked)
    unlocked.get(f"/cases/{case_id}")
    old_opened = copy.deepcopy(n.reading._opened[case_id])
    old_clock = n.reading._header_clocks.get(case_id)
    seq = n.store.changes(since=0, limit=10_000)["last_seq"]
    r = unlocked.post(f"/api/cases/{case_id}/applicant",
                      json={"applicant_name": "张晓明", "phone": PHONE})
    assert r.status_code == 200, r.json
    # ... made on the other laptop: this one still holds the morning's name and tokens
    n.reading._opened[case_id] = old_opened
    n.reading._header_clocks[case_id] = old_clock
    old = old_opened[f"case:{case_id}"]
    n.index.upsert(n.index.get(case_id), name_tokens(old["applicant_name"], old["phone"]))
    n.index.set_meta("store_seq", str(seq))
    n.syncer.after_pull()
    assert f'href="/cases/{case_id}"' in _search(unlocked, "张晓明")
    assert f'href="/cases/{case_id}"' in _search(unlocked, PHONE)
    assert f'href="/cases/{case_id}"' not in _search(unlocked, "张小明")


def test_a_case_whose_wrap_arrives_later_is_counted_unfound_till_then(unlocked: Any) -> None:
    """The keyring came without a wrap for this station's key (the town's re-wrap is on its
    way): the case cannot be indexed yet and the note says so; when the wrap arrives, the
    keyring's change brings the tokens, and the note counts it no more."""
    case_id = _applied(unlocked, applicant_name="司马光明")
    other = _applied(unlocked, applicant_name="李四")
    n = _node(unlocked)
    ring = n.store.get(f"keyring:{case_id}")
    bare = copy.deepcopy(ring)
    mine = {k.key_id for k in n.keys.keychain.encryption_keys()}
    for gen in bare["data_keys"]:
        gen["wraps"] = [w for w in gen["wraps"] if w["key_id"] not in mine]
    assert n.store.bulk_docs([bare])[0].get("ok")
    _as_pulled(n)
    n.syncer.after_pull()
    assert n.index.tokenless() == 1 and n.index.tokenless(case_id)
    page = _search(unlocked, "司马光明")
    assert 'id="search-unfound"' in page and "本机另有 1 件办件" in page
    assert f'href="/cases/{other}"' in _search(unlocked, "李四")
    again = {**copy.deepcopy(ring), "_rev": n.store.get(f"keyring:{case_id}")["_rev"]}
    assert n.store.bulk_docs([again])[0].get("ok")  # the wrap arrives
    n.syncer.after_pull()
    assert not n.index.tokenless()
    page = _search(unlocked, "司马光明")
    assert f'href="/cases/{case_id}"' in page and 'id="search-unfound"' not in page


def test_a_catch_up_during_a_pull_leaves_the_tokens_to_the_round_s_end(unlocked: Any) -> None:
    """Making a case's tokens costs about what indexing it does (unwrapping its key, opening
    its header): the catch-ups during a first pull of thousands of cases list them without
    (the pull is not slowed), the round's end makes them."""
    from node.indexer import PullIndexer

    case_id = _applied(unlocked, applicant_name="司马光明")
    n = _node(unlocked)
    _as_pulled(n)
    PullIndexer(n).catch_up(1)
    assert n.index.get(case_id) and n.index.owed_later() == [case_id]
    n.syncer.after_pull()
    assert not n.index.tokenless()
    rows = unlocked.get("/api/cases", query_string={"q": "司马光明"}).json["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


def test_new_steps_of_a_case_keep_its_tokens_without_unwrapping_its_key(
        unlocked: Any, monkeypatch: Any) -> None:
    """A pull of the day's steps, or a refold of every case after an upgrade, touches cases
    whose header did not change: their tokens stand (made from that header revision), no
    key is unwrapped again for them (~0.5 ms a case: bench firstpull)."""
    from node.reading import Reader
    from tests.node.test_clerk_day import _step

    case_id = _applied(unlocked, applicant_name="司马光明")
    n = _node(unlocked)
    _as_pulled(n)
    n.syncer.after_pull()
    unwrapped: list[str] = []
    real = Reader.machine_key
    monkeypatch.setattr(Reader, "machine_key",
                        lambda self, cid: unwrapped.append(cid) or real(self, cid))
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="3").status_code == 302
    n.index.set_meta("store_seq", "0")  # every case folded again
    n.syncer.after_pull()
    assert unwrapped == [] and n.index.get(case_id)["status"] == "handling"
    rows = unlocked.get("/api/cases", query_string={"q": "司马光明"}).json["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


def test_cases_no_key_here_opened_get_their_tokens_once_the_keychain_gains_one(
        unlocked: Any, monkeypatch: Any) -> None:
    """A laptop that has not yet taken the institution's new key (`node keys import` after a
    rotation, design.md §5) pulls the cases wrapped for it: no key here opens them, owed
    till their keyring changes. The import changes no keyring: they stayed unfound by name
    (and counted so) until another laptop wrote to each. The unlock after the keychain
    changed tries them again."""
    from node.core import KEYCHAIN
    from node.errors import NodeError
    from node.keys import NodeKeys
    from node.reading import Reader
    from node.rotation import rotate_keys
    from tests.node.conftest import PASSPHRASE

    case_id = _applied(unlocked, applicant_name="司马光明")
    n = _node(unlocked)
    _as_pulled(n)
    real = Reader.machine_key

    def no_key(self: Any, cid: str) -> Any:
        raise NodeError("no wrap for this station's keys here yet", status=403,
                        error="no_case_key")

    monkeypatch.setattr(Reader, "machine_key", no_key)
    n.syncer.after_pull()
    assert n.index.tokenless(case_id) and not n.index.owed_later()
    monkeypatch.setattr(Reader, "machine_key", real)  # the key that opens it is imported
    n.lock()
    path = n.dir / KEYCHAIN
    rotate_keys(path, NodeKeys.unlock(path, PASSPHRASE, n.enrollment), PASSPHRASE)
    assert unlocked.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    assert n.owed.idle.wait(30)
    assert not n.index.tokenless()
    rows = unlocked.get("/api/cases", query_string={"q": "司马光明"}).json["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


def test_a_lock_while_tokens_are_hashed_does_not_fail_the_write(
        unlocked: Any, monkeypatch: Any) -> None:
    """The idle lock (another tab's request) clears the name key while a case's tokens are
    hashed: each token read the key again, so the next one raised Locked out of the index
    write (after a step was stored; at a sync round's end, node.tokenmaker.make_owed).
    The tokens are made with the key as it was read."""
    case_id = _applied(unlocked, applicant_name="司马光明")
    n = _node(unlocked)
    index = n.index
    real = index.hash_token

    def locking(token: str, *key: Any) -> bytes:
        out = real(token, *key)
        index.name_key = None  # the lock falls between two tokens
        return out

    monkeypatch.setattr(index, "hash_token", locking)
    index.upsert_many([(index.get(case_id) or {}, name_tokens("司马光明", PHONE))])
    assert not index.tokenless(case_id)
