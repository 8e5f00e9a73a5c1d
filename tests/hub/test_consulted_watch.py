"""The hub's deadline watcher (hub.workers.deadlines) stops folding a consultation once it is
answered with nothing pending (10.1.1, ``consulted``): no deadline of it can run any more.
It kept every consultation-only case in its watch list, folded at every sweep, for good."""

from __future__ import annotations

from tests.hub.conftest import TOWN, VILLAGE_A, World


def test_an_answered_consultation_leaves_the_deadline_watch(world: World) -> None:
    a = world.node(VILLAGE_A)
    done, replied, handled = a.sample_cases(
        3, town=TOWN, seed=3, scenarios=("consult_answered", "consult_reply", "in_handling"))
    world.round()
    watched = set(world.hub.stores.private.get("deadlines:watch")["cases"])
    assert handled in watched
    assert not {done, replied} & watched
