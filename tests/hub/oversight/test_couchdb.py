"""The materialization on the CouchDB backend (PouchDB Server through ibmcloudant): the same
known answers as on the embedded store, and the same facts from both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hub.oversight import Oversight
from hub.oversight import indicators as ind
from tests.hub.oversight.conftest import make_hub
from tests.hub.oversight.scenario import AS_OF, scenario, stored_histories

pytestmark = pytest.mark.couchdb


def test_known_answers_on_couchdb(couchdb_url: str, tmp_path: Path) -> None:
    hub = make_hub(tmp_path, couchdb_url)
    try:
        docs = [d for h in stored_histories(scenario()) for d in h]
        assert not [r for r in hub.stores.main.bulk_docs(docs) if "error" in r]
        ov = Oversight(hub, tmp_path / "facts.sqlite")
        assert ov.catch_up(force=True) == 12
        assert ov.catch_up(force=True) == 0  # CouchDB's opaque seq works as the checkpoint
        _rows, total = ind.rollup(ov.facts.reader(), "", "2026-02", "2026-03",
                                  today=dt.date.fromisoformat(AS_OF))
        c: dict[str, Any] = total.c
        assert (c["completed"], c["on_time"], c["terminated_deadline"]) == (4, 3, 1)
        assert (c["consult_in_time"], c["consult_late"], c["complaints_in_time"]) == (2, 1, 1)
        assert (c["finished"], c["records_complete"], c["bad_followed"]) == (5, 2, 1)
        assert (total.live["overdue"], total.live["review"], total.live["suspended_near"]) == \
            (1, 1, 1)
    finally:
        hub.close()
