"""The leader lease of a pacing cluster, its fencing epoch, the tick claims and the nodes' heartbeats (OURS).

The vendor's seed (seeds/pacing-architecture.txt) says only that the pacing nodes of a cluster "self-determine
which is the master pacing node based on an internal election algorithm" and that the model is N+1. The
election below is ours. redis-py only: no Django, so it runs and is tested alone.

One lease PER PACING CLUSTER (a console may serve several tenants, each with its own cluster and leader).

Primitives, and why
-------------------
* **Acquisition** is ``SET holder <token> NX PX <ttl>`` -- run INSIDE a Lua script (``_CAMPAIGN``), because
  the fencing **epoch** must grow atomically with the acquisition: the same script that wins the ``SET NX``
  increments the epoch and records who holds it. A client-side ``SET NX`` followed by ``INCR`` would let a
  node that dies between the two leave a lease without a new epoch, and a reader see the new holder with
  the old epoch.
* **Renew**, **release**, the **tick claim** and the epoch **compare-and-set** are Lua scripts
  (``register_script``: EVALSHA, loaded again by redis-py after a Redis restart): each compares the stored
  token with ours and acts only if they are equal, in one atomic step. We do not use redis-py's ``Lock``: it
  has no epoch, its ``extend``/``reacquire`` cannot increment one, and it cannot fence a tick claim on the
  token (``claim_tick`` must check "still the holder" and "tick never claimed" and record the claim in one
  step).

Keys (``<prefix>`` is ``pacing`` by default; the cluster's name in braces is a Redis Cluster hash tag, so a
cluster's keys share one slot and the multi-key scripts work there too):

==================================================  ==============================================================
``<prefix>:lease:{<cluster>}:holder``               string: the holder's token, expires after ``ttl_ms`` (PX)
``<prefix>:lease:{<cluster>}:info``                 hash: ``node``, ``token``, ``epoch``, ``acquired_ms``,
                                                    ``renewed_ms`` (Redis server time); expires with the holder
``<prefix>:lease:{<cluster>}:epoch``                integer: the cluster's fencing epoch; never expires
``<prefix>:lease:{<cluster>}:tick``                 hash: the last claimed ``tick``, its ``epoch``, ``node``,
                                                    ``at_ms``; never expires
``<prefix>:lease:{<cluster>}:nodes``                sorted set: node name -> last heartbeat (unix seconds)
``<prefix>:lease:{<cluster>}:node:<node>``          hash: the node's heartbeat (JSON values), expires
``<prefix>:lease-clusters``                         set: every cluster that has a heartbeat (the nodes API)
==================================================  ==============================================================

Decisions (ours)
----------------
* **Epoch.** Incremented on every NEW acquisition (a renewal keeps it). When the epoch key is missing -- a
  fresh Redis, or one restarted without persistence -- it is seeded with the Redis server's clock in unix
  seconds instead of 1, so the first epoch after a data loss is still higher than every epoch GPE has seen
  (epochs grow by one per acquisition, far slower than one per second), and GPE does not fence the new
  leader out as ``stale_epoch`` forever. Epochs are therefore large numbers (about 1.8e9), not 1, 2, 3.
* **Ticks.** ``tick = floor(unix time / interval)``. A claim succeeds only if this node still holds the lease
  with its token AND the tick is later than the last claimed tick of the cluster: a tick is claimed (and so
  posted) at most once cluster-wide, and never after a later one. Only the last claim is kept (one hash, no
  growth); the cycle's history records the rest.
* **Local deadline.** ``is_valid()`` is False once ``start of the campaign request (monotonic) + ttl -
  margin`` has passed: the request's start is before Redis started the PX clock, so our deadline is never
  later than Redis's expiry; the margin (default a tenth of the TTL, at least 50 ms) covers clock-rate
  differences. A paused process (SIGSTOP, a long GC) that wakes after it therefore posts nothing, and the
  tick claim refuses it too if another node took over.
* **Errors.** A Redis error never leaves ``campaign()``: the node steps down (``leader`` False, the deadline
  dropped) and returns a state with the reason; it keeps its token, so the next campaign can renew the same
  lease (same epoch) if Redis comes back before the TTL ran out, or campaigns afresh otherwise.
* **Heartbeats** expire after ``max(3 x ttl, 15 s)`` (``heartbeat_ttl_s``); ``nodes()`` lists a node while its
  heartbeat is alive and drops it from the cluster's set an hour after its last one.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis

__all__ = ["Lease", "LeaseState", "clusters", "nodes", "lease_keys"]

log = logging.getLogger("pacing.lease")

NODE_FORGET_S = 3600.0          # a node without a heartbeat for this long leaves the cluster's set


# KEYS: holder, info, epoch; ARGV: token held (or ""), ttl_ms, node, renew_only (0/1), fresh token for a new
# acquisition -> {1, epoch, "acquired"|"renewed"} or {0, holder_node, holder_epoch, pttl}
_CAMPAIGN = """
local holder = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] ~= '' and holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('HSET', KEYS[2], 'renewed_ms', now_ms)
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  local epoch = redis.call('HGET', KEYS[2], 'epoch')
  if not epoch then
    epoch = redis.call('GET', KEYS[3]) or '0'
    redis.call('HSET', KEYS[2], 'node', ARGV[3], 'token', ARGV[1], 'epoch', epoch, 'acquired_ms', now_ms)
  end
  return {1, tonumber(epoch), 'renewed'}
