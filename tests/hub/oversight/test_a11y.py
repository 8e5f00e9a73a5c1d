"""The oversight pages as an accessibility inspector checks them (GB/T 37668-2019, the MIIT
适老化 rules; the standard serves the elderly and disabled, 9.2): the public disclosure and
complaint pages an applicant reads, the login and the supervisors' pages, through Flask's
test client; the contrast of every colour in ``hub/oversight/static/oversight.css``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.a11y import declared, focus_ring, markup_problems, ratio, rules, text_failures
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_web import Q, app, login

__all__ = ["app"]  # the fixture: test_web's hub with the scenario's cases

CSS = Path(__file__).resolve().parents[3] / "hub" / "oversight" / "static" / "oversight.css"


def test_the_supervisors_pages_name_their_inputs_and_table_headers(app: Any) -> None:
    """Every ``<th>`` with a scope (before: none had one, a screen reader read a cell of the
    30-column tables without its column), every input a ``<label for>`` (the period filter
    wrapped its inputs, the complaint rows' result and note had no label at all)."""
    assert markup_problems(app.test_client().get("/oversight/login").text) == []
    client, _ = login(app, "town", "town-pass-1")
    for url in ("/", "/staff", "/checks", "/complaints", "/cases/overdue", "/case"):
        page = client.get(f"/oversight{url}?{Q}")
        assert page.status_code == 200, url
        assert markup_problems(page.text) == [], url


def test_a_late_complaint_says_so_in_words(app: Any) -> None:
    """A complaint past its deadline and not handled was marked by its date's red colour
    alone (GB/T 37668: no information by colour only)."""
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/complaints?{Q}").text
    late = re.findall(r'<td class="warn">([^<]*)(<strong class="late">超期</strong>)?</td>', page)
    assert late and all(word for _date, word in late)


def test_the_public_pages_name_their_inputs_and_table_headers(app: Any) -> None:
    client = app.test_client()
    for url in (f"/oversight/public/{V1}", f"/oversight/public/{V1}/complaint"):
        page = client.get(url)
        assert page.status_code == 200 and markup_problems(page.text) == [], url


def test_the_public_pages_have_a_large_text_switch(app: Any) -> None:
    """MIIT 适老化: text of 18 px or more on request. The public pages had no switch; it is
    a link (the pages run no script) kept for the next page."""
    client = app.test_client()
    page = client.get(f"/oversight/public/{V1}").text
    switch = re.search(r'<a class="size" id="text-size" href="([^"]+)">大字模式</a>', page)
    assert switch and 'class="large-text"' not in page
    large = client.get(switch.group(1).replace("&amp;", "&")).text
    assert '<html lang="zh-CN" class="large-text">' in large and ">标准字号</a>" in large
    assert 'class="large-text"' in client.get(f"/oversight/public/{V1}/complaint").text
    client.get(f"/oversight/public/{V1}?size=normal")
    assert 'class="large-text"' not in client.get(f"/oversight/public/{V1}").text
    # 137.5 % of the browser's 16 px: 22 px, as the node's large text
    size = [d["font-size"] for sels, d in rules(CSS) if "html.large-text" in sels]
    assert size == ["137.5%"]


def test_a_refused_complaint_marks_the_input_it_names(app: Any) -> None:
    """The refusal was a line above the form, English first, tied to no input: a screen
    reader on 联系电话 heard nothing of why. Now the input is aria-invalid, described by
    the refusal, which says the field and the rule in Chinese first."""
    client = app.test_client()
    page = client.get(f"/oversight/public/{V1}/complaint").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    sent = client.post(f"/oversight/public/{V1}/complaint",
                       data={"csrf": token, "case": "X-1", "category": "attitude",
                             "text": "推诿", "contact": "1"})
    assert sent.status_code == 400
    field = re.search(r'<input name="contact"[^>]*>', sent.text)
    assert field and 'id="f-contact" aria-invalid="true" aria-describedby="refusal"' in field.group(0)
    assert re.search(r'id="refusal">联系电话：必填，5 至 40 位数字 / <span lang="en">a phone', sent.text)
    assert sent.text.count('aria-invalid="true"') == 1 and markup_problems(sent.text) == []


def test_every_text_colour_has_contrast() -> None:
    found = rules(CSS)
    page = [declared(found, "body", "background"), declared(found, ".kpi", "background"),
            declared(found, "table.grid th", "background"), declared(found, ".err", "background"),
            declared(found, ".msg", "background")]
    header = [declared(found, "header", "background")]
    assert text_failures(CSS, page, "header", header) == []


def test_the_focus_ring_is_seen_on_the_page_and_in_the_blue_header() -> None:
    """The stylesheet set no focus style: the browser's thin default ring, lost on the blue
    header's white links."""
    found = rules(CSS)
    ring = focus_ring(CSS, "header")
    assert ring["page"] and ring["header"]
    assert ratio(ring["page"], declared(found, "body", "background")) >= 3.0
    assert ratio(ring["header"], declared(found, "header", "background")) >= 3.0
