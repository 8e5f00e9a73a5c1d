"""The hub: ingest with validation beside raw ``_bulk_docs``; 1,000 devices in one round (issue 6).

1. **Ingest.** The same 2,000 sealed, signed documents of one village device (200 cases
   of a keyring, a header and 8 events) are written in batches of 100 with
   ``new_edits=false`` (what a replicator sends) two ways into the same backend: through
   the device's view (:class:`hub.replication.ScopedStore`: schema of the sealed form,
   Ed25519 signature against the root-signed directory, scope, event immutability, the
   legal-transition check against the case's events, then the write and the scope index
   update), and raw into a fresh database (``DocumentStore.bulk_docs``). In process, on
   the embedded store, so the ratio is the cost of the checks and the index. Goal >= 0.7x.
2. **A city's round.** A real ``bangban hub serve`` process (embedded store) with 1,000
   enrolled devices (500 village stations, two laptops each). Every simulated device speaks
   the replication protocol over HTTP with keep-alive (``requests``): push = ``_revs_diff``,
   ``_bulk_docs`` (10 new documents, new_edits=false), checkpoint ``PUT _local``; then
   pull = ``_changes`` from its checkpoint, ``_bulk_get`` of what it lacks (the 10 documents
   of the other laptop of its station), checkpoint. 16 client threads in this process, on the
   same 2 cores as the hub. Goal: the round in <= 60 s.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import requests

from ops.bench.harness import BenchContext, timed

TITLE = "Hub: validated ingest vs raw _bulk_docs; 1,000 devices pushing and pulling"
CITY, COUNTY = "410600", "410602"
#: gateway processes of the hub in the round (one per core; `bangban hub serve --processes`)
PROCESSES = 2


def _rev(doc: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(doc, sort_keys=True).encode()
    h = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return {**doc, "_rev": f"1-{h}", "_revisions": {"start": 1, "ids": [h]}}


class Station:
    """A device's keys and the documents it writes (sealed and signed)."""

    def __init__(self, enrollment: dict[str, Any], inst_key: Any):
        from sync.crypto import DeviceSigner, Keychain, SigningKeyPair

        self.enr = enrollment
        self.device_id = enrollment["device_id"]
        self.institution = enrollment["institution"]
        self.signing = SigningKeyPair.generate()
        self.signer = DeviceSigner(self.device_id, self.signing)
        self.keychain = Keychain()
        self.keychain.add("institution", self.institution, inst_key)
        self.t = int(time.time() * 1000) - 10**7

    def entries(self, inst_key: Any) -> dict[str, Any]:
        from sync.crypto import key_entry

        return {"device_id": self.device_id, "device_key": key_entry(self.signing),
                "institution_key": key_entry(inst_key)}

    def case(self, directory: Any, serial: int) -> list[dict[str, Any]]:
        """A keyring, a case header and 8 events: 10 documents."""
        from schemas import build
        from schemas.hlc import HLC, pack
        from schemas.ids import case_no
        from sync.crypto import new_keyring, sign_document

        def clock() -> HLC:
            self.t += 1
            return HLC(self.t, 0, self.device_id)

        c = clock()
        case_id = pack(c)
        ring, key = new_keyring(case_id, self.institution, directory, self.signer)
        at = "2026-03-02T09:00:00+08:00"
        header = build.make_case(
            clock=c, case_no=case_no(self.institution, 2026, self.device_id[-2:], serial),
            institution=self.institution, path=[CITY, COUNTY, self.institution[:9],
                                                self.institution],
            device=self.device_id, opened_at=at, service_type="proxy", mode="nearby",
            focus_area="livelihood", applicant_kind="person",
            private={"applicant_name": "张三", "id_number": "410602195001010011",
                     "phone": "13800000000"})
        docs = [ring, sign_document(key.seal(header), self.signer)]
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            ("consultation", {"channel": "window", "answered": True}, {"question": "如何办理？"}),
            ("entrustment", {"channel": "offline", "service_item": "MS-001", "mode": "nearby",
                             "ledger_no": f"L{serial}", "period_end": "2026-12-31"},
             {"scope": "代为提交材料", "applicant_signature": "sig.png"}),
            ("acceptance", {"zone": "assisted_zone", "time_limit_days": 10}, {}),
        ]
        steps += [("work_log", {"kind": "tracking"}, {"text": "跟踪办理进度"})] * 5
        base = None
        for etype, fields, private in steps:
            ev = build.make_event(etype, case_id=case_id, clock=clock(), at=at,
                                  institution=self.institution, base_hlc=base,
                                  private=private, **fields)
            base = ev["hlc"]
            docs.append(sign_document(key.seal(ev), self.signer))
        return [_rev(d) for d in docs]


