"""The JSON API: every UI action, refusals with field-level Chinese messages, OpenAPI."""

from __future__ import annotations

import base64
from typing import Any

from tests.node.conftest import PASSPHRASE

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _unlock(client: Any) -> None:
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200


def test_locked_api_answers_423(client: Any) -> None:
    resp = client.get("/api/cases")
    assert resp.status_code == 423 and resp.json["error"] == "locked"
    assert client.post("/api/unlock", json={"passphrase": "wrong"}).status_code == 401


def test_assisted_case_by_api(client: Any) -> None:
    from schemas.sample import catalog

    _unlock(client)
    item = catalog()[0]
    r = client.post("/api/consultations", json={
        "applicant_name": "刘德明", "phone": "13600001111", "question": "如何办理？",
        "service_item": item["code"], "service_type": "assist", "answered": True, "outcome": "已当场答复",
        "have": [m["code"] for m in item["materials"]]})
    assert r.status_code == 201, r.json
    case_id = r.json["case_id"]
    assert r.json["missing"] == []

    def ev(t: str, **body: Any) -> Any:
        return client.post(f"/api/cases/{case_id}/events/{t}", json=body)

    assert ev("application", channel="offline", service_item=item["code"], mode="nearby").status_code == 201
    assert ev("acceptance", zone="assisted_zone", time_limit_days=5).status_code == 201
    r = ev("work_log", kind="tracking", private={"text": "已电话联系申请人"})
    assert r.status_code == 201, r.json
    r = ev("completion", signature_png_base64=base64.b64encode(PNG).decode())
    assert r.status_code == 201, r.json
    r = ev("rating", level="very_satisfied", channel="window")
    assert r.status_code == 201, r.json
    detail = client.get(f"/api/cases/{case_id}").json
    assert detail["state"]["status"] == "completed" and detail["private"]["applicant_name"] == "刘德明"
    assert [e["event_type"] for e in detail["events"] if e["event_type"] != "access"][-1] == "rating"
    listing = client.get("/api/cases?view=today").json
    assert [row["case_id"] for row in listing["rows"]] == [case_id]
    pdf = client.get(f"/api/cases/{case_id}/forms/A.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_bad_input_names_the_field_in_chinese(client: Any) -> None:
    _unlock(client)
    r = client.post("/api/consultations", json={"question": "?"})
    assert r.status_code == 400 and "applicant_name" in r.json["fields"]
    case_id = client.post("/api/consultations", json={"applicant_name": "甲", "question": "问"}).json["case_id"]
    r = client.post(f"/api/cases/{case_id}/events/suspension", json={"reason": "z"})
    assert r.status_code in (400, 403, 409)
    body = r.json
    assert "fields" in body and any("\u4e00" <= ch <= "\u9fff" for ch in body["reason"])
    r = client.post(f"/api/cases/{case_id}/events/nonsense", json={})
    assert r.status_code == 404
    assert client.post("/api/consultations", data="not json").status_code == 400


def test_openapi_documents_every_route_and_event(client: Any) -> None:
    from schemas.event_types import EVENT_SCHEMAS

    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/cases/{case_id}/events/{event_type}" in spec["paths"]
    assert "/api/consultations" in spec["paths"] and "/api/town" in spec["paths"]
    schemas = spec["components"]["schemas"]
    for event_type in EVENT_SCHEMAS:
        assert f"Event_{event_type}" in schemas
    assert "properties" in schemas["Event_suspension"]
    assert "reason" in schemas["Event_suspension"]["properties"]
    # every API rule of the blueprint is documented
    from flask import current_app  # noqa: F401  (app context below)

    rules = {r.rule for r in client.application.url_map.iter_rules() if r.rule.startswith("/api/")}
    documented = {p.replace("{", "<").replace("}", ">") for p in spec["paths"]}
    assert rules - {"/api/openapi.json"} <= documented


def test_wrong_json_types_name_the_field(client: Any) -> None:
    """Found by tests/node/test_api_fuzz.py: each of these was a 500 before."""
    _unlock(client)
    r = client.get("/api/cases?limit=")
    assert r.status_code == 400 and "limit" in r.json["fields"]
    r = client.post("/api/consultations", json={"applicant_name": 1, "question": "问"})
    assert r.status_code == 400 and "applicant_name" in r.json["fields"]
    r = client.post("/api/consultations", json={"applicant_name": "甲", "question": "问",
                                                "have": "abc"})
    assert r.status_code == 400 and "have" in r.json["fields"]
    case_id = client.post("/api/consultations", json={"applicant_name": "甲", "question": "问"}).json["case_id"]
    for body, field in (({"signature_png_base64": [None]}, "signature_png_base64"),
                        ({"signature_png_base64": "not base64!"}, "signature_png_base64"),
                        ({"private": None}, "private")):
        r = client.post(f"/api/cases/{case_id}/events/completion", json=body)
        assert r.status_code == 400 and field in r.json["fields"], (body, r.json)


def test_the_applicant_correction_by_api(client: Any) -> None:
    """The correction of the applicant's particulars (更正) was a web form only: the API,
    which has every other action, had no way to fix a typo in a name or ID number. It
    checks what the form checks, names the field, and keeps the replaced version sealed."""
    _unlock(client)
    case_id = client.post("/api/consultations", json={
        "applicant_name": "王小眀", "question": "问", "id_number": "410602195001011241"}
    ).json["case_id"]
    url = f"/api/cases/{case_id}/applicant"
    refused = (({"applicant_name": " "}, "applicant_name", "required"),
               ({"applicant_name": "王小明", "id_number": "4106021950"}, "id_number", "18"),
               ({"applicant_name": "王小明", "phone": "电话"}, "phone", "digits"),
               ({"applicant_name": "王小明", "id_number": 410602195001011233}, "id_number",
                "must be text"))
    for body, field, rule in refused:
        r = client.post(url, json=body)
        assert r.status_code == 400 and rule in r.json["fields"][field], (body, r.json)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json["fields"][field])
    assert client.post(url, data="not json").status_code == 400
    assert client.get(f"/api/cases/{case_id}").json["private"]["applicant_name"] == "王小眀"
    r = client.post(url, json={"applicant_name": "王小明", "id_type": "resident_id",
                               "id_number": "410602195001011233", "phone": "13800000000"})
    assert r.status_code == 200 and r.json["changed"] is True, r.json
    private = client.get(f"/api/cases/{case_id}").json["private"]
    assert (private["applicant_name"], private["id_number"]) == ("王小明", "410602195001011233")
    stored = client.application.extensions["bangban_node"].store.get(f"case:{case_id}")
    assert "private" not in stored and "王小明" not in str(stored)  # sealed
    assert [h["field"] for h in stored["history"]] == ["private"]
    assert "sealed" in str(stored["history"]) and "王小眀" not in str(stored["history"])
    again = client.post(url, json={"applicant_name": "王小明", "id_type": "resident_id",
                                   "id_number": "410602195001011233", "phone": "13800000000"})
    assert again.status_code == 200 and again.json["changed"] is False
    assert client.post("/api/cases/nonexistent/applicant",
                       json={"applicant_name": "甲"}).status_code == 404
