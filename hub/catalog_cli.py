"""``bangban hub catalog import|export``: the 清单 (6.2.4) from and to the files a city's
office keeps it in: a JSON list, an Excel/WPS workbook (``.xlsx``: sheets 事项清单 and
申请材料), or the same two tables as CSV files (:mod:`hub.catalog_sheet` reads and lays
them out; this module only opens and writes the files, and translates openpyxl's, csv's and
the file system's errors into :class:`hub.errors.BadInput` naming the file).

Kept out of :mod:`hub.cli` (one command group per module, as :mod:`hub.escrow_cli`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from hub.catalog_sheet import (
    ITEMS_SHEET,
    MATERIALS_SHEET,
    Table,
    items_from_tables,
    tables_from_items,
)
from hub.cli import _hub, _run
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


def _workbook_tables(path: Path) -> tuple[Table, Table]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise BadInput(f"FILE: {path} is not an Excel workbook (.xlsx) that opens ({exc}); "
                       "an old .xls must be saved as .xlsx first / 请另存为 .xlsx 格式") from exc
    try:
        missing = [s for s in (ITEMS_SHEET, MATERIALS_SHEET) if s not in book.sheetnames]
        if missing:
            raise BadInput(f"FILE: {path} has no sheet {'、'.join(missing)} (it has "
                           f"{'、'.join(book.sheetnames)}); `bangban hub catalog export --out "
                           "F.xlsx` writes the layout / 工作簿须含“事项清单”“申请材料”两张表")
        return tuple(  # type: ignore[return-value]
            [list(row) for row in book[name].iter_rows(values_only=True)]
            for name in (ITEMS_SHEET, MATERIALS_SHEET))
    finally:
        book.close()


def read_catalog(path: str | Path, materials: str | Path | None = None
                 ) -> tuple[list[Any], list[str]]:
    """The items in ``path`` (``.json``, ``.xlsx``, or ``.csv`` with ``materials``) and where
    each one is in the file, for the refusals of :func:`hub.admin.import_catalog`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return items_from_tables(*_workbook_tables(path))
    if suffix == ".csv":
        if materials is None:
            raise BadInput("--materials: a CSV list needs its materials too (a second CSV "
                           "file: 事项编码, 材料编码, 材料名称, 获取方式, 需原件, 份数) / "
                           "请用 --materials 给出申请材料表")
        return items_from_tables(_csv_table(path, "FILE"),
                                 _csv_table(Path(materials), "--materials"),
                                 (f"{path.name}", f"{Path(materials).name}"))
    if suffix in (".xls", ".et", ".wps"):
        raise BadInput(f"FILE: {path.name} is an old Excel/WPS file; save it as .xlsx "
                       "(or CSV) first / 请另存为 .xlsx 格式")
    from sync.settings import read_json_file

    items = read_json_file(str(path), "FILE (a JSON list of service items)", list)
    return items, []


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


@_run
def cmd_catalog_import(args: argparse.Namespace) -> int:
    from hub import admin

    if args.sample:
        from schemas import sample

        items: list[Any] = sample.catalog()
        where: list[str] = []
    elif not args.file:
        print("bangban hub catalog import: give FILE (.xlsx, .csv with --materials, or a "
              "JSON list) or --sample", file=sys.stderr)
        return 2
    else:
        items, where = read_catalog(args.file, args.materials)
    n = admin.import_catalog(_hub(args), items, where)
    print(f"{n} service items imported / 已导入 {n} 个事项")
    return 0


@_run
def cmd_catalog_export(args: argparse.Namespace) -> int:
    from schemas.written import WRITTEN

    hub = _hub(args)
    try:
        items = sorted(hub.stores.service_items(max_age=0).values(),
                       key=lambda i: str(i.get("code")))
    finally:
        hub.close()
    kept = [{k: v for k, v in i.items() if not k.startswith("_") and k not in (
        "type", "schema_version", "sig", WRITTEN)} for i in items]
    out = write_catalog(kept, args.out)
    print(f"{len(kept)} service items written to {out} / 已导出 {len(kept)} 个事项")
    return 0


def register(sub: Any) -> None:
    cat = sub.add_parser("catalog", help="the catalog of service items (清单)").add_subparsers(
        dest="cat_command", metavar="COMMAND", required=True)
    p = cat.add_parser("import", help="import the service items of a workbook, CSV or JSON")
    p.add_argument("file", nargs="?", help="an .xlsx workbook (sheets 事项清单 and 申请材料: "
                   "`catalog export` writes the layout), a .csv of items with --materials, "
                   "or a JSON list (schemas/reference.py); all are checked before any is stored")
    p.add_argument("--materials", help="with a .csv FILE: the CSV of its materials")
    p.add_argument("--sample", action="store_true", help="import the sample catalog")
    p.set_defaults(func=cmd_catalog_import)
    p = cat.add_parser("export", help="write the 清单 the hub holds, to edit and import back")
    p.add_argument("--out", required=True, help="FILE.xlsx or FILE.json")
    p.set_defaults(func=cmd_catalog_export)


__all__ = ["read_catalog", "register", "write_catalog"]
