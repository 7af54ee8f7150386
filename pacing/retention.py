"""The daily upkeep of what the service keeps (task ``pacing.prune_history``, ``manage.py prune_history``; OURS).

* **Change history**: records older than ``PACING_CHANGE_HISTORY_DAYS`` (configdb/retention.py).
* **Cycle history** (pacing/history.py): each cluster's lists are capped by count as they are written
  (``PACING_HISTORY_CYCLES``, ``PACING_HISTORY_RESULTS``); the upkeep trims them again after a setting was
  lowered, and deletes the keys of clusters that are no longer in the configuration (a deleted or renamed cluster's
  cycles, results, pending counts and names would otherwise stay in Redis for ever). The charts' hour
  (``…:hour:<start>`` keys) expires by itself an hour after its last write; the upkeep also deletes a step older
  than the hour that has lost its expiry (e.g. restored from a dump), and a removed cluster's steps.

Safe to run on every node at once and as often as wanted: each step is idempotent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from configdb.models import Application, ApplicationType
from configdb.retention import prune_change_history

from .history import DEFAULT_CYCLES, DEFAULT_RESULTS, HOUR_S, _settings_int
from .redis import get_redis, key_prefix


@dataclass
class UpkeepReport:
    changes_deleted: int = 0
    clusters_removed: int = 0        # clusters no longer configured whose keys were deleted
    keys_deleted: int = 0
    lists_trimmed: int = 0
    hour_steps_deleted: int = 0      # steps of the charts' hour past the hour with no expiry
    dry_run: bool = False

    def line(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"upkeep: {verb} {self.changes_deleted} change record(s) past the retention and "
                f"{self.keys_deleted} Redis key(s) of {self.clusters_removed} cluster(s) no longer configured; "
                f"{self.lists_trimmed} cycle list(s) trimmed"
                + (f"; {self.hour_steps_deleted} step(s) of the charts' hour past the hour {verb}"
                   if self.hour_steps_deleted else "") + ".")


def prune_cycle_history(report: UpkeepReport, client=None) -> None:
    client = client or get_redis()
    # every cluster application, enabled or not: a disabled cluster keeps its history
    configured = set(Application.objects.filter(app_type=ApplicationType.APPLICATION_CLUSTER)
                     .values_list("name", flat=True))
    base = f"{key_prefix()}:cluster:"
    gone: set[str] = set()
    caps = {"cycles": _settings_int("PACING_HISTORY_CYCLES", DEFAULT_CYCLES),
            "results": _settings_int("PACING_HISTORY_RESULTS", DEFAULT_RESULTS)}
    for raw in client.scan_iter(match=f"{base}*", count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        rest = key[len(base):]
        cluster, _, kind = rest.rpartition(":")
        hour_start = None
        if kind not in ("cycles", "results", "pending"):   # names:<digest>, hour:<start>: the cluster is before
            for marker in (":names:", ":hour:"):
                if marker in rest:
                    cluster, _, sub = rest.rpartition(marker)
                    kind = marker.strip(":")
                    if kind == "hour" and sub.isdigit():
                        hour_start = int(sub)
                    break
        if cluster not in configured:
            gone.add(cluster)
            report.keys_deleted += 1
            if not report.dry_run:
                client.delete(key)
        elif (hour_start is not None and hour_start + HOUR_S * 2 < time.time()
              and client.ttl(key) == -1):
            report.hour_steps_deleted += 1
            if not report.dry_run:
                client.delete(key)
        elif kind in caps and client.llen(key) > caps[kind]:
            report.lists_trimmed += 1
            if not report.dry_run:
                client.ltrim(key, 0, caps[kind] - 1)
    report.clusters_removed = len(gone)


def upkeep(*, dry_run: bool = False) -> UpkeepReport:
    report = UpkeepReport(dry_run=dry_run)
    report.changes_deleted = prune_change_history(dry_run=dry_run)
    prune_cycle_history(report)
    return report
