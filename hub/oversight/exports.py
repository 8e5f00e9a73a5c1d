"""Exports of the indicator table: CSV (UTF-8 with BOM, so spreadsheet programs in zh-CN
locales read it) and XLSX (openpyxl: the format supervisors' offices file reports in;
writing OOXML by hand would be a second, untested spreadsheet writer)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hub.oversight.facts import RATING_LEVELS
from hub.oversight.indicators import CLAUSE9_COLUMNS, Row
from schemas.state import LOCAL_TZ

if TYPE_CHECKING:
    from flask import Response

RATING_ZH = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
COLUMNS: tuple[tuple[str, str], ...] = (
    ("opened", "新登记办件"), ("completed", "办结"), ("on_time", "按时办结"),
    ("on_time_rate", "按时办结率"), ("terminated", "终止"), ("refused", "不予受理"),
    # each rate's numerator and denominator are columns too (indicators.Row): the late
    # replies and complaints still open past their deadline count against the rate
    ("consultations", "咨询"), ("consult_in_time", "咨询及时答复"),
    ("consult_late", "咨询答复超时"), ("consult_overdue", "咨询超时未答复"),
    ("consult_rate", "咨询及时答复率"),
    ("complaints", "投诉"), ("complaints_in_time", "投诉及时处理"),
    ("complaints_late", "投诉处理超时"), ("complaints_open", "投诉未处理"),
    ("complaints_overdue", "投诉超期未处理"), ("complaint_rate", "投诉及时处理率"),
    *((f"rating_{lv}", zh) for lv, zh in zip(RATING_LEVELS, RATING_ZH, strict=True)),
    ("satisfaction", "满意率"),
    ("bad_ratings", "差评"), ("bad_followed", "差评已回访整改"),
    ("finished", "已结办件"), ("records_complete", "档案完整"), ("records_rate", "档案完整率"),
    ("overdue", "当前超期"), ("review", "需复核"), ("suspended_near", "中止临近续办期限"),
    # clause 9: the dashboard's columns (indicators.CLAUSE9_COLUMNS), each of cases opened
    *((k, f"新登记·{zh}") for _head, group in CLAUSE9_COLUMNS for k, zh in group))
RATES = frozenset({"on_time_rate", "consult_rate", "complaint_rate", "satisfaction",
                   "records_rate"})
#: A text cell starting with one of these is a formula to a spreadsheet program (OWASP
#: "CSV Injection"). The staff id is free text a station's device writes (schemas.case,
#: up to 64 characters): "=HYPERLINK(…)" in it ran in the supervisor's spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_formula_text(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def table(rows: Sequence[Row], total: Row, name: Callable[[str], str], *,
          by_staff: bool = False,
          staff_name: Callable[[str, str], str] | None = None) -> list[list[Any]]:
    """Header row plus one row per unit (or staff member) plus the total; by staff, the
    staff id and, with ``staff_name`` (the roster, hub.staff), the name beside it."""
    head = ["机构代码", "机构", *(["工作人员"] if by_staff else []),
            *(["姓名"] if by_staff and staff_name else []), *(zh for _k, zh in COLUMNS)]
    out: list[list[Any]] = [head]
    for r in [*rows, total]:
        d = r.as_dict()
        label = [r.key or "合计", name(r.key) if r.key else "合计"]
        if by_staff:
            label.append(r.staff)
        if by_staff and staff_name:
            label.append(_name_only(staff_name(r.key, r.staff)) if r.key and r.staff else "")
        vals = [(round(d[k], 4) if d.get(k) is not None else None) if k in RATES
                else d.get(k, 0) for k, _zh in COLUMNS]
        out.append([*label, *vals])
    return out


def _name_only(label: str) -> str:
    """The name of a ``name（id）`` label; "" for a bare id (no roster entry)."""
    return label.partition("（")[0] if label.endswith("）") else ""


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(rows: list[list[Any]], fmt: str, stem: str, title: str) -> Response | None:
    """``rows`` as the attachment ``stem.csv`` or ``stem.xlsx`` (its sheet named ``title``),
    or ``None`` for another format (the caller's 404 names the formats)."""
    from flask import Response

    if fmt == "csv":
        return Response(to_csv(rows), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={stem}.csv"})
    if fmt == "xlsx":
        return Response(to_xlsx(rows, title=title), content_type=XLSX_TYPE,
                        headers={"Content-Disposition": f"attachment; filename={stem}.xlsx"})
    return None


def local_datetime(ms: int | None) -> dt.datetime | None:
    """A time in ms as Beijing's wall clock, the zone left off (XLSX has no zones; the
    page shows Beijing time too: clocks.local_time), or None."""
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms // 1000, LOCAL_TZ).replace(tzinfo=None)


#: How dates and times read, in CSV text and as XLSX number formats (the page's own).
DATE_TEXT, TIME_TEXT = "%Y-%m-%d", "%Y-%m-%d %H:%M"
DATE_FORMAT, TIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"


def _csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet program reads as the type the XLSX stores."""
    kind = type(value)
    if kind is int or kind is float:  # most cells: first, a whole city per staff is 140k
        return value
    if value is None:
        return ""
    # isinstance, not only ``kind is str``: text of a str subclass (a label made Markup, an
    # enum's value) skipped the check below and went out as a formula; made plain text
    # first, as Markup would escape the apostrophe put before it
    if kind is not str and isinstance(value, str):
        value, kind = str.__str__(value), str
    if kind is str:
        if value.startswith(FORMULA_START):
            # CSV has no cell types: a leading apostrophe makes such text read as text (the
            # spreadsheet shows the rest unchanged)
            return "'" + value
        if value.isascii() and value.isdigit():
            # Text of digits (institution codes, GB/T 2260 plus town and village digits) is
            # a number to Excel and WPS: a village's 12-digit code showed as 4.10602E+11,
            # was saved back so, and matched no code of another list. ="…" is text to both.
            return f'="{value}"'
        return value
    if isinstance(value, dt.date):
        return value.strftime(TIME_TEXT if isinstance(value, dt.datetime) else DATE_TEXT)
    return value


def to_csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _date_widths(rows: list[list[Any]]) -> dict[int, float]:
    """The columns holding dates or times, each with a width that shows them: Excel and WPS
    show "########" for a date cell wider than its column (8.43 characters by default)."""
    widths: dict[int, float] = {}
    for row in rows[1:]:
        for j, value in enumerate(row):
            if isinstance(value, dt.date):
                wide = 17.0 if isinstance(value, dt.datetime) else 11.0
                widths[j] = max(widths.get(j, 0.0), wide)
    return widths


def to_xlsx(rows: list[list[Any]], *, title: str = "oversight") -> bytes:
    """A write-only (streaming) workbook: rates as percentages, bold header, frozen panes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "C2"
    head = rows[0]
    for j, width in _date_widths(rows).items():
        ws.column_dimensions[get_column_letter(j + 1)].width = width
    bold = Font(bold=True)
    cells = []
    for label in head:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    rate_cols = {j for j, label in enumerate(head) if str(label).endswith("率")}
    for row in rows[1:]:
        out: list[Any] = []
        for j, value in enumerate(row):
            if isinstance(value, dt.date):
                # a date cell, not text: sorted, filtered by month and subtracted as dates
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = (TIME_FORMAT if isinstance(value, dt.datetime)
                                      else DATE_FORMAT)
                out.append(cell)
            elif j in rate_cols and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "0.0%"
                out.append(cell)
            elif _is_formula_text(value):
                # openpyxl stores a str starting with "=" as a formula; a string cell keeps
                # the text as it is and never evaluates it
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(value)
        ws.append(out)
    return _saved(wb)


#: The zip entries' time: the earliest a zip can say (its DOS date starts in 1980), as
#: reproducible builds write it (reproducible-builds.org, "Timestamps"; SOURCE_DATE_EPOCH).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: docProps/core.xml's times of making, as openpyxl writes them.
UNDATED = re.compile(r"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")


def _saved(wb: Any) -> bytes:
    """``wb``'s bytes, equal for equal content: openpyxl's ``save`` stamps docProps'
    ``created`` and ``modified`` with now and each zip entry with its time of writing, so
    two downloads of one query differed (a supervisor comparing files, an archive's
    checksum). They are left out, not set to another time (none would be true of every
    download): both are optional (ECMA-376 Part 2, Core Properties: every one is); the figures'
    own date is the query's (``as_of``, the report's 统计截至), and a browser dates the file
    it saves."""
    import os
    import shutil
    import zipfile

    from openpyxl.writer.excel import ARC_CORE, ExcelWriter

    class SteadyZip(zipfile.ZipFile):
        def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kw: Any) -> None:
            if zinfo_or_arcname == ARC_CORE:  # openpyxl writes no core.xml without times
                data = UNDATED.sub("", data if isinstance(data, str) else data.decode())
            if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
                zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, ZIP_TIME)
                zinfo_or_arcname.compress_type = self.compression
                zinfo_or_arcname.external_attr = 0o600 << 16
            super().writestr(zinfo_or_arcname, data, *args, **kw)

        def write(self, filename: Any, arcname: Any = None, *args: Any, **kw: Any) -> None:
            # a write-only sheet is streamed from its temporary file (its own mtime)
            zinfo = zipfile.ZipInfo(arcname or str(filename), ZIP_TIME)
            zinfo.compress_type, zinfo.external_attr = self.compression, 0o600 << 16
            zinfo.file_size = os.path.getsize(filename)  # zip64 only when it needs it
            with open(filename, "rb") as src, self.open(zinfo, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 16)

    if not wb.worksheets:
        wb.create_sheet()
    buf = io.BytesIO()
    ExcelWriter(wb, SteadyZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return buf.getvalue()
