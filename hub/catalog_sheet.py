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
  merged over the rows of its items, an item's code over its materials, a header of up to
  five rows (groups merged across their columns above the leaves' names, a row of units
  under them: :mod:`hub.catalog_header`; a longer one is refused by its rows);
- a formula counts by the result Excel or WPS stored with it; a formula with no result (a
  workbook written by a program and never saved by Excel/WPS: none stored, or XlsxWriter's
  placeholder 0 in a workbook flagged to be calculated on opening) or an error (#N/A) in a
  column read is refused by its row and column, never read as blank, 0 or "#N/A";
- hidden rows are not imported (an item no longer offered, a row being drafted), nor the
  materials of an item whose row is hidden; the import names how many and which rows were
  left out. Hiding a row does not withdraw a published item: 启用 否 does. Rows an
  applied AutoFilter hides are refused by name (clear the filter): a filter is a view, and
  its hidden rows went out of the import with their changes and materials;
- hidden columns are read (hiding a column is a view, a narrow screen), and a header over
  two columns is refused (an old column kept hidden beside its copy was read unseen);
- a hidden 事项清单 or 申请材料 sheet is refused (:mod:`hub.catalog_files`): left out, all
  the items, or every item's materials, would have gone without a trace.

The parsing and the table layout are pure (:func:`read_tables`, :func:`tables_from_items`);
openpyxl and csv are used only in :mod:`hub.catalog_files`, which marks the cells
(:class:`Spread`, :class:`Uncalculated`, :class:`ErrorValue`) and rows (:class:`HiddenRow`).
"""

from __future__ import annotations

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
from hub.catalog_header import (
    ErrorValue,
    HiddenRow,
    Spread,
    Table,
    Uncalculated,
    cell_text,
    find_header,
    letter,
    rows_named,
)
from hub.errors import BadInput

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


@dataclass
class Catalog:
    """What a list's tables hold: the items, where each is (``"事项清单 第 3 行"``), and the
    filled rows left out as ``(sheet, row, item code)``: hidden rows, and the materials of
    an item whose row is hidden."""
    items: list[dict[str, Any]]
    where: list[str]
    left_out: list[tuple[str, int, str]]


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
    return cell_text(base)


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
    end, where = find_header(table, columns, sheet)
    out, hidden = [], []
    for n, row in enumerate(table[end:], start=end + 1):
        # a blank line between groups of items; a merged range's value alone (a 所属部门
        # merged down over a spare row) does not fill a row the officer sees empty
        if not any(cell_text(v) or isinstance(v, Uncalculated | ErrorValue)
                   for v in row if not isinstance(v, Spread)):
            continue
        if isinstance(row, HiddenRow):
            i = where.get(columns[0].key)
            hidden.append((n, cell_text(row[i]) if i is not None and i < len(row) else ""))
            continue
        out.append((n, _values(row, n, columns, where, sheet, problems)))
    return out, hidden


def _values(row: Sequence[Any], n: int, columns: Sequence[Column], where: Mapping[str, int],
            sheet: str, problems: Problems) -> dict[str, Any]:
    """Row ``n``'s values by column key, each parsed; each bad cell, named, to
    ``problems``."""
    values: dict[str, Any] = {}
    for col in columns:
        i = where.get(col.key)
        named = f"{sheet} 第 {n} 行“{col.header}”" + (f"（{letter(i)} 列）" if i is not None
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
                problems.bad_codes.add(cell_text(row[i]) if i is not None and i < len(row) else "")
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
    rows = "; ".join(rows_named(s, [n for t, n, _c in left_out if t == s]) for s in sheets)
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
