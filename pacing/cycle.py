"""One pacing cycle of one cluster on one node: lease → targets → stats → engine → post → reply → record.

Plain Python (the Celery task in pacing/tasks.py only calls ``run_cycle``). DESIGN.md, "pacing — one cycle";
docs/runtime.md explains each step. In short:

1. **Config.** The cluster's options and the ``hybrid_integration`` transaction (of the cluster's tenant, else
   of a tenant it serves) are read AGAIN every cycle, so a changed secret, URL, queue or period takes effect
   on the next cycle (no restart; the GPE client is rebuilt when its configuration changed). A missing or
   malformed transaction is not an exception: the node keeps campaigning and heartbeating, posts nothing,
   and says why (log, ``PacingRequestsFailed`` raised by the leader, the nodes API's ``reason``).
2. **Lease** (pacing/lease.py): one per cluster, time-to-live ``LEASE_TTL_PERIODS`` (2) refresh periods, so
   a dead leader's successor posts within 3 periods. A node that is not the leader writes its heartbeat and
   returns (outcome ``standby``).
3. **Targets**: the discovered targets of the tenants the cluster serves (cached, pacing/targets.py), with
   the static parts of the post and the blended-agent membership prepared once per configuration version.
4. **Stats and pending**: ONE pipelined Redis round trip reads every target's stats snapshot; ONE ``GET`` the
   pending counts of the cluster's last posted cycle (0 on the first cycle, or when older than 10 periods);
   ONE ``LRANGE`` the last few posted cycles, for what was pending at each snapshot and posted since
   (``History.at_snapshots``; NaN where unknown, e.g. on the first cycle). Blended agents are split
   (pacing/blended.py) and ``stats_age_s``, ``pending_at_snapshot`` and ``sent_since_snapshot`` are filled.
5. **Engine**: ``compute_invitations`` over all targets at once.
6. **Post**: only while ``lease.is_valid()`` (local monotonic deadline) and after ``lease.claim_tick(tick)``
   succeeded (a tick is posted at most once cluster-wide). The GPE client (pacing/gpe/client.py) encodes,
   posts and validates the reply.
7. **Reply**: pending counts feed the next cycle; target errors raise ``PacingResponseTargetError``; an invalid
   reply raises ``PacingResponseValidationError`` and keeps the previous pending counts; a failed, refused or
   timed-out request raises ``PacingRequestsFailed``; each is cleared by the next cycle that succeeds.
8. **Record**: the latest result per target, the cycle's summary, the per-target series and the open point
   of the charts' hour (pacing/history.py; all in one pipeline), the heartbeat, the metrics (pacing/metrics.py).

A Redis that cannot be reached stops the node from posting (no lease), and the cycle returns a record saying
so (logged at most once a minute per node and cluster); nothing raises out of ``run_cycle``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import redis

from .blended import Membership, demand_weights, load_membership, shares
from .engine import TargetState, compute_invitations
from .history import History, hour_bucket, names_digest
from .redis import tenant_key
from .stats import decode_columns, stats_max_age_s
from .types import ClusterSpec, CycleRecord, Outcome

__all__ = ["LEASE_TTL_PERIODS", "node_name", "reset", "run_cycle"]

logger = logging.getLogger("pacing.cycle")

#: the lease's time-to-live, in refresh periods (OURS): renewed every period, so a leader that dies is replaced
#: by the next campaign after the lease expires — within 2 + 1 periods
LEASE_TTL_PERIODS = 2
#: the same warning (Redis down, no hybrid_integration, …) is logged at most once per this many seconds
WARN_EVERY_S = 60.0
#: an alarm that stays raised is raised again this often (seconds), so its timeout does not clear it
ALARM_REFRESH_S = 600.0
#: the cluster's target names (for the pending counts and the series) are stored again at most this often
NAMES_REWRITE_S = 60.0
TRANSACTION = "hybrid_integration"


def node_name() -> str:
    """This process's pacing node name: ``PACING_NODE_NAME``, else the host name."""
    return (os.environ.get("PACING_NODE_NAME") or "").strip() or socket.gethostname()


