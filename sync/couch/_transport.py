"""The one door to a CouchDB-API server: an ``ibmcloudant`` client plus error translation.

Everything the couch backend sends goes through :class:`Transport`, which owns a
:class:`ibmcloudant.cloudant_v1.CloudantV1` client (the brief: CouchDB is reached
only through IBM's SDK). Named SDK operations are used where the SDK has one;
endpoints it lacks (``_revs_limit``, ``_compact``, ``open_revs``, GET
``_changes`` with a selector) go through the SDK's own ``prepare_request`` /
``send`` so authentication, gzip and hooks still apply.

Foreign errors stop here (house style: one exception tree, translated at the
boundary): ``ApiException`` becomes the :mod:`sync.errors` class for its status
with CouchDB's ``error``/``reason`` from the body; connection failures and
timeouts become :class:`sync.errors.TransportError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import requests
import urllib3
from ibm_cloud_sdk_core import ApiException, DetailedResponse
from ibm_cloud_sdk_core.authenticators import BasicAuthenticator, NoAuthAuthenticator
from ibmcloudant.cloudant_v1 import CloudantV1

from sync import errors
from sync.couch._stream import ResultsStream, Truncated
from sync.couch._translate import _result, is_read_timeout, split_url, translate

T = TypeVar("T")

#: Default (connect, read) timeouts in seconds. Reads are generous because a
#: big ``_bulk_docs`` on a slow hub can take a while; longpoll sets its own.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 120.0)


@dataclass
class TransportStats:
    """Per-transport counters: requests sent and body bytes on the wire (after gzip)."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, sent: int = 0, received: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes_sent += sent
            self.bytes_received += received

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "bytes_sent": self.bytes_sent,
                "bytes_received": self.bytes_received}

    def reset(self) -> None:
        with self._lock:
            self.requests = self.bytes_sent = self.bytes_received = 0


class _Client(CloudantV1):
    """CloudantV1 whose per-call ``timeout`` wins over the service-wide default.

    ``BaseService.send`` lets ``http_config`` override per-call keyword arguments,
    so the default timeout lives here instead and ``http_config`` stays empty;
    longpoll can then pass its own read timeout.
    """

    default_timeout: tuple[float, float] = DEFAULT_TIMEOUT

    def send(self, request: Any, **kwargs: Any) -> DetailedResponse:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().send(request, **kwargs)


_TRANSLATED = (ApiException, requests.exceptions.RequestException, ConnectionError,
               TimeoutError, TypeError, ValueError)


