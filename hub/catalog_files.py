"""The files a city's office keeps its 清单 (6.2.4) in: an Excel/WPS workbook (``.xlsx``,
sheets 事项清单 and 申请材料), the same two tables as CSV files, or a JSON list; read into
a :class:`hub.catalog_sheet.Catalog` and written back out by ``catalog export``.

Only this module opens files: openpyxl's, csv's and the file system's errors are
translated here into :class:`hub.errors.BadInput` naming the file. A workbook is read as
Excel or WPS shows it (:mod:`hub.catalog_sheet`'s docstring): a merged range's value in
each of its cells, formulas by their stored results, hidden rows marked to be left out.
openpyxl's read-only mode keeps no merged ranges and no hidden rows, so the workbook is
read whole: 3,000 items with 8,800 materials in about 5 s on the 2-core test machine (2.8 s
read-only), and 2.5 s more when a sheet has formulas (their text is read apart).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from hub.catalog_header import rows_named
from hub.catalog_sheet import (
    ITEMS_SHEET,
    MATERIALS_SHEET,
    Catalog,
    ErrorValue,
    HiddenRow,
    Spread,
    Table,
    Uncalculated,
    read_tables,
    tables_from_items,
)
from hub.errors import BadInput


def _csv_table(path: Path, what: str) -> Table:
    """A CSV file's rows. Excel and WPS on a Chinese Windows save CSV as GBK (GB18030 is
    its superset), elsewhere as UTF-8, with or without a BOM: both are read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{what}: cannot read {path}: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise BadInput(f"{what}: {path} is not a CSV file ({exc})") from exc
    raise BadInput(f"{what}: {path} is neither UTF-8 nor GBK text; save it from Excel or "
                   "WPS as CSV (UTF-8) / 请另存为 CSV UTF-8 格式")


def _open(path: Path, *, formulas: bool) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # the formulas' text is all that is wanted of the second reading: read-only,
        # which keeps neither merged ranges nor hidden rows, does for it
        return load_workbook(path, read_only=formulas, data_only=not formulas)
    except OSError as exc:  # no such file, no permission: not "save it as .xlsx"
        raise BadInput(f"FILE: cannot read {path}: {exc.strerror or exc}") from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise BadInput(f"FILE: {path} is not an Excel workbook (.xlsx) that opens ({exc}); "
                       "an old .xls must be saved as .xlsx first / 请另存为 .xlsx 格式") from exc


def _formulas(sheet: Any) -> dict[tuple[int, int], str]:
    """``(row, column)`` (from 1) of each formula cell, and its text."""
    # Read-only mode believes the used range the file states; some programs state
    # A1 or less than the data: rows past it were dropped, a partial list imported.
    sheet.reset_dimensions()
    return {(cell.row, cell.column): str(getattr(cell.value, "text", cell.value))
            for row in sheet.iter_rows() for cell in row
            if getattr(cell, "data_type", "") == "f"}


