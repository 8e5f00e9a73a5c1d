"""Bad input at the node's JSON API never makes a 5xx and never loses what is stored.

The brief: "bad input gets a clear error naming the field and the rule, and nothing already
stored is lost". Hypothesis sends every step type arbitrary members (the schema's own field
names with values of any JSON type, and unknown ones), consultations likewise, and list
queries with arbitrary arguments; every answer must be below 500, a refusal must be JSON with
``error`` and ``reason``, and every document stored before must still be there after.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.app import create_app
from schemas.event_types import EVENT_SCHEMAS
from tests.node.conftest import PASSPHRASE, make_node_dir

EXAMPLES = int(os.environ.get("BANGBAN_FUZZ_EXAMPLES", "300"))

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=30)
           | st.sampled_from(["2026-11-26", "2026-02-30", "assist", "proxy", "a", "",
                              "2026-11-26T10:00:00+08:00", "iVBORw0KGgo=", "410621100201"]))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)
EVENT_FIELDS = sorted({name for schema in EVENT_SCHEMAS.values() for name in schema().fields}
                      | {"private", "signature_png_base64", "have", "applicant_name", "phone"})
bodies = st.dictionaries(st.sampled_from(EVENT_FIELDS) | st.text(max_size=8), values,
                         max_size=6)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, str]]:
    folder = make_node_dir(Path(tmp_path_factory.mktemp("fuzz")) / "node",
                           institution_path=["410600", "410621", "410621100", "410621100201"])
    app = create_app({"node_dir": str(folder), "sync_interval": 0, "secret_key": "test",
                      "TESTING": True})
    client = app.test_client()
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    case_id = client.post("/api/consultations", json={
        "applicant_name": "甲", "question": "问"}).json["case_id"]
    yield app, client, case_id
    app.extensions["bangban_node"].close()


def _ids(app: Any) -> set[str]:
    return {r["id"] for r in app.extensions["bangban_node"].store.all_docs()["rows"]}


def _check(resp: Any) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True)[:400])
    if resp.status_code >= 400:
        body = json.loads(resp.get_data())
        assert body.get("error") and body.get("reason"), body


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(event_type=st.sampled_from(sorted(EVENT_SCHEMAS) + ["nonsense", "..", "%00"]),
       body=bodies | values)
def test_steps_with_any_body(api: tuple[Any, Any, str], event_type: str, body: Any) -> None:
    app, client, case_id = api
    before = _ids(app)
    _check(client.post(f"/api/cases/{case_id}/events/{event_type}", json=body))
    assert before <= _ids(app)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=bodies | values, raw=st.none() | st.binary(max_size=40))
def test_consultations_with_any_body(api: tuple[Any, Any, str], body: Any,
                                     raw: bytes | None) -> None:
    app, client, _ = api
    before = _ids(app)
    if raw is None:
        resp = client.post("/api/consultations", json=body)
    else:
        resp = client.post("/api/consultations", data=raw, content_type="application/json")
    _check(resp)
    assert before <= _ids(app)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(["q", "view", "status", "item", "after", "limit",
                                              "institution", "x"]),
                             st.text(max_size=20) | st.sampled_from(
                                 ["open", "overdue", "due_soon", "handed_up", "-1", "99999999999"]),
                             max_size=4),
       case=st.text(max_size=20) | st.just("CASE"))
def test_reads_with_any_arguments(api: tuple[Any, Any, str], query: dict[str, str],
                                  case: str) -> None:
    app, client, case_id = api
    _check(client.get("/api/cases", query_string=query))
    _check(client.get("/api/cases/" + (case_id if case == "CASE" else case.replace("/", "_")
                                       or "x")))
    _check(client.get("/api/town"))


def _form_client(app: Any) -> Any:
    from tests.node.conftest import csrf

    client = app.test_client()
    token = csrf(client)
    assert client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": token}).status_code == 302
    return client, token


form_values = st.text(max_size=30) | st.sampled_from(
    ["", "0", "-1", "1e9", "2026-02-30", "on", "410621100201", "9" * 30, "a\nb", "\x00"])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(event_type=st.sampled_from(sorted(EVENT_SCHEMAS)),
       form=st.dictionaries(st.sampled_from(EVENT_FIELDS + ["materials", "signature_data"]),
                            form_values | st.lists(form_values, max_size=3), max_size=6),
       page=st.sampled_from(["/cases/", "/consultations/new", "/town/", "/sync/", "/"]),
       query=st.dictionaries(st.sampled_from(["q", "view", "status", "item", "after",
                                              "printed", "next"]), form_values, max_size=3))
def test_the_clerks_forms_with_any_input(api: tuple[Any, Any, str], event_type: str,
                                         form: dict[str, Any], page: str,
                                         query: dict[str, str]) -> None:
    """The HTML forms (what a clerk's browser posts: text only) and the pages' arguments."""
    app, _, case_id = api
    client, token = _form_client(app)
    before = _ids(app)
    resp = client.post(f"/cases/{case_id}/steps/{event_type}", data={**form, "csrf": token})
    assert resp.status_code < 500, resp.get_data(as_text=True)[:400]
    resp = client.post("/consultations/", data={**form, "csrf": token})
    assert resp.status_code < 500, resp.get_data(as_text=True)[:400]
    assert client.get(page, query_string=query).status_code < 500
    assert client.get(f"/cases/{case_id}", query_string=query).status_code < 500
    assert before <= _ids(app)
