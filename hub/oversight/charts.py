"""Server-side SVG charts: no script, no internet, they print as they show (issue 8)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

RATING_COLOURS = ("#1a7f37", "#4caf50", "#c9b458", "#e8893a", "#c62828")
TARGET = 1.0  # 5 a), 5 c): the standard's target is 100 %
#: What a chart without a row says: a station that had no case in the period (or never had
#: one) showed an empty box, a dotted target line its only mark.
NO_ROWS = "本期无数据"


def _no_rows(y: int) -> str:
    return f'<text x="4" y="{y}" class="chart-value">{NO_ROWS}</text>'


def rate_bars(title: str, rows: Sequence[tuple[str, float | None]], *, width: int = 520) -> Markup:
    """Horizontal bars of rates in [0, 1] with the 100 % target line; None = no cases."""
    bar_h, gap, left, top = 18, 6, 170, 26
    height = top + max(1, len(rows)) * (bar_h + gap) + 10
    span = width - left - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'aria-label="{escape(title)}">',
             f'<text x="4" y="16" class="chart-title">{escape(title)}</text>']
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" '
                     f'class="chart-label">{escape(label[:14])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{span}" height="{bar_h}" fill="#eef1f4"/>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 13}" class="chart-value">无数据</text>')
            continue
        colour = "#1a7f37" if value >= TARGET else ("#e8893a" if value >= 0.9 else "#c62828")
        parts.append(f'<rect x="{left}" y="{y}" width="{span * max(0.0, min(1.0, value)):.1f}" '
                     f'height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{left + span + 6}" y="{y + 13}" class="chart-value">'
                     f'{value * 100:.1f}%</text>')
    x = left + span * TARGET
    parts.append(f'<line x1="{x}" y1="{top - 4}" x2="{x}" y2="{height - 6}" stroke="#333" '
                 f'stroke-dasharray="3,3"/>' if rows else _no_rows(top + 13))
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_ratings(title: str, rows: Sequence[tuple[str, Sequence[int]]],
                    labels: Sequence[str], *, width: int = 520) -> Markup:
    """One stacked bar per unit of the five rating levels (11.2), with a legend."""
    bar_h, gap, left, top = 18, 6, 170, 44
    height = top + max(1, len(rows)) * (bar_h + gap) + 10
    span = width - left - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'aria-label="{escape(title)}">',
             f'<text x="4" y="16" class="chart-title">{escape(title)}</text>']
    lx = 4
    for colour, label in zip(RATING_COLOURS, labels, strict=True):
        parts.append(f'<rect x="{lx}" y="24" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 13}" y="33" class="chart-legend">{escape(label)}</text>')
        lx += 14 + 13 * len(label) + 10
    for i, (label, counts) in enumerate(rows):
        y = top + i * (bar_h + gap)
        total = sum(counts)
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" '
                     f'class="chart-label">{escape(label[:14])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{span}" height="{bar_h}" fill="#eef1f4"/>')
        x = float(left)
        for colour, n in zip(RATING_COLOURS, counts, strict=True):
            if total and n:
                w = span * n / total
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                             f'fill="{colour}"><title>{n}</title></rect>')
                x += w
        parts.append(f'<text x="{left + span + 6}" y="{y + 13}" class="chart-value">'
                     f'{total}</text>')
    if not rows:
        parts.append(_no_rows(top + 13))
    parts.append("</svg>")
    return Markup("".join(parts))
