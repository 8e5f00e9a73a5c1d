"""The 清单 as a spreadsheet: read into service items, and written back out.

A city's 政务服务 office keeps its list of items that may be assisted or proxied (6.2.4)
in Excel or WPS, one row per item, not as JSON. ``bangban hub catalog import`` reads such a
workbook (two sheets: 事项清单, one row per item; 申请材料, one row per material with its
item's code) or the same two tables as CSV files, and ``catalog export`` writes the list
the hub holds in that very form, so the officer edits the list where it is kept and
imports it back. Every value is checked here for its form (a number, 是/否, a known
tier); :func:`hub.admin.import_catalog` then checks each item against the schema and the
time-limit rule and stores all or none.

A refusal names the sheet, the row as the spreadsheet shows it (the header is row 1), the
column's header and the rule, in Chinese and English.

The parsing and the table layout are pure (:func:`items_from_tables`,
:func:`tables_from_items`); openpyxl and csv are used only in :mod:`hub.catalog_files`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.errors import BadInput
from schemas.vocab import FOCUS_AREAS, MODES, TIERS

ITEMS_SHEET, MATERIALS_SHEET = "事项清单", "申请材料"

#: The short names a list uses for the tiers (4.3: 市、县（区）、乡镇（街道）、村（社区）).
_TIER_WORDS = {"市": "city", "县": "county", "区": "county", "县（区）": "county",
               "县区": "county", "乡镇": "town", "镇": "town", "乡": "town", "街道": "town",
               "乡镇（街道）": "town", "村": "village", "社区": "village", "村（社区）": "village"}
_YES = {"是", "可", "有", "√", "✓", "y", "yes", "true", "1"}
_NO = {"否", "不可", "无", "×", "✗", "n", "no", "false", "0"}
#: 即办件: handled on the spot, a time limit of 0 working days (10.1.3).
_SAME_DAY = {"即办", "即办件", "当场办结", "当场"}
_SPLIT = re.compile(r"[、,，;；/\s]+")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[str], Any]
    required: bool = True
    #: how the column's value is written back (export)
    show: Callable[[Any], str] = str


def _text(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError("填“是”或“否” / write 是 or 否 (yes or no)")


def _days(value: str) -> int:
    word = value.strip()
    if word in _SAME_DAY:
        return 0
    word = re.sub(r"(个)?(工作日|日|天)$", "", word).strip()
    try:
        number = float(word)
    except ValueError:
        raise ValueError("填工作日数（整数），即办件填 0 或“即办” / a whole number of "
                         "working days (0 or 即办 for an item handled on the spot)") from None
    if number != int(number) or number < 0:
        raise ValueError("工作日数须为不小于 0 的整数 / a whole number of days, 0 or more")
    return int(number)


def _words(vocab: Mapping[str, tuple[str, str]], extra: Mapping[str, str],
           what: str) -> Callable[[str], list[str]]:
    known = {code: code for code in vocab} | {zh: code for code, (zh, _en) in vocab.items()}
    known |= dict(extra)

    def parse(value: str) -> list[str]:
        out: list[str] = []
        for word in _SPLIT.split(value.strip()):
            if not word:
                continue
            code = known.get(word) or known.get(word.lower())
            if code is None:
                names = "、".join(zh for zh, _en in vocab.values())
                raise ValueError(f"“{word}”不是{what}（可填：{names}）/ {word!r} is not one "
                                 f"of the {what} ({', '.join(vocab)})")
            if code not in out:
                out.append(code)
        if not out:
            raise ValueError(f"至少填一项{what} / at least one")
        return out
    return parse


def _one(parse: Callable[[str], list[str]]) -> Callable[[str], str]:
    def one(value: str) -> str:
        found = parse(value)
        if len(found) != 1:
            raise ValueError("只填一项 / exactly one")
        return found[0]
    return one


def _yes_no(value: Any) -> str:
    return "是" if value else "否"


def _labels(vocab: Mapping[str, tuple[str, str]]) -> Callable[[Any], str]:
    def show(value: Any) -> str:
        codes = value if isinstance(value, list) else [value]
        return "、".join(vocab.get(c, (c, c))[0] for c in codes)
    return show


_tiers = _words(TIERS, _TIER_WORDS, "办理层级")
_modes = _words(MODES, {}, "服务方式")
_focus = _one(_words(FOCUS_AREAS, {"涉企": "enterprise", "民生": "livelihood"}, "重点领域"))

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("code", "事项编码", _text),
    Column("name", "事项名称", _text),
    Column("department", "审批部门", _text),
    Column("tiers", "办理层级", _tiers, show=_labels(TIERS)),
    Column("assist", "可帮办", _bool, show=_yes_no),
    Column("proxy", "可代办", _bool, show=_yes_no),
    Column("focus_area", "重点领域", _focus, show=_labels(FOCUS_AREAS)),
    Column("modes", "服务方式", _modes, required=False, show=_labels(MODES)),
    Column("time_limit_days", "法定时限（工作日）", _days),
    Column("promised_days", "承诺时限（工作日）", _days, required=False),
    Column("materials_period_days", "补正材料期限（工作日）", _days, required=False),
    Column("resumption_period_days", "恢复办理期限（工作日）", _days, required=False),
    Column("fees", "涉及行政事业性收费", _bool, required=False, show=_yes_no),
    Column("active", "启用", _bool, required=False, show=_yes_no),
)
MATERIAL_COLUMNS: tuple[Column, ...] = (
    Column("item", "事项编码", _text),
    Column("code", "材料编码", _text),
    Column("name", "材料名称", _text),
    Column("how_to_obtain", "获取方式", _text),
    Column("original", "需原件", _bool, required=False, show=_yes_no),
    Column("copies", "份数", _days, required=False),
)

Table = Sequence[Sequence[Any]]


def _cell(value: Any) -> str:
    """A cell as text: openpyxl gives numbers as int or float, a blank as None."""
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


def _records(table: Table, columns: Sequence[Column], sheet: str
             ) -> list[tuple[int, dict[str, Any]]]:
    """``(row number, values)`` of each filled row under the header row."""
    if not table:
        raise BadInput(f"{sheet}: 表是空的，第 1 行应为表头 / the sheet is empty; row 1 "
                       "holds the column headers")
    headers = [_cell(h) for h in table[0]]
    where: dict[str, int] = {}
    for col in columns:
        if col.header not in headers and col.key not in headers:
            if col.required:
                raise BadInput(f"{sheet}: 缺少“{col.header}”列 / column {col.header!r} "
                               f"({col.key}) is missing from the header row")
            continue
        where[col.key] = headers.index(col.header if col.header in headers else col.key)
    out = []
    for n, row in enumerate(table[1:], start=2):
        cells = [_cell(v) for v in row]
        if not any(cells):
            continue  # a blank line between groups of items
        values: dict[str, Any] = {}
        for col in columns:
            i = where.get(col.key)
            raw = cells[i] if i is not None and i < len(cells) else ""
            if not raw:
                if col.required:
                    raise BadInput(f"{sheet} 第 {n} 行“{col.header}”: 必填 / row {n}, "
                                   f"{col.header} ({col.key}): required")
                continue
            try:
                values[col.key] = col.parse(raw)
            except ValueError as exc:
                raise BadInput(f"{sheet} 第 {n} 行“{col.header}”: {exc} / row {n}, "
                               f"{col.key}: {raw!r}") from exc
        out.append((n, values))
    return out


def items_from_tables(items: Table, materials: Table | None,
                      sheets: tuple[str, str] = (ITEMS_SHEET, MATERIALS_SHEET)
                      ) -> tuple[list[dict[str, Any]], list[str]]:
    """The service items of the two tables (materials joined by item code), and where each
    item is (``"事项清单 第 3 行"``), for :func:`hub.admin.import_catalog`'s refusals."""
    item_sheet, material_sheet = sheets
    found: list[dict[str, Any]] = []
    where: list[str] = []
    rows: dict[str, int] = {}
    for n, values in _records(items, ITEM_COLUMNS, item_sheet):
        values["materials"] = []
        if values["code"] in rows:
            raise BadInput(f"{item_sheet} 第 {n} 行“事项编码”: {values['code']} 与第 "
                           f"{rows[values['code']]} 行重复 / row {n}: code {values['code']} "
                           f"again (row {rows[values['code']]}); each item once (6.2.4)")
        rows[values["code"]] = n
        found.append(values)
        where.append(f"{item_sheet} 第 {n} 行")
    by_code = {item["code"]: item for item in found}
    for n, values in _records(materials or [], MATERIAL_COLUMNS, material_sheet) \
            if materials else []:
        item = by_code.get(values.pop("item"))
        if item is None:
            raise BadInput(f"{material_sheet} 第 {n} 行“事项编码”: {item_sheet}中没有这一事项 "
                           f"/ row {n}: no such item in {item_sheet}")
        item["materials"].append(values)
    return found, where


def tables_from_items(items: Iterable[Mapping[str, Any]]) -> tuple[list[list[str]],
                                                                      list[list[str]]]:
    """The two tables of the list (header row first), as :func:`items_from_tables` reads
    them back: what ``catalog export`` writes."""
    item_rows = [[c.header for c in ITEM_COLUMNS]]
    material_rows = [[c.header for c in MATERIAL_COLUMNS]]
    for item in sorted(items, key=lambda i: str(i.get("code"))):
        item_rows.append([c.show(item[c.key]) if item.get(c.key) is not None else ""
                          for c in ITEM_COLUMNS])
        for m in item.get("materials") or []:
            material_rows.append([str(item["code"])] + [
                c.show(m[c.key]) if m.get(c.key) is not None else ""
                for c in MATERIAL_COLUMNS[1:]])
    return item_rows, material_rows


__all__ = ["ITEMS_SHEET", "ITEM_COLUMNS", "MATERIALS_SHEET", "MATERIAL_COLUMNS",
           "items_from_tables", "tables_from_items"]
