"""Writes a device in a case's scope must not be able to make: documents that pass for
another type to skip the rules of their own (security audit, design.md §3, §5)."""

from __future__ import annotations

from .conftest import TOWN, VILLAGE_A, VILLAGE_B, World


def test_a_keyring_shaped_document_cannot_replace_a_signed_event_or_case_header(world: World):
    """A "keyring" skipped the schema, so its ``_id`` was never tied to its type: a town
    holding a handed-up case replaced the village's signed, immutable event and its case
    header with an unsigned document (the keyring rule only checks the wraps it lists,
    and an empty list has none to check)."""
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    world.round()
    main = world.hub.stores.main
    event_id = next(r["id"] for r in main.all_docs()["rows"]
                    if r["id"].startswith(f"event:{case_id}:"))
    for docid in (event_id, f"case:{case_id}"):
        before = main.get(docid)
        forged = {"_id": docid, "_rev": before["_rev"], "type": "keyring",
                  "data_keys": [{"kid": "x", "wraps": []}]}
        result = town.remote.bulk_docs([forged])[0]
        assert result.get("error") == "forbidden", result
        assert "_id" in result["reason"] or "case_id" in result["reason"]
        assert main.get(docid) == before


def test_an_event_is_recorded_by_the_device_that_signs_it(world: World):
    """A station's device signed events naming another station's device, or the hub's own
    device (a termination or a complaint intake "by the hub"), as their recorder."""
    import time

    from schemas import build
    from schemas.hlc import tick

    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    world.sync()
    hub_device = world.hub.identity["device_id"]
    for dev in (f"{VILLAGE_B}-A1", hub_device, a.device_id):
        clock = tick(int(time.time() * 1000), a.last, dev)
        ev = build.make_event("work_log", case_id=case_id, clock=clock, at=a.now(),
                              institution=dev.split("-")[0], base_hlc=a.last_event(case_id),
                              kind="tracking", private={"text": "跟踪"})
        result = a.remote.bulk_docs([a._seal_sign(ev, a.case_key(case_id))])[0]
        if dev == a.device_id:
            assert result.get("ok"), result  # its own events still go through
        else:
            assert result.get("error") == "forbidden" and "device" in result["reason"], result


def test_a_keyring_revision_keeps_every_wrap_to_an_active_key(world: World):
    """Any holder of a case pushes its keyring: the town a case was handed up to dropped the
    village's wraps (copies of the others, all verifying) and locked the village out."""
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    world.round()
    ring = town.store.get(f"keyring:{case_id}")
    cut = {**ring, "data_keys": [{**g, "wraps": [w for w in g["wraps"]
                                                 if w["institution"] != VILLAGE_A]}
                                 for g in ring["data_keys"]],
           "recipients": [r for r in ring["recipients"] if r["institution"] != VILLAGE_A]}
    result = town.remote.bulk_docs([cut])[0]
    assert result.get("error") == "forbidden" and VILLAGE_A in result["reason"], result
    town.store.put(cut)  # and as a replicated revision (new_edits=False), the same
    world.round()
    assert world.hub.stores.main.get(f"keyring:{case_id}")["_rev"] == ring["_rev"]
    a.case_key(case_id)  # the village still opens its case
