"""A minimal field node for the demo, the hub's end-to-end tests and its benchmark.

It does what a Bangban node does on the wire, with the real pieces: a local
SQLite store (engineer A), cases built by E's builders, sealed and signed with
F's crypto (case key wrapped for the institution and escrow, every document
signed by the device key), keys registered at the hub, and D's replicator pulling
from and pushing to the hub's replication endpoint (B's CouchDB client store
over HTTP, credentials in the URL). The full field app is ``node/`` (engineer H).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from schemas import build, sample
from schemas.hlc import HLC, tick
from sync.crypto import (
    DeviceSigner,
    Directory,
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    add_recipient,
    key_entry,
    new_keyring,
    sign_document,
    unlock_case_key,
    verify_directory,
)
from sync.open import open_db
from sync.store import DocumentStore

TZ = dt.timezone(dt.timedelta(hours=8))
#: The first sample case's day in tests: fixed, so their deadlines and terminations are known.
FIXED_START = dt.date(2026, 3, 2)
#: Working days a sample history may run past its opening day (the longest of E's
#: scenarios: acceptance, reminder, suspension, a 10-working-day resumption period, then
#: the decision after half the item's time limit, rating, complaint, archive).
HISTORY_SPAN = 40


def recent_start(n: int, span: int = HISTORY_SPAN) -> dt.date:
    """The opening day for ``n`` sample cases, a working day apart, whose histories all
    end by today (Beijing): a supervisor opening the demo sees this month's work, not a
    spring eight months gone with every case counted against this month's clock."""
    from schemas.state import local_today
    from schemas.workdays import Workdays

    wd = Workdays(sample.calendars())
    today = local_today()
    day = today
    while wd.working_days_between(day, today) < n + span or not wd.is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def sample_histories(village: str, n: int, *, town: str, seed: int = 1,
                     scenarios: tuple[str, ...] | None = None, start: dt.date = FIXED_START,
                     serial: int = 0) -> list[list[dict[str, Any]]]:
    """E's histories of ``n`` sample cases of ``village`` (open form, every device's
    events), the first opened on ``start``, each next one a working day later."""
    from schemas.sample_cases import case_history
    from schemas.workdays import Workdays

    insts = {i["code"]: i for i in sample.institutions()}
    items = [c for c in sample.catalog() if c["assist"] and c["proxy"]
             and ("village" in c["tiers"] or "town" in c["tiers"])]
    scenarios = scenarios or SCENARIOS
    rng = random.Random(seed)
    wd = Workdays(sample.calendars())
    histories = []
    day = start
    for k in range(n):
        at = dt.datetime.combine(day, dt.time(9 + k % 8, rng.randrange(60)), TZ)
        histories.append(case_history(
            rng, scenarios[k % len(scenarios)], village=insts[village], town=insts[town],
            item=items[rng.randrange(len(items))], serial=serial + k + 1, start=at,
            workdays=wd))
        day = wd.add_working_days(day, 1)
    return histories


def fitted_start(villages: Mapping[str, int], n: int, *, town: str) -> dt.date:
    """The latest opening day for the demo's ``n`` sample cases per village (``{code:
    seed}``) whose histories all end before today (Beijing), the hub's 10.2.5.2
    termination of an expired suspension included: the demo's work ends in the last few
    working days, so the oversight pages' current month holds its completions and ratings.
    :func:`recent_start` is only a bound: dated back by the longest of all scenarios (40
    working days), six cases ended a month before today, and on the first days of a month
    its dashboard was empty."""
    from schemas.state import local_today
    from schemas.workdays import Workdays

    wd = Workdays(sample.calendars())
    today = local_today().isoformat()
    earliest = recent_start(n)  # every history ends by today from here (tests/ops)
    day = local_today()
    while day > earliest:
        if wd.is_workday(day) and all(
                str(e["at"])[:10] < today
                for code, seed in villages.items()
                for h in sample_histories(code, n, town=town, seed=seed, start=day)
                for e in h[1:]):
            return day
        day -= dt.timedelta(days=1)
    return earliest


