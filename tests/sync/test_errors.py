"""The sync error tree carries CouchDB's status/error/reason triple."""

from __future__ import annotations

import pytest

from sync import errors


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, errors.BadRequest, "bad_request"),
        (401, errors.Unauthorized, "unauthorized"),
        (403, errors.Forbidden, "forbidden"),
        (404, errors.NotFound, "not_found"),
        (409, errors.Conflict, "conflict"),
        (412, errors.PreconditionFailed, "file_exists"),
        (413, errors.RequestEntityTooLarge, "too_large"),
    ],
)
def test_from_status_maps_couchdb_codes(status: int, cls: type[errors.SyncError], code: str) -> None:
    exc = errors.from_status(status, None, "why")
    assert type(exc) is cls
    assert exc.status == status
    assert exc.as_json() == {"error": code, "reason": "why"}


def test_unknown_status_keeps_body() -> None:
    exc = errors.from_status(418, "teapot", "short and stout")
    assert isinstance(exc, errors.SyncError)
    assert (exc.status, exc.error, exc.reason) == (418, "teapot", "short and stout")


def test_every_error_is_a_sync_error() -> None:
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, errors.SyncError)
