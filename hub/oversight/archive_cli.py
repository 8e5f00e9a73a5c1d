"""``bangban hub case export CASE --out FILE`` and ``bangban hub case verify FILE``.

Export (at the hub, by its operator): one case's signed archive
(:mod:`hub.oversight.archive`), written 0600 and never over a file. Verify (anywhere, no
hub folder, no network): the file's and every document's signatures under the root keys
the auditor pins (``--root-key``, repeatable; the ``root_keys`` of an enrollment or of
``hub init``), nothing a step names missing, the figures folded again; then the history.
Without ``--root-key`` the file's own ``root_keys`` are used and the output says so: that
proves the file consistent, not that it comes from this city's root.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hub.errors import BadInput
from hub.oversight.readlog import WHY


def cmd_export(args: argparse.Namespace) -> int:
    from hub.bundles import write_once
    from hub.core import Hub
    from hub.escrow import os_user
    from hub.oversight import Oversight
    from hub.oversight.archive import case_archive
    from hub.oversight.clocks import case_receipts
    from hub.oversight.complaints import find_case
    from hub.oversight.readlog import record
    from hub.settings import Settings

    target = Path(args.out)
    if target.exists():
        raise BadInput(f"--out: {target} exists (a case archive is never overwritten)")
    hub = Hub(Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}))
    try:
        ov = Oversight(hub)
        ov.catch_up(force=True)  # the receipts of what arrived last, too
        db = ov.facts.reader()
        case_id = find_case(hub, args.case, db)
        by = f"operator:{os_user()}"  # on record before the file is written (readlog)
        record(hub, case_id, by=by, what="export", why=args.why)
        archive = case_archive(hub, case_id, receipts=case_receipts(db, case_id),
                               exported_by=by)
        ov.facts.close()
    finally:
        hub.close()
    data = json.dumps(archive, ensure_ascii=False, sort_keys=True, indent=1).encode()
    write_once(target, data, "a case archive")
    out = {"file": str(target), "case_id": case_id, "case_no": archive["case_no"],
           "documents": len(archive["documents"]), "bytes": len(data)}
    print(json.dumps(out, ensure_ascii=False) if args.json else
          f"case {out['case_no']}: {out['documents']} documents, {out['bytes']} bytes -> "
          f"{target}\nverify it anywhere: bangban hub case verify {target} --root-key=KEY")
    return 0


def _lines(report: dict[str, Any], tl: dict[str, Any]) -> list[str]:
    lines = [f"case {tl['case_no']} ({tl['case_id']}): {report['documents']} documents, "
             f"{report['events']} events, archive signed by {tl['signed_by']}",
             "signatures and completeness: " + ("OK" if report["ok"] else "FAILED")]
    lines += [f"  ! {p}" for p in report["problems"]]
    lines += [f"  ~ {n}" for n in report["notes"]]
    st = tl["state"]
    item = tl["item"]
    lines.append(f"item: {item.get('code')} {item.get('name')} ({item.get('department')}), "
                 f"statutory limit {item.get('time_limit_days')} working days")
    lines.append(f"time limit: {st.get('time_limit_days')} working days from "
                 f"{st.get('limit_start') or st.get('accepted_on')}, due {st.get('due')}"
                 f"{' (estimated)' if st.get('due_estimated') else ''}, "
                 f"{st.get('suspended_days')} suspended days excluded, completed "
                 f"{st.get('completed_on') or st.get('terminated_on') or '—'}, "
                 f"on time: {st.get('on_time')}; working days by year: "
                 + ", ".join(f"{y} {s}" for y, s in sorted(tl["calendar_sources"].items())))
    for s in st.get("suspensions") or []:
        lines.append(f"  suspended {s.get('since') or s.get('on')} .. {s.get('until')} "
                     f"reason {s.get('reason')}")
    lines.append("steps (stated at | received by the hub | step | device | staff | fields):")
    for r in tl["steps"]:
        who = f"{r['staff'] or ''} {r['staff_name']}".strip()
        lines.append(f"  {r['at']} | {r['received']} | {r['event_type']} | {r['device']} | "
                     f"{who} | {json.dumps(r['fields'], ensure_ascii=False)}")
    lines.append("header versions (field | clock time | device | current | value):")
    for h in tl["header"]:
        lines.append(f"  {h['field']} | {h['when']} | {h['device']} | "
                     f"{'current' if h['current'] else 'replaced/lost'} | {h['value']}")
    return lines


def cmd_verify(args: argparse.Namespace) -> int:
    from hub.oversight.archive_check import check_archive, malformed, timeline

    try:
        archive = json.loads(Path(args.file).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"FILE: cannot read a case archive from {args.file} ({exc})") from exc
    shape = malformed(archive)
    if shape:  # nothing of it can be laid out: the verdict and what is wrong
        print(json.dumps({"ok": False, "problems": shape}, ensure_ascii=False) if args.json
              else "\n".join(["signatures and completeness: FAILED",
                              *(f"  ! {p}" for p in shape)]))
        return 1
    roots = list(args.root_key or [])
    report = check_archive(archive, roots or list(archive.get("root_keys") or []))
    if not roots:
        report["notes"].insert(0, "no --root-key given: checked against the root keys the "
                                  "file names itself (consistency only, not its origin)")
    tl = timeline(archive)
    if args.json:
        print(json.dumps({**report, "timeline": tl}, ensure_ascii=False))
    else:
        print("\n".join(_lines(report, tl)))
    return 0 if report["ok"] else 1


def register(hub_subparsers: Any) -> None:
    from hub.cli import _run

    case = hub_subparsers.add_parser(
        "case", help="one case's archive (5 d, 11.1 e): export it, verify it offline"
    ).add_subparsers(dest="case_command", metavar="COMMAND", required=True)
    p = case.add_parser("export", help="write one case's signed archive")
    p.add_argument("case", help="case number (or case id)")
    p.add_argument("--out", required=True, help="the file to write (never overwritten)")
    p.add_argument("--why", required=True, choices=sorted(WHY),
                   help="the reason, kept in the case's record of readings at the hub "
                   "(hub.oversight.readlog; shown on the case page): " +
                   "; ".join(f"{k} {v}" for k, v in WHY.items()))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_export))
    p = case.add_parser("verify", help="check an archive's signatures offline, print its "
                                       "history (no hub folder needed); exit 1 if it fails")
    p.add_argument("file", help="a file written by `hub case export` or the case page")
    p.add_argument("--root-key", action="append",
                   help="a root public key the auditor pins (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_verify, new_folder=True))  # offline: no hub folder
