"""The 清单 as the city's office keeps it: an Excel/WPS workbook or two CSV files
(hub.catalog_sheet, hub.catalog_cli). Exported, edited in a spreadsheet and imported back;
every refusal names the sheet, the row, the column and the rule, and stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.catalog_sheet import items_from_tables, tables_from_items
from hub.errors import BadInput
from ops.cli import main
from schemas import sample

from .test_catalog_import import _stored
from .test_cli import _err

HEAD = ["事项编码", "事项名称", "审批部门", "办理层级", "可帮办", "可代办", "重点领域",
        "服务方式", "法定时限（工作日）", "承诺时限（工作日）"]
MATERIALS = ["事项编码", "材料编码", "材料名称", "获取方式", "需原件", "份数"]


def _officer(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("_id", "type", "schema_version")}


def test_the_sample_list_goes_through_the_tables_unchanged() -> None:
    items = [_officer(i) for i in sample.catalog()]
    back, where = items_from_tables(*tables_from_items(items))
    assert back == sorted(items, key=lambda i: i["code"])
    assert where[0] == "事项清单 第 2 行"


def test_a_sheet_as_an_officer_types_it() -> None:
    """Short tier names, 即办 for 0 days, "3个工作日", Excel's 3.0, 是/否, blank optionals."""
    items, _ = items_from_tables(
        [HEAD, ["MS-101", "残疾人证办理", "残联", "村、乡镇", "是", "否", "民生", "上门办，就近办",
                3.0, "即办"],
         [None] * 10,  # a blank line between groups
         ["MS-102", "高龄津贴申领", "民政局", "村 社区", "√", "×", "民生服务", "", "10个工作日", ""]],
        [MATERIALS, ["MS-101", "M01", "身份证", "本人携带", "是", 1],
         ["MS-102", "M01", "户口簿", "本人携带", "", ""]])
    first, second = items
    assert first["tiers"] == ["village", "town"] and first["assist"] and not first["proxy"]
    assert first["modes"] == ["door", "nearby"] and first["focus_area"] == "livelihood"
    assert first["time_limit_days"] == 3 and first["promised_days"] == 0
    assert first["materials"] == [{"code": "M01", "name": "身份证", "how_to_obtain": "本人携带",
                                   "original": True, "copies": 1}]
    assert second["time_limit_days"] == 10 and "promised_days" not in second
    assert "modes" not in second and second["materials"][0] == {
        "code": "M01", "name": "户口簿", "how_to_obtain": "本人携带"}


@pytest.mark.parametrize(("row", "named"), [
    (["MS-1", "x", "y", "村", "也许", "是", "民生"], "第 2 行“可帮办”"),
    (["MS-1", "x", "y", "省", "是", "是", "民生"], "第 2 行“办理层级”"),
    (["MS-1", "x", "y", "村", "是", "是", "民生", "", "三天"], "第 2 行“法定时限（工作日）”"),
    (["MS-1", "x", "y", "村", "是", "是", "民生", "", "2.5"], "第 2 行“法定时限（工作日）”"),
    (["MS-1", "", "y", "村", "是", "是", "民生", "", "2"], "第 2 行“事项名称”: 必填"),
    (["MS-1", "x", "y", "村", "是", "是", "民生、涉企", "", "2"], "第 2 行“重点领域”"),
])
def test_a_bad_cell_is_named_by_sheet_row_and_column(row: list[Any], named: str) -> None:
    with pytest.raises(BadInput, match=named):
        items_from_tables([HEAD, row], [MATERIALS])


def test_materials_of_an_unknown_item_and_missing_columns_are_refused() -> None:
    ok = ["MS-1", "x", "y", "村", "是", "是", "民生", "", "2"]
    with pytest.raises(BadInput, match="申请材料 第 2 行“事项编码”"):
        items_from_tables([HEAD, ok], [MATERIALS, ["MS-9", "M01", "a", "b"]])
    with pytest.raises(BadInput, match="缺少“审批部门”列"):
        items_from_tables([[h for h in HEAD if h != "审批部门"]], [MATERIALS])
    with pytest.raises(BadInput, match="第 3 行.*与第 2 行重复"):
        items_from_tables([HEAD, ok, ok], [MATERIALS])


def test_export_edit_in_a_spreadsheet_and_import_back(hub_dir: str, tmp_path: Path,
                                                      capsys: Any) -> None:
    from openpyxl import load_workbook

    h = ["hub", "--hub-dir", hub_dir, "catalog"]
    assert main([*h, "import", "--sample"]) == 0
    before = _stored(hub_dir)
    book_path = tmp_path / "清单.xlsx"
    assert main([*h, "export", "--out", str(book_path)]) == 0
    assert main([*h, "import", str(book_path)]) == 0  # as exported: nothing changes
    assert _stored(hub_dir) == before

    book = load_workbook(book_path)
    items = book["事项清单"]
    headers = [c.value for c in items[1]]
    row = next(r for r in items.iter_rows(min_row=2) if r[0].value == "QY-002")
    row[headers.index("承诺时限（工作日）")].value = "即办"
    book.save(book_path)
    assert main([*h, "import", str(book_path)]) == 0
    after = _stored(hub_dir)
    assert after["QY-002"]["promised_days"] == 0
    assert after["QY-001"] == before["QY-001"]  # the others are not re-stamped

    row[headers.index("可帮办")].value = "不确定"
    book.save(book_path)
    err = _err(capsys, *h, "import", str(book_path))
    assert "事项清单 第" in err and "“可帮办”" in err, err
    assert _stored(hub_dir) == after  # nothing stored from a refused file


def test_a_schema_refusal_names_the_sheet_row(hub_dir: str, tmp_path: Path,
                                              capsys: Any) -> None:
    """A value of the right form that an item may not have (a promise over the statutory
    limit, 10.1.3) is refused by the import's own check, still named by its row."""
    items = tmp_path / "items.csv"
    items.write_text(",".join(HEAD) + "\nMS-1,残疾人证办理,残联,村,是,是,民生,,2,5\n",
                     encoding="utf-8")
    mats = tmp_path / "materials.csv"
    mats.write_text(",".join(MATERIALS) + "\n", encoding="utf-8")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(items),
               "--materials", str(mats))
    assert "items.csv 第 2 行 (MS-1)" in err and "promised_days" in err, err


def test_csv_as_excel_saves_it_on_a_chinese_windows(hub_dir: str, tmp_path: Path,
                                                    capsys: Any) -> None:
    """GBK, the default of Excel's and WPS's "CSV" there; and a CSV needs its materials."""
    items = tmp_path / "items.csv"
    items.write_bytes((",".join(HEAD) + "\r\nMS-1,残疾人证办理,残联,村,是,是,民生,,3,2\r\n")
                      .encode("gbk"))
    mats = tmp_path / "materials.csv"
    mats.write_bytes((",".join(MATERIALS) + "\r\nMS-1,M01,身份证,本人携带,是,1\r\n")
                     .encode("gbk"))
    h = ["hub", "--hub-dir", hub_dir, "catalog", "import", str(items)]
    assert "--materials" in _err(capsys, *h)
    assert main([*h, "--materials", str(mats)]) == 0
    stored = _stored(hub_dir)["MS-1"]
    assert stored["name"] == "残疾人证办理" and stored["materials"][0]["name"] == "身份证"
    old = tmp_path / "清单.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert ".xlsx" in _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(old))
