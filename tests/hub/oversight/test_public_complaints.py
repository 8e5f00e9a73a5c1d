"""The public's own complaint page (11.1 online; 5 c) through Flask's test client: it
reaches the station sealed, the hub holding no plaintext; the same answer for a real and an
invented case number; per-address limits, CSRF, bounded fields, nothing shown back stored."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.errors import BadInput
from hub.oversight import Oversight
from hub.oversight import complaints as cmp
from hub.oversight import indicators as ind
from hub.oversight import public_complaints as pc
from hub.oversight.supervisors import add_supervisor
from tests.hub.conftest import TOWN, VILLAGE_A

RECEIPT = re.compile(r"TS-\d{8}-[A-Z2-9]{8}")
FORM = {"last4": "5678", "category": "attitude", "contact": "139 0000 1234",
        "text": "<script>alert('x')</script>窗口人员态度生硬，多次推诿"}


@pytest.fixture(autouse=True)
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The answer's padding (pc.ANSWER_SECONDS), recorded instead of slept."""
    naps: list[float] = []
    monkeypatch.setattr(pc, "_sleep", naps.append)
    return naps


@pytest.fixture(scope="module")
def app(world: Any) -> Iterator[Any]:
    from hub.app import create_app

    add_supervisor(world.hub, "town-pc", "town-pass-1", institution=TOWN, name="镇监督员")
    yield create_app(hub=world.hub)


_DAYS = itertools.count()


def _case(world: Any) -> tuple[str, str]:
    """A case of its own (sample cases of one start date share their ids)."""
    node = world.node(VILLAGE_A)
    start = dt.date(2026, 3, 2) + dt.timedelta(days=next(_DAYS))
    case_id = str(node.sample_cases(1, town=TOWN, scenarios=("assist_completed",),
                                    start=start)[0])
    world.round()
    ov = Oversight(world.hub)
    ov.catch_up(force=True)
    fact = ov.facts.get(case_id)
    assert fact is not None
    return case_id, str(fact.case_no)


def _client(app: Any, address: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _file(client: Any, **fields: str) -> Any:
    page = client.get(f"/oversight/public/{VILLAGE_A}/complaint")
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(f"/oversight/public/{VILLAGE_A}/complaint",
                       data={**FORM, "csrf": token, **fields})


def _hub_bytes(world: Any) -> bytes:
    """Every file of the hub's folder (its databases, their WAL), as a dump would hold."""
    return b"".join(p.read_bytes() for p in Path(world.hub.settings.hub_dir).rglob("*")
                    if p.is_file())


def test_a_public_complaint_reaches_the_station_sealed_and_is_tracked(app: Any,
                                                                      world: Any) -> None:
    case_id, number = _case(world)
    client = _client(app, "10.1.0.1")
    sent = _file(client, case=number, contact="139 0000 4321")
    assert sent.status_code == 303 and sent.location.endswith("/complaint/receipt")
    answer = client.get(sent.location)
    receipt = RECEIPT.search(answer.text).group(0)  # type: ignore[union-attr]
    assert client.get(sent.location).status_code == 302  # said once: a reload files nothing
    # the hub stores the event sealed; no file of the hub holds the text or the contact
    ev = [d for d in world.hub.stores.main.all_docs(
        startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0", include_docs=True,
        offset=False)["rows"] if d["doc"].get("event_type") == "complaint"]
    assert len(ev) == 1 and "sealed" in ev[0]["doc"] and "private" not in ev[0]["doc"]
    dump = _hub_bytes(world)
    assert b"139 0000 4321" not in dump and "多次推诿".encode() not in dump
    assert cmp.intake_forms(world.hub)[ev[0]["doc"]["hlc"]] == cmp.PUBLIC
    # tracked with its due date, counted in 5 c)
    ov = Oversight(world.hub)
    ov.catch_up(force=True)
    today = dt.date.today().isoformat()[:7]
    rows = [r for r in ind.complaints(ov.facts.reader(), "", today, today)
            if r["case_id"] == case_id]
    assert len(rows) == 1 and rows[0]["due"] > rows[0]["received_on"] and rows[0]["by_hub"]
    # the station opens it: the receipt and the applicant's last 4 digits to check
    world.round()
    node = world.node(VILLAGE_A)
    private = node.case_key(case_id)._open(node.store.get(ev[0]["id"]))
    assert private["contact"] == "139 0000 4321" and receipt in private["text"]
    assert "5678" in private["text"] and "身份未核实" in private["text"]
    assert private["text"].endswith(FORM["text"])
    # the supervisor's tracking list names it filed by the public, with its receipt
    sup = _client(app, "10.1.0.2")
    page = sup.get("/oversight/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    sup.post("/oversight/login", data={"login": "town-pc", "password": "town-pass-1",
                                       "csrf": token})
    listed = sup.get("/oversight/complaints")
    assert listed.status_code == 200 and receipt in listed.text
    assert "网上自助（身份未核实）" in listed.text


def test_a_real_and_an_invented_number_get_the_same_answer(app: Any, world: Any) -> None:
    _case_id, number = _case(world)
    answers = []
    for address, case in (("10.2.0.1", number), ("10.2.0.2", "410602101201-2026-A1-99999")):
        client = _client(app, address)
        sent = _file(client, case=case)
        assert sent.status_code == 303
        answer = client.get(sent.location)
        answers.append((sent.location, RECEIPT.sub("R", answer.text)))
    assert answers[0] == answers[1]
    # the invented one is kept without its text, listed for a supervisor to tell a caller
    records = pc._records(world.hub)
    invented = [d for d in records if not d.get("complaint")]
    assert invented and "text" not in invented[-1] and "contact" not in invented[-1]
    assert pc.unmatched(world.hub, lambda code: code.startswith(TOWN))
    assert not pc.unmatched(world.hub, lambda code: code.startswith("410621"))
    later = dt.date.today() + dt.timedelta(days=pc.UNMATCHED_DAYS + 1)
    assert not pc.unmatched(world.hub, lambda code: True, today=later)  # a quarter back


