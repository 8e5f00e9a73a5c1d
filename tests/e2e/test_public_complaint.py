"""End-to-end, a real ``bangban hub serve`` and stations syncing over HTTP: a member of the
public files a complaint about their case on the hub's public page (11.1 online, no login);
the station receives it on the case and opens it; no file of the running hub holds the text
or the contact in clear (design §5); an invented number gets the same answer."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ops.demo import VILLAGE_A, DemoNetwork
from tests.e2e.test_hub_routes import net  # noqa: F401  (the hub and three stations)

pytestmark = pytest.mark.e2e

RECEIPT = re.compile(r"TS-\d{8}-[A-Z2-9]{8}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_a: Any, **_k: Any) -> None:
        return None  # the 303 itself is looked at


def _file(url: str, case: str, text: str, contact: str) -> tuple[int, str, str]:
    """A browser's visit: the form (its cookie and token), the post, the answer page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    form_url = f"{url}/oversight/public/{VILLAGE_A}/complaint"
    page = opener.open(form_url).read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"csrf": token, "case": case, "last4": "0000",
                                   "category": "overdue", "text": text,
                                   "contact": contact}).encode()
    try:
        opener.open(form_url, data=body)
        raise AssertionError("the form was not answered by a redirect")
    except urllib.error.HTTPError as exc:
        status, location = exc.code, exc.headers["Location"]
    answer = opener.open(urllib.parse.urljoin(form_url, location)).read().decode()
    return status, location, answer


def test_the_public_files_a_complaint_the_station_reads_it_the_hub_cannot(
        net: DemoNetwork) -> None:  # noqa: F811
    a = net.nodes[VILLAGE_A]
    case_id = a.new_case()
    net.round()
    number = a.store.get(f"case:{case_id}")["case_no"]
    text, contact = "材料交了两周没有回音 e2e-7f3a", "13700009911"
    status, location, answer = _file(net.hub.url.rstrip("/"), number, text, contact)
    assert status == 303 and location.endswith("/complaint/receipt")
    receipt = RECEIPT.search(answer).group(0)  # type: ignore[union-attr]
    # an invented number: the same redirect, the same page but for the receipt
    other = _file(net.hub.url.rstrip("/"), number[:-3] + "999", text + "x", "13700009912")
    assert other[:2] == (status, location)
    assert RECEIPT.sub("R", other[2]) == RECEIPT.sub("R", answer)
    net.round()
    rows = a.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                            include_docs=True)["rows"]
    complaints = [r["doc"] for r in rows if r["doc"].get("event_type") == "complaint"]
    assert len(complaints) == 1 and complaints[0]["channel"] == "online"
    private = a.case_key(case_id)._open(complaints[0])
    assert private["contact"] == contact and private["text"].endswith(text)
    assert receipt in private["text"]
    dump = b"".join(p.read_bytes() for p in Path(net.hub_dir).rglob("*") if p.is_file())
    for secret in (text, contact, "13700009912"):
        assert secret.encode() not in dump
