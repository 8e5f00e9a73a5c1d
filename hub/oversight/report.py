"""The printable monthly report (PDF, reportlab) with an embedded CJK font.

Same approach as the node's forms (a TrueType CJK font from Debian's fonts-wqy-microhei
embedded in the PDF, reportlab's built-in CID font as the last resort), kept as the
hub's own small module: node and hub never import each other.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from hub.oversight.indicators import Row, month_end, rate_legend
from schemas.state import zh_date

FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
)
FONT = "BangbanHubCJK"
_font: str | None = None


def font() -> str:
    global _font
    if _font:
        return _font
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for path, index in FONTS:
        if Path(path).exists():
            try:
                pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=index))
            except Exception:  # a broken font file: try the next one
                continue
            _font = FONT
            return FONT
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    _font = "STSong-Light"
    return _font


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _rate_chart(font_name: str, labels: list[str], rates: list[float | None],
                title: str) -> Any:
    """A horizontal bar chart of rates (vector graphics in the PDF, prints sharply)."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    height = 30 + 16 * len(labels)
    d = Drawing(520, height)
    d.add(String(0, height - 12, title, fontName=font_name, fontSize=9))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 150, 10, 330, height - 30
    chart.data = [[(r or 0) * 100 for r in reversed(rates)]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = font_name
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = font_name
    chart.categoryAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#17457a")
    chart.barLabelFormat = "%.1f%%"
    chart.barLabels.fontName = font_name
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 14
    d.add(chart)
    return d


def _month(month: str) -> str:
    """``2026-03`` as a printed form writes it: 2026年3月."""
    year, mon = month.split("-")[:2]
    return f"{int(year)}年{int(mon)}月"


def monthly_report(*, scope_name: str, first: str, last: str, today: dt.date,
                   rows: Sequence[Row], total: Row, name: Callable[[str], str],
                   overdue: Sequence[dict[str, Any]],
                   missing: Sequence[tuple[str, str, int]],
                   complaints: Sequence[dict[str, Any]] = (),
                   staff: Callable[[str, str], str] | None = None,
                   complaint_days: int) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    f = font()
    h1 = ParagraphStyle("h1", fontName=f, fontSize=16, leading=22)
    h2 = ParagraphStyle("h2", fontName=f, fontSize=12, leading=18, spaceBefore=8)
    body = ParagraphStyle("body", fontName=f, fontSize=9, leading=13)
    # a printed report writes its dates as the printed forms do (schemas.state.zh_date)
    period = _month(first) if first == last else f"{_month(first)}至{_month(last)}"
    # A Paragraph reads its text as markup: "<b" in a name failed the whole report (a
    # 500), "<x>" vanished from it; the tables take plain text and need nothing.
    story: list[Any] = [
        Paragraph(f"{escape(scope_name)} 帮办代办服务监督月报（{period}）", h1),
        Paragraph(f"依据 DB4106/T 101—2023 第 5 章、第 11 章；统计截至{zh_date(today.isoformat())}；"
                  "仅使用明文元数据，不含服务对象个人信息。", body),
        Spacer(1, 4 * mm),
        Paragraph("一、质量指标（5 a、5 c、5 d、11.2）", h2)]
    # 终止 beside 办结: the rate leaves terminations out (its legend says 另计), and without
    # the column the report never said how many there were (the demo's two 10.2.5.2 ones)
    head = ["机构", "办结", "按时办结率", "终止", "咨询及时答复率", "投诉及时处理率", "满意率",
            "差评回访率", "档案完整率", "当前超期", "需复核"]
    data: list[list[Any]] = [head]
    for r in [*rows, total]:
        data.append([name(r.key) if r.key else "合计", r.c.get("completed", 0),
                     _pct(r.on_time_rate), r.c.get("terminated", 0),
                     _pct(r.consult_rate), _pct(r.complaint_rate),
                     _pct(r.satisfaction), _pct(r.follow_rate), _pct(r.records_rate),
                     r.live.get("overdue", 0), r.live.get("review", 0)])
    style = TableStyle([("FONT", (0, 0), (-1, -1), f, 8),
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f4f4")),
                        ("ALIGN", (1, 0), (-1, -1), "RIGHT")])
    story.append(Table(data, repeatRows=1, style=style))
    story.append(Paragraph(escape(rate_legend(complaint_days)), body))
    rated = [r for r in rows if r.on_time_rate is not None]  # units with completions
    if rated:
        story.append(Spacer(1, 3 * mm))
        story.append(_rate_chart(f, [name(r.key) for r in rated],
                                 [r.on_time_rate for r in rated], "按时办结率（5 a，目标 100%）"))
    story.append(Paragraph("二、档案完整性（5 d、11.1 e）：已结办件缺项统计", h2))
    story.append(Table([["项目", "缺失件数"], *[[zh, n] for _k, zh, n in missing]],
                       style=style))
    # the count of the scope (the table's 合计), not of the list: the list stops at a page's
    # worth of the earliest deadlines, and a report said "200 件" where 250 were late
    late = int(total.live.get("overdue", 0))
    story.append(Paragraph(f"三、超期未办结的办件（5 a、11.1 b）：{late} 件", h2))
    if 0 < len(overdue) < late:
        story.append(Paragraph(f"下表列出办理时限到期最早的 {len(overdue)} 件。", body))
    if overdue:
        story.append(Table(
            [["办件编号", "机构", "工作人员", "办理时限"],
             *[[o["case_no"] or o["case_id"], name(o["institution"]),
                "待接办" if o.get("unclaimed") else  # handed on, nobody there yet
                (staff(o["institution"], o["staff"]) if staff else o["staff"]) or "",
                zh_date(o["due"])] for o in overdue]], repeatRows=1, style=style))
    story += _ratings_and_complaints(total, complaints, last, name, h2, body, style)
    story += _clause9(rows, total, name, h2, body, style)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=14 * mm,
                            rightMargin=14 * mm, topMargin=14 * mm, bottomMargin=14 * mm,
                            title=f"帮办代办服务监督月报（{period}）", author="Bangban hub")
    doc.build(story)
    return buf.getvalue()


