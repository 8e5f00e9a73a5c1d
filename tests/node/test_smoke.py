from __future__ import annotations

from typing import Any

from tests.node.conftest import csrf


def test_locked_redirects_to_unlock(client: Any) -> None:
    resp = client.get("/")
    assert resp.status_code == 302 and "/unlock" in resp.headers["Location"]


def test_consultation_round(unlocked: Any, app: Any) -> None:
    from schemas.sample import catalog

    item = catalog()[0]
    token = csrf(unlocked)
    resp = unlocked.post("/consultations/", data={
        "csrf": token, "applicant_name": "王小明", "phone": "13800000000", "question": "怎么办理？",
        "service_item": item["code"], "service_type": "proxy", "mode": "nearby", "channel": "window",
        "answered": "1", "outcome": "已当场答复"})
    assert resp.status_code == 302, resp.data.decode()[:3000]
    page = unlocked.get(resp.headers["Location"])
    assert "王小明" in page.data.decode()
