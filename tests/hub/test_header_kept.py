"""A case header's next revision keeps every version the one before it knew (5 d, 11.1 e:
complete case archives; design.md §3: nothing is lost): hub.header_kept, and
schemas.build.set_fields keeping the value an edit replaces."""

from __future__ import annotations

from typing import Any

from schemas.build import set_fields
from sync.crypto import sign_document

from .conftest import VILLAGE_A, World


def _push(world: World, doc: dict[str, Any]) -> dict[str, Any]:
    a = world.node(VILLAGE_A)
    a.store.put(sign_document(doc, a.signer))
    return a.sync()


def test_an_edit_keeps_the_value_it_replaces_at_the_hub(world: World):
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    world.sync(VILLAGE_A)
    before = world.hub.stores.main.get(f"case:{case_id}")
    a.edit_header(case_id, staff="staff-7")
    world.sync(VILLAGE_A)
    stored = world.hub.stores.main.get(f"case:{case_id}")
    assert stored["staff"] == "staff-7"
    assert {"field": "staff", "value": before["staff"],
            "hlc": before["clocks"]["staff"]} in stored["history"]


def test_a_header_revision_dropping_history_is_refused(world: World):
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.edit_header(case_id, staff="staff-7")
    world.sync(VILLAGE_A)
    kept = world.hub.stores.main.get(f"case:{case_id}")
    assert kept["history"]
    doc = {k: v for k, v in a.store.get(f"case:{case_id}").items() if k != "sig"}
    wiped = set_fields(doc, {"staff": "staff-9"}, a.clock())
    wiped["history"] = []  # the earlier staff forgotten
    assert _push(world, wiped)["refused"] == 1
    assert world.hub.stores.main.get(f"case:{case_id}")["_rev"] == kept["_rev"]


def test_a_header_revision_changing_a_fixed_field_is_refused(world: World):
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    world.sync(VILLAGE_A)
    kept = world.hub.stores.main.get(f"case:{case_id}")
    doc = {k: v for k, v in a.store.get(f"case:{case_id}").items() if k != "sig"}
    doc["service_type"] = "assist" if doc["service_type"] == "proxy" else "proxy"
    assert _push(world, doc)["refused"] == 1
    assert world.hub.stores.main.get(f"case:{case_id}")["_rev"] == kept["_rev"]


def test_a_station_refuses_a_hub_signed_header_that_drops_history(world: World):
    """The hub signs conflict resolutions with its own key: whoever holds that key (its
    operator) must not be able to rewrite a station's header and drop its history
    (node/pull.py; design.md §5: a pull does not trust the hub)."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.edit_header(case_id, staff="staff-7")
    world.sync(VILLAGE_A)
    main = world.hub.stores.main
    stored = main.get(f"case:{case_id}")
    forged = {k: v for k, v in stored.items() if k not in ("sig", "_rev")}
    forged["history"] = []
    forged = sign_document(forged, world.hub.keys.signer)
    forged["_rev"] = stored["_rev"]
    main.bulk_docs([forged])  # the operator, in the database
    assert a.sync()["pull_refused"] == 1
    assert a.store.get(f"case:{case_id}")["history"] == stored["history"]


def _as_released_before(doc: dict[str, Any], clock: Any, **changes: Any) -> dict[str, Any]:
    """An edit as laptops of releases before 2026-11-27 made it: the value replaced, the
    field's clock moved on, nothing added to ``history``."""
    from schemas.hlc import pack

    out = {**doc, **changes, "clocks": {**doc["clocks"], **{k: pack(clock) for k in changes}}}
    out["history"] = list(doc.get("history") or [])
    return out


def test_an_edit_from_a_laptop_not_yet_upgraded_is_taken(world: World):
    """The runbook upgrades the hub first: a correction from a laptop of the release before
    (which did not keep the replaced value) was refused, and so was every later header of
    that case, built on it: the header never reached the hub again."""
    from schemas.merge import dropped

    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.edit_header(case_id, staff="staff-7")  # history: the opening's staff
    world.sync(VILLAGE_A)
    doc = {k: v for k, v in a.store.get(f"case:{case_id}").items() if k != "sig"}
    old_style = _as_released_before(doc, a.clock(), staff="staff-9")
    assert _push(world, old_style)["refused"] == 0
    stored = world.hub.stores.main.get(f"case:{case_id}")
    assert stored["staff"] == "staff-9" and stored["history"] == doc["history"]
    # but a current value gone with no later edit of its field is still refused, and so is
    # a history entry gone with one
    same_clock = {**old_style, "staff": "staff-8"}
    assert dropped(stored, same_clock) == ("staff", stored["clocks"]["staff"], False)
    assert dropped(doc, {**old_style, "history": []}) is not None
