"""The cells of a 清单 sheet as :mod:`hub.catalog_files` marks them, and where its header is.

The reader marks what is not a plain value (:class:`Spread`, :class:`Uncalculated`,
:class:`ErrorValue`) and the rows the sheet hides (:class:`HiddenRow`); :func:`cell_text`
reads any of them as text. :func:`find_header` finds the header below a title and names the
column of each key: lists are kept as they are printed, with headers of several rows (groups
merged across their columns above the leaves' names, a row of units under them) that an
import read as items, or refused as "column missing" though the officer sees it there.
Kept apart from :mod:`hub.catalog_sheet`, which reads the rows under the header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.catalog_columns import Column
from hub.errors import BadInput

Table = Sequence[Sequence[Any]]


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
    """A row the sheet hides: not imported (:mod:`hub.catalog_sheet`'s docstring)."""


def cell_text(value: Any) -> str:
    """A cell as text: openpyxl gives numbers as int or float, a blank as None; a merged
    range's copy reads as its value; a formula without a result or an error reads blank
    (a data cell with either is refused by :func:`hub.catalog_sheet._checked_cell`)."""
    if isinstance(value, Spread):
        value = value.value
    if value is None or isinstance(value, Uncalculated | ErrorValue):
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


#: rows a sheet may have above its header row (a title, a date or an issuing office)
TITLE_ROWS = 5
#: rows a header may take: groups merged over their columns (办理信息 over 办理方式 over
#: 可帮办 and 可代办), the leaves' names, a row of units (（工作日）) under them; a longer
#: one is refused by its rows (:func:`find_header`)
HEADER_ROWS = 5


def _header(text: str) -> str:
    """A header as compared: NFKC (the half-width parentheses typed on an English keyboard
    read as the full-width ones) and without spaces or line breaks (a header cell wrapped
    with Alt+Enter, 法定时限 over （工作日）)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _stack(table: Table, i: int, rows: range) -> list[str]:
    """The header texts of column ``i`` down ``rows``, each once (a range merged down
    gives its value to every row of it)."""
    texts = [_header(cell_text(table[r][i])) for r in rows if i < len(table[r])]
    return [t for k, t in enumerate(texts) if t and t not in texts[:k]]


def _joined(texts: list[str]) -> set[str]:
    """The names ``texts`` make read downwards from each of them to the last: one name
    typed over cells (法定时限 above （工作日）), under the groups above it."""
    return {"".join(texts[k:]) for k in range(len(texts))}


def _names_a_column(table: Table, top: int, r: int, known: set[str]) -> bool:
    """Whether row ``r`` holds a known header typed (not a merged range's copy), or the
    last part of one typed down its column from row ``top``."""
    return any(not isinstance(v, Spread) and cell_text(v)
               and known & _joined(_stack(table, i, range(top, r + 1)))
               for i, v in enumerate(table[r]))


def letter(i: int) -> str:
    """The spreadsheet's name of column ``i`` (from 0): A, …, Z, AA, …"""
    name, i = "", i + 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(ord("A") + r) + name
    return name


def rows_named(sheet: str, numbers: Sequence[int]) -> str:
    """``"事项清单 第 7、9–12 行"``: row numbers, runs of them as ranges."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    shown = "、".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)
    return f"{sheet} 第 {shown} 行"


def find_header(table: Table, columns: Sequence[Column], sheet: str
                ) -> tuple[int, dict[str, int]]:
    """The index of the first row under the header, and each column's index by key.

    The header's first row holds the first column's name, below up to :data:`TITLE_ROWS`
    title rows. It ends with the last row to name a column (:func:`_names_a_column`) above
    the first item's row (a value typed under the first column's header, its code): rows of
    groups between are the header's too. An item's row never is: a header cell merged down
    over the first item's row by mistake put that row in the header, its item left out
    without a word (its cells are read as data, the copy refused by its column)."""
    first = {_header(columns[0].header), columns[0].key}
    top = next((i for i, row in enumerate(table[:TITLE_ROWS + 1])
                if first & {_header(cell_text(v)) for v in row}), 0)
    known = {_header(c.header) for c in columns} | {c.key for c in columns}
    # the first column's header is merged down the header or has blanks under it: a value
    # typed under it is an item's (its code), and the header ended above
    # (none when the first column's header is missing: :func:`_columns_at` refuses it by
    # name; a bare StopIteration was raised here)
    code = next((i for i, v in enumerate(table[top]) if _header(cell_text(v)) in first), -1)
    last = top
    # bounded: a list whose codes are all missing is not read through once per row here
    for r in range(top + 1, min(len(table), top + 2 * HEADER_ROWS)):
        row = table[r]
        if 0 <= code < len(row) and not isinstance(row[code], Spread) and cell_text(row[code]):
            break
        if _names_a_column(table, top, r, known):
            last = r
    if last >= top + HEADER_ROWS:
        raise BadInput(f"{rows_named(sheet, range(top + 1, last + 2))}: 表头超过 "
                       f"{HEADER_ROWS} 行，请合并或删去多余的表头行 / the header takes more "
                       f"than {HEADER_ROWS} rows: merge or delete header rows to keep at "
                       f"most {HEADER_ROWS}")
    end = last + 1
    width = max(len(row) for row in table[top:end])
    names = [{*_stack(table, i, range(top, end)), *_joined(_stack(table, i, range(top, end)))}
             for i in range(width)]
    own = [{_header(cell_text(row[i])) for row in table[top:end]
            if i < len(row) and not isinstance(row[i], Spread)} for i in range(width)]
    return end, _columns_at(columns, names, own, rows_named(sheet, range(top + 1, end + 1)))


def _columns_at(columns: Sequence[Column], names: Sequence[set[str]],
                own: Sequence[set[str]], rows: str) -> dict[str, int]:
    """Each column's index under the header (``names``, ``own``: :func:`find_header`);
    :class:`BadInput` for a required one missing or one headed twice (``rows``: where the
    header is, as the refusal says it)."""
    where: dict[str, int] = {}
    for col in columns:
        at = next((i for h in (_header(col.header), col.key)
                   for i, named in enumerate(names) if h in named), None)
        # two columns of one header: an old one kept hidden beside its copy, one read
        # and the other not, which is which unseen
        twice = [letter(i) for i, typed in enumerate(own)
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


__all__ = ["HEADER_ROWS", "TITLE_ROWS", "ErrorValue", "HiddenRow", "Spread", "Table",
           "Uncalculated", "cell_text", "find_header", "letter", "rows_named"]