def _institutions(villages: int) -> list[dict[str, Any]]:
    from schemas.vocab import SCHEMA_VERSION

    def inst(code: str, tier: str, parent: str) -> dict[str, Any]:
        return {"_id": f"institution:{code}", "type": "institution",
                "schema_version": SCHEMA_VERSION, "code": code, "name": f"站 {code}",
                "tier": tier, "parent": parent, "public_keys": [], "active": True}

    out = [inst(COUNTY, "county", CITY)]
    towns = (villages + 19) // 20
    for t in range(towns):
        town = f"{COUNTY}{101 + t:03d}"
        out.append(inst(town, "town", COUNTY))
        for v in range(min(20, villages - t * 20)):
            out.append(inst(f"{town}{201 + v:03d}", "village", town))
    return out


def build_hub(folder: Path, villages: int, per_village: int) -> tuple[Any, list[Station]]:
    """An initialised hub with ``villages * per_village`` enrolled devices and their keys."""
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from sync.crypto import EncryptionKeyPair

    settings = Settings.load({"hub_dir": str(folder), "scrypt_n": 1024}, environ={})
    settings.save()
    hub = Hub(settings)
    admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
    insts = _institutions(villages)
    admin.import_institutions(hub, insts)
    stations = []
    for inst in insts:
        if inst["tier"] != "village":
            continue
        key = EncryptionKeyPair.generate()
        for n in range(per_village):
            enr = admin.enroll_device(hub, institution_code=inst["code"], short=f"A{n + 1}")
            st = Station(enr, key)
            admin.register_keys(hub, st.device_id, st.entries(key), publish=False)
            stations.append(st)
    admin.publish_directory(hub)
    hub.indexer.catch_up()
    return hub, stations


def _directory(hub: Any) -> Any:
    from hub.signatures import DirectoryCache

    return DirectoryCache(hub.stores).get()


# -- 1. ingest ------------------------------------------------------------------------------
def bench_ingest(ctx: BenchContext) -> str:
    from hub.auth import Device

    cases = ctx.scale(200, 20)
    hub, (st,) = build_hub(ctx.scratch("hub-ingest"), 1, 1)
    directory = _directory(hub)
    docs = [d for i in range(cases) for d in st.case(directory, i + 1)]
    batches = [docs[i:i + 100] for i in range(0, len(docs), 100)]
    view = hub.view(Device(st.device_id, st.institution, {}))
    raw = hub.stores.server.create_db("raw-ingest")
    with timed() as t_raw:
        for b in batches:
            assert not raw.bulk_docs(b, new_edits=False)
    with timed() as t_hub:
        for b in batches:
            failures = view.bulk_docs(b, new_edits=False)
            assert not failures, failures[:2]
    n = len(docs)
    ratio = t_raw["seconds"] / t_hub["seconds"]
    costs = _check_costs(docs, directory)
    hub.close()
    return "\n".join([
        f"**Ingest** of {n} documents ({cases} cases) in batches of 100, embedded store:\n",
        "| path | seconds | docs/s |", "|---|---:|---:|",
        f"| raw `bulk_docs` (new_edits=false) | {t_raw['seconds']:.2f} | {n / t_raw['seconds']:,.0f} |",
        f"| hub device view: schema, signature, scope, immutability, transition, index | "
        f"{t_hub['seconds']:.2f} | {n / t_hub['seconds']:,.0f} |",
        f"\nHub ingest speed / raw speed: **{ratio:.2f}x** (goal >= 0.7x: "
        f"{'met' if ratio >= 0.7 else 'NOT met'}).\n",
        "Where the time goes (each check alone over the same documents, ms per document):\n",
        "| check | ms/doc |", "|---|---:|",
        *[f"| {name} | {ms:.2f} |" for name, ms in costs.items()],
        f"| raw write (for comparison) | {t_raw['seconds'] / n * 1000:.2f} |\n"])


def _check_costs(docs: list[dict[str, Any]], directory: Any) -> dict[str, float]:
    """Per-document cost of each check, run alone (pure functions, no store)."""
    from schemas.fold import check_received
    from schemas.registry import validate_sealed
    from sync.crypto import verify_document

    n = len(docs)
    events = [d for d in docs if d["type"] == "event"]
    out = {}
    with timed() as t:
        for d in docs:
            if d["type"] != "keyring":
                validate_sealed(d)
    out["schema of the sealed form (marshmallow, schemas/)"] = t["seconds"] / n * 1000
    with timed() as t:
        for d in docs:
            if d["type"] != "keyring":
                verify_document(d, directory)
    out["Ed25519 signature (sync.crypto.verify_document)"] = t["seconds"] / n * 1000
    by_case: dict[str, list[dict[str, Any]]] = {}
    with timed() as t:
        for ev in events:
            known = by_case.setdefault(ev["case_id"], [])
            check_received(known, ev)
            known.append(ev)
    out["legal transition (schemas.fold.check_received)"] = t["seconds"] / max(1, len(events)) * 1000
    return out


