"""Coordination notices on the node (schemas/notices.py; 4.2 whole-process coordination).

A town coordinator urges a village about a case the hub's board shows late; the notice is
signed by the town's device, pushed at the next sync and delivered by the hub to that village
only (hub/validate.py checks that the village is below the town). The village sees the
notices addressed to it on its home page, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from node.errors import InvalidInput

if TYPE_CHECKING:
    from node.core import Node

#: Notices shown on a station's home page (newest first).
SHOWN = 20


def send(node: Node, board_row: Mapping[str, Any], to: str, reason: str) -> dict[str, Any]:
    """Write and sign a notice about ``board_row`` (a row of ``to``'s board) for ``to``."""
    return send_many(node, [(to, board_row)], reason)[0]


def send_many(node: Node, rows: Sequence[tuple[str, Mapping[str, Any]]],
              reason: str) -> list[dict[str, Any]]:
    """Notices about each ``(to, board_row)`` (a row of ``to``'s board), signed and stored
    in one write: a town urging its 150 late cases of a Monday made 150 page round trips."""
    from node.casework import next_hlc, now_iso
    from schemas.errors import SchemaError
    from schemas.notices import NOTICE_REASONS, notice_doc_id
    from schemas.registry import validate_sealed
    from schemas.vocab import SCHEMA_VERSION
    from sync.crypto import sign_document

    if reason not in NOTICE_REASONS:
        raise InvalidInput(f"reason: 不是可选的催办原因 / not a notice reason: {reason!r}",
                           fields={"reason": "请选择催办原因 / choose a reason"})
    device, here, at = str(node.require_enrollment()["device_id"]), node.institution, now_iso()
    out = []
    for to, board_row in rows:
        hlc = next_hlc(device)
        doc = {"_id": notice_doc_id(to, hlc), "type": "notice", "schema_version": SCHEMA_VERSION,
               "hlc": hlc, "at": at, "device": device, "institution": here,
               "to_institution": to, "case_id": str(board_row["case"]), "reason": reason}
        if board_row.get("no"):
            doc["case_no"] = str(board_row["no"])
        try:
            validate_sealed(doc)
        except SchemaError as exc:
            raise InvalidInput(exc.reason) from exc
        out.append(sign_document(doc, node.keys.signer))
    failed: list[dict[str, Any]] = []
    if len(out) == 1:
        node.store.put(out[0])  # raises the document's own error
    elif out:  # fresh ids: nothing conflicts, but whatever fails, the coordinator is told
        failed = [r for r in node.store.bulk_docs(out) if "error" in r]
    if len(out) > len(failed):
        node.syncer.state.note_local_write(len(out) - len(failed))
    if failed:
        raise InvalidInput(f"notice: {failed[0]['error']}: {failed[0].get('reason', '')}")
    return out


def _range(node: Node, prefix: str) -> list[dict[str, Any]]:
    rows = node.store.all_docs(startkey=prefix, endkey=prefix + "\uffff", include_docs=True,
                               offset=False)["rows"]
    return [r["doc"] for r in rows if r.get("doc")]


def received(node: Node, limit: int = SHOWN) -> list[dict[str, Any]]:
    """Notices addressed to this node's institution, newest first (ids sort by HLC)."""
    return list(reversed(_range(node, f"notice:{node.institution}:")))[:limit]


def about_case(node: Node, case_id: str) -> list[dict[str, Any]]:
    """Notices this station received about ``case_id``, newest first (the case page)."""
    return [d for d in received(node, limit=10_000) if d.get("case_id") == case_id][:SHOWN]


def sent_by_case(node: Node) -> dict[tuple[str, str], dict[str, Any]]:
    """This institution's latest notice per (station, case) (the town page marks urged
    rows). Per station: a case moves (4.3), and a county's notice to the village that held
    it marked the row of the town holding it now as urged, though the town never had it."""
    return with_sent(node, {}, _range(node, "notice:"))


def with_sent(node: Node, latest: Mapping[tuple[str, str], dict[str, Any]],
              docs: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """:func:`sent_by_case`'s ``latest`` with ``docs`` (notices) taken in: a notice never
    changes, so the ones written since are added to what was read before (a county's
    page read its year of notices, thousands, again after each urge)."""
    out = dict(latest)
    # read once: each ``node.institution`` opens the enrollment file, and a busy town's
    # year of notices (thousands) made this loop most of the town page's time
    here = node.institution
    for doc in docs:
        if doc.get("type") != "notice" or doc.get("institution") != here:
            continue
        key = (str(doc.get("to_institution")), str(doc.get("case_id")))
        if key not in out or str(doc.get("hlc")) > str(out[key].get("hlc")):
            out[key] = doc
    return out


def sent_since(node: Node, latest: Mapping[tuple[str, str], dict[str, Any]],
               ids: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """:func:`with_sent` of the notices ``ids`` (read from the store)."""
    rows = node.store.all_docs(keys=list(ids), include_docs=True)["rows"]
    return with_sent(node, latest, (r["doc"] for r in rows if r.get("doc")))
