"""Workbooks a 清单 arrives in that were read otherwise than Excel shows them
(hub.catalog_files, hub.catalog_header): formulas whose stored results are a program's
placeholders (XlsxWriter's 0), headers of more than three rows, rows an AutoFilter hides.
Each is read as shown or refused by name, saying what to do."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hub.catalog_files import read_catalog
from hub.catalog_header import HEADER_ROWS
from hub.errors import BadInput

from .test_catalog_sheet import HEAD, MATERIALS
from .test_catalog_workbook import _book, _item, _saved


def _as_xlsxwriter_writes(path: Path) -> None:
    """XlsxWriter's shape of a formula (https://xlsxwriter.readthedocs.io/working_with_
    formulas.html): no result calculated, 0 stored as it, and the workbook flagged to be
    calculated when opened (``<calcPr … fullCalcOnLoad="1"/>``, which openpyxl writes too)."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet], n = re.subn(rb"</f><v\s*/>", b"</f><v>0</v>", parts[sheet])
    assert n and b'fullCalcOnLoad="1"' in parts["xl/workbook.xml"]
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)


def test_a_formula_xlsxwriter_stored_as_0_is_refused_by_its_cell(tmp_path: Path) -> None:
    """Read as 0: a 法定时限 of 0 working days (即办) imported from a formula the officer
    sees give 20 in Excel, every station's deadline of that item due the same day."""
    book = _book([HEAD, _item("MS-1")[:8] + ["=10+10", ""]], [MATERIALS])
    path = _saved(book, tmp_path / "list.xlsx")
    _as_xlsxwriter_writes(path)
    with pytest.raises(BadInput) as err:
        read_catalog(path)
    assert err.value.reason.startswith(
        "事项清单 第 2 行“法定时限（工作日）”（I 列）: 公式没有计算结果"), err.value.reason
    assert "=10+10" in err.value.reason and "open it in Excel or WPS, save it" in err.value.reason


def test_a_header_of_four_rows_with_groups_and_units_is_read(tmp_path: Path) -> None:
    """Groups over groups (办理信息 over 办理方式 over 可帮办), a row of units under the
    leaves (法定时限 above （工作日）): "column 可帮办 is missing" though it is there."""
    rows: list[list[Any]] = [
        ["事项编码", "事项名称", "审批部门", "办理层级", "办理信息", None, "重点领域", "服务方式",
         "办理时限", None],
        [None, None, None, None, "办理方式", None, None, None, "时限", None],
        [None, None, None, None, "可帮办", "可代办", None, None, "法定时限", "承诺时限"],
        [None] * 8 + ["（工作日）", "（工作日）"],
        _item("MS-1"), _item("MS-2")]
    book = _book(rows, [MATERIALS, ["MS-2", "M01", "身份证", "本人携带", "是", 1]])
    for cells in ("A1:A4", "B1:B4", "C1:C4", "D1:D4", "E1:F1", "E2:F2", "E3:E4", "F3:F4",
                  "G1:G4", "H1:H4", "I1:J1", "I2:J2"):
        book["事项清单"].merge_cells(cells)
    read, where = read_catalog(_saved(book, tmp_path / "list.xlsx"))
    assert [(i["code"], i["assist"], i["time_limit_days"], i["promised_days"])
            for i in read] == [("MS-1", True, 5, 3), ("MS-2", True, 5, 3)]
    assert where == ["事项清单 第 5 行", "事项清单 第 6 行"]
    assert read[1]["materials"][0]["code"] == "M01"


def test_a_header_longer_than_the_limit_is_refused_by_its_rows(tmp_path: Path) -> None:
    """Past :data:`HEADER_ROWS`, the header's last rows were read as items (each cell a
    refusal of its own) or left the columns unfound: one refusal names the header's rows."""
    groups = [[None] * 4 + [f"第{n}层", None] + [None] * 4 for n in range(HEADER_ROWS)]
    rows: list[list[Any]] = [HEAD[:4] + ["办理", None] + HEAD[6:], *groups,
                             [None] * 4 + ["可帮办", "可代办"] + [None] * 4, _item("MS-1")]
    book = _book(rows, [MATERIALS])
    sheet = book["事项清单"]
    last = len(rows) - 1
    for col in "ABCDGHIJ":
        sheet.merge_cells(f"{col}1:{col}{last}")
    with pytest.raises(BadInput) as err:
        read_catalog(_saved(book, tmp_path / "list.xlsx"))
    assert err.value.reason.startswith(f"事项清单 第 1–{last} 行: 表头超过 "
                                       f"{HEADER_ROWS} 行"), err.value.reason
    assert f"keep at most {HEADER_ROWS}" in err.value.reason


def test_rows_an_autofilter_hides_are_refused_by_name(tmp_path: Path) -> None:
    """A filter is a view (one department's items looked at, then saved): its hidden rows
    were left out, their changes and materials with them. Hidden by hand, with no filter
    applied, a row is left out and named as before."""
    book = _book([HEAD, _item("MS-1"), _item("MS-2", dept="民政局"), _item("MS-3"),
                  _item("MS-4", dept="民政局")], [MATERIALS])
    sheet = book["事项清单"]
    sheet.auto_filter.ref = "A1:J5"
    sheet.auto_filter.add_filter_column(2, ["残联"])
    for r in (3, 5):
        sheet.row_dimensions[r].hidden = True
    path = _saved(book, tmp_path / "list.xlsx")
    with pytest.raises(BadInput) as err:
        read_catalog(path)
    assert err.value.reason.startswith("事项清单 第 3、5 行被筛选隐藏：请清除筛选"), err.value.reason
    assert "clear the filter" in err.value.reason
    sheet.auto_filter.filterColumn = []  # the filter's buttons stay, no filter applied
    read, _where = read_catalog(_saved(book, path))
    assert [i["code"] for i in read] == ["MS-1", "MS-3"]
