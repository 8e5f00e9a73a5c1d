"""Printable forms (Appendices A–E of DB4106/T 101—2023, the one-time notification, the notice of refusal).

A form is rendered from *form content*: a title, a serial number (编号), rows of
``(label, value)`` and signature lines — the renderer knows nothing of case rules
(schemas' ``form_a`` … give the content). Laid out like a Chinese government form:
centred title, 编号 at the top right, a bordered two-column table, signature and
date lines at the foot. A Chinese TTF is embedded so the print looks the same on any
machine (node.pdffonts: the other installed fonts for what it lacks); reportlab's CID
font STSong-Light is the fallback when no TTF exists (not embedded, the viewer must have
a CJK font).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.errors import PrintError
from node.pdffonts import coverage, markup, missing_note, register_font
from schemas.state import zh_date

#: the least height (pt) of a table row's part split onto a page: three lines of text.
#: reportlab reads splitInRow as that height; at 1 a row of one line was split into an
#: empty sliver at a page's foot (under a repeated head) and the row on the next page
SPLIT_MIN = 48
#: the lines a titled list that is empty leaves for the hand
BLANK_ITEMS = 6


@dataclass
class FormContent:
    """What one printed form shows."""

    title: str
    number: str = ""
    subtitle: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)
    #: A free block under the table (e.g. the checklist of the one-time notification).
    items: list[tuple[str, str]] = field(default_factory=list)
    items_title: str = ""
    #: the heads of the block's two columns after 序号
    items_head: tuple[str, str] = ("材料", "获取方式")
    note: str = ""
    signatures: list[str] = field(default_factory=lambda: ["服务对象（签字）", "经办人（签字）"])
    #: PNG bytes of the applicant's drawn signature, printed on the first signature line.
    signature_png: bytes | None = None
    #: the Beijing date (YYYY-MM-DD) the drawn signature was given, printed beside it
    signed_on: str = ""
    footer: str = ""


def _fitted(text: Any, style: Any, *, covered: frozenset[int] | None, missing: list[str],
            font_path: str) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(markup(str(text or ""), covered, missing, font_path), style)


def _paragraph(text: str, style: Any) -> Any:
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def render(forms: FormContent | Sequence[FormContent], *, font_path: str = "") -> bytes:
    """One PDF (A4) holding the given forms, one per page."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    pages = [forms] if isinstance(forms, FormContent) else list(forms)
    try:
        font = register_font(font_path)
    except Exception as exc:
        raise PrintError("本机没有可用的中文字体，表单无法打印：请管理员安装 fonts-wqy-microhei / no "
                         f"usable Chinese font to print with: install fonts-wqy-microhei ({exc})"
                         ) from exc
    covered = coverage(font)
    base = ParagraphStyle("base", fontName=font, fontSize=11, leading=16)
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER)
    sub = ParagraphStyle("sub", parent=base, fontSize=10, alignment=TA_CENTER)
    right = ParagraphStyle("right", parent=base, fontSize=10, alignment=TA_RIGHT)
    label = ParagraphStyle("label", parent=base, alignment=TA_CENTER)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm,
                            title=pages[0].title if pages else "", author="Bangban 帮办")
    width = A4[0] - 40 * mm
    story: list[Any] = []
    for n, form in enumerate(pages):
        if n:
            story.append(PageBreak())
        missing: list[str] = []  # this form's characters the font lacks
        _para = functools.partial(_fitted, covered=covered, missing=missing,
                                  font_path=font_path)
        story.append(_para(form.title, title))
        if form.subtitle:
            story.append(_para(form.subtitle, sub))
        story.append(Spacer(1, 4 * mm))
        story.append(_para(f"编号：{form.number}" if form.number else "编号：", right))
        story.append(Spacer(1, 2 * mm))
        data = [[_para(k, label), _para(v, base)] for k, v in form.rows] or [["", ""]]
        # splitInRow: a long free text (a scope, a reason) runs on to the next page; a row
        # taller than a page made reportlab refuse the whole form (500, its own words)
        table = Table(data, colWidths=[38 * mm, width - 38 * mm], splitInRow=SPLIT_MIN)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
            ("BOX", (0, 0), (-1, -1), 1.4, colors.black),
            # TOP: reportlab pads a MIDDLE cell of a row split over pages to keep it
            # centred, the padding grows with each page, and a scope over three pages
            # no longer fitted one (LayoutError) once a split part had a least height
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.94, 0.94, 0.94)),
            # 4 pt, a signature row of 15 mm and 6 mm above them: form A of an item with
            # four materials ran to a second sheet holding only the note and the two
            # signature lines, a quarter of the first left empty
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]))
        story.append(table)
        # a list with a title and nothing in it (the notification of a case whose item is
        # not chosen yet) is written by hand: it printed no table at all, nowhere to write
        listed = form.items or ([("\u3000", "")] * BLANK_ITEMS if form.items_title else [])
        if listed:
            story.append(Spacer(1, 4 * mm))
            if form.items_title:
                story.append(_para(form.items_title, base))
            rows = [[_para("序号", label), *(_para(h, label) for h in form.items_head)]]
            rows += [[_para(str(i), label), _para(a, base), _para(b, base)]
                     for i, (a, b) in enumerate(listed, 1)]
            items = Table(rows, colWidths=[14 * mm, 62 * mm, width - 76 * mm], repeatRows=1,
                          splitInRow=SPLIT_MIN)
            items.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.94, 0.94, 0.94)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]))
            story.append(items)
        closing: list[Any] = []
        if form.note:
            closing += [Spacer(1, 3 * mm), _para(form.note, base)]
        if missing:
            closing += [Spacer(1, 2 * mm), _paragraph(missing_note(missing), base)]
        # the signatures stay on one page with the words they confirm: a long checklist
        # pushed form A's staff line alone onto a second sheet, the applicant's line left
        # at the foot of the first (a sheet with a signature and nothing it signs)
        story.append(KeepTogether([*closing, Spacer(1, 6 * mm),
                                   _signature_block(form, base, width, Image, Table,
                                                    TableStyle, mm)]))
        if form.footer:
            story.append(Spacer(1, 6 * mm))
            story.append(_para(form.footer, sub))
    try:
        doc.build(story, canvasmaker=_numbered(font, pages[0].number if pages else ""))
    except Exception as exc:  # reportlab raises plain exceptions on layout errors
        raise PrintError("表单排版失败，未能生成；请联系管理员 / the form could not be laid out: "
                         f"call the operator ({type(exc).__name__})") from exc
    return out.getvalue()