# -- 2. a city's round ---------------------------------------------------------------------------
class Client:
    """One simulated device speaking the replication protocol over HTTP."""

    def __init__(self, st: Station, db_url: str):
        self.st = st
        self.url = db_url
        token = base64.b64encode(f"{st.device_id}:{st.enr['secret']}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.since: Any = 0
        self.docs: list[dict[str, Any]] = []
        self.requests = 0
        self.retries = 0

    def call(self, s: requests.Session, method: str, path: str, body: Any = None,
             **params: Any) -> Any:
        for attempt in range(8):
            self.requests += 1
            r = s.request(method, self.url + path,
                          data=None if body is None else json.dumps(body),
                          params=params or None, headers=self.headers, timeout=120)
            if r.status_code != 503:
                break
            self.retries += 1  # a busy store: retry with backoff, as replicators do
            time.sleep(0.05 * 2 ** attempt)
        if r.status_code >= 400 and not (r.status_code == 404 and method == "GET"):
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    def _checkpoint(self, s: requests.Session, name: str, seq: Any) -> None:
        cp = self.call(s, "GET", f"/_local/{name}")
        body = {"history": [{"recorded_seq": seq}], "last_seq": seq}
        if "_rev" in cp:
            body["_rev"] = cp["_rev"]
        self.call(s, "PUT", f"/_local/{name}", body)

    def push(self, s: requests.Session) -> int:
        diff = self.call(s, "POST", "/_revs_diff", {d["_id"]: [d["_rev"]] for d in self.docs})
        send = [d for d in self.docs if d["_id"] in diff]
        failures = self.call(s, "POST", "/_bulk_docs", {"docs": send, "new_edits": False})
        if failures:
            raise RuntimeError(f"refused: {failures[:2]}")
        self._checkpoint(s, "push-" + self.st.device_id, len(send))
        return len(send)

    def pull(self, s: requests.Session) -> int:
        mine = {d["_id"] for d in self.docs}
        feed = self.call(s, "GET", "/_changes", since=self.since, style="all_docs", limit=1000)
        want = [{"id": r["id"], "rev": c["rev"]} for r in feed["results"] if r["id"] not in mine
                for c in r["changes"]]
        got = self.call(s, "POST", "/_bulk_get?revs=true", {"docs": want}) if want else \
            {"results": []}
        n = sum(1 for r in got["results"] for d in r["docs"] if "ok" in d)
        self.since = feed["last_seq"]
        self._checkpoint(s, "pull-" + self.st.device_id, self.since)
        return n


def bench_round(ctx: BenchContext) -> str:
    from ops.demo import HubProcess

    villages = ctx.scale(500, 10)
    folder = ctx.scratch("hub-city")
    with timed() as t_setup:
        hub, stations = build_hub(folder, villages, 2)
        directory = _directory(hub)
        hub.close()
    proc = HubProcess(folder, worker_interval=5.0, env={"BANGBAN_HUB_PROCESSES": str(PROCESSES)})
    url = proc.start()
    try:
        db_url = f"{url}/bangban"
        clients = [Client(st, db_url) for st in stations]
        rng = random.Random(1)
        for c in clients:
            c.docs = c.st.case(directory, rng.randrange(1, 99999))
        local = __import__("threading").local()

        def session() -> requests.Session:
            if not hasattr(local, "s"):
                local.s = requests.Session()
            return local.s  # type: ignore[no-any-return]

        def warm(c: Client) -> None:  # where each device's feed stands before the round
            c.since = c.call(session(), "GET", "")["update_seq"]

        with cf.ThreadPoolExecutor(16) as pool:
            list(pool.map(warm, clients))
            with timed() as t_push:
                pushed = sum(pool.map(lambda c: c.push(session()), clients))
            with timed() as t_pull:
                pulled = sum(pool.map(lambda c: c.pull(session()), clients))
        requests_sent = sum(c.requests for c in clients)
        retries = sum(c.retries for c in clients)
    finally:
        proc.stop()
    total = t_push["seconds"] + t_pull["seconds"]
    n = len(clients)
    return "\n".join([
        f"**A city's round**: {n} devices ({villages} stations x 2 laptops), `bangban hub "
        f"serve --processes {PROCESSES}` on the embedded store, 16 client threads (setup, untimed: "
        f"{t_setup['seconds']:.0f} s).\n",
        "| phase | seconds | documents | per device |", "|---|---:|---:|---:|",
        f"| push 10 new documents each | {t_push['seconds']:.1f} | {pushed} | "
        f"{t_push['seconds'] / n * 1000:.0f} ms |",
        f"| pull the station's other laptop's 10 | {t_pull['seconds']:.1f} | {pulled} | "
        f"{t_pull['seconds'] / n * 1000:.0f} ms |",
        f"\nRound: **{total:.1f} s** for {n} devices, {requests_sent} HTTP requests, "
        f"{retries} retried after a 503 (SQLite busy between the gateway processes) "
        f"(goal <= 60 s: {'met' if total <= 60 else 'NOT met'}).\n"])


def run(ctx: BenchContext) -> str:
    started = dt.datetime.now()
    parts = [bench_ingest(ctx), bench_round(ctx)]
    parts.append(f"_Ran in {(dt.datetime.now() - started).total_seconds():.0f} s._\n")
    return "\n".join(parts)
