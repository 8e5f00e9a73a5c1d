"""Writes a device in a case's scope must not be able to make: documents that pass for
another type to skip the rules of their own (security audit, design.md §3, §5)."""

from __future__ import annotations

from .conftest import TOWN, VILLAGE_A, World


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
