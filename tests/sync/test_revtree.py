"""sync.revtree: CouchDB revision trees as pure functions."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import revtree
from sync.errors import BadRequest
from sync.revtree import RevNode


def build(*paths: list[str], deleted: tuple[str, ...] = (), limit: int = 1000) -> revtree.RevTree:
    tree: revtree.RevTree = {}
    for path in paths:
        tree, _ = revtree.merge(tree, path, deleted=path[0] in deleted, revs_limit=limit)
    return tree


# -- rev strings ---------------------------------------------------------------------
@pytest.mark.parametrize("rev", ["1-a", "12-0123456789abcdef0123456789abcdef", "3-x-y"])
def test_parse_valid(rev: str) -> None:
    pos, rid = revtree.parse_rev(rev)
    assert revtree.format_rev(pos, rid) == rev


@pytest.mark.parametrize("rev", ["", "abc", "1-", "-a", "0-a", "x-a", "1a", None, 3, "١-a"])
def test_parse_invalid(rev: object) -> None:
    with pytest.raises(BadRequest, match="Invalid rev format"):
        revtree.parse_rev(rev)


def test_path_from_revisions() -> None:
    assert revtree.path_from_revisions({"start": 3, "ids": ["c", "b", "a"]}) == ["3-c", "2-b", "1-a"]
    for bad in ({"start": 1, "ids": ["b", "a"]}, {"start": "3", "ids": ["c"]}, {"start": 2, "ids": []},
                {"ids": ["a"]}, {"start": 1, "ids": [1]}):
        with pytest.raises(BadRequest):
            revtree.path_from_revisions(bad)


# -- winner and conflicts --------------------------------------------------------------
def test_winner_highest_pos_then_rev_id() -> None:
    tree = build(["3-a", "2-a", "1-a"], ["2-z", "1-a"])
    assert revtree.winning_rev(tree) == "3-a"
    tree = build(["2-b", "1-a"], ["2-c", "1-a"])
    assert revtree.winning_rev(tree) == "2-c"
    assert revtree.conflicts(tree) == ["2-b"]


def test_live_leaf_beats_longer_deleted_leaf() -> None:
    tree = build(["4-d", "3-c", "2-b", "1-a"], ["2-x", "1-a"], deleted=("4-d",))
    assert revtree.winning_rev(tree) == "2-x"
    assert revtree.conflicts(tree) == []
    assert revtree.deleted_conflicts(tree) == ["4-d"]
    assert not revtree.is_deleted(tree)


def test_all_deleted_highest_tombstone_wins() -> None:
    tree = build(["2-b", "1-a"], ["3-c", "2-c", "1-a"], deleted=("2-b", "3-c"))
    assert revtree.winning_rev(tree) == "3-c"
    assert revtree.is_deleted(tree)
    assert revtree.deleted_conflicts(tree) == ["2-b"]


def test_deleting_a_conflict_leaf_makes_the_other_win() -> None:
    tree = build(["2-b", "1-a"], ["2-c", "1-a"])
    assert revtree.winning_rev(tree) == "2-c"
    tree, _ = revtree.merge(tree, ["3-d", "2-c"], deleted=True)
    assert revtree.winning_rev(tree) == "2-b"
    assert revtree.conflicts(tree) == []
    assert revtree.deleted_conflicts(tree) == ["3-d"]


def test_leaves_order_winner_first() -> None:
    tree = build(["2-a", "1-a"], ["2-b", "1-a"], ["2-c", "1-a"], deleted=("2-c",))
    assert revtree.leaves(tree) == ["2-b", "2-a", "2-c"]


# -- merge -----------------------------------------------------------------------------------
def test_merge_known_rev_is_noop() -> None:
    tree = build(["2-b", "1-a"])
    new, changed = revtree.merge(tree, ["2-b", "1-a"])
    assert not changed and new == tree
    new, changed = revtree.merge(tree, ["1-a"])
    assert not changed


def test_merge_extends_and_branches() -> None:
    tree = build(["2-b", "1-a"])
    tree, changed = revtree.merge(tree, ["4-d", "3-c", "2-b"])
    assert changed and revtree.leaves(tree) == ["4-d"]
    assert revtree.ancestry(tree, "4-d") == ["4-d", "3-c", "2-b", "1-a"]
    assert not tree["3-c"].available and tree["4-d"].available
    tree, _ = revtree.merge(tree, ["3-x", "2-b"])
    assert set(revtree.leaves(tree)) == {"4-d", "3-x"}


def test_merge_relinks_stemmed_root_and_keeps_disjoint_roots() -> None:
    tree = build(["4-d", "3-c"])
    assert tree["3-c"].parent is None
    tree, changed = revtree.merge(tree, ["3-c", "2-b", "1-a"])
    assert changed and revtree.ancestry(tree, "4-d") == ["4-d", "3-c", "2-b", "1-a"]
    tree = build(["4-d", "3-c"], ["2-x", "1-a"])
    assert set(revtree.leaves(tree)) == {"4-d", "2-x"}
    assert revtree.winning_rev(tree) == "4-d"


def test_revisions_and_revs_info() -> None:
    tree = build(["3-c", "2-b", "1-a"], deleted=())
    tree, _ = revtree.merge(tree, ["4-d", "3-c"], deleted=True)
    assert revtree.revisions(tree, "4-d") == {"start": 4, "ids": ["d", "c", "b", "a"]}
    assert revtree.revs_info(tree, "4-d") == [
        {"rev": "4-d", "status": "deleted"},
        {"rev": "3-c", "status": "available"},
        {"rev": "2-b", "status": "missing"},
        {"rev": "1-a", "status": "missing"},
    ]


def test_find_missing_and_possible_ancestors() -> None:
    tree = build(["2-b", "1-a"], ["3-c", "2-c", "1-a"], deleted=("3-c",))
    missing = revtree.find_missing(tree, ["1-a", "3-z", "3-z", "2-c"])
    assert missing == ["3-z"]
    # every leaf with a lower pos than some missing rev, deleted ones too
    assert set(revtree.possible_ancestors(tree, ["4-q"])) == {"2-b", "3-c"}
    assert revtree.possible_ancestors(tree, ["3-q"]) == ["2-b"]
    assert revtree.possible_ancestors(tree, ["1-q"]) == []


def test_leaf_descendants_and_atts_since() -> None:
    tree = build(["3-c", "2-b", "1-a"], ["2-x", "1-a"])
    assert set(revtree.leaf_descendants(tree, "1-a")) == {"3-c", "2-x"}
    assert revtree.leaf_descendants(tree, "2-b") == ["3-c"]
    assert revtree.atts_since_pos(tree, "3-c", ["2-b", "2-x", "9-z"]) == 2
    assert revtree.atts_since_pos(tree, "3-c", ["2-x"]) == 0


def test_new_rev_deterministic_and_sensitive() -> None:
    a = revtree.new_rev("1-a", deleted=False, body={"x": 1, "y": [1]})
    assert a == revtree.new_rev("1-a", deleted=False, body={"x": 1, "y": [1]})
    assert a == revtree.new_rev("1-a", deleted=False, body='{"x":1,"y":[1]}')
    assert a.startswith("2-") and len(a) == 2 + 32
    assert a != revtree.new_rev("1-b", deleted=False, body={"x": 1, "y": [1]})
    assert a != revtree.new_rev("1-a", deleted=True, body={"x": 1, "y": [1]})
    assert a != revtree.new_rev("1-a", deleted=False, body={"x": 1, "y": [1]}, att_digests=["md5-x"])
    assert revtree.new_rev(None, deleted=False, body={}).startswith("1-")


def test_stem_and_drop_bodies() -> None:
    tree = build(["5-e", "4-d", "3-c", "2-b", "1-a"], ["3-x", "2-b"])
    stemmed, dropped = revtree.stem(tree, 2)
    assert set(stemmed) == {"5-e", "4-d", "3-x", "2-b"}
    assert set(dropped) == {"3-c", "1-a"}
    assert stemmed["4-d"].parent is None and stemmed["2-b"].parent is None
    tree = build(["1-a"], ["2-b", "1-a"], ["3-c", "2-b"], ["3-x", "2-b"])
    compacted, gone = revtree.drop_bodies(tree)
    assert set(gone) == {"1-a", "2-b"}
    assert [r for r in compacted if compacted[r].available] == ["3-c", "3-x"]
    assert {r: n.parent for r, n in compacted.items()} == {r: n.parent for r, n in tree.items()}


def test_merge_stems_to_limit() -> None:
    tree = build(["5-e", "4-d", "3-c", "2-b", "1-a"], limit=3)
    assert set(tree) == {"5-e", "4-d", "3-c"}
    assert revtree.revisions(tree, "5-e") == {"start": 5, "ids": ["e", "d", "c"]}


def test_dumps_loads_roundtrip() -> None:
    tree = build(["3-c", "2-b", "1-a"], ["2-x", "1-a"], deleted=("2-x",))
    assert revtree.loads(revtree.dumps(tree)) == tree


# -- properties -----------------------------------------------------------------------
@st.composite
def histories(draw: st.DrawFn) -> tuple[revtree.RevTree, list[list[str]]]:
    """A random branching history (the 'universe') and paths cut out of it."""
    n = draw(st.integers(1, 25))
    universe: dict[str, str | None] = {}
    names = iter(itertools.count())
    for _ in range(n):
        # mostly children of earlier revs (branches), sometimes new roots
        use_parent = bool(universe) and (draw(st.booleans()) or draw(st.booleans()))
        parent = draw(st.sampled_from(sorted(universe))) if use_parent else None
        pos = revtree.rev_pos(parent) + 1 if parent else 1
        rid = f"{draw(st.integers(0, 3))}{next(names):02x}"
        universe[f"{pos}-{rid}"] = parent
    full = {r: RevNode(p, deleted=False, available=True) for r, p in universe.items()}
    paths = []
    for _ in range(draw(st.integers(1, 8))):
        leaf = draw(st.sampled_from(sorted(universe)))
        chain = revtree.ancestry(full, leaf)
        cut = draw(st.integers(1, len(chain)))
        paths.append(chain[:cut])
    return full, paths


@given(histories(), st.randoms(use_true_random=False), st.sets(st.integers(0, 30)))
@settings(max_examples=200, deadline=None)
def test_merge_is_order_independent(
    data: tuple[revtree.RevTree, list[list[str]]], rnd: random.Random, deleted_ids: set[int]
) -> None:
    _, paths = data
    dels = {p[0] for i, p in enumerate(paths) if i in deleted_ids}

    def merge_all(order: list[list[str]]) -> revtree.RevTree:
        tree: revtree.RevTree = {}
        for p in order:
            tree, _ = revtree.merge(tree, p, deleted=p[0] in dels)
        return tree

    base = merge_all(paths)
    shuffled = list(paths)
    rnd.shuffle(shuffled)
    other = merge_all(shuffled)
    # Interior revs learnt only from a _revisions list carry no flags (as in CouchDB),
    # so compare the shape, the leaves with their flags, and the winner.
    assert {r: n.parent for r, n in base.items()} == {r: n.parent for r, n in other.items()}
    assert revtree.leaves(base) == revtree.leaves(other)
    assert all(base[r] == other[r] for r in revtree.leaves(base))
    assert revtree.winning_rev(base) == revtree.winning_rev(other)
    assert revtree.conflicts(base) == revtree.conflicts(other)
    assert revtree.deleted_conflicts(base) == revtree.deleted_conflicts(other)


@given(histories(), st.integers(1, 6))
@settings(max_examples=200, deadline=None)
def test_stemming_keeps_leaves_and_winner(
    data: tuple[revtree.RevTree, list[list[str]]], limit: int
) -> None:
    full, _ = data
    stemmed, dropped = revtree.stem(full, limit)
    assert revtree.leaves(stemmed) == revtree.leaves(full)
    assert revtree.winning_rev(stemmed) == revtree.winning_rev(full)
    assert set(stemmed) | set(dropped) == set(full)
    # couch_key_tree:stem keeps exactly the revs within `limit` of some leaf below
    # them (a shared ancestor kept for one branch keeps its links to the others).
    near = {r for leaf in revtree.leaves(full) for r in revtree.ancestry(full, leaf)[:limit]}
    assert set(stemmed) == near
    for leaf in revtree.leaves(stemmed):
        chain = revtree.ancestry(stemmed, leaf)
        assert chain == revtree.ancestry(full, leaf)[: len(chain)]
        assert len(chain) >= min(limit, len(revtree.ancestry(full, leaf)))
    # every parent link that survives points at a kept node
    assert all(n.parent is None or n.parent in stemmed for n in stemmed.values())


@given(histories())
@settings(max_examples=100, deadline=None)
def test_merge_of_whole_history_rebuilds_it(data: tuple[revtree.RevTree, list[list[str]]]) -> None:
    full, _ = data
    tree: revtree.RevTree = {}
    for leaf in revtree.leaves(full):
        tree, _ = revtree.merge(tree, revtree.ancestry(full, leaf))
    assert {r: n.parent for r, n in tree.items()} == {r: n.parent for r, n in full.items()}
    assert revtree.winning_rev(tree) == revtree.winning_rev(full)


# -- update rules ------------------------------------------------------------------------
def test_edit_parent_rules() -> None:
    live = build(["2-b", "1-a"], ["2-c", "1-a"])
    dead = build(["2-b", "1-a"], deleted=("2-b",))
    assert revtree.edit_parent({}, {}, None, deleted=False) is None
    assert revtree.edit_parent(live, live, "2-b", deleted=False) == "2-b"
    assert revtree.edit_parent(live, live, "2-c", deleted=True) == "2-c"
    assert revtree.edit_parent(dead, dead, None, deleted=False) == "2-b"  # recreation
    for stored, current, rev, deleted in [
        ({}, {}, "1-a", False),  # a rev for a doc that does not exist
        (live, live, None, False),  # no rev on a live doc
        (live, live, "1-a", False),  # not a leaf
        (live, live, "9-z", False),  # unknown
        (dead, dead, "2-b", False),  # edit from the tombstone's rev (CouchDB 3)
        (dead, dead, None, True),  # delete a deleted doc
    ]:
        with pytest.raises(revtree.EditConflict):
            revtree.edit_parent(stored, current, rev, deleted=deleted)
    # checked against the stored tree: a rev made earlier in the request is no leaf there
    after, _ = revtree.merge(live, ["3-d", "2-b"])
    with pytest.raises(revtree.EditConflict):
        revtree.edit_parent(live, after, "3-d", deleted=False)
    # and against the current one: the first edit of 2-b used it up
    with pytest.raises(revtree.EditConflict):
        revtree.edit_parent(live, after, "2-b", deleted=False)


def test_replicated_accepted() -> None:
    stored = build(["2-b", "1-a"])
    assert revtree.replicated_accepted(stored, [(["2-b", "1-a"], False)]) == [False]
    assert revtree.replicated_accepted(stored, [(["1-a"], False)]) == [False]
    assert revtree.replicated_accepted(stored, [(["3-c", "2-b"], False)]) == [True]
    both = [(["3-c", "2-b"], False), (["4-d", "3-c", "2-b"], False)]
    assert revtree.replicated_accepted(stored, both) == [False, True]
    assert revtree.replicated_accepted(stored, both[::-1]) == [True, False]
    assert revtree.replicated_accepted({}, [(["1-x"], True), (["1-y"], False)]) == [True, True]
