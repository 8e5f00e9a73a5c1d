"""A broken 清单 is refused with every bad cell named (hub.catalog_sheet.Problems): the
import named the first only, so an officer with a column of wrong values fixed one cell per
try. Each names the sheet, the row, the column (header and letter) and the rule; at most
``SHOWN`` are listed, with a count of the rest; nothing is stored while any is bad."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.catalog_sheet import SHOWN, items_from_tables
from hub.errors import BadInput
from ops.cli import main
from schemas import sample

from .test_catalog_import import _stored
from .test_catalog_sheet import HEAD, MATERIALS, _officer

OK = ["MS-1", "x", "y", "村", "是", "是", "民生", "", "2"]


def test_every_bad_cell_of_both_sheets_is_named() -> None:
    with pytest.raises(BadInput) as err:
        items_from_tables([HEAD, OK,
                           ["MS-2", "", "y", "省", "是", "是", "民生", "", "三天"],
                           ["MS-1", "x", "y", "村", "是", "是", "民生", "", "2"]],
                          [MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "也许", 1],
                           ["MS-9", "M01", "户口簿", "本人携带", "", ""],
                           ["MS-2", "M01", "户口簿", "本人携带", "", "两份"]])
    lines = err.value.reason.splitlines()
    assert lines[0] == "7 处错误，未导入任何事项 / 7 bad cells, nothing imported:", lines
    want = ["事项清单 第 3 行“事项名称”（B 列）: 必填", "事项清单 第 3 行“办理层级”（D 列）",
            "事项清单 第 3 行“法定时限（工作日）”（I 列）", "事项清单 第 4 行“事项编码”: MS-1 与第 2 行重复",
            "申请材料 第 2 行“需原件”（E 列）", "申请材料 第 3 行“事项编码”: 事项清单中没有这一事项",
            "申请材料 第 4 行“份数”（F 列）"]
    assert [w for w in want if not any(line.strip().startswith(w) for line in lines)] == []


def test_a_bad_item_code_does_not_make_its_materials_unknown_items() -> None:
    with pytest.raises(BadInput) as err:
        items_from_tables([HEAD, ["", "x", "y", "村", "是", "是", "民生", "", "2"]],
                          [MATERIALS, ["", "M01", "身份证", "本人携带", "是", 1]])
    assert "没有这一事项" not in err.value.reason, err.value.reason


def test_a_long_list_of_bad_cells_is_cut_with_a_count() -> None:
    rows = [[f"MS-{n}", "x", "y", "村", "也许", "是", "民生", "", "2"] for n in range(SHOWN + 12)]
    with pytest.raises(BadInput) as err:
        items_from_tables([HEAD, *rows], [MATERIALS])
    lines = err.value.reason.splitlines()
    assert lines[0].startswith(f"{SHOWN + 12} 处错误")
    assert len(lines) == 1 + SHOWN + 1 and lines[-1].strip() == "……另有 12 处 / and 12 more"
    assert lines[SHOWN].strip().startswith(f"事项清单 第 {SHOWN + 1} 行“可帮办”（E 列）")


def test_the_import_of_a_broken_workbook_names_every_cell_and_stores_nothing(
        hub_dir: str, tmp_path: Path, capsys: Any) -> None:
    import openpyxl

    from hub.catalog_files import write_catalog

    before = _stored(hub_dir)
    path = write_catalog([_officer(i) for i in sample.catalog()], tmp_path / "list.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["事项清单"]
    was = sheet["E2"].value, sheet["I3"].value
    sheet["E2"], sheet["I3"] = "也许", "三天"
    book.save(path)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "catalog", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 3, err
    assert "2 bad cells, nothing imported" in err, err
    assert "事项清单 第 2 行“可帮办”（E 列）" in err and "事项清单 第 3 行“法定时限（工作日）”（I 列）" in err
    assert _stored(hub_dir) == before
    sheet["E2"], sheet["I3"] = was  # put right, the same file goes in
    book.save(path)
    assert main(["hub", "--hub-dir", hub_dir, "catalog", "import", str(path)]) == 0


def test_every_item_the_import_refuses_is_named(hub_dir: str, tmp_path: Path,
                                                capsys: Any) -> None:
    """hub.catalog's checks after the file is read (the schema, one code once, the promise
    within the statutory limit) stopped at the first refused item: a list whose promises
    were all a day over took one import per item. A JSON list and a workbook alike."""
    import json

    from hub.catalog_files import write_catalog

    items = [_officer(i) for i in sample.catalog()]
    bad = [{**items[0], "time_limit_days": 0}, {**items[1], "promised_days": 99},
           {k: v for k, v in items[2].items() if k != "department"}, "QY-009", items[0]]
    f = tmp_path / "list.json"
    f.write_text(json.dumps(bad, ensure_ascii=False), "utf-8")
    for dry in ([], ["--dry-run"]):
        capsys.readouterr()
        assert main(["hub", "--hub-dir", hub_dir, "catalog", "import", str(f), *dry]) == 2
        err = capsys.readouterr().err
        assert "5 items refused, nothing imported" in err and "5 个事项被拒绝" in err, err
        for at, why in ((f"items[0] ({items[0]['code']})", "promised_days"),
                        (f"items[1] ({items[1]['code']})", "promised_days: 99 is over"),
                        (f"items[2] ({items[2]['code']})", "department"),
                        ("items[3]", "not str"),
                        (f"items[4] ({items[0]['code']})", "the same as items[0]'s")):
            assert any(at in line and why in line for line in err.splitlines()), (at, err)
    assert _stored(hub_dir) == {}
    over = [{**i, "promised_days": i["time_limit_days"] + 1} for i in items]
    path = write_catalog(over, tmp_path / "list.xlsx")
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "catalog", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{len(items)} items refused" in err, err
    assert all(f"事项清单 第 {n} 行" in err for n in range(2, len(items) + 2)), err
    assert _stored(hub_dir) == {}
