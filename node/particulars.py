"""An applicant's particulars as the clerk types or pastes them: a name's whitespace, a
resident ID card number's check (GB 11643-1999), a firm's unified social credit code's
(GB 32100-2015, and GB 11714-1997's over the organisation code inside it). Used by the consultation and the
correction (更正) forms and their API (node.views.consultations, node.views.applicant).

The ID number goes onto forms A–E and to the department (10.1.3, 10.2.2): a digit mistyped
at the window was printed, signed and handed over, and came back as a refusal weeks later.
The card's last character is a check over the other seventeen, made to catch such a typo;
so is a firm's 统一社会信用代码 on its business licence. Checked at entry only (a new
consultation, a correction): a case stored with a bad number still opens, prints and syncs.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from schemas.ids import GB32100_CHARS, gb32100_check_char, is_valid_id_number, uscc_org_code_ok

__all__ = ["clean_name", "id_number_problem", "resident_id_problem", "stored_id_problem",
           "uscc_problem"]

#: any run of whitespace: newlines and tabs of a pasted cell, the ideographic space U+3000
_SPACES = re.compile(r"\s+")
#: a space between two Han characters (王 小明): a Chinese name is written without one
_HAN_GAP = re.compile(r"(?<=[\u3400-\u9fff\U00020000-\U0003134f]) (?=[\u3400-\u9fff\U00020000-\U0003134f])")


def clean_name(text: str | None) -> str:
    """A name (or a firm's) as it is written on the card: a pasted "  王\\n 小明 \\t" was
    stored with its newline and printed "王 小明" on the forms, which the department holds
    against the ID card. Runs of whitespace become one space (a foreign name keeps its
    space), and none is left between two Han characters."""
    one = _SPACES.sub(" ", text or "").strip()
    return _HAN_GAP.sub("", one)


def _birth_date(value: str) -> dt.date | None:
    digits = value[6:14] if len(value) == 18 else "19" + value[6:12]
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def resident_id_problem(value: str, today: dt.date) -> str | None:
    """Why ``value`` (NFKC, upper case: node.views.consultations.id_number_of) cannot be a
    resident ID card number, Chinese then English; None when it can. The 15-digit first
    generation (birth date 6 digits, no check character) is still taken."""
    value = unicodedata.normalize("NFKC", value)
    if not re.fullmatch(r"[0-9]{17}[0-9X]|[0-9]{15}", value):
        return ("居民身份证号应为 18 位（末位可为 X） / a resident ID number has 18 "
                "characters, the last may be X")
    born = _birth_date(value)
    if born is None or born > today:
        return ("居民身份证号第 7–14 位应为出生日期，且不晚于今天，请对照证件核对 / a resident "
                "ID number's characters 7–14 are the birth date, not after today: check it "
                "against the card")
    if len(value) == 18 and not is_valid_id_number(value):
        return ("居民身份证号校验位不符，可能有数字输错，请对照证件逐位核对（GB 11643） / the "
                "resident ID number's check character does not match: a digit may be "
                "mistyped, check it against the card")
    return None


def uscc_problem(value: str) -> str | None:
    """Why ``value`` (NFKC, upper case, no spaces: node.views.consultations.id_number_of)
    cannot be a unified social credit code, Chinese then English; None when it can."""
    if len(value) != 18 or any(c not in GB32100_CHARS for c in value):
        return ("统一社会信用代码应为 18 位，由数字和大写字母组成（不含 I、O、S、V、Z），请对照营业执照"
                "核对（GB 32100） / a unified social credit code has 18 characters, digits and capital "
                "letters without I, O, S, V, Z: check it against the business licence")
    if gb32100_check_char(value[:17]) != value[17]:
        return ("统一社会信用代码校验位不符，可能有字符输错，请对照营业执照逐位核对（GB 32100） / the "
                "unified social credit code's check character does not match: a character "
                "may be mistyped, check it against the business licence")
    if not uscc_org_code_ok(value):  # GB 32100: 9–17 are a GB 11714 code
        return ("统一社会信用代码第 9 至 17 位（组织机构代码）校验位不符，可能有字符输错，请对照营业执照逐位"
                "核对（GB 11714） / the organisation code in the unified social credit code "
                "(characters 9–17) fails its check character (17th): a character may be "
                "mistyped, check it against the business licence")
    return None


def id_number_problem(id_type: str, value: str, today: dt.date) -> str | None:
    """Why ``value`` cannot be an ID number of ``id_type``; None when it can, or when the
    type has no check this node knows (a passport's number is the issuing state's)."""
    if not value:
        return None
    if id_type == "resident_id":
        return resident_id_problem(value, today)
    if id_type == "uscc":
        return uscc_problem(value)
    return None


def stored_id_problem(private: Mapping[str, Any], today: dt.date) -> str | None:
    """Why the ID number a case holds fails its check (a case registered before the check,
    or synced from a station without it), for the case page and the correction form to
    flag; None when it passes or there is none."""
    return id_number_problem(str(private.get("id_type") or "resident_id"),
                             str(private.get("id_number") or ""), today)
