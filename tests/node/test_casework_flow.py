"""A proxy case through the standard's steps (10.2) with the Flask test client."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from typing import Any

from schemas.state import local_today
from tests.node.conftest import csrf

# a 1x1 PNG (what the signature canvas posts, shrunk)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _consult(client: Any) -> str:
    from schemas.sample import catalog

    item = catalog()[0]
    resp = client.post("/consultations/", data={
        "csrf": csrf(client), "applicant_name": "王小明", "phone": "13800000000",
        "question": "怎么办理？", "service_item": item["code"], "service_type": "proxy",
        "mode": "nearby", "channel": "window", "answered": "1", "outcome": "已当场答复"})
    assert resp.status_code == 302, resp.data.decode()[:2000]
    return resp.headers["Location"].rstrip("/").split("/")[-1]


def later(days: int) -> str:
    """A deadline ``days`` after today in Beijing: a fixed date ("2026-12-20") turned into a
    past one, refused (10.2.5), on the day after it, and so did the test."""
    return (local_today() + dt.timedelta(days=days)).isoformat()


def _step(client: Any, case_id: str, event_type: str, **data: Any) -> Any:
    form = client.get(f"/cases/{case_id}/steps/{event_type}")
    assert form.status_code == 200, form.data.decode()[:2000]
    return client.post(f"/cases/{case_id}/steps/{event_type}", data={"csrf": csrf(client), **data})


def test_proxy_case_through_every_step(unlocked: Any, tmp_path: Any) -> None:
    c = unlocked
    case_id = _consult(c)
    sig = "data:image/png;base64," + base64.b64encode(PNG).decode()
    from schemas.sample import catalog

    r = _step(c, case_id, "entrustment", channel="offline", mode="nearby",
              service_item=catalog()[0]["code"], ledger_no="DB-1", period_end=later(60), scope="代为提交", signature_data=sig)
    assert r.status_code == 302, r.data.decode()[:3000]
    r = _step(c, case_id, "acceptance", zone="assisted_zone", time_limit_days="5")
    assert r.status_code == 302, r.data.decode()[:3000]
    r = _step(c, case_id, "suspension", reason="c", resumption_deadline=later(20),
              signature_data=sig)
    assert r.status_code == 302, r.data.decode()[:3000]
    r = _step(c, case_id, "resumption", cause_removed_on=local_today().isoformat(),
              signature_data=sig)
    assert r.status_code == 302, r.data.decode()[:3000]
    r = _step(c, case_id, "completion", signature_data=sig, documents="营业执照")
    assert r.status_code == 302, r.data.decode()[:3000]
    page = c.get(f"/cases/{case_id}").data.decode()
    assert 'data-status="completed"' in page
    pdf = c.get(f"/cases/{case_id}/forms/B.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    out = tmp_path / "b.pdf"
    out.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "帮办代办办结（终止）单" in text and "王小明" in text


def test_refused_input_keeps_what_was_typed(unlocked: Any) -> None:
    c = unlocked
    case_id = _consult(c)
    r = _step(c, case_id, "entrustment", channel="offline", mode="nearby", ledger_no="",
              period_end="不是日期", scope="我输入的委托范围")
    assert r.status_code == 400
    html = r.data.decode()
    assert "我输入的委托范围" in html  # kept
    assert 'aria-invalid="true"' in html
    assert "未保存" in html


def test_illegal_transition_is_refused_in_chinese(unlocked: Any) -> None:
    c = unlocked
    case_id = _consult(c)
    r = _step(c, case_id, "resumption", cause_removed_on="2026-11-27")
    assert r.status_code in (400, 409)
    assert "未保存" in r.data.decode()


def test_consultation_without_name_says_what_to_fix(unlocked: Any) -> None:
    r = unlocked.post("/consultations/", data={"csrf": csrf(unlocked), "question": "问题在此"})
    assert r.status_code == 400
    html = r.data.decode()
    assert "请填写服务对象姓名" in html and "问题在此" in html


def scan_received(c: Any, case_id: str, item: dict[str, Any], scan: bytes) -> dict[str, Any]:
    """Post a material_received step with ``scan`` (a PDF); its stored event."""
    import io

    r = c.post(f"/cases/{case_id}/steps/material_received", data={
        "csrf": csrf(c), "materials": [item["materials"][0]["code"]],
        "scans": (io.BytesIO(scan), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]
    node = c.application.extensions["bangban_node"]
    events = node.casework.events(case_id)
    return dict(next(e for e in events if e["event_type"] == "material_received"))


def test_scanned_material_is_stored_sealed_and_opens_again(unlocked: Any, node_dir: Any) -> None:
    from schemas.sample import catalog

    c = unlocked
    case_id = _consult(c)
    item = catalog()[0]
    assert _step(c, case_id, "application", channel="offline", mode="nearby",
                 service_item=item["code"]).status_code == 302
    assert _step(c, case_id, "acceptance", zone="assisted_zone", time_limit_days="5").status_code == 302
    scan = "%PDF-1.4\n% a document camera scan of the household register 户口簿\n%%EOF\n".encode()
    form = c.get(f"/cases/{case_id}/steps/material_received").data.decode()
    assert 'type="file"' in form and item["materials"][0]["code"] in form
    received = scan_received(c, case_id, item, scan)
    node = c.application.extensions["bangban_node"]
    (name, stub), = received["_attachments"].items()
    assert stub["content_type"] == "application/pdf"
    blob, _ = node.store.get_attachment(received["_id"], name)
    assert scan not in blob and b"%PDF" not in blob  # sealed with the case key
    back = c.get(f"/cases/{case_id}/steps/attachment/{received['_id']}/{name}")
    assert back.status_code == 200 and back.data == scan
    assert back.headers["Content-Type"].startswith("application/pdf")


def test_refusal_with_reasons(unlocked: Any) -> None:
    c = unlocked
    from schemas.sample import catalog

    case_id = _consult(c)
    assert _step(c, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    r = _step(c, case_id, "refusal", reason_codes="not_eligible", reasons="不符合参保条件")
    assert r.status_code == 302, r.data.decode()[:2000]
    assert 'data-status="refused"' in c.get(f"/cases/{case_id}").data.decode()
