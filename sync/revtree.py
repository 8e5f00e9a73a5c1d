"""CouchDB revision trees as pure functions (no IO).

A document's history is a forest of revisions ``"N-hash"`` (CouchDB docs,
"Replication and conflict model"; couch_key_tree.erl; PouchDB's pouchdb-merge).
Instead of CouchDB's nested ``[(start_pos, tree)]`` we keep the equivalent flat
form, one :class:`RevNode` per revision keyed by its rev string, with the parent
link, the deleted flag and whether the body is still stored. Positions are part
of the rev, so the flat form carries the same information, several roots are
simply several nodes without a parent (a stemmed or disjoint history), and
merging is set union of nodes plus parent links, which is order-independent by
construction (couch_key_tree:merge/3 gives the same result for the same paths).

The functions never mutate their arguments; they return new trees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sync.errors import BadRequest

#: CouchDB 3's default ``_revs_limit``.
DEFAULT_REVS_LIMIT = 1000


class RevNode(NamedTuple):
    """One revision: its parent rev (``None`` for a root), deleted flag, body stored.

    A named tuple: documents with 1000-revision histories are decoded on every
    write, and tuples are the cheapest objects to build."""

    parent: str | None
    deleted: bool = False
    available: bool = True


RevTree = dict[str, RevNode]


# -- rev strings -------------------------------------------------------------
def parse_rev(rev: Any) -> tuple[int, str]:
    """``"3-abc"`` → ``(3, "abc")``; anything else is CouchDB's 400 "Invalid rev format"
    (couch_doc:parse_rev: an integer prefix, a dash, a non-empty id)."""
    if not isinstance(rev, str):
        raise BadRequest("Invalid rev format")
    pos_s, sep, rev_id = rev.partition("-")
    if not sep or not rev_id or not pos_s.isdigit() or not pos_s.isascii():
        raise BadRequest("Invalid rev format")
    pos = int(pos_s)
    if pos < 1:
        raise BadRequest("Invalid rev format")
    return pos, rev_id


def validate_rev(rev: Any) -> str:
    """Return ``rev`` if it is a well-formed ``N-id`` rev; else raise BadRequest."""
    parse_rev(rev)
    return rev  # type: ignore[no-any-return]


def format_rev(pos: int, rev_id: str) -> str:
    return f"{pos}-{rev_id}"


def rev_pos(rev: str) -> int:
    return int(rev.partition("-")[0])


def _sort_key(rev: str, deleted: bool) -> tuple[bool, int, str]:
    # CouchDB's winning-rev order (couch_doc:to_doc_info, PouchDB winningRev):
    # non-deleted before deleted, then the longer history, then the greater id.
    pos, _, rev_id = rev.partition("-")
    return (not deleted, int(pos), rev_id)


# -- paths from documents ------------------------------------------------------
def path_from_revisions(revisions: Mapping[str, Any]) -> list[str]:
    """``{"start": 3, "ids": ["c", "b", "a"]}`` → ``["3-c", "2-b", "1-a"]`` (leaf first)."""
    start = revisions.get("start")
    ids = revisions.get("ids")
    if (
        not isinstance(start, int)
        or isinstance(start, bool)
        or not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and i for i in ids)
    ):
        raise BadRequest("_revisions must be {\"start\": int, \"ids\": [string, ...]}")
    if start - len(ids) < 0:
        raise BadRequest("_revisions start is lower than the number of ids")
    return [format_rev(start - i, rev_id) for i, rev_id in enumerate(ids)]


def revisions(tree: RevTree, rev: str) -> dict[str, Any]:
    """The ``_revisions`` object of ``rev``: its known ancestry, leaf first."""
    chain = ancestry(tree, rev)
    return {"start": rev_pos(rev), "ids": [r.partition("-")[2] for r in chain]}


def ancestry(tree: Mapping[str, RevNode], rev: str) -> list[str]:
    """``rev`` and its ancestors known to the tree, leaf first."""
    chain = [rev]
    node = tree.get(rev)
    while node is not None and node.parent is not None:
        chain.append(node.parent)
        node = tree.get(node.parent)
    return chain


# -- tree queries ----------------------------------------------------------------
def leaves(tree: Mapping[str, RevNode]) -> list[str]:
    """All leaf revs, in CouchDB's doc_info order: the winner first."""
    parents = {n.parent for n in tree.values() if n.parent is not None}
    found = [r for r in tree if r not in parents]
    found.sort(key=lambda r: _sort_key(r, tree[r].deleted), reverse=True)
    return found


def winning_rev(tree: Mapping[str, RevNode]) -> str:
    """The deterministic winner every replica agrees on (CouchDB "Replication and
    conflict model": non-deleted leaves beat deleted ones, then highest pos, then
    the greatest rev id)."""
    parents = {n.parent for n in tree.values() if n.parent is not None}
    best = max(
        (r for r in tree if r not in parents),
        key=lambda r: _sort_key(r, tree[r].deleted),
        default=None,
    )
    if best is None:
        raise ValueError("empty revision tree")
    return best


