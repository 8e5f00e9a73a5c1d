"""What a station's sync page shows when the hub refuses a write (node/templates/sync.html
prints the hub's ``reason`` as it comes): it says what happened and what to do in Chinese
too, not only in English (the coordinators' and clerks' language, standard.md)."""

from __future__ import annotations

import re
from typing import Any

from schemas import build
from sync.chunks import chunk_doc, split
from sync.crypto import sign_document

from .conftest import TOWN, VILLAGE_A, World

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _event(node: Any, case_id: str, event_type: str, private: dict[str, Any] | None = None,
           **fields: Any) -> dict[str, Any]:
    ev = build.make_event(event_type, case_id=case_id, clock=node.clock(), at=node.now(),
                          institution=node.institution, private=private or {},
                          base_hlc=node.last_event(case_id), **fields)
    return sign_document(node.case_key(case_id).seal(ev), node.signer)


def test_a_town_writing_to_a_case_not_handed_to_it_is_told_so_in_chinese(world: World) -> None:
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.sync()
    (sha, data), = split(b"sealed")
    chunk = sign_document(chunk_doc(case_id, sha, data, institution=TOWN,
                                    device=town.device_id), town.signer)
    (row,) = town.remote.bulk_docs([chunk])
    assert row["error"] == "forbidden" and "scope" in row["reason"]
    assert "未承办" in row["reason"] and "上报或下派" in row["reason"], row


def test_a_hand_up_without_the_towns_key_is_told_what_to_do(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    ev = _event(a, case_id, "hand_up",
                **build.handover_fields(VILLAGE_A, TOWN, "needs_coordination"))
    (row,) = a.remote.bulk_docs([ev])
    assert row["error"] == "forbidden" and "no wrap" in row["reason"]
    assert "移交未完成" in row["reason"] and "重新移交" in row["reason"], row


def test_changing_a_stored_event_is_refused_in_chinese(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    ev = _event(a, case_id, "work_log", kind="tracking", private={"text": "跟踪"})
    (first,) = a.remote.bulk_docs([ev])
    assert first.get("ok"), first
    (again,) = a.remote.bulk_docs([{**ev, "_rev": first["rev"]}])
    assert again["error"] == "forbidden" and "immutable" in again["reason"]
    assert CHINESE.search(again["reason"]) and "另行登记" in again["reason"], again
