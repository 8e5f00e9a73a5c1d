"""The legal-transition check of an incoming event, with engineer E's case rules.

The hub gives the case's events it holds (plus those accepted earlier in the same
batch) and the new event to :func:`schemas.fold.check_received` (engineer E's receipt
rule). Per design.md §3 an event made concurrently with others (its ``base_hlc``
older than the case's latest event) is *not* refused: E's rules flag the case
``needs_review`` and keep both; only a sequence that is illegal from the writer's
own point of view is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from schemas.eligibility import CATALOG_CHECKED, check_catalog, item_code
from schemas.errors import SchemaError
from schemas.fold import check_received

if TYPE_CHECKING:
    from hub.storage import HubStores
    from hub.validate import Batch
    from schemas.workdays import Workdays


#: Marks a refusal for a missing dependency (base event, keyring wrap) that another
#: batch of the same replication may still be writing (D's replicator pipelines two).
RETRY = "_retry"


def case_events(stores: HubStores, case_id: str) -> list[dict[str, Any]]:
    """Every event of a case stored at the hub (``event:{case id}:`` key range)."""
    return prefetch_case_events(stores, [case_id])[case_id]


def prefetch_case_events(stores: HubStores, case_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every event of each case, for a whole batch in one ``_all_docs/queries`` request on
    CouchDB (it was one range read per case: 10 of a 100-document batch's ~16 requests);
    the embedded store answers the same queries one by one, each in microseconds."""
    queries = [{"startkey": f"event:{c}:", "endkey": f"event:{c}:\ufff0", "include_docs": True,
                "offset": False} for c in case_ids]
    results = stores.main.all_docs_queries(queries) if queries else []
    return {c: [r["doc"] for r in res["rows"] if r.get("doc")]
            for c, res in zip(case_ids, results, strict=True)}


