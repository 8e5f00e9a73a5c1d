"""A header the station writes is one the hub takes (hub.header_kept refuses a revision
that drops a version its stored ancestor knew; a refused header stays on the laptop for
good): the station's own corrections, judged with the hub's rule (schemas.merge.dropped)."""

from __future__ import annotations

from typing import Any

from schemas.merge import dropped
from tests.node.test_clerk_day import _case_id, _consult
from tests.node.test_signers import _csrf


def _revisions(node: Any, case_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    docid = f"case:{case_id}"
    after = node.store.get(docid, revs=True)
    ids = after["_revisions"]["ids"]
    start = after["_revisions"]["start"]
    before = node.store.get(docid, rev=f"{start - 1}-{ids[1]}")
    return before, after


def test_a_correction_of_the_special_groups_alone_keeps_the_sealed_particulars(
        unlocked: Any) -> None:
    """9.2: at the home visit the clerk ticks 残疾人 and changes nothing else. The header
    was sealed again (a new nonce) under the private part's old clock, so the envelope
    the hub held was neither current nor in history: the hub refused the revision, and
    every later one of the case, as dropping history."""
    node = unlocked.application.extensions["bangban_node"]
    case_id = _case_id(_consult(unlocked))
    resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": _csrf(unlocked), "applicant_name": "王小明", "phone": "13800000000",
        "groups_shown": "1", "special_groups": ["disabled"]})
    assert resp.status_code == 302, resp.data.decode()[:2000]
    before, after = _revisions(node, case_id)
    assert after["special_groups"] == ["disabled"]
    assert dropped(before, after) is None
    # and the particulars, corrected next, keep both the envelope and the groups' old value
    resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": _csrf(unlocked), "applicant_name": "王小明", "phone": "13900000000"})
    assert resp.status_code == 302, resp.data.decode()[:2000]
    before, after = _revisions(node, case_id)
    assert dropped(before, after) is None


def test_a_correction_records_the_value_it_replaces_once(unlocked: Any) -> None:
    """correct_applicant records what it replaces and set_fields did again (it looked for
    the replaced value, not its entry, among the history entries): every correction of
    the groups doubled its entry, growing the header the hub caps in size."""
    node = unlocked.application.extensions["bangban_node"]
    case_id = _case_id(_consult(unlocked))
    for groups in (["disabled"], ["disabled", "elderly"]):
        resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
            "csrf": _csrf(unlocked), "applicant_name": "王小明", "phone": "13800000000",
            "groups_shown": "1", "special_groups": groups})
        assert resp.status_code == 302, resp.data.decode()[:2000]
    history = node.casework.header(case_id)["history"]
    entries = [h["value"] for h in history if h["field"] == "special_groups"]
    assert entries == [[], ["disabled"]]


def test_a_header_the_hub_merged_is_corrected_again(unlocked: Any) -> None:
    """Two laptops corrected one case offline; the hub merged the two leaves
    (schemas.merge.resolve, hub.workers.resolver). A station opens a header clocking only
    its private part (node.casework), and the merge clocked every other field with "":
    no clock, which the header's schema refuses, so the next 更正 of that case was refused
    on the laptop (clocks.staff: not a hybrid logical clock) and the case could never be
    corrected again."""
    from schemas.case import MERGE_FIELDS
    from schemas.merge import resolve
    from sync.crypto import sign_document

    node = unlocked.application.extensions["bangban_node"]
    case_id = _case_id(_consult(unlocked))
    docid = f"case:{case_id}"
    first = node.store.get(docid)
    resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": _csrf(unlocked), "applicant_name": "王小明", "phone": "13900000000"})
    assert resp.status_code == 302, resp.data.decode()[:2000]
    mine = node.store.get(docid)
    merged = {k: v for k, v in resolve([first, mine]).items() if k != "sig"}
    # as hubs stored it until now (schemas.merge gives such a field no clock today)
    merged["clocks"] = {f: merged["clocks"].get(f, "") for f in (*MERGE_FIELDS, "private")}
    # as the resolver stores it: one child of the winning leaf (here signed by the laptop:
    # the hub's key is not in this test's directory)
    node.store.put({**sign_document(merged, node.keys.signer), "_rev": mine["_rev"]})
    resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": _csrf(unlocked), "applicant_name": "王小明", "phone": "13700000000",
        "groups_shown": "1", "special_groups": ["elderly"]})
    assert resp.status_code == 302, resp.data.decode()[:2000]
    before, after = _revisions(node, case_id)
    assert after["special_groups"] == ["elderly"] and dropped(before, after) is None
