"""A village station with two laptops and its town, as real processes: ``hub serve``, two
``node serve`` of one village (the second enrolled with the institution's keys from the
first: ``node keys export`` / ``node init --institution-keys``) and one of its town.

Each village laptop reaches the hub through its own :class:`ops.netproxy.NetProxy` (the
hub URL of its enrollment is the proxy's), so the network goes down per laptop
(:meth:`StationNet.link`); the town is linked directly. The clerks work through each
node's HTTP API with a session, as a browser or script would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from ops.netproxy import NetProxy
from tests.e2e.linknet import village_item
from tests.node.net import PASSPHRASE, TOWN, VILLAGE, NodeNet, reserved_port

#: the nodes: two laptops of the village (short names A1, A2) and the town's
LAPTOPS = {"L1": (VILLAGE, "A1"), "L2": (VILLAGE, "A2"), "T": (TOWN, "A1")}


class StationNet(NodeNet):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.links = {name: reserved_port(self.reservations) for name in ("L1", "L2")}
        self.proxies: dict[str, NetProxy] = {}
        self.http: dict[str, requests.Session] = {}
        self.urls: dict[str, str] = {}
        self.env["BANGBAN_SYNC_TIMEOUT"] = "10"

    def setup(self, short: str | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pwfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
        transfer = self.folder / "transfer-passphrase"
        transfer.write_text("站内传递口令 2026\n", encoding="utf-8")
        self.cli("hub", "init", "--sample-reference", "--port", str(self.hub_port))
        for name, (code, short_name) in LAPTOPS.items():
            env = dict(self.env)
            if name in self.links:
                env["BANGBAN_PUBLIC_URL"] = f"http://127.0.0.1:{self.links[name]}"
            enr = json.loads(self.cli("hub", "device", "enroll", "--institution", code,
                                      "--short", short_name, "--json", env=env))
            self.enrollments[name] = enr
            path = self.folder / f"enroll-{name}.json"
            path.write_text(json.dumps(enr), encoding="utf-8")
            extra: list[str] = []
            if name == "L2":  # the station's second laptop takes the first one's keys
                keyfile = self.folder / "institution-keys.json"
                self.cli("node", "keys", "export", "--dir", str(self.node_dir("L1")), "--out",
                         str(keyfile), "--passphrase-file", str(self.pwfile),
                         "--transfer-passphrase-file", str(transfer))
                extra = ["--institution-keys", str(keyfile), "--transfer-passphrase-file",
                         str(transfer)]
            keys = self.cli("node", "init", "--hub", enr["hub_url"], "--device-id",
                            enr["device_id"], f"--secret={enr['secret']}", "--enrollment-json",
                            str(path), "--dir", str(self.node_dir(name)), "--passphrase-file",
                            str(self.pwfile), *extra)
            kpath = self.folder / f"keys-{name}.json"
            kpath.write_text(keys, encoding="utf-8")
            self.cli("hub", "device", "keys", str(kpath))
            self.ports[name] = reserved_port(self.reservations)

    def node_dir(self, code: str) -> Path:
        return self.folder / f"node-{code}"

    def start(self) -> None:
        self.setup()
        for name in self.links:
            self.link(name, True)
        self.start_hub()
        for name in LAPTOPS:
            self.urls[name] = self.start_node(name, scripted=True, sync_interval=1.0)
            self.http[name] = requests.Session()
            r = self.http[name].post(self.urls[name] + "/api/unlock",
                                     json={"passphrase": PASSPHRASE}, timeout=60)
            assert r.status_code == 200, r.text

    def link(self, name: str, up: bool) -> None:
        """The laptop's network up (a fresh proxy on its port) or down (connections refused)."""
        if up:
            self.proxies[name] = NetProxy(self.hub_port, listen_port=self.links[name]).start()
        elif name in self.proxies:
            self.proxies.pop(name).stop()

    def close(self) -> None:
        super().close()
        for name in list(self.proxies):
            self.link(name, False)

    # -- a clerk at a laptop ---------------------------------------------------------
    def at_window(self, name: str, member: int = 0) -> None:
        """Choose the ``member``-th staff member on duty (two clerks share the laptops)."""
        r = self.http[name].get(self.urls[name] + "/api/staff", timeout=60)
        assert r.status_code == 200, r.text
        on_duty = r.json()["on_duty"]
        if on_duty:
            r = self.http[name].post(self.urls[name] + "/api/staff",
                                     json={"staff": on_duty[member]["id"]}, timeout=60)
            assert r.status_code == 200, r.text

    def applied_case(self, name: str, who: str = "王小明") -> str:
        item = village_item()
        self.at_window(name)
        r = self.http[name].post(self.urls[name] + "/api/consultations", timeout=60, json={
            "applicant_name": who, "phone": "13800000000", "question": "怎么办理？",
            "service_item": item["code"], "service_type": "assist", "answered": True, "outcome": "已当场答复"})
        assert r.status_code == 201, r.text
        case_id = str(r.json()["case_id"])
        self.step(name, case_id, "application", channel="offline", mode="nearby",
                  service_item=item["code"])
        return case_id

    def step(self, name: str, case_id: str, event_type: str, member: int = 0,
             **body: Any) -> str:
        self.at_window(name, member)
        r = self.http[name].post(f"{self.urls[name]}/api/cases/{case_id}/events/{event_type}",
                                 json=body, timeout=60)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def case(self, name: str, case_id: str) -> dict[str, Any]:
        r = self.http[name].get(f"{self.urls[name]}/api/cases/{case_id}", timeout=60)
        return dict(r.json()) if r.status_code == 200 else {}

    def page(self, name: str, path: str) -> str:
        r = self.http[name].get(self.urls[name] + path, timeout=60)
        assert r.status_code == 200, r.text[:2000]
        return r.text

    def pdf(self, name: str, case_id: str, letter: str) -> bytes:
        r = self.http[name].get(f"{self.urls[name]}/api/cases/{case_id}/forms/{letter}.pdf",
                                timeout=60)
        assert r.status_code == 200, r.text[:2000]
        return r.content
