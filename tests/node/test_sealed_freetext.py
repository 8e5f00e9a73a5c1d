"""Form B's materials and documents are typed by the clerk, so they may name the applicant: the
node seals them (completion schema_version 2, 7.2.2.2) and still prints them; a version-1
completion synced from an older node prints from its cleartext."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.node.conftest import csrf

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
SIG = "data:image/png;base64," + base64.b64encode(PNG).decode()
#: what a clerk types into form B, the applicant's name included
RETURNED = ["赵铁柱身份证原件", "户口簿"]
DOCUMENT = "赵铁柱营业执照"


def _post(client: Any, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf": csrf(client), **data})


def _accepted_case(client: Any) -> str:
    """An assisted case (10.1) up to acceptance, through the UI."""
    from schemas.sample import catalog

    item = catalog()[0]
    r = _post(client, "/consultations/", applicant_name="赵铁柱", phone="13800000000",
              question="怎么办理？", service_item=item["code"], service_type="assist",
              mode="nearby", channel="window", answered="1",
              outcome="已当场答复")
    assert r.status_code == 302, r.data.decode()[:2000]
    case_id = r.headers["Location"].rstrip("/").split("/")[-1]
    for step, data in (("application", {"channel": "offline", "service_item": item["code"],
                                        "mode": "nearby"}),
                       ("acceptance", {"zone": "assisted_zone", "time_limit_days": "5"})):
        r = _post(client, f"/cases/{case_id}/steps/{step}", **data)
        assert r.status_code == 302, r.data.decode()[:3000]
    return case_id


def _node(client: Any) -> Any:
    return client.application.extensions["bangban_node"]


def _completion(client: Any, case_id: str) -> dict[str, Any]:
    docs = _node(client).casework.events(case_id)
    done = [d for d in docs if d.get("event_type") == "completion"]
    assert len(done) == 1
    return dict(done[0])


def _form_b_text(client: Any, case_id: str, tmp_path: Path) -> str:
    pdf = client.get(f"/cases/{case_id}/forms/B.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    out = tmp_path / "b.pdf"
    out.write_bytes(pdf.data)
    return subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_completion_materials_are_sealed_and_printed_on_form_b(unlocked: Any,
                                                               tmp_path: Path) -> None:
    case_id = _accepted_case(unlocked)
    form = unlocked.get(f"/cases/{case_id}/steps/completion").data.decode()
    assert 'name="materials_returned"' in form and 'name="documents"' in form
    r = _post(unlocked, f"/cases/{case_id}/steps/completion", signature_data=SIG,
              materials_returned="\n".join(RETURNED), documents=DOCUMENT)
    assert r.status_code == 302, r.data.decode()[:3000]
    stored = _completion(unlocked, case_id)
    assert stored["schema_version"] >= 2 and "sealed" in stored  # 3 since the signer (event_signed)
    assert "materials_returned" not in stored and "documents" not in stored
    raw = json.dumps(stored, ensure_ascii=False)
    assert not any(text in raw for text in [*RETURNED, DOCUMENT])
    text = _form_b_text(unlocked, case_id, tmp_path)
    assert all(t in text for t in [*RETURNED, DOCUMENT]), text
    # the case page lists them with the opened private part
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert RETURNED[0] in page and DOCUMENT in page


def test_version_1_completion_from_an_older_node_prints_from_clear(unlocked: Any,
                                                                   tmp_path: Path) -> None:
    from sync.crypto import sign_document

    case_id = _accepted_case(unlocked)
    n = _node(unlocked)
    cw = n.casework
    # what a node of the previous release stored (and syncs): the lists in clear
    doc = cw._base(case_id, "completion", None)
    doc.update(schema_version=1, materials_returned=RETURNED, documents=[DOCUMENT],
               base_hlc=max(e["hlc"] for e in cw.events(case_id)),
               private={"applicant_signature": "sig-form-b.png"})
    from schemas.registry import validate_open

    assert validate_open(doc) == doc
    cw._store_docs([sign_document(cw.case_key(case_id).seal(doc), n.keys.signer)])
    stored = _completion(unlocked, case_id)
    assert stored["schema_version"] == 1 and stored["materials_returned"] == RETURNED
    text = _form_b_text(unlocked, case_id, tmp_path)
    assert all(t in text for t in [*RETURNED, DOCUMENT]), text


def test_api_refuses_a_sealed_member_sent_beside_private(unlocked: Any) -> None:
    """A client of the previous release sent the lists at the top level: with a ``private``
    object beside them they were dropped silently; now refused, naming the field."""
    case_id = _accepted_case(unlocked)
    png = base64.b64encode(PNG).decode()
    url = f"/api/cases/{case_id}/events/completion"
    r = unlocked.post(url, json={"materials_returned": RETURNED, "private": {"note": "x"},
                                 "signature_png_base64": png})
    assert r.status_code == 400 and "materials_returned" in r.json["fields"], r.json
    assert "private" in r.json["fields"]["materials_returned"]
    r = unlocked.post(url, json={"private": {"materials_returned": RETURNED},
                                 "signature_png_base64": png})
    assert r.status_code == 201, r.json
    stored = _completion(unlocked, case_id)
    assert "materials_returned" not in stored
    assert RETURNED[0] not in json.dumps(stored, ensure_ascii=False)
