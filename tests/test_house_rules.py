"""The brief's house rules that a machine can check, over the whole tree.

- Imports flow one way: ``schemas`` <- ``sync`` <- ``node``, ``hub``; ``sync`` never
  imports Flask (its HTTP core is WSGI without a framework, so a town relay can serve it);
  ``node`` and ``hub`` never import each other (they meet only on the wire).
- Modules of at most 400 lines (tests and ``ops/pouchdb``'s JavaScript aside). Each
  session's notes had to find the ones that had grown past it by hand.

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "sync", "node", "hub", "ops")
#: What each package may not import (top-level module names).
FORBIDDEN = {
    "schemas": {"sync", "node", "hub", "ops", "flask", "werkzeug"},
    "sync": {"node", "hub", "ops", "flask", "werkzeug"},
    "node": {"hub", "ops"},
    "hub": {"node", "ops"},
}
MAX_LINES = 400


def _modules(root: Path) -> list[tuple[str, Path]]:
    return [(pkg, f) for pkg in PACKAGES for f in sorted((root / pkg).rglob("*.py"))
            if "node_modules" not in f.parts]


def _imported(path: Path) -> set[str]:
    """Top-level names of every absolute import in ``path``, at any depth."""
    names: set[str] = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(n, ast.Import):
            names.update(a.name.split(".")[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            names.add(n.module.split(".")[0])
    return names


def layer_violations(root: Path) -> list[str]:
    return [f"{path.relative_to(root)} imports {name} ({pkg} may not)"
            for pkg, path in _modules(root)
            for name in sorted(_imported(path) & FORBIDDEN.get(pkg, set()))]


def oversized(root: Path) -> list[str]:
    out = []
    for _, path in _modules(root):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out.append(f"{path.relative_to(root)}: {n} lines > {MAX_LINES}")
    return out


def test_imports_flow_one_way() -> None:
    assert layer_violations(ROOT) == []


def test_every_module_is_within_400_lines() -> None:
    assert oversized(ROOT) == []


def test_the_checks_see_a_planted_violation(tmp_path: Path) -> None:
    """The two checks above read a real tree: a wrong import, even inside a function, and
    a long module are named."""
    (tmp_path / "sync").mkdir()
    (tmp_path / "sync" / "bad.py").write_text(
        "def f():\n    from flask import Flask\n    import hub.core\n" + "x = 1\n" * 400)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "ok.py").write_text("from . import rules\nimport json\n")
    assert layer_violations(tmp_path) == ["sync/bad.py imports flask (sync may not)",
                                          "sync/bad.py imports hub (sync may not)"]
    assert oversized(tmp_path) == ["sync/bad.py: 403 lines > 400"]
