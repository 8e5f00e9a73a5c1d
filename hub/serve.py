"""``bangban hub serve``: the Flask app on waitress (threads, keep-alive), plus the workers.

Prints ``hub listening on URL`` (flushed) once the socket is bound, so scripts and
tests that start it as a process know where it is (``--port 0`` picks a free port).
SIGTERM/SIGINT stop accepting, stop the workers and close the stores.

``--processes N`` (``BANGBAN_HUB_PROCESSES``) pre-forks N gateway processes that accept
on one listening socket, as gunicorn does: validation is CPU work under Python's GIL, so
one process uses one core. The gateways share nothing but the store (design.md §7:
stateless gateways, indexes in the store). The workers run in a process of their own at a
lower CPU priority, restarted if it crashes (:mod:`hub.workers.process`). A gateway
leaves a new connection to a sibling that holds fewer (:mod:`hub.balance`): keep-alive
connections stay where they were accepted, and a lopsided split idles a core.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.balance import Balance
from hub.errors import ConfigError, HubError
from hub.folderlock import hold_folder
from sync.errors import SyncError

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.settings import Settings
    from hub.workers.shared import SharedWorkerState

#: Modules a gateway's requests import lazily (inside functions, so that CLI commands start
#: fast). ``serve`` imports them once before the fork: otherwise every gateway imported
#: them during its first request, about 0.2 s of CPU each (92 modules: the signature and
#: schema checks, the CouchDB HTTP core), counted in the time of the first devices' pushes.
#: The forked gateways share the loaded pages.
PRELOAD = ("hub.app", "hub.validate", "hub.signatures", "hub.transitions", "hub.workers",
           "hub.oversight", "schemas.registry", "schemas.fold", "sync.crypto", "sync.chunks",
           "sync.http.routing", "sync.http.replication", "sync.http.server")


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:  # the port is taken (another `hub serve`?) or no such address
        sock.close()
        raise ConfigError(f"--port {port} --host {host}: cannot listen ({exc.strerror or exc}); "
                          "stop what holds it or give another --port (BANGBAN_HUB_PORT)") from exc
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


class _Stop(SystemExit):
    """Raised in the main thread by SIGTERM/SIGINT to leave waitress's loop.

    A SystemExit: waitress's loop lets only those (and KeyboardInterrupt) out of a
    connection's handler and swallows any other exception there (it logs "uncaptured
    python exception, closing channel"). A SIGTERM that came while the loop handled a
    connection was lost, and the hub, under load, ran on until it was killed."""


def gateway_server(settings: Any, app: Callable[..., Any], **adjustments: Any) -> Any:
    """The waitress server of one gateway (``adjustments``: ``sockets``, or ``host`` and
    ``port``, and ``map``), not yet running."""
    from sync.http import make_waitress

    proxy: dict[str, Any] = {}
    if int(settings.proxy_hops):
        # waitress drops every X-Forwarded-* header of a peer it does not trust before the
        # app sees it (sync.http._waitress: clear_untrusted_proxy_headers), so the app's
        # ProxyFix (hub.app) found no X-Forwarded-For under `hub serve` and counted every
        # visitor as the proxy. Trusted here for that header only, the same hops from the
        # right: waitress sets the client's address, ProxyFix then reads the same one (a
        # header of fewer entries, sent past the proxies, waitress takes at its first: the
        # runbook's "0 when clients reach the hub directly" holds for both alike).
        proxy = {"trusted_proxy": "*", "trusted_proxy_count": int(settings.proxy_hops),
                 "trusted_proxy_headers": {"x-forwarded-for"}}
    return make_waitress(
        app, max_request_bytes=settings.max_request_bytes, ident="CouchDB/3.3.3 (Bangban hub)",
        threads=settings.hub_threads, connection_limit=settings.hub_connection_limit,
        # A longpoll waits up to longpoll_timeout; idle keep-alive connections go after 2x.
        channel_timeout=max(60, int(2 * settings.longpoll_timeout)), **proxy, **adjustments)


def _gateway(settings: Any, sock: socket.socket, *, workers_state: SharedWorkerState | None,
             announce: bool, balance: Balance | None = None, index: int = 0,
             signalled: list[int] | None = None) -> None:
    """One gateway process: its own Hub (store connections are never shared across fork).

    Served by waitress (:func:`sync.http.make_waitress`: keep-alive, ``hub_threads``
    request threads, an idle device connection holds none, CouchDB-shaped errors
    for what waitress refuses itself, such as a body over ``max_request_bytes``).
    """
    from hub.app import create_app
    from hub.core import Hub
    from hub.profiling import from_env

    hub = Hub(settings)
    hub.workers_state = workers_state  # /_hub/health: the workers' busy flag and counters
    app = create_app(hub=hub)
    profiles = from_env()  # BANGBAN_HUB_PROFILE: cProfile of every request and workers pass
    server = gateway_server(settings, profiles.wsgi(app) if profiles else app, sockets=[sock])
    if balance is not None:  # hub.balance: leave a new connection to a less busy sibling
        balance.attach(server, index)

    stopped: list[int] = []  # lists: nothing in a handler may take a lock

    def stop(signum: int, frame: Any) -> None:
        stopped.append(signum)
        if signalled is not None:
            signalled.append(signum)
        raise _Stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            if announce:
                if balance is not None:  # every gateway accepting first (hub.balance)
                    balance.wait_for_siblings(index, timeout=30.0)
                print(f"hub listening on http://{settings.hub_host}:{sock.getsockname()[1]}",
                      flush=True)
                sys.stdout.flush()
            server.run()
        except _Stop:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not stopped:  # waitress's run() took the stop itself and waited 5 s for the
            # request threads: a second wait made a gateway with a feed open take 10 s
            server.task_dispatcher.shutdown(timeout=5)
        hub.close()
        if profiles:
            profiles.write()


def _die_with(parent: int) -> None:
    """End this child (a gateway, the workers' process) when its parent ends, even by SIGKILL (Linux
    ``prctl(PR_SET_PDEATHSIG)``; elsewhere a no-op). An orphaned gateway keeps serving the
    hub's port with the old code, and the restarted hub finds the port in use."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before prctl took effect
        raise _Stop()