end
if ARGV[4] == '1' or not redis.call('SET', KEYS[1], ARGV[5], 'NX', 'PX', ARGV[2]) then
  local info = redis.call('HMGET', KEYS[2], 'node', 'epoch')
  return {0, info[1] or '', tonumber(info[2] or '-1'), redis.call('PTTL', KEYS[1])}
end
local epoch
if redis.call('EXISTS', KEYS[3]) == 1 then
  epoch = redis.call('INCR', KEYS[3])
else
  epoch = tonumber(t[1])
  redis.call('SET', KEYS[3], epoch)
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'node', ARGV[3], 'token', ARGV[5], 'epoch', epoch, 'acquired_ms', now_ms,
           'renewed_ms', now_ms)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {1, epoch, 'acquired'}
"""

# KEYS: holder, info; ARGV: token -> 1 released, 0 not ours
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""

# KEYS: holder, tick, info; ARGV: token, tick, epoch, node
# -> {1, "claimed"} or {0, "not_leader"|"stale_epoch"|"claimed_already", last_tick}
_CLAIM_TICK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0, 'not_leader', -1}
end
local epoch = redis.call('HGET', KEYS[3], 'epoch')
if epoch and tonumber(epoch) ~= tonumber(ARGV[3]) then
  return {0, 'stale_epoch', -1}
end
local last = tonumber(redis.call('HGET', KEYS[2], 'tick') or '-1')
if tonumber(ARGV[2]) <= last then
  return {0, 'claimed_already', last}
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'tick', ARGV[2], 'epoch', ARGV[3], 'node', ARGV[4],
           'at_ms', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return {1, 'claimed', last}
"""

# Compare-and-set of the epoch: KEYS: holder, info, epoch; ARGV: token, at_least
# -> the new epoch, or -1 when the token is not the holder's. Used after GPE answered stale_epoch although we
# hold the lease (Redis lost the epoch counter and the seeding by time did not reach GPE's): the holder -- and
# only the holder -- moves the counter past what GPE has seen.
_RAISE_EPOCH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local current = tonumber(redis.call('GET', KEYS[3]) or '0')
local wanted = tonumber(ARGV[2])
if wanted <= current then
  wanted = current + 1
end
redis.call('SET', KEYS[3], wanted)
redis.call('HSET', KEYS[2], 'epoch', wanted)
return wanted
"""


def lease_keys(cluster: str, prefix: str = "pacing") -> dict[str, str]:
    """The Redis keys of a cluster's lease (see the module docstring)."""
    base = f"{prefix or 'pacing'}:lease:{{{cluster}}}"
    return {"holder": f"{base}:holder", "info": f"{base}:info", "epoch": f"{base}:epoch", "tick": f"{base}:tick",
            "nodes": f"{base}:nodes", "node": f"{base}:node:"}


