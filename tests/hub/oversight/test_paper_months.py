"""The checks page's 补录 column and the 补录 audit count a station's paper steps by the same
month, the month they were typed (hub.oversight.paper.BY_DEVICE, clocks.device_clocks).
The checks page counted them by the month the hub received them, the audit by the month
typed: a ledger typed in on 31 March and synced on 1 April was March's on one page and
April's on the other, and an auditor could not reconcile the two for one station."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.receipts import receipt_doc
from tests.hub.oversight.conftest import make_hub, stored
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_paper_audit import _brought_in, _ms, _rows
from tests.hub.oversight.test_web import login

MARCH, APRIL = "from=2026-03&to=2026-03&as_of=2026-03-31", "from=2026-04&to=2026-04&as_of=2026-04-30"


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[tuple[Any, Any]]:
    """A station's ledger (one case, two steps) typed in on 31 March late in the evening
    and synced after midnight, its laptop's first receipt at the hub (April's)."""
    hub = make_hub(tmp_path_factory.mktemp("months"))
    b = _brought_in(V1, "s1", "2026-03-31T23:30:00", "2026-03-10")
    hub.stores.main.bulk_docs([stored(d) for d in (b.header, *b.events)])
    hub.stores.receipts.bulk_docs([receipt_doc(b.device, V1, [b.header, *b.events],
                                               _ms("2026-04-01T00:30:00"))])
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    add_supervisor(hub, "town", "town-pass-1", institution="410602101", name="鹤壁集镇监督员")
    yield create_app(hub=hub), b
    hub.close()


def _paper_cells(html: str, device: str) -> list[str]:
    """The 补录 cell (the fourth) of ``device``'s row of the checks page's clock table."""
    rows = [r for r in _rows(html, "device-clocks") if device in r]
    return [r.split("<td")[4].split(">", 1)[1].split("<", 1)[0] for r in rows]


def test_both_pages_count_a_paper_step_in_the_month_it_was_typed(world: Any) -> None:
    from hub.oversight import oversight_for
    from hub.oversight.clocks import device_clocks
    from hub.oversight.paper import station_rows

    app, b = world
    ov = oversight_for(app)
    ov.catch_up(force=True)
    db = ov.facts.reader()
    for month, steps in (("2026-03", 2), ("2026-04", 0)):
        audit = sum(r["steps"] for r in station_rows(db, V1, month, month, 7))
        checks = sum(d["paper"] or 0 for d in device_clocks(db, V1, month, month))
        assert (audit, checks) == (steps, steps), month
    # received in April: March's row has no receipt, only what was typed
    (march,) = device_clocks(db, V1, "2026-03", "2026-03")
    assert (march["events"], march["lag_min"], march["last_ms"]) == (0, None, None)
    (april,) = device_clocks(db, V1, "2026-04", "2026-04")
    assert april["events"] == len(b.events) == 2 and not april["paper"]
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/checks?{MARCH}")
    assert page.status_code == 200, page.text
    assert _paper_cells(page.text, b.device) == ["2"]
    assert _paper_cells(client.get(f"/oversight/checks?{APRIL}").text, b.device) == ["0"]
    assert 'id="paper-month-note"' in page.text
    audit = client.get(f"/oversight/paper?{MARCH}").text
    assert 'id="paper-month-note"' in audit and ">2<" in _rows(audit, "paper-stations")[0]
    assert "本期无补录" in client.get(f"/oversight/paper?{APRIL}").text
