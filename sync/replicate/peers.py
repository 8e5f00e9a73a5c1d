"""Verify Peers: both databases answer, the target is created on request.

CouchDB docs, "Replication Protocol / Verify Peers": ``GET /source`` must
succeed (404 aborts the replication), ``GET /target`` too unless
``create_target`` is set, in which case the target is created with ``PUT``.
Creating a database needs a server, not a database, so the caller passes a
``create`` callable (the CLI passes the backend's ``create_db``).
"""

from __future__ import annotations

from collections.abc import Callable

from sync.errors import NotFound
from sync.store import JSON, DocumentStore


def verify_peers(
    source: DocumentStore,
    target: DocumentStore,
    *,
    create_target: Callable[[], object] | None = None,
) -> tuple[JSON, JSON]:
    """``(source_info, target_info)``; raises NotFound naming the missing side."""
    try:
        source_info = source.info()
    except NotFound as exc:
        raise NotFound(f"source database {source.name!r} does not exist") from exc
    try:
        target_info = target.info()
    except NotFound as exc:
        if create_target is None:
            raise NotFound(
                f"target database {target.name!r} does not exist (use create_target)"
            ) from exc
        create_target()
        target_info = target.info()
    return source_info, target_info