def _refold_if_stale(settings: Any) -> None:
    """An oversight file folded by an older version is discarded before any gateway opens
    it (hub.oversight.materialize.FOLD_VERSION); the workers fold the feed again."""

    from hub.oversight import FACTS_FILE, discard_if_stale

    if discard_if_stale(Path(settings.hub_dir) / FACTS_FILE):
        print(f"hub: {FACTS_FILE} was folded by an older version: folding the feed again "
              "(the dashboards say so until it is done)", file=sys.stderr, flush=True)


#: Seconds between two tries of the store while ``hub serve`` waits for it, and at least
#: between two lines saying so.
STORE_RETRY, STORE_SAY_EVERY = 1.0, 5.0
#: CouchDB (connect, read) seconds of each try while `hub serve` waits for its store: the
#: hub's identity is one small document, read in milliseconds from a CouchDB that works.
PROBE_TIMEOUT = (3.0, 5.0)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def open_when_the_store_answers(settings: Any, say: Callable[[str], None] = _say) -> Hub:
    """The hub of ``settings`` once its store answers (its identity read), before the port
    is bound. CouchDB still coming up (at boot, or started by hand at the same time) is
    waited for up to ``store_wait`` seconds, said every few seconds: ``hub serve`` exited 2
    at once, and only systemd's ``Restart=on-failure`` started it again; by hand it just
    died. CouchDB refusing the hub's user name or password is not waited for (it does not
    change by itself), nor a hub that is not there (NotInitialized)."""
    from hub.core import Hub
    from hub.storage import HubStores, store_cause

    # Each try bounded (PROBE_TIMEOUT): with the client's default read wait (120 s) a
    # CouchDB that hangs (a paused VM) held the first try 2 minutes, silent, past any
    # store_wait, and then it said "did not answer in 10 s". The gateways open their own.
    hub = Hub(settings, HubStores.from_settings(settings, timeout=PROBE_TIMEOUT))
    wait = float(settings.store_wait)
    deadline, said = time.monotonic() + wait, float("-inf")
    try:
        while True:
            try:
                _ = hub.identity
                return hub
            except SyncError as exc:
                now = time.monotonic()
                if store_cause(exc) == "credentials_refused":
                    say("hub: not waiting for the store: a refused user name or password "
                        "does not change by itself")
                    raise
                if now >= deadline:
                    if wait:
                        say(f"hub: the store did not answer in {wait:g} s (store_wait, "
                            "BANGBAN_STORE_WAIT)")
                    raise
                if now - said >= STORE_SAY_EVERY:
                    said, where = now, hub.stores.where
                    what = exc.reason if exc.reason.startswith(where) else f"{where}: {exc.reason}"
                    say(f"hub: waiting for {what}; up to {deadline - now:.0f} s more "
                        "(BANGBAN_STORE_WAIT); Ctrl-C to stop")
                time.sleep(min(STORE_RETRY, deadline - now))
    except KeyboardInterrupt:
        hub.close()
        raise HubError(f"stopped while waiting for the store ({hub.stores.where})",
                       status=503, error="service_unavailable") from None
    except BaseException:
        hub.close()
        raise


