"""The catalog (清单) of items that may be assisted or proxied (6.2.4), imported whole.

Every item is checked before any is stored (the schema, one code once, the promised limit
within the statutory one; a refusal names every refused item, as the reading of the file
names every bad cell, :class:`hub.catalog_sheet.Problems`), and the items that changed are written in one ``_bulk_docs``:
on the embedded store one transaction, so a failure of the store (a full disk, the store
gone) leaves the published list exactly as it was. Written one ``put`` at a time, a failure
half-way published half the new list: stations pulled a list that was neither the old one
nor the officer's, and the file named no item as wrong. On CouchDB a ``_bulk_docs`` answers
per document; what it refuses is retried (a conflict: another write of the same item) or
named in the error, and importing the file again completes it (unchanged items are not
written again).

The files the office keeps the list in (.xlsx, .csv) are read by :mod:`hub.catalog_files`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.errors import AlreadyExists, BadInput, HubError
from schemas.vocab import SCHEMA_VERSION
from schemas.written import WRITTEN, stamp
from sync.crypto import sign_document

if TYPE_CHECKING:
    from hub.core import Hub

#: Rounds of writing what a concurrent write changed meanwhile (put_reference's five).
ATTEMPTS = 5


def import_catalog(hub: Hub, items: Iterable[Mapping[str, Any]],
                   where: Sequence[str] = ()) -> int:
    """Store every item of a catalog, or none: each is checked first; a refusal names the
    item (``where[n]``, a sheet's row, or its position; its code), the field and the rule.
    How many items the catalog has."""
    docs, stored, changed = _prepared(hub, items, where)
    _put_all(hub, changed, stored)
    return len(docs)


def check_catalog(hub: Hub, items: Iterable[Mapping[str, Any]],
                  where: Sequence[str] = ()) -> tuple[int, list[str]]:
    """:func:`import_catalog` storing nothing (``catalog import --dry-run``): how many items
    the catalog has, and the codes of those an import would write (new or changed)."""
    docs, _stored_now, changed = _prepared(hub, items, where)
    return len(docs), [str(d["code"]) for d in changed]


def _prepared(hub: Hub, items: Iterable[Mapping[str, Any]], where: Sequence[str]
              ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]],
                         list[dict[str, Any]]]:
    """Every item checked (refused as :func:`import_catalog` says), the stored documents
    of their codes, and the items that differ from what is stored."""
    from hub.admin import _checked
    from hub.catalog_sheet import Problems

    docs = []
    seen: dict[str, int] = {}
    # every refused item named, as the file's reading names every bad cell: the first
    # alone took one import per item to find a column of promises over their limits
    problems = Problems(("个事项被拒绝", "items refused"))
    for n, item in enumerate(items):
        at = where[n] if n < len(where) else f"items[{n}]"
        if not isinstance(item, Mapping):
            problems.add(BadInput(f"{at}: a service item is a JSON object, not "
                                  f"{type(item).__name__}"))
            continue
        code = str(item.get("code"))
        if code in seen:  # stored one after the other, the first was lost without a word
            problems.add(BadInput(
                f"{at} ({code}): code: the same as items[{seen[code]}]'s; each item once "
                f"(unique, 6.2.4) / 事项编码与第 {seen[code] + 1} 项重复"))
            continue
        seen[code] = n
        # what every item is: the officer's file names the item, not the document's shape
        doc = {"type": "service_item", "schema_version": SCHEMA_VERSION, **item,
               "_id": f"service_item:{code}"}
        try:
            checked = _checked({k: v for k, v in doc.items() if k not in ("_rev", "sig")})
            _promise_within_statutory(checked)
        except BadInput as exc:
            problems.add(BadInput(f"{at} ({code}): {exc.reason}"))
            continue
        docs.append(checked)
    problems.check()  # all or none, before the store is read
    stored = _stored(hub, [str(d["_id"]) for d in docs])
    # an item as stored is not written again: its ``written`` clock dates the last change
    # of the list, from which the hub judges what stations state (hub.transitions.
    # pulled_after); the officer imports the whole list to add one item, and every earlier
    # change was judged again only from each station's next pull
    return docs, stored, [d for d in docs if _body(stored.get(str(d["_id"])) or {}) != d]


def _put_all(hub: Hub, docs: list[dict[str, Any]], current: dict[str, dict[str, Any]]
             ) -> None:
    """Write ``docs`` (checked reference bodies) signed by the hub's device, each with its
    ``written`` clock, in one request per round (module docstring); ``current``: the stored
    documents as read just before (read again only for a conflict)."""
    main = hub.stores.main
    pending = {str(d["_id"]): d for d in docs}
    for _ in range(ATTEMPTS):
        if not pending:
            return
        signed = []
        for docid, body in pending.items():
            now = current.get(docid) or {}
            out = {k: v for k, v in body.items() if k not in ("_rev", "sig", WRITTEN)}
            if now.get("_rev"):
                out["_rev"] = now["_rev"]
            out[WRITTEN] = stamp(now, hub.identity["device_id"])
            signed.append(sign_document(out, hub.keys.signer))
        results = main.bulk_docs(signed)
        hub.stores.forget_reference()  # this process sees them at once, not within max_age
        refused = [r for r in results if "error" in r and r.get("error") != "conflict"]
        if refused:
            names = "; ".join(f"{r.get('id')}: {r.get('error')} {r.get('reason', '')}"
                              for r in refused)
            raise HubError(f"the store refused {len(refused)} item(s) ({names}); import the "
                           "file again to finish (unchanged items are not written again) / "
                           "存储拒绝了部分事项，请重新导入")
        pending = {k: v for k, v in pending.items()
                   if k in {r.get("id") for r in results if r.get("error") == "conflict"}}
        current = _stored(hub, list(pending)) if pending else current
    if pending:
        raise AlreadyExists(f"{', '.join(sorted(pending))} kept changing")


def _stored(hub: Hub, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The reference documents ``ids`` the hub holds, as stored, in one request."""
    rows = hub.stores.main.all_docs(keys=ids, include_docs=True)["rows"] if ids else []
    return {str(r["id"]): r["doc"] for r in rows if r.get("doc")}


def _body(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored reference document as it was given (without ``_rev``, ``sig``, ``written``)."""
    return {k: v for k, v in doc.items() if k not in ("_rev", "sig", WRITTEN)}


def _promise_within_statutory(item: Mapping[str, Any]) -> None:
    """10.1.3: the list's promised limit (承诺时限) within its statutory one (法定时限), as
    every station's form A must be (schemas.rules.check_time_limit). A list saying 2 days
    promised for a 即办 (0-day) item had every station pre-fill form A with 2 and refuse it."""
    promised, statutory = item.get("promised_days"), item.get("time_limit_days")
    if isinstance(promised, int) and isinstance(statutory, int) and promised > statutory:
        raise BadInput(f"promised_days: {promised} is over time_limit_days {statutory} "
                       "(promised_within_statutory, 10.1.3) / 承诺时限不得超过法定时限")


__all__ = ["check_catalog", "import_catalog"]
