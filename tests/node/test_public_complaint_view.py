"""A complaint the public filed on the hub's page (11.1 online, hub.oversight.public_complaints)
on the station's case page: the text a stranger typed is shown as text, never as markup
(the hub never shows it; the station is where it is read)."""

from __future__ import annotations

from typing import Any

from tests.node.test_clerk_day import _case_id, _consult


def test_a_public_complaint_s_text_is_shown_escaped_on_the_case(unlocked: Any) -> None:
    from node.casework import next_clock, now_iso
    from schemas.build import make_event
    from sync.crypto import sign_document

    case_id = _case_id(_consult(unlocked))
    node = unlocked.application.extensions["bangban_node"]
    text = ("【网上自助投诉 回执 TS-20260320-ABCDEFGH；投诉人身份未核实】\n"
            "<script>alert(1)</script><img src=x onerror=alert(2)>")
    event = make_event("complaint", case_id=case_id, clock=next_clock(node.device_id),
                       at=now_iso(), institution=node.institution, channel="online",
                       category="attitude",
                       private={"text": text, "complainant": "网上投诉人（身份未核实）",
                                "contact": "139 0000 4321"})
    node.store.put(sign_document(node.casework.case_key(case_id).seal(event),
                                 node.keys.signer))
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert "TS-20260320-ABCDEFGH" in page and "139 0000 4321" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
