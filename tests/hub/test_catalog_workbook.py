"""The 清单 as a city office's workbook really is (hub.catalog_files, hub.catalog_sheet):
cells merged over the rows of a group, a header of two rows, formulas (with and without the
result Excel stores), hidden rows and sheets. Each was read otherwise than Excel shows it:
merged cells and formulas a program wrote read blank ("required"), an #N/A imported as a
department's name, hidden rows (withdrawn items, drafts) imported or refused."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hub.catalog_files import load_catalog, read_catalog, write_catalog
from hub.errors import BadInput
from ops.cli import main
from schemas import sample

from .test_catalog_import import _stored
from .test_catalog_sheet import HEAD, MATERIALS, _officer
from .test_cli import _err


def _book(items: list[list[Any]], materials: list[list[Any]]) -> Any:
    """A workbook of the two sheets, rows as given (the header among them)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "事项清单"
    for row in items:
        sheet.append(row)
    other = book.create_sheet("申请材料")
    for row in materials:
        other.append(row)
    return book


def _item(code: str, name: str = "残疾人证办理", dept: Any = "残联") -> list[Any]:
    return [code, name, dept, "村", "是", "是", "民生", "", "5", "3"]


def _saved(book: Any, path: Path) -> Path:
    book.save(path)
    return path


def test_merged_cells_count_in_every_row_they_cover(tmp_path: Path) -> None:
    """审批部门 merged over the three items of one department, an item's code over its
    materials: the rows below the first were refused "审批部门: 必填" though Excel shows
    the department there. A spare row under a merge, empty but for it, stays a blank line."""
    book = _book([["某市帮办代办事项清单"], HEAD, _item("MS-1"), _item("MS-2", dept=None),
                  _item("MS-3", dept=None), [None] * 10, _item("MS-4", dept="民政局")],
                 [MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "是", 1],
                  [None, "M02", "户口簿", "本人携带", "是", 1],
                  [None, "M03", "照片", "现场拍摄", "否", 2],
                  [None, None, None, None, None, None]])
    book["事项清单"].merge_cells("A1:J1")
    book["事项清单"].merge_cells("C3:C6")  # over MS-1..MS-3 and the blank line below
    book["申请材料"].merge_cells("A2:A5")  # MS-1 over its materials and a spare row
    read, where = read_catalog(_saved(book, tmp_path / "list.xlsx"))
    assert [(i["code"], i["department"]) for i in read] == [
        ("MS-1", "残联"), ("MS-2", "残联"), ("MS-3", "残联"), ("MS-4", "民政局")]
    assert where == ["事项清单 第 3 行", "事项清单 第 4 行", "事项清单 第 5 行",
                     "事项清单 第 7 行"]
    assert [m["code"] for m in read[0]["materials"]] == ["M01", "M02", "M03"]
    assert read[1]["materials"] == []


def test_a_header_of_two_rows_with_merged_groups(tmp_path: Path) -> None:
    """A group's name merged across its columns above the leaves' names (办理方式 over
    可帮办 and 可代办), the other headers merged down both rows, as such lists are printed:
    refused as "column 可帮办 missing" though it is there."""
    top = ["事项编码", "事项名称", "审批部门", "办理层级", "办理方式", None, "重点领域", "服务方式",
           "时限（工作日）", None]
    leaves = [None, None, None, None, "可帮办", "可代办", None, None, "法定时限（工作日）",
              "承诺时限（工作日）"]
    book = _book([top, leaves, _item("MS-1")], [MATERIALS])
    sheet = book["事项清单"]
    for cells in ("A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:F1", "G1:G2", "H1:H2", "I1:J1"):
        sheet.merge_cells(cells)
    read, where = read_catalog(_saved(book, tmp_path / "list.xlsx"))
    assert [(i["code"], i["assist"], i["time_limit_days"], i["promised_days"])
            for i in read] == [("MS-1", True, 5, 3)]
    assert where == ["事项清单 第 3 行"]
    sheet["E2"] = "帮办"  # a leaf that is no column's header: named by the header's rows
    with pytest.raises(BadInput, match="事项清单 第 1–2 行表头缺少“可帮办”列"):
        read_catalog(_saved(book, tmp_path / "list.xlsx"))


