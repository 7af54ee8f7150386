"""Prometheus metrics of the pacing cycle (prometheus-client), and the collectors a /metrics view registers.

Recorded by ``pacing.cycle.run_cycle`` after every cycle (``observe_cycle``), in the process that ran it:

* ``pacing_cycle_duration_seconds`` (histogram; cluster): one cycle, all stages (leaders and standbys).
* ``pacing_cycle_stage_duration_seconds`` (histogram; cluster, stage): config, lease, targets, stats, engine,
  encode, post, record.
* ``pacing_cycles_total`` (counter; cluster, outcome): cycles by outcome (``pacing.types.Outcome``).
* ``pacing_targets`` (gauge; cluster): targets of the cluster's last leader cycle.
* ``pacing_invitations_sent_total`` (counter; cluster): invitations posted with a valid reply.
* ``pacing_gpe_request_duration_seconds`` (histogram; cluster): the GPE post (token, round trip, parse).
* ``pacing_gpe_request_failures_total`` (counter; cluster, reason): posts without a valid reply, by reason:
  ``connect``, ``timeout``, ``http``, ``unauthorized``, ``token``, ``invalid_reply``, ``fenced``, ``config``.

Multiprocess: with ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus-client keeps the values in files there and the
/metrics view aggregates them; the gauge declares ``multiprocess_mode="livemax"`` (the largest value among the
live processes: one node process per cluster leader posts).

``collectors()`` returns the collectors a /metrics view registers on its registry: ``NodesCollector`` reads
the nodes' heartbeats from Redis at scrape time (``pacing_node_leader`` 1/0 and
``pacing_node_heartbeat_age_seconds`` per cluster and node, and ``pacing_nodes_redis_up``), so it is the
same in every process and needs no multiprocess files.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from .types import CycleRecord, Outcome

__all__ = ["NodesCollector", "collectors", "observe_cycle"]

logger = logging.getLogger("pacing.metrics")

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

CYCLE_SECONDS = Histogram("pacing_cycle_duration_seconds", "Duration of one pacing cycle.", ["cluster"],
                          buckets=_SECONDS)
STAGE_SECONDS = Histogram("pacing_cycle_stage_duration_seconds", "Duration of one stage of a pacing cycle.",
                          ["cluster", "stage"], buckets=_SECONDS)
CYCLES = Counter("pacing_cycles", "Pacing cycles by outcome.", ["cluster", "outcome"])
TARGETS = Gauge("pacing_targets", "Pacing targets of the cluster's last leader cycle.", ["cluster"],
                multiprocess_mode="livemax")
INVITATIONS = Counter("pacing_invitations_sent", "Invitations posted to GPE.", ["cluster"])
GPE_SECONDS = Histogram("pacing_gpe_request_duration_seconds", "The GPE pacing post: token, round trip, parse.",
                        ["cluster"], buckets=_SECONDS)
GPE_FAILURES = Counter("pacing_gpe_request_failures", "GPE pacing posts without a valid reply, by reason.",
                       ["cluster", "reason"])

_FAILURES = {Outcome.REQUEST_FAILED, Outcome.INVALID_REPLY, Outcome.FENCED, Outcome.CONFIG_ERROR}


def observe_cycle(record: CycleRecord) -> None:
    """Record one cycle (never raises: metrics must not stop pacing)."""
    try:
        cluster = record.cluster
        CYCLES.labels(cluster, record.outcome).inc()
        CYCLE_SECONDS.labels(cluster).observe(record.duration_ms / 1000.0)
        for stage, ms in record.durations_ms.items():
            STAGE_SECONDS.labels(cluster, stage).observe(ms / 1000.0)
        if record.leader and record.outcome not in (Outcome.REDIS_UNAVAILABLE, Outcome.STANDBY):
            TARGETS.labels(cluster).set(record.targets)
        if "post" in record.durations_ms:
            GPE_SECONDS.labels(cluster).observe(record.durations_ms["post"] / 1000.0)
        if record.outcome == Outcome.POSTED:
            INVITATIONS.labels(cluster).inc(record.invitations)
        elif record.outcome in _FAILURES:
            GPE_FAILURES.labels(cluster, record.failure or record.outcome).inc()
    except Exception:  # noqa: BLE001
        logger.exception("Could not record the metrics of a pacing cycle.")


class NodesCollector:
    """Leader status per node, from the heartbeats in Redis (read at scrape time)."""

    def __init__(self, client=None, prefix: str | None = None) -> None:
        self.client, self.prefix = client, prefix

    def describe(self):  # nothing up front: the registry calls collect() at scrape time only
        return []

    def collect(self):
        import redis

        from . import lease
        from .redis import get_redis, key_prefix

        leader = GaugeMetricFamily("pacing_node_leader", "1 if the node holds its cluster's lease, else 0.",
                                   labels=["cluster", "node"])
        age = GaugeMetricFamily("pacing_node_heartbeat_age_seconds", "Seconds since the node's last heartbeat.",
                                labels=["cluster", "node"])
        up = GaugeMetricFamily("pacing_nodes_redis_up", "1 if the nodes' heartbeats could be read from Redis.")
        try:
            client = self.client if self.client is not None else get_redis()
            entries = lease.nodes(client, None, self.prefix or key_prefix())
        except (redis.RedisError, OSError, RuntimeError) as exc:
            logger.debug("pacing nodes not readable: %s", exc)
            up.add_metric([], 0.0)
            yield up
            return
        for entry in entries:
            leader.add_metric([entry["cluster"], entry["name"]], 1.0 if entry["leader"] else 0.0)
            if entry.get("heartbeat_age_s") is not None:
                age.add_metric([entry["cluster"], entry["name"]], float(entry["heartbeat_age_s"]))
        up.add_metric([], 1.0)
        yield leader
        yield age
        yield up


def collectors() -> list:
    """The collectors a /metrics view registers (``registry.register(c)`` for each)."""
    return [NodesCollector()]
