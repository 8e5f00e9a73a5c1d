"""Read a ``{"results": [...]}`` answer item by item as its bytes arrive.

Why: on a village link that breaks every few hundred KB, a ``_bulk_get`` answer
cut in the middle used to be lost whole, and the retry fetched it again (issue 3:
a cut run may cost at most 10 % more bytes than an uncut one). Parsed as it
streams, every result that arrived complete before the break is kept and
written; only the one being received is fetched again.

CouchDB streams ``_bulk_get`` as ``{"results": [ {...}, {...} ]}`` (chttpd_db
``db_req(#httpd{method='POST', path_parts=[_, <<"_bulk_get">>]})``); the parser
reads the top-level object's keys in order, so other keys before or after
``results`` are skipped, not mistaken for it.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


class Truncated(ValueError):
    """The answer ended (or broke) before its closing ``]}``."""


class ResultsStream:
    """Feed bytes with :meth:`feed`; complete results collect in :attr:`results`."""

    def __init__(self, key: str = "results") -> None:
        self.key = key
        self.results: list[Any] = []
        self.other: dict[str, Any] = {}
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._buf = ""
        self._pos = 0
        # "open" -> expecting "{"; "key" -> a key or "}"; "value" -> a non-results
        # value; "items"/"item"/"next" -> inside the results array; "after" -> ","
        # or "}" after a top-level value; "done".
        self._state = "open"
        self._pending_key = ""
        # Re-parse a half-received item only when the buffer has doubled since the
        # last try: parsing a large document over and over would be quadratic.
        self._retry_at = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> None:
        self._buf += self._utf8.decode(data)
        if len(self._buf) >= self._retry_at:
            self._retry_at = 0
            self._advance()

    def close(self) -> dict[str, Any]:
        """The whole answer; :class:`Truncated` if it did not end properly."""
        self._buf += self._utf8.decode(b"", final=True)
        self._advance(final=True)
        if not self.done:
            raise Truncated(f"answer ended before its closing bracket "
                            f"({len(self.results)} complete results)")
        return {**self.other, self.key: self.results}

    def salvage(self) -> list[Any]:
        """The results complete so far (after a break: parse what is buffered)."""
        self._retry_at = 0
        try:
            self._advance()
        except Truncated:
            pass  # garbage after the good items: keep those
        return self.results

    # -- the small state machine ----------------------------------------------
    def _skip(self) -> bool:
        buf, pos = self._buf, self._pos
        while pos < len(buf) and buf[pos] in _WS:
            pos += 1
        self._pos = pos
        return pos < len(buf)

    def _value(self, final: bool) -> tuple[bool, Any]:
        """Decode the value at the cursor: (True, value), or (False, None) while it
        is incomplete. Only at the end (``close``) is an undecodable value an error:
        before it, a value cut anywhere is just not there yet."""
        try:
            value, end = _DECODER.raw_decode(self._buf, self._pos)
        except json.JSONDecodeError as exc:
            if final:
                raise Truncated(f"invalid or incomplete JSON at character {exc.pos}: "
                                f"{exc.msg}") from exc
            # Incomplete: wait until the buffer has doubled past this point.
            self._retry_at = self._pos + 2 * (len(self._buf) - self._pos)
            return False, None
        if not final and end >= len(self._buf) and isinstance(value, (int, float)):
            return False, None  # a number may go on in the next chunk
        self._pos = end
        return True, value

    def _expect(self, chars: str) -> str | None:
        if not self._skip():
            return None
        ch = self._buf[self._pos]
        if ch not in chars:
            raise Truncated(f"expected one of {chars!r} at character {self._pos}, got {ch!r}")
        self._pos += 1
        return ch

    def _advance(self, final: bool = False) -> None:
        while self._state != "done":
            state = self._state
            if state == "open":
                if self._expect("{") is None:
                    break
                self._state = "key"
            elif state == "key":
                if not self._skip():
                    break
                if self._buf[self._pos] == "}":
                    self._pos += 1
                    self._state = "done"
                    break
                start = self._pos
                ok, key = self._value(final)
                if not ok:
                    break
                if not isinstance(key, str) or self._expect(":") is None:
                    self._pos = start  # the colon has not arrived yet
                    break
                self._pending_key = key
                if key == self.key:
                    if self._expect("[") is None:
                        self._pos = start
                        break
                    self._state = "items"
                else:
                    self._state = "value"
            elif state == "value":
                if not self._skip():
                    break
                ok, value = self._value(final)
                if not ok:
                    break
                self.other[self._pending_key] = value
                self._state = "after"
            elif state in ("items", "item"):
                # "items": just after "[" (an item or "]"); "item": after a ",".
                if not self._skip():
                    break
                if state == "items" and self._buf[self._pos] == "]":
                    self._pos += 1
                    self._state = "after"
                    continue
                ok, value = self._value(final)
                if not ok:
                    break
                self.results.append(value)
                self._state = "next"
            elif state == "next":
                sep = self._expect(",]")
                if sep is None:
                    break
                self._state = "item" if sep == "," else "after"
            elif state == "after":
                sep = self._expect(",}")
                if sep is None:
                    break
                self._state = "key" if sep == "," else "done"
        # Drop what is parsed: the buffer holds at most one unfinished item.
        if self._pos > 65536:
            self._buf = self._buf[self._pos:]
            self._retry_at = max(0, self._retry_at - self._pos)
            self._pos = 0
