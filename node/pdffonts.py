"""The fonts the printed forms are drawn with (node.pdf): one CJK TTF embedded, the other
installed ones for the characters it lacks, and a mark for those no font draws.

A name is printed as the applicant writes it or visibly not at all: a character of CJK
extension A or B (䶮, 𠮷: in names, and in the 通用规范汉字表 of 2013) that the main font
lacks is drawn from the first other installed font that has it (Noto CJK has what
WenQuanYi lacks), else marked 〓 with its code point in a note for the clerk's hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

#: Debian fonts with CJK glyphs, tried in order (fonts-wqy-microhei is what `make test` installs).
KNOWN_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
FONT_NAME = "BangbanCJK"
CID_FALLBACK = "STSong-Light"
#: printed for a character no font has a glyph for (the geta mark of Chinese typesetting)
MISSING_MARK = "〓"

_registered: str | None = None
#: the font file the main font was read from, and the other fonts: (name, code points)
_main: tuple[str, int] | None = None
_others: list[tuple[str, frozenset[int]]] | None = None


def _candidates(font_path: str) -> list[tuple[str, int]]:
    return ([(font_path, 0)] if font_path else []) + list(KNOWN_FONTS)


def _load(name: str, path: str, index: int) -> Any:
    """The TTF at ``path`` registered as ``name``, None when it is missing or broken."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not Path(path).exists():
        return None
    try:
        kwargs: dict[str, Any] = {"subfontIndex": index} if path.endswith(".ttc") else {}
        font = TTFont(name, path, **kwargs)
    except Exception:  # a broken font file: try the next one
        return None
    pdfmetrics.registerFont(font)
    return font


def register_font(font_path: str = "") -> str:
    """Register the CJK font once; return its reportlab name."""
    global _registered, _main
    if _registered:
        return _registered
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    for path, index in _candidates(font_path):
        if _load(FONT_NAME, path, index) is not None:
            _registered, _main = FONT_NAME, (path, index)
            return FONT_NAME
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    _registered = CID_FALLBACK
    return CID_FALLBACK


def others(font_path: str = "") -> list[tuple[str, frozenset[int]]]:
    """The installed fonts after the main one, read the first time a character the main
    one lacks is printed (a CJK collection is tens of megabytes: not for every form).
    Before, the first font found was the only one: with WenQuanYi and Noto CJK both
    installed, 𠮷 printed as 〓 although Noto draws it."""
    global _others
    if _others is None:
        _others = []
        for n, (path, index) in enumerate(_candidates(font_path)):
            if (path, index) == _main:
                continue
            font = _load(f"{FONT_NAME}-{n}", path, index)
            if font is not None:
                _others.append((font.fontName, frozenset(font.face.charToGlyph)))
    return _others


def coverage(font: str) -> frozenset[int] | None:
    """The code points the registered TTF draws; None for the CID fallback (not embedded:
    the viewer's own font draws it, this process cannot know which)."""
    from reportlab.pdfbase import pdfmetrics

    face = getattr(pdfmetrics.getFont(font), "face", None)
    table = getattr(face, "charToGlyph", None)
    return frozenset(table) if table else None


def markup(text: str, covered: frozenset[int] | None, missing: list[str],
           font_path: str = "") -> str:
    """``text`` as paragraph markup: each character the main font cannot draw in the first
    other font that can, else :data:`MISSING_MARK` (noted in ``missing``). A rare
    character of a name (𠮷, 㐀) was drawn as a blank: the applicant signed a form naming
    林 for 𠮷㐀林."""
    if covered is None:
        return escape(text).replace("\n", "<br/>")
    out = []
    for ch in text:
        if ord(ch) in covered or ch.isspace():
            out.append("<br/>" if ch == "\n" else escape(ch))
            continue
        font = next((name for name, has in others(font_path) if ord(ch) in has), None)
        if font:
            out.append(f'<font name="{font}">{escape(ch)}</font>')
            continue
        out.append(MISSING_MARK)
        if ch not in missing:
            missing.append(ch)
    return "".join(out)


def missing_note(missing: Sequence[str]) -> str:
    """The line under a form that says what the clerk writes in by hand (the characters
    themselves cannot be drawn: their code points, and the case page that shows them)."""
    codes = "、".join(f"U+{ord(ch):04X}" for ch in missing)
    return (f"注：本机字库缺 {len(missing)} 个字（{codes}），表中“{MISSING_MARK}”处请对照"
            "办件页面手工补写。")