class TransitionCheck:
    """``check(case_id, event, batch_docs)`` → None, or a ``forbidden`` refusal."""

    def __init__(self, stores: HubStores):
        self.stores = stores
        self._calendars: dict[str, dict[str, Any]] | None = None
        self._workdays: Workdays | None = None

    @property
    def workdays(self) -> Workdays:
        """One working-day calendar for every check (check_received would build one per
        event, and its per-year tables again each time), over the hub's ``calendar``
        documents as the stations count (node.state.workdays), built again when they are
        read again. It was chinesecalendar's alone: from 2027 on, a form D whose
        resumption deadline a station counted over the Spring Festival (10.2.5.2) was
        refused as beyond the item's period, and every later step of the case with it."""
        from schemas.workdays import Workdays

        docs = self.stores.calendars()
        if self._workdays is None or docs is not self._calendars:
            self._calendars, self._workdays = docs, Workdays(docs.values())
        return self._workdays

    def prefetch(self, batch: Batch, case_ids: list[str]) -> None:
        """Read the stored events of the batch's cases at once (those not read yet)."""
        wanted = sorted({c for c in case_ids if c not in batch.stored_events})
        batch.stored_events.update(prefetch_case_events(self.stores, wanted))

    def check(self, case_id: str, event: Mapping[str, Any], batch: Batch) -> dict[str, str] | None:
        stored = batch.stored_events.get(case_id)
        if stored is None:
            stored = batch.stored_events[case_id] = case_events(self.stores, case_id)
        seen = {e["_id"] for e in stored}
        events = stored + [d for d in batch.events(case_id) if d["_id"] not in seen]
        try:
            check_received(events, event, workdays=self.workdays, cache=batch.fold_cache)
        except SchemaError as exc:
            # Earlier events of the case may be in a batch still in flight (the base event,
            # or the events before it): the validator re-checks before refusing for good.
            return {"error": "forbidden", "reason": f"transition: {exc.reason}", RETRY: "1"}
        refusal = paper_refusal(event, events)
        if refusal is not None:
            return refusal
        if event.get("event_type") in CATALOG_CHECKED:
            return self._check_catalog(case_id, event, batch, events)
        return None

    def _check_catalog(self, case_id: str, event: Mapping[str, Any], batch: Batch,
                       events: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
        """What the 清单 allows (schemas.eligibility, 6.2.4): the item listed for assisted or
        proxy handling, a promised time limit within the statutory one (10.1.3)."""
        from hub.validate import stored_doc  # lazy: hub.validate imports this module

        code = item_code(event, None, events)  # the event's, or the application's
        if code is None:  # else what the consultation asked about (the header's)
            header = batch.docs.get(f"case:{case_id}") or stored_doc(self.stores,
                                                                     f"case:{case_id}")
            code = item_code(event, header, events)
        if code is None:
            return None  # no header, no item: the schema and scope checks judge the case
        item = self.stores.service_items().get(code)
        try:
            # the tier of an acceptance is the station's to judge (schemas.eligibility
            # ._tier_listed: an older laptop's would strand its case here)
            check_catalog(event, item, self.workdays, tiers=False)
            return None
        except SchemaError as exc:
            refusal = {"error": "forbidden", "reason": f"transition: {exc.reason}"}
        # refused by today's list: judged again by the one the device held (a refusal
        # costs this one read of its checkpoints; a laptop back from two weeks offline)
        held_from = pulled_after(self.stores, batch.device, (item or {}).get("written"))
        try:
            check_catalog(event, item, self.workdays, tiers=False, held_from=held_from)
        except SchemaError:
            return refusal
        return None


def paper_refusal(event: Mapping[str, Any],
                  events: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    """A step entered later from paper (补录, :func:`schemas.paper.entered_later`) judged as
    the node judges it (:func:`schemas.paper.typed_refusal`, the same function): against
    the case's steps before it and the Beijing day it was typed (its hlc), not the hub's
    today. The node refuses the rest, but the hub stands for every station: a laptop with
    an older or altered app could back-date a suspension to stop a clock that had run out
    (10.2.5), or a completion to make a late case on time (5 a, 11.1 b). Refused for good
    once its writer's base is here: the rule reads only the case's earlier steps its
    writer had seen and the step itself."""
    from schemas.fold import order_key
    from schemas.paper import entered_later, typed_refusal

    if not entered_later(event):
        return None
    key = order_key(event)
    before = [e for e in events if e.get("_id") != event.get("_id") and order_key(e) < key]
    base = event.get("base_hlc")
    known = bool(base) and any(e.get("hlc") == base for e in before)
    if known:
        # Judged, as check_received judges a step, by what its writer had seen (its
        # base_hlc, design.md §3): another laptop's live step it had not pulled makes it
        # concurrent, taken as any concurrent step and not applied: the fold keeps it for
        # review, the case marked 需复核 (schemas.paper_fold), and the 补录 audit lists it.
        # Its own device's steps it has always seen, whatever base it names.
        device = event.get("device")
        before = [e for e in before if str(e.get("hlc", "")) <= str(base) or e.get("device") == device]
    why = typed_refusal(event, before)
    if why is None:
        return None
    zh, _, en = why.partition(" / ")  # one bilingual pair, as the node shows one half
    refusal = {"error": "forbidden", "reason": f"at: 补录：{zh} / entered from paper: {en}"}
    if base and not known:
        # its base (and what its writer had seen) may be in the device's other batch still
        # in flight (an older app's replicator writes them out of order): judged again then
        refusal[RETRY] = "1"
    return refusal


def pulled_after(stores: HubStores, device: str, written: Any) -> float | None:
    """When (epoch ms) ``device`` first held a reference document the hub wrote at
    ``written`` (an HLC, schemas.written): the end of its first pull session started after
    it (the history of its pull checkpoints, CouchDB's replication protocol "Record
    Replication Checkpoint"), or the making of the first bundle file for it after it
    (:func:`_files_after`), ``math.inf`` if none has; ``None`` unknown (no device or
    clock). The session times are the laptop's clock, as its events' ``at`` are."""
    from email.utils import parsedate_to_datetime

    from hub.replication.seqs import SEP
    from schemas.hlc import is_hlc, unpack

    if not device or not is_hlc(written):
        return None
    after, ends = unpack(str(written)).wall_ms, []
    rows = stores.private.all_docs(startkey=f"local:{device}:", endkey=f"local:{device}:\ufff0",
                                   include_docs=True, offset=False)["rows"]
    for row in rows:
        body = (row.get("doc") or {}).get("body") or {}
        seq = body.get("source_last_seq", body.get("last_seq"))
        if not (isinstance(seq, str) and SEP in seq):  # a push: the device's own seqs
            continue
        for entry in body.get("history") or []:
            try:
                start = parsedate_to_datetime(str(entry["start_time"])).timestamp() * 1000
                end = parsedate_to_datetime(str(entry["end_time"])).timestamp() * 1000
            except (KeyError, TypeError, ValueError):
                continue
            if start >= after:  # whole seconds (RFC 1123 dates): to the end of that second
                ends.append(end + 999)
    return min([*ends, *_files_after(stores, device, after)], default=math.inf)


def _files_after(stores: HubStores, device: str, after: int) -> list[float]:
    """When (epoch ms, the hub's clock) the hub made each bundle file for ``device`` after
    ``after`` (``hub bundle export``: a village with no link takes the list by stick; the
    hub cannot know when the stick arrived, so from the file's making). The hub's own log,
    not the checkpoint that making the file leaves among the device's ``_local`` documents:
    each ``--since-last`` file leaves one of its own (its ids are part of the replication
    id), a device keeps at most ``LOCAL_MAX_DOCS``, and after a hundred files none was
    recorded, so the station was judged by no later change of the list at all."""
    import datetime as dt

    from hub.bundles import EXPORTS_PREFIX
    from sync.errors import NotFound

    try:
        log = stores.private.get(EXPORTS_PREFIX + device)
    except NotFound:
        return []
    out = []
    for entry in log.get("exports") or []:
        try:
            made = dt.datetime.fromisoformat(str(entry["created_at"])).timestamp() * 1000
        except (KeyError, TypeError, ValueError):
            continue
        if made >= after:
            out.append(made)
    return out
