"""Field types, the base schema and the bilingual error translation.

Loaded documents stay JSON (dates are ``"YYYY-MM-DD"`` strings, date-times ISO
8601 with an offset), so ``validate(doc)`` returns a dict that can be stored as is.
marshmallow's messages are translated into :class:`schemas.errors.Problem` rows
(field path, rule code, English, Chinese) by :func:`problems_from_messages`.
Custom validators encode their message as ``"rule::english::中文"``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate  # noqa: F401

from schemas.errors import Problem
from schemas.hlc import is_hlc
from schemas.ids import DEVICE_ID_RE, INSTITUTION_CODE_RE, SERVICE_ITEM_CODE_RE
from schemas.lean import LeanSchema

__all__ = ["EXCLUDE", "RAISE", "Base", "fields", "validate", "msg", "problems_from_messages"]

#: CouchDB's own members: passed through untouched (CouchDB docs, "Special Fields").
COUCH_META = ("_rev", "_revisions", "_attachments", "_deleted", "_conflicts",
              "_deleted_conflicts", "_local_seq", "_revs_info")


def msg(rule: str, en: str, zh: str) -> str:
    return f"{rule}::{en}::{zh}"


_TYPE_ZH = {"string": "字符串", "integer": "整数", "boolean": "布尔值", "mapping type": "对象",
            "list": "列表", "number": "数字", "date": "日期", "datetime": "日期时间"}
_TRANSLATIONS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^Missing data for required field\.$"), "required", "缺少必填字段"),
    (re.compile(r"^Field may not be null\.$"), "not_null", "不能为空值（null）"),
    (re.compile(r"^Unknown field\.$"), "unknown_field", "未知字段"),
    (re.compile(r"^Not a valid (.+)\.$"), "type", "类型错误：应为{t}"),
    (re.compile(r"^Invalid input type\.$"), "type", "类型错误：应为对象"),
    (re.compile(r"^Invalid type\.$"), "type", "类型错误"),
    (re.compile(r"^Must be one of: (.*)\.$"), "one_of", "必须是以下之一：{0}"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "length",
     "长度必须在 {0} 与 {1} 之间"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "length", "长度不得少于 {0}"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "length", "长度不得超过 {0}"),
    (re.compile(r"^Length must be (\d+)\.$"), "length", "长度必须为 {0}"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     "range", "必须在 {0} 与 {1} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "range", "不得小于 {0}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "range", "不得大于 {0}"),
    (re.compile(r"^String does not match expected pattern\.$"), "pattern", "格式不符合要求"),
]


def _translate(message: str) -> tuple[str, str, str]:
    if "::" in message:
        rule, en, zh = (message.split("::", 2) + ["", ""])[:3]
        return rule, en, zh
    for pattern, rule, zh in _TRANSLATIONS:
        m = pattern.match(message)
        if m:
            groups = m.groups()
            if rule == "type" and groups:
                return rule, message, zh.format(t=_TYPE_ZH.get(groups[0], groups[0]))
            return rule, message, zh.format(*groups)
    return "invalid", message, f"无效：{message}"


def problems_from_messages(messages: Any, prefix: str = "") -> list[Problem]:
    """Flatten marshmallow's nested ``messages`` into field-path problems."""
    out: list[Problem] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix or "(document)"
                out.extend(problems_from_messages(value, prefix=path))
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(problems_from_messages(value, path))
    elif isinstance(messages, list | tuple):
        for m in messages:
            out.extend(problems_from_messages(m, prefix))
    else:
        rule, en, zh = _translate(str(messages))
        out.append(Problem(prefix or "(document)", rule, en, zh))
    return out


# -- field types -----------------------------------------------------------------------------

class Str(fields.String):
    """A non-empty string (an empty one is almost always a form left blank)."""

    def __init__(self, *, max_len: int = 2000, allow_empty: bool = False, **kw: Any):
        super().__init__(**kw)
        self.min_len = 0 if allow_empty else 1
        self.max_len = max_len

    def _deserialize(self, value: Any, attr: Any, data: Any, **kw: Any) -> str:
        # The length check inline rather than as a validate.Length: it runs on every string
        # of every write the hub receives.
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if not self.min_len <= len(value) <= self.max_len:
            raise ValidationError(msg(
                "length", f"Length must be between {self.min_len} and {self.max_len}.",
                f"长度必须在 {self.min_len} 与 {self.max_len} 之间"))
        return value