def _clusters_key(prefix: str) -> str:
    return f"{prefix or 'pacing'}:lease-clusters"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class LeaseState:
    """The outcome of one ``campaign()``.

    ``leader``: this node holds the lease now; ``epoch``: the lease's epoch (ours when leader, the holder's
    otherwise, -1 unknown); ``holder``: the holder's node name ("" when free or unknown); ``outcome``:
    ``acquired``, ``renewed``, ``held_by_other``, ``lost`` (we held it and another node has it now) or
    ``redis_error``; ``reason``: a sentence for the log and the nodes API; ``deadline``: the local monotonic
    deadline (0 when not leader); ``ttl_ms``: the holder's remaining time as Redis sees it (-1 unknown)."""

    leader: bool
    epoch: int
    holder: str
    outcome: str
    reason: str
    deadline: float = 0.0
    ttl_ms: int = -1

    def to_dict(self) -> dict:
        return asdict(self)


class Lease:
    """The leader lease of ``cluster`` as seen by ``node``. Not thread-safe: one per node and cluster, used by
    that node's pacing cycle (which never overlaps itself)."""

    def __init__(self, client: redis.Redis, cluster: str, node: str, ttl_ms: int, prefix: str = "pacing", *,
                 margin_ms: int | None = None, clock=time.monotonic) -> None:
        if not cluster:
            raise ValueError("cluster must be a non-empty name")
        if not node:
            raise ValueError("node must be a non-empty name")
        ttl_ms = int(ttl_ms)
        if ttl_ms < 100:
            raise ValueError(f"ttl_ms must be at least 100 ms, not {ttl_ms}")
        self.client = client
        self.cluster, self.node, self.ttl_ms = cluster, node, ttl_ms
        self.prefix = prefix or "pacing"
        self.margin_ms = int(margin_ms) if margin_ms is not None else max(50, ttl_ms // 10)
        if not 0 <= self.margin_ms < ttl_ms:
            raise ValueError("margin_ms must be at least 0 and below ttl_ms")
        self.keys = lease_keys(cluster, self.prefix)
        self._clock = clock
        self._campaign = client.register_script(_CAMPAIGN)
        self._release = client.register_script(_RELEASE)
        self._claim = client.register_script(_CLAIM_TICK)
        self._raise_epoch = client.register_script(_RAISE_EPOCH)
        self._token: str | None = None
        self._epoch = -1
        self._leader = False
        self._deadline = 0.0
        self.state = LeaseState(False, -1, "", "new", "no campaign yet")
        self.last_claim: tuple[bool, str] = (False, "no claim yet")

    # --- properties -------------------------------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        """This node's token for the lease it holds or last held (None: never acquired)."""
        return self._token

    @property
    def epoch(self) -> int:
        """The epoch of the lease this node holds (-1 when it never held one)."""
        return self._epoch

    @property
    def leader(self) -> bool:
        """This node held the lease at its last campaign, and the local deadline has not passed."""
        return self._leader and self.is_valid()

    @property
    def deadline(self) -> float:
        return self._deadline

    def remaining_s(self) -> float:
        """Seconds left before the local deadline (0 when not leader)."""
        if not self._leader:
            return 0.0
        return max(0.0, self._deadline - self._clock())

    def is_valid(self) -> bool:
        """True while this node is leader and its local monotonic deadline has not passed: post only then."""
        return self._leader and self._clock() < self._deadline

    # --- campaign ---------------------------------------------------------------------------------------------

    def campaign(self) -> LeaseState:
        """Acquire the lease if it is free, renew it if it is ours; never raises (see ``LeaseState``)."""
        started = self._clock()
        had_token = self._token is not None
        fresh = secrets.token_hex(16)          # a new token for every new acquisition
        try:
            result = self._campaign(keys=[self.keys["holder"], self.keys["info"], self.keys["epoch"]],
                                    args=[self._token or "", self.ttl_ms, self.node, 0, fresh])
        except (redis.RedisError, OSError, ValueError, TypeError) as exc:   # never out of campaign(): step down
            was = self._leader
            self._step_down()
            reason = f"Redis error during the lease campaign ({type(exc).__name__}: {exc})"
            if was:
                reason += "; stepped down"
                log.warning("Node %s stepped down as leader of %s: %s", self.node, self.cluster, reason)
            self.state = LeaseState(False, self._epoch, "", "redis_error", reason)
            return self.state
        if int(result[0]) == 1:
            epoch, outcome = int(result[1]), _text(result[2])
            if outcome == "acquired":
                self._token = fresh
            self._epoch, self._leader = epoch, True
            self._deadline = started + (self.ttl_ms - self.margin_ms) / 1000.0
            if outcome == "acquired":
                log.info("Node %s is the leader of %s (epoch %s).", self.node, self.cluster, epoch)
            self.state = LeaseState(True, epoch, self.node, outcome,
                                    f"{self.node} holds the lease of {self.cluster} (epoch {epoch})",
                                    self._deadline, self.ttl_ms)
            return self.state
        holder, holder_epoch, pttl = _text(result[1]), int(result[2]), int(result[3])
        was = self._leader or had_token
        self._step_down()
        self._token = None
        outcome = "lost" if was else "held_by_other"
        reason = (f"the lease of {self.cluster} is held by {holder or 'another node'} (epoch {holder_epoch})"
                  if holder else f"the lease of {self.cluster} is held by another node")
        if was:
            log.warning("Node %s lost the lease of %s: %s", self.node, self.cluster, reason)
        self.state = LeaseState(False, holder_epoch, holder, outcome, reason, 0.0, pttl)
        return self.state

    def _step_down(self) -> None:
        self._leader = False
        self._deadline = 0.0

    def release(self) -> bool:
        """Give the lease up if it is ours (a node shutting down): another node takes over at once. Never
        raises; True when released."""
        token = self._token
        self._step_down()
        if token is None:
            return False
        try:
            released = int(self._release(keys=[self.keys["holder"], self.keys["info"]], args=[token])) == 1
        except redis.RedisError as exc:
            log.warning("Node %s could not release the lease of %s: %s", self.node, self.cluster, exc)
            return False
        self._token = None
        if released:
            log.info("Node %s released the lease of %s.", self.node, self.cluster)
        return released

    def claim_tick(self, tick: int) -> bool:
        """Claim ``tick`` for posting: True only if this node holds the lease with its token and epoch, its
        local deadline has not passed, and no node claimed this tick or a later one. Never raises; the reason
        of the last outcome is in ``last_claim``."""
        tick = int(tick)
        if not self.is_valid():
            self.last_claim = (False, "not leader, or the lease's local deadline has passed")
            return False
        try:
            result = self._claim(keys=[self.keys["holder"], self.keys["tick"], self.keys["info"]],
                                 args=[self._token, tick, self._epoch, self.node])
        except redis.RedisError as exc:
            self._step_down()
            self.last_claim = (False, f"Redis error during the tick claim ({type(exc).__name__}: {exc})")
            return False
        ok, why = int(result[0]) == 1, _text(result[1])
        if not ok and why in ("not_leader", "stale_epoch"):
            self._step_down()
        reasons = {"claimed": f"tick {tick} claimed at epoch {self._epoch}",
                   "not_leader": "the lease is no longer ours",
                   "stale_epoch": "the lease's epoch changed",
                   "claimed_already": f"tick {tick} is not after the last claimed tick {int(result[2])}"}
        self.last_claim = (ok, reasons.get(why, why))
        return ok

    def raise_epoch(self, at_least: int) -> int | None:
        """Move the cluster's epoch to at least ``at_least`` (and past the current one) if we hold the lease;
        the new epoch, or None (not the holder, or a Redis error). See ``_RAISE_EPOCH``."""
        if self._token is None:
            return None
        try:
            value = int(self._raise_epoch(keys=[self.keys["holder"], self.keys["info"], self.keys["epoch"]],
                                          args=[self._token, int(at_least)]))
        except redis.RedisError:
            return None
        if value < 0:
            self._step_down()
            return None
        self._epoch = value
        return value

    # --- heartbeats -------------------------------------------------------------------------------------------

    @property
    def heartbeat_ttl_s(self) -> float:
        return max(3 * self.ttl_ms / 1000.0, 15.0)

    def heartbeat(self, info: dict | None = None) -> bool:
        """Record this node's heartbeat in the cluster (``info``: anything JSON-able the nodes API shows, such
        as the last cycle's outcome or a reason not to post). Never raises; True when written."""
        now = time.time()
        state = self.state
        fields = {"name": self.node, "cluster": self.cluster, "at": now, "leader": self.leader,
                  "epoch": self._epoch, "outcome": state.outcome, "reason": state.reason}
        extra = {str(k): v for k, v in (info or {}).items() if str(k) not in fields}
        mapping = {k: json.dumps(v, default=str) for k, v in {**fields, "info": extra}.items()}
        key = self.keys["node"] + self.node
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping=mapping)
            pipe.pexpire(key, int(self.heartbeat_ttl_s * 1000))
            pipe.zadd(self.keys["nodes"], {self.node: now})
            pipe.zremrangebyscore(self.keys["nodes"], "-inf", now - NODE_FORGET_S)
            pipe.sadd(_clusters_key(self.prefix), self.cluster)
            pipe.execute()
        except redis.RedisError as exc:
            log.debug("heartbeat of %s not written: %s", self.node, exc)
            return False
        return True


