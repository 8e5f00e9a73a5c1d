"""``bangban hub catalog import`` as the city's catalog officer uses it (6.2.4): files as
Windows tools save them, and errors that name the item, the field and the rule, with the
list already published left as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ops.cli import main
from schemas import sample

from .test_cli import _err


def _stored(hub_dir: str) -> dict[str, dict[str, Any]]:
    from hub.core import Hub
    from hub.settings import Settings

    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        return dict(hub.stores.service_items(max_age=0))
    finally:
        hub.close()


def _officer_item(code: str, **changes: Any) -> dict[str, Any]:
    """A sample item as an officer writes it: no document members (_id, type, version)."""
    item = next(i for i in sample.catalog() if i["code"] == code)
    return {**{k: v for k, v in item.items() if k not in ("_id", "type", "schema_version")},
            **changes}


def _import(hub_dir: str, path: Path) -> list[str]:
    return ["hub", "--hub-dir", hub_dir, "catalog", "import", str(path)]


def test_a_code_twice_in_one_file_is_refused_naming_both(hub_dir: str, tmp_path: Path,
                                                          capsys: Any) -> None:
    """Before, both were stored one over the other: "2 service items imported", one kept,
    and which one was the file's order."""
    f = tmp_path / "catalog.json"
    f.write_text(json.dumps([_officer_item("QY-001"), _officer_item("QY-002"),
                             _officer_item("QY-001", name="企业设立登记（新）")]), "utf-8")
    err = _err(capsys, *_import(hub_dir, f))
    assert "items[2] (QY-001)" in err and "items[0]" in err and "code" in err, err
    assert _stored(hub_dir) == {}


def test_a_promise_over_the_statutory_limit_is_refused(hub_dir: str, tmp_path: Path,
                                                       capsys: Any) -> None:
    """10.1.3: an item changed to 即办 (time limit 0) with its promise of 2 days left: every
    station pre-filled form A with 2 and refused it as over the statutory limit."""
    f = tmp_path / "catalog.json"
    f.write_text(json.dumps([_officer_item("QY-001", time_limit_days=0)]), "utf-8")
    err = _err(capsys, *_import(hub_dir, f))
    assert "items[0] (QY-001)" in err and "promised_days" in err and "10.1.3" in err, err
    f.write_text(json.dumps([_officer_item("QY-001", time_limit_days=0, promised_days=0)]),
                 "utf-8")
    assert main(_import(hub_dir, f)) == 0
    assert _stored(hub_dir)["QY-001"]["time_limit_days"] == 0


def test_a_file_saved_with_a_bom_or_in_gbk(hub_dir: str, tmp_path: Path,
                                          capsys: Any) -> None:
    """A BOM (Notepad, Excel) was 'not valid JSON'; a GBK file too, sending the officer
    to look for a syntax error the file does not have."""
    items = [_officer_item("QY-001"), _officer_item("QY-002")]
    text = json.dumps(items, ensure_ascii=False)
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes(text.encode("gbk"))
    err = _err(capsys, *_import(hub_dir, gbk))
    assert "not UTF-8" in err and "GBK" in err, err
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert main(_import(hub_dir, bom)) == 0
    assert sorted(_stored(hub_dir)) == ["QY-001", "QY-002"]


def test_a_bad_import_leaves_the_published_list_as_it_was(hub_dir: str, tmp_path: Path,
                                                          capsys: Any) -> None:
    """Each error names the item, the field and the rule; the list published before is
    neither lost nor half replaced."""
    f = tmp_path / "catalog.json"
    f.write_text(json.dumps([_officer_item("QY-001"), _officer_item("QY-002")]), "utf-8")
    assert main(_import(hub_dir, f)) == 0
    before = _stored(hub_dir)
    for bad, field in ((-1, "time_limit_days"), ("三天", "time_limit_days"),
                       (None, "department")):
        second = (_officer_item("QY-002", time_limit_days=bad) if field == "time_limit_days"
                  else {k: v for k, v in _officer_item("QY-002").items() if k != field})
        f.write_text(json.dumps([_officer_item("QY-001", name="改名"), second]), "utf-8")
        err = _err(capsys, *_import(hub_dir, f))
        assert "items[1] (QY-002)" in err and field in err, err
        assert _stored(hub_dir) == before
