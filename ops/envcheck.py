"""Warn about ``BANGBAN_*`` environment variables no part of Bangban reads.

Every setting is read from the environment by its exact name (docs/CONVENTIONS.md,
"Settings"), so a misspelt one was silently ignored (two letters of the port's name
swapped in ``/etc/bangban/hub.env``): the hub served on its default port and nothing said
why. A warning, not an error: one environment file may serve a hub, a node and the store
server, and a variable the running command does not read is not wrong for that.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping

#: Read by the test harness and the CI script, not by a command (docs/CONVENTIONS.md).
HARNESS = frozenset({"BANGBAN_TEST_COUCHDB_URL", "BANGBAN_POUCHDB_PID", "BANGBAN_POUCHDB_DIR",
                     "BANGBAN_SCREENSHOTS", "BANGBAN_FUZZ_EXAMPLES"})


def known() -> frozenset[str]:
    """Every variable the hub, the node and the store server declare, and the harness's."""
    from hub.settings import SETTINGS as HUB
    from node.settings import SETTINGS as NODE
    from sync.http.settings import HTTPSettings

    names = {s.env for s in (*HUB, *NODE)} | {name for name, _, _ in HTTPSettings.describe()}
    return frozenset(names | HARNESS)


def unknown_lines(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ``BANGBAN_*`` variable that is not a setting, with the closest
    setting's name when one is near (a typo)."""
    env = os.environ if environ is None else environ
    names = known()
    lines = []
    for var in sorted(v for v in env if v.startswith("BANGBAN_") and v not in names):
        near = difflib.get_close_matches(var, names, n=1, cutoff=0.75)
        hint = f" (did you mean {near[0]}?)" if near else ""
        lines.append(f"bangban: warning: {var} is not a Bangban setting and is ignored{hint}; "
                     "`bangban hub --help`, `bangban node --help` and `bangban store serve "
                     "--help` list them")
    return lines