#: a formula element of a worksheet part (``<f>``, ``<f t="shared" …>``, ``<x:f …/>``),
#: not ``<filters>`` or ``<firstHeader>``
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _any_formula(path: Path) -> bool:
    """Whether a worksheet of the workbook has a formula: the formulas' own reading takes
    as long as the values' (half the import of a list of thousands), for lists that have
    none as most have."""
    try:
        with zipfile.ZipFile(path) as book:
            return any(_FORMULA.search(book.read(name)) for name in book.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except (OSError, zipfile.BadZipFile, KeyError) as exc:  # opened once already
        raise BadInput(f"FILE: cannot read {path}: {exc}") from exc


def _extent(sheet: Any, formulas: dict[tuple[int, int], str]) -> tuple[int, int]:
    """The last row and column holding a value or a formula. Not openpyxl's ``max_row`` and
    ``max_column``: they count every cell of a merged range and every cell merely
    formatted, so a title merged across the whole row (A1:XFD1, 合并居中 of row 1) made
    each row 16,384 cells (200 items read in 84 s and 2.6 GB), and a column merged to the
    sheet's end a million rows."""
    rows = cols = 0
    # openpyxl's own cells: its public readers make a cell at every place they pass
    for (r, c), cell in sheet._cells.items():
        if cell.value is not None and (r > rows or c > cols):
            rows, cols = max(rows, r), max(cols, c)
    for r, c in formulas:  # a formula without a stored result reads None
        rows, cols = max(rows, r), max(cols, c)
    return rows, cols


def _sheet_table(sheet: Any, formulas: dict[tuple[int, int], str], *,
                 placeholders: bool = False) -> Table:
    """A sheet's rows as Excel shows them, its cells and rows marked for
    :func:`hub.catalog_sheet.read_tables`. Made from the cells the file holds, each row as
    long as its last value: openpyxl's row reader makes a cell at every place up to the
    sheet's last column, so one stray value far to the right (a key pressed after Ctrl+→)
    made every row of the list that wide. ``placeholders``: the stored results of formulas
    are not results (:func:`_uncalculated_book`), every formula is read as uncalculated."""
    rows, cols = _extent(sheet, formulas)
    table: list[list[Any]] = [[] for _ in range(rows)]

    def put(r: int, c: int, value: Any) -> None:
        row = table[r - 1]
        if len(row) < c:
            row.extend([None] * (c - len(row)))
        row[c - 1] = value

    for (r, c), cell in sheet._cells.items():
        value = cell.value
        # Excel stores a result with every formula; a formula whose result is the
        # empty text (=IF(A2="","",…)) is stored as t="str" with an empty value
        if (r, c) in formulas and (placeholders or value is None
                                   and cell.data_type != "str"):
            value = Uncalculated(f"={formulas[r, c].lstrip('=')}")
        elif cell.data_type == "e":
            value = ErrorValue(str(value))
        if value is not None and r <= rows:
            put(r, c, value)
    # a merged range's part past the last value is left out: rows and columns there are
    # blank but for the range's copies, which fill no row (hub.catalog_sheet._records)
    for merged in sheet.merged_cells.ranges:
        if merged.min_row > rows or merged.min_col > cols:
            continue
        first = table[merged.min_row - 1]
        top = first[merged.min_col - 1] if merged.min_col <= len(first) else None
        for r in range(merged.min_row, min(merged.max_row, rows) + 1):
            for c in range(merged.min_col, min(merged.max_col, cols) + 1):
                if (r, c) != (merged.min_row, merged.min_col):
                    put(r, c, Spread(top))
    for r, dimension in sheet.row_dimensions.items():
        if dimension.hidden and r <= len(table):
            table[r - 1] = HiddenRow(table[r - 1])
    _refuse_filtered(sheet, table)
    return table


def _refuse_filtered(sheet: Any, table: Table) -> None:
    """Refuse rows an AutoFilter hides (Excel stores them as hidden rows, ECMA-376
    §18.3.1.2 autoFilter): a filter is a view (the items of one department looked at),
    not rows taken out of the list, and the rows it hid were left out of the import, their
    changes and their materials with them. A row hidden by hand inside the filter's range
    cannot be told from them: the filter is cleared first."""
    ref, criteria = sheet.auto_filter.ref, sheet.auto_filter.filterColumn
    if not ref or not criteria:  # the filter's buttons alone hide nothing
        return
    first, last = _filter_rows(ref)
    hidden = [r for r in range(first + 1, min(last, len(table)) + 1)
              if isinstance(table[r - 1], HiddenRow)]
    if hidden:
        raise BadInput(f"{rows_named(sheet.title, hidden)}被筛选隐藏：请清除筛选（数据 → 清除）"
                       f"后再导入 / an AutoFilter hides {len(hidden)} row(s) of {sheet.title}: "
                       "clear the filter (Data, Clear; WPS: 全部显示) and import again")


def _filter_rows(ref: str) -> tuple[int, int]:
    """The first and last row numbers of a range such as ``A1:J200`` (or ``A1``)."""
    from openpyxl.utils.cell import range_boundaries

    _c1, first, _c2, last = range_boundaries(ref)
    return int(first or 1), int(last or first or 1)


#: the workbook's calcPr asking for a full calculation on load (true or 1, any prefix)
_CALC_ON_LOAD = re.compile(rb"<(?:\w+:)?calcPr\b[^>]*\bfullCalcOnLoad=[\"'](?:1|true)[\"']")


def _uncalculated_book(path: Path) -> bool:
    """Whether the workbook asks to be calculated when opened (``fullCalcOnLoad``,
    ECMA-376 §18.2.2 calcPr): what a program that calculates nothing writes (XlsxWriter
    stores 0 as every formula's result, openpyxl none), and Excel clears once it has
    calculated and saved. Those 0s were imported: a 法定时限 of 0 days (即办) from a
    formula the officer saw give 20. Read from the file: openpyxl reads a calcPr without
    the attribute as asking it (its default)."""
    try:
        with zipfile.ZipFile(path) as book:
            return bool(_CALC_ON_LOAD.search(book.read("xl/workbook.xml")))
    except (OSError, zipfile.BadZipFile, KeyError) as exc:  # opened once already
        raise BadInput(f"FILE: cannot read {path}: {exc}") from exc


def _workbook_tables(path: Path) -> tuple[Table, Table]:
    book = _open(path, formulas=False)
    missing = [s for s in (ITEMS_SHEET, MATERIALS_SHEET) if s not in book.sheetnames]
    if missing:
        raise BadInput(f"FILE: {path} has no sheet {'、'.join(missing)} (it has "
                       f"{'、'.join(book.sheetnames)}); `bangban hub catalog export --out "
                       "F.xlsx` writes the layout / 工作簿须含“事项清单”“申请材料”两张表")
    for name in (ITEMS_SHEET, MATERIALS_SHEET):
        # Hidden, the whole list or every item's materials would go without a trace;
        # which the officer meant (an old sheet, the layout) only they can say.
        if book[name].sheet_state != "visible":
            raise BadInput(f"FILE: 工作表“{name}”被隐藏：请取消隐藏后再导入 / the sheet "
                           f"{name} is hidden in {path.name}: unhide it (right-click a "
                           "sheet tab, Unhide) and import again")
    if not _any_formula(path):
        return tuple(  # type: ignore[return-value]
            _sheet_table(book[name], {}) for name in (ITEMS_SHEET, MATERIALS_SHEET))
    texts, placeholders = _open(path, formulas=True), _uncalculated_book(path)
    try:
        return tuple(  # type: ignore[return-value]
            _sheet_table(book[name], _formulas(texts[name]), placeholders=placeholders)
            for name in (ITEMS_SHEET, MATERIALS_SHEET))
    finally:
        texts.close()


def load_catalog(path: str | Path, materials: str | Path | None = None) -> Catalog:
    """The items in ``path`` (``.json``, ``.xlsx``, or ``.csv`` with ``materials``), where
    each one is in the file, and the rows left out."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_tables(*_workbook_tables(path))
    if suffix == ".csv":
        if materials is None:
            raise BadInput("--materials: a CSV list needs its materials too, a second CSV "
                           "file (columns 事项编码、材料编码、材料名称、获取方式、需原件、份数) / "
                           "请用 --materials 给出申请材料表")
        return read_tables(_csv_table(path, "FILE"),
                           _csv_table(Path(materials), "--materials"),
                           (f"{path.name}", f"{Path(materials).name}"))
    if suffix in (".xls", ".et", ".wps"):
        raise BadInput(f"FILE: {path.name} is an old Excel/WPS file; save it as .xlsx "
                       "(or CSV) first / 请另存为 .xlsx 格式")
    from sync.settings import read_json_file

    items = read_json_file(str(path), "FILE (a JSON list of service items)", list)
    return Catalog(items, [], [])


def read_catalog(path: str | Path, materials: str | Path | None = None
                 ) -> tuple[list[Any], list[str]]:
    """The items of :func:`load_catalog` and where each one is, for the refusals of
    :func:`hub.admin.import_catalog`."""
    catalog = load_catalog(path, materials)
    return catalog.items, catalog.where


def write_catalog(items: list[dict[str, Any]], out: str | Path) -> Path:
    """The list as ``out`` (``.xlsx`` or ``.json``), in the layout :func:`read_catalog`
    reads back."""
    out = Path(out)
    if out.suffix.lower() == ".json":
        text = json.dumps(items, ensure_ascii=False, indent=1)
        out.write_text(text + "\n", encoding="utf-8")
        return out
    if out.suffix.lower() != ".xlsx":
        raise BadInput(f"--out: {out.name} must end in .xlsx or .json")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in zip((ITEMS_SHEET, MATERIALS_SHEET), tables_from_items(items),
                          strict=True):
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # openpyxl takes text starting with = for a
                    cell.data_type = "s"  # formula: Excel ran it, the import read it blank
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"  # the header stays in view while scrolling
        for i in range(len(rows[0])):  # CJK is about two columns wide a character
            width = max(len(str(r[i])) for r in rows)
            sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width = \
                min(60, 2 * width + 2)
    try:
        book.save(out)
    except OSError as exc:
        raise BadInput(f"--out: cannot write {out}: {exc.strerror or exc}") from exc
    return out


__all__ = ["load_catalog", "read_catalog", "write_catalog"]