def serve(config: Mapping[str, Any] | None = None) -> int:
    """Serve until SIGTERM/SIGINT (0) or until one of the hub's processes ends (1)."""
    from hub.settings import Settings

    settings = Settings.load(config)
    from hub.backup import unfinished_note

    cut = unfinished_note(settings.hub_dir)  # not a store to serve: part of a backup
    if cut:
        raise ConfigError(f"not serving: {cut}")
    with hold_folder(settings.path, doing="serve"):
        return _serve(settings)


def _serve(settings: Settings) -> int:
    from hub.keys import own_key_id

    probe = open_when_the_store_answers(settings)  # before binding the port
    try:
        try:  # the keys sign terminations (10.2.5.2), directories and boards: no start without
            own_key_id(probe)  # and they are this hub's (hub.keys)
        except SyncError as exc:
            raise ConfigError(f"HUB_DIR/keys: {exc.reason} (they open with "
                              "BANGBAN_HUB_KEY_PASSPHRASE when it is set, else with "
                              "HUB_DIR/keys/passphrase; `bangban hub doctor`)") from exc
    finally:
        probe.close()
    _refold_if_stale(settings)
    for name in PRELOAD:
        importlib.import_module(name)
    sock = _listen(settings.hub_host, settings.hub_port)
    # Several processes wait on one listening socket: all wake for a connection, one gets
    # it. Non-blocking, the others' accept() fails at once (asyncore's accept returns None
    # on EWOULDBLOCK) instead of blocking the I/O loop.
    sock.setblocking(False)
    gateways = max(1, settings.hub_processes)
    balance = Balance(gateways) if gateways > 1 else None
    children: dict[int, str] = {}
    parent = os.getpid()
    state = None
    if settings.workers:  # forked first, while this process has no threads yet
        from hub.workers.process import start
        from hub.workers.shared import SharedWorkerState

        state = SharedWorkerState()
        children[start(settings, state, close=sock)] = "the workers' supervisor"
    for index in range(1, gateways):
        pid = os.fork()
        if pid == 0:  # a gateway child: serve until SIGTERM, never return into the CLI
            code = 0
            try:
                _die_with(parent)
                _gateway(settings, sock, workers_state=state, announce=False,
                         balance=balance, index=index)
            except _Stop:  # the parent ended while this child started
                pass
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children[pid] = f"gateway {index + 1} of {gateways}"
    watch = ChildWatch(children)
    watch.start()
    try:
        _gateway(settings, sock, workers_state=state, announce=True, balance=balance,
                 signalled=watch.signalled)
    finally:
        watch.stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # reaped by the watch
                pass
        sock.close()
    return 1 if watch.ended else 0


class ChildWatch(threading.Thread):
    """The main process's watch over its children (the other gateways, the workers'
    supervisor). One that ends while the hub runs ends the hub, exit 1, after one log line
    naming it: nothing else would start it again (forking from this threaded process is
    unsafe, hub.workers.process), and the hub ran on without it, its health saying ok. A
    supervisor killed took the workers with it (``_die_with``): no scope indexing,
    routing or conflict resolution until a restart, and nothing said so. The service
    manager (``Restart=on-failure``) starts the hub again whole; stations retry meanwhile,
    and what they pushed is stored or goes again (``_revs_diff``)."""

    #: Seconds between two looks; and the grace for a child that ended at its own request
    #: (exit 0, SIGTERM) to be followed by this process's own stop signal (a service manager
    #: signals the whole group).
    INTERVAL, GRACE = 0.5, 3.0

    def __init__(self, children: Mapping[int, str], say: Callable[[str], None] = _say,
                 stop: Callable[[], None] = lambda: os.kill(os.getpid(), signal.SIGTERM)):
        super().__init__(name="hub-child-watch", daemon=True)
        self.children = dict(children)
        self.say, self.stop = say, stop
        self.signalled: list[int] = []  # the main gateway's stop signals
        self.stopping = False
        self.ended = ""

    def run(self) -> None:
        while not self.stopping and not self.signalled:
            for pid, name in list(self.children.items()):
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status = pid, 0
                if done:
                    del self.children[pid]
                    self._ended(pid, name, status)
                    return
            time.sleep(self.INTERVAL)

    def _ended(self, pid: int, name: str, status: int) -> None:
        from hub.workers.process import _exit_reason

        asked = status == 0 or (os.WIFSIGNALED(status)
                                and os.WTERMSIG(status) in (signal.SIGTERM, signal.SIGINT))
        deadline = time.monotonic() + (self.GRACE if asked else 0)
        while time.monotonic() < deadline and not (self.stopping or self.signalled):
            time.sleep(0.05)
        if self.stopping or self.signalled:  # the hub is stopping: the group was signalled
            return
        self.ended = f"{name} (pid {pid}) ended ({_exit_reason(status)})"
        self.say(f"hub: {self.ended}; stopping the hub (exit 1) for its service manager to "
                 "start it again whole (Restart=on-failure)")
        self.stop()
