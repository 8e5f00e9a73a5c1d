"""Regenerate the English catalog: ``python node/translations/update.py``.

Extracts the Chinese msgids (the UI's source language is zh-CN) from the node's code and
templates with pybabel, fills the English strings from the table in ``catalog_en.py``
(:data:`EN`), writes ``en/LC_MESSAGES/messages.po`` and compiles ``messages.mo`` (committed:
no build step on a station laptop). Run as a script: the table is its sibling module.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from catalog_en import EN  # the script's own folder is first on sys.path

HERE = Path(__file__).resolve().parent
NODE = HERE.parent
sys.path.insert(0, str(NODE.parent))  # this tree's schemas, not an installed one's
from schemas.field_labels import FIELD_LABELS  # noqa: E402  (node.steps wraps each in _l)


def main() -> int:
    pot = HERE / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(NODE / "babel.cfg"), "-k", "_l", "-o", str(pot), "--omit-header",
                    # files relative to node/, without line numbers: the catalog was rewritten
                    # whole by every edit anywhere (and named the worktree it was made in)
                    "--add-location=file", "."], check=True, cwd=NODE)
    with pot.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for zh in FIELD_LABELS.values():  # msgids pybabel cannot see: _l(v) of a variable
        if zh not in catalog:
            catalog.add(zh, locations=[("../schemas/field_labels.py", 0)])
    missing = []
    for message in catalog:
        if message.id:
            message.string = EN.get(str(message.id), "")
            if not message.string:
                missing.append(message.id)
    out = HERE / "en" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "messages.po").open("wb") as fh:
        write_po(fh, catalog, width=100)
    with (out / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    pot.unlink()
    for m in missing:
        print("untranslated:", m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
