"""A case header's next revision keeps what the one before it knew.

The header is the case's one mutable document (design.md §3): its mergeable fields carry
their own clocks and every version a field ever had stays in ``history`` (a correction of
the applicant's particulars keeps the sealed envelope it replaces, node/views/applicant.py;
``schemas.build.set_fields`` keeps the value any edit replaces). The hub merges conflicting
leaves by the union of those versions, but a *linear* revision was taken as the station
sent it: a station (or anyone holding its key) could push a header that dropped the
versions before, or changed a field fixed at opening (its case number, its institution,
the service type it was opened with), and once the old revision was compacted nothing
anywhere said the case had ever read otherwise. A case archive must be standard and
complete (5 d, 11.1 e) and a dispute a year later reads it: so the hub refuses such a
revision, as it refuses a keyring revision that drops a wrap (``hub.signatures``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from schemas.merge import dropped
from sync.errors import BadRequest, NotFound
from sync.revtree import path_from_revisions

if TYPE_CHECKING:
    from hub.storage import HubStores

def _ancestors(doc: Mapping[str, Any], *, new_edits: bool) -> list[str]:
    """The revisions ``doc`` descends from, nearest first."""
    if new_edits:
        rev = doc.get("_rev")
        return [rev] if isinstance(rev, str) else []
    revs = doc.get("_revisions")
    try:
        path = path_from_revisions(revs) if isinstance(revs, Mapping) else []
    except BadRequest:
        return []
    return path[1:]


def _nearest_stored(stores: HubStores, docid: str, revs: list[str]
                    ) -> Mapping[str, Any] | None:
    # A station that edited twice offline sends a revision whose parent the hub never had:
    # it is judged against the nearest ancestor the hub holds (versions only grow along a
    # line of edits, so what that one knew must still be there).
    for rev in revs:
        try:
            body = stores.main.get(docid, rev=rev)
        except NotFound:
            continue
        if not body.get("_deleted"):
            return body
    return None


def check_header_kept(stores: HubStores, doc: Mapping[str, Any], *, new_edits: bool
                      ) -> dict[str, str] | None:
    """``None``, or a ``forbidden`` refusal naming what the revision lost."""
    before = _nearest_stored(stores, str(doc["_id"]), _ancestors(doc, new_edits=new_edits))
    if before is None:
        return None  # a first revision, or one whose ancestors the hub holds no body of
    lost = dropped(before, doc)
    if lost is None:
        return None
    field, hlc, fixed = lost
    if fixed:
        return {"error": "forbidden", "reason": (
            f"{field}: fixed when the case was opened ({before.get(field)!r}), a header "
            f"revision may not change it (design.md §3) / 办件{field}在登记时确定，不能修改")}
    return {"error": "forbidden", "reason": (
        f"history: the revision drops the version of {field} clocked {hlc or '(opening)'} "
        "that the one "
        "before it knew; a header keeps every value a field ever had, the replaced ones in "
        "history (design.md §3; 5 d, 11.1 e: complete case archives) / "
        f"办件基本信息修订丢失了字段 {field} 的历史值，更正须保留原值以备查")}
