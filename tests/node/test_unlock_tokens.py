"""The unlock answers after scrypt; the search tokens owed by the cases pulled while locked
are made afterwards, in the background (node.tokenmaker.OwedTokens), and until they are the
search page says how many cases a name may miss. The unlock made them all before it
answered: after a first pull of 10,000 cases the clerk waited 5–10 s at the unlock page.

The worker is held inside its first case's key (``Reader.machine_key``) by an event, so
each test sees it mid-way; the hold gives up after :data:`HOLD` seconds, so on a version
that makes the tokens inside the unlock the test fails instead of hanging."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from node.reading import Reader
from node.syncer import wait_for
from tests.node.conftest import PASSPHRASE, csrf
from tests.node.test_applicant_papers import _applied
from tests.node.test_pulled_tokens import _as_pulled, _node
from tests.node.test_two_laptops import _search

NAMES = ("司马光明", "欧阳春晓", "诸葛明月")
HOLD = 60.0  # seconds a held worker waits for the test at most (the test's pages meanwhile
# take seconds on a loaded 2-core machine; a passing test releases it long before)
DONE = 30.0  # seconds the test waits for the worker at most


class Gate:
    """Holds whoever asks the first case key of a machine step till :meth:`go`."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.threads: list[str] = []

    def go(self) -> None:
        self.release.set()


@pytest.fixture
def gate(monkeypatch: Any) -> Iterator[Gate]:
    g = Gate()
    real = Reader.machine_key

    def held(self: Any, case_id: str) -> Any:
        g.threads.append(threading.current_thread().name)
        if not g.held.is_set():
            g.held.set()
            g.release.wait(HOLD)
        return real(self, case_id)

    monkeypatch.setattr(Reader, "machine_key", held)
    yield g
    g.go()  # a test that failed midway leaves no thread waiting


def _owing(client: Any) -> tuple[Any, list[str]]:
    """Cases written by the station's other laptop and pulled while this one was locked
    (the sync loop runs locked): each owes its search tokens."""
    ids = [_applied(client, applicant_name=name) for name in NAMES]
    n = _node(client)
    _as_pulled(n)
    n.lock()
    n.syncer.after_pull()
    assert n.index.tokenless() == len(ids)
    return n, ids


def _unlock(client: Any) -> None:
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200


def _found(client: Any, name: str) -> list[str]:
    return [r["case_id"] for r in client.get("/api/cases", query_string={"q": name}).json["rows"]]


def test_the_unlock_answers_before_the_owed_tokens_are_made(unlocked: Any, gate: Gate) -> None:
    n, ids = _owing(unlocked)
    _unlock(unlocked)
    # the unlock has answered: no token made yet, none by the request's own thread
    assert n.index.tokenless() == len(ids)
    assert gate.held.wait(DONE)  # the background thread is at its first case
    page = _search(unlocked, NAMES[1])
    assert 'id="search-indexing"' in page and "本机正在为 3 件办件建立检索记录" in page
    assert 'id="search-unfound"' not in page  # not "no key opens them": they are on their way
    unlocked.post("/lang", data={"csrf": csrf(unlocked), "lang": "en", "next": "/"})
    assert "A search by name, ID number or phone may miss 3 cases still being indexed" in \
        _search(unlocked, NAMES[1])
    gate.go()
    assert wait_for(lambda: not n.index.tokenless(), DONE)
    assert threading.current_thread().name not in gate.threads
    for case_id, name in zip(ids, NAMES, strict=True):
        assert _found(unlocked, name) == [case_id]
    assert 'id="search-indexing"' not in _search(unlocked, NAMES[1])


