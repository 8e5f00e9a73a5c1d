"""``bangban demo [--once] [--dir DIR]``: a hub, one town and two of its villages, on loopback.

The hub is a real process (``bangban hub serve``) on the embedded store (or CouchDB with
``--couchdb-url``). The three stations are :class:`ops.demo_node.SimNode` devices:
enrolled at the hub, their keys registered, loaded with E's sample case histories sealed
and signed with F's crypto, and syncing through the hub's replication endpoint with D's
replicator. ``DIR/devices.json`` lists each device's institution, database URL, device id
and secret, so any CouchDB client (curl, PouchDB, Fauxton-like tools) can be pointed at a
device's view.

What one run shows: village A's cases reach the hub and — once handed up — the town,
never village B; the town and village A edit the same case header while offline and the
hub's conflict resolver merges them; a proxy case suspended past its resumption deadline
is terminated by the hub (10.2.5.2). ``--once`` runs that, prints a summary and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops.hubprocess import HubProcess

CITY = "410600"
#: The demo's city supervisor (a local demo only; real ones come from `hub supervisor add`).
DEMO_SUPERVISOR = "city"
DEMO_SUPERVISOR_PASSWORD = "demo-city-2026"
TOWN = "410602101"  # 鹤壁集镇便民服务中心 (schemas.sample)
VILLAGE_A = "410602101201"  # 鹤壁集村便民服务站
VILLAGE_B = "410602101202"  # 东头村便民服务站
STATIONS = (TOWN, VILLAGE_A, VILLAGE_B)


class DemoNetwork:
    """The hub and three stations, set up in ``folder``."""

    def __init__(self, folder: Path, *, couchdb_url: str = "", db_prefix: str = "bangban",
                 port: int = 0, real_nodes: bool = False,
                 stations: tuple[str, ...] = STATIONS):
        self.real_nodes = real_nodes
        # the institutions given a device: the demo's three, or more (a county's tests add
        # the county center 410602 and another county)
        self.stations = stations
        self.folder = Path(folder)
        self.hub_dir = self.folder / "hub"
        self.couchdb_url = couchdb_url
        self.db_prefix = db_prefix
        self.port = port
        self.hub = HubProcess(self.hub_dir, port=port)
        self.nodes: dict[str, Any] = {}
        self.enrollments: dict[str, dict[str, Any]] = {}
        self.synced = 0
        self.push_refused = 0

    # -- setup ----------------------------------------------------------------------------
    def setup_hub(self) -> None:
        """Initialise the hub (in this process, before it serves) and enroll the stations."""
        from hub import admin
        from hub.core import Hub
        from hub.settings import Settings
        from schemas import sample

        config: dict[str, Any] = {"hub_dir": str(self.hub_dir), "db_prefix": self.db_prefix,
                                  "scrypt_n": 4096}
        if self.couchdb_url:
            config["couchdb_url"] = self.couchdb_url
        settings = Settings.load(config)
        settings.save()
        hub = Hub(settings)
        try:
            admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
            admin.import_institutions(hub, [i for i in sample.institutions() if i["code"] != CITY])
            admin.import_catalog(hub, sample.catalog())
            for cal in sample.calendars():
                admin.set_calendar(hub, year=cal["year"], holidays=cal["holidays"],
                                   workdays=cal["workdays"], source=cal.get("source"))
            for code in self.stations:
                self.enrollments[code] = admin.enroll_device(hub, institution_code=code, short="A1")
            # A city supervisor, so the oversight dashboard (issue 8) can be tried at once.
            from hub.oversight.supervisors import add_supervisor

            add_supervisor(hub, DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD, institution=CITY,
                           name="市级监督员（演示）")
        finally:
            hub.close()

    def start(self) -> None:
        from ops.demo_node import SimNode
        from ops.demo_station import RealStation

        self.setup_hub()
        url = self.hub.start()
        # The hub serves on a port chosen at start: saved, so `hub device enroll` against the
        # running demo prints the URL devices reach (hub.settings.url), not the default 8840.
        from hub.settings import Settings

        Settings.load({"hub_dir": str(self.hub_dir)}).save(
            hub_port=int(url.rstrip("/").rsplit(":", 1)[1]))
        from ops.demo_node import register_keys

        for code in self.stations:
            enr = dict(self.enrollments[code])
            enr["hub_url"] = url
            enr["db_url"] = f"{url}/{self.db_prefix}"
            self.enrollments[code] = enr
            if self.real_nodes:
                station = RealStation(self.folder / "nodes" / code, enr,
                                      env={"BANGBAN_SYNC_INTERVAL": "10"})
                register_keys(url, enr["device_id"], enr["secret"], station.init())
                self.nodes[code] = station
                continue
            node = SimNode(self.folder / "nodes" / code, enr, seed=int(code[-3:]))
            node.adopt_institution_key()
            node.register_keys()
            self.nodes[code] = node
        self.sync_all()  # reference data and the directory down to every station
        self.write_devices()

    def write_devices(self) -> Path:
        path = self.folder / "devices.json"
        rows = [{"institution": code, "device_id": e["device_id"], "secret": e["secret"],
                 "database_url": e["db_url"], "hub_url": e["hub_url"],
                 "url_with_credentials": self.nodes[code].db_url}
                for code, e in self.enrollments.items()]
        path.write_text(json.dumps({"hub": self.hub.url, "devices": rows}, ensure_ascii=False,
                                   indent=2), "utf-8")
        path.chmod(0o600)
        return path

    # -- rounds -----------------------------------------------------------------------------
    def sync_all(self) -> dict[str, dict[str, Any]]:
        """Every station syncs once; real nodes at the same time (separate processes)."""
        if self.real_nodes:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(self.nodes)) as pool:
                results = dict(zip(self.nodes, pool.map(lambda n: n.sync(),
                                                        self.nodes.values()), strict=True))
        else:
            results = {code: node.sync() for code, node in self.nodes.items()}
        for res in results.values():
            self.synced += res["pulled"] + res["pushed"]
            self.push_refused += res["refused"] + res.get("pull_refused", 0)
        return results

    def round(self) -> dict[str, Any]:
        """Everyone pushes and pulls; the hub's workers run; everyone pulls what they wrote."""
        first = self.sync_all()
        health = self.hub.wait_idle()
        if not health["idle"]:  # the stations' second pull may miss what the workers write
            print("the hub's workers were still busy after 60 s (a loaded machine): the "
                  "counts below may be behind",
                  file=sys.stderr, flush=True)
        second = self.sync_all()
        return {"first": first, "second": second, "hub": health}

    def act(self, code: str) -> Any:
        """A station's store and keys to write with (a real node's folder while it is stopped)."""
        node = self.nodes[code]
        return node.sim() if self.real_nodes else node

    def _done(self, sim: Any) -> None:
        if self.real_nodes:
            sim.store.close()

    def scenario(self, cases_per_village: int = 6) -> dict[str, Any]:
        """The story of the README: sample data, a hand-up, concurrent offline edits, a
        completion withdrawn (撤销办结) and the case completed again."""
        from ops.demo_node import SCENARIOS, fitted_start, recent_start

        a, b = self.act(VILLAGE_A), self.act(VILLAGE_B)
        # Dated back from today, ending in the last few working days: the oversight pages'
        # current month and the stations' due-soon lists have work in them, and the case
        # handed up is a recent one.
        start = fitted_start({VILLAGE_A: 1, VILLAGE_B: 2}, cases_per_village, town=TOWN)
        a.sample_cases(cases_per_village, town=TOWN, seed=1, start=start)
        b_cases = b.sample_cases(cases_per_village, town=TOWN, seed=2, start=start)
        b.withdrawn_completion(b_cases[SCENARIOS.index("in_handling")])  # 撤销办结, then 办结
        handed = a.new_case(start=recent_start(1, span=8))
        a.hand_up(handed, TOWN)
        self._done(a)
        self._done(b)
        self.round()  # cases reach the hub; the handed-up one reaches the town
        # Both stations edit the same header while offline (design.md §3): A gives the case
        # to another clerk of its roster, whom every page names (an id on no roster showed bare).
        town, a = self.act(TOWN), self.act(VILLAGE_A)
        town.edit_header(handed, labels=["town-coordinated"])
        roster = a.store.get(f"institution:{VILLAGE_A}").get("staff") or []  # 8.1.2: named
        now = a.store.get(f"case:{handed}").get("staff")
        a.edit_header(handed, staff=next(m["id"] for m in roster if m["id"] != now))
        self._done(town)
        self._done(a)
        result = self.round()
        return {"handed_up": handed, **result}

    def summary(self) -> dict[str, Any]:
        health = self.hub.health()
        return {
            "hub": self.hub.url,
            "cases": {code: len(node.cases()) for code, node in self.nodes.items()},
            "documents_synced": self.synced,
            "conflicts_resolved": health.get("conflicts_resolved", 0),
            "refusals": health.get("refused", 0) + self.push_refused,
            "routed_hand_overs": health.get("routed", 0),
            "terminated_10_2_5_2": health.get("terminated", 0),
            "boards_published": health.get("boards_published", 0),
            "devices_json": str(self.folder / "devices.json"),
        }

    def serve_nodes(self) -> dict[str, str]:
        """Start ``bangban node serve`` for every station (real nodes): their UI URLs."""
        return {code: node.serve() for code, node in self.nodes.items()} if self.real_nodes \
            else {}

    def stop(self) -> None:
        for node in self.nodes.values():
            if self.real_nodes:
                node.stop()
            else:
                node.store.close()
        self.hub.stop()


