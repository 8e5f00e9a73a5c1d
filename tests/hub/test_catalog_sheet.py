"""The 清单 as the city's office keeps it: an Excel/WPS workbook or two CSV files
(hub.catalog_sheet, hub.catalog_files, hub.catalog_cli). Exported, edited in a spreadsheet
and imported back; every refusal names the sheet, the row, the column and the rule, and
stores nothing."""

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
    (["MS-1", "", "y", "村", "是", "是", "民生", "", "2"], "第 2 行“事项名称”（B 列）: 必填"),
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


def test_a_workbook_whose_stated_used_range_is_wrong_is_read_whole(tmp_path: Path) -> None:
    """An .xlsx states its used range (``<dimension ref=...>``); some programs that write
    them (report exports, older libraries) state A1 or a range short of the data. Read in
    openpyxl's read-only mode the range was believed: the list imported its first item and
    material and dropped the rest without a word (or refused a header cut at column A)."""
    import re
    import zipfile

    from hub.catalog_files import read_catalog, write_catalog

    items = [_officer(i) for i in sample.catalog()]
    path = write_catalog(items, tmp_path / "right.xlsx")
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    for ref in (b"A1:J2", b"A1"):
        wrong = tmp_path / f"wrong-{ref.decode().replace(':', '-')}.xlsx"
        with zipfile.ZipFile(wrong, "w") as book:
            for name, data in parts.items():
                if name.startswith("xl/worksheets/"):
                    data = re.sub(rb'<dimension ref="[^"]*" ?/>',
                                  b'<dimension ref="' + ref + b'"/>', data)
                book.writestr(name, data)
        read, _ = read_catalog(wrong)
        assert read == sorted(items, key=lambda i: i["code"]), ref


def test_a_material_row_copied_twice_is_refused_by_its_row() -> None:
    """Copied down one row too many in the 申请材料 sheet: the item was stored with the same
    material twice, the applicant's one-time notice (10.1.4) listing it twice."""
    with pytest.raises(BadInput) as err:
        items_from_tables([HEAD, ["MS-1", "x", "y", "村", "是", "是", "民生", "", "3", "2"]],
                          [MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "是", 1],
                           ["MS-1", "M01 ", "身份证", "本人携带", "是", 1]])
    assert "申请材料 第 3 行“材料编码”" in err.value.reason and "第 2 行" in err.value.reason


def test_a_title_row_above_the_header_and_headers_typed_otherwise(tmp_path: Path) -> None:
    """Lists are kept as they are printed: a merged title row above the header, a header
    cell wrapped over two lines (Alt+Enter), parentheses typed half-width. Each was refused
    as "column 事项编码 missing" while the officer could see it there."""
    from openpyxl import Workbook

    from hub.catalog_files import read_catalog

    book = Workbook()
    items = book.active
    assert items is not None
    items.title = "事项清单"
    items.append(["某市帮办代办事项清单（2026年版）"])
    items.merge_cells("A1:J1")
    items.append(["事项编码 ", "事项名称", "审批部门", "办理层级", "可帮办", "可代办", "重点领域",
                  "服务方式", "法定时限\n（工作日）", "承诺时限(工作日)"])
    items.append(["MS-1", "x", "y", "村", "是", "是", "民生", "", "5", "3"])
    materials = book.create_sheet("申请材料")
    materials.append(MATERIALS)
    materials.append(["MS-1", "M01", "身份证", "本人携带", "是", 1])
    book.save(tmp_path / "list.xlsx")
    read, where = read_catalog(tmp_path / "list.xlsx")
    assert [(i["code"], i["time_limit_days"], i["promised_days"]) for i in read] == [
        ("MS-1", 5, 3)]
    assert where == ["事项清单 第 3 行"] and read[0]["materials"][0]["code"] == "M01"
    with pytest.raises(BadInput, match="事项清单 第 3 行“可帮办”"):
        items_from_tables([["清单"], HEAD, ["MS-1", "x", "y", "村", "也许", "是", "民生"]],
                          [MATERIALS])


def test_text_starting_with_an_equals_sign_is_exported_as_text(tmp_path: Path) -> None:
    """openpyxl writes a text starting with = as a formula: the officer's Excel ran
    “=本人携带” (or whatever such a name says) and the list did not import back (a formula
    has no value until Excel computes it: the cell read blank, "required")."""
    from hub.catalog_files import read_catalog, write_catalog

    items = [_officer(i) for i in sample.catalog()][:1]
    items[0]["name"] = "=HYPERLINK(\"http://x\")"
    items[0]["materials"][0]["how_to_obtain"] = "=本人携带"
    read, _ = read_catalog(write_catalog(items, tmp_path / "list.xlsx"))
    assert read == items


def test_a_store_failing_half_way_leaves_the_published_list_as_it_was(
        hub_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Items were written one ``put`` at a time: the store failing at the second (a full
    disk) left the first one published, half a new list that was neither the old one nor
    the officer's (hub.catalog). The changed items are now one write."""
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from sync.errors import SyncError

    items = [_officer(i) for i in sample.catalog()[:3]]
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        admin.import_catalog(hub, items)
        before = dict(hub.stores.service_items(max_age=0))
        main = hub.stores.main
        real_put, real_bulk = main.put, main.bulk_docs
        failing = f"service_item:{items[1]['code']}"

        def put(doc: Any, *a: Any, **k: Any) -> Any:
            if doc.get("_id") == failing:
                raise SyncError("disk full", status=500)
            return real_put(doc, *a, **k)

        def bulk_docs(docs: Any, *a: Any, **k: Any) -> Any:
            if any(d.get("_id") == failing for d in docs):
                raise SyncError("disk full", status=500)
            return real_bulk(docs, *a, **k)

        monkeypatch.setattr(main, "put", put)
        monkeypatch.setattr(main, "bulk_docs", bulk_docs)
        changed = [{**i, "name": i["name"] + "（新）"} for i in items]
        with pytest.raises(SyncError):
            admin.import_catalog(hub, changed)
        monkeypatch.undo()
        assert dict(hub.stores.service_items(max_age=0)) == before
        assert admin.import_catalog(hub, changed) == 3  # the store back: all of it
        names = {d["name"] for d in hub.stores.service_items(max_age=0).values()}
        assert names == {i["name"] for i in changed}
    finally:
        hub.close()