def is_deleted(tree: Mapping[str, RevNode]) -> bool:
    """Whether the document as a whole is deleted (its winner is a tombstone)."""
    return tree[winning_rev(tree)].deleted


def conflicts(tree: Mapping[str, RevNode]) -> list[str]:
    """``_conflicts``: the non-deleted leaves that lost."""
    found = leaves(tree)
    return [r for r in found[1:] if not tree[r].deleted]


def deleted_conflicts(tree: Mapping[str, RevNode]) -> list[str]:
    """``_deleted_conflicts``: the deleted leaves that lost."""
    found = leaves(tree)
    return [r for r in found[1:] if tree[r].deleted]


def is_leaf(tree: Mapping[str, RevNode], rev: str) -> bool:
    return rev in tree and all(n.parent != rev for n in tree.values())


def leaf_descendants(tree: Mapping[str, RevNode], rev: str) -> list[str]:
    """The leaves at or below ``rev`` (``latest=true`` in CouchDB's open_revs)."""
    return [leaf for leaf in leaves(tree) if rev in ancestry(tree, leaf)]


def revs_info(tree: Mapping[str, RevNode], rev: str) -> list[dict[str, str]]:
    """``_revs_info``: each known ancestor with ``available``/``deleted``/``missing``."""
    out = []
    for r in ancestry(tree, rev):
        node = tree.get(r)
        if node is None or not node.available:
            status = "missing"
        elif node.deleted:
            status = "deleted"
        else:
            status = "available"
        out.append({"rev": r, "status": status})
    return out


def find_missing(tree: Mapping[str, RevNode], revs: Iterable[str]) -> list[str]:
    """The revs of ``revs`` the tree does not know (couch_key_tree:find_missing:
    a known rev counts even if its body was compacted or stemmed away)."""
    seen: set[str] = set()
    out = []
    for r in revs:
        if r not in tree and r not in seen:
            seen.add(r)
            out.append(r)
    return out


def possible_ancestors(tree: Mapping[str, RevNode], missing: Sequence[str]) -> list[str]:
    """CouchDB's ``possible_ancestors`` for ``_revs_diff`` (couch_db:find_missing):
    every leaf (deleted or not) whose pos is lower than the pos of some missing rev,
    in CouchDB's order: its fold prepends, so the winner comes last)."""
    if not missing:
        return []
    top = max(rev_pos(r) for r in missing)
    return [leaf for leaf in reversed(leaves(tree)) if rev_pos(leaf) < top]


def atts_since_pos(tree: Mapping[str, RevNode], rev: str, atts_since: Iterable[str]) -> int:
    """The highest pos among ``atts_since`` revs that are ancestors of ``rev``
    (CouchDB sends attachment bodies only for revpos above it)."""
    chain = set(ancestry(tree, rev))
    return max((rev_pos(r) for r in atts_since if r in chain), default=0)


# -- updates -----------------------------------------------------------------------
def merge(
    tree: Mapping[str, RevNode],
    path: Sequence[str],
    *,
    deleted: bool = False,
    available: bool = True,
    revs_limit: int = DEFAULT_REVS_LIMIT,
) -> tuple[RevTree, bool]:
    """Graft ``path`` (leaf first, consecutive positions) into ``tree``, then stem.

    Returns ``(new_tree, changed)``. Existing nodes keep their flags; new inner
    nodes have no body (CouchDB's ?REV_MISSING). Which writes reach a merge at all
    is decided by :func:`edit_parent` and :func:`replicated_accepted`. A path whose root is older than a stemmed
    root re-links it (couch_key_tree merge_at), and a path sharing no rev with the
    tree becomes another root.
    """
    if not path:
        raise ValueError("empty path")
    new: RevTree = dict(tree)
    for i, rev in enumerate(path):
        parent = path[i + 1] if i + 1 < len(path) else None
        node = new.get(rev)
        if node is None:
            new[rev] = RevNode(parent, deleted if i == 0 else False, available if i == 0 else False)
        elif node.parent is None and parent is not None:
            new[rev] = RevNode(parent, node.deleted, node.available)
    new, _ = stem(new, revs_limit)
    return new, new != tree


def stem(tree: Mapping[str, RevNode], limit: int) -> tuple[RevTree, list[str]]:
    """Keep only revs within ``limit`` of some leaf (couch_key_tree:stem).

    Returns ``(new_tree, dropped_revs)``; every leaf survives (``limit >= 1``).
    """
    limit = max(1, limit)
    if len(tree) <= limit:
        return dict(tree), []  # no rev can be further than `limit` from a leaf
    keep: set[str] = set()
    for leaf in leaves(tree):
        rev: str | None = leaf
        for _ in range(limit):
            if rev is None or rev not in tree:
                break
            keep.add(rev)
            rev = tree[rev].parent
    dropped = [r for r in tree if r not in keep]
    if not dropped:
        return dict(tree), []
    new: RevTree = {}
    for r in keep:
        node = tree[r]
        if node.parent is not None and node.parent not in keep:
            node = RevNode(None, node.deleted, node.available)
        new[r] = node
    return new, dropped


