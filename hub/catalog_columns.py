"""The columns of the 清单's two sheets (6.2.4): each one's header, and what its cells may
say as people type them (是/否 or √/×, 村、乡镇 for the tiers, 3个工作日 or 即办 for a time
limit) read into a service item's value and written back for ``catalog export``.

Pure; the tables are read in :mod:`hub.catalog_sheet`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.vocab import FOCUS_AREAS, MODES, TIERS

ITEMS_SHEET, MATERIALS_SHEET = "事项清单", "申请材料"

#: The short names a list uses for the tiers (4.3: 市、县（区）、乡镇（街道）、村（社区）).
_TIER_WORDS = {"市": "city", "县": "county", "区": "county", "县（区）": "county",
               "县区": "county", "乡镇": "town", "镇": "town", "乡": "town", "街道": "town",
               "乡镇（街道）": "town", "村": "village", "社区": "village", "村（社区）": "village"}
_YES = {"是", "可", "有", "√", "✓", "y", "yes", "true", "1"}
_NO = {"否", "不可", "无", "×", "✗", "n", "no", "false", "0"}
#: 即办件: handled on the spot, a time limit of 0 working days (10.1.3).
_SAME_DAY = {"即办", "即办件", "当场办结", "当场"}
_SPLIT = re.compile(r"[、,，;；/\s]+")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[str], Any]
    required: bool = True
    #: how the column's value is written back (export)
    show: Callable[[Any], str] = str


def _text(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError("填“是”或“否” / write 是 or 否 (yes or no)")


def _days(value: str) -> int:
    word = value.strip()
    if word in _SAME_DAY:
        return 0
    word = re.sub(r"(个)?(工作日|日|天)$", "", word).strip()
    try:
        number = float(word)
    except ValueError:
        raise ValueError("填工作日数（整数），即办件填 0 或“即办” / a whole number of "
                         "working days (0 or 即办 for an item handled on the spot)") from None
    if number != int(number) or number < 0:
        raise ValueError("工作日数须为不小于 0 的整数 / a whole number of days, 0 or more")
    return int(number)


def _words(vocab: Mapping[str, tuple[str, str]], extra: Mapping[str, str],
           what: str) -> Callable[[str], list[str]]:
    known = {code: code for code in vocab} | {zh: code for code, (zh, _en) in vocab.items()}
    known |= dict(extra)

    def parse(value: str) -> list[str]:
        out: list[str] = []
        for word in _SPLIT.split(value.strip()):
            if not word:
                continue
            code = known.get(word) or known.get(word.lower())
            if code is None:
                names = "、".join(zh for zh, _en in vocab.values())
                raise ValueError(f"“{word}”不是{what}（可填：{names}）/ {word!r} is not one "
                                 f"of the {what} ({', '.join(vocab)})")
            if code not in out:
                out.append(code)
        if not out:
            raise ValueError(f"至少填一项{what} / at least one")
        return out
    return parse


def _one(parse: Callable[[str], list[str]]) -> Callable[[str], str]:
    def one(value: str) -> str:
        found = parse(value)
        if len(found) != 1:
            raise ValueError("只填一项 / exactly one")
        return found[0]
    return one


def _yes_no(value: Any) -> str:
    return "是" if value else "否"


def _labels(vocab: Mapping[str, tuple[str, str]]) -> Callable[[Any], str]:
    def show(value: Any) -> str:
        codes = value if isinstance(value, list) else [value]
        return "、".join(vocab.get(c, (c, c))[0] for c in codes)
    return show


_tiers = _words(TIERS, _TIER_WORDS, "办理层级")
_modes = _words(MODES, {}, "服务方式")
_focus = _one(_words(FOCUS_AREAS, {"涉企": "enterprise", "民生": "livelihood"}, "重点领域"))

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("code", "事项编码", _text),
    Column("name", "事项名称", _text),
    Column("department", "审批部门", _text),
    Column("tiers", "办理层级", _tiers, show=_labels(TIERS)),
    Column("assist", "可帮办", _bool, show=_yes_no),
    Column("proxy", "可代办", _bool, show=_yes_no),
    Column("focus_area", "重点领域", _focus, show=_labels(FOCUS_AREAS)),
    Column("modes", "服务方式", _modes, required=False, show=_labels(MODES)),
    Column("time_limit_days", "法定时限（工作日）", _days),
    Column("promised_days", "承诺时限（工作日）", _days, required=False),
    Column("materials_period_days", "补正材料期限（工作日）", _days, required=False),
    Column("resumption_period_days", "中止恢复期限（工作日）", _days, required=False),
    Column("fees", "涉及行政事业性收费", _bool, required=False, show=_yes_no),
    Column("active", "启用", _bool, required=False, show=_yes_no),
    # told with the materials in the one-time notification (一次性告知, 3 and 10.1.4)
    Column("conditions", "办理条件", _text, required=False),
    Column("procedure", "办理流程", _text, required=False),
)
MATERIAL_COLUMNS: tuple[Column, ...] = (
    Column("item", "事项编码", _text),
    Column("code", "材料编码", _text),
    Column("name", "材料名称", _text),
    Column("how_to_obtain", "获取方式", _text),
    Column("original", "需原件", _bool, required=False, show=_yes_no),
    Column("copies", "份数", _days, required=False),
)


__all__ = ["ITEMS_SHEET", "ITEM_COLUMNS", "MATERIALS_SHEET", "MATERIAL_COLUMNS", "Column"]
