"""What another CouchDB client meets at a device's endpoint (issue 6: "a PouchDB URL can
replicate from and to"), found by trying PouchDB 9 and ibmcloudant against the demo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.conftest import World, device_client, open_world

#: The web platform's origin allowed to replicate from a browser (``cors_origins``).
PLATFORM = "https://zwfw.example.gov.cn"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(Path(tmp_path_factory.mktemp("integrator")),
                    extra={"cors_origins": f"{PLATFORM}, https://other.example"}) as w:
        yield w


def test_the_database_url_with_a_trailing_slash_is_the_database(world: World) -> None:
    """PouchDB asks ``GET /db/`` for the database's info (``new PouchDB(url)`` without
    ``skip_setup``, ``db.info()``, ``since: 'now'``); it was a 404, so PouchDB tried to
    create the database, and a replication from the device's plain URL failed."""
    client, auth = device_client(world)
    db = world.hub.stores.prefix
    plain = client.get(f"/{db}", headers=auth)
    slash = client.get(f"/{db}/", headers=auth)
    assert slash.status_code == 200, slash.get_data(as_text=True)
    assert slash.get_json()["db_name"] == db
    assert slash.get_json()["update_seq"] == plain.get_json()["update_seq"]
    # what PouchDB's setup would do next had the GET failed: CouchDB's 412, not a 404
    made = client.put(f"/{db}/", headers=auth)
    assert made.status_code == 412 and made.get_json()["error"] == "file_exists"
    # still a device's view: no credentials, no database
    assert client.get(f"/{db}/").status_code == 401


def test_changes_with_limit_0_answers_one_change_as_couchdb(world: World) -> None:
    """CouchDB: a ``limit`` of 0 "has the same effect as 1" (API docs, /db/_changes); a
    client asking it for the feed's position got a whole page of changes."""
    client, auth = device_client(world)
    db = world.hub.stores.prefix
    one = client.get(f"/{db}/_changes?limit=0", headers=auth).get_json()
    assert len(one["results"]) == 1 and one["pending"] > 0
    assert one == client.get(f"/{db}/_changes?limit=1", headers=auth).get_json()