ROOT = Path(__file__).resolve().parent.parent
#: E's scenarios a village plays alone (hand-ups are done live by :meth:`SimNode.hand_up`;
#: ``proxy_suspended_expired`` stops before the hub's 10.2.5.2 termination, which the
#: hub's deadline watcher writes).
SCENARIOS = ("consult_answered", "assist_completed", "proxy_suspended_expired", "in_handling",
             "proxy_completed", "consult_reply", "converted", "proxy_suspended_resumed", "refused")


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def register_keys(hub_url: str, device_id: str, secret: str,
                  entries: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /_hub/keys`` with the device's credentials (the enrollment's second step)."""
    token = base64.b64encode(f"{device_id}:{secret}".encode()).decode()
    req = urllib.request.Request(
        hub_url.rstrip("/") + "/_hub/keys", data=json.dumps(dict(entries)).encode(),
        method="POST", headers={"Authorization": f"Basic {token}",
                                "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"key registration refused: {exc.code} {exc.read()!r}") from exc


class SimNode:
    """One enrolled device with its local store."""

    def __init__(self, folder: Path, enrollment: Mapping[str, Any], *, seed: int = 0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.enrollment = dict(enrollment)
        self.device_id = str(enrollment["device_id"])
        self.institution = str(enrollment["institution"])
        self.secret = str(enrollment["secret"])
        self.store = open_db(str(self.folder / "store.sqlite"), create=True)
        self.signing = SigningKeyPair.generate()
        self.signer = DeviceSigner(self.device_id, self.signing)
        self.keychain = Keychain()
        self.keychain.add("device", self.device_id, self.signing)
        self.rng = random.Random(seed)
        self.last: HLC | None = None
        self.serial = 0
        self._remote: DocumentStore | None = None

    @classmethod
    def from_node_dir(cls, folder: Path, passphrase: str, *, seed: int = 0) -> SimNode:
        """Act on a real node's folder (``bangban node init``): its enrollment, its
        passphrase-locked keychain and its ``store.sqlite`` (while its process is stopped)."""
        enr = json.loads((Path(folder) / "enrollment.json").read_text("utf-8"))
        node = cls.__new__(cls)
        node.folder = Path(folder)
        node.enrollment = enr
        node.device_id, node.institution = str(enr["device_id"]), str(enr["institution"])
        node.secret = str(enr["secret"])
        node.store = open_db(str(node.folder / "store.sqlite"), create=True)
        node.keychain = Keychain.unlock(
            json.loads((node.folder / "keychain.json").read_text("utf-8")), passphrase)
        key = node.keychain.active("device", node.device_id).key
        assert isinstance(key, SigningKeyPair)
        node.signing, node.signer = key, DeviceSigner(node.device_id, key)
        node.rng = random.Random(seed)
        node.last, node.serial, node._remote = None, 100, None
        return node

    # -- keys and enrollment ------------------------------------------------------------
    def adopt_institution_key(self, key: EncryptionKeyPair | None = None) -> EncryptionKeyPair:
        key = key or EncryptionKeyPair.generate()
        self.keychain.add("institution", self.institution, key)
        return key

    def public_entries(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "institution": self.institution,
                "device_key": key_entry(self.signing),
                "institution_key": key_entry(self.keychain.active("institution").key)}

    def register_keys(self) -> dict[str, Any]:
        return register_keys(str(self.enrollment["hub_url"]), self.device_id, self.secret,
                             self.public_entries())

    @property
    def db_url(self) -> str:
        return with_credentials(str(self.enrollment["db_url"]), self.device_id, self.secret)

    @property
    def remote(self) -> DocumentStore:
        if self._remote is None:
            self._remote = open_db(self.db_url)
        return self._remote

    def directory(self) -> Directory:
        from sync.reference import read_latest  # the hub's latest leaf (schemas.written)

        return verify_directory(read_latest(self.store, "directory"),
                                list(self.enrollment["root_keys"]))

    # -- sync -------------------------------------------------------------------------------
    def sync(self) -> dict[str, Any]:
        """One round: pull from the hub, then push local changes. Pulled documents are
        checked as a real node checks them (node.pull.VerifyingTarget, design.md §5: a
        signature must verify under the pinned root keys), so the demo's stations trust
        the hub no more than a clerk's laptop does."""
        from node.pull import VerifyingTarget
        from sync.replicate import replicate

        checked = VerifyingTarget(self.store, self.remote, list(self.enrollment["root_keys"]))
        pull = replicate(self.remote, checked)
        push = replicate(self.store, self.remote)
        return {"pulled": pull.docs_written, "pushed": push.docs_written,
                "refused": push.doc_write_failures, "pull_refused": pull.doc_write_failures,
                "failures": push.failures}

    # -- casework -----------------------------------------------------------------------------
    def clock(self) -> HLC:
        self.last = tick(int(time.time() * 1000), self.last, self.device_id)
        return self.last

    @staticmethod
    def now() -> str:
        return dt.datetime.now(TZ).isoformat(timespec="seconds")

    def _seal_sign(self, doc: Mapping[str, Any], case_key: Any) -> dict[str, Any]:
        return sign_document(case_key.seal(doc), self.signer)

    def case_key(self, case_id: str) -> Any:
        ring = self.store.get(f"keyring:{case_id}")
        return unlock_case_key(ring, self.keychain, self.directory())

    def load_histories(self, histories: list[list[dict[str, Any]]]) -> list[str]:
        """Store case histories (E's generator, open form) sealed and signed by this device.

        Events recorded by another device (the town after a hand-up, the hub's 10.2.5.2
        termination) are cut off: those devices write them themselves.
        """
        directory = self.directory()
        out = []
        for header, *events in histories:
            case_id = header["case_id"]
            ring, case_key = new_keyring(case_id, self.institution, directory, self.signer)
            docs = [ring, self._seal_sign(header, case_key)]
            for ev in events:
                if ev["device"] != self.device_id:
                    break
                docs.append(self._seal_sign(ev, case_key))
            for doc in docs:
                self.store.put(doc)
            out.append(case_id)
        return out

    def sample_cases(self, n: int, *, town: str, seed: int = 1,
                     scenarios: tuple[str, ...] = SCENARIOS,
                     start: dt.date = FIXED_START) -> list[str]:
        """``n`` sample cases of E's scenarios opened at this village station, the first
        on ``start``, each next one a working day later. Tests keep the fixed default (their
        deadlines are known); the demo passes :func:`recent_start`."""
        histories = sample_histories(self.institution, n, town=town, seed=seed,
                                     scenarios=scenarios, start=start, serial=self.serial)
        self.serial += n
        return self.load_histories(histories)

    def new_case(self, start: dt.date = FIXED_START) -> str:
        """One case in handling (a consultation answered on the spot, then entrusted,
        accepted and submitted to the department), opened on ``start``."""
        return self.sample_cases(1, town=self.institution[:9], seed=self.rng.randrange(10**6),
                                 scenarios=("in_handling",), start=start)[0]

    def hand_up(self, case_id: str, to: str) -> None:
        """Wrap the case key for ``to`` (the sending node's job) and record the hand-up."""
        directory = self.directory()
        ring = self.store.get(f"keyring:{case_id}")
        case_key = unlock_case_key(ring, self.keychain, directory)
        ring2 = add_recipient(ring, case_key, to, directory, self.signer)
        ring2["_rev"] = ring["_rev"]
        self.store.put(ring2)
        self.record(case_id, "hand_up",
                    **build.handover_fields(self.institution, to, "needs_coordination"))

    def hand_down(self, case_id: str, to: str) -> None:
        """Record a 4.3 hand-down to ``to`` (a station the case came from, which already
        holds a wrap of the case key: the keyring stays as it is)."""
        self.record(case_id, "hand_down", **build.handover_fields(self.institution, to,
                                                                  "returned"))

    def record(self, case_id: str, event_type: str, private: Mapping[str, Any] | None = None,
               **fields: Any) -> str:
        """Record a step of ``case_id`` now, after the last one this store holds, sealed
        and signed; its hlc."""
        ev = build.make_event(event_type, case_id=case_id, clock=self.clock(), at=self.now(),
                              institution=self.institution, private=dict(private or {}),
                              base_hlc=self.last_event(case_id), **fields)
        self.store.put(self._seal_sign(ev, self.case_key(case_id)))
        return str(ev["hlc"])

    def withdrawn_completion(self, case_id: str) -> None:
        """撤销办结 (schemas.withdraw) for the oversight pages: the clerk completes the case
        in handling by mistake (another applicant's case was meant), withdraws the
        completion at once, and completes the case for real once its result is handed over."""
        staff = self.store.get(f"case:{case_id}").get("staff")
        form_b = {"applicant_signature": "sig-form-b.png", "documents": ["审批结果"]}
        slip = self.record(case_id, "completion", form_b, staff=staff)
        self.record(case_id, "completion_withdrawn", {"details": "点错了办件，应办结邻号办件"},
                    completion=slip, reason="wrong_case", staff=staff)
        self.record(case_id, "completion", form_b, staff=staff)

    def last_event(self, case_id: str) -> str | None:
        res = self.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                                  offset=False)
        return res["rows"][-1]["id"].rsplit(":", 1)[1] if res["rows"] else None

    def edit_header(self, case_id: str, **changes: Any) -> None:
        doc = self.store.get(f"case:{case_id}")
        edited = build.set_fields({k: v for k, v in doc.items() if k != "sig"}, changes,
                                  self.clock())
        self.store.put(sign_document(edited, self.signer))

    def cases(self) -> list[str]:
        res = self.store.all_docs(startkey="case:", endkey="case:\ufff0")
        return [r["id"][5:] for r in res["rows"]]