def clusters(client: redis.Redis, prefix: str = "pacing") -> list[str]:
    """The clusters that have (had) heartbeats, sorted."""
    return sorted(_text(c) for c in client.smembers(_clusters_key(prefix)))


def nodes(client: redis.Redis, cluster: str | None = None, prefix: str = "pacing") -> list[dict]:
    """Every node of ``cluster`` (or of every cluster, when None) with a live heartbeat, sorted by cluster and
    name. Each entry: ``name``, ``cluster``, ``last_heartbeat`` (unix seconds), ``heartbeat_age_s``,
    ``leader`` (this node holds the cluster's lease now), ``epoch`` (the CLUSTER's current epoch: the
    holder's, or the last one when the lease is free), ``leader_node`` (the holder, or None),
    ``lease_age_s`` (seconds since the holder acquired it; None when free), ``lease_ttl_ms`` (None when
    free), ``node_epoch`` (the epoch the node last held), ``outcome`` and ``reason`` (its last campaign)
    and ``info`` (what the node's heartbeat added). Raises redis.RedisError when Redis is unreachable."""
    names = [cluster] if cluster is not None else clusters(client, prefix)
    out: list[dict] = []
    now = time.time()
    for name in names:
        keys = lease_keys(name, prefix)
        members = [_text(m) for m in client.zrange(keys["nodes"], 0, -1)]
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(keys["info"])
        pipe.pttl(keys["holder"])
        pipe.get(keys["epoch"])
        pipe.time()
        for member in members:
            pipe.hgetall(keys["node"] + member)
        replies = pipe.execute()
        info = {_text(k): _text(v) for k, v in (replies[0] or {}).items()}
        pttl = int(replies[1])
        held = pttl > 0 or pttl == -1
        server_s = float(replies[3][0]) + float(replies[3][1]) / 1e6
        holder = info.get("node") if held and info else None
        last_epoch = int(replies[2]) if replies[2] is not None else -1
        epoch = int(info.get("epoch", -1)) if holder is not None else last_epoch
        lease_age = (max(0.0, server_s - int(info.get("acquired_ms", 0)) / 1000.0)
                     if holder is not None else None)
        for member, data in zip(members, replies[4:], strict=True):
            if not data:
                continue
            beat = {}
            for k, v in data.items():
                try:
                    beat[_text(k)] = json.loads(v)
                except ValueError:
                    beat[_text(k)] = _text(v)
            at = float(beat.get("at") or 0.0)
            out.append({
                "name": member, "cluster": name, "last_heartbeat": at,
                "heartbeat_age_s": round(max(0.0, now - at), 3) if math.isfinite(at) else None,
                "leader": holder == member, "epoch": epoch, "leader_node": holder,
                "lease_age_s": None if lease_age is None else round(lease_age, 3),
                "lease_ttl_ms": pttl if holder is not None else None,
                "node_epoch": beat.get("epoch"), "outcome": beat.get("outcome"), "reason": beat.get("reason"),
                "info": beat.get("info") or {},
            })
    out.sort(key=lambda n: (n["cluster"], n["name"]))
    return out
