"""The tokens an applicant is found by in the case index (:mod:`node.index`): normalized
name, ID number and phone, and a Chinese name's given name. The index stores only their
keyed hashes (design §5: no plaintext personal data in a node's SQLite file at rest)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["PHONE", "name_tokens", "normalize"]

_SPACE = re.compile(r"[\s·•.\-_,，。]+")
#: a phone as clerks write it: digits, with +, -, spaces or brackets (an area code in
#: brackets first: "(0392) 123-4567" was refused though the rule said brackets were fine)
PHONE = re.compile(r"\+?\(?[0-9][0-9 ()\-]{4,38}[0-9]")


def normalize(text: str) -> str:
    """NFKC, lower case, no spaces or separators: '张 三' and '张三' are one token."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "").lower())


def name_tokens(*values: str) -> set[str]:
    """The tokens an applicant can be found by: each whole value (name, ID number, phone),
    each space-separated part, and for a Chinese name also the given name without a one-
    or two-character surname."""
    out: set[str] = set()
    for value in values:
        if not value:
            continue
        whole = normalize(value)
        if whole:
            out.add(whole)
        for part in re.split(r"\s+", value.strip()):
            p = normalize(part)
            if len(p) >= 2:
                out.add(p)
        out |= _phone_tokens(value)
        if len(whole) >= 3 and all(_han(ch) for ch in whole):
            out.add(whole[1:])  # given name after a one-character surname
            if len(whole) >= 4:
                out.add(whole[2:])  # after a two-character surname (欧阳, 司马 …)
    return out


def _phone_tokens(value: str) -> set[str]:
    """A phone is found by its digits alone, and one written with China's country code
    (+86 …, 0086 …) by its national number too: "+86 138 1234 5678" was found by
    "+8613812345678" only, not by the 13812345678 a clerk types to look it up."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not PHONE.fullmatch(text):
        return set()
    digits = re.sub(r"[^0-9]", "", text)
    out = {digits}
    for code in ("+86", "0086"):
        if text.startswith(code) and len(digits) - len(code.lstrip("+")) >= 7:
            out.add(digits[len(code.lstrip("+")):])
    return out


def _han(ch: str) -> bool:
    """A Chinese character, also of the CJK extensions a rare name needs (㐀 in A, 𠮷 in B
    and later): 李㐀明 had no given-name token, found by 李㐀明 but not by 㐀明."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" \
        or "\U00020000" <= ch <= "\U0003134f"