def _label(vocab: dict[str, tuple[str, str]], code: Any) -> str:
    return vocab.get(str(code), (str(code or ""), ""))[0]


def _ratings_and_complaints(total: Row, complaints: Sequence[dict[str, Any]], last: str,
                            name: Callable[[str], str], h2: Any, body: Any,
                            style: Any) -> list[Any]:
    """Sections four and five: the 好差评 distribution of the period (11.2: five levels; the
    bad ones followed up) and the complaints tracked (11.1, 5 c: open at the period's end,
    then handled in it), as the dashboard shows them."""
    from reportlab.platypus import Paragraph, Table

    from schemas.vocab import COMPLAINT_CATEGORIES, COMPLAINT_RESULTS, RATING_LEVELS

    ratings = total.ratings
    rated = sum(ratings.values())
    out: list[Any] = [Paragraph(f"四、好差评（11.2）：评价 {rated} 次", h2)]
    if rated:
        out.append(Table([["评价", *[zh for zh, _en in RATING_LEVELS.values()]],
                          ["次数", *[ratings[k] for k in RATING_LEVELS]],
                          ["占比", *[_pct(ratings[k] / rated) for k in RATING_LEVELS]]],
                         style=style))
        bad, followed = total.c.get("bad_ratings", 0), total.c.get("bad_followed", 0)
        out.append(Paragraph(f"差评 {bad} 次，已回访 {followed} 次。", body))
    # open at the period's end: not handled, or handled only after it (a past month's
    # report lists those too, indicators.complaints; they were counted as handled in it)
    end = month_end(last)
    open_at_end = sum(1 for c in complaints if not c.get("handled_on") or c["handled_on"] > end)
    out.append(Paragraph(f"五、投诉（11.1、5 c）：期末未处理 {open_at_end} 件，"
                         f"本期已处理 {len(complaints) - open_at_end} 件", h2))
    if complaints:
        out.append(Table(
            [["办件编号", "机构", "收到日期", "处理期限", "处理日期", "类别", "处理结果"],
             *[[c.get("case_no") or c["case_id"], name(c["institution"]),
                c.get("received_on") or "", c.get("due") or "", c.get("handled_on") or "未处理",
                _label(COMPLAINT_CATEGORIES, c.get("category")),
                _label(COMPLAINT_RESULTS, c.get("result")) if c.get("result") else ""]
               for c in complaints]], repeatRows=1, style=style))
    return out


def _clause9(rows: Sequence[Row], total: Row, name: Callable[[str], str], h2: Any, body: Any,
             style: Any) -> list[Any]:
    """Section six: the cases opened in the period per focus area, service mode and special
    group (clause 9), as the dashboard's table shows them."""
    from reportlab.platypus import Paragraph, Table

    from hub.oversight.indicators import CLAUSE9_COLUMNS

    cols = [c for _head, group in CLAUSE9_COLUMNS for c in group]
    out: list[Any] = [Paragraph(f"六、重点领域、服务模式与特殊群体（9）：本期新登记 "
                                f"{total.c.get('opened', 0)} 件", h2)]
    out.append(Table([["机构", "新登记", *[zh for _k, zh in cols]],
                      *[[name(r.key) if r.key else "合计", r.c.get("opened", 0),
                         *[r.c.get(k, 0) for k, _zh in cols]] for r in [*rows, total]]],
                     repeatRows=1, style=style))
    out.append(Paragraph("一个办件可服务多个特殊群体，特殊群体各列之和可大于新登记件数。", body))
    return out
