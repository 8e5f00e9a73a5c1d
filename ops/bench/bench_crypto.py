"""Confidentiality costs (sync.crypto, design §5): sealing, wrapping, signing, unlocking.

Measured through the public API on realistic documents: a case is a header plus
six events (each sealed, events signed), sample people from schemas.sample. The
scrypt unlock is measured with the production parameters (target 0.3-1 s).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from ops.bench.harness import BenchContext, median, percentile, repeat
from schemas import sample
from sync.crypto import (
    Actor,
    DeviceSigner,
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    build_directory,
    change_passphrase,
    key_entry,
    new_keyring,
    open_attachment,
    open_case,
    sign_directory,
    sign_document,
    unlock_case_key,
    verify_directory,
    verify_document,
)
from sync.crypto.keys import SCRYPT_N, SCRYPT_P, SCRYPT_R
from sync.crypto.wrap import unwrap_key, wrap_key

TITLE = "Confidentiality: seal/open, key wrap, signatures, scrypt unlock (sync.crypto)"
VILLAGE, TOWN = "410621100201", "410621100"
CASE = "019ac1f2e3a0-0000-410621100201-A1"


def _world() -> tuple[Any, Keychain, DeviceSigner]:
    root, escrow = SigningKeyPair.generate(), EncryptionKeyPair.generate()
    inst, dev = EncryptionKeyPair.generate(), SigningKeyPair.generate()
    chain = Keychain()
    chain.add("institution", VILLAGE, inst)
    chain.add("device", f"{VILLAGE}-A1", dev)
    doc = build_directory(
        version=1,
        institutions=[{"code": VILLAGE, "tier": "village", "parent": TOWN, "name": "v",
                       "public_keys": [key_entry(inst)]}],
        devices=[{"device_id": f"{VILLAGE}-A1", "institution": VILLAGE, "public_keys": [key_entry(dev)]}],
        escrow=key_entry(escrow))
    directory = verify_directory(sign_directory(doc, root), root.public_b64)
    return directory, chain, DeviceSigner(f"{VILLAGE}-A1", dev)


def _case_docs(rng: random.Random) -> list[dict[str, Any]]:
    person = sample.person(rng)
    header = {"_id": f"case:{CASE}", "type": "case", "schema_version": 1, "case_id": CASE,
              "institution": VILLAGE, "status": "open", "private": person}
    events = [{"_id": f"event:{CASE}:{i:012x}-0000-{VILLAGE}-A1", "type": "event",
               "event_type": "consultation", "schema_version": 1, "case_id": CASE,
               "hlc": f"{i:012x}-0000-{VILLAGE}-A1", "at": "2026-11-20T09:30:00+08:00",
               "device": f"{VILLAGE}-A1", "institution": VILLAGE,
               "private": {"name": person["applicant_name"], "contact": person["phone"],
                           "question": "咨询办理事项所需材料及办理时限。" * 8}} for i in range(6)]
    return [header, *events]


def _ms(values: list[float]) -> str:
    return f"{median(values) * 1000:.3f} ms (p95 {percentile(values, 95) * 1000:.3f})"


def run(ctx: BenchContext) -> str:
    rng = random.Random(5)
    directory, chain, signer = _world()
    ring, case_key = new_keyring(CASE, VILLAGE, directory, signer)
    n = ctx.scale(300, 30)
    docs = _case_docs(rng)

    def seal_case() -> list[dict[str, Any]]:
        sealed = [case_key.seal(d) for d in docs]
        return [sealed[0]] + [sign_document(d, signer) for d in sealed[1:]]

    stored = seal_case()
    log: list[dict[str, Any]] = []
    actor = Actor("staff-01", VILLAGE, signer)
    seal_t = repeat(seal_case, n)
    open_t = repeat(lambda: open_case(stored, case_key, purpose="handling", on_access=log.append,
                                      actor=actor), n)
    verify_t = repeat(lambda: [verify_document(d, directory) for d in stored[1:]], n)
    one_event = stored[1]
    sign_t = repeat(lambda: sign_document(one_event, signer), n)
    verify1_t = repeat(lambda: verify_document(one_event, directory), n)
    new_ring_t = repeat(lambda: new_keyring(CASE, VILLAGE, directory, signer), n)
    unlock_ring_t = repeat(lambda: unlock_case_key(ring, chain, directory), n)
    recipient = EncryptionKeyPair.generate()
    ctxd = {"case": CASE, "kid": "dk-x", "recipient": TOWN, "recipient_key": recipient.key_id}
    data_key = os.urandom(32)
    wrapped = wrap_key(data_key, recipient.public_b64, ctxd)
    wrap_t = repeat(lambda: wrap_key(data_key, recipient.public_b64, ctxd), n)
    unwrap_t = repeat(lambda: unwrap_key(wrapped, recipient, ctxd), n)

    mb = ctx.scale(8, 2)
    scan = os.urandom(mb * 2**20)
    reps = ctx.scale(5, 2)
    blob = case_key.seal_attachment(scan, "event:x", "scan.jpg")
    att_seal_t = repeat(lambda: case_key.seal_attachment(scan, "event:x", "scan.jpg"), reps)
    att_open_t = repeat(lambda: open_attachment(blob, "event:x", "scan.jpg", case_key, purpose="printing",
                                                on_access=log.append, actor=actor), reps)

    locked = chain.lock("村站口令 bench")
    unlock_runs = ctx.scale(5, 2)
    unlock_t, unlock_cpu = [], []
    for _ in range(unlock_runs):
        wall, cpu = time.perf_counter(), time.process_time()
        Keychain.unlock(locked, "村站口令 bench")
        unlock_t.append(time.perf_counter() - wall)
        unlock_cpu.append(time.process_time() - cpu)
    change_t = repeat(lambda: change_passphrase(locked, "村站口令 bench", "新口令"), 1)

    case_bytes = sum(len(str(d)) for d in stored)
    rows = [
        ("seal a case (header + 6 events: seal all, sign events)", _ms(seal_t)),
        ("open a case (7 docs, one access event sealed + signed)", _ms(open_t)),
        ("verify a case's 6 event signatures", _ms(verify_t)),
        ("sign one event", _ms(sign_t)),
        ("verify one event", _ms(verify1_t)),
        ("new case keyring (data key wrapped for owner + escrow, wraps signed)", _ms(new_ring_t)),
        ("unlock a case key from its keyring (verify wrap sig + unwrap)", _ms(unlock_ring_t)),
        ("wrap a data key for one recipient (X25519 + HKDF + AES-GCM)", _ms(wrap_t)),
        ("unwrap for one recipient", _ms(unwrap_t)),
        (f"seal scans ({mb} MiB attachment)", f"{mb / median(att_seal_t):.0f} MiB/s"),
        (f"open scans ({mb} MiB attachment, with access event)", f"{mb / median(att_open_t):.0f} MiB/s"),
        (f"scrypt unlock of a keychain (n=2^{SCRYPT_N.bit_length() - 1}, r={SCRYPT_R}, p={SCRYPT_P}; "
         "target 0.3-1 s)", f"{median(unlock_t):.2f} s wall (min {min(unlock_t):.2f}, max "
         f"{max(unlock_t):.2f}); {median(unlock_cpu):.2f} s CPU; {unlock_runs} runs"),
        ("passphrase change (unlock + re-lock: two scrypt runs)", f"{change_t[0]:.2f} s"),
    ]
    table = "| operation | median (p95) |\n| --- | --- |\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)
    load = os.getloadavg()[0]
    return (f"Load average at the end: {load:.1f} on {os.cpu_count()} cores (the machine is shared; "
            "wall times under load overstate, CPU time is the cost on an idle machine). "
            f"{n} repetitions per row (attachments {reps}, unlock {unlock_runs}); a stored sample "
            f"case is ~{case_bytes // 1024} KiB of JSON. Rerun: `python -m ops.bench crypto`.\n\n"
            + table)
