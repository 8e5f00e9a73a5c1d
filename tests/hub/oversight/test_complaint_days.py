"""The complaint period (5 c names none: local policy) is the hub setting
``complaint_working_days``: refused at start when it is not 1..60 whole days, folded into
every complaint's due date, refolded when it changes, and shown as the value in force."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hub.errors import ConfigError
from hub.oversight.materialize import FactStore, Materializer
from hub.settings import Settings
from tests.hub.oversight.conftest import make_hub
from tests.hub.oversight.scenario import AS_OF, scenario, stored_histories

Q = f"from=2026-02&to=2026-03&as_of={AS_OF}"
ENV = "BANGBAN_COMPLAINT_WORKING_DAYS"


@pytest.mark.parametrize("value", ["0", "-1", "61", "5.5", "five", ""])
def test_a_bad_period_in_the_environment_is_refused_naming_it(tmp_path: Path,
                                                               value: str) -> None:
    assert Settings.load({"hub_dir": str(tmp_path)}, environ={ENV: "7"}).complaint_working_days == 7
    with pytest.raises(ConfigError, match=ENV):
        Settings.load({"hub_dir": str(tmp_path)}, environ={ENV: value})


@pytest.mark.parametrize("value", [5.5, True, 0, 100])
def test_a_bad_period_in_settings_json_is_refused_naming_it(tmp_path: Path, value: Any) -> None:
    """int() read 5.5 as 5 and true as True: a whole number or nothing."""
    (tmp_path / "settings.json").write_text(json.dumps({"complaint_working_days": value}))
    with pytest.raises(ConfigError, match=ENV):
        Settings.load({"hub_dir": str(tmp_path)}, environ={})


def test_hub_serve_stops_at_start_on_a_bad_period(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from ops.cli import main

    monkeypatch.setenv(ENV, "0")
    assert main(["hub", "--hub-dir", str(tmp_path), "serve", "--no-workers"]) != 0
    assert f"{ENV}: must be from 1 to 60, got 0" in capsys.readouterr().err


def _complaints(facts: FactStore) -> list[tuple[Any, ...]]:
    return list(facts.reader().execute(
        "SELECT received_on, due, handled_on FROM complaints ORDER BY received_on"))


def _counts(facts: FactStore) -> tuple[Any, ...]:
    return tuple(facts.reader().execute(
        "SELECT SUM(complaints), SUM(complaints_in_time), SUM(complaints_late), "
        "SUM(complaints_open) FROM units WHERE level = 6").fetchone())


def test_a_changed_period_refolds_every_complaint_finished_cases_too(hub: Any,
                                                                     tmp_path: Path) -> None:
    """The due date is folded into the facts: a period changed after the fold moved
    nothing (the pages said 4 days, the rows counted 5). c2's complaint (25 Feb, a case
    long archived) was handled on 3 Mar: in time with 5 working days (26, 27, 28 make-up,
    2, 3 Mar), late with 4."""
    hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
    path = tmp_path / "f.sqlite"
    five = Materializer(hub.stores, FactStore(path), complaint_days=5)
    five.catch_up()
    assert _complaints(five.facts) == [("2026-02-25", "2026-03-03", "2026-03-03"),
                                       ("2026-03-06", "2026-03-13", None)]
    assert _counts(five.facts) == (2, 1, 0, 1)
    five.facts.close()

    four = Materializer(hub.stores, FactStore(path), complaint_days=4)
    assert four.catch_up() == 2  # the two cases with a complaint, nothing else
    assert _complaints(four.facts) == [("2026-02-25", "2026-03-02", "2026-03-03"),
                                       ("2026-03-06", "2026-03-12", None)]
    assert _counts(four.facts) == (2, 0, 1, 1)
    assert four.facts.meta("complaint_days") == 4
    # the same as folding everything with 4 days from the start
    fresh = Materializer(hub.stores, FactStore(tmp_path / "fresh.sqlite"), complaint_days=4)
    fresh.catch_up()
    assert _complaints(fresh.facts) == _complaints(four.facts)
    assert _counts(fresh.facts) == _counts(four.facts)
    # unchanged: nothing folded again, no write
    assert Materializer(hub.stores, FactStore(path), complaint_days=4).catch_up() == 0


def test_a_file_folded_before_the_period_was_recorded_is_refolded_once(
        hub: Any, tmp_path: Path) -> None:
    hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
    path = tmp_path / "f.sqlite"
    m = Materializer(hub.stores, FactStore(path), complaint_days=5)
    m.catch_up()
    with m.facts.transaction() as db:  # as an older release left it
        db.execute("DELETE FROM meta WHERE key = 'complaint_days'")
    assert Materializer(hub.stores, FactStore(path), complaint_days=5).catch_up() == 2
    assert Materializer(hub.stores, FactStore(path), complaint_days=5).catch_up() == 0


def test_the_pages_and_the_report_say_the_period_in_force(tmp_path: Path,
                                                           report_said: list[str]) -> None:
    """The complaints page, the dashboard's column title and legend and the monthly PDF's
    legend say the configured period (the legend was built once at import with 5), and
    the tracking list's due dates are counted with it."""
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor
    from tests.hub.oversight.test_web import login

    hub = make_hub(tmp_path, complaint_working_days=8)
    try:
        hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
        add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市监督员")
        client, _ = login(create_app(hub=hub), "city", "city-pass-1")
        page = client.get(f"/oversight/complaints?{Q}").text
        assert '受理后 <span id="complaint-days">8</span> 个工作日' in page
        # 6 Mar + 8 working days = 18 Mar (9–13, 16–18)
        assert re.search(r"2026-03-06.*?2026-03-18", page, re.S)
        dashboard = client.get(f"/oversight/?{Q}").text
        assert 'title="8个工作日内处理' in dashboard
        legend = re.search(r'id="rate-legend"><small>(.*?)</small>', dashboard, re.S)
        assert legend is not None and "投诉及时处理率 = 8个工作日内处理" in legend.group(1)
        assert "5个工作日" not in dashboard + page

        assert client.get(f"/oversight/report.pdf?{Q}").status_code == 200
        assert any("投诉及时处理率 = 8个工作日内处理" in s for s in report_said)
        assert not any("5个工作日" in s for s in report_said)
    finally:
        hub.close()
