"""A hub folder written by an older version, opened by this one: what was folded by an
older fold (``hub.oversight.materialize.FOLD_VERSION``) is said and folded again, once.

The old layout is written explicitly: an ``oversight.sqlite`` whose ``PRAGMA
user_version`` is the fold before this one, as a hub of the previous release leaves it
(f2913b3, FOLD_VERSION 5; the version is all that marks it)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from hub import doctor
from hub.oversight import FACTS_FILE, Oversight
from hub.oversight.materialize import FOLD_VERSION
from tests.hub.conftest import VILLAGE_A, World

ROOT = Path(__file__).resolve().parents[2]


def _old_fold(world: World) -> Path:
    """The hub's facts folded (a case of village A in them), then marked as an older
    version's; one made-up row stands for the counts the old fold got wrong."""
    a = world.node(VILLAGE_A)
    a.new_case()
    a.sync()
    path = Path(world.hub.settings.hub_dir) / FACTS_FILE
    ov = Oversight(world.hub)
    assert ov.catch_up(force=True) >= 1
    ov.facts.close()
    db = sqlite3.connect(path)
    db.execute("INSERT OR REPLACE INTO facts (case_id, institution, data) VALUES ('old-fold-row', ?, '{}')",
               (VILLAGE_A,))
    db.execute(f"PRAGMA user_version = {FOLD_VERSION - 2}")
    db.commit()
    db.close()
    return path


def test_the_doctor_says_the_facts_of_an_older_fold_wait_for_serve(world: World) -> None:
    """It said "oversight facts: 0 changes behind the main feed" (the old file's own
    checkpoint), while the dashboards showed the old version's counts until `hub serve` was
    restarted: the operator had no word that the service still ran the old fold."""
    path = _old_fold(world)
    checks = {c.name: c for c in doctor.run(world.hub)}
    facts = checks["oversight facts"]
    assert facts.status == "warn", facts
    assert f"fold {FOLD_VERSION - 2}" in facts.detail and f"folds {FOLD_VERSION}" in facts.detail
    assert "restart `bangban hub serve`" in facts.hint
    # the doctor only looks: the file is still the old one for `hub serve` to discard
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == FOLD_VERSION - 2
    db.close()


def test_oversight_refresh_folds_an_older_fold_again(world: World) -> None:
    """`hub oversight refresh` (the runbook's answer to stale dashboards) folded the new
    changes into the old version's file, kept its rows and said "N cases folded"; the old
    counts stayed until the next `hub serve`."""
    path = _old_fold(world)
    res = subprocess.run([sys.executable, "-m", "ops.cli", "hub", "--hub-dir",
                          str(world.hub.settings.hub_dir), "oversight", "refresh"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "folded by another version" in res.stderr
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == FOLD_VERSION
    assert not db.execute("SELECT 1 FROM facts WHERE case_id = 'old-fold-row'").fetchone()
    assert db.execute("SELECT count(*) FROM facts").fetchone()[0] >= 1  # folded again
    db.close()
