"""``bangban hub backup DIR`` / ``restore DIR``: every document with all its revisions.

What is saved: the main database (reference data, cases, events, keyrings: every leaf
revision, deleted ones included, with its ``_revisions`` history and inline
attachments, as ``open_revs=all&revs=true&attachments=true`` returns them), the
private database (device credentials as salted hashes, case routes, and the devices'
``_local`` replication checkpoints, which the hub keeps there per device) and the receipt
times of events (:mod:`hub.receipts`: not derived, a laptop's clock cannot give them back), one
JSON document per line, gzip-compressed, streamed batch by batch so memory stays flat.
The scope indexes are not saved: they are derived, and rebuilt after a restore. The
hub's keys (``HUB_DIR/keys``) are files: copy them with your usual file backup.

Restore writes with ``new_edits=false`` into empty databases, so revision trees,
conflicts and tombstones come back exactly, then rebuilds the scope indexes and drops
the oversight facts file, which the workers rebuild from the restored feed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hub.errors import AlreadyExists, BadInput
from sync.errors import NotFound
from sync.store import DocumentStore

if TYPE_CHECKING:
    from hub.core import Hub

BATCH = 200
FILES = {"main": "main.jsonl.gz", "private": "private.jsonl.gz", "receipts": "receipts.jsonl.gz"}
#: written last: a folder without it is no backup (hub.backup_partial)
MANIFEST = "manifest.json"


def _private(path: Path) -> IO[bytes]:
    """``path`` opened for writing, readable by its owner only from its creation: the
    files hold the devices' credential hashes, every keyring and case metadata, and `hub
    backup` is run by hand, under a umask that made them world-readable (0644)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _tally(counts: dict[str, int], doc: dict[str, Any], last_id: str | None) -> str:
    """Count one leaf revision into ``counts`` (documents, revisions, attachments); its id.
    A document's leaves are written one after another, so a new id is a new document."""
    counts["revisions"] += 1
    counts["attachments"] += len(doc.get("_attachments") or {})
    if doc.get("_id") != last_id:
        counts["documents"] += 1
    return str(doc.get("_id"))


def _counts() -> dict[str, int]:
    return {"documents": 0, "revisions": 0, "attachments": 0}


def _dump(db: DocumentStore, path: Path) -> dict[str, int]:
    counts = _counts()
    last: str | None = None
    since: Any = 0
    with _private(path) as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
        while True:
            feed = db.changes(since=since, limit=BATCH, style="all_docs")
            for row in feed["results"]:
                for leaf in db.open_revs(row["id"], "all", attachments=True):
                    if "ok" in leaf:
                        out.write(json.dumps(leaf["ok"], ensure_ascii=False) + "\n")
                        last = _tally(counts, leaf["ok"], last)
            since = feed["last_seq"]
            if len(feed["results"]) < BATCH:
                return counts


def backup(hub: Hub, folder: str | Path,
           tell: Callable[[str], None] = lambda line: None) -> dict[str, dict[str, int]]:
    """Write the backup into ``folder``; per database, the documents, leaf revisions and
    attachments written. ``tell``: a line for the operator (a partial backup of ours in
    ``folder`` cleared, :mod:`hub.backup_partial`)."""
    from hub import backup_partial

    out = Path(folder)
    made, empty = _missing(out), False  # empty: what is in ``out`` is this backup's
    lock = None  # held from before the first file until the manifest (hub.backup_partial)
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        if any(out.iterdir()):
            tell(backup_partial.clear_or_refuse(out, frozenset((*FILES.values(), MANIFEST))))
        empty = True
        lock = backup_partial.begin(hub.settings.hub_dir, out)
        _check_files(hub)
        # What the hub wrote after this moment may be missing: said to the operator at the
        # restore ("redo what the hub did after the backup").
        taken_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        # The private database first: it holds the stations' push checkpoints, and every
        # one of them must count only documents already in the main database when its
        # dump began. Dumped after it, a checkpoint counted a push that landed between the
        # two dumps, missing from the backup: after a restore the station resumed past it
        # and never pushed those documents again. Newer main documents than private rows
        # are harmless: routes are rebuilt from the main feed by the restore's indexing.
        private = _dump(hub.stores.private, out / FILES["private"])
        counts = {"main": _dump(hub.stores.main, out / FILES["main"]), "private": private,
                  "receipts": _dump(hub.stores.receipts, out / FILES["receipts"])}
        manifest = {"format": "bangban-hub-backup/1", "db_prefix": hub.stores.prefix,
                    "hub_uuid": hub.identity["uuid"],
                    "revisions": {name: c["revisions"] for name, c in counts.items()},
                    "taken_at": taken_at}
        with _private(out / MANIFEST) as fh:
            fh.write(json.dumps(manifest, indent=1).encode("utf-8"))
        backup_partial.end(hub.settings.hub_dir, out, lock)
    except BaseException as exc:  # not writable, a full disk; the store failing, Ctrl-C
        if lock is not None:
            backup_partial.end(hub.settings.hub_dir, out, lock)
        _undo(out, made, wrote=empty)
        if isinstance(exc, OSError):
            raise BadInput(f"DIR {out}: {exc.strerror or exc}; no backup was written (what "
                           "it had begun is removed): free space or choose another DIR") from exc
        raise
    return counts


def _missing(out: Path) -> list[Path]:
    """The folders ``out.mkdir(parents=True)`` will make, deepest first."""
    made: list[Path] = []
    path = out.absolute()
    while not path.exists() and path != path.parent:
        made.append(path)
        path = path.parent
    return made


def _undo(out: Path, made: list[Path], *, wrote: bool) -> None:
    """What a failed backup made goes (it left its new folder behind, empty or with half
    its dumps, and the operator took a dated folder on the medium for a backup): its files
    when ``wrote`` (``out`` was found empty: never an earlier backup's), then the folders it
    made, each only when empty. A folder that was there before stays, and so does anything
    else put into one meanwhile, with its folder."""
    for name in (*FILES.values(), MANIFEST) if wrote else ():
        try:
            (out / name).unlink(missing_ok=True)
        except OSError:
            pass
    for path in made:
        try:
            path.rmdir()
        except OSError:  # not empty, or gone already: left as it is
            return


def _check_files(hub: Hub) -> None:
    """SQLite's quick_check of the embedded store's files the backup reads (CouchDB checks
    its own): a damaged page is refused by name, before a backup copies what it can read of
    it and a later restore brings back a store with holes. There is no file copy to check
    here: the backup is the documents, read through the store."""
    from hub.errors import HubError
    from sync.sqlite import quick_check

    for db in (hub.stores.main, hub.stores.private, hub.stores.receipts):
        path = getattr(db, "path", None)
        found = quick_check(path) if path and str(path).endswith(".sqlite") else []
        if found:
            raise HubError(
                f"{path} is damaged (SQLite quick_check: {'; '.join(found[:3])}): no backup "
                "taken. Keep the older backups; restore the last good one into a fresh "
                "HUB_DIR (`bangban hub restore`), then the stations push again what they "
                "hold (each still has everything it wrote)", error="damaged_store", status=500)


def _load(db: DocumentStore, path: Path) -> dict[str, int]:
    counts = _counts()
    last: str | None = None
    batch: list[dict[str, Any]] = []
    with gzip.open(path, "rt", encoding="utf-8") as src:
        for line in src:
            batch.append(json.loads(line))
            last = _tally(counts, batch[-1], last)
            if len(batch) >= BATCH:
                _write(db, batch)
                batch = []
    if batch:
        _write(db, batch)
    return counts


def _write(db: DocumentStore, docs: list[dict[str, Any]]) -> None:
    failures = db.bulk_docs(docs, new_edits=False)
    if failures:
        raise BadInput(f"restore: {len(failures)} revisions refused, first: {failures[0]}")


def restore(hub: Hub, folder: str | Path) -> dict[str, Any]:
    """Load the backup in ``folder`` into the hub's empty store. Returns what was restored:
    ``databases`` (per database, documents, leaf revisions, attachments), the backup's
    ``taken_at`` and ``db_prefix``, and ``prefix``, the one restored into."""
    src = Path(folder)
    try:
        manifest = json.loads((src / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{src}: no readable manifest.json ({exc})") from exc
    if manifest.get("format") != "bangban-hub-backup/1":
        raise BadInput(f"{src}: unknown backup format {manifest.get('format')!r}")
    marker = unfinished(hub.settings.hub_dir)
    this = {"from": str(src.resolve()), "taken_at": manifest.get("taken_at"),
            "prefix": hub.stores.prefix}
    if hub.stores.exists() and hub.stores.main.info().get("doc_count"):
        same = marker is not None and all(marker.get(k) == this[k]
                                          for k in ("taken_at", "prefix"))
        if not same:  # the same backup again over its own cut restore goes on (idempotent)
            raise AlreadyExists(
                f"the hub's store (prefix {hub.stores.prefix}) is not empty: restore into a "
                "fresh one: on CouchDB another BANGBAN_DB_PREFIX (stations keep their URL), "
                "else a new --hub-dir with this one's keys/ and settings.json"
                + (f"; it holds part of the backup {marker.get('from')} (a restore of it "
                   "did not finish): restore that one again, or empty the store first"
                   if marker is not None else ""))
    folder = Path(hub.settings.hub_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with _private(folder / UNFINISHED) as fh:  # before anything is written into the store
        fh.write(json.dumps({**this, "started": dt.datetime.now(dt.UTC).isoformat(
            timespec="seconds")}).encode("utf-8"))
    hub.stores.create()
    counts: dict[str, dict[str, int]] = {}
    parts = [("main", hub.stores.main), ("private", hub.stores.private)]
    if (src / FILES["receipts"]).exists():  # backups made before receipts (hub.receipts) lack it
        parts.append(("receipts", hub.stores.receipts))
    for name, db in parts:
        try:
            counts[name] = _load(db, src / FILES[name])
        except (OSError, EOFError, ValueError) as exc:  # gzip.BadGzipFile is an OSError
            raise BadInput(f"{src / FILES[name]}: damaged or missing ({exc}); the store now "
                           "holds part of the backup: empty it (HUB_DIR/db, or the CouchDB "
                           "databases) before restoring another copy") from exc
    for name in ("scope-indexer", "worker-resolver", "worker-deadlines"):
        try:  # with its rev: the indexer of a restore cut short wrote one (UNFINISHED)
            rev = hub.stores.private.get_local(name)["_rev"]
            hub.stores.private.delete_local(name, rev)
        except NotFound:
            pass
    _drop_pull_checkpoints(hub.stores.private)
    _note_restore(hub.stores.private, str(manifest.get("taken_at") or ""))
    _keep_endpoint(hub, str(manifest.get("db_prefix") or ""))
    _save_prefix(hub)
    # The oversight facts (a derived cache, hub/oversight/materialize.py) of a store that
    # was here before follow its feed: their checkpoint, ahead of the restored feed, hid
    # every case written after the restore. Deleted, they are rebuilt from this feed.
    from hub.oversight import FACTS_FILE

    for suffix in ("", "-wal", "-shm"):
        (Path(hub.settings.hub_dir) / (FACTS_FILE + suffix)).unlink(missing_ok=True)
    hub.reset_keys()
    hub.indexer.reset()  # the shared cursor of a store that was here before counts no more
    hub.indexer.catch_up()
    # its durable checkpoint too (written at most every few seconds while indexing, and at
    # a hub's close, which `hub restore` never reached): `hub doctor` read the lagging one
    # and said the scope indexer was behind by most of the feed the restore had indexed
    hub.indexer.flush()
    (folder / UNFINISHED).unlink(missing_ok=True)
    return {"databases": counts, "taken_at": manifest.get("taken_at"),
            "db_prefix": manifest.get("db_prefix"), "prefix": hub.stores.prefix}


#: In HUB_DIR from before a restore writes anything until it has finished. A restore cut
#: short (Ctrl-C, a dropped SSH session, a reboot) left part of a backup in the store, and
#: the store looked whole: `hub doctor` said ok once the identity was back, `hub serve`
#: started, and before the pull checkpoints were dropped the stations resumed their pulls
#: from seqs of scope indexes that were no more, missing what lay in between; restoring
#: again was refused (the store was not empty). Now serve refuses, the doctor fails, and
#: the same restore run again goes on (``new_edits=false`` writes are idempotent).
UNFINISHED = "restore-unfinished.json"


def unfinished(hub_dir: str | Path) -> dict[str, Any] | None:
    """What the marker of a restore that has not finished says, or None."""
    path = Path(hub_dir) / UNFINISHED
    try:
        body = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"from": "(unreadable marker)"}
    return body if isinstance(body, dict) else {"from": "(unreadable marker)"}


def unfinished_note(hub_dir: str | Path) -> str | None:
    """The operator's sentence about a restore that did not finish into this hub, or None."""
    marker = unfinished(hub_dir)
    if marker is None:
        return None
    where = marker.get("from") or "?"
    return (f"a restore from {where} (started {marker.get('started') or '?'}) has not "
            f"finished: the store holds part of that backup (HUB_DIR/{UNFINISHED}); unless "
            f"it is still running, run `bangban hub restore {where}` again, which goes on "
            "with it (or empty the store, "
            "HUB_DIR/db or the CouchDB databases of prefix "
            f"{marker.get('prefix') or '?'}, and restore another backup)")


def _drop_pull_checkpoints(private: DocumentStore) -> int:
    """Delete the devices' checkpoints of pulls from the hub; the number deleted.

    Their seqs count the scope indexes (hub.replication.seqs), which are not saved but
    rebuilt, with fewer and other seqs: a station that pulled after the backup resumed
    from a seq the rebuilt index reaches only later, and never pulled what was written in
    between (a revocation, a new key directory). Without the hub's half of the checkpoint
    the station's replicator finds no common session and pulls from 0 ("Compare
    Replication Logs", CouchDB's replication protocol), which ``revs_diff`` makes cheap and
    harmless: nothing it holds is fetched or written twice. Push checkpoints (the
    station's own seqs) are kept: the station resumes from them and pushes again what it
    wrote after the backup."""
    from hub.replication.seqs import SEP

    rows = private.all_docs(startkey="local:", endkey="local:\ufff0", include_docs=True,
                            offset=False)["rows"]
    dropped = 0
    for row in rows:
        body = (row.get("doc") or {}).get("body") or {}
        # source_last_seq: CouchDB's and this project's replicator; last_seq: PouchDB's.
        seq = body.get("source_last_seq", body.get("last_seq"))
        if isinstance(seq, str) and SEP in seq:
            private.delete(row["id"], row["doc"]["_rev"])
            dropped += 1
    return dropped


#: Private documents ``restore:{when}`` (never served, carried on by later backups): the
#: window whose receipt times are lost (:func:`hub.oversight.clocks.mark_restored`).
RESTORE_PREFIX = "restore:"


def _note_restore(private: DocumentStore, taken_at: str) -> None:
    """Record that this store was restored from a backup taken at ``taken_at``. The lost
    hub's receipts of what the stations pushed after it (hub.receipts: the hub's clock,
    the one a laptop cannot move) are gone; the stations push those events again and
    their receipts say the restore's time: a completion stated on time before the loss
    read "received after its deadline" on the checks page (11.1 b). The page marks them."""
    doc: dict[str, Any] = {"_id": f"{RESTORE_PREFIX}{taken_at}", "type": "restore",
                           "taken_at": taken_at,
                           "restored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:  # the same backup again (a restore cut short, run once more): it ends now
        doc["_rev"] = private.get(doc["_id"])["_rev"]
    except NotFound:
        pass
    private.put(doc)


def _keep_endpoint(hub: Hub, backed_up: str) -> None:
    """Restored into another prefix (a fresh set of CouchDB databases beside the broken
    ones, ``BANGBAN_DB_PREFIX``), the hub keeps serving devices the database name their
    enrollment gave them (``db_url``, :attr:`hub.core.Hub.endpoint`): it answered under
    the new prefix only, and every station's sync failed with ``not_found``, which the
    station shows as "cannot reach the hub". Written once, into the restored identity
    (private database, never served), so a backup of this hub carries it on."""
    from hub.core import IDENTITY_ID

    try:
        ident = hub.stores.private.get(IDENTITY_ID)
    except NotFound:
        return
    if backed_up and backed_up != hub.stores.prefix and not ident.get("db_name"):
        hub.stores.private.put({**ident, "db_name": backed_up})


def _save_prefix(hub: Hub) -> None:
    """The prefix restored into, saved in HUB_DIR/settings.json (merged, 0600) when it is
    not the one saved there: given only as ``BANGBAN_DB_PREFIX`` to the restore, the service
    started without it served the broken databases under the old prefix, or none."""
    from hub.settings import SETTINGS

    path = Path(hub.settings.hub_dir) / "settings.json"
    try:
        saved = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        return  # the doctor's settings check reports it; the data is restored
    default = next(s.default for s in SETTINGS if s.name == "db_prefix")
    if not isinstance(saved, dict) or saved.get("db_prefix", default) == hub.stores.prefix:
        return
    saved["db_prefix"] = hub.stores.prefix
    with _private(path) as fh:  # it may hold the CouchDB password
        os.fchmod(fh.fileno(), 0o600)  # an older file may have been made world-readable
        fh.write(json.dumps(saved, indent=2, sort_keys=True).encode("utf-8"))


def keys_note(hub: Hub) -> str | None:
    """After a restore, why this folder cannot serve it yet (`hub serve` refuses keys that
    are missing, locked or another hub's: :func:`hub.keys.own_key_id`), else ``None``."""
    from hub.errors import HubError
    from hub.keys import own_key_id
    from sync.errors import SyncError

    try:
        own_key_id(hub)
    except (HubError, SyncError) as exc:
        return (f"restored, but HUB_DIR/keys: {exc.reason}; put back this hub's keys/ (and "
                "settings.json) from the file backup before `bangban hub serve`")
    return None