# ---------------------------------------------------------------------------------------------------------------
# per-process state of a (cluster, node): the lease, the GPE client, the prepared targets, the raised alarms
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """What the cycle derives from the configuration, kept while the targets' discovery versions are the same."""

    key: tuple
    targets: list                          # pacing.targets.Target, in post order
    names: list[str]
    tenant_slices: dict[int, slice]        # tenant id → its targets' slice of the arrays
    goals: np.ndarray
    bases: list[dict]                      # the static part of each target's entry in the post
    membership: Membership
    names_blob: bytes = b"[]"
    digest: str = ""
    skipped: int = 0
    sources: list = field(default_factory=list)      # id() of the discoveries it was made from
    discovered: list = field(default_factory=list)   # their targets
    _index: dict | None = None

    @property
    def index(self) -> dict[str, int]:
        """Target name → its position (built once)."""
        if self._index is None:
            self._index = {name: i for i, name in enumerate(self.names)}
        return self._index


@dataclass
class _Context:
    cluster: str
    node: str
    lease: Any = None
    lease_client: Any = None
    lease_ttl_ms: int = 0
    gpe: Any = None
    gpe_config: Any = None
    prepared: _Prepared | None = None
    alarms: dict[str, tuple] = field(default_factory=dict)  # code → (message, when) this node raised, not cleared
    cleared_once: bool = False                             # first success since start: clear what others raised
    warned: dict[str, float] = field(default_factory=dict)
    names_written: dict[str, float] = field(default_factory=dict)   # names digest → when last stored
    hour: Any = None                                       # the open point of the hour series (HourBucket)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last: CycleRecord | None = None


_contexts: dict[tuple[str, str], _Context] = {}
_contexts_lock = threading.Lock()


def _context(cluster: str, node: str) -> _Context:
    key = (cluster, node)
    ctx = _contexts.get(key)
    if ctx is None:
        with _contexts_lock:
            ctx = _contexts.setdefault(key, _Context(cluster, node))
    return ctx


def reset() -> None:
    """Forget every lease, client and cache of this process (tests)."""
    with _contexts_lock:
        _contexts.clear()


def last_record(cluster: str, node: str | None = None) -> CycleRecord | None:
    """The last cycle this process ran for ``cluster`` as ``node`` (also when Redis was unreachable)."""
    ctx = _contexts.get((cluster, node or node_name()))
    return None if ctx is None else ctx.last


def _warn(ctx: _Context, key: str, message: str, *args) -> None:
    now = time.monotonic()
    if now - ctx.warned.get(key, -WARN_EVERY_S) >= WARN_EVERY_S:
        ctx.warned[key] = now
        logger.warning(message, *args)


class _Stages:
    """Milliseconds per stage, into ``record.durations_ms``."""

    def __init__(self, record: CycleRecord) -> None:
        self.durations = record.durations_ms

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.durations[name] = self.durations.get(name, 0.0) + (time.perf_counter() - started) * 1000.0


# ---------------------------------------------------------------------------------------------------------------
# the ONE place that calls the alarms runtime, the lease and the GPE client
# ---------------------------------------------------------------------------------------------------------------


def _alarm_runtime():
    """``alarms.runtime``, or None while that module has not landed (the alarms are then only logged)."""
    try:
        from alarms import runtime
    except ImportError:
        return None
    return runtime


def _alarm(ctx: _Context, spec: ClusterSpec, code: str, message: str = "", context: dict | None = None) -> None:
    """Raise ``code``: once per distinct message while it stays raised, and again every ``ALARM_REFRESH_S`` (an
    alarm expires its condition's timeout after its last detection, though the problem goes on)."""
    now = time.monotonic()
    last = ctx.alarms.get(code)
    if last is not None and last[0] == message and now - last[1] < ALARM_REFRESH_S:
        return
    ctx.alarms[code] = (message, now)
    runtime = _alarm_runtime()
    if runtime is None:
        logger.error("ALARM %s raised (cluster %s, node %s): %s", code, spec.name, ctx.node, message)
        return
    try:
        runtime.raise_alarm(code, message, context, source=spec.name, node=ctx.node, tenant=spec.tenant)
    except Exception:  # an alarm sink failing must not stop pacing
        logger.exception("Could not raise the alarm %s of cluster %s.", code, spec.name)


