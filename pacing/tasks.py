"""Celery tasks of the pacing service (thin: they parse, call pacing.cycle, and return a summary).

The beat (pacingsite/celery.py) sends ``pacing.dispatch`` every second to the node's OWN queue
(``pacing.node.<worker name>``), so each node's beat drives that node's worker. ``dispatch`` reads the pacing
clusters from the configuration (pacing/clusters.py: two SQL queries) and, for every cluster whose tick
``floor(unix time / refreshPeriod)`` has come since its last dispatch on this node, sends ``pacing.cycle``
to the same queue with ``expires`` = one refresh period (a backlog never replays old cycles). A new cluster,
a new period or a disabled cluster is therefore picked up within a second, without a restart. A node whose
last cycle of a cluster was ``standby`` campaigns again at every dispatch (every second), not once per tick:
when the leader dies, a successor takes over as soon as its lease expires (2 periods after its last renewal,
plus at most a second), and posts the current tick if nobody claimed it.

``pacing.cycle`` reloads the cluster, drops a tick that is no longer the current one, and runs
``pacing.cycle.run_cycle``, which never overlaps itself for a (cluster, node) in a process (a non-blocking
lock: a cycle still running makes the next one return at once).

With ``REDIS_URL`` unset, Celery runs tasks eagerly (CELERY_TASK_ALWAYS_EAGER): ``dispatch()`` runs the due
cycles in the calling thread (tests, management shells).
"""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from django.db import DatabaseError

from .clusters import get_cluster, pacing_clusters
from .cycle import node_name, run_cycle
from .types import Outcome

__all__ = ["DISPATCH_EVERY_S", "cycle", "dispatch", "node_of", "queue_of"]

logger = logging.getLogger("pacing.tasks")

#: how often the beat sends ``pacing.dispatch`` (seconds; OURS)
DISPATCH_EVERY_S = 1.0
QUEUE_PREFIX = "pacing.node."

_last_lock = threading.Lock()
_last_tick: dict[tuple[int, str], int] = {}
#: (cluster, node) whose last cycle was standby: they campaign again at every dispatch (every second), not once
#: per tick, so a dead leader's successor takes over as soon as the lease expires (within 2 periods + 1 s)
_standby: set[tuple[int, str]] = set()
_db_warned = -60.0


def node_of(hostname: str | None) -> str:
    """The pacing node name of a Celery worker: ``node-1`` of ``node-1@host`` (PACING_NODE_NAME, or the host
    name, when the task runs outside a worker)."""
    if hostname:
        name = hostname.split("@", 1)[0].strip()
        if name:
            return name
    return node_name()


def queue_of(hostname: str) -> str:
    """The queue a worker consumes its own pacing tasks from."""
    return QUEUE_PREFIX + hostname


def due(cluster_id: int, node: str, tick: int) -> bool:
    """True once per (cluster, node, tick): the tick has come and was not dispatched yet on this node."""
    key = (cluster_id, node)
    with _last_lock:
        if _last_tick.get(key, -1) >= tick and key not in _standby:
            return False
        _last_tick[key] = max(tick, _last_tick.get(key, -1))
        return True


def _note(cluster_id: int, node: str, outcome: str) -> None:
    with _last_lock:
        if outcome == Outcome.STANDBY:
            _standby.add((cluster_id, node))
        else:
            _standby.discard((cluster_id, node))


def reset() -> None:
    with _last_lock:
        _last_tick.clear()
        _standby.clear()


@shared_task(name="pacing.dispatch", ignore_result=True)
def dispatch(hostname: str | None = None) -> list[int]:
    """Send ``pacing.cycle`` for every pacing cluster whose tick has come; returns the cluster ids sent."""
    node = node_of(hostname)
    now = time.time()
    sent = []
    try:
        specs = pacing_clusters()
    except DatabaseError as exc:  # the configuration database is down: say so (once a minute), try next second
        global _db_warned
        if time.monotonic() - _db_warned >= 60.0:
            _db_warned = time.monotonic()
            logger.warning("Node %s cannot read the pacing clusters (%s: %s); not pacing.", node,
                           type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return sent
    for spec in specs:
        tick = spec.tick(now)
        if not due(spec.id, node, tick):
            continue
        options = {"expires": spec.refresh_s}
        if hostname:
            options["queue"] = queue_of(hostname)
        cycle.apply_async(args=(spec.id, hostname, tick), **options)
        sent.append(spec.id)
    return sent


@shared_task(name="pacing.cycle", ignore_result=True)
def cycle(cluster_id: int, hostname: str | None = None, tick: int | None = None) -> dict:
    """Run one pacing cycle of a cluster on this node; returns the cycle's summary."""
    node = node_of(hostname)
    spec = get_cluster(int(cluster_id))
    if spec is None:
        return {"cluster": cluster_id, "node": node, "outcome": "skipped", "reason": "no such pacing cluster"}
    now = time.time()
    current = spec.tick(now)
    if tick is not None and int(tick) != current:
        return {"cluster": spec.name, "node": node, "tick": tick, "outcome": "skipped",
                "reason": f"tick {tick} is over (now {current})"}
    record = run_cycle(spec, node=node, now=now, tick=current)
    _note(spec.id, node, record.outcome)
    return record.as_dict()


@shared_task(name="pacing.prune_history", ignore_result=True)
def prune_history() -> str:
    """The upkeep of the change and cycle histories (pacing/retention.py), every few hours on every node."""
    from .retention import upkeep

    line = upkeep().line()
    logger.info(line)
    return line