def test_a_real_and_an_invented_number_are_answered_after_the_same_time(
        app: Any, world: Any, slept: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    """Sealing and storing a case's event took ~30 ms, the invented number's record ~3 ms:
    the time of the answer told whether a number exists. Both are padded to ANSWER_SECONDS
    (a clock that reads the work as 40 ms and 3 ms: the sleeps make up the rest)."""
    _case_id, number = _case(world)
    ticks = iter([100.0, 100.04, 200.0, 200.003])
    monkeypatch.setattr(pc, "_clock", lambda: next(ticks))
    for address, case in (("10.9.0.1", number), ("10.9.0.2", "NO-SUCH-TIME")):
        assert _file(_client(app, address), case=case).status_code == 303
    assert slept == pytest.approx([pc.ANSWER_SECONDS - 0.04, pc.ANSWER_SECONDS - 0.003])


def test_an_address_files_a_few_an_hour(app: Any, world: Any) -> None:
    limit = int(world.hub.settings.public_complaints_per_hour)
    client = _client(app, "10.3.0.1")
    for i in range(limit):
        assert _file(client, case=f"NO-SUCH-{i}").status_code == 303
    refused = _file(client, case="NO-SUCH-X")
    assert refused.status_code == 429 and "分钟后再试" in refused.text
    assert _file(_client(app, "10.3.0.2"), case="NO-SUCH-Y").status_code == 303


def test_filings_at_once_are_bounded_per_gateway(app: Any, world: Any) -> None:
    """Each filing holds a request thread for ANSWER_SECONDS: a crowd of addresses would hold
    every thread of the gateway and the stations' syncs would wait."""
    before = len(pc._records(world.hub))
    held = 0
    while pc.SLOTS.acquire(blocking=False):  # the filings already in progress
        held += 1
    try:
        sent = _file(_client(app, "10.10.0.1"), case="NO-SUCH-BUSY")
    finally:
        for _ in range(held):
            pc.SLOTS.release()
    assert held >= 1 and sent.status_code == 503 and "一分钟后" in sent.text
    assert len(pc._records(world.hub)) == before
    assert _file(_client(app, "10.10.0.1"), case="NO-SUCH-BUSY").status_code == 303


def test_a_body_beyond_a_form_s_size_is_refused_unread(app: Any, world: Any) -> None:
    """The hub takes 64 MiB from stations; a passer-by's form is refused past 32 KiB, not
    read and parsed first (a field's own limit would answer only after)."""
    before = len(pc._records(world.hub))
    sent = _file(_client(app, "10.11.0.1"), case="NO-SUCH-BIG", text="x" * 40_000)
    assert sent.status_code == 413
    assert len(pc._records(world.hub)) == before


def test_a_form_without_its_token_files_nothing(app: Any, world: Any) -> None:
    before = len(pc._records(world.hub))
    client = _client(app, "10.4.0.1")
    sent = client.post(f"/oversight/public/{VILLAGE_A}/complaint",
                       data={**FORM, "case": "NO-SUCH-CSRF", "csrf": "forged"})
    assert sent.status_code == 400 and "表单已过期" in sent.text
    assert len(pc._records(world.hub)) == before
    # what was typed comes back escaped, never as markup
    assert "<script>alert" not in sent.text and "&lt;script&gt;" in sent.text


def test_a_case_that_cannot_be_sealed_now_is_not_named(app: Any, world: Any, slept: list[float],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _case_id, number = _case(world)

    def no_keyring(*_a: Any, **_k: Any) -> Any:
        raise BadInput("case: the hub has no keyring of this case yet")

    monkeypatch.setattr(cmp, "take_complaint", no_keyring)
    sent = _file(_client(app, "10.5.0.1"), case=number)
    assert sent.status_code == 503 and "keyring" not in sent.text and "稍后再试" in sent.text
    assert len(slept) == 1  # answered no sooner than a filing is


def test_an_unknown_institution_is_404(app: Any) -> None:
    assert _client(app, "10.6.0.1").get("/oversight/public/999/complaint").status_code == 404


@pytest.mark.parametrize(("field", "value"), [
    ("case", ""), ("case", "9" * 65), ("last4", "12a4"), ("last4", "123"),
    ("category", "rude"), ("text", " "), ("text", "长" * (pc.MAX_TEXT + 1)),
    ("contact", ""), ("contact", "call me <b>"), ("contact", "1" * 41)])
def test_each_field_has_its_rule(field: str, value: str) -> None:
    with pytest.raises(BadInput, match=f"^400 bad_request: {field}:"):
        pc.check_form({**FORM, "case": "X-1", field: value})


def test_the_disclosure_page_links_to_the_form_and_the_form_is_not_cached(app: Any) -> None:
    client = _client(app, "10.7.0.1")
    page = client.get(f"/oversight/public/{VILLAGE_A}")
    assert f'href="/oversight/public/{VILLAGE_A}/complaint"' in page.text
    form = client.get(f"/oversight/public/{VILLAGE_A}/complaint")
    # it carries a token tied to this visitor's cookie: never kept by a shared cache
    assert form.headers["Cache-Control"] == "no-store"


def test_a_refusal_on_the_public_pages_sends_nobody_to_the_supervisors_login(app: Any) -> None:
    """The error page's "back to the overview" led a citizen to a login they never had."""
    page = _client(app, "10.8.0.1").get("/oversight/public/999/complaint",
                                        headers={"Accept": "text/html"})
    assert page.status_code == 404 and "返回总览" not in page.text
