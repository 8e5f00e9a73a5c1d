"""Casework on the node: every write is an immutable, checked, sealed, signed event.

The order for each step (design §2, §5; CONVENTIONS "Documents"):

1. build the open event (cleartext + ``private``) from the step's input;
2. validate it with the schemas (field-level errors, Chinese and English);
3. fold the case's stored events and check the transition (``schemas.fold``), so an
   illegal step is refused before anything is written;
4. seal ``private`` (and attachments) with the case key, sign with the device key; a large
   sealed scan becomes signed content-addressed chunk documents named by the event's
   cleartext ``chunked`` manifest (design.md §4, :mod:`sync.chunks`);
5. store (the event before its chunks: documents before attachments); update the
   node-local index.

Reading personal data goes through :mod:`node.reading` (access events).
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from node.drafts import RULE_FIELDS, refusal, schema_fields, status_words, validate_draft
from node.errors import NodeError, NotFound, TransitionRefused
from node.paper import check_typed

if TYPE_CHECKING:
    from node.core import Node

_clock_lock = threading.Lock()
_last_clock: dict[str, Any] = {}

SIGNATURE_ATTACHMENT = "signature.png"


class FirstStep(NamedTuple):
    """An event written with its new case (:meth:`Casework.open_case`); ``optional``: left
    out when the rules refuse it then (a notification allowed only later)."""

    event_type: str
    clear: Mapping[str, Any]
    private: Mapping[str, Any] | None = None
    optional: bool = False


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def today() -> dt.date:
    """Beijing's date (the case number's year), whatever the laptop's time zone."""
    from schemas.state import local_today

    return local_today()


def next_clock(device_id: str, after: str | None = None) -> Any:
    """A fresh hybrid logical clock for this device (monotonic per process), later than
    ``after`` when given: the last clock of the case it writes to (its newest event, its
    header's field clock). That is the HLC's receive rule (design.md §6): a laptop whose
    clock was reset (a dead CMOS battery: 2001-01-01) or restarted after its clock was set
    back still writes each step after the steps it saw, so the fold keeps the order the
    steps were made in, and the schemas' ``base_hlc`` before ``hlc`` holds (a clerk could
    record nothing on a case opened before the clock went wrong). The stated time ``at``
    stays the laptop's own (node.clockcheck: the hub judges it)."""
    with _clock_lock:
        h = _last_clock[device_id] = _clock_now(device_id, after)
        return h


def peek_clock(device_id: str, after: str | None = None) -> Any:
    """The clock :func:`next_clock` would give now, not taken: the day a step will be
    typed on as its hlc says (schemas.paper.typed_refusal judges a paper date by it)."""
    with _clock_lock:
        return _clock_now(device_id, after)


def _clock_now(device_id: str, after: str | None) -> Any:
    from schemas.hlc import receive, tick, unpack

    now, last = int(time.time() * 1000), _last_clock.get(device_id)
    return receive(now, last, unpack(after), device_id) if after else tick(now, last, device_id)


def next_hlc(device_id: str, after: str | None = None) -> str:
    """:func:`next_clock` as its sortable string."""
    from schemas.hlc import pack

    return pack(next_clock(device_id, after))


def observe_hlc(device_id: str, remote: str) -> None:
    """Keep our clock ahead of every event we have seen (hub and other devices)."""
    from schemas.hlc import receive, unpack

    with _clock_lock:
        try:
            _last_clock[device_id] = receive(int(time.time() * 1000), _last_clock.get(device_id),
                                             unpack(remote), device_id)
        except Exception:  # a malformed or far-future clock from elsewhere is not ours to fix
            pass


