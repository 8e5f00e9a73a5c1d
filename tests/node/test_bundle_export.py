"""`bangban node bundle export` on a real node folder (design.md §4: no network at all)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from ops.cli import main
from tests.node import test_key_rotation as rotation
from tests.node.test_key_rotation import Station
from tests.node.test_keys_transfer import keys_of

# The key rotation tests' node folder and their autouse small-scrypt fixture.
station = rotation.station
cheap_scrypt = rotation.cheap_scrypt


def _export(station: Station, out: Path) -> int:
    station.close()
    return main(["node", "bundle", "export", "--out", str(out), "--dir", str(station.folder),
                 "--passphrase-file", str(station.pwfile)])


def test_export_writes_a_sealed_signed_file(station: Station, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]):
    from sync.bundle import loads, open_bundle
    from sync.crypto import key_entry

    directory = station.publish([key_entry(keys_of(station.folder).institution_key)])
    out = tmp_path / "stick" / "village.bundle"
    out.parent.mkdir()
    capsys.readouterr()
    assert _export(station, out) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["file"] == str(out) and summary["bytes"] == out.stat().st_size
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = out.read_bytes()
    header, docs = open_bundle(loads(data), directory, station.bundle)
    assert header.recipient == "bundle" and header.key_id == station.bundle.key_id
    assert header.count == summary["documents"] == len(docs) >= 1
    # Byte scan: no private key of the hub's in the file (only the bundle key's public half).
    raw = station.bundle._private_bytes()
    assert raw not in data and raw.hex().encode() not in data
    assert base64.urlsafe_b64encode(raw).rstrip(b"=") not in data
    assert "directory" in {d["_id"] for d in docs}
    assert all("_revisions" in d for d in docs)
    # An existing file is never overwritten.
    assert _export(station, out) == 1
    assert "exists" in capsys.readouterr().err


def test_export_needs_the_hubs_directory(station: Station, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]):
    capsys.readouterr()
    assert _export(station, tmp_path / "x.bundle") == 1
    assert "directory" in capsys.readouterr().err
    assert not (tmp_path / "x.bundle").exists()


def test_export_refuses_a_directory_without_a_bundle_key(station: Station, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]):
    """A hub that published before it had a bundle key: no silent fallback to the escrow key
    (that would need the offline key at the hub, design.md §5), but a message in both
    languages saying what to do."""
    from sync.crypto import key_entry

    station.publish([key_entry(keys_of(station.folder).institution_key)], bundle=False)
    capsys.readouterr()
    assert _export(station, tmp_path / "x.bundle") == 1
    err = capsys.readouterr().err
    assert "没有数据包密钥" in err and "no bundle key" in err and "bangban hub bundle key" in err
    assert not (tmp_path / "x.bundle").exists()
