"""A supervisor's or the operator's reading of a case at the hub is on record: who, when,
why and what (PIPL art. 51, 55; hub/oversight/readlog.py). Before, the case page, its archive
download and ``hub case export`` left no trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import TOWN, World, open_world
from tests.hub.oversight.test_case_archive import _login, _messy


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, str]]:
    with open_world(tmp_path_factory.mktemp("reads")) as w:
        first, _second = _messy(w)
        from hub.oversight.supervisors import add_supervisor

        add_supervisor(w.hub, "town-r", "town-pass-r", institution=TOWN)
        yield w, first, w.hub.stores.main.get(f"case:{first}")["case_no"]


def _reads(w: World, case_id: str) -> list[dict[str, Any]]:
    from hub.oversight.readlog import reads_of_case

    return reads_of_case(w.hub, case_id)


def test_the_case_page_asks_why_and_records_who_read_it(world: Any) -> None:
    from hub.app import create_app

    w, case_id, no = world
    before = len(_reads(w, case_id))
    client = _login(create_app(hub=w.hub), "town-r", "town-pass-r")
    asked = client.get(f"/oversight/case?no={no}")  # no reason: nothing of the case shown
    assert asked.status_code == 200 and 'id="ask-why"' in asked.text
    assert "step-" not in asked.text and len(_reads(w, case_id)) == before
    bad = client.get(f"/oversight/case?no={no}&why=curious")
    assert bad.status_code == 400 and "why" in bad.text and "step-" not in bad.text
    page = client.get(f"/oversight/case?no={no}&why=complaint")
    assert page.status_code == 200 and "step-" in page.text
    got = client.get(f"/oversight/case/archive.json?no={no}&why=complaint")
    assert got.status_code == 200
    assert client.get(f"/oversight/case/archive.json?no={no}").status_code == 400
    reads = _reads(w, case_id)[before:]
    assert [(r["by"], r["what"], r["why"]) for r in reads] == [
        ("supervisor:town-r", "page", "complaint"), ("supervisor:town-r", "archive", "complaint")]
    assert all(r["at"] for r in reads)
    # the next look at the page lists the earlier readings, with the reason in words
    again = client.get(f"/oversight/case?no={no}&why=check").text
    table = again.split('id="hub-reads"', 1)[1].split("</table>", 1)[0]
    assert table.count("supervisor:town-r") == 3 and "处理投诉" in table and "下载签名档案" in table


def test_the_operators_export_is_recorded_with_its_reason(world: Any, tmp_path: Path) -> None:
    from ops.cli import main

    w, case_id, no = world
    hub_dir = str(w.hub.settings.hub_dir)
    before = len(_reads(w, case_id))
    with pytest.raises(SystemExit):  # the reason is required
        main(["hub", "--hub-dir", hub_dir, "case", "export", no, "--out", str(tmp_path / "a")])
    assert main(["hub", "--hub-dir", hub_dir, "case", "export", no, "--out",
                 str(tmp_path / "b.json"), "--why=applicant"]) == 0
    (read,) = _reads(w, case_id)[before:]
    assert read["by"].startswith("operator:") and (read["what"], read["why"]) == ("export",
                                                                                  "applicant")
