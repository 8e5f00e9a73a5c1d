"""A village merged into another (撤村并居): its open cases go up to the town and down to
the receiving village (4.3), its laptop is revoked, then `hub institution close` marks it
closed (hub/closing.py). Before, nothing knew a village had gone: a laptop could still be
enrolled there and a town could hand a case down to a station nobody works at any more,
where it stayed, stranded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.errors import BadInput
from tests.hub.conftest import TOWN, VILLAGE_A, VILLAGE_B, open_world


def _hand_down(town: Any, case_id: str, to: str) -> None:
    """The town's hand-down to a station that never had the case: the case key wrapped for
    it first, as a town node does (node.rewrap.share_with, design.md §5)."""
    from sync.crypto import add_recipient, unlock_case_key

    directory = town.directory()
    ring = town.store.get(f"keyring:{case_id}")
    ring2 = add_recipient(ring, unlock_case_key(ring, town.keychain, directory), to,
                          directory, town.signer)
    town.store.put({**ring2, "_rev": ring["_rev"]})
    town.hand_down(case_id, to)


def test_a_merged_village_is_closed_once_its_cases_moved(tmp_path: Path) -> None:
    from hub import admin
    from hub.closing import close_institution

    with open_world(tmp_path) as world:
        hub = world.hub
        a, b, town = world.node(VILLAGE_A), world.node(VILLAGE_B), world.node(TOWN)
        moved = b.new_case()
        world.round()
        with pytest.raises(BadInput) as exc:
            close_institution(hub, VILLAGE_B)
        assert "1 open case" in exc.value.reason and "hand" in exc.value.reason
        with pytest.raises(BadInput) as exc:  # a town with its villages open
            close_institution(hub, TOWN)
        assert VILLAGE_B in exc.value.reason
        # the move the runbook gives: up to the town, down to the village that takes it
        b.hand_up(moved, TOWN)
        world.round()
        _hand_down(town, moved, VILLAGE_A)
        world.round()
        assert a.store.get(f"case:{moved}")  # the receiving station has it
        with pytest.raises(BadInput) as exc:
            close_institution(hub, VILLAGE_B)
        assert b.device_id in exc.value.reason and "device revoke" in exc.value.reason
        admin.revoke_device(hub, b.device_id)
        doc = close_institution(hub, VILLAGE_B)
        assert doc["active"] is False and doc["staff"]  # its history (roster) stays
        with pytest.raises(BadInput) as exc:
            close_institution(hub, VILLAGE_B)
        assert "closed already" in exc.value.reason
        with pytest.raises(BadInput) as exc:
            admin.enroll_device(hub, institution_code=VILLAGE_B, short="A2")
        assert "closed" in exc.value.reason
        # a case handed down to the closed village is refused at the hub: stranded there
        other = a.new_case()
        a.hand_up(other, TOWN)
        world.round()
        _hand_down(town, other, VILLAGE_B)
        assert town.sync()["refused"] >= 1
        from hub.index import ScopeIndexer

        assert VILLAGE_B not in ScopeIndexer(hub.stores).case_scopes(other)
        from hub.closing import reopen_institution

        assert reopen_institution(hub, VILLAGE_B)["active"] is True  # a close made in error
        with pytest.raises(BadInput):
            reopen_institution(hub, VILLAGE_B)


def test_the_public_page_of_a_closed_station_sends_the_public_elsewhere(tmp_path: Path) -> None:
    """8.1.2: the disclosure page of a merged village still listed its items and staff as if
    it served, and said nothing of where to go instead."""
    from hub.admin import institution, put_reference
    from hub.app import create_app
    from tests.hub.oversight.conftest import make_hub
    from tests.hub.oversight.scenario import V1

    hub = make_hub(tmp_path)
    try:
        client = create_app(hub=hub).test_client()
        assert "已撤并" not in client.get(f"/oversight/public/{V1}").text
        put_reference(hub, {**institution(hub, V1), "active": False})
        page = client.get(f"/oversight/public/{V1}").text
        town = institution(hub, V1[:9])["name"]
    finally:
        hub.close()
    assert 'id="closed"' in page and "已撤并" in page and town in page