def print_summary(summary: Mapping[str, Any]) -> None:
    names = {TOWN: "town 鹤壁集镇", VILLAGE_A: "village A 鹤壁集村", VILLAGE_B: "village B 东头村"}
    print(f"hub:                {summary['hub']}")
    for code, n in summary["cases"].items():
        print(f"cases on {names.get(code, code):<18} {n}")
    print(f"documents synced:   {summary['documents_synced']}")
    print(f"conflicts resolved: {summary['conflicts_resolved']}")
    print(f"hand-overs routed:  {summary['routed_hand_overs']}")
    print(f"10.2.5.2 terminations by the hub: {summary['terminated_10_2_5_2']}")
    print(f"coordination boards published (the town's view of its villages, design §5): "
          f"{summary['boards_published']}")
    print(f"refusals:           {summary['refusals']}")
    print(f"devices:            {summary['devices_json']}")


def round_line(net: DemoNetwork) -> str:
    """One round of the running demo, as a line. A hub that does not answer (stopped or
    paused to try the stations offline, as a village with a bad link is) is a line, not
    the end of the demo: it used to stop the hub and every station's UI with it."""
    try:
        if not net.real_nodes:  # real nodes sync in the background by themselves
            net.round()
        s = net.summary()
    except OSError as exc:  # URLError, TimeoutError, ConnectionRefusedError
        return f"round: the hub at {net.hub.url} does not answer ({exc}); stations work offline"
    return (f"round: cases {s['cases']}, synced {s['documents_synced']}, "
            f"conflicts resolved {s['conflicts_resolved']}")