class Casework:
    """The write side, bound to one unlocked :class:`node.core.Node`."""

    def __init__(self, node: Node):
        self.node = node

    # -- helpers -----------------------------------------------------------------
    @property
    def store(self) -> Any:
        return self.node.store

    def _base(self, case_id: str, event_type: str, staff: str | None,
              after: str | None = None, at: str | None = None) -> dict[str, Any]:
        from schemas.hlc import unpack
        from schemas.ids import event_doc_id
        from schemas.paper import live_at
        from schemas.registry import writing_version

        hlc = next_hlc(self.node.device_id, after)
        # a live step never states the paper's noon of an earlier day (schemas.paper.live_at)
        at = at or live_at(dt.datetime.fromisoformat(now_iso()), unpack(hlc).wall_ms)
        # the newest version of the type only (older ones are accepted as received)
        return {"_id": event_doc_id(case_id, hlc), "type": "event",
                "schema_version": writing_version("event", event_type),
                "event_type": event_type, "case_id": case_id, "hlc": hlc, "at": at,
                "device": self.node.device_id, "institution": self.node.institution,
                "staff": staff or self.node.acting_staff()}

    def events(self, case_id: str) -> list[dict[str, Any]]:
        """The case's stored events, in clock order (sealed form)."""
        res = self.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\uffff",
                                  include_docs=True, offset=False)
        return [r["doc"] for r in res["rows"] if r.get("doc")]

    def header(self, case_id: str) -> dict[str, Any]:
        from sync.errors import NotFound as StoreNotFound

        try:
            doc: dict[str, Any] = self.store.get(f"case:{case_id}")
        except StoreNotFound as exc:
            raise NotFound(f"没有此办件（编号有误或尚未同步）：{case_id} / no case {case_id} "
                           "here (a wrong id, or not synced yet)") from exc
        return doc

    def case_key(self, case_id: str) -> Any:
        return self.node.reading.case_key(case_id)

    # -- opening a case --------------------------------------------------------------
    def open_case(self, *, service_type: str, mode: str, focus_area: str, applicant_kind: str,
                  private: Mapping[str, Any], service_item: str | None = None,
                  special_groups: list[str] | None = None, staff: str | None = None,
                  first: Sequence[FirstStep] = (), at: str | None = None) -> str:
        """Write a new case header (sealed), its keyring and its ``first`` events (the
        consultation, 10.1.1) in one ``bulk_docs``, one SQLite transaction
        (sync.sqlite._write): a refused write (a full disk) leaves no case without its
        record, so the clerk can save the same form again; return the case id. ``at``: the
        paper date of a case brought in from the ledger (schemas.paper), its opening too."""
        from schemas.hlc import unpack
        from schemas.ids import case_no, new_case_id, split_device_id
        from schemas.state import event_date
        from schemas.vocab import SCHEMA_VERSION
        from sync.crypto import new_keyring, sign_document

        node = self.node
        hlc = next_hlc(node.device_id)
        case_id = new_case_id(unpack(hlc))
        _, short = split_device_id(node.device_id)
        # 年度编号: the year the case opened, a paper case's own (a December case of the
        # ledger typed in after New Year is last year's, on its forms and in the hub's lists)
        year = event_date({"at": at}).year if at else today().year
        serial = node.next_serial(year)
        header: dict[str, Any] = {
            "_id": f"case:{case_id}", "type": "case", "schema_version": SCHEMA_VERSION,
            "case_id": case_id, "case_no": case_no(node.institution, year, short, serial),
            "institution": node.institution, "institution_path": node.institution_path(),
            "device": node.device_id, "opened_at": at or now_iso(), "service_type": service_type,
            "service_item": service_item or None, "mode": mode, "focus_area": focus_area,
            "applicant_kind": applicant_kind, "special_groups": list(special_groups or []),
            "staff": staff or node.acting_staff(), "labels": [],
            "clocks": {"private": hlc}, "history": [],
            "private": {k: v for k, v in private.items() if v not in (None, "")},
        }
        validate_draft(header)
        self.require_registered()
        directory = node.reading.directory()
        keyring, case_key = new_keyring(case_id, node.institution, directory, node.keys.signer)
        # The header is signed like events: the hub accepts only what a known device signed.
        sealed = sign_document(case_key.seal(header), node.keys.signer)
        node.reading.remember(case_id, case_key, {header["_id"]: header["private"]}, hlc)
        docs: list[dict[str, Any]] = [keyring, sealed]
        events: list[dict[str, Any]] = []
        opened: list[dict[str, Any]] = []
        for step in first:
            try:
                stored, signed, doc = self._prepare(
                    case_id, step.event_type, step.clear, step.private, staff=staff,
                    files=[], header=sealed, events=events, case_key=case_key, at=at)
            except TransitionRefused:
                if step.optional:
                    continue
                raise
            docs += stored
            events.append(signed)
            opened.append(doc)
        self._store_docs(docs)
        for doc in opened:
            node.reading.remember_event(case_id, doc)
        self.node.reindex_case(case_id, private=header["private"])
        self.node.index.mark_pending(case_id)
        return case_id

    def check_first(self, event_type: str, clear: Mapping[str, Any],
                    private: Mapping[str, Any] | None = None) -> None:
        """Validate a new case's first event before the case is opened (10.1.1: the
        consultation), so refused input writes nothing: no header left without its
        first record, no case number used up."""
        from schemas.hlc import unpack
        from schemas.ids import new_case_id

        draft_id = new_case_id(unpack(next_hlc(self.node.device_id)))
        doc, priv = self._draft(draft_id, event_type, clear, private, None)
        doc["private"] = priv
        validate_draft(doc)
        self.require_registered()

    def require_registered(self) -> None:
        """Refuse to open a case while the hub's key directory, once here, lacks this
        laptop's device key (`hub device keys` not yet run for it; until the first
        directory arrives the provisional one, node.reading, lets a new laptop work
        offline). A second laptop that had synced before its keys were registered opened
        the header and keyring, then failed on the consultation ("the case key does not
        open"): a case without its first record, which the hub refused on push (unknown
        signer) and the station never sent again."""
        from sync.crypto import CryptoError

        signer = self.node.keys.signer
        try:
            self.node.reading.directory().device_key(signer.device_id, signer.key.key_id)
        except CryptoError as exc:
            raise NodeError(
                "本机密钥尚未在平台登记：请管理员用本机 `bangban node init` 打印的 JSON 运行 "
                "`bangban hub device keys`，同步后再登记 / this laptop's keys are not "
                "registered at the hub: the operator runs `bangban hub device keys FILE` with "
                f"the JSON `bangban node init` printed here; sync, then try again ({exc.reason})",
                status=403, error="device_not_registered") from exc

    def _draft(self, case_id: str, event_type: str, clear: Mapping[str, Any],
               private: Mapping[str, Any] | None, staff: str | None,
               after: str | None = None, at: str | None = None
               ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The open event (cleartext members set), clocked after ``after`` (the case's
        newest event), stating ``at`` (a paper step's date, schemas.paper) or now, and its
        private part, empty values left out."""
        doc = self._base(case_id, event_type, staff, after, at)
        doc.update({k: v for k, v in clear.items() if v is not None})
        return doc, {k: v for k, v in (private or {}).items() if v not in (None, "")}

    # -- recording a step ------------------------------------------------------------
    def record(self, case_id: str, event_type: str, clear: Mapping[str, Any],
               private: Mapping[str, Any] | None = None, *, staff: str | None = None,
               signature_png: bytes | None = None,
               attachments: list[tuple[str, str, bytes]] | None = None,
               at: str | None = None) -> dict[str, Any]:
        """Check, seal, sign and store one event stating ``at`` (default now); returns the
        stored (sealed) doc."""
        header = self.header(case_id)  # 404 before anything else
        files: list[tuple[str, str, bytes]] = list(attachments or [])
        if signature_png:
            files.append((SIGNATURE_ATTACHMENT, "image/png", signature_png))
        docs, signed, doc = self._prepare(case_id, event_type, clear, private, staff=staff,
                                          files=files, header=header,
                                          events=self.events(case_id),
                                          case_key=self.case_key(case_id), at=at)
        self._store_docs(docs)
        self.node.reading.remember_event(case_id, doc)
        self.node.reindex_case(case_id)
        self.node.index.mark_pending(case_id)
        return signed

    def _prepare(self, case_id: str, event_type: str, clear: Mapping[str, Any],
                 private: Mapping[str, Any] | None, *, staff: str | None,
                 files: list[tuple[str, str, bytes]], header: dict[str, Any],
                 events: list[dict[str, Any]], case_key: Any, at: str | None = None
                 ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        """One event checked against ``header`` and ``events`` (stored, or written in the
        same batch), sealed and signed: the documents to store, the signed event and its
        open form."""
        from schemas.registry import has_private
        from sync.crypto import sign_document

        base = max((str(e["hlc"]) for e in events), default=None)
        doc, priv = self._draft(case_id, event_type, clear, private, staff, base, at)
        if any(name == SIGNATURE_ATTACHMENT for name, _, _ in files):
            priv["applicant_signature"] = SIGNATURE_ATTACHMENT
        if files and "attachments" in schema_fields(event_type):
            doc["attachments"] = [name for name, _, _ in files if name != SIGNATURE_ATTACHMENT]
        if has_private("event", event_type):
            doc["private"] = priv
        elif priv:
            raise refusal({k: "此步骤不收此项 / not part of this step" for k in priv})
        if base:
            doc["base_hlc"] = base
        validate_draft(doc)
        if at is not None:  # 补录: judged on the clock it was given, as the hub will
            check_typed(doc, events)
        self.check_transition(case_id, events, doc, header)
        shared: list[dict[str, Any]] = []
        if event_type in ("hand_up", "hand_down"):
            # Wrap the case key for the receiver first: no hand-over the receiver cannot open.
            from node.rewrap import share_with

            shared = [share_with(self.node, case_id, str(doc["to_institution"]))]
        sealed = case_key.seal(doc) if "private" in doc else dict(doc)
        chunks = self._attach(case_id, sealed, files, case_key) if files else []
        signed = sign_document(sealed, self.node.keys.signer)
        # The event before its chunks: the replicator sends in feed order, so on a slow link
        # the step reaches the hub and the town first and the scan's bytes follow
        # (design.md §4, "documents before attachments"); until they are all there the
        # receiver shows the scan as not fully synced (sync.chunks.ChunksMissing).
        return [*shared, signed, *chunks], signed, doc

    def _attach(self, case_id: str, sealed: dict[str, Any], files: list[tuple[str, str, bytes]],
                case_key: Any) -> list[dict[str, Any]]:
        """Seal each file with the case key (only the media type stays readable) and put it
        on the event: inline when small, else as signed content-addressed chunk documents
        plus a manifest in the event's cleartext ``chunked`` (design.md §4; sync.chunks), so
        no document exceeds the hub's max_document_bytes whatever the scan's size."""
        from sync.chunks import chunk_doc, inline_names, manifest, split
        from sync.crypto import sign_document

        blobs = [(name, ctype, case_key.seal_attachment(data, sealed["_id"], name))
                 for name, ctype, data in files]
        # The drawn signature first: it stays inline whatever else the event carries.
        order = sorted(blobs, key=lambda b: b[0] != SIGNATURE_ATTACHMENT)
        inline = inline_names((name, len(blob)) for name, _, blob in order)
        chunks: dict[str, dict[str, Any]] = {}
        for name, ctype, blob in blobs:
            if name in inline:
                sealed.setdefault("_attachments", {})[name] = {
                    "content_type": ctype, "data": base64.b64encode(blob).decode("ascii")}
                continue
            parts = split(blob)
            sealed.setdefault("chunked", {})[name] = manifest(ctype, blob, parts)
            for sha, part in parts:
                doc = chunk_doc(case_id, sha, part, institution=self.node.institution,
                                device=self.node.device_id)
                chunks.setdefault(doc["_id"], sign_document(doc, self.node.keys.signer))
        return list(chunks.values())

    def check_transition(self, case_id: str, events: list[dict[str, Any]],
                         doc: Mapping[str, Any], header: dict[str, Any] | None = None) -> None:
        from node.state import check, workdays
        from schemas.eligibility import check_catalog, item_code
        from schemas.errors import IllegalTransition

        header = header or self.header(case_id)
        try:
            check(header, events, doc, self.node)
            check_catalog(doc, self._item(item_code(doc, header, events)), workdays(self.node))
        except IllegalTransition as exc:
            zh = status_words(exc.message_zh, self.node.name_of)
            field = RULE_FIELDS.get(exc.rule, "event_type")
            raise TransitionRefused(f"{zh}（{exc.clause}） / {exc.message_en}",
                                    fields={field: f"{zh}（{exc.clause}）"}) from exc

    def _item(self, code: Any) -> dict[str, Any] | None:
        """The 清单 entry of a service item from the local store (reference data pulled
        from the hub), or ``None`` when it has not arrived."""
        from sync.errors import NotFound
        from sync.reference import read_latest

        if not code:
            return None
        try:
            return dict(read_latest(self.store, f"service_item:{code}"))
        except NotFound:
            return None

    def _store_docs(self, docs: list[dict[str, Any]]) -> None:
        result = self.store.bulk_docs(docs)
        # A chunk already here holds the same bytes (its id is their hash): not an error.
        bad = [r for r in result if "error" in r
               and not (r["error"] == "conflict" and str(r.get("id")).startswith("chunk:"))]
        if bad:
            # a conflict (another tab, or a pull, wrote the same document meanwhile): said
            # to the clerk, who saw "the local store refused …" in English only
            raise NodeError(f"本机未能保存这一步（{bad[0].get('id')}：{bad[0].get('error')}）。请打开"
                            "办件页查看已保存的内容，再试一次 / this laptop's store refused "
                            f"{bad[0].get('id')} ({bad[0].get('reason')}): open the case page to "
                            "see what was saved, then try again", error="not_stored", status=409)
        self.node.note_pending(len(docs))
