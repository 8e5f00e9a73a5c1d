"""The working days the oversight folds with, kept current across the hub's processes.

``hub serve`` folds the oversight facts in its workers' process and in every gateway (a
page read folds what arrived, :meth:`hub.oversight.Oversight.catch_up`), over one fact
store and one feed checkpoint (``HUB_DIR/oversight.sqlite``). Only the process whose
catch-up reads a ``calendar:`` row in the feed saw the calendar change: the other kept the
working days it had built for good and folded with them the cases the change marked (and
every case that changed later), so the Spring Festival the operator set (design.md §6)
left the due dates, the on-time rates (5 a) and the "not published" banner as they were,
or not, by which process read the row first. So each fold batch first compares the
revisions of the calendar documents (one ``_all_docs`` over their few ids, no bodies)
with those its working days were built from.

Public API: :class:`CalendarCache`.
"""

from __future__ import annotations

from typing import Any

from schemas.workdays import Workdays
from sync.store import DocumentStore

FIRST, LAST = "calendar:", "calendar:\ufff0"


def _revs(rows: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(r["id"]), str(r["value"]["rev"])) for r in rows
                 if isinstance(r.get("value"), dict) and not r["value"].get("deleted"))


class CalendarCache:
    """The :class:`Workdays` of a store's ``calendar`` documents, built once per change."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._workdays: Workdays | None = None
        self._revs: tuple[tuple[str, str], ...] = ()

    def workdays(self) -> Workdays:
        if self._workdays is None:
            res = self.store.all_docs(startkey=FIRST, endkey=LAST, include_docs=True,
                                      offset=False)
            rows = [r for r in res["rows"] if r.get("doc")]
            self._workdays = Workdays([r["doc"] for r in rows])
            self._revs = _revs(rows)
        return self._workdays

    def drop(self) -> None:
        """Build them again at the next use (a ``calendar:`` row seen in the feed)."""
        self._workdays = None

    def check(self) -> None:
        """Drop them when a calendar document changed since they were built, whichever
        process read its row in the feed."""
        if self._workdays is not None and \
                _revs(self.store.all_docs(startkey=FIRST, endkey=LAST, offset=False)["rows"]) != self._revs:
            self._workdays = None


__all__ = ["CalendarCache"]