class Bool(fields.Boolean):
    """Only JSON ``true``/``false`` (marshmallow would also take ``"yes"`` or ``1``)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kw: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def Int(**kw: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kw)


class _Checked(fields.String):
    rule = "invalid"
    en = "invalid"
    zh = "无效"

    def check(self, value: str) -> bool:
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: Any, data: Any, **kw: Any) -> str:
        # A str is what String._deserialize returns unchanged (JSON gives no bytes): the
        # hub checks ~8 of these per document, so the common case skips the call.
        s = value if type(value) is str else super()._deserialize(value, attr, data, **kw)
        if not self.check(s):
            raise ValidationError(msg(self.rule, f"{self.en}: {s!r}", f"{self.zh}：{s!r}"))
        return s


class DateStr(_Checked):
    """``YYYY-MM-DD``."""

    rule, en, zh = "date", "not a date YYYY-MM-DD", "日期格式应为 YYYY-MM-DD"

    def check(self, value: str) -> bool:
        try:
            return len(value) == 10 and dt.date.fromisoformat(value) is not None
        except ValueError:
            return False


class DateTimeStr(_Checked):
    """ISO 8601 with a UTC offset (events are written on laptops in UTC+8; an offset
    keeps their wall time unambiguous)."""

    rule, en, zh = "datetime", "not an ISO 8601 date-time with offset", \
        "日期时间应为带时区的 ISO 8601 格式"

    def check(self, value: str) -> bool:
        try:
            return dt.datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False


class HlcStr(_Checked):
    rule, en, zh = "hlc", "not a hybrid logical clock", "混合逻辑时钟格式错误"

    def check(self, value: str) -> bool:
        return is_hlc(value)


class InstitutionCode(_Checked):
    rule, en, zh = "institution_code", "not an institution code (6, 9 or 12 digits)", \
        "机构代码应为 6、9 或 12 位数字"

    def check(self, value: str) -> bool:
        return INSTITUTION_CODE_RE.match(value) is not None


class DeviceId(_Checked):
    rule, en, zh = "device_id", "not a device id {institution}-{short}", "设备标识格式错误"

    def check(self, value: str) -> bool:
        return DEVICE_ID_RE.match(value) is not None


class ItemCode(_Checked):
    rule, en, zh = "service_item_code", "not a service item code", "事项编码格式错误"

    def check(self, value: str) -> bool:
        return SERVICE_ITEM_CODE_RE.match(value) is not None


_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class Sha256Hex(_Checked):
    """A SHA-256 digest as 64 lower-case hex digits (content-addressed chunks, design.md §4)."""

    rule, en, zh = "sha256", "not a SHA-256 digest (64 lower-case hex digits)", \
        "应为 SHA-256 摘要（64 位小写十六进制）"

    def check(self, value: str) -> bool:
        return _SHA256_RE.match(value) is not None


def check_device_institution(data: Mapping[str, Any]) -> None:
    """A writer records for its own institution: ``device`` is ``{institution}-{short}``
    (schemas/ids.py); raises the ``device_institution`` error on ``device``."""
    dev, inst = data.get("device"), data.get("institution")
    if dev and inst and not dev.startswith(inst + "-"):
        raise ValidationError(msg("device_institution", "device must belong to institution",
                                  "设备必须属于记录机构"), "device")


def one_of(choices: Iterable[str] | Mapping[str, tuple[str, str]],
           field_zh: str = "") -> validate.OneOf:
    """A code list; when given a vocabulary (code -> (zh, en)) the messages show the labels."""
    codes = list(choices)
    labels = choices if isinstance(choices, Mapping) else {}
    zh = "、".join(f"{c}（{labels[c][0]}）" if c in labels else c for c in codes)
    return validate.OneOf(codes, error=msg(
        "one_of", f"must be one of: {', '.join(codes)}", f"{field_zh}必须是以下之一：{zh}"))


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list | tuple) else [v]


# -- the base schema ---------------------------------------------------------------------------

class Base(LeanSchema):
    """Unknown fields are refused (a typo must not be stored silently); CouchDB's
    ``_rev``-style members pass through untouched."""

    class Meta:
        unknown = RAISE

    def load_doc(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        meta = {k: doc[k] for k in COUCH_META if k in doc}
        body = {k: v for k, v in doc.items() if k not in COUCH_META}
        loaded: dict[str, Any] = self.load(body)
        loaded.update(meta)
        return loaded


class Part(LeanSchema):
    """A nested part (a material, a private part): unknown fields refused too."""

    class Meta:
        unknown = RAISE
