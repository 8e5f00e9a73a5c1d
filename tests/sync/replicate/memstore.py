"""A tiny in-memory DocumentStore for the replicator's unit tests.

It implements just enough CouchDB semantics (revision trees with conflicts and
tombstones, ``new_edits=false`` grafting, ``_changes`` with ``style=all_docs``,
``_revs_diff``, ``_bulk_get``/``open_revs`` with ``latest`` and ``atts_since``,
``_local`` docs, inline attachments) that the replicator's protocol logic can be
tested quickly and independently of the real backends (which the interop tests
cover). Not a product: no stemming, no compaction, no validation of input.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.errors import Conflict, MethodNotAllowed, NotFound
from sync.store import JSON, DocumentStore, Seq


def gen(rev: str) -> int:
    return int(rev.split("-", 1)[0])


@dataclass
class Node:
    parent: str | None
    body: JSON | None
    deleted: bool


@dataclass
class Doc:
    tree: dict[str, Node] = field(default_factory=dict)
    seq: int = 0

    def leaves(self) -> list[str]:
        parents = {n.parent for n in self.tree.values()}
        return [r for r in self.tree if r not in parents]

    def ordered_leaves(self) -> list[str]:
        """Winner first (CouchDB: non-deleted, then highest generation, then rev id)."""
        return sorted(self.leaves(), key=lambda r: (not self.tree[r].deleted, gen(r), r),
                      reverse=True)

    def winner(self) -> str:
        return self.ordered_leaves()[0]

    def path(self, rev: str) -> list[str]:
        out = []
        cur: str | None = rev
        while cur is not None and cur in self.tree:
            out.append(cur)
            cur = self.tree[cur].parent
        return out


class MemStore(DocumentStore):
    #: Reads walk plain dicts: the replicator must serialise calls to this store.
    thread_safe = False

    def __init__(self, name: str = "mem", *, bulk_get: bool = True,
                 validate: Callable[[Mapping[str, Any]], str | None] | None = None) -> None:
        self.name = name
        self.docs: dict[str, Doc] = {}
        self.local: dict[str, JSON] = {}
        self.seq = 0
        self.has_bulk_get = bulk_get
        self.validate = validate
        self.calls: dict[str, int] = {}
        self.cond = threading.Condition()

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    # -- reading -------------------------------------------------------------
    def info(self) -> JSON:
        self._count("info")
        alive = [d for d in self.docs.values() if not d.tree[d.winner()].deleted]
        return {"db_name": self.name, "doc_count": len(alive),
                "doc_del_count": len(self.docs) - len(alive), "update_seq": self.seq,
                "instance_start_time": "0", "sizes": {}}

    def _render(self, doc_id: str, d: Doc, rev: str, *, revs: bool = True,
                attachments: bool = False, atts_since: Sequence[str] | None = None) -> JSON:
        node = d.tree[rev]
        out: JSON = {"_id": doc_id, "_rev": rev}
        if node.deleted:
            out["_deleted"] = True
        body = copy.deepcopy(node.body or {})
        atts = body.pop("_attachments", None)
        out.update(body)
        if atts:
            known = max((gen(r) for r in (atts_since or ()) if r in d.tree), default=0)
            rendered = {}
            for name, att in atts.items():
                if attachments and att["revpos"] > known:
                    rendered[name] = {k: v for k, v in att.items() if k != "stub"}
                else:
                    rendered[name] = {k: v for k, v in att.items() if k != "data"} | {"stub": True}
            out["_attachments"] = rendered
        if revs:
            path = d.path(rev)
            out["_revisions"] = {"start": gen(rev), "ids": [r.split("-", 1)[1] for r in path]}
        return out

    def get(self, docid: str, *, rev: str | None = None, revs: bool = False,
            revs_info: bool = False, conflicts: bool = False, deleted_conflicts: bool = False,
            attachments: bool = False, atts_since: Sequence[str] | None = None,
            latest: bool = False) -> JSON:
        self._count("get")
        d = self.docs.get(docid)
        if d is None or (rev is not None and rev not in d.tree):
            raise NotFound("missing")
        r = rev or d.winner()
        if rev is None and d.tree[r].deleted:
            raise NotFound("deleted")
        out = self._render(docid, d, r, revs=revs, attachments=attachments, atts_since=atts_since)
        if conflicts:
            others = [x for x in d.ordered_leaves()[1:] if not d.tree[x].deleted]
            if others:
                out["_conflicts"] = others
        return out

    def _latest(self, d: Doc, rev: str) -> list[str]:
        return [leaf for leaf in d.leaves() if rev in d.path(leaf)]

    def open_revs(self, docid: str, revs: Sequence[str] | str, *, revs_info: bool = False,
                  attachments: bool = False, atts_since: Sequence[str] | None = None,
                  latest: bool = False) -> list[JSON]:
        self._count("open_revs")
        d = self.docs.get(docid)
        if d is None:
            raise NotFound("missing")
        wanted = d.ordered_leaves() if revs == "all" else list(revs)
        out: list[JSON] = []
        for rev in wanted:
            found = ([rev] if rev in d.tree else []) if not latest else self._latest(d, rev)
            if not found:
                out.append({"missing": rev})
            for r in found:
                out.append({"ok": self._render(docid, d, r, attachments=attachments,
                                               atts_since=atts_since)})
        return out

    def bulk_get(self, docs: Sequence[Mapping[str, Any]], *, revs: bool = False,
                 attachments: bool = False, latest: bool = False) -> JSON:
        self._count("bulk_get")
        if not self.has_bulk_get:
            raise MethodNotAllowed("no _bulk_get here")
        results = []
        for req in docs:
            doc_id = req["id"]
            try:
                rows = self.open_revs(doc_id, [req["rev"]] if req.get("rev") else "all",
                                      attachments=attachments, atts_since=req.get("atts_since"),
                                      latest=latest)
            except NotFound:
                rows = [{"missing": req.get("rev")}]
            entries = [r if "ok" in r else {"error": {"id": doc_id, "rev": r["missing"],
                                                      "error": "not_found", "reason": "missing"}}
                       for r in rows]
            results.append({"id": doc_id, "docs": entries})
        return {"results": results}

    def all_docs(self, *, keys: Sequence[str] | None = None, startkey: str | None = None,
                 endkey: str | None = None, inclusive_end: bool = True, limit: int | None = None,
                 skip: int = 0, descending: bool = False, include_docs: bool = False,
                 conflicts: bool = False, offset: bool = True) -> JSON:
        rows = []
        for doc_id in sorted(keys if keys is not None else self.docs):
            d = self.docs.get(doc_id)
            if d is None or d.tree[d.winner()].deleted:
                continue
            row: JSON = {"id": doc_id, "key": doc_id, "value": {"rev": d.winner()}}
            if include_docs:
                row["doc"] = self.get(doc_id, conflicts=conflicts)
            rows.append(row)
        return {"total_rows": len(rows), "offset": 0, "rows": rows}

    # -- changes ---------------------------------------------------------------
    @staticmethod
    def _matches(selector: Mapping[str, Any], body: JSON) -> bool:
        for key, cond in selector.items():
            want = cond.get("$eq") if isinstance(cond, dict) else cond
            if body.get(key) != want:
                return False
        return True

    def changes(self, *, since: Seq = 0, limit: int | None = None, descending: bool = False,
                style: str = "main_only", include_docs: bool = False, conflicts: bool = False,
                attachments: bool = False, doc_ids: Sequence[str] | None = None,
                selector: Mapping[str, Any] | None = None, feed: str = "normal",
                timeout: float | None = None, seq_interval: int | None = None) -> JSON:
        self._count("changes")
        start = 0 if since == "now" and False else int(since if since != "now" else self.seq)
        with self.cond:
            if feed == "longpoll":
                self.cond.wait_for(lambda: self.seq > start, timeout=timeout)
            rows = []
            for doc_id, d in sorted(self.docs.items(), key=lambda kv: kv[1].seq):
                if d.seq <= start:
                    continue
                if doc_ids is not None and doc_id not in doc_ids:
                    continue
                win = d.winner()
                if selector is not None and (d.tree[win].deleted or not self._matches(
                        selector, d.tree[win].body or {})):
                    continue
                leaves = d.ordered_leaves() if style == "all_docs" else [win]
                row: JSON = {"seq": d.seq, "id": doc_id, "changes": [{"rev": r} for r in leaves]}
                if d.tree[win].deleted:
                    row["deleted"] = True
                rows.append(row)
            limited = rows[:limit] if limit is not None else rows
            last = limited[-1]["seq"] if len(limited) < len(rows) else self.seq
            if seq_interval:
                for i, row in enumerate(limited):
                    if i != len(limited) - 1:
                        row["seq"] = None
            return {"results": limited, "last_seq": last, "pending": len(rows) - len(limited)}

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        self._count("revs_diff")
        out: JSON = {}
        for doc_id, wanted in revs.items():
            d = self.docs.get(doc_id)
            missing = [r for r in wanted if d is None or r not in d.tree]
            if missing:
                entry: JSON = {"missing": missing}
                if d is not None:
                    top = max(gen(r) for r in missing)
                    anc = [leaf for leaf in d.leaves() if gen(leaf) < top]
                    if anc:
                        entry["possible_ancestors"] = anc
                out[doc_id] = entry
        return out

    # -- writing ---------------------------------------------------------------
    def _attachments(self, doc_id: str, body: JSON, new_gen: int) -> None:
        atts = body.get("_attachments")
        if not atts:
            return
        for name, att in list(atts.items()):
            if att.get("stub"):
                old = None
                for node in self.docs.get(doc_id, Doc()).tree.values():
                    cand = (node.body or {}).get("_attachments", {}).get(name)
                    if cand and cand.get("digest") == att.get("digest", cand.get("digest")):
                        old = cand
                if old is None:
                    raise Conflict(f"stub for {name} has no attachment on the target")
                atts[name] = dict(old)
            else:
                raw = base64.b64decode(att["data"])
                digest = "md5-" + base64.b64encode(hashlib.md5(raw).digest()).decode()
                atts[name] = {"content_type": att.get("content_type", "application/octet-stream"),
                              "data": att["data"], "digest": digest, "length": len(raw),
                              "revpos": att.get("revpos", new_gen)}

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True
                  ) -> list[JSON]:
        self._count("bulk_docs")
        out: list[JSON] = []
        with self.cond:
            for raw in docs:
                doc = copy.deepcopy(dict(raw))
                doc_id = doc.pop("_id")
                rev = doc.pop("_rev", None)
                revisions = doc.pop("_revisions", None)
                deleted = bool(doc.pop("_deleted", False))
                if self.validate is not None:
                    reason = self.validate(raw)
                    if reason:
                        out.append({"id": doc_id, "error": "forbidden", "reason": reason})
                        continue
                d = self.docs.setdefault(doc_id, Doc())
                if new_edits:
                    if d.tree:
                        win = d.winner()
                        if rev is None and not d.tree[win].deleted or (
                                rev is not None and rev not in d.leaves()):
                            out.append({"id": doc_id, "error": "conflict",
                                        "reason": "Document update conflict."})
                            continue
                        parent = rev if rev is not None else win
                    else:
                        parent = None
                    g = gen(parent) + 1 if parent else 1
                    digest = hashlib.md5(json.dumps([parent, doc, deleted], sort_keys=True)
                                         .encode()).hexdigest()
                    new_rev = f"{g}-{digest}"
                    self._attachments(doc_id, doc, g)
                    d.tree[new_rev] = Node(parent, doc, deleted)
                    out.append({"ok": True, "id": doc_id, "rev": new_rev})
                else:
                    assert rev is not None
                    if revisions:
                        ids = revisions["ids"]
                        path = [f"{revisions['start'] - i}-{h}" for i, h in enumerate(ids)]
                    else:
                        path = [rev]
                    if path[0] in d.tree:
                        continue
                    try:
                        self._attachments(doc_id, doc, gen(rev))
                    except Conflict as exc:
                        out.append({"id": doc_id, "error": "missing_stub", "reason": exc.reason})
                        continue
                    for i, r in enumerate(path):
                        if r in d.tree:
                            break
                        parent = path[i + 1] if i + 1 < len(path) else None
                        d.tree[r] = Node(parent, doc if i == 0 else None, deleted if i == 0 else False)
                self.seq += 1
                d.seq = self.seq
            self.cond.notify_all()
        return out

    # -- _local ------------------------------------------------------------------
    def get_local(self, docid: str) -> JSON:
        self._count("get_local")
        key = docid.removeprefix("_local/")
        if key not in self.local:
            raise NotFound("missing")
        return copy.deepcopy(self.local[key])

    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        self._count("put_local")
        key = str(doc["_id"]).removeprefix("_local/")
        old = self.local.get(key)
        if old is not None and doc.get("_rev") != old["_rev"] or old is None and doc.get("_rev"):
            raise Conflict("Document update conflict.")
        n = int(old["_rev"].split("-")[1]) + 1 if old else 1
        self.local[key] = {**copy.deepcopy(dict(doc)), "_id": f"_local/{key}", "_rev": f"0-{n}"}
        return {"ok": True, "id": f"_local/{key}", "rev": f"0-{n}"}

    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        self.local.pop(docid.removeprefix("_local/"), None)
        return {"ok": True}

    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str]:
        att = self.get(docid, rev=rev, attachments=True)["_attachments"][name]
        return base64.b64decode(att["data"]), att["content_type"]

    def get_revs_limit(self) -> int:
        return 1000

    def set_revs_limit(self, limit: int) -> None:
        pass

    def compact(self) -> None:
        pass
