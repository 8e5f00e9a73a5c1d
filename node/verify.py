"""The station's check of every document the hub sends, by a pull or in a bundle file.

Design.md §5: device Ed25519 keys sign every event and the hub holds no key that decrypts
personal data, so the hub must not be able to put words in a device's mouth either: a
compromised hub could otherwise slip a forged completion or hand-over into a station. The hub
checks each pushed document (hub.signatures); a station checks each document coming the other
way, with :func:`check_documents`, against the hub's directory verified under the station's
pinned root keys (never the hub's word alone):

* a ``sig`` must verify against the directory; case headers and events must be signed
  (:data:`MUST_BE_SIGNED`, as the hub refuses them unsigned). A device revoked since it signed
  is accepted (``allow_revoked``): the hub accepted its history, which still reaches the node;
  an event's recorder (``device``) must be its signer, as at the hub
  (:func:`sync.crypto.sign.recorder_mismatch`);
* a directory must verify under the pinned root keys;
* tombstones and keyrings at their own id (``keyring:{case_id}``) pass (a tombstone carries
  no signature; each wrap of a keyring carries its own, checked where it is used: the node's
  re-wrap drops bad ones); anything else at a case header's, event's, board's or notice's id
  must be signed whatever its ``type`` says (:data:`SIGNED_PREFIXES`).

The directory is the newest root-verified one of: the node's own, one travelling in the same
batch, and (only when a document names a device the others do not know: a laptop enrolled
since this node's last directory, which the hub accepted against *its* newer directory) the
one ``newer()`` supplies, asked once per batch. A pull takes that one from the hub
(:class:`node.pull.VerifyingTarget`); a bundle file has no link to ask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.crypto import Directory

#: What the hub refuses unsigned (hub.signatures): a station refuses it from the hub too.
MUST_BE_SIGNED = ("case", "event", "board", "notice")
#: The same by ``_id``: a body at one of these ids whose ``type`` says otherwise (a
#: "keyring") passed unsigned, so a compromised hub replaced a signed event or case header.
SIGNED_PREFIXES = tuple(f"{t}:" for t in MUST_BE_SIGNED)

#: A directory fresher than what the node holds, or ``None`` (asked at most once per batch).
NewerDirectory = Callable[[], "Directory | None"]


def _newest_directory(docs: Sequence[Mapping[str, Any]], held: Directory | None,
                      root_keys: Sequence[str]) -> tuple[Directory | None, dict[str, str]]:
    """The newer of the held directory and one in ``docs`` (root-verified), and the refusal
    of a directory in ``docs`` that does not verify. Documents signed by a device enrolled
    after this node's last directory are checked against the newer one."""
    from sync.crypto import DIRECTORY_ID, CryptoError, verify_directory

    for doc in docs:
        if doc.get("_id") != DIRECTORY_ID or doc.get("_deleted"):
            continue
        try:
            # arriving: its delegation must still hold today (sync.crypto.verify_directory)
            carried = verify_directory(doc, list(root_keys), now=dt.datetime.now(dt.UTC))
        except CryptoError as exc:
            return held, {str(doc["_rev"]): f"directory: {exc.reason}"}
        return newer_directory(held, carried), {}
    return held, {}


def newer_directory(a: Directory | None, b: Directory | None) -> Directory | None:
    """The directory the hub wrote last: by ``written`` (schemas.written), then ``version``.
    A restored hub numbers its directories on from the backup's, below the lost hub's last
    (which a station may hold): by version alone a device enrolled after the restore stayed
    unknown, its documents refused."""
    from schemas.written import written_key

    if a is None or (b is not None and (written_key(b.doc), b.version)
                     > (written_key(a.doc), a.version)):
        return b
    return a