def drop_bodies(tree: Mapping[str, RevNode]) -> tuple[RevTree, list[str]]:
    """Compaction: forget the bodies of non-leaf revs; returns the revs whose body went."""
    leaf_set = set(leaves(tree))
    new: RevTree = {}
    gone = []
    for r, node in tree.items():
        if node.available and r not in leaf_set:
            node = RevNode(node.parent, node.deleted, False)
            gone.append(r)
        new[r] = node
    return new, gone


def new_rev(
    prev_rev: str | None,
    *,
    deleted: bool,
    body: Mapping[str, Any] | str,
    att_digests: Iterable[str] = (),
) -> str:
    """The next rev for a ``new_edits=true`` write: pos+1 and an md5 over the
    deleted flag, the previous rev, the body and the attachment digests, as
    couch_db:new_revid does over the Erlang terms. The body is hashed as compact
    JSON in document order (CouchDB hashes term_to_binary of the body, also in
    document order); pass ``body`` already serialised to skip a re-encoding. The
    same edit of the same parent gives the same rev on every replica."""
    pos = rev_pos(prev_rev) + 1 if prev_rev else 1
    body_json = body if isinstance(body, str) else _ENCODER.encode(body)
    digests = ",".join(sorted(att_digests))
    payload = f"{int(deleted)}\n{prev_rev or ''}\n{digests}\n{body_json}"
    return format_rev(pos, hashlib.md5(payload.encode("utf-8")).hexdigest())


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


# -- CouchDB's update rules ----------------------------------------------------------
class EditConflict(Exception):
    """A ``new_edits=true`` write that CouchDB answers with 409 ``conflict``."""


def edit_parent(
    stored: Mapping[str, RevNode],
    current: Mapping[str, RevNode],
    rev: str | None,
    *,
    deleted: bool,
) -> str | None:
    """The parent of a ``new_edits=true`` edit (``None`` for a new document), or
    :class:`EditConflict`.

    ``stored`` is the tree before the request (couch_db:prep_and_validate_update: a
    given ``_rev`` must be a stored leaf; no ``_rev`` needs a new or deleted doc);
    ``current`` is the tree as earlier docs of the same request left it
    (couch_db_updater:merge_rev_tree: on a deleted doc only a recreation, no
    ``_rev`` and not a delete, is accepted, as a child of the winning tombstone;
    CouchDB 3 refuses an edit from a tombstone's rev, which PouchDB accepts).
    """
    if not stored:
        if rev is not None:
            raise EditConflict(rev)
    elif rev is None:
        if not is_deleted(stored):
            raise EditConflict(rev)
    elif rev not in stored or not is_leaf(stored, rev):
        raise EditConflict(rev)
    if current and is_deleted(current):
        if rev is not None or deleted:
            raise EditConflict(rev)
        return winning_rev(current)
    if rev is None:
        if current:
            raise EditConflict(rev)  # it would start a second root
        return None
    if not is_leaf(current, rev):
        raise EditConflict(rev)
    return rev


def replicated_accepted(
    stored: Mapping[str, RevNode], paths: Sequence[tuple[Sequence[str], bool]]
) -> list[bool]:
    """Which ``new_edits=false`` docs of one id are written
    (couch_db:prep_and_validate_replicated_updates): all paths ``(path, deleted)``
    are merged together, and a doc counts only if its rev is a leaf of that merge
    and was not a leaf before ("this doc isn't a leaf or already exists in the
    tree. ignore but consider it a success"). CouchDB applies this when the
    database has validation functions or the request holds design docs or
    attachments, else it merges every path; we always apply it, which makes a
    known rev a no-op as in PouchDB."""
    old_leaves = set(leaves(stored)) if stored else set()
    merged: RevTree = dict(stored)
    for path, deleted in paths:
        merged, _ = merge(merged, path, deleted=deleted, revs_limit=NO_STEM)
    new_leaves = set(leaves(merged))
    return [p[0] in new_leaves and p[0] not in old_leaves for p, _ in paths]


#: A revs_limit that never stems (merges inside one request; stemming follows).
NO_STEM = 1 << 62


# -- (de)serialisation: compact JSON kept in the document row ---------------------
def dumps(tree: Mapping[str, RevNode]) -> str:
    """``{"rev": [parent, deleted, available], ...}`` as compact JSON."""
    return _ENCODER.encode(
        {r: [n.parent, int(n.deleted), int(n.available)] for r, n in tree.items()}
    )


def loads(text: str) -> RevTree:
    make = RevNode._make
    # deleted/available stay 0/1 ints: they compare and test like the bools
    return {r: make(v) for r, v in json.loads(text).items()}