def _numbered(font: str, number: str) -> Any:
    """A canvas that prints at the foot of every page the form's 编号 and 第 n 页，共 N 页:
    a form over two sheets (a long checklist, a long scope) must show the applicant that
    the sheets belong together and none is missing."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for n, page in enumerate(self._pages, 1):
                self.__dict__.update(page)
                self.setFont(font, 9)
                head = f"编号：{number}　" if number else ""
                self.drawCentredString(A4[0] / 2, 10 * mm,
                                       f"{head}第 {n} 页，共 {len(self._pages)} 页")
                super().showPage()
            super().save()

    return Numbered


def _signature_block(form: FormContent, style: Any, width: float, Image: Any, Table: Any,
                     TableStyle: Any, mm: float) -> Any:
    """Signature lines: label, a line (or the drawn signature) and 年 月 日."""
    rows = []
    for i, who in enumerate(form.signatures):
        mark: Any = ""
        if i == 0 and form.signature_png:
            mark = Image(io.BytesIO(form.signature_png), width=45 * mm, height=15 * mm,
                         kind="proportional")
        date = "     年    月    日"
        if i == 0 and form.signature_png and len(form.signed_on) == 10:
            # signed on the pad at that step: the date is the step's, not left blank
            # written as the form's other dates are (2026年3月5日, schemas.state.zh_date)
            date = zh_date(form.signed_on)
        rows.append([_paragraph(who + "：", style), mark, _paragraph(date, style)])
    # the label column fits the longest label (受托代办员（签字）：) on one line
    table = Table(rows, colWidths=[48 * mm, 64 * mm, width - 112 * mm], rowHeights=15 * mm)
    table.setStyle(TableStyle([
        ("LINEBELOW", (1, 0), (1, -1), 0.8, "black"),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    ]))
    return table


def checklist_rows(materials: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(material, how to obtain it)`` pairs from a service item's materials."""
    out = []
    for m in materials:
        name = m.get("name") or m.get("label") or ""
        how = m.get("how_to_obtain") or m.get("obtain") or m.get("how") or ""
        out.append((str(name), str(how)))
    return out
