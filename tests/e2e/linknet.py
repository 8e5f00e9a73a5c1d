"""A village laptop on a bad link: real ``hub serve`` and ``node serve`` processes with
:class:`ops.netproxy.NetProxy` between them (design.md §4, "everything works with the
network down and syncs by itself when it returns").

The hub listens on one reserved port, the proxy on another, and the node is enrolled with
the proxy's URL (``public_url``), so every byte of its background sync crosses the proxy.
The clerk's casework goes through the node's own HTTP API and forms, with a session.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from ops.netproxy import NetProxy
from tests.node.net import PASSPHRASE, VILLAGE, NodeNet, reserved_port


def wait_until(pred: Callable[[], Any], timeout: float, what: str, step: float = 0.2) -> Any:
    """Poll ``pred`` until it returns something true; its value, or AssertionError naming
    ``what`` after ``timeout`` seconds (generous: a loaded 2-core machine is slow)."""
    end = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(step)


def village_item() -> dict[str, Any]:
    """A sample item a village station accepts (6.2.4: its tier on the 清单, schemas.
    eligibility) with a time limit of at least the 3 working days the tests promise."""
    from schemas.sample import catalog

    return next(i for i in catalog() if "village" in i["tiers"] and i["assist"]
                and i["time_limit_days"] >= 3)


class LinkNet(NodeNet):
    """One village node behind a proxy; ``self.proxy`` is the link."""

    def __init__(self, folder: Path, *, sync_timeout: float = 20.0, sync_interval: float = 1.0,
                 **proxy: Any) -> None:
        super().__init__(folder)
        self.link_port = reserved_port(self.reservations)
        # the node learns the hub's URL from its enrollment: make it the proxy's
        self.env["BANGBAN_PUBLIC_URL"] = f"http://127.0.0.1:{self.link_port}"
        self.env["BANGBAN_SYNC_TIMEOUT"] = str(sync_timeout)
        self.sync_interval = sync_interval
        self.proxy = NetProxy(self.hub_port, listen_port=self.link_port, **proxy)
        self.http = requests.Session()
        self.url = ""

    def start(self) -> None:
        self.setup()
        self.proxy.start()
        self.start_hub()
        self.url = self.start_node(VILLAGE, scripted=True, sync_interval=self.sync_interval)
        self.unlock()

    def refuse(self) -> None:
        """No proxy on the link port any more: connections are refused (the reserved
        socket keeps the port ours); :meth:`reconnect` puts a fresh one back."""
        self.proxy.stop()

    def reconnect(self, **settings: Any) -> None:
        self.proxy = NetProxy(self.hub_port, listen_port=self.link_port, **settings).start()

    def unlock(self) -> None:
        self.http = requests.Session()
        r = self.http.post(self.url + "/api/unlock", json={"passphrase": PASSPHRASE}, timeout=60)
        assert r.status_code == 200, r.text

    def at_window(self) -> None:
        """Choose the staff member at the window for this session once the roster is here
        (the sample village has three on duty: a step names one, node/window.py)."""
        r = self.http.get(self.url + "/api/staff", timeout=60)
        assert r.status_code == 200, r.text
        if r.json()["required"]:
            first = r.json()["on_duty"][0]["id"]
            r = self.http.post(self.url + "/api/staff", json={"staff": first}, timeout=60)
            assert r.status_code == 200, r.text

    def close(self) -> None:
        super().close()
        self.proxy.stop()

    # -- casework through the node's API -----------------------------------------
    def consultation(self, name: str = "王小明") -> str:
        item = village_item()
        self.at_window()
        r = self.http.post(self.url + "/api/consultations", timeout=60, json={
            "applicant_name": name, "phone": "13800000000", "question": "怎么办理？",
            "service_item": item["code"], "service_type": "assist", "answered": True, "outcome": "已当场答复"})
        assert r.status_code == 201, r.text
        return str(r.json()["case_id"])

    def step(self, case_id: str, event_type: str, **body: Any) -> str:
        self.at_window()
        r = self.http.post(f"{self.url}/api/cases/{case_id}/events/{event_type}", json=body,
                           timeout=60)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def accepted_case(self, name: str = "王小明") -> str:
        case_id = self.consultation(name)
        self.step(case_id, "application", channel="offline", mode="nearby",
                  service_item=village_item()["code"])
        self.step(case_id, "acceptance", zone="assisted_zone", time_limit_days=3)
        return case_id

    def scan(self, case_id: str, size: int) -> bytes:
        """Upload a scan of ``size`` random bytes with the material-received form."""
        page = self.http.get(f"{self.url}/cases/{case_id}/steps/material_received", timeout=60)
        assert page.status_code == 200, page.text[:2000]
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, "no csrf token on the form"
        blob = b"%PDF-1.4\n" + os.urandom(size) + b"\n%%EOF\n"
        self.at_window()
        r = self.http.post(
            f"{self.url}/cases/{case_id}/steps/material_received", allow_redirects=False,
            data={"csrf": token.group(1), "materials": [village_item()["materials"][0]["code"]]},
            files={"scans": ("scan.pdf", blob, "application/pdf")}, timeout=120)
        assert r.status_code == 302, r.text[:2000]
        return blob

    def sync_state(self) -> dict[str, Any]:
        r = self.http.get(self.url + "/api/sync", timeout=60)
        assert r.status_code == 200, r.text
        state: dict[str, Any] = r.json()
        return state

    # -- what each side holds ------------------------------------------------------
    def node_revs(self) -> dict[str, str]:
        """Every replicated document of the node's store and its winning revision."""
        from sync.sqlite import SQLiteStore

        store = SQLiteStore(str(self.node_dir(VILLAGE) / "store.sqlite"))
        try:
            rows = store.all_docs()["rows"]
        finally:
            store.close()
        return {r["id"]: r["value"]["rev"] for r in rows}

    def hub_docs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The hub's stored copy of each of ``ids`` with its conflicts (absent: missing)."""
        from hub.core import Hub
        from hub.settings import Settings

        hub = Hub(Settings.load({"hub_dir": str(self.hub_dir)}))
        try:
            rows = hub.stores.main.all_docs(keys=ids, include_docs=True, conflicts=True)["rows"]
        finally:
            hub.close()
        return {r["id"]: r["doc"] for r in rows if r.get("doc")}

    def converged(self) -> bool:
        """Does the hub hold every document of the node, at the node's revision, once?"""
        mine = self.node_revs()
        theirs = self.hub_docs(sorted(mine))
        return all(i in theirs and theirs[i]["_rev"] == rev and not theirs[i].get("_conflicts")
                   for i, rev in mine.items())