def _session_for(service_url: str) -> requests.Session:
    """A session that reads proxy and CA settings from the environment once.

    With ``trust_env`` requests re-reads every ``*_proxy`` variable on each request
    (about a millisecond with a large environment); the replicator sends many
    small requests, so the environment is consulted here, once per transport.
    """
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(service_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class Transport:
    """One SDK client for one server, with timeouts, gzip and counters."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        gzip: bool = False,
        session: requests.Session | None = None,
        on_error: Callable[[errors.SyncError], errors.SyncError] | None = None,
    ) -> None:
        service, user, password, _ = split_url(url, db=False)
        self.service_url = service
        #: Given every translated error before it is raised: a service whose own store this
        #: server is says in it which setting names the server (the hub: BANGBAN_COUCHDB_URL).
        self.on_error = on_error
        self.connect_timeout, self.read_timeout = (
            (float(timeout), float(timeout)) if isinstance(timeout, (int, float)) else
            (float(timeout[0]), float(timeout[1]))
        )
        authenticator = (
            BasicAuthenticator(user, password or "") if user is not None else NoAuthAuthenticator()
        )
        client = _Client(authenticator=authenticator)
        client.default_timeout = (self.connect_timeout, self.read_timeout)
        client.set_http_config({})  # see _Client: timeouts are per call
        client.set_service_url(service)
        client.set_enable_gzip_compression(gzip)
        self.stats = TransportStats()
        self.session = session or _session_for(service)
        client.set_http_client(self.session)
        # First hook: count before the SDK's error hook swaps the response body.
        self.session.hooks["response"].insert(0, self._count)
        self.client = client
        self._flavor: str | None = None
        #: endpoints this server was found to have (True) or lack (False), learnt on first
        #: use: PouchDB Server 4.2 lacks some CouchDB 3 ones (``_all_docs/queries``)
        self.features: dict[str, bool] = {}

    # -- counters -----------------------------------------------------------
    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        body = response.request.body if response.request is not None else None
        sent = len(body) if isinstance(body, (bytes, str)) else 0
        received = 0
        if not kwargs.get("stream"):
            content = response.content  # read now; requests reads it right after anyway
            raw_read = getattr(response.raw, "tell", None)
            wire = raw_read() if callable(raw_read) else 0
            received = wire if isinstance(wire, int) and wire > 0 else len(content or b"")
        self.stats.add(requests=1, sent=sent, received=received)
        return response

    # -- calls ----------------------------------------------------------------
    def translate(self, exc: BaseException) -> errors.SyncError:
        """:func:`translate`, then :attr:`on_error`."""
        error = translate(exc)
        return self.on_error(error) if self.on_error is not None else error

    def call(self, fn: Callable[..., DetailedResponse], *args: Any, **kwargs: Any) -> Any:
        """Run one SDK operation and return its JSON result (or raw response)."""
        try:
            return _result(fn(*args, **kwargs), head=fn.__name__.startswith("head_"))
        except _TRANSLATED as exc:
            raise self.translate(exc) from exc

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: tuple[float, float] | None = None,
        stream: bool = False,
    ) -> Any:
        """An endpoint the SDK has no method for, still sent through the SDK."""
        headers = {"Accept": "application/json"}
        data: str | None = None
        if body is not None:
            data = json.dumps(body)
            headers["content-type"] = "application/json"
        kwargs: dict[str, Any] = {"timeout": timeout} if timeout else {}
        if stream:
            kwargs["stream"] = True
        try:
            req = self.client.prepare_request(method=method, url=path, headers=headers,
                                              params=dict(params or {}), data=data)
            return _result(self.client.send(req, **kwargs), head=method == "HEAD" or stream)
        except _TRANSLATED as exc:
            raise self.translate(exc) from exc

    def request_until(
        self,
        method: str,
        path: str,
        deadline: float,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Like :meth:`request` but give up at ``deadline`` (``time.monotonic``): ``None``.

        A socket read timeout alone is not enough for longpoll: a server that sends
        heartbeat newlines (PouchDB Server ignores ``timeout``) would reset it forever.
        """
        import time

        remaining = deadline - time.monotonic()
        try:
            resp = self.request(method, path, params=params, body=body, stream=True,
                                timeout=(self.connect_timeout, max(0.05, remaining)))
        except errors.TransportError as exc:
            if exc.__cause__ is not None and is_read_timeout(exc.__cause__):
                return None  # not even the headers came before the deadline
            raise
        chunks: list[bytes] = []
        late = False
        try:
            for chunk in resp.iter_content(chunk_size=None):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    late = True
                    break
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if not is_read_timeout(exc):
                raise self.translate(exc) from exc
            late = True
        finally:
            self.stats.add(received=sum(map(len, chunks)))
            resp.close()
        try:
            return json.loads(b"".join(chunks))
        except ValueError as exc:
            if late:  # only heartbeats or a partial body before the deadline
                return None
            raise errors.TransportError(f"truncated or invalid JSON from {path}") from exc

    def stream_results(self, fn: Callable[..., DetailedResponse], *args: Any,
                       **kwargs: Any) -> dict[str, Any]:
        """Run an SDK ``*_as_stream`` operation whose answer is ``{"results": [...]}``
        and parse it as it arrives; a break mid-body raises
        :class:`errors.TransportError` whose ``partial`` holds the complete results
        received before it (see :mod:`sync.couch._stream`)."""
        resp = self.call(fn, *args, **kwargs)
        parser = ResultsStream()
        try:
            # read1, not iter_content: a read that fills a fixed-size chunk loses the
            # bytes it had when the link breaks part way (urllib3 raises IncompleteRead
            # and drops its buffer); read1 hands over whatever has arrived.
            while chunk := resp.raw.read1(65536, decode_content=True):
                parser.feed(chunk)
            return parser.close()
        except _TRANSLATED + (urllib3.exceptions.HTTPError,) as exc:
            # Whatever broke the body (the link, a cut, garbage) is a transport error:
            # the status line already said 2xx, and a retry may well get the rest.
            error = errors.TransportError(f"truncated answer: {exc}" if isinstance(exc, Truncated)
                                          else translate(exc).reason)
            error.partial = parser.salvage()
            raise (self.on_error(error) if self.on_error else error) from exc
        finally:
            wire = resp.raw.tell() if resp.raw is not None else 0
            self.stats.add(received=wire if isinstance(wire, int) else 0)
            resp.close()

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        try:
            yield
        except _TRANSLATED as exc:
            raise self.translate(exc) from exc

    def flavor(self) -> str:
        """``"pouchdb-server"`` or ``"couchdb"`` (from ``GET /``), asked once.

        Needed only to avoid requests that crash PouchDB Server 4.2.0
        (shared/spec/test-environment.md: POST ``_changes`` with a selector).
        """
        if self._flavor is None:
            welcome = self.call(self.client.get_server_information) or {}
            self._flavor = "pouchdb-server" if "express-pouchdb" in welcome else "couchdb"
        return self._flavor

    def close(self) -> None:
        self.session.close()


def path(*segments: str) -> str:
    """``/seg/seg`` with each segment percent-encoded (``_design/x`` keeps its slash)."""
    out = []
    for seg in segments:
        if seg.startswith(("_design/", "_local/")):
            prefix, _, rest = seg.partition("/")
            out.append(f"{prefix}/{quote(rest, safe='')}")
        else:
            out.append(quote(seg, safe=""))
    return "/" + "/".join(out)
