"""A hub on the embedded store with Hebi's sample institutions, catalog and calendars;
cases are written to the main database in their stored (cleartext) form, as the hub
receives them: ``private`` removed, a ``sealed`` stand-in and a device ``sig`` present
(the hub's validator checked the real ones on receipt; oversight reads neither)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

CITY = "410600"


def stored(doc: Mapping[str, Any], *, signed: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "private"}
    if "private" in doc:
        out["sealed"] = {"v": 1, "kid": "dk-test", "ct": "AAAA"}
    if signed:
        out["sig"] = {"alg": "ed25519", "kid": "test", "sig": "AAAA"}
    return out


def put_cases(hub: Any, histories: Iterable[list[dict[str, Any]]], **kw: Any) -> int:
    docs = [stored(d, **kw) for h in histories for d in h]
    hub.stores.main.bulk_docs(docs)
    return len(docs)


def make_hub(folder: Path, couchdb_url: str = "", **options: Any) -> Any:
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from schemas import sample

    config: dict[str, Any] = {"hub_dir": str(folder / "hub"), "scrypt_n": 1024, **options}
    if couchdb_url:
        import uuid

        config |= {"couchdb_url": couchdb_url, "db_prefix": "ov" + uuid.uuid4().hex[:10]}
    settings = Settings.load(config, environ={})
    hub = Hub(settings)
    admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
    admin.import_institutions(hub, [i for i in sample.institutions() if i["code"] != CITY])
    admin.import_catalog(hub, sample.catalog())
    for cal in sample.calendars():
        admin.set_calendar(hub, year=cal["year"], holidays=cal["holidays"],
                           workdays=cal["workdays"])
    return hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Any]:
    h = make_hub(tmp_path)
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def report_said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every paragraph the monthly PDF report writes, as text (a PDF's text is compressed)."""
    import reportlab.platypus

    said: list[str] = []

    class Recorded(reportlab.platypus.Paragraph):  # type: ignore[misc]
        def __init__(self, text: str, *args: Any, **kw: Any) -> None:
            said.append(text)
            super().__init__(text, *args, **kw)

    monkeypatch.setattr(reportlab.platypus, "Paragraph", Recorded)
    return said