def test_a_formula_a_program_wrote_is_refused_by_its_cell(hub_dir: str, tmp_path: Path,
                                                          capsys: Any) -> None:
    """openpyxl (as any program) writes a formula without its result; read with the results
    Excel stores, it was blank: "事项名称: 必填" in a required column, and silently no
    promise in an optional one. The officer sees a value in Excel; the refusal says what to
    do, by sheet, row and column, and nothing is stored."""
    row = _item("MS-1", name='="残疾人证"&"办理"')
    book = _book([HEAD, row], [MATERIALS])
    with pytest.raises(BadInput) as err:
        read_catalog(_saved(book, tmp_path / "list.xlsx"))
    reason = err.value.reason
    assert reason.startswith("事项清单 第 2 行“事项名称”（B 列）: 公式没有计算结果：请在 Excel 或 WPS "
                             "中打开并保存后再导入"), reason
    assert "has no calculated value" in reason and '="残疾人证"&"办理"' in reason

    book = _book([HEAD, _item("MS-1")[:9] + ["=I2-2"]], [MATERIALS])
    path = _saved(book, tmp_path / "optional.xlsx")
    err_line = _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(path))
    assert "事项清单 第 2 行“承诺时限（工作日）”（J 列）: 公式没有计算结果" in err_line, err_line
    assert _stored(hub_dir) == {}