def test_other_addresses_under_hub_are_404_and_wrong_methods_405(world: World) -> None:
    """``/_hub/`` is the hub's own (health, keys), no database: a probe's typo or a wrong
    method was the replication endpoint's 401 asking for a device's login."""
    from hub.app import create_app

    client = create_app(hub=world.hub).test_client()
    for path in ("/_hub/healthz", "/_hub", "/_hub/", "/_hub/health/x"):
        answer = client.get(path)
        assert answer.status_code == 404, (path, answer.get_json())
        assert "GET /_hub/health" in answer.get_json()["reason"]
    wrong = client.post("/_hub/health")
    assert wrong.status_code == 405 and wrong.get_json()["error"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"] and "POST" not in wrong.headers["Allow"]
    assert "POST" in client.get("/_hub/keys").headers["Allow"]
    assert client.get("/_hub/health").status_code == 200
    _, auth = device_client(world)  # what a device sends: the same answers
    assert client.get("/_hub/healthz", headers=auth).status_code == 404


def test_a_web_page_of_an_allowed_origin_may_replicate_a_device_s_view(world: World) -> None:
    """PouchDB in a web page (the platform's) needs CORS, as from CouchDB's [cors]: the
    preflight carries no credentials and was the endpoint's 401, so no browser could
    replicate. ``cors_origins`` names the pages allowed; others get no CORS headers."""
    client, auth = device_client(world)
    db = world.hub.stores.prefix
    asked = {"Origin": PLATFORM, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}
    pre = client.options(f"/{db}/_bulk_get", headers=asked)
    assert pre.status_code == 204, pre.get_data(as_text=True)
    assert pre.headers["Access-Control-Allow-Origin"] == PLATFORM
    assert "authorization" in pre.headers["Access-Control-Allow-Headers"]
    info = client.get(f"/{db}/", headers={**auth, "Origin": PLATFORM})
    assert info.status_code == 200 and info.headers["Access-Control-Allow-Origin"] == PLATFORM
    assert info.headers["Access-Control-Allow-Credentials"] == "true"
    # the page reads its 401 too (a wrong secret, a revoked device's wipe instruction)
    wrong = client.get(f"/{db}", headers={"Origin": PLATFORM,
                                          "Authorization": "Basic eDp5"})
    assert wrong.status_code == 401 and wrong.headers["Access-Control-Allow-Origin"] == PLATFORM
    # another origin: no CORS headers, and no data without a device's login
    other = client.options(f"/{db}/_bulk_get", headers={**asked, "Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Methods" not in other.headers
    assert client.get(f"/{db}", headers={"Origin": PLATFORM}).status_code == 401


def test_all_docs_total_rows_is_the_view_s_count_whatever_was_asked(world: World) -> None:
    """CouchDB's ``total_rows`` is the database's count, whatever ``keys`` or range was asked
    (a client shows "rows of total_rows"); with ``keys`` it was the count of the asked keys
    that are visible, with a range the range's. It is the view's ``doc_count``: never the
    store's, which counts documents this device may not see."""
    client, auth = device_client(world)
    db = world.hub.stores.prefix
    world.hub.stores.main.put({"_id": "zz-not-in-any-scope"})  # the store's, no device's
    count = client.get(f"/{db}", headers=auth).get_json()["doc_count"]
    assert count < world.hub.stores.main.info()["doc_count"]
    first = client.get(f"/{db}/_all_docs?limit=1", headers=auth).get_json()
    seen = first["rows"][0]["id"]
    assert first["total_rows"] == count
    keyed = client.post(f"/{db}/_all_docs", headers=auth,
                        json={"keys": [seen, "zz-not-in-any-scope"]}).get_json()
    assert [r.get("error") for r in keyed["rows"]] == [None, "not_found"]
    assert keyed["total_rows"] == count
    ranged = client.get(f'/{db}/_all_docs?startkey="{seen}"&endkey="{seen}"',
                        headers=auth).get_json()
    assert [r["id"] for r in ranged["rows"]] == [seen] and ranged["total_rows"] == count


def test_a_refused_changes_filter_names_what_the_device_view_takes(world: World) -> None:
    """``filter=app/f`` was told "only _doc_ids and _selector", and ``_selector`` is then
    refused too (the feed is already the device's): the message names ``_doc_ids`` alone."""
    client, auth = device_client(world)
    db = world.hub.stores.prefix
    for name in ("app/f", "_design"):
        answer = client.get(f"/{db}/_changes?filter={name}", headers=auth)
        assert answer.status_code == 400 and answer.get_json()["error"] == "bad_request"
        reason = answer.get_json()["reason"]
        assert "only _doc_ids " in reason and "_selector" not in reason, reason
    selector = client.get(f"/{db}/_changes?filter=_selector&selector={{}}", headers=auth)
    assert selector.status_code == 400 and "selector" in selector.get_json()["reason"]
    ids = client.get(f'/{db}/_changes?filter=_doc_ids&doc_ids=["x"]', headers=auth)
    assert ids.status_code == 200 and ids.get_json()["results"] == []


def test_up_answers_a_probe_without_credentials_as_couchdb(world: World) -> None:
    """CouchDB's ``/_up`` is for load balancers, which send no credentials: it was a
    device's 401 (the outage's 503 is in test_store_outage)."""
    from hub.app import create_app

    client = create_app(hub=world.hub).test_client()
    up = client.get("/_up")
    assert up.status_code == 200 and up.get_json() == {"status": "ok", "seeds": {}}
    assert client.head("/_up").status_code == 200
    assert client.post("/_up").status_code == 405
    _, auth = device_client(world)  # with a device's login, the same
    assert client.get("/_up", headers=auth).get_json()["status"] == "ok"