def test_a_lock_stops_the_work_and_the_next_unlock_resumes_it(
        unlocked: Any, gate: Gate, monkeypatch: Any) -> None:
    """The clerk locks (or the idle lock falls) while the tokens are made: the batch at
    work is dropped whole, no further one starts, and what is left stays owed for the next
    unlock, which makes it."""
    from node import tokenmaker

    monkeypatch.setattr(tokenmaker, "BATCH", 1, raising=False)  # a batch a case: the lock falls between
    n, ids = _owing(unlocked)
    _unlock(unlocked)
    assert n.index.tokenless() == len(ids)
    assert gate.held.wait(DONE)
    unlocked.post("/api/lock", json={})
    assert not n.unlocked
    gate.go()
    assert n.owed.idle.wait(DONE)  # the thread has ended
    assert n.index.tokenless(later=True) == len(ids)  # all still owed, for later
    _unlock(unlocked)
    assert wait_for(lambda: not n.index.tokenless(), DONE)
    for case_id, name in zip(ids, NAMES, strict=True):
        assert _found(unlocked, name) == [case_id]


def test_an_unlock_while_the_thread_ends_for_a_lock_is_not_missed(
        unlocked: Any, gate: Gate, monkeypatch: Any) -> None:
    """Locked, then unlocked again as the thread, stopped by the lock, was ending: the new
    unlock finds it still there and it goes round again, instead of leaving the tokens
    owed till the unlock after."""
    from node import tokenmaker

    monkeypatch.setattr(tokenmaker, "BATCH", 1, raising=False)
    n, ids = _owing(unlocked)
    ended, resume = threading.Event(), threading.Event()
    real = tokenmaker.make_owed

    def held(*args: Any, **kwargs: Any) -> int:
        made = real(*args, **kwargs)
        if not ended.is_set():
            ended.set()
            resume.wait(HOLD)
        return made

    monkeypatch.setattr(tokenmaker, "make_owed", held)
    _unlock(unlocked)
    assert n.index.tokenless() == len(ids)
    assert gate.held.wait(DONE)
    unlocked.post("/api/lock", json={})
    gate.go()
    assert ended.wait(DONE)  # the lock stopped the work; the thread is about to end
    _unlock(unlocked)
    resume.set()
    assert wait_for(lambda: not n.index.tokenless(), DONE)
    assert n.owed.idle.wait(DONE)


def test_a_correction_written_while_a_batch_is_made_keeps_its_new_name(
        unlocked: Any, gate: Gate) -> None:
    """The clerk corrects a name (更正) on a case whose tokens the background batch is making
    from the header it read before: the write's tokens (the new name) stand, the batch's
    (the old name) are not written over them."""
    n, ids = _owing(unlocked)
    _unlock(unlocked)
    assert n.index.tokenless() == len(ids)
    assert gate.held.wait(DONE)  # the first case's header is read, its key asked for
    first = min(ids)  # the batch goes in case id order
    r = unlocked.post(f"/api/cases/{first}/applicant", json={"applicant_name": "张晓明"})
    assert r.status_code == 200, r.json
    gate.go()
    assert wait_for(lambda: not n.index.tokenless(), DONE)
    assert n.owed.idle.wait(DONE)
    assert _found(unlocked, "张晓明") == [first]
    old = NAMES[ids.index(first)]
    assert _found(unlocked, old) == []


def test_closing_the_node_lets_the_batch_end_and_leaves_the_rest_owed(
        unlocked: Any, gate: Gate, monkeypatch: Any) -> None:
    """The process ends (``node serve`` stopped) while the tokens are made: the batch at
    work is written whole, no other starts, the rest stays owed in the file."""
    import sqlite3

    from node import tokenmaker

    monkeypatch.setattr(tokenmaker, "BATCH", 1, raising=False)
    n, ids = _owing(unlocked)
    _unlock(unlocked)
    assert n.index.tokenless() == len(ids)
    assert gate.held.wait(DONE)
    path = n.index.path
    closing = threading.Thread(target=n.close)
    closing.start()
    # released only once the close has asked the thread to stop: released before, the
    # worker (a batch a case) went on to the next batch while the closing thread had not
    # run yet on a loaded machine, and made them all
    assert wait_for(n.owed._stop.is_set, DONE)
    gate.go()
    closing.join(DONE)
    assert not closing.is_alive() and n.owed.idle.is_set()
    with sqlite3.connect(path) as db:
        owed = db.execute("SELECT count(*) FROM tokens_owed WHERE later = 1").fetchone()[0]
        made = db.execute("SELECT count(*) FROM tokens_made").fetchone()[0]
    assert (owed, made) == (len(ids) - 1, 1)