def _with_results(path: Path, sheet_part: str, results: dict[str, tuple[str, str]]) -> None:
    """Store results with formulas as Excel does when it saves (``<c t=…><f>…</f>
    <v>RESULT</v></c>``): ``results`` maps a cell to its type attribute and its value.
    Excel, having calculated, also drops the ``fullCalcOnLoad`` openpyxl writes
    (hub.catalog_files._uncalculated_book)."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    xml = parts[sheet_part].decode()
    for ref, (kind, value) in results.items():
        xml, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/></c>',
                         rf'<c r="{ref}"\1 t="{kind}"><f>\2</f><v>{value}</v></c>', xml)
        assert n == 1, ref
    parts[sheet_part] = xml.encode()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)


def test_formulas_read_by_the_results_excel_stored(tmp_path: Path) -> None:
    """A formula Excel calculated and saved is read by its result, an empty text result
    (=IF(…,"",…)) as a blank; an error result (#N/A of a VLOOKUP that found nothing) was
    imported as the department's name "#N/A"."""
    book = _book([HEAD, _item("MS-1", name='="残疾人证"&"办理"')[:9] + ['=IF(I2>3,"",1)'],
                  _item("MS-2", dept="=VLOOKUP(A3,部门!A:B,2,FALSE)")], [MATERIALS])
    path = _saved(book, tmp_path / "list.xlsx")
    _with_results(path, "xl/worksheets/sheet1.xml", {"B2": ("str", "残疾人证办理"),
                                                     "J2": ("str", ""), "C3": ("e", "#N/A")})
    with pytest.raises(BadInput, match="事项清单 第 3 行“审批部门”（C 列）: 单元格是错误值 #N/A"):
        read_catalog(path)
    book["事项清单"]["C3"] = "民政局"
    path = _saved(book, path)
    _with_results(path, "xl/worksheets/sheet1.xml", {"B2": ("str", "残疾人证办理"),
                                                     "J2": ("str", "")})
    read, _ = read_catalog(path)
    assert read[0]["name"] == "残疾人证办理" and "promised_days" not in read[0]


def test_hidden_rows_are_left_out_and_named(hub_dir: str, tmp_path: Path,
                                            capsys: Any) -> None:
    """An officer hides the row of an item no longer offered, or one being drafted: the
    draft was refused ("required"), the withdrawn item imported again. Hidden rows, and the
    materials of a hidden item, are left out; the import says which rows, and that a
    published item whose row is hidden stays published (启用 否 withdraws it)."""
    h = ["hub", "--hub-dir", hub_dir, "catalog", "import"]
    first = _saved(_book([HEAD, _item("MS-1"), _item("MS-2")], [MATERIALS]),
                   tmp_path / "first.xlsx")
    assert main([*h, str(first)]) == 0
    book = _book([HEAD, _item("MS-1", name="残疾人证办理（新）"), _item("MS-2", name="改名"),
                  ["MS-3", "起草中", None, "村"], _item("MS-4")],
                 [MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "是", 1],
                  ["MS-1", "M02", "起草中"], ["MS-2", "M01", "户口簿", "本人携带", "是", 1],
                  ["MS-4", "M01", "户口簿", "本人携带", "是", 1]])
    for r in (3, 4):
        book["事项清单"].row_dimensions[r].hidden = True
    book["申请材料"].row_dimensions[3].hidden = True
    path = _saved(book, tmp_path / "list.xlsx")

    capsys.readouterr()
    assert main([*h, str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 service items checked, 2 would be written (new or changed: MS-1, MS-4)" in out
    assert "事项清单 第 3–4 行; 申请材料 第 3–4 行" in out, out
    assert set(_stored(hub_dir)) == {"MS-1", "MS-2"}  # the dry run stored nothing
    assert _stored(hub_dir)["MS-1"]["name"] == "残疾人证办理"

    assert main([*h, str(path)]) == 0
    out = capsys.readouterr().out
    assert "未导入 4 个隐藏的行" in out and "事项清单 第 3–4 行; 申请材料 第 3–4 行" in out, out
    assert "still published, as before: MS-2 " in out and "MS-3" not in out.split(
        "still published")[1], out
    stored = _stored(hub_dir)
    assert set(stored) == {"MS-1", "MS-2", "MS-4"} and stored["MS-2"]["name"] == "残疾人证办理"
    assert [m["code"] for m in stored["MS-1"]["materials"]] == ["M01"]


def test_a_hidden_sheet_is_refused_and_hidden_columns_are_read(hub_dir: str, tmp_path: Path,
                                                               capsys: Any) -> None:
    """A hidden 申请材料 sheet was read as if shown (the officer could not see what the hub
    published); left out, every item would lose its materials. Refused, storing nothing. A
    hidden column is a view (a narrow screen): its values are the list's; but an old
    column kept hidden beside its new copy (the same header) was read in its place, unseen:
    a header over two columns is refused, naming them."""
    items = [_officer(i) for i in sample.catalog()]
    path = write_catalog(items, tmp_path / "list.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["事项清单"].column_dimensions["E"].hidden = True  # 可帮办
    book.save(path)
    assert read_catalog(path)[0] == sorted(items, key=lambda i: i["code"])
    sheet = book["事项清单"]
    sheet.insert_cols(5)  # the new 可帮办 at E, the old one hidden at F
    sheet["E1"] = "可帮办"
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, 5, "否")
    sheet.column_dimensions["E"].hidden, sheet.column_dimensions["F"].hidden = False, True
    book.save(path)
    with pytest.raises(BadInput, match="事项清单 第 1 行表头“可帮办”有 2 列（E、F 列"):
        read_catalog(path)
    sheet.delete_cols(5)
    book["申请材料"].sheet_state = "hidden"
    book.save(path)
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(path))
    assert "工作表“申请材料”被隐藏：请取消隐藏后再导入" in err and "is hidden" in err, err
    assert _stored(hub_dir) == {}


def test_export_then_import_leaves_nothing_out(tmp_path: Path) -> None:
    """The round trip: what ``catalog export`` writes reads back whole, nothing left out."""
    items = [_officer(i) for i in sample.catalog()]
    read = load_catalog(write_catalog(items, tmp_path / "list.xlsx"))
    assert read.items == sorted(items, key=lambda i: i["code"]) and read.left_out == []


def test_a_title_merged_across_the_whole_row_adds_no_columns(tmp_path: Path) -> None:
    """合并居中 of the whole title row (A1:XFD1), and formatting below the list: openpyxl
    counts every cell of a merged range and every formatted one, and each row was read
    16,384 cells wide (200 items took 84 s and 2.6 GB; a list of thousands did not end).
    The rows are as wide and as many as the values, and read as before."""
    from openpyxl.styles import Border, Side

    from hub.catalog_files import _workbook_tables

    book = _book([["某市帮办代办事项清单"], HEAD, _item("MS-1"), _item("MS-2")],
                 [["申请材料"], MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "是", 1],
                  [None, "M02", "户口簿", "本人携带", "是", 1]])
    for name in ("事项清单", "申请材料"):
        book[name].merge_cells("A1:XFD1")
        book[name]["Z900"].border = Border(left=Side(style="thin"))  # formatting only
    book["申请材料"].merge_cells("A3:A4")  # MS-1 over its two materials
    path = _saved(book, tmp_path / "list.xlsx")
    items, materials = _workbook_tables(path)
    assert (len(items), {len(r) for r in items}) == (4, {len(HEAD)})
    assert (len(materials), {len(r) for r in materials}) == (4, {len(MATERIALS)})
    read, where = read_catalog(path)
    assert [(i["code"], [m["code"] for m in i["materials"]]) for i in read] == [
        ("MS-1", ["M01", "M02"]), ("MS-2", [])]
    assert where == ["事项清单 第 3 行", "事项清单 第 4 行"]



