"""The pacing nodes of each cluster, from their heartbeats in Redis: what the nodes API and the admin page show.

One row per node with a live heartbeat (pacing/lease.py writes them; a node's heartbeat lives
``max(3 × lease TTL, 15 s)``): its name, its cluster, whether it holds the cluster's lease now, its last
heartbeat, the cluster's epoch, the lease's age, and — when it is not posting — why (``reason``): standby
behind another leader, no usable ``hybrid_integration``, a failed request, the lease's local deadline… A
node that cannot reach Redis writes no heartbeat: it drops out of the list once its last one expires, and
says why in its own log.
"""

from __future__ import annotations

from collections.abc import Iterable

from .types import ClusterSpec

__all__ = ["node_rows"]


def node_rows(clusters: Iterable[ClusterSpec], client=None) -> list[dict]:
    """The nodes of ``clusters``, sorted by cluster and node name (redis.RedisError when Redis is down)."""
    from . import lease
    from .redis import get_redis, key_prefix

    client = client if client is not None else get_redis()
    rows = []
    for spec in clusters:
        for entry in lease.nodes(client, spec.name, key_prefix()):
            info = entry.get("info") or {}
            posting = bool(info.get("posting")) and entry["leader"]
            reason = None
            if not posting:
                reason = info.get("not_posting") or entry.get("reason") or "no cycle yet"
            rows.append({
                "name": entry["name"],
                "cluster": spec,
                "leader": bool(entry["leader"]),
                "leader_node": entry.get("leader_node"),
                "posting": posting,
                "reason": reason,
                "last_heartbeat": entry["last_heartbeat"],
                "heartbeat_age_s": entry.get("heartbeat_age_s"),
                "epoch": entry["epoch"] if entry["epoch"] is not None and entry["epoch"] >= 0 else None,
                "node_epoch": entry["node_epoch"] if isinstance(entry.get("node_epoch"), int)
                and entry["node_epoch"] >= 0 else None,
                "lease_age_s": entry.get("lease_age_s"),
                "lease_ttl_ms": entry.get("lease_ttl_ms"),
                "last_cycle": {
                    "tick": info.get("tick"), "outcome": info.get("cycle_outcome"),
                    "duration_ms": info.get("cycle_ms"), "targets": info.get("targets"),
                    "invitations": info.get("invitations"), "refresh_s": info.get("refresh_s"),
                },
            })
    rows.sort(key=lambda r: (r["cluster"].name, r["name"]))
    return rows
