"""Pure pieces of the hub: settings, credentials, seqs, scope rules, keyring merge."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub import scope
from hub.auth import check_secret, hash_secret, new_secret, parse_basic, scrypt_hash
from hub.errors import ConfigError, DeviceRevoked, Unauthorized
from hub.replication.seqs import join_seq, split_seq
from hub.settings import SETTINGS, Settings, describe
from hub.workers.resolver import merge_keyrings
from sync.errors import BadRequest

CASE = "019ac1f2e3a0-0000-410621100201-A3"


def test_settings_env_prefix_and_precedence(tmp_path):
    env = {"BANGBAN_HUB_DIR": str(tmp_path), "BANGBAN_HUB_PORT": "9999",
           "BANGBAN_WORKERS": "off", "BANGBAN_COUCHDB_URL": "http://x"}
    s = Settings.load(environ=env)
    assert (s.hub_port, s.workers, s.couchdb_url, s.hub_dir) == (9999, False, "http://x",
                                                                 str(tmp_path))
    s.save(db_prefix="town")
    again = Settings.load({"hub_port": 7}, environ={"BANGBAN_HUB_DIR": str(tmp_path)})
    assert (again.db_prefix, again.hub_port) == ("town", 7)  # file, then config wins
    assert all(setting.help for setting in SETTINGS) and "BANGBAN_COUCHDB_URL" in describe()


def test_settings_refuse_bad_values(tmp_path):
    with pytest.raises(ConfigError, match="BANGBAN_HUB_PORT"):
        Settings.load(environ={"BANGBAN_HUB_DIR": str(tmp_path), "BANGBAN_HUB_PORT": "x"})
    with pytest.raises(ConfigError, match="unknown"):
        Settings.load({"hub_dirr": "x"})


def test_secrets_are_stored_as_salted_hashes():
    secret = new_secret()
    stored = hash_secret(secret)
    assert secret not in stored and stored.startswith("hmac-sha256$")
    assert check_secret(secret, stored) and not check_secret(secret + "x", stored)
    assert hash_secret(secret) != stored  # salted
    assert not check_secret(secret, "garbage")
    assert not check_secret(secret, "hmac-sha256$!!$??")
    assert not check_secret(secret, stored.replace("hmac-sha256", "md5"))


def test_secrets_hashed_with_scrypt_before_still_pass():
    secret = new_secret()
    stored = scrypt_hash(secret, n=1024)
    assert stored.startswith("scrypt$1024$")
    assert check_secret(secret, stored) and not check_secret(secret + "x", stored)


def test_a_wrong_secret_costs_the_hub_no_slow_hash(monkeypatch):
    """Device ids are printed on forms: anyone could make the hub run a full scrypt (tens
    of ms of CPU) per request by sending a known id with any secret."""
    import hashlib

    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    secret = new_secret()
    stored = hash_secret(secret)
    for guess in ("x", secret[:-1], secret + "x"):
        assert not check_secret(guess, stored)
    assert check_secret(secret, stored)
    assert calls == []


@pytest.mark.parametrize("header", [None, "", "Bearer x", "Basic !!", "Basic " +
                                    base64.b64encode(b"nocolon").decode()])
def test_malformed_basic_credentials_are_401(header):
    with pytest.raises(Unauthorized):
        parse_basic(header)


def test_revoked_answer_carries_the_wipe_instruction():
    exc = DeviceRevoked("410602101201-A1")
    assert exc.status == 401
    assert exc.as_json() == {"error": "unauthorized", "reason": "device revoked",
                             "bangban_wipe": True}


def test_device_seq_round_trips_and_refuses_foreign_seqs():
    assert split_seq(join_seq(12, "3-g1AAA")) == (12, "3-g1AAA")
    assert split_seq(0) == (0, 0) and split_seq("0") == (0, 0)
    for bad in (5, "17", "~3", "3~"):
        with pytest.raises(BadRequest):
            split_seq(bad)



@given(st.sampled_from([*scope.CASE_PREFIXES, "case", "event", "cases:", "notice:", "", ":",
                        "service_item:", "Case:"]),
       st.text(st.sampled_from("0a-:Z"), max_size=12), st.none() | st.text(max_size=3))
def test_the_case_of_an_id_is_read_as_by_the_prefixes(prefix, rest, field):
    """case_id_of splits the id once: the same answer as matching each prefix in turn."""
    def by_prefixes(docid, doc):
        for p in scope.CASE_PREFIXES:
            if docid.startswith(p):
                return docid[len(p):].split(":", 1)[0] or None
        return doc["case_id"] if doc and isinstance(doc.get("case_id"), str) else None

    doc = None if field is None else {"case_id": field}
    assert scope.case_id_of(prefix + rest, doc) == by_prefixes(prefix + rest, doc)

def test_scope_rules():
    assert scope.case_id_of(f"case:{CASE}") == CASE
    assert scope.case_id_of(f"event:{CASE}:{CASE}") == CASE
    assert scope.case_id_of(f"keyring:{CASE}") == CASE
    assert scope.case_id_of("service_item:X") is None
    assert scope.origin_institution(CASE) == "410621100201"
    assert scope.origin_institution("nonsense") is None
    assert scope.is_reference("directory") and scope.is_reference("calendar:2027")
    assert scope.hand_target({"type": "event", "event_type": "hand_up",
                              "to_institution": "410621100"}) == "410621100"
    assert scope.hand_target({"type": "event", "event_type": "work_log"}) is None
    assert scope.case_scopes(CASE, ["410621100"]) == {"410621100201", "410621100"}


def test_keyring_merge_is_a_union_of_signed_wraps():
    a = {"_id": "keyring:c", "case_id": "c", "current": "dk-1",
         "recipients": [{"institution": "V", "key_id": "k1", "role": "owner"}],
         "data_keys": [{"kid": "dk-1", "wraps": [{"institution": "V", "key_id": "k1"}]}]}
    b = {**a, "recipients": [*a["recipients"], {"institution": "T", "key_id": "k2",
                                                "role": "handed"}],
         "data_keys": [{"kid": "dk-1", "wraps": [{"institution": "V", "key_id": "k1"},
                                                 {"institution": "T", "key_id": "k2"}]}]}
    for merged in (merge_keyrings([a, b]), merge_keyrings([b, a])):
        assert {r["institution"] for r in merged["recipients"]} == {"V", "T"}
        assert len(merged["data_keys"][0]["wraps"]) == 2


def test_the_route_cache_keeps_the_recently_used_and_drops_the_rest():
    from hub.index import RouteCache

    cache = RouteCache(size=3)
    for case in "abc":
        cache[case] = {f"to-{case}"}
    assert cache.get("a") == {"to-a"}  # a is now the most recently used
    cache["d"] = set()
    assert len(cache) == 3 and "b" not in cache and cache.get("b") is None
    assert cache.get("a") == {"to-a"} and cache.get("d") == set()
    cache.pop("a")
    cache.pop("never-there")  # forgetting a route that is not cached is fine
    assert "a" not in cache


def test_an_evicted_route_is_read_again_from_the_store(tmp_path):
    from hub.index import ScopeIndexer

    class Private:
        reads = 0

        def get(self, docid):
            Private.reads += 1
            return {"_id": docid, "handed": ["410602101"]}

    class Stores:
        private = Private()

    indexer = ScopeIndexer(Stores())  # type: ignore[arg-type]
    indexer._routes.size = 1
    assert indexer.route("case-1") == {"410602101"} and Private.reads == 1
    assert indexer.route("case-1") == {"410602101"} and Private.reads == 1  # cached
    indexer.route("case-2")  # pushes case-1 out
    assert indexer.route("case-1") == {"410602101"} and Private.reads == 3


def test_the_profiling_hook_adds_up_every_request_and_writes_one_file(tmp_path):
    import pstats
    import threading

    from hub.profiling import from_env

    assert from_env({}) is None
    profiles = from_env({"BANGBAN_HUB_PROFILE": str(tmp_path / "prof")})
    assert profiles is not None
    closed = []

    class Body(list):  # type: ignore[type-arg]
        def close(self):
            closed.append(1)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body([b"x" * sum(range(environ["n"]))])

    app = profiles.wsgi(app)
    threads = [threading.Thread(target=app, args=({"n": n}, lambda *a: None)) for n in (3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app({"n": 2}, lambda *a: None) == [b"x"] and len(closed) == 3
    path = profiles.write()
    assert path is not None and path.exists() and profiles.write() is None
    calls = {name: nc for (_, _, name), (_, nc, *_) in pstats.Stats(str(path)).stats.items()}
    assert calls["app"] == 3  # the requests of both threads and the caller's, added up



def test_the_profiling_hook_counts_a_threads_cpu_not_its_waits(tmp_path):
    """Request threads wait for the GIL, the store, libsodium in other threads: the profile
    shows the CPU each request used, not its wall time (which counted every other thread)."""
    import pstats
    import time

    from hub.profiling import Profiles

    profiles = Profiles(tmp_path)

    def waiting():
        time.sleep(0.3)

    profiles.run(waiting)
    path = profiles.write()
    assert path is not None
    cumulative = {name: ct for (_, _, name), (_, _, _, ct, _) in pstats.Stats(str(path)).stats.items()}
    assert cumulative["waiting"] < 0.1

def test_a_gateway_leaves_new_connections_to_a_live_sibling_holding_fewer(monkeypatch):
    import time

    from hub import balance as balance_mod
    from hub.balance import Balance

    class Server:  # waitress's server as Balance sees it: its map and its own readable()
        def __init__(self, held):
            self._map = dict.fromkeys(range(held))
            self.limit_reached = False

        def readable(self):
            return not self.limit_reached

    shared = Balance(3)
    busy, idle, third = Server(5), Server(2), Server(9)
    for index, server in enumerate((busy, idle, third)):
        shared.attach(server, index)
    assert busy.readable()  # publishes 5; siblings that never wrote do not count
    assert idle.readable() and not busy.readable() and not third.readable()
    idle._map.update(dict.fromkeys(range(10, 14)))  # idle took four: now 6, busy holds fewer
    # idle's loop turned with each (it still accepts: busy, holding fewer, declined last);
    # busy, woken, accepts again, and then idle leaves new connections to it
    assert idle.readable() and busy.readable() and not idle.readable()
    idle.limit_reached = True  # waitress's own refusal always stands
    assert not idle.readable()
    # A sibling that stopped writing (dead, stuck) no longer counts after STALE seconds.
    now = time.monotonic()
    monkeypatch.setattr(balance_mod.time, "monotonic", lambda: now + balance_mod.STALE + 1)
    assert third.readable()


def test_a_gateway_never_leaves_a_connection_to_a_sibling_asleep_without_the_listener():
    """A gateway that declined sleeps in its poll without the listening socket (up to a
    second) on counts that change meanwhile: when its sibling then declined too, nobody
    accepted, and a burst of a hundred idle connections held every request after it for
    half a minute at `hub serve --processes 2`."""
    from hub.balance import Balance

    class Server:
        def __init__(self, held):
            self._map = dict.fromkeys(range(held))

        def readable(self):
            return True

    shared = Balance(2)
    first, second = Server(3), Server(2)
    shared.attach(first, 0)
    shared.attach(second, 1)
    assert second.readable()
    assert not first.readable()  # second holds fewer and accepts: first sleeps without it
    for extra in range(10, 14):  # second accepts; first is still asleep, its word stands
        second._map[extra] = None
        assert second.readable(), "nobody would accept"
    assert first.readable()  # first wakes at last: it holds fewer now
    assert not second.readable()


def test_the_modules_hub_serve_preloads_before_forking_exist():
    import importlib

    from hub.serve import PRELOAD

    for name in PRELOAD:  # a renamed module would otherwise only fail at `hub serve`
        importlib.import_module(name)


def test_hub_serve_announces_once_every_sibling_gateway_accepts():
    from hub.balance import Balance

    class Server:
        _map: dict[int, None] = {}

        def readable(self):
            return True

    shared = Balance(3)
    child_one, child_two = Server(), Server()
    shared.attach(child_one, 1)
    shared.attach(child_two, 2)
    assert not shared.wait_for_siblings(0, timeout=0.05)  # no child loop has run yet
    child_one.readable()
    assert not shared.wait_for_siblings(0, timeout=0.05)
    child_two.readable()  # each child's loop asks once it runs
    assert shared.wait_for_siblings(0, timeout=0.05)
