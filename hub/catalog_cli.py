"""``bangban hub catalog import|export``: the 清单 (6.2.4) from and to the files a city's
office keeps it in: a JSON list, an Excel/WPS workbook (``.xlsx``: sheets 事项清单 and
申请材料), or the same two tables as CSV files (:mod:`hub.catalog_files` opens and writes
them, :mod:`hub.catalog_sheet` reads and lays them out).

A workbook is read as Excel shows it: merged cells count in every row they cover; a formula
by its stored result (none stored, or an error such as #N/A: refused by its row and column);
hidden rows are left out, and the import says how many and which, and which of their items
stay published (hiding a row does not withdraw an item; 启用 否 does); rows an applied
AutoFilter hides are refused by name (clear the filter). ``--dry-run`` checks
the whole file and says what an import would write, storing nothing.

Kept out of :mod:`hub.cli` (one command group per module, as :mod:`hub.escrow_cli`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hub.catalog_files import load_catalog, write_catalog
from hub.catalog_sheet import Catalog, left_out_note
from hub.cli import _hub, _run


@_run
def cmd_catalog_import(args: argparse.Namespace) -> int:
    from hub import catalog

    if args.sample:
        from schemas import sample

        read = Catalog(list(sample.catalog()), [], [])
    elif not args.file:
        print("bangban hub catalog import: give FILE (.xlsx, .csv with --materials, or a "
              "JSON list) or --sample", file=sys.stderr)
        return 2
    else:
        read = load_catalog(args.file, args.materials)
    hub = _hub(args)
    try:
        if args.dry_run:
            n, changed = catalog.check_catalog(hub, read.items, read.where)
            print(f"{n} service items checked, {len(changed)} would be written (new or "
                  f"changed{': ' + ', '.join(changed) if changed else ''}); nothing stored "
                  f"(--dry-run) / 已检查 {n} 个事项，{len(changed)} 个将写入；未存储")
        else:
            n = catalog.import_catalog(hub, read.items, read.where)
            print(f"{n} service items imported / 已导入 {n} 个事项")
        if read.left_out:
            print(left_out_note(read.left_out))
            _still_published(hub, read)
    finally:
        hub.close()
    return 0


def _still_published(hub: Any, read: Catalog) -> None:
    """The items of hidden rows the hub publishes: an officer hiding the row of an item no
    longer offered expects it gone, and stations would go on offering it."""
    imported = {str(i.get("code")) for i in read.items}
    stored = hub.stores.service_items(max_age=0)
    # a hidden material row of an item imported names that item: not this warning's
    codes = sorted({code for _sheet, _n, code in read.left_out} - imported)
    kept = [c for c in codes if c in stored and stored[c].get("active", True) is not False]
    if kept:
        print(f"still published, as before: {', '.join(kept)} (a hidden row does not "
              f"withdraw its item: set 启用 to 否 to withdraw it) / 仍在发布：{'、'.join(kept)}"
              f"（隐藏行不会撤销事项，如需撤销请将“启用”填为“否”）")


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
                   "or a JSON list (schemas/reference.py); all are checked before any is "
                   "stored. A workbook is read as Excel shows it: a merged cell's value in "
                   "every row it covers, formulas by their saved results (a workbook a "
                   "program wrote: open and save it in Excel/WPS first); hidden rows (and "
                   "the materials of a hidden item) are not imported and are listed, and a "
                   "hidden row does not withdraw a published item (启用 否 does); rows an "
                   "AutoFilter hides are refused: clear the filter first")
    p.add_argument("--materials", help="with a .csv FILE: the CSV of its materials")
    p.add_argument("--sample", action="store_true", help="import the sample catalog")
    p.add_argument("--dry-run", action="store_true", help="check the whole file and say "
                   "what an import would write and which rows it leaves out; store nothing")
    p.set_defaults(func=cmd_catalog_import)
    p = cat.add_parser("export", help="write the 清单 the hub holds, to edit and import back")
    p.add_argument("--out", required=True, help="FILE.xlsx or FILE.json")
    p.set_defaults(func=cmd_catalog_export)


__all__ = ["register"]
