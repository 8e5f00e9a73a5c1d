"""The oversight pages while the hub's store fails (CouchDB down, or refusing the hub's
password): a page in the dashboard's own words and style, not the stations' JSON.

Decided by the blueprint, not guessed from headers: every route under ``/oversight/`` is
a page a person opens in a browser (the exports and the monthly report are links on those
pages), so :data:`hub.oversight.views.blueprint` sends this page for all of them, while
the replication endpoint and ``/_hub/`` keep the JSON 503 (:mod:`hub.app`). Other errors
of the store under a page (a document it does not have) are refusals like the hub's own
(:func:`hub.oversight.views.refused`).

The page says what a supervisor can act on: the hub's database does not answer, nothing
stored is lost, the page works again once it answers, call the operator; a form sent
meanwhile was not saved (a complaint typed in must be sent again). The cause and CouchDB's
address go to the hub's log (:func:`hub.app.store_failed`), not to the page: the public
disclosure pages (8.1.2) are open to anyone. ``Retry-After`` (RFC 9110 §10.2.3) comes with
the 503 as with the JSON one.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from sync.errors import SyncError


def store_failed_page(exc: SyncError) -> Any:
    """The blueprint's handler of :class:`sync.errors.SyncError`."""
    from hub.app import RETRY_AFTER, store_down, store_failed
    from hub.oversight.views import refused

    if not store_down(exc):
        return refused(exc)
    store_failed(f"{request.method} {request.path}", exc)
    page = render_template("oversight/unavailable.html", p=None,
                           posted=request.method == "POST",
                           # a citizen reading the disclosure page has no operator to call
                           public=(request.endpoint or "").startswith("oversight.public"))
    return page, 503, {"Retry-After": str(RETRY_AFTER)}
