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


def _pushed_case(world: World) -> tuple[Any, str]:
    """Village A and a case of its own in handling, pushed to the hub."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    return a, case_id


def _refused(node: Any, doc: dict[str, Any], english: str) -> str:
    (row,) = node.remote.bulk_docs([doc])
    assert row["error"] == "forbidden" and english in row["reason"], row
    return str(row["reason"])


def test_a_town_writing_to_a_case_not_handed_to_it_is_told_so_in_chinese(world: World) -> None:
    _a, case_id = _pushed_case(world)
    town = world.node(TOWN)
    (sha, data), = split(b"sealed")
    chunk = sign_document(chunk_doc(case_id, sha, data, institution=TOWN,
                                    device=town.device_id), town.signer)
    reason = _refused(town, chunk, "scope")
    assert "未承办" in reason and "上报或下派" in reason


def test_a_hand_up_without_the_towns_key_is_told_what_to_do(world: World) -> None:
    a, case_id = _pushed_case(world)
    ev = _event(a, case_id, "hand_up",
                **build.handover_fields(VILLAGE_A, TOWN, "needs_coordination"))
    reason = _refused(a, ev, "no wrap")
    assert "移交未完成" in reason and "重新移交" in reason


def test_changing_a_stored_event_is_refused_in_chinese(world: World) -> None:
    a, case_id = _pushed_case(world)
    ev = _event(a, case_id, "work_log", kind="tracking", private={"text": "跟踪"})
    (first,) = a.remote.bulk_docs([ev])
    assert first.get("ok"), first
    reason = _refused(a, {**ev, "_rev": first["rev"]}, "immutable")
    assert CHINESE.search(reason) and "另行登记" in reason