def _clear(ctx: _Context, spec: ClusterSpec, code: str, message: str = "") -> None:
    """Clear ``code`` if this node raised it, or on this process's first successful cycle (another node, or this
    one before a restart, may have raised it)."""
    if code not in ctx.alarms and ctx.cleared_once:
        return
    ctx.alarms.pop(code, None)
    runtime = _alarm_runtime()
    if runtime is None:
        logger.info("ALARM %s cleared (cluster %s, node %s).", code, spec.name, ctx.node)
        return
    try:
        runtime.clear_alarm(code, message, None, source=spec.name, node=ctx.node, tenant=spec.tenant)
    except Exception:
        logger.exception("Could not clear the alarm %s of cluster %s.", code, spec.name)


def _lease(ctx: _Context, client, spec: ClusterSpec):
    """This node's lease of the cluster (rebuilt when the Redis client or the period changed)."""
    from . import lease as lease_module
    from .redis import key_prefix

    ttl_ms = int(spec.refresh_s * 1000 * LEASE_TTL_PERIODS)
    if ctx.lease is None or ctx.lease_client is not client:
        ctx.lease = lease_module.Lease(client, spec.name, ctx.node, ttl_ms, key_prefix())
        ctx.lease_client, ctx.lease_ttl_ms = client, ttl_ms
    elif ctx.lease_ttl_ms != ttl_ms:
        # A new refresh period: the same lease (same token, so a leader stays leader), a new time-to-live from
        # the next renewal on.
        ctx.lease.ttl_ms, ctx.lease.margin_ms = ttl_ms, max(50, ttl_ms // 10)
        ctx.lease_ttl_ms = ttl_ms
    return ctx.lease


class GPEConfigProblem(Exception):
    """hybrid_integration or the cluster's GPE options are unusable (the message says which field)."""


def _gpe_config(spec: ClusterSpec):
    """The GPE client's configuration, read from the database each cycle; GPEConfigProblem naming the field."""
    from configdb.models import State, Transaction

    from .gpe import client as gpe_client

    tenants = [spec.tenant, *[t for t in spec.tenants if t != spec.tenant]]
    rows = list(Transaction.objects.filter(name=TRANSACTION, tenant__name__in=tenants)
                .values_list("tenant__name", "state", "annex"))
    if not rows:
        raise GPEConfigProblem(f"no '{TRANSACTION}' transaction in tenant '{spec.tenant}' (the GPE credentials and "
                               "URLs: general/base_auth_url, general/base_service_url, ewt/client_id, ewt/password)")
    rows.sort(key=lambda r: tenants.index(r[0]) if r[0] in tenants else len(tenants))
    tenant, state, annex = rows[0]
    if state != State.ENABLED:
        raise GPEConfigProblem(f"the '{TRANSACTION}' transaction of tenant '{tenant}' is disabled")
    from configdb.secrets import is_sealed

    sealed = [f"{section}/{key}" for section, keys in (annex or {}).items() if isinstance(keys, dict)
              for key, value in keys.items() if is_sealed(value)]
    if sealed:  # sending the stored token as the password would only earn a 401 with no hint why
        raise GPEConfigProblem(f"the '{TRANSACTION}' transaction of tenant '{tenant}': {', '.join(sealed)} cannot be "
                               "decrypted with the configured PACING_SECRETS_KEY (the key changed or was lost?); "
                               "type the secret again")
    try:
        return gpe_client.config_from_options(annex or {}, spec.options or {}, refresh_period_s=spec.refresh_s,
                                              cluster=spec.name)
    except gpe_client.ConfigError as exc:  # its message names the option and the object it belongs to
        raise GPEConfigProblem(str(exc)) from None


class _PostFailed(Exception):
    """The post did not produce a valid reply: ``outcome`` (Outcome.*), ``alarm`` code or None, ``reason``, and
    ``kind`` (the metrics' failure reason: connect, timeout, http, unauthorized, token, invalid_reply, fenced)."""

    def __init__(self, outcome: str, alarm: str | None, reason: str, kind: str, code: str = "") -> None:
        super().__init__(reason)
        self.outcome, self.alarm, self.reason, self.kind, self.code = outcome, alarm, reason, kind, code


def _encode(spec: ClusterSpec, tick: int, epoch: int, entries: list[dict], config):
    from .gpe import protocol

    return protocol.encode_request(spec.name, tick, epoch, spec.refresh_s, entries,
                                   gzip_threshold=config.gzip_threshold)


def _post(ctx: _Context, config, spec: ClusterSpec, tick: int, epoch: int, request):
    """POST the encoded request to GPE; the client's Reply, or _PostFailed."""
    from alarms import catalog

    from .gpe import client as gpe_client

    if ctx.gpe is None or ctx.gpe_config != config:
        if ctx.gpe is not None:
            ctx.gpe.close()
        ctx.gpe, ctx.gpe_config = gpe_client.GPEClient(config), config
    try:
        return ctx.gpe.post_targets(spec.name, tick, epoch, spec.refresh_s, request)
    except gpe_client.Fenced as exc:
        raise _PostFailed(Outcome.FENCED, None, str(exc), "fenced", exc.code) from None
    except gpe_client.InvalidReply as exc:
        raise _PostFailed(Outcome.INVALID_REPLY, catalog.PACING_RESPONSE_VALIDATION_ERROR, str(exc),
                          "invalid_reply") from None
    except gpe_client.RequestFailed as exc:
        raise _PostFailed(Outcome.REQUEST_FAILED, catalog.PACING_REQUESTS_FAILED, str(exc), exc.kind) from None


def _after_fenced(lease, failure: _PostFailed, epoch: int) -> None:
    """GPE saw a higher epoch than ours although we hold the lease (Redis lost its epoch counter): move the
    cluster's epoch past GPE's, so the next cycle is accepted."""
    if failure.code != "stale_epoch" or not lease.is_valid():
        return
    found = re.search(r"older than (\d+)", failure.reason)
    seen = int(found.group(1)) if found else epoch
    raised = lease.raise_epoch(seen + 1)
    if raised is not None:
        logger.warning("Cluster %s: GPE has seen epoch %s; the lease's epoch is now %s.", lease.cluster, seen, raised)


# ---------------------------------------------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------------------------------------------


def _prepare(ctx: _Context, spec: ClusterSpec) -> _Prepared:
    """The cluster's targets and what derives from them (cached while their discovery versions hold)."""
    from configdb.models import Tenant

    from .targets import discover_many

    tenants = list(Tenant.objects.filter(name__in=spec.tenants).only("pk", "name").order_by("name"))
    found = discover_many(tenants)
    discoveries = [found[t.pk] for t in tenants if t.pk in found]
    # A tenant served by several clusters is paced by the first by name (the one its goals fall back to).
    discoveries = [d for d in discoveries if d.cluster in (None, spec.name)]
    key = (spec.id, tuple((d.tenant_id, d.version) for d in discoveries))
    prepared = ctx.prepared
    # The same configuration version: the discovery may still be a new object (reloaded after its time-to-live,
    # which catches writes that bypass the signals); reuse what was prepared if its targets are the same (a tuple
    # comparison, ~10 ms at 100,000 targets, instead of preparing again, ~1.5 s).
    sources = [id(d) for d in discoveries]
    if prepared is not None and prepared.key == key and (
            prepared.sources == sources or prepared.discovered == [d.targets for d in discoveries]):
        prepared.sources = sources
        return prepared
    targets, seen, skipped = [], set(), 0
    slices: dict[int, slice] = {}
    for d in discoveries:
        start = len(targets)
        for target in d.targets:
            if target.name in seen:
                skipped += 1
                continue
            seen.add(target.name)
            targets.append(target)
        slices[d.tenant_id] = slice(start, len(targets))   # the Redis keys are the tenant's id's
    if skipped:
        logger.warning("Cluster %s: %d targets of its tenants have the name of another tenant's target and are not "
                       "posted (names must be unique in a post).", spec.name, skipped)
    bases = [{"name": t.name, "virtualQueue": t.queue.number, "media": t.media,
              "agentGroups": [g.name for g in t.agent_groups]} for t in targets]
    membership = load_membership(targets, [d.tenant_id for d in discoveries])
    names = [t.name for t in targets]
    names_blob = orjson.dumps(names)
    prepared = _Prepared(key, targets, names, slices, np.array([t.goal_pct for t in targets], dtype=np.float64),
                         bases, membership, names_blob, names_digest(names_blob), skipped,
                         sources=sources, discovered=[d.targets for d in discoveries])
    ctx.prepared = prepared
    return prepared


# ---------------------------------------------------------------------------------------------------------------
# the cycle
# ---------------------------------------------------------------------------------------------------------------


def run_cycle(spec: ClusterSpec, *, node: str | None = None, now: float | None = None, tick: int | None = None,
              client=None) -> CycleRecord:
    """Run one cycle of ``spec`` as ``node`` (default ``node_name()``); never raises (see the docstring).

    ``now`` (unix time) and ``tick`` default to the clock; ``client`` to ``pacing.redis.get_redis()``. A cycle
    that is still running for the same cluster and node in this process makes this call return at once
    (outcome ``not_posted``, reason "the previous cycle is still running").
    """
    node = node or node_name()
    now = time.time() if now is None else now
    tick = spec.tick(now) if tick is None else int(tick)
    record = CycleRecord(cluster=spec.name, node=node, tick=tick, started_at=now, interval_s=spec.refresh_s)
    ctx = _context(spec.name, node)
    if not ctx.lock.acquire(blocking=False):
        record.outcome, record.reason = Outcome.NOT_POSTED, "the previous cycle is still running"
        return record
    try:
        try:
            _run(ctx, spec, record, client)
        except (redis.RedisError, OSError) as exc:
            if record.outcome == Outcome.POSTED:   # GPE has the post; only its record is missing
                record.reason = f"posted, but not recorded: Redis is unreachable ({type(exc).__name__}: {exc})"
            else:
                record.outcome = Outcome.REDIS_UNAVAILABLE
                record.reason = f"Redis is unreachable ({type(exc).__name__}: {exc}); not posting"
            _warn(ctx, "redis", "Pacing cluster %s, node %s: %s", spec.name, node, record.reason)
        except Exception as exc:  # a bug: say it loudly, keep the node alive for the next cycle
            record.outcome = Outcome.ERROR
            record.reason = f"unexpected error: {type(exc).__name__}: {exc}"
            logger.exception("Pacing cycle of %s on %s failed.", spec.name, node)
        _log(ctx, record)
        ctx.last = record
        _observe(record)
        return record
    finally:
        ctx.lock.release()


def _log(ctx: _Context, record: CycleRecord) -> None:
    """One INFO line per posted cycle; otherwise one when the node's outcome changes (a standby node runs a
    cycle every second: not a line each time). Warnings are logged where they happen."""
    if record.outcome == Outcome.POSTED:
        errors = f", {record.target_errors} target error(s)" if record.target_errors else ""
        logger.info("Cluster %s tick %s (epoch %s, node %s): posted %d invitations for %d targets; GPE has %d "
                    "pending%s; %.0f ms.", record.cluster, record.tick, record.epoch, record.node, record.invitations,
                    record.targets, record.pending, errors, record.duration_ms)
    elif ctx.last is None or ctx.last.outcome != record.outcome:
        logger.info("Cluster %s, node %s: %s%s", record.cluster, record.node, record.outcome,
                    f" ({record.reason})" if record.reason else "")


def _observe(record: CycleRecord) -> None:
    try:
        from . import metrics
    except ImportError:  # prometheus-client not installed
        return
    metrics.observe_cycle(record)


def _heartbeat(lease, record: CycleRecord, posting: bool, config_problem: str | None = None) -> None:
    lease.heartbeat({
        "posting": posting, "not_posting": None if posting else record.reason, "tick": record.tick,
        "cycle_outcome": record.outcome, "cycle_ms": record.duration_ms, "targets": record.targets,
        "invitations": record.invitations, "refresh_s": record.interval_s, "config_problem": config_problem,
        "pid": os.getpid(),
    })


def _not_posted(lease, history: History, record: CycleRecord, reason: str) -> None:
    """The leader does not post this tick (its deadline passed, or the tick is claimed): say why and record it."""
    record.outcome = Outcome.NOT_POSTED
    record.reason = reason
    _heartbeat(lease, record, False)
    history.record_cycle(record.as_dict())


def _run(ctx: _Context, spec: ClusterSpec, record: CycleRecord, client) -> None:
    from alarms import catalog

    stage = _Stages(record)
    with stage("config"):
        config, problem = None, None
        try:
            config = _gpe_config(spec)
        except GPEConfigProblem as exc:
            problem = str(exc)
            record.failure = "config"

    with stage("lease"):
        if client is None:
            from .redis import get_redis

            client = get_redis()
        lease = _lease(ctx, client, spec)
        state = lease.campaign()
    record.epoch = state.epoch if state.epoch >= 0 else None
    if state.outcome == "redis_error":
        record.outcome, record.reason = Outcome.REDIS_UNAVAILABLE, f"{state.reason}; not posting"
        _warn(ctx, "redis", "Pacing cluster %s, node %s: %s", spec.name, ctx.node, record.reason)
        return
    if not state.leader:
        record.outcome = Outcome.STANDBY
        record.reason = f"standby: {state.reason}" + (f"; and {problem}" if problem else "")
        _heartbeat(lease, record, False, problem)
        return
    record.leader = True
    history = History(client, spec.name, lease.prefix)

    if problem is not None:
        record.outcome, record.reason = Outcome.CONFIG_ERROR, f"not posting: {problem}"
        _warn(ctx, "config:" + problem, "Pacing cluster %s: %s", spec.name, record.reason)
        _alarm(ctx, spec, catalog.PACING_REQUESTS_FAILED, record.reason, {"cause": "configuration"})
        _heartbeat(lease, record, False, problem)
        history.record_cycle(record.as_dict())
        return

    with stage("targets"):
        prepared = _prepare(ctx, spec)
    names = prepared.names
    record.targets = len(names)

    with stage("stats"):
        pipe = client.pipeline(transaction=False)
        for tenant_id, part in prepared.tenant_slices.items():
            part_names = names[part]
            if part_names:
                pipe.hmget(tenant_key(tenant_id, "stats"), part_names)
        replies = iter(pipe.execute()) if names else iter(())
        stats_blobs: list = []
        for part in prepared.tenant_slices.values():
            if part.stop > part.start:
                stats_blobs += next(replies)
        stats_now = time.time()
        arrays, stale, age = decode_columns(stats_blobs, stats_now, stats_max_age_s())
        previous, _known = history.read_pending(names, prepared.digest, record.tick)
        # stale stats give 0 agents, hence 0 invitations, whatever is in flight: not worth reading cycles for
        sent_since, pending_at = history.at_snapshots(names, prepared.digest, record.tick,
                                                      np.where(stale, np.nan, stats_now - age), spec.refresh_s)
        # the charts' ready agents and abandonment % (pacing/history.py, "hour"): the snapshot's, before the split
        ready_seen = np.where(stale, np.nan, arrays["ready_agents"])
        with np.errstate(invalid="ignore", divide="ignore"):
            abandoned_pct = np.where(arrays["accepted"] > 0, 100.0 * arrays["abandoned"] / arrays["accepted"], np.nan)
        share = shares(prepared.membership, demand_weights(arrays["accepted"], arrays["queued"]))
        record.shared_targets = int(np.count_nonzero(share < 1.0))
        if record.shared_targets:
            arrays["ready_agents"] = arrays["ready_agents"] * share
            arrays["busy_agents"] = arrays["busy_agents"] * share

    with stage("engine"):
        invitations = compute_invitations(TargetState(
            **arrays, pending=previous, goal_pct=prepared.goals, interval_s=spec.refresh_s, stats_age_s=age,
            sent_since_snapshot=sent_since, pending_at_snapshot=pending_at))
        record.invitations = int(invitations.sum())

    if not lease.is_valid():
        return _not_posted(lease, history, record, "not posting: the lease's local deadline passed before the "
                                                   "post (a slow cycle or a pause)")
    if not lease.claim_tick(record.tick):
        return _not_posted(lease, history, record, f"not posting tick {record.tick}: {lease.last_claim[1]}")

    with stage("encode"):
        inv_list = invitations.tolist()
        request = _encode(spec, record.tick, state.epoch,
                          [{**base, "invitations": n} for base, n in zip(prepared.bases, inv_list, strict=True)],
                          config)
        record.bytes_sent = len(request.body)
    if not lease.is_valid():      # the encoding of a large post takes a while: check the deadline once more
        return _not_posted(lease, history, record, f"not posting tick {record.tick}: the lease's local deadline "
                                                   "passed while encoding")

    with stage("post"):
        try:
            reply, failure = _post(ctx, config, spec, record.tick, state.epoch, request), None
            posted_at = time.time()       # the reply's pending counts are GPE's as of now (History.at_snapshots)
        except _PostFailed as exc:
            reply, failure, posted_at = None, exc, time.time()
            record.failure = exc.kind
            if exc.outcome == Outcome.FENCED:
                _after_fenced(lease, exc, state.epoch)

    with stage("record"):
        errors: list = [None] * len(names)
        pending = previous
        if reply is not None:
            pending = previous.copy()
            index = prepared.index if reply.pending or reply.errors else {}
            for name, value in reply.pending.items():
                pending[index[name]] = value
            for error in reply.errors:
                errors[index[error.name]] = {"code": error.code, "message": error.message}
            record.pending = int(pending.sum())
            record.target_errors = len(reply.errors)
            record.outcome = Outcome.POSTED
            if reply.errors:
                record.reason = (f"GPE reported {len(reply.errors)} target error(s), e.g. '{reply.errors[0].name}': "
                                 f"{reply.errors[0].code} {reply.errors[0].message}").strip()
        else:
            record.outcome, record.reason = failure.outcome, failure.reason
        if reply is not None or failure.outcome == Outcome.INVALID_REPLY:
            pipe = client.pipeline(transaction=False)
            rows = {tenant_id: (names[part], invitations[part], pending[part], share[part], errors[part])
                    for tenant_id, part in prepared.tenant_slices.items()}
            history.write_results(pipe, rows, tick=record.tick, epoch=record.epoch, at=record.started_at)
            if time.monotonic() - ctx.names_written.get(prepared.digest, -NAMES_REWRITE_S) >= NAMES_REWRITE_S:
                history.write_names(pipe, prepared.digest, prepared.names_blob)
                ctx.names_written = {prepared.digest: time.monotonic()}
            history.write_pending(pipe, prepared.digest, pending, tick=record.tick, epoch=record.epoch)
            history.write_series(pipe, prepared.digest, invitations, pending, share, tick=record.tick,
                                 at=record.started_at, posted=posted_at)
            ctx.hour = hour_bucket(ctx.hour, digest=prepared.digest, size=len(names), at=record.started_at)
            ctx.hour.add(at=record.started_at, tick=record.tick, invitations=invitations, pending=pending,
                         share=share, ready=ready_seen, abandoned_pct=abandoned_pct)
            history.write_hour(pipe, ctx.hour)
            history.write_cycle(pipe, record.as_dict())
            pipe.execute()
        else:
            history.record_cycle(record.as_dict())
        _heartbeat(lease, record, record.outcome == Outcome.POSTED)

    # --- alarms: raised on failure, cleared by the next success ------------------------------------------
    if reply is not None:
        _clear(ctx, spec, catalog.PACING_REQUESTS_FAILED)
        _clear(ctx, spec, catalog.PACING_RESPONSE_VALIDATION_ERROR)
        if reply.errors:
            _alarm(ctx, spec, catalog.PACING_RESPONSE_TARGET_ERROR, record.reason,
                   {"targets": [e.name for e in reply.errors[:20]], "count": len(reply.errors)})
        else:
            _clear(ctx, spec, catalog.PACING_RESPONSE_TARGET_ERROR)
        ctx.cleared_once = True
    elif failure.alarm is not None:
        _alarm(ctx, spec, failure.alarm, failure.reason, {"tick": record.tick})
        _warn(ctx, "post:" + failure.outcome, "Pacing cluster %s: %s", spec.name, failure.reason)
    else:
        logger.info("Pacing cluster %s, tick %s: %s", spec.name, record.tick, failure.reason)
