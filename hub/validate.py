"""Every write a device sends is checked here, one document at a time.

Checks, in order (each refusal is CouchDB's per-document ``forbidden`` with a
reason naming the rule, so one bad document never blocks the batch):

1. shape: an ``_id`` that is a string, not ``_design/`` or ``_local/``; not a deletion
   (devices never delete: the hub writes conflict resolutions, design.md §3);
2. size: at most ``max_document_bytes`` of JSON, attachments included;
3. reference data (catalog, calendar, directory) is read-only for devices, and so are the
   hub's coordination boards (``board:``, schemas/boards.py);
4. schema of the sealed form (:func:`schemas.registry.validate_sealed`): no ``private``,
   cleartext valid, unknown types refused;
5. signature by this very device (:mod:`hub.signatures`, engineer F's verifier);
6. scope: the case belongs to, or was handed to, the device's institution (design.md §5);
7. events and chunks are immutable: a second revision of either is refused; a keyring's
   next revision keeps every wrap to a key still active (hub.signatures.check_kept), a
   case header's every version its stored ancestor knew (hub.header_kept);
8. a chunk's bytes hash to the sha256 its ``_id`` names (content-addressed chunks of large
   scans, design.md §4; :mod:`sync.chunks`), checked right after the schema (step 4);
9. a legal transition given the case's events at the hub (:mod:`hub.transitions`);
10. a coordination notice (``notice:``, schemas/notices.py) comes from the device's own
    institution, goes to a station below it, and is never changed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from hub import scope as scopes
from hub.replication.feeds import Tally
from hub.transitions import RETRY
from schemas.errors import SchemaError
from schemas.fold import FoldCache
from schemas.reference import closed
from schemas.registry import validate_sealed
from sync.chunks import attachment_bytes, sha256_hex, sha_of_id
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.auth import Device
    from hub.index import ScopeIndexer
    from hub.storage import HubStores

Refusal = dict[str, str]
#: Types whose documents never change once stored (a chunk's id names its bytes).
IMMUTABLE_TYPES = frozenset({"event", "chunk"})


def forbidden(reason: str) -> Refusal:
    return {"error": "forbidden", "reason": reason}


class Batch:
    """What one ``_bulk_docs`` call already accepted (later documents see earlier ones),
    and what it read from the store (each case's events are read once per batch)."""

    def __init__(self, device: str = "") -> None:
        self.device = device  # whose batch (hub.transitions: which list it could hold)
        self.docs: dict[str, Mapping[str, Any]] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self.stored_events: dict[str, list[dict[str, Any]]] = {}
        # The transition check's folds of each case so far: the next event of a case folds
        # only what this batch accepted since, not the whole case again (hub.transitions).
        self.fold_cache = FoldCache()

    def add(self, doc: Mapping[str, Any]) -> None:
        self.docs[str(doc["_id"])] = doc
        case_id = scopes.case_id_of(str(doc["_id"]), doc)
        if case_id and doc.get("type") == "event":
            self._events.setdefault(case_id, []).append(dict(doc))

    def events(self, case_id: str) -> list[dict[str, Any]]:
        """Copies of the case's events accepted so far, made once: the transition check's
        fold cache then finds its last events by identity instead of comparing contents
        (hub.transitions; a fresh copy per check made every check compare all of them)."""
        return self._events.get(case_id, [])


class WriteValidator:
    """Runs the checks above for one device's batch."""

    def __init__(self, stores: HubStores, indexer: ScopeIndexer, *,
                 max_document_bytes: int = 1_048_576, signatures: Any = None,
                 transitions: Any = None, dependency_wait: float = 20.0,
                 peer_wait: float = 0.0):
        self.stores = stores
        self.indexer = indexer
        self.max_document_bytes = max_document_bytes
        self.signatures = signatures
        self.transitions = transitions
        self.dependency_wait = dependency_wait
        #: Other gateway processes may be writing this device's other batch, unseen by
        #: :meth:`in_flight`: a refusal for a missing dependency is checked again this long
        #: (0: this process is the only gateway). hub.core sets it.
        self.peer_wait = peer_wait
        self.refused = 0
        self._in_flight = Tally()
        self._finished: dict[str, int] = {}
        self._flight_lock = threading.Lock()

    # -- requests of one device being handled at once ---------------------------------
    def enter(self, device_id: str) -> None:
        self._in_flight.take(device_id)

    def leave(self, device_id: str) -> None:
        # finished first: a batch that reads in_flight after this sees one or the other
        with self._flight_lock:
            self._finished[device_id] = self._finished.get(device_id, 0) + 1
        self._in_flight.give(device_id)

    def in_flight(self, device_id: str) -> int:
        return self._in_flight.held(device_id)

    def finished(self, device_id: str) -> int:
        """How many of the device's requests have finished so far: a batch whose check
        overlapped another one's end must check again before refusing for good."""
        with self._flight_lock:
            return self._finished.get(device_id, 0)

    def check_batch(self, device: Device, docs: Sequence[Mapping[str, Any]], *,
                    new_edits: bool, stored: set[str] | None = None) -> list[Refusal | None]:
        """A refusal or ``None`` per document; ``stored`` gets the ids the hub already had
        (the receipts of :mod:`hub.receipts` leave replays out)."""
        batch = Batch(device.device_id)
        existing = self._existing(docs)
        if stored is not None:
            stored.update(existing)
        self.indexer.prefetch_routes(
            c for d in docs if isinstance(d, Mapping) and isinstance(d.get("_id"), str)
            and (c := scopes.case_id_of(d["_id"], d)) is not None)
        if self.transitions is not None:
            # The stored events of every case with a new event here, in one request.
            self.transitions.prefetch(batch, [
                c for d in docs if isinstance(d, Mapping) and d.get("type") == "event"
                and isinstance(d.get("_id"), str) and d["_id"] not in existing
                and (c := scopes.case_id_of(d["_id"], d)) is not None])
        # Case headers first, then events in clock order: an event may follow its case
        # header or an earlier event in the same batch (the replicator sends feed order).
        order = sorted(range(len(docs)), key=lambda i: _order_key(docs[i]))
        results: dict[int, Refusal | None] = {}
        for i in order:
            doc = docs[i]
            try:
                refusal = self.check(device, doc, existing, batch, new_edits=new_edits)
            except SchemaError as exc:
                refusal = forbidden(exc.reason)
            if refusal is None and isinstance(doc, Mapping):
                batch.add(doc)
            results[i] = refusal
        return [results[i] for i in range(len(docs))]

    def final(self, refusal: Refusal) -> Refusal:
        """The refusal as sent: without the internal retry mark, and counted."""
        self.refused += 1
        return {k: v for k, v in refusal.items() if k != RETRY}

    def _existing(self, docs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """``{docid: winning rev}`` of the batch's ids already stored at the hub."""
        ids = [d["_id"] for d in docs if isinstance(d, Mapping) and isinstance(d.get("_id"), str)
               and not d["_id"].startswith(("_local/", "_design/"))]
        if not ids:
            return {}
        rows = self.stores.main.all_docs(keys=ids)["rows"]
        return {r["key"]: r["value"]["rev"] for r in rows if "error" not in r}

    def check(self, device: Device, doc: Mapping[str, Any], existing: Mapping[str, str],
              batch: Batch, *, new_edits: bool) -> Refusal | None:
        if not isinstance(doc, Mapping):
            return forbidden("a document must be a JSON object / 记录须为 JSON 对象")
        docid = doc.get("_id")
        if not isinstance(docid, str) or not docid:
            return forbidden("_id: every document needs a string _id (ids are made by devices, "
                             "schemas/ids.py) / 每条记录须有字符串 _id")
        if docid.startswith(("_design/", "_local/")) or docid.startswith("_"):
            return forbidden(f"_id: {docid!r} is reserved; devices write only case documents / "
                             f"_id {docid!r} 为保留标识，设备只能写入办件记录")
        if doc.get("_deleted"):
            return forbidden("_deleted: devices never delete documents (design.md §3: the hub "
                             "writes conflict resolutions) / 设备不能删除记录，两处修改不一致时由平台统一处理")
        try:  # orjson: the same compact UTF-8 JSON, several times faster on every doc
            size = len(orjson.dumps(doc))
        except TypeError:  # e.g. an integer beyond 64 bits, which orjson refuses
            size = len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
        if size > self.max_document_bytes:
            return forbidden(f"document too large: {size} bytes > {self.max_document_bytes} / "
                             f"记录过大：{size} 字节，上限 {self.max_document_bytes} 字节")
        if scopes.is_reference(docid, doc):
            return forbidden("reference data (catalog, calendar, directory) is read-only for "
                             "devices; the hub distributes it / 事项清单、日历、机构目录等基础数据"
                             "由平台统一下发，设备不能修改")
        if scopes.is_board(docid, doc):
            return forbidden("coordination boards are written by the hub only (design.md §5: "
                             "built from the cases' cleartext at the hub) / 协调看板只由平台生成")
        refusal = self._check_schema(doc) or _check_chunk(doc)
        if refusal:
            return refusal
        if self.signatures is not None:
            refusal = self.signatures.check(device, doc, stored=docid in existing)
            if refusal:
                return refusal
        if scopes.is_notice(docid, doc):
            return self._check_notice(device, doc, docid in existing)
        case_id = scopes.case_id_of(docid, doc)
        if case_id is None:
            return forbidden(f"_id: {docid!r} belongs to no case / 记录 {docid!r} 不属于任何办件")
        allowed = self.indexer.case_scopes(case_id)
        if device.institution not in allowed:
            # Routes are cached per gateway; a hand-over another gateway indexed a moment
            # ago is not in this one's cache yet: read the route again before refusing.
            self.indexer.forget_route(case_id)
            allowed = self.indexer.case_scopes(case_id)
        if device.institution not in allowed:
            return forbidden(f"scope: case {case_id} is not held by institution "
                             f"{device.institution} (design.md §5) / 本机构（{device.institution}）"
                             f"未承办、也未收到移交的办件 {case_id}，不能写入；如需办理，请由承办机构"
                             "上报或下派给本机构")
        if doc.get("type") in IMMUTABLE_TYPES and docid in existing:
            rev = doc.get("_rev")
            if new_edits or rev != existing[docid]:
                return forbidden(f"{doc.get('type')}s are immutable (design.md §3, §4): "
                                 f"{docid} is already stored / 已保存的记录不能修改：{docid}；"
                                 "如需更正，请另行登记一条记录")
        if doc.get("type") == "keyring" and docid in existing and self.signatures is not None:
            refusal = self.signatures.check_kept(doc, new_edits=new_edits)
            if refusal:
                return refusal
        if doc.get("type") == "case" and docid in existing:
            from hub.header_kept import check_header_kept

            refusal = check_header_kept(self.stores, doc, new_edits=new_edits)
            if refusal:
                return refusal
        if self.transitions is not None and doc.get("type") == "event" and docid not in existing:
            refusal = self.transitions.check(case_id, doc, batch)
            if refusal:
                return refusal
        target = scopes.hand_target(doc)
        if target and docid not in existing:
            if closed(self.stores.institutions().get(target) or {}):
                # hub.closing: no laptop left there to open it, the case would be stranded
                return forbidden(f"to_institution: {target} is closed (撤并, merged or its "
                                 f"code changed) / 接收机构 {target} 已撤并，不能移交给它")
            return self._check_wrap(case_id, target, batch)
        return None

    def _check_notice(self, device: Device, doc: Mapping[str, Any], stored: bool
                      ) -> Refusal | None:
        """A coordination notice (schemas/notices.py, 4.2): from the device's own
        institution, to a station below it in the directory, never changed once stored."""
        if stored:
            return forbidden(f"notices are immutable: {doc['_id']} is already stored / "
                             f"协调通知发出后不能修改：{doc['_id']}")
        if doc.get("institution") != device.institution:
            return forbidden(f"institution: a notice is written by the device's own "
                             f"institution {device.institution} / 协调通知只能以本机构"
                             f"（{device.institution}）名义发出")
        to = str(doc.get("to_institution"))
        if device.institution not in scopes.ancestors(to, self.stores.institutions()):
            return forbidden(f"to_institution: {to} is not below {device.institution} "
                             f"(a notice goes down the hierarchy, 4.3) / {to} 不是本机构"
                             f"（{device.institution}）的下级，协调通知只能发给下级机构")
        # the case must be one the station sees (its own or handed to it): a notice naming
        # another station's case told that station the case's number and why it was late,
        # a case it was never handed (design.md §5)
        case_id = str(doc.get("case_id"))
        if to not in self.indexer.case_scopes(case_id):
            self.indexer.forget_route(case_id)  # handed a moment ago at another gateway?
            if to not in self.indexer.case_scopes(case_id):
                return forbidden(f"case_id: {case_id} is not a case of {to} (design.md §5) / "
                                 f"办件 {case_id} 不是 {to} 的办件，协调通知只能发给办理该办件的机构")
        return None

    def _check_wrap(self, case_id: str, target: str, batch: Batch) -> Refusal | None:
        """Hand-up/hand-down: the sending node must have wrapped the case key for the
        receiving institution (design.md §5); the hub cannot, it only checks."""
        from hub.signatures import keyring_has_wrap

        ring = batch.docs.get(f"keyring:{case_id}") or stored_doc(self.stores,
                                                                  f"keyring:{case_id}")
        if ring is None or not keyring_has_wrap(ring, target):
            return {**forbidden(f"hand-over: the keyring of case {case_id} has no wrap for "
                                f"{target}; add the recipient to the keyring before handing "
                                f"over (design.md §5) / 移交未完成：办件 {case_id} 的密钥尚未授权给"
                                f"接收机构 {target}；请确认接收机构已登记密钥（可询问平台管理员），同步后重新移交"), RETRY: "1"}
        return None

    def _check_schema(self, doc: Mapping[str, Any]) -> Refusal | None:
        # Keyrings too: their wraps are checked by sync.crypto (hub.signatures), but only
        # the schema ties ``type`` to the ``_id`` (``keyring:{case_id}``). Without it, a
        # "keyring" with an event's or a case header's ``_id`` skipped the signature of the
        # pusher, the immutability of events and the transition check, and replaced a
        # stored, signed event with anything (design.md §3, §5).
        try:
            validate_sealed(doc)
        except SchemaError as exc:
            return forbidden(f"schema: {exc.reason}")
        return None


def _check_chunk(doc: Mapping[str, Any]) -> Refusal | None:
    """A chunk's one attachment must hash to the sha256 in its ``_id``: cheap (one hash of
    at most 256 kB), and it keeps the store content-addressed, so a chunk fetched anywhere
    can be checked without the case key (design.md §4)."""
    if doc.get("type") != "chunk":
        return None
    data = attachment_bytes(doc)
    if data is None:
        return forbidden("chunk: the attachment 'data' must be inline base64 (design.md §4)")
    if sha256_hex(data) != sha_of_id(str(doc["_id"])) or len(data) != doc.get("length"):
        return forbidden("chunk: the attachment's bytes do not hash to the sha256 in its _id "
                         "(content-addressed chunks, design.md §4)")
    return None


def _order_key(doc: Any) -> tuple[int, str]:
    if not isinstance(doc, Mapping):
        return (3, "")
    kind = {"case": 0, "keyring": 1}.get(str(doc.get("type")), 2)
    return (kind, str(doc.get("hlc") or doc.get("_id") or ""))


def stored_doc(stores: HubStores, docid: str) -> Mapping[str, Any] | None:
    try:
        return stores.main.get(docid)
    except NotFound:
        return None
