"""schemas.written: among conflicting leaves of a hub-written document, the one the hub wrote
last wins, whatever CouchDB's rule (depth, then rev hash) would keep (docs/operations.md, a
hub restored from a backup)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import SchemaError
from schemas.hlc import HLC, pack, unpack
from schemas.registry import validate
from schemas.sample import institutions
from schemas.written import WRITTEN, latest, stamp

HUB = "410600-HB"
hexes = st.text("0123456789abcdef", min_size=32, max_size=32)
leaf = st.tuples(st.integers(1, 40), hexes,  # depth, rev hash
                 st.none() | st.tuples(st.integers(0, 2**40), st.integers(0, 50)))  # written


def _doc(n: int, depth: int, rev_hash: str, written: tuple[int, int] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": "institution:410602101201", "_rev": f"{depth}-{rev_hash}",
                           "n": n}
    if written is not None:
        doc[WRITTEN] = pack(HLC(written[0], written[1], HUB))
    return doc


@settings(max_examples=300, deadline=None)
@given(st.lists(leaf, min_size=1, max_size=6))
def test_the_leaf_written_last_wins_whatever_the_rev_hashes(leaves: list[Any]) -> None:
    docs = [_doc(n, *spec) for n, spec in enumerate(leaves)]
    chosen = latest(docs)
    stamped = [d for d in docs if WRITTEN in d]
    if stamped:  # the latest clock; an unstamped (older software's) leaf never beats it
        assert chosen[WRITTEN] == str(max(unpack(d[WRITTEN]) for d in stamped))
    else:  # none stamped: CouchDB's own winner, as readers saw before (deepest, then hash)
        pos = max(int(d["_rev"].split("-")[0]) for d in docs)
        assert chosen["_rev"] == max(d["_rev"] for d in docs
                                     if int(d["_rev"].split("-")[0]) == pos)
    assert latest(list(reversed(docs)))["_rev"] == chosen["_rev"]  # not by listing order


def test_a_restored_hubs_edit_beats_the_lost_hubs_deeper_revisions() -> None:
    """The lost hub rewrote the roster three times after the backup; the restored hub's one
    edit is shallower and its rev hash smaller, and still the hub's latest."""
    backup = {"_rev": "4-aaaa", WRITTEN: stamp(None, HUB, 1_000)}
    lost = backup
    for n in range(3):
        lost = {"_rev": f"{5 + n}-ffff{n}", WRITTEN: stamp(lost, HUB, 2_000 + n), "who": "lost"}
    restored = {"_rev": "5-0000", WRITTEN: stamp(backup, HUB, 9_000), "who": "restored"}
    assert latest([lost, restored])["who"] == "restored"
    assert latest([restored, lost])["who"] == "restored"


def test_stamp_runs_after_the_revision_it_replaces_even_when_the_clock_steps_back() -> None:
    first = {WRITTEN: stamp(None, HUB, 5_000)}
    second = {WRITTEN: stamp(first, HUB, 4_000)}  # the hub's clock was set back
    assert unpack(second[WRITTEN]) > unpack(first[WRITTEN])
    assert unpack(stamp({WRITTEN: "garbage"}, HUB, 7)) == HLC(7, 0, HUB)


def test_the_reference_schemas_take_written_and_refuse_a_malformed_one() -> None:
    inst = next(i for i in institutions() if i["code"] == "410602101201")
    validate({**inst, WRITTEN: stamp(None, HUB)})
    with pytest.raises(SchemaError) as exc:
        validate({**inst, WRITTEN: "yesterday"})
    assert "written" in str(exc.value.reason) and "hlc" in str(exc.value.reason)