class DemoDatabases:
    """The CouchDB databases a demo run makes (``--couchdb-url``): the hub's names under
    its prefix (``P``, ``P-hub``, ``P-receipts``, ``P-scope-…``, hub.storage) that were not
    there when it started. Deleted when it ends unless ``--keep``: each run left a whole
    hub behind, and the next run under the same prefix was refused. One that was there
    before is never deleted (a CouchDB that holds a real hub, or another demo)."""

    def __init__(self, url: str, prefix: str):
        from hub.storage import couchdb_errors
        from sync.open import open_server

        self.server = open_server(url, on_error=couchdb_errors(url))
        self.ours = re.compile(rf"{re.escape(prefix)}(-hub|-receipts|-scope-.+)?")
        self.before = set(self.server.all_dbs())

    def made(self) -> list[str]:
        return sorted(name for name in self.server.all_dbs()
                      if name not in self.before and self.ours.fullmatch(name))

    def end(self, keep: bool) -> str:
        """Delete what this run made (or, ``keep``, name it); the line saying which."""
        from sync.errors import SyncError

        try:
            names = self.made()
            if not keep:
                for name in names:
                    self.server.delete_db(name)
        except SyncError as exc:
            return f"demo: its CouchDB databases could not be deleted: {exc.reason}"
        finally:
            self.server.close()
        if keep:
            return f"demo: its CouchDB databases stay (--keep): {', '.join(names) or 'none'}"
        return (f"demo: deleted the {len(names)} CouchDB databases it made "
                "(--keep leaves them)")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


#: Written into every demo folder: only such a folder (or an empty one) is ever wiped.
MARKER = ".bangban-demo"


