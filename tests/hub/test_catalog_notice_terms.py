"""办理条件 and 办理流程 in the 清单 (6.2.4): what the one-time notification (一次性告知, 3 and
10.1.4) tells besides the materials and the time limit. The catalog had no place for them,
so form N could not print them (docs/conformance.md, clause 3). Optional members of a
service item, columns of the workbook, members of the JSON list; a list without them stays
valid, and a node that does not know them stores them untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.catalog_sheet import items_from_tables
from ops.cli import main
from schemas import sample
from schemas.errors import SchemaError
from schemas.reference import CONDITIONS_MAX_LEN
from schemas.registry import validate

from .test_catalog_import import _import, _officer_item, _stored
from .test_catalog_sheet import HEAD, MATERIALS
from .test_catalog_workbook import _book, _item, _saved
from .test_cli import _err

CONDITIONS = "本县户籍，年满80周岁。"
PROCEDURE = "村（社区）提交申请→乡镇（街道）审核→民政局审批→次月起发放到社保卡。"


def _doc(**changes: Any) -> dict[str, Any]:
    item = next(i for i in sample.catalog() if i["code"] == "MS-004")
    return {**{k: v for k, v in item.items() if k not in ("conditions", "procedure")}, **changes}


def test_a_service_item_holds_its_conditions_and_procedure_bounded() -> None:
    """Before, both were refused as unknown fields; an item without them is still valid."""
    stored = validate(_doc(conditions=CONDITIONS, procedure=PROCEDURE))
    assert (stored["conditions"], stored["procedure"]) == (CONDITIONS, PROCEDURE)
    assert "conditions" not in validate(_doc())
    for bad, rule in (("x" * (CONDITIONS_MAX_LEN + 1), "length"), ("", "length"), (3, "")):
        with pytest.raises(SchemaError) as err:
            validate(_doc(procedure=bad))
        assert "procedure" in str(err.value.reason) and rule in str(err.value.reason)


def test_the_sample_catalog_tells_every_item_s_conditions_and_procedure() -> None:
    items = sample.catalog()
    assert all(i.get("conditions") and i.get("procedure") for i in items)
    assert len({i["procedure"] for i in items}) > len(items) // 2  # not one text for all


def test_the_workbook_s_columns_are_read_and_a_list_without_them_still_is(
        hub_dir: str, tmp_path: Path) -> None:
    """办理条件 and 办理流程 are columns of 事项清单, optional: a list exported before they
    existed imports as before, a blank cell is no member (not an empty text)."""
    book = _book([[*HEAD, "办理条件", "办理流程"],
                  [*_item("MS-1"), CONDITIONS, "1. 提交申请\n2. 审核"],
                  [*_item("MS-2"), "", None]],
                 [MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "是", 1],
                  ["MS-2", "M01", "户口簿", "本人携带", "是", 1]])
    assert main(_import(hub_dir, _saved(book, tmp_path / "清单.xlsx"))) == 0
    stored = _stored(hub_dir)
    assert stored["MS-1"]["conditions"] == CONDITIONS
    assert stored["MS-1"]["procedure"] == "1. 提交申请\n2. 审核"
    assert "conditions" not in stored["MS-2"] and "procedure" not in stored["MS-2"]
    old, _ = items_from_tables([HEAD, _item("MS-3")],
                               [MATERIALS, ["MS-3", "M01", "身份证", "本人携带", "是", 1]])
    assert "conditions" not in old[0]


def test_a_too_long_procedure_in_the_workbook_is_refused_by_its_cell(
        hub_dir: str, tmp_path: Path, capsys: Any) -> None:
    book = _book([[*HEAD, "办理条件", "办理流程"],
                  [*_item("MS-1"), CONDITIONS, "步" * (CONDITIONS_MAX_LEN + 1)]],
                 [MATERIALS, ["MS-1", "M01", "身份证", "本人携带", "是", 1]])
    err = _err(capsys, *_import(hub_dir, _saved(book, tmp_path / "清单.xlsx")))
    assert "事项清单 第 2 行" in err and "procedure" in err, err
    assert _stored(hub_dir) == {}


def test_json_import_and_export_carry_them(hub_dir: str, tmp_path: Path) -> None:
    f = tmp_path / "catalog.json"
    f.write_text(json.dumps([_officer_item("MS-004", conditions=CONDITIONS,
                                           procedure=PROCEDURE)]), "utf-8")
    assert main(_import(hub_dir, f)) == 0
    assert _stored(hub_dir)["MS-004"]["procedure"] == PROCEDURE
    out = tmp_path / "清单.xlsx"
    assert main(["hub", "--hub-dir", hub_dir, "catalog", "export", "--out", str(out)]) == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out)["事项清单"].values)
    assert rows[1][rows[0].index("办理流程")] == PROCEDURE

