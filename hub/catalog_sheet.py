"""The 清单 as a spreadsheet: read into service items, and written back out.

A city's 政务服务 office keeps its list of items that may be assisted or proxied (6.2.4)
in Excel or WPS, one row per item, not as JSON. ``bangban hub catalog import`` reads such a
workbook (two sheets: 事项清单, one row per item; 申请材料, one row per material with its
item's code) or the same two tables as CSV files, and ``catalog export`` writes the list
the hub holds in that very form, so the officer edits the list where it is kept and
imports it back. Every value is checked here for its form (a number, 是/否, a known
tier); :func:`hub.admin.import_catalog` then checks each item against the schema and the
time-limit rule and stores all or none.

A refusal names the sheet, the row as the spreadsheet shows it (the header is row 1, or
below a title row), the column (its letter and header) and the rule, in Chinese and English,
for every bad cell of both sheets (the first :data:`SHOWN`, then how many more): it named
the first only, and a list with a column of wrong dates took one import per cell.

A sheet is read as the officer sees it in Excel or WPS:

- a merged range's value (its top-left cell) counts for every cell of the range: a 审批部门
  merged over the rows of its items, an item's code over its materials, a header of two
  rows (a group's name merged across its columns above the leaves' names);
- a formula counts by the result Excel or WPS stored with it; a formula with no result (a
  workbook written by a program and never saved by Excel/WPS) or an error (#N/A) in a
  column read is refused by its row and column, never read as blank or as "#N/A";
- hidden rows are not imported (an item no longer offered, a row being drafted), nor the
  materials of an item whose row is hidden; the import names how many and which rows were
  left out. Hiding a row does not withdraw a published item: 启用 否 does. Rows an
  AutoFilter hides are hidden rows as well (Excel stores them so);
- hidden columns are read (hiding a column is a view, a narrow screen), and a header over
  two columns is refused (an old column kept hidden beside its copy was read unseen);
- a hidden 事项清单 or 申请材料 sheet is refused (:mod:`hub.catalog_files`): left out, all
  the items, or every item's materials, would have gone without a trace.

The parsing and the table layout are pure (:func:`read_tables`, :func:`tables_from_items`);
openpyxl and csv are used only in :mod:`hub.catalog_files`, which marks the cells
(:class:`Spread`, :class:`Uncalculated`, :class:`ErrorValue`) and rows (:class:`HiddenRow`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.catalog_columns import (
    ITEM_COLUMNS,
    ITEMS_SHEET,
    MATERIAL_COLUMNS,
    MATERIALS_SHEET,
    Column,
)
from hub.errors import BadInput

Table = Sequence[Sequence[Any]]
#: bad cells a refusal lists one by one; the rest are counted (a column of 2000 wrong
#: values listed in full is a message no one reads to the end)
SHOWN = 50


class Problems:
    """The bad cells (or refused items) of one import, collected so that one refusal names
    them all."""

    def __init__(self, what: tuple[str, str] = ("处错误", "bad cells")) -> None:
        #: what is counted, in Chinese and English: the cells of a sheet, or the items
        #: :mod:`hub.catalog` refuses once the file is read
        self.what = what
        self.lines: list[str] = []
        #: the text of item code cells found bad: their materials are not "no such item"
        self.bad_codes: set[str] = set()

    def add(self, exc: BadInput) -> None:
        self.lines.append(exc.reason)

    def check(self) -> None:
        """:class:`BadInput` listing every bad cell (the first :data:`SHOWN` and a count
        of the rest) when there is any; nothing is imported then."""
        n = len(self.lines)
        if n == 1:
            raise BadInput(self.lines[0])
        if n:
            more = [f"……另有 {n - SHOWN} 处 / and {n - SHOWN} more"] if n > SHOWN else []
            zh, en = self.what
            raise BadInput(f"{n} {zh}，未导入任何事项 / {n} {en}, nothing imported:\n"
                           + "\n".join(f"  {line}" for line in [*self.lines[:SHOWN], *more]))


@dataclass(frozen=True)
class Spread:
    """A cell of a merged range other than its top-left, with the range's value: lists
    merge a column over the rows of a group (the 审批部门 of several items, an item's code
    over its materials), and the spreadsheet shows that value in each of those rows."""
    value: Any


@dataclass(frozen=True)
class Uncalculated:
    """A formula cell with no calculated value stored (written by a program)."""
    formula: str


@dataclass(frozen=True)
class ErrorValue:
    """A cell holding an error (#N/A, #REF!, #DIV/0!)."""
    code: str


class HiddenRow(list[Any]):
    """A row the sheet hides: not imported (module docstring)."""


@dataclass
class Catalog:
    """What a list's tables hold: the items, where each is (``"事项清单 第 3 行"``), and the
    filled rows left out as ``(sheet, row, item code)``: hidden rows, and the materials of
    an item whose row is hidden."""
    items: list[dict[str, Any]]
    where: list[str]
    left_out: list[tuple[str, int, str]]


def _cell(value: Any) -> str:
    """A cell as text: openpyxl gives numbers as int or float, a blank as None; a merged
    range's copy reads as its value; a formula without a result or an error reads blank
    (a data cell with either is refused by :func:`_checked_cell`)."""
    if isinstance(value, Spread):
        value = value.value
    if value is None or isinstance(value, Uncalculated | ErrorValue):
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


def _checked_cell(value: Any, where: str) -> str:
    """A data cell as text, refusing what has no value to read: a formula never calculated
    (a program wrote the workbook and no Excel ever saved it) read blank, refused as
    "required" though the officer sees a value in Excel; an error (#N/A of a VLOOKUP that
    found nothing) read as the text "#N/A", a department or a name."""
    base = value.value if isinstance(value, Spread) else value
    if isinstance(base, Uncalculated):
        raise BadInput(f"{where}: 公式没有计算结果：请在 Excel 或 WPS 中打开并保存后再导入 / "
                       f"the formula {base.formula} has no calculated value (the workbook "
                       "was written by a program): open it in Excel or WPS, save it, and "
                       "import it again")
    if isinstance(base, ErrorValue):
        raise BadInput(f"{where}: 单元格是错误值 {base.code}，请改正公式或填入值 / the cell "
                       f"is the error {base.code}: correct its formula or type the value")
    return _cell(base)


#: rows a sheet may have above its header row (a title, a date or an issuing office)
TITLE_ROWS = 5
#: rows a header may take: a group's name merged over its columns (办理时限 over 法定 and
#: 承诺), and the leaves' names under it
HEADER_ROWS = 3


def _header(text: str) -> str:
    """A header as compared: NFKC (the half-width parentheses typed on an English keyboard
    read as the full-width ones) and without spaces or line breaks (a header cell wrapped
    with Alt+Enter, 法定时限 over （工作日）)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _header_rows(table: Table, columns: Sequence[Column]
                 ) -> tuple[int, int, list[set[str]], list[set[str]]]:
    """Where the header is (its first row's index, the index of the row after it) and the
    names each column carries in it. A header of two rows, as lists are printed: a group's
    name merged across its columns above the leaves' names, a leaf merged down both rows
    (the reader gives a merged range's value to every cell of it); the rows below the first
    that hold a known header are the header's too. Last, the names typed in each column
    (not a merged range's copies), to find a header typed over two columns."""
    first = {_header(columns[0].header), columns[0].key}
    top = next((i for i, row in enumerate(table[:TITLE_ROWS + 1])
                if first & {_header(_cell(v)) for v in row}), 0)
    known = {_header(c.header) for c in columns} | {c.key for c in columns}
    end = top + 1
    # a row is the header's when a known name is typed in it: a header cell merged down
    # over the first item's row by mistake put that row in the header, its item left out
    # without a word (its cells are then read as data, the copy refused by its column)
    while end < min(len(table), top + HEADER_ROWS) and \
            known & {_header(_cell(v)) for v in table[end] if not isinstance(v, Spread)}:
        end += 1
    width = max(len(row) for row in table[top:end])
    names: list[set[str]] = []
    for i in range(width):
        stacked = [_header(_cell(row[i])) for row in table[top:end] if i < len(row)]
        # one cell's header typed over two cells (法定时限 above （工作日）), not merged
        joined = "".join(t for k, t in enumerate(stacked) if t and t not in stacked[:k])
        names.append({t for t in stacked if t} | {joined})
    own = [{_header(_cell(row[i])) for row in table[top:end]
            if i < len(row) and not isinstance(row[i], Spread)} for i in range(width)]
    return top, end, names, own


def _letter(i: int) -> str:
    """The spreadsheet's name of column ``i`` (from 0): A, …, Z, AA, …"""
    name, i = "", i + 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(ord("A") + r) + name
    return name


def _rows(sheet: str, numbers: Sequence[int]) -> str:
    """``"事项清单 第 7、9–12 行"``: row numbers, runs of them as ranges."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    shown = "、".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)
    return f"{sheet} 第 {shown} 行"


def _records(table: Table, columns: Sequence[Column], sheet: str, problems: Problems
             ) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str]]]:
    """``(row number, values)`` of each filled row under the header, and ``(row number,
    first column's text)`` of each filled row the sheet hides (:class:`HiddenRow`); the
    bad cells go to ``problems`` (a row with one has only its good values)."""
    if not table:
        raise BadInput(f"{sheet}: 表是空的，第 1 行应为表头 / the sheet is empty; row 1 "
                       "holds the column headers")
    # the header row: the first with the first column's header, below a title row or two
    # (a merged 某市帮办代办事项清单 above the table, as such lists are printed)
    top, end, names, own = _header_rows(table, columns)
    where = _columns_at(columns, names, own, _rows(sheet, [*range(top + 1, end + 1)]))
    out, hidden = [], []
    for n, row in enumerate(table[end:], start=end + 1):
        # a blank line between groups of items; a merged range's value alone (a 所属部门
        # merged down over a spare row) does not fill a row the officer sees empty
        if not any(_cell(v) or isinstance(v, Uncalculated | ErrorValue)
                   for v in row if not isinstance(v, Spread)):
            continue
        if isinstance(row, HiddenRow):
            i = where.get(columns[0].key)
            hidden.append((n, _cell(row[i]) if i is not None and i < len(row) else ""))
            continue
        out.append((n, _values(row, n, columns, where, sheet, problems)))
    return out, hidden


def _columns_at(columns: Sequence[Column], names: Sequence[set[str]],
                own: Sequence[set[str]], rows: str) -> dict[str, int]:
    """Each column's index under the header (``names``, ``own``: :func:`_header_rows`);
    :class:`BadInput` for a required one missing or one headed twice (``rows``: where the
    header is, as the refusal says it)."""
    where: dict[str, int] = {}
    for col in columns:
        at = next((i for h in (_header(col.header), col.key)
                   for i, named in enumerate(names) if h in named), None)
        # two columns of one header: an old one kept hidden beside its copy, one read
        # and the other not, which is which unseen
        twice = [_letter(i) for i, typed in enumerate(own)
                 if {_header(col.header), col.key} & typed]
        if len(twice) > 1:
            raise BadInput(f"{rows}表头“{col.header}”有 {len(twice)} 列（{'、'.join(twice)} "
                           f"列，隐藏的列也算），只能有一列 / {col.header!r} ({col.key}) "
                           f"heads columns {', '.join(twice)} (hidden ones too): keep one")
        if at is None:
            if col.required:
                raise BadInput(f"{rows}表头缺少“{col.header}”列 / column {col.header!r} "
                               f"({col.key}) is missing from the header row(s)")
            continue
        where[col.key] = at
    return where


def _values(row: Sequence[Any], n: int, columns: Sequence[Column], where: Mapping[str, int],
            sheet: str, problems: Problems) -> dict[str, Any]:
    """Row ``n``'s values by column key, each parsed; each bad cell, named, to
    ``problems``."""
    values: dict[str, Any] = {}
    for col in columns:
        i = where.get(col.key)
        named = f"{sheet} 第 {n} 行“{col.header}”" + (f"（{_letter(i)} 列）" if i is not None
                                                     else "")
        try:
            raw = _checked_cell(row[i], named) if i is not None and i < len(row) else ""
            if not raw:
                if col.required:
                    raise BadInput(f"{named}: 必填 / row {n}, {col.header} ({col.key}): "
                                   "required")
                continue
            try:
                values[col.key] = col.parse(raw)
            except ValueError as exc:
                raise BadInput(f"{named}: {exc} / row {n}, {col.key}: {raw!r}") from exc
        except BadInput as exc:
            problems.add(exc)
            if col.key == "code":  # what its materials name it by (:func:`read_tables`)
                problems.bad_codes.add(_cell(row[i]) if i is not None and i < len(row) else "")
    return values


def read_tables(items: Table, materials: Table | None,
                sheets: tuple[str, str] = (ITEMS_SHEET, MATERIALS_SHEET)) -> Catalog:
    """The service items of the two tables (materials joined by item code), where each is,
    for :func:`hub.admin.import_catalog`'s refusals, and the rows left out."""
    item_sheet, material_sheet = sheets
    found: list[dict[str, Any]] = []
    where: list[str] = []
    rows: dict[str, int] = {}
    problems = Problems()
    records, hidden = _records(items, ITEM_COLUMNS, item_sheet, problems)
    left_out = [(item_sheet, n, code) for n, code in hidden]
    hidden_items = {code for _n, code in hidden}
    for n, values in records:
        values["materials"] = []
        if "code" not in values:  # its cell is bad, and named
            continue
        if values["code"] in rows:
            problems.add(BadInput(f"{item_sheet} 第 {n} 行“事项编码”: {values['code']} 与第 "
                           f"{rows[values['code']]} 行重复 / row {n}: code {values['code']} "
                           f"again (row {rows[values['code']]}); each item once (6.2.4)"))
            continue
        rows[values["code"]] = n
        found.append(values)
        where.append(f"{item_sheet} 第 {n} 行")
    by_code = {item["code"]: item for item in found}
    bad_items = set(problems.bad_codes)  # an item code cell's, not the materials'
    records, hidden = _records(materials, MATERIAL_COLUMNS, material_sheet, problems) \
        if materials else ([], [])
    left_out += [(material_sheet, n, code) for n, code in hidden]
    material_rows: dict[tuple[str, str], int] = {}
    for n, values in records:
        code = values.pop("item", None)
        item = by_code.get(code) if code else None
        if item is None and (code is None or code in bad_items or "code" not in values):
            continue  # a bad cell of this row, or its item's code, is named already
        if item is None and code in hidden_items:
            # the item's row hidden (no longer offered, or a draft): its materials go with
            # it, and are named among the rows left out
            left_out.append((material_sheet, n, code))
            continue
        if item is None:
            problems.add(BadInput(f"{material_sheet} 第 {n} 行“事项编码”: {item_sheet}中没有"
                                  f"这一事项 / row {n}: no such item in {item_sheet}"))
            continue
        # a row copied twice: the applicant would be told of the same material twice
        # (10.1.4), and a station checks materials off by their code
        key = (item["code"], values["code"])
        if key in material_rows:
            problems.add(BadInput(
                f"{material_sheet} 第 {n} 行“材料编码”: {values['code']} 与第 "
                f"{material_rows[key]} 行重复 / row {n}: material {values['code']} "
                f"of {item['code']} again (row {material_rows[key]})"))
            continue
        material_rows[key] = n
        item["materials"].append(values)
    problems.check()  # all or none: a list with a bad cell stores nothing
    return Catalog(found, where, left_out)


def left_out_note(left_out: Sequence[tuple[str, int, str]]) -> str:
    """The rows left out, for the import's report: so that no row of the officer's list is
    dropped without a word (module docstring)."""
    if not left_out:
        return ""
    sheets = dict.fromkeys(s for s, _n, _c in left_out)
    rows = "; ".join(_rows(s, [n for t, n, _c in left_out if t == s]) for s in sheets)
    return (f"{len(left_out)} hidden row(s) not imported (hidden, or the materials of a "
            f"hidden item) / 未导入 {len(left_out)} 个隐藏的行（隐藏的行及隐藏事项的材料）: {rows}")


def items_from_tables(items: Table, materials: Table | None,
                      sheets: tuple[str, str] = (ITEMS_SHEET, MATERIALS_SHEET)
                      ) -> tuple[list[dict[str, Any]], list[str]]:
    """The items of :func:`read_tables` and where each one is."""
    catalog = read_tables(items, materials, sheets)
    return catalog.items, catalog.where


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


__all__ = ["ITEMS_SHEET", "ITEM_COLUMNS", "MATERIALS_SHEET", "MATERIAL_COLUMNS", "Catalog",
           "ErrorValue", "HiddenRow", "Problems", "Spread", "Uncalculated", "items_from_tables",
           "left_out_note", "read_tables", "tables_from_items"]