def check_documents(docs: Sequence[Mapping[str, Any]], held: Directory | None,
                    root_keys: Sequence[str], *, newer: NewerDirectory | None = None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(accepted, refused)``; each refusal ``{id, rev, error: "forbidden", reason}`` like
    the replicator's failures. ``newer`` is called (once) only when a signer is unknown to
    every directory at hand; whatever it raises propagates (a pull retries the batch)."""
    from sync.crypto import DIRECTORY_ID, CryptoError, UnknownKey, verify_document
    from sync.crypto.sign import recorder_mismatch

    directory, bad_dir = _newest_directory(docs, held, root_keys)
    asked = newer is None
    stale = ""
    accepted: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for doc in docs:
        docid, rev = str(doc["_id"]), str(doc["_rev"])
        reason = None
        if docid.startswith("_"):
            reason = "id: not a replicated document (design or local documents never travel)"
        elif docid == DIRECTORY_ID:
            reason = bad_dir.get(rev)
        elif doc.get("_deleted"):
            pass  # a tombstone carries no signature; deleting is the hub's decision
        elif doc.get("type") == "keyring" and docid == f"keyring:{doc.get('case_id')}":
            pass  # each wrap carries its own signature; the node's re-wrap drops bad ones
        elif ("sig" in doc or doc.get("type") in MUST_BE_SIGNED
              or docid.startswith(SIGNED_PREFIXES)):
            while True:
                try:
                    if directory is None:
                        raise UnknownKey("no root-verified key directory of the hub yet")
                    signer = verify_document(doc, directory, allow_revoked=True)
                    mismatch = recorder_mismatch(doc, signer)
                    reason = f"signature: {mismatch}" if mismatch else None
                except UnknownKey as exc:
                    if not asked and newer is not None:
                        asked = True  # one question per batch, however many unknown signers
                        try:
                            directory = newer_directory(directory, newer())
                        except CryptoError as bad:  # nothing newer to trust: refuse, and say why
                            stale = f" (the hub's current directory does not verify: {bad.reason})"
                        continue
                    reason = f"signature: {exc.reason}{stale}"
                except CryptoError as exc:
                    reason = f"signature: {exc.reason}"
                break
        if reason is None:
            accepted.append(dict(doc))
        else:
            refused.append({"id": docid, "rev": rev, "error": "forbidden", "reason": reason})
    return accepted, refused


def keep_history(store: Any, docs: list[dict[str, Any]], refused: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """``docs`` but any case header that loses what the revision it descends from (held in
    ``store``) knew, which goes to ``refused``: as the hub refuses it from a station
    (hub/header_kept.py, :func:`schemas.merge.dropped`). The hub signs conflict resolutions
    with its own key, so whoever holds that key could otherwise rewrite a case's header here
    and drop its history (5 d, 11.1 e; design.md §5: a pull does not trust the hub). A pull
    and a bundle import both ask this."""
    from schemas.merge import dropped
    from sync.errors import BadRequest, NotFound
    from sync.revtree import path_from_revisions

    kept = []
    for doc in docs:
        lost, held = None, ""
        if doc.get("type") == "case" and not doc.get("_deleted"):
            try:
                path = path_from_revisions(doc.get("_revisions") or {})
            except BadRequest:
                path = []
            for rev in path[1:]:
                try:
                    before = store.get(str(doc["_id"]), rev=rev)
                except NotFound:
                    continue
                lost = None if before.get("_deleted") else dropped(before, doc)
                held = rev
                break
        if lost is None:
            kept.append(doc)
        else:
            refused.append({"id": doc["_id"], "rev": doc["_rev"], "error": "forbidden",
                            "reason": f"history: the revision loses {lost[0]} "
                                      f"({lost[1] or 'fixed at opening'}) that {held} held "
                                      "(5 d, 11.1 e) / 办件基本信息修订丢失了历史值，已拒收"})
    return kept


__all__ = ["MUST_BE_SIGNED", "SIGNED_PREFIXES", "NewerDirectory", "check_documents", "keep_history",
           "newer_directory"]