def _wipe_refused(folder: Path) -> str | None:
    """Why ``folder`` must not be wiped: ``--dir .`` or ``--dir /var/lib/bangban-hub``
    used to be deleted whole, a real hub's keys and store with it."""
    if not folder.exists() or (folder / MARKER).exists() or (folder / "devices.json").exists():
        return None  # devices.json: a demo folder from before the marker
    if folder.is_dir() and not any(folder.iterdir()):
        return None
    return (f"--dir {folder}: not a folder `bangban demo` made (no {MARKER}), and the demo "
            "wipes its folder first: give a new or empty folder (or --keep)")


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.errors import AlreadyExists, HubError
    from sync.errors import SyncError

    folder = Path(args.dir)
    if not args.keep:
        refused = _wipe_refused(folder)
        if refused:
            print(f"bangban demo: {refused}", file=sys.stderr)
            return 2
        if folder.exists():
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()
    prefix = os.environ.get("BANGBAN_DB_PREFIX") or "bangban"
    net = DemoNetwork(folder, couchdb_url=args.couchdb_url or "", db_prefix=prefix,
                      port=args.port, real_nodes=args.nodes == "real")
    # `kill PID` (SIGTERM: what stops a demo started in the background, whose SIGINT the
    # shell ignores) stops like Ctrl-C, the hub and node servers with it, instead of
    # leaving them running with the demo's ports and files open
    signal.signal(signal.SIGTERM, _interrupt)
    databases = None
    try:
        if args.couchdb_url:  # before the hub makes any: only those it makes are deleted
            databases = DemoDatabases(args.couchdb_url, prefix)
        net.start()
        print(f"hub serving on {net.hub.url} (store: "
              f"{'CouchDB' if args.couchdb_url else 'embedded SQLite'})", flush=True)
        print("loading sample cases into the town and its two villages and syncing them "
              "through the hub (about half a minute)…", flush=True)
        net.scenario()
        summary = net.summary()
        if args.json:
            print(json.dumps(summary, ensure_ascii=False, indent=1))
        else:
            print_summary(summary)
        if args.once:
            return 0
        for code, url in net.serve_nodes().items():
            print(f"node UI of {code}: {url}  (passphrase in {net.nodes[code].passphrase_file})")
        print(f"oversight dashboard: {net.hub.url}/oversight/  (login {DEMO_SUPERVISOR}, "
              f"password {DEMO_SUPERVISOR_PASSWORD})")
        print(f"\nsyncing every {args.interval:.0f} s; Ctrl-C to stop. Try a device's view:")
        e = net.enrollments[VILLAGE_A]
        print(f"  curl -u {e['device_id']}:{e['secret']} {e['db_url']}/_changes")
        while True:
            time.sleep(args.interval)
            print(round_line(net), flush=True)
    except KeyboardInterrupt:
        return 0
    except (HubError, SyncError) as exc:  # a CouchDB already holding a hub, or not answering
        print(f"bangban demo: {exc.reason}", file=sys.stderr)
        if isinstance(exc, AlreadyExists) and args.couchdb_url:
            print(f"bangban demo: that CouchDB holds a hub under the prefix {prefix} already: "
                  "the demo needs databases of its own (BANGBAN_DB_PREFIX=demo1 bangban demo "
                  "…, or another CouchDB)", file=sys.stderr)
        return 2
    finally:
        net.stop()  # first: the hub makes a scope database for a new institution's case
        if databases is not None:
            print(databases.end(args.keep), file=sys.stderr, flush=True)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="hub + one town + two villages on loopback, syncing")
    p.add_argument("--dir", default=".demo", help="folder for the demo (wiped first if a demo "
                   "made it; another non-empty folder is refused)")
    p.add_argument("--once", action="store_true", help="one full round, print a summary, exit")
    p.add_argument("--port", type=int, default=0, help="hub port (default: a free one)")
    p.add_argument("--couchdb-url", help="run the hub on this CouchDB instead of SQLite (its "
                   "databases are deleted when the demo ends, unless --keep)")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between rounds")
    p.add_argument("--keep", action="store_true", help="keep what runs leave: DIR is not "
                   "wiped first, and with --couchdb-url the CouchDB databases this run makes "
                   "stay when it ends (by default they are deleted; never others)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--nodes", choices=("real", "sim"), default="real",
                   help="real: `bangban node` processes (default); sim: in-process stations")
    p.set_defaults(func=cmd_demo)
