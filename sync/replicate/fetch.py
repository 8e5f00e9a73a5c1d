"""Calculate Revision Difference and Fetch Changed Documents.

CouchDB docs, "Replication Protocol": ``POST /target/_revs_diff`` names the
revisions the target lacks (and ``possible_ancestors`` it has); those are
fetched from the source with their revision history (``revs=true``) and
attachment bodies, except attachments already on the target: ``atts_since``
with the possible ancestors makes the source send stubs for those (the model is
``pouchdb-replication``'s ``getDocs``). ``_bulk_get`` fetches a whole batch in
one request; a source without it (404/405/400, e.g. CouchDB 1.x) is read with
one ``open_revs`` GET per document instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sync.errors import BadRequest, MethodNotAllowed, NotFound, TransportError
from sync.store import JSON, DocumentStore

from .write import json_size

#: Errors meaning "this source has no ``_bulk_get``" (CouchDB < 2.0 answers 404
#: or 405; some proxies 400).
NO_BULK_GET = (NotFound, MethodNotAllowed, BadRequest)


@dataclass
class Missing:
    """The revs one document lacks on the target."""

    id: str
    missing: list[str]
    possible_ancestors: list[str] = field(default_factory=list)


def revs_diff(target: DocumentStore, revs: Mapping[str, Sequence[str]]) -> list[Missing]:
    """The revisions of ``revs`` the target does not have."""
    if not revs:
        return []
    answer = target.revs_diff({doc_id: list(r) for doc_id, r in revs.items()})
    out = []
    for doc_id, entry in answer.items():
        missing = list(entry.get("missing", ()))
        if missing:
            out.append(Missing(doc_id, missing, list(entry.get("possible_ancestors", ()))))
    return out


@dataclass
class Fetched:
    docs: list[JSON]
    nbytes: int
    #: Revs the source could not give (deleted meanwhile by compaction, or
    #: replaced: ``latest=true`` then sends the newer leaf instead).
    errors: list[JSON] = field(default_factory=list)
    #: Set when the answer broke part way: ``docs`` are the results that arrived
    #: whole, ``unanswered`` the revs still to fetch, ``broken`` the error.
    broken: TransportError | None = None
    unanswered: list[Missing] = field(default_factory=list)


def _bulk_get(source: DocumentStore, wanted: Sequence[Missing]) -> Fetched:
    requests: list[JSON] = []
    for item in wanted:
        for rev in item.missing:
            req: JSON = {"id": item.id, "rev": rev}
            if item.possible_ancestors:
                req["atts_since"] = item.possible_ancestors
            requests.append(req)
    try:
        body = source.bulk_get(requests, revs=True, attachments=True, latest=True)
    except TransportError as exc:
        if not exc.partial:
            raise
        # The link broke mid-answer: keep what arrived whole, say what is left.
        fetched = _results(exc.partial)
        fetched.broken = exc
        fetched.unanswered = _unanswered(wanted, len(exc.partial))
        return fetched
    return _results(body.get("results", ()))


def _results(results: Sequence[JSON]) -> Fetched:
    docs: list[JSON] = []
    errors: list[JSON] = []
    for result in results:
        for entry in result.get("docs", ()):
            if "ok" in entry:
                docs.append(entry["ok"])
            elif "error" in entry:
                errors.append(entry["error"])
    return Fetched(docs, json_size(list(results)), errors)


def _unanswered(wanted: Sequence[Missing], answered: int) -> list[Missing]:
    """The revs after the first ``answered`` requests (one request per rev, in
    order: ``_bulk_get`` answers one result per request, in request order)."""
    out: list[Missing] = []
    for item in wanted:
        if answered >= len(item.missing):
            answered -= len(item.missing)
            continue
        out.append(Missing(item.id, item.missing[answered:], item.possible_ancestors))
        answered = 0
    return out


def _open_revs(source: DocumentStore, wanted: Sequence[Missing]) -> Fetched:
    docs: list[JSON] = []
    errors: list[JSON] = []
    nbytes = 0
    for item in wanted:
        answer = source.open_revs(item.id, item.missing, attachments=True,
                                  atts_since=item.possible_ancestors or None, latest=True)
        nbytes += json_size(answer)
        for entry in answer:
            if "ok" in entry:
                docs.append(entry["ok"])
            elif "missing" in entry:
                errors.append({"id": item.id, "rev": entry["missing"], "error": "not_found",
                               "reason": "missing"})
    return Fetched(docs, nbytes, errors)


@dataclass
class DocFetcher:
    """Fetches missing revisions, remembering whether the source has ``_bulk_get``."""

    source: DocumentStore
    use_bulk_get: bool = True

    def fetch(self, wanted: Sequence[Missing]) -> Fetched:
        if not wanted:
            return Fetched([], 0)
        if self.use_bulk_get:
            try:
                return _bulk_get(self.source, wanted)
            except NO_BULK_GET:
                self.use_bulk_get = False
        return _open_revs(self.source, wanted)


def dedupe_docs(docs: Sequence[JSON]) -> list[JSON]:
    """``latest=true`` may return one leaf for two requested revs: write it once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for doc in docs:
        key = (doc.get("_id", ""), doc.get("_rev", ""))
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return out
