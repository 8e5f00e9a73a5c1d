"""Events the hub writes itself (hub/sealing.py: complaints taken at the hub, 10.2.5.2
terminations) stay readable when a station changes the case's keyring at the same time."""

from __future__ import annotations

from typing import Any

import pytest

from hub.oversight.complaints import take_complaint

from .conftest import VILLAGE_A, World


def _kids(ring: dict[str, Any]) -> set[str]:
    return {str(g.get("kid")) for g in ring.get("data_keys") or []}


def test_a_complaint_sealed_while_the_keyring_changes_is_not_lost(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub sealed the complaint under a new key generation and wrote the keyring and
    the event in one bulk_docs: a keyring a station pushed in between was a conflict, the
    keyring with the new generation was not stored, the event was, and no one could ever
    open the complaint's text."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    main = world.hub.stores.main
    read = main.get
    pushed: list[str] = []

    def station_pushes_meanwhile(docid: str, *args: Any, **kw: Any) -> Any:
        doc = read(docid, *args, **kw)
        if docid == f"keyring:{case_id}" and not pushed:
            # a station's keyring revision lands between the hub's read and its write
            pushed.append(main.put(dict(doc))["rev"])
        return doc

    monkeypatch.setattr(main, "get", station_pushes_meanwhile)
    stored = take_complaint(world.hub, case_id, intake="phone", category="inaction",
                            text="三天无人处理")
    ring = main.get(f"keyring:{case_id}")
    assert stored["sealed"]["kid"] in _kids(ring)
    assert main.get(stored["_id"])["sealed"]["kid"] in _kids(ring)
    # the station opens it once synced: the generation is wrapped for its institution
    a.sync()
    # (_open: access.open_private would record a read, 7.2.2.2; not what this checks)
    assert a.case_key(case_id)._open(a.store.get(stored["_id"]))["text"] == "三天无人处理"
