"""Chaos: Redis behind Sentinel fails over while the leader is frozen with a post in flight (tests/chaos/conftest.py,
``sentinel_world``: a primary, a replica, three sentinels with quorum 2, the GPE simulator, three nodes started
with ``REDIS_URL=redis+sentinel://…``).

The sequence leaves a deposed leader with something still to say, the case the epoch exists for:

1. steady: one leader (epoch E) posting every period through the primary;
2. GPE holds the leader's next post (the simulator's ``delay``: decided only after the bound below, as a post
   delayed in the network would be) and, once it is held, the leader is frozen (SIGSTOP) and the primary killed
   (SIGKILL): the lease, the broker and the stats store all lose their Redis at once;
3. the sentinels see the primary down, promote the replica; the surviving nodes' Sentinel clients follow, the
   lease (replicated, expiring at the same absolute time) runs out, and a survivor takes it at a higher epoch
   and posts: the time from the kill to GPE's first accepted post of the new epoch is printed and checked
   against the bound (sentinel detection + failover, or the lease's time-to-live if longer, as the broker's
   consumer reconnects them + a period + a margin);
4. the held post of the deposed leader is then decided: refused (409 ``stale_epoch``), and nothing it sends
   after it is woken (SIGCONT) is accepted; the journal holds (one post per tick, ticks and epochs never back).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from pacing.cycle import LEASE_TTL_PERIODS

from .conftest import CLUSTER, INTERVAL_S, check_journal

#: leases and failovers timed against real processes: alone, after the parallel workers (tests/conftest.py)
pytestmark = pytest.mark.serial

#: Celery's consumer reconnects to the broker this long after it lost it (seconds): kombu's fixed schedule
#: (``ensure_connection``: a round over every sentinel address at once, then after 2, 4, 6 … more seconds), which
#: Celery gives no setting for; no cycle runs on a node before its consumer is back
RECONNECTS = (0.0, 2.0, 6.0, 12.0, 20.0)


def _failover_budget_s(world) -> float:
    """Kill → the sentinels name the replica, at most: detection (down-after-milliseconds), and a failover that
    may need a second election (a split vote is retried after twice failover-timeout)."""
    return (world.down_after_ms + 2 * world.failover_timeout_ms) / 1000


def _bound_s(world) -> float:
    """Kill → the new epoch's first accepted post, at most: the later of the lease's time-to-live (it runs
    from the last renewal, on the replica too: the expiry is replicated as an absolute time) and the consumer's
    first reconnection after the failover's budget; then the next period; and a margin of 3 s (the cycle, a
    loaded machine)."""
    reconnect = next(t for t in RECONNECTS if t >= _failover_budget_s(world))
    return max(LEASE_TTL_PERIODS * INTERVAL_S, reconnect) + INTERVAL_S + 3.0


def _held(world) -> int:
    return int(requests.get(world.gpe_url + "/sim/posts", timeout=5).json()["held"])


def test_primary_failover_fences_the_deposed_leader(sentinel_world):
    world = sentinel_world
    bound, hold = _bound_s(world), _bound_s(world) + 3.0   # GPE decides the held post after the bound
    leader, epoch = world.wait_steady()
    assert world.primary() == world.redis_port
    victim = world.nodes[leader]

    world.control(delay=hold, count=1)            # the next post (the leader's) waits `hold` before it is decided
    world.wait("the leader's post held by GPE", lambda: _held(world) >= 1, 5 * INTERVAL_S)
    os.killpg(victim.proc.pid, signal.SIGSTOP)    # frozen with its post in flight
    try:
        os.killpg(world.redis_proc.pid, signal.SIGKILL)
        killed = time.time()
        world.redis_proc.wait(timeout=5)

        switched = world.wait("the sentinels naming the replica", lambda: (
            time.time() if world.primary() == world.replica_port else None), _failover_budget_s(world) + 10)
        first = world.wait("a post of the new leader", lambda: next(
            (p for p in world.accepted(killed) if p["epoch"] > epoch), None), bound + 10)
        resumed = first["at"] - killed
        new_leader, new_epoch = world.wait("the lease held by a survivor", world.leader, 5)
        print(f"sentinel failover: the sentinels named the replica {switched - killed:.2f} s after the primary was "
              f"killed (budget {_failover_budget_s(world):g} s); the new leader {new_leader} (epoch {new_epoch}, "
              f"was {leader} at {epoch}) posted after {resumed:.2f} s (bound {bound:g} s)")
        assert new_leader != leader and new_epoch > epoch
        assert switched - killed <= _failover_budget_s(world) + 1.0
        assert resumed <= bound, (first, killed)

        def refused_late():
            late = [p for p in world.posts() if p["cluster"] == CLUSTER and p["at"] >= killed
                    and p["epoch"] <= epoch]
            return late if late and _held(world) == 0 else None
        late = world.wait("the deposed leader's held post decided", refused_late, hold + 5)
        assert [p["outcome"] for p in late] == ["stale_epoch"], late
    finally:
        os.killpg(victim.proc.pid, signal.SIGCONT)
    woke = time.time()
    time.sleep(4 * INTERVAL_S)                     # the woken node runs what it had left, and campaigns again

    posts = world.posts()
    late = [p for p in posts if p["cluster"] == CLUSTER and p["at"] >= killed and p["epoch"] <= epoch]
    assert late and all(p["outcome"] in ("stale_epoch", "stale_tick") for p in late), late
    lead = world.leader()
    assert lead is not None and lead[1] >= new_epoch and lead[0] != leader, world.report()
    assert world.accepted(woke + 2 * INTERVAL_S), f"nobody posts after the wake-up\n{world.report()}"
    assert all(world.alive().values()), world.report()
    check_journal(posts)
