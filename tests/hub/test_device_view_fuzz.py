"""An attacker with one enrolled device's credentials, against the hub's device endpoint.

test_endpoint_fuzz.py throws arbitrary bytes at it and checks the status; here hypothesis
builds *structured* requests for every route a CouchDB client uses (``_changes`` with every
query parameter CouchDB has, ``_revs_diff``, ``_bulk_get``, ``_bulk_docs`` of real signed
documents replayed, mutated or taken from another village, ``_all_docs`` ranges and keys,
documents with ``rev``/``revs``/``open_revs``/``atts_since``, attachments, ``_local/`` and
``_design/`` ids, odd methods, gzip bodies), with real ids and revisions of both villages,
and checks after every answer (issue 6, design.md §5):

* no 5xx, and a refusal is CouchDB-shaped (``error`` and ``reason``);
* nothing of another institution's cases appears in any answer: not a case id, not a
  ciphertext, not a signature, not a revision, unless the request itself carried it;
* another institution's documents never change, and a refused request stores nothing.

It runs as a village device (against another village's cases) and as the town (against a
village case that was never handed up to it). ``BANGBAN_FUZZ_EXAMPLES=5000`` digs deeper,
``BANGBAN_FUZZ_RANDOM=1`` with other examples than CI's.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.http.routing import NOT_IMPLEMENTED
from tests.hub.conftest import TOWN, VILLAGE_A, VILLAGE_B, World, open_world

EXAMPLES = int(os.environ.get("BANGBAN_FUZZ_EXAMPLES", "150"))
#: CI runs the same examples every time; ``BANGBAN_FUZZ_RANDOM=1`` draws new ones.
DERANDOMIZE = not os.environ.get("BANGBAN_FUZZ_RANDOM")


class Target:
    """The world as one attacking device sees it, and what it must never learn."""

    def __init__(self, world: World, client: Any, auth: dict[str, str], prefix: str,
                 own: list[dict[str, Any]], foreign: list[dict[str, Any]],
                 secrets: list[str], foreign_cases: list[str]) -> None:
        self.world, self.client, self.auth, self.prefix = world, client, auth, prefix
        self.own = own            # documents the device may see (its cases, reference data)
        self.foreign = foreign    # another institution's case documents
        self.secrets = secrets    # strings of ``foreign`` found in no document of ``own``
        self.foreign_cases = foreign_cases

    def __repr__(self) -> str:  # hypothesis prints it with every failing example
        return "Target(...)"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _case_docs(world: World, case_id: str) -> list[dict[str, Any]]:
    main = world.hub.stores.main
    ids = [r["id"] for r in main.all_docs()["rows"] if case_id in r["id"]]
    return [main.get(i, revs=True) for i in ids]


#: The embedded store in CI (test_endpoint_fuzz.py fuzzes the CouchDB backend too);
#: ``BANGBAN_FUZZ_COUCHDB=1`` runs these structured requests on PouchDB Server as well.
BACKENDS = ["embedded"] + (["couchdb"] if os.environ.get("BANGBAN_FUZZ_COUCHDB") else [])


@pytest.fixture(scope="module", params=BACKENDS)
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[World, dict[str, str]]]:
    """Village A's case, village B's case, and a second B case handed up to the town."""
    url = request.getfixturevalue("couchdb_url") if request.param == "couchdb" else ""
    with open_world(Path(tmp_path_factory.mktemp("view-fuzz")), couchdb_url=url) as w:
        a, b = w.node(VILLAGE_A), w.node(VILLAGE_B)
        cases = {"a": a.new_case(), "b": b.new_case(), "b_up": b.new_case()}
        w.sync()
        b.hand_up(cases["b_up"], TOWN)
        w.round()
        yield w, cases


@pytest.fixture(scope="module", params=["village", "town"])
def target(request: pytest.FixtureRequest, planted: tuple[World, dict[str, str]]) -> Target:
    from hub.app import create_app

    world, cases = planted
    if request.param == "village":  # A against both of B's cases
        node, own_cases, foreign_cases = world.node(VILLAGE_A), ["a"], ["b", "b_up"]
    else:  # the town holds the handed-up case, never B's other one, nor A's
        node, own_cases, foreign_cases = world.node(TOWN), ["b_up"], ["a", "b"]
    main = world.hub.stores.main
    reference = [main.get(r["id"]) for r in main.all_docs()["rows"]
                 if not r["id"].startswith(("case:", "event:", "keyring:", "chunk:"))]
    own = [d for c in own_cases for d in _case_docs(world, cases[c])] + reference
    foreign = [d for c in foreign_cases for d in _case_docs(world, cases[c])]
    seen = "\n".join(json.dumps(d, ensure_ascii=False) for d in own)
    secrets = sorted({s for d in foreign for s in _strings(d) if len(s) >= 16 and s not in seen}
                     | {cases[c] for c in foreign_cases})
    assert any(cases[foreign_cases[0]] == s for s in secrets) and len(secrets) > 20
    token = base64.b64encode(f"{node.device_id}:{node.secret}".encode()).decode()
    return Target(world, create_app(hub=world.hub).test_client(),
                  {"Authorization": f"Basic {token}"}, world.hub.stores.prefix, own, foreign,
                  secrets, [cases[c] for c in foreign_cases])


# -- building blocks ---------------------------------------------------------------------------

ODD_IDS = ["directory", "institution:410602101202", "device:410602101202-A1", "_design/x",
           "_local/x", "_local/", "case:", "event:x:y", "board:410602101202", "notice:x",
           "chunk:x:" + "0" * 64, "case:" + "x" * 3000, "案件:甲", "a/b", "a%2Fb", "\u0000",
           "_all_docs", "_changes", ""]
ODD_REVS = ["1-abc", "0-", "x", "1-" + "0" * 32, "99999999999999999999999-a", "2-", "-1-a"]


def ids(t: Target) -> st.SearchStrategy[str]:
    return (st.sampled_from([d["_id"] for d in t.own + t.foreign]) | st.sampled_from(ODD_IDS)
            | st.text(max_size=12))


def revs(t: Target) -> st.SearchStrategy[str]:
    return st.sampled_from([d["_rev"] for d in t.own + t.foreign]) | st.sampled_from(ODD_REVS)


json_leaf = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
             | st.floats(allow_nan=False) | st.text(max_size=10))
json_any = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3)
                        | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=12)
flags = st.sampled_from(["true", "false", "1", "", "yes"])


def _mutate(doc: dict[str, Any], draw: Any, t: Target) -> dict[str, Any]:
    """A real document changed the way a replay or a forgery changes it."""
    out = {k: v for k, v in doc.items() if k != "_revisions"}
    how = draw(st.sampled_from(["replay", "no_rev", "revisions", "field", "drop", "deleted",
                                "other_id", "rev"]))
    if how == "no_rev":
        out.pop("_rev", None)
    elif how == "revisions":
        out.pop("_rev", None)
        out["_revisions"] = doc.get("_revisions") or draw(json_any)
    elif how == "field":
        out[draw(st.sampled_from(sorted(out)))] = draw(json_any)
    elif how == "drop":
        out.pop(draw(st.sampled_from(sorted(out))), None)
    elif how == "deleted":
        out["_deleted"] = True
    elif how == "other_id":
        out["_id"] = draw(ids(t))
    elif how == "rev":
        out["_rev"] = draw(revs(t))
    return out


@st.composite
def bulk_doc(draw: Any, t: Target) -> Any:
    kind = draw(st.sampled_from(["own", "foreign", "random"]))
    if kind == "random":
        return draw(st.fixed_dictionaries({"_id": ids(t)}, optional={
            "_rev": revs(t), "type": st.sampled_from(["case", "event", "keyring", "thing"]),
            "_deleted": st.booleans(), "case_id": json_any, "_attachments": json_any}))
    return _mutate(draw(st.sampled_from(t.own if kind == "own" else t.foreign)), draw, t)


@st.composite
def changes_query(draw: Any, t: Target) -> dict[str, str]:
    feed = draw(st.sampled_from(["normal", "longpoll", "continuous", "live", "eventsource", "x"]))
    q: dict[str, str] = {"feed": feed}
    if feed in ("longpoll", "continuous", "live"):
        q["timeout"] = str(draw(st.integers(0, 20)))  # a valid longpoll waits its timeout
    options = {
        "since": st.sampled_from(["0", "now", "1~1", "0~0", "x~y", "~", "1", "-1~0",
                                  "99999999999999999999~0", '"0"', "[]"]) | st.text(max_size=8),
        "limit": st.sampled_from(["0", "1", "-1", "2", "x", "1e3", str(2**70)]),
        "style": st.sampled_from(["main_only", "all_docs", "x"]),
        "filter": st.sampled_from(["_doc_ids", "_selector", "_view", "ddoc/f", ""]),
        "doc_ids": st.lists(ids(t), max_size=4).map(json.dumps) | st.text(max_size=6),
        "selector": json_any.map(json.dumps),
        "descending": flags, "include_docs": flags, "conflicts": flags, "attachments": flags,
        "att_encoding_info": flags, "seq_interval": st.sampled_from(["1", "0", "x", "10"]),
        "since_seq": st.text(max_size=4), "last-event-id": st.sampled_from(["0", "1~1", "x"]),
    }
    if feed not in ("longpoll", "continuous", "live"):  # a heartbeat keeps a feed open
        options["heartbeat"] = st.sampled_from(["true", "1000", "0", "-1", "x"])
        options["timeout"] = st.sampled_from(["0", "10", "-5", "x"])
    for name in draw(st.lists(st.sampled_from(sorted(options)), max_size=5, unique=True)):
        q[name] = draw(options[name])
    return q


def _path(t: Target, docid: str, *rest: str) -> str:
    # "/" in an id is sent as %2F, as CouchDB clients do; sometimes left raw
    return "/".join([quote(docid, safe=":")] + [quote(r) for r in rest])


@st.composite
def requests(draw: Any, t: Target) -> tuple[str, str, dict[str, str], Any]:
    """(method, path below the database, query, JSON body or bytes or None)."""
    route = draw(st.sampled_from(["info", "changes", "revs_diff", "bulk_get", "bulk_docs",
                                  "all_docs", "doc", "attachment", "local", "design",
                                  "misc"]))
    if route == "info":
        return draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE"])), "", {}, None
    if route == "changes":
        q = draw(changes_query(t))
        if draw(st.booleans()):
            body = draw(st.fixed_dictionaries({}, optional={
                "doc_ids": st.lists(ids(t), max_size=4) | json_any, "selector": json_any}))
            return "POST", "_changes", q, body
        return "GET", "_changes", q, None
    if route == "revs_diff":
        body = draw(st.dictionaries(ids(t), st.lists(revs(t), max_size=3) | json_any,
                                    max_size=4))
        return "POST", draw(st.sampled_from(["_revs_diff", "_missing_revs"])), {}, body
    if route == "bulk_get":
        items = st.fixed_dictionaries({"id": ids(t)}, optional={
            "rev": revs(t), "atts_since": st.lists(revs(t), max_size=2) | json_any})
        q = draw(st.dictionaries(st.sampled_from(["revs", "attachments", "latest"]), flags))
        return "POST", "_bulk_get", q, {"docs": draw(st.lists(items | json_any, max_size=4))}
    if route == "bulk_docs":
        body: dict[str, Any] = {"docs": draw(st.lists(bulk_doc(t), min_size=1, max_size=3))}
        if draw(st.booleans()):
            body["new_edits"] = draw(st.booleans() | json_any)
        return "POST", "_bulk_docs", {}, body
    if route == "all_docs":
        opts = {"keys": st.lists(ids(t), max_size=4).map(json.dumps) | json_any.map(json.dumps),
                "startkey": ids(t).map(json.dumps), "endkey": ids(t).map(json.dumps),
                "key": ids(t).map(json.dumps), "limit": st.sampled_from(["0", "2", "-1", "x"]),
                "skip": st.sampled_from(["0", "1", "-1"]), "include_docs": flags,
                "descending": flags, "inclusive_end": flags, "conflicts": flags}
        q = {n: draw(opts[n]) for n in draw(st.lists(st.sampled_from(sorted(opts)),
                                                     max_size=4, unique=True))}
        if draw(st.booleans()):
            return "POST", "_all_docs", q, {"keys": draw(st.lists(ids(t), max_size=4))}
        return "GET", "_all_docs", q, None
    if route in ("doc", "design"):
        docid = draw(ids(t)) if route == "doc" else "_design/" + draw(st.text(max_size=6))
        method = draw(st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "COPY", "POST"]))
        opts = {"rev": revs(t), "revs": flags, "revs_info": flags, "conflicts": flags,
                "meta": flags, "latest": flags, "attachments": flags, "new_edits": flags,
                "open_revs": st.sampled_from(["all", "[]", "x"])
                | st.lists(revs(t), max_size=3).map(json.dumps),
                "atts_since": st.lists(revs(t), max_size=2).map(json.dumps)}
        q = {n: draw(opts[n]) for n in draw(st.lists(st.sampled_from(sorted(opts)),
                                                     max_size=4, unique=True))}
        body = draw(bulk_doc(t)) if method == "PUT" else None
        return method, _path(t, docid), q, body
    if route == "attachment":
        docid = draw(ids(t))
        method = draw(st.sampled_from(["GET", "PUT", "DELETE"]))
        q = {"rev": draw(revs(t))} if draw(st.booleans()) else {}
        name = draw(st.sampled_from(["scan.png", "data", "_x", "a/b", "图"]))
        return method, _path(t, docid, name), q, b"\x89PNG" if method == "PUT" else None
    if route == "local":
        name = draw(st.sampled_from(["x", "", "%2F", "../x", "a/b", "x" * 300, "检查点"])
                    | st.text(max_size=8))
        method = draw(st.sampled_from(["GET", "PUT", "DELETE"]))
        body = draw(st.dictionaries(st.sampled_from(["_rev", "_id", "history", "x"]), json_any,
                                    max_size=3)) if method == "PUT" else None
        return method, "_local/" + quote(name, safe=""), {}, body
    path = draw(st.sampled_from(["_ensure_full_commit", "_session", "_revs_limit", "_compact",
                                 "_security", "_design_docs", "_all_docs/queries", "_find",
                                 "_purge", "_bulk_docs/x", "_local_docs", "%2E%2E",
                                 "case:%2F..%2Fdirectory"]))
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "PROPFIND"]))
    return method, path, {}, draw(json_any) if method in ("POST", "PUT") else None


def _encode(body: Any, how: str) -> tuple[bytes | None, dict[str, str]]:
    if body is None:
        return None, {}
    if isinstance(body, bytes):
        return body, {"Content-Type": "image/png"}
    data = json.dumps(body).encode()
    if how == "gzip":
        return gzip.compress(data), {"Content-Type": "application/json",
                                     "Content-Encoding": "gzip"}
    if how == "text":
        return data, {"Content-Type": "text/plain"}
    if how == "duplicate_keys" and data.startswith(b"{") and len(data) > 2:
        return b'{"docs": [], ' + data[1:], {"Content-Type": "application/json"}
    return data, {"Content-Type": "application/json"}


def _foreign_state(t: Target) -> dict[str, Any]:
    main = t.world.hub.stores.main
    return {d["_id"]: sorted(json.dumps(leaf, sort_keys=True)
                             for leaf in main.open_revs(d["_id"], "all")) for d in t.foreign}


@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), encoding=st.sampled_from(["json", "json", "gzip", "text",
                                                 "duplicate_keys"]))
def test_a_device_learns_nothing_of_other_institutions_and_breaks_nothing(
        target: Target, data: st.DataObject, encoding: str) -> None:
    t = target
    method, path, query, body = data.draw(requests(t))
    payload, headers = _encode(body, encoding)
    main = t.world.hub.stores.main
    before_seq, before_foreign = main.info()["update_seq"], _foreign_state(t)
    url = f"/{t.prefix}/{path}" if path else f"/{t.prefix}"
    resp = t.client.open(url, method=method, query_string=query, data=payload,
                         headers={**t.auth, **headers})
    text = resp.get_data(as_text=True)
    first = path.split("/")[0]
    if first not in NOT_IMPLEMENTED:
        assert resp.status_code < 500, (method, url, query, resp.status_code, text[:400])
    if resp.status_code >= 400 and method != "HEAD":
        answer = json.loads(text)
        assert isinstance(answer, dict) and answer.get("error") and "reason" in answer, text
    sent = url + json.dumps(query, ensure_ascii=False) + (
        json.dumps(body, ensure_ascii=False) if not isinstance(body, bytes | None) else "")
    # an id the request named may come back (a refusal, a not_found row), even rebuilt
    # from the case id it carried: an echo, not a leak
    named = [c for c in t.foreign_cases if c in sent]
    leaked = [s for s in t.secrets if s in text and s not in sent
              and not any(c in s for c in named)]
    assert not leaked, (method, url, query, leaked[:3], text[:400])
    assert _foreign_state(t) == before_foreign, (method, url, body)
    refused = resp.status_code >= 400 or (
        path == "_bulk_docs" and not any("ok" in r or "rev" in r and "error" not in r
                                         for r in json.loads(text)))
    if refused:
        assert main.info()["update_seq"] == before_seq, (method, url, body, text[:400])
