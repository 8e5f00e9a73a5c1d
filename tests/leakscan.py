"""Search the raw bytes of stored files for personal data (design §5; issue 5 "Must show").

Reusable by any test that stores sample cases: collect the sensitive values
(:func:`sensitive_values`), turn each into every byte form a store might write
(:func:`needles`: UTF-8, and JSON's ``\\uXXXX`` escapes in lower- and upper-case
hex), then :func:`scan` files or directories (recursively: SQLite's ``-wal`` and
``-shm`` files and LevelDB's logs and tables included) for any of them.

A scan that finds nothing proves nothing unless it could have found something:
callers also scan a *control* store holding the same kind of values in clear
(:func:`assert_scan_finds`), on the same backend, so a backend that compressed or
re-encoded its files would fail the control instead of passing the scan.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The private members that identify a person (schemas/case.py CasePrivate and events).
SENSITIVE_KEYS = ("applicant_name", "agent_name", "enterprise_name", "name", "complainant",
                  "id_number", "phone", "contact", "address")


@dataclass(frozen=True)
class Hit:
    path: str
    offset: int
    value: str
    form: str

    def __str__(self) -> str:
        return f"{self.path}@{self.offset}: {self.value!r} ({self.form})"


def sensitive_values(privates: Iterable[Mapping[str, Any]], keys: Iterable[str] = SENSITIVE_KEYS,
                     *, min_len: int = 2) -> set[str]:
    """The string values of ``keys`` in the given ``private`` objects (searched recursively)."""
    wanted = set(keys)
    out: set[str] = set()

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in wanted and len(value) >= min_len:
            out.add(value)

    for private in privates:
        walk(private, None)
    return out


def needles(value: str) -> dict[str, bytes]:
    """Every byte form of ``value`` to search for: ``{form name: bytes}``."""
    forms = {"utf-8": value.encode("utf-8")}
    escaped = json.dumps(value, ensure_ascii=True)[1:-1]
    if escaped != value:
        forms["json-escaped"] = escaped.encode("ascii")
        upper = _upper_escapes(escaped)
        if upper != escaped:
            forms["json-escaped-upper"] = upper.encode("ascii")
    return forms


def _upper_escapes(escaped: str) -> str:
    out, i = [], 0
    while i < len(escaped):
        if escaped.startswith("\\u", i) and i + 6 <= len(escaped):
            out.append("\\u" + escaped[i + 2:i + 6].upper())
            i += 6
        else:
            out.append(escaped[i])
            i += 1
    return "".join(out)


def files_under(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()))
        elif p.exists():
            out.append(p)
    return out


def scan(paths: Iterable[str | os.PathLike[str]], values: Iterable[str]) -> list[Hit]:
    """Every occurrence of every form of every value in the files under ``paths``."""
    files = files_under(paths)
    if not files:
        raise AssertionError(f"nothing to scan under {list(map(str, paths))}")
    patterns = [(v, form, raw) for v in sorted(set(values)) for form, raw in needles(v).items()]
    hits: list[Hit] = []
    for f in files:
        data = f.read_bytes()
        for value, form, raw in patterns:
            start = data.find(raw)
            while start != -1:
                hits.append(Hit(str(f), start, value, form))
                start = data.find(raw, start + 1)
    return hits


def scanned_bytes(paths: Iterable[str | os.PathLike[str]]) -> int:
    return sum(f.stat().st_size for f in files_under(paths))


def assert_no_leak(paths: Iterable[str | os.PathLike[str]], values: Iterable[str]) -> None:
    hits = scan(paths, values)
    assert not hits, f"{len(hits)} plaintext hits, e.g.:\n" + "\n".join(map(str, hits[:10]))


def assert_scan_finds(paths: Iterable[str | os.PathLike[str]], values: Iterable[str]) -> None:
    """The control: every value stored in clear under ``paths`` is found by :func:`scan`."""
    found = {h.value for h in scan(paths, values)}
    missed = set(values) - found
    assert not missed, f"the scan missed {len(missed)} clear values (e.g. {sorted(missed)[:5]}): " \
                       "the backend re-encodes its files, so a clean scan would prove nothing"


__all__ = ["SENSITIVE_KEYS", "Hit", "assert_no_leak", "assert_scan_finds", "files_under", "needles",
           "scan", "scanned_bytes", "sensitive_values"]
