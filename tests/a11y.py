"""What an accessibility inspector checks on a page (GB/T 37668-2019, the MIIT 适老化
rules for government sites), for the node's and the oversight pages' tests: the page's
markup (:func:`markup_problems`) and the contrast of a stylesheet's colours computed from
the CSS file itself (WCAG 2 relative luminance: text at least 4.5:1 against each
background it is drawn on, a focus ring at least 3:1 around the focused control)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

#: inputs a person fills in (a hidden one, a button, carry their own text or none)
_UNLABELLED_OK = {"hidden", "submit", "button", "reset", "image"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.fields: list[dict[str, str]] = []
        self.described: list[tuple[str, str]] = []
        self.th: list[dict[str, str]] = []
        self.headings: list[int] = []
        self.links: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("id"):
            self.ids.add(a["id"])
        for ref in a.get("aria-describedby", "").split():
            self.described.append((a.get("id") or a.get("name", tag), ref))
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.add(a["href"][1:])
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in _UNLABELLED_OK:
            self.fields.append(a)
        elif tag == "th":
            self.th.append(a)
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def markup_problems(html: str) -> list[str]:
    """What the page breaks: ``lang="zh-CN"``, a ``<th>`` without ``scope``, an input no
    ``<label for>`` (or aria-label) names, an ``aria-describedby`` naming no element, a
    heading level skipped, no link past the menus to the page's ``<main id>`` (skip link)."""
    page = _Page()
    page.feed(html)
    out = [] if page.lang == "zh-CN" else [f"html lang={page.lang!r}"]
    out += [f"th without scope: {a}" for a in page.th if a.get("scope") not in
            ("col", "row", "colgroup", "rowgroup")]
    out += [f"input without a label: {a}" for a in page.fields
            if a.get("id", "") not in page.label_for and not a.get("aria-label")
            and not a.get("aria-labelledby")]
    out += [f"{who}: aria-describedby={ref} names no element" for who, ref in page.described
            if ref not in page.ids]
    if "main" not in page.links or "main" not in page.ids:
        out.append("no skip link to the main content")
    levels = [0] + page.headings
    out += [f"h{b} after h{a}" for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    return out

TEXT, RING = 4.5, 3.0
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_NAMED = {"white": "#ffffff", "black": "#000000"}


def rules(path: Path) -> list[tuple[list[str], dict[str, str]]]:
    """``(selectors, declarations)`` of each plain rule, in order (``@media print`` and
    comments left out: paper is not a screen)."""
    css = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    css = re.sub(r"@media print\s*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    out = []
    for sel, body in _RULE.findall(css):
        decls = {}
        for part in body.split(";"):
            if ":" in part:
                k, v = part.split(":", 1)
                decls[k.strip().lower()] = v.strip()
        out.append(([s.strip() for s in sel.split(",")], decls))
    return out


def variables(found: list[tuple[list[str], dict[str, str]]]) -> dict[str, str]:
    return {k: v for sels, decls in found if ":root" in sels
            for k, v in decls.items() if k.startswith("--")}


def colour(value: str, names: dict[str, str]) -> str | None:
    """The first colour a declaration value names (``#abc``, ``var(--x)``, white), else None."""
    for _ in range(5):
        value = re.sub(r"var\((--[\w-]+)\)", lambda m: names.get(m.group(1), ""), value)
    m = _HEX.search(value)
    if m:
        h = m.group(0)[1:]
        return "#" + (h if len(h) == 6 else "".join(c * 2 for c in h)).lower()
    word = value.split()[0].lower() if value.split() else ""
    return _NAMED.get(word)


def luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def declared(found: list[tuple[list[str], dict[str, str]]], selector: str, prop: str) -> str:
    """The colour of ``prop`` in the last rule listing ``selector``."""
    names = variables(found)
    hits = [colour(d[p], names) for sels, d in found if selector in sels
            for p in (prop, prop + "-color") if p in d]
    got = [h for h in hits if h]
    assert got, f"{selector} {{ {prop} }} not in the stylesheet"
    return got[-1]


def text_failures(path: Path, page: list[str], header_prefix: str,
                  header: list[str]) -> list[str]:
    """Each text colour below 4.5:1: against its own rule's background when it declares
    one, else against every background of its context (the header's for a selector
    under ``header_prefix``, the page's otherwise)."""
    found = rules(path)
    names = variables(found)
    bad = []
    for sels, d in found:
        fg = colour(d["color"], names) if "color" in d else None
        if not fg:
            continue
        own = colour(d.get("background", d.get("background-color", "")), names)
        for sel in sels:
            grounds = [own] if own else (header if sel.startswith(header_prefix) else page)
            bad += [f"{sel}: {fg} on {bg} is {ratio(fg, bg):.2f}:1" for bg in grounds
                    if ratio(fg, bg) < TEXT]
    return bad


def focus_ring(path: Path, header_prefix: str) -> dict[str, str | None]:
    """The outline colour a focused control gets in each context (``page``, ``header``):
    the last focus rule that reaches it (a rule under ``header_prefix`` reaches the header
    only, any other both), None when the stylesheet sets none (the browser's default)."""
    found = rules(path)
    names = variables(found)
    ring: dict[str, str | None] = {"page": None, "header": None}
    for sels, d in found:
        value = d.get("outline-color") or d.get("outline")
        got = colour(value, names) if value else None
        if not got:
            continue
        for sel in sels:
            if ":focus" not in sel:
                continue
            base = sel.split(":focus")[0].strip()
            if sel.startswith(header_prefix):
                ring["header"] = got
            elif not base or re.fullmatch(r"[a-z]+", base):  # any link, button, input
                ring["page"] = ring["header"] = got
            else:  # one kind of element (a class): on the page
                ring["page"] = got
    return ring