def test_a_stray_value_far_to_the_right_widens_its_row_only(tmp_path: Path) -> None:
    """A key pressed after Ctrl+→ leaves a value in the sheet's last column (XFD) of one
    item's row: every row of the list was read 16,384 cells wide (openpyxl makes a cell at
    every place up to the last column). Only that row is; the items read as before."""
    from hub.catalog_files import _workbook_tables

    book = _book([HEAD, _item("MS-1"), _item("MS-2"), _item("MS-3")], [MATERIALS])
    book["事项清单"]["XFD3"] = "备注：已核"
    path = _saved(book, tmp_path / "list.xlsx")
    items, _materials = _workbook_tables(path)
    assert sorted(len(r) for r in items) == [len(HEAD)] * 3 + [16384]
    assert [i["code"] for i in read_catalog(path)[0]] == ["MS-1", "MS-2", "MS-3"]

def test_a_header_cell_merged_down_over_the_first_item_is_refused(tmp_path: Path) -> None:
    """A header cell merged down over the first item's row by mistake (服务方式 over H1:H2)
    made that row part of a two-row header: its item was left out without a word. A row
    belongs to the header when a known name is typed in it; here row 2 is an item's, its
    服务方式 is the header's copy, refused by its row and column."""
    book = _book([HEAD, _item("MS-1"), _item("MS-2")], [MATERIALS])
    book["事项清单"].merge_cells("H1:H2")
    with pytest.raises(BadInput, match="事项清单 第 2 行“服务方式”"):
        read_catalog(_saved(book, tmp_path / "list.xlsx"))


def test_a_workbook_that_is_not_there_is_named_as_missing(hub_dir: str, tmp_path: Path,
                                                          capsys: Any) -> None:
    """A mistyped file name was "not an Excel workbook (.xlsx) that opens ([Errno 2] …); an
    old .xls must be saved as .xlsx first": the officer was sent to re-save a file that the
    operator had only misspelt."""
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import",
               str(tmp_path / "清单2026.xlsx"))
    assert f"cannot read {tmp_path / '清单2026.xlsx'}: No such file or directory" in err
    assert ".xls" not in err.split("清单2026.xlsx", 1)[1]
    junk = tmp_path / "清单.xlsx"
    junk.write_text("not a workbook", "utf-8")  # a real non-workbook keeps its advice
    assert "save" in _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(junk))


@pytest.mark.parametrize("sheet", ["事项清单", "申请材料"])
def test_a_header_without_the_code_column_is_refused_by_that_column(
        tmp_path: Path, sheet: str) -> None:
    """The first column's header renamed (编码) or deleted: the header finder looked for it
    to tell the header from the first item and raised a bare StopIteration (a traceback at
    `hub catalog import`), not the refusal naming the column that every other missing
    header gets."""
    items = [list(HEAD), _item("MS-1")]  # copies: the headers are shared
    materials = [list(MATERIALS), ["MS-1", "M1", "残疾人证", "自备", "是", "1"]]
    ((items if sheet == "事项清单" else materials)[0])[0] = "编码"
    book = _book(items, materials)
    with pytest.raises(BadInput, match=f"{sheet} 第 1 行表头缺少“事项编码”列"):
        read_catalog(_saved(book, tmp_path / "list.xlsx"))
