"""The clerk's pages as an accessibility inspector checks them (GB/T 37668-2019, the MIIT
适老化 rules; the standard serves the elderly and disabled, 9.2): the markup through the
Flask client, and the contrast of every colour in ``node/static/bangban.css``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from schemas.state import local_today
from tests.a11y import focus_ring, markup_problems, ratio, rules, text_failures
from tests.node.test_clerk_day import _case_id, _consult, _step
from tests.node.test_town_boards import VILLAGE_1, _board, _client, town
from tests.node.test_window_staff import ROSTER, _roster

__all__ = ["town"]  # the fixture

#: the step forms the brief names (10.1–10.2): consultation is the case page's own form
STEPS = ("acceptance", "entrustment", "work_log", "suspension", "completion")
CSS = Path(__file__).resolve().parents[2] / "node" / "static" / "bangban.css"


def _declared(selector: str, prop: str) -> str:
    from tests.a11y import declared

    return declared(rules(CSS), selector, prop)


def test_the_pages_name_their_inputs_and_table_headers(unlocked: Any) -> None:
    """Every input has a ``<label for>``, every ``<th>`` a scope, every aria-describedby
    an element, the page says zh-CN and its headings go in order (before: the case lists'
    ``<th>`` had no scope, a screen reader read each cell without its column)."""
    case_id = _case_id(_consult(unlocked))
    urls = ["/", "/cases/", "/consultations/new", "/sync/", f"/cases/{case_id}",
            f"/cases/{case_id}/applicant/", f"/cases/{case_id}/applicant/copy"]
    urls += [f"/cases/{case_id}/steps/{s}" for s in STEPS]
    case_no = unlocked.application.extensions["bangban_node"].casework.header(case_id)["case_no"]
    for url in urls:
        page = unlocked.get(url)
        assert page.status_code == 200, url
        assert markup_problems(page.get_data(as_text=True)) == [], url
        # the title says which case (a step's said the step only); the applicant's copy
        # holds each of the applicant's cases
        if case_id in url and not url.endswith("/copy"):
            assert re.search(f"<title>[^<]*{case_no}[^<]*</title>", page.get_data(as_text=True)), url
    # a refused step: each error tied to its input by an element that is there
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    refused = _step(unlocked, case_id, "entrustment", ledger_no="", period_end=yesterday)
    html = refused.get_data(as_text=True)
    assert 'aria-describedby="period_end-err"' in html and markup_problems(html) == []
    # the message under the input names it and the rule, in Chinese (it said the rule only)
    assert re.search(r'id="period_end-err" role="alert">委托期限至：不能早于今天', html)


def test_the_town_page_names_its_table_headers(town: Any) -> None:
    past = (local_today() - dt.timedelta(days=2)).isoformat()
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, [
        {"case": "c-late", "no": "DC-2026-0002", "status": "handling", "due": past}])])
    page = _client(town).get("/town/").get_data(as_text=True)
    assert "DC-2026-0002" in page and markup_problems(page) == []


def test_the_staff_picker_says_why_it_is_marked(unlocked: Any) -> None:
    """The header's staff picker, marked invalid until a member is chosen, said nothing to
    a screen reader: no aria-describedby, only a red border (colour alone)."""
    _roster(unlocked.application, ROSTER)
    page = unlocked.get("/consultations/new").get_data(as_text=True)
    assert 'aria-invalid="true" aria-describedby="window-staff-need"' in page
    assert 'id="window-staff-need">必须先选择当前经办人' in page
    assert markup_problems(page) == []


def test_every_text_colour_has_contrast() -> None:
    """4.5:1 for each text colour against the backgrounds it is drawn on."""
    page = [_declared("body", "background"), _declared(".card", "background"),
            _declared("table.list th", "background"), _declared(".error-box", "background"),
            _declared("button", "background")]
    header = [_declared("header.top", "background")]
    assert text_failures(CSS, page, "header", header) == []


def test_the_focus_ring_is_seen_on_the_page_and_in_the_red_header() -> None:
    """The blue ring on the red header was 1.3:1: a keyboard user lost the focus among the
    menu, the large-text and lock buttons."""
    ring = focus_ring(CSS, "header")
    assert ring["page"] and ring["header"]
    assert ratio(ring["page"], _declared("body", "background")) >= 3.0
    assert ratio(ring["header"], _declared("header.top", "background")) >= 3.0
