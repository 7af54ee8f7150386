"""The histories' retention (pacing/retention.py, configdb/retention.py): change records past
PACING_CHANGE_HISTORY_DAYS go, newer ones stay; the Redis cycle history of a cluster no longer configured goes,
a configured (even disabled) cluster's stays, trimmed to its cap; the task is on every node's beat schedule."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from configdb.models import ObjectChange
from configdb.retention import prune_change_history
from pacing import redis as pacing_redis
from pacing.retention import upkeep
from pacingsite.celery import UPKEEP, app

CLUSTER = "Pacing_Service_Cluster_9.0"


@pytest.fixture
def embedded(settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("embedded-redis-retention")
    settings.REDIS_URL = ""
    settings.VAR_DIR = path
    settings.PACING_REDIS_PREFIX = prefix = f"test-{uuid.uuid4().hex}"
    client = pacing_redis.get_redis()
    yield client, prefix
    pacing_redis.reset_clients(f"embedded:{pacing_redis.embedded_db_path(path)}")


def age(days: float) -> None:
    """Make every change record ``days`` old."""
    ObjectChange.objects.update(time=timezone.now() - datetime.timedelta(days=days))


def test_change_records_past_the_retention_are_deleted(demo, settings):
    settings.PACING_CHANGE_HISTORY_DAYS = 30
    total = ObjectChange.objects.count()
    assert total > 10
    assert prune_change_history() == 0
    age(31)
    kept = ObjectChange.objects.order_by("id")[:3]
    ObjectChange.objects.filter(id__in=[c.id for c in kept]).update(time=timezone.now())
    assert prune_change_history(dry_run=True) == total - 3 and ObjectChange.objects.count() == total
    assert prune_change_history() == total - 3
    assert ObjectChange.objects.count() == 3


def test_zero_days_keeps_the_history_for_ever(demo, settings):
    settings.PACING_CHANGE_HISTORY_DAYS = 0
    age(10_000)
    assert prune_change_history() == 0


def test_the_cycle_history_of_a_removed_cluster_goes_and_a_lowered_cap_trims(demo, settings, embedded):
    client, prefix = embedded
    settings.PACING_HISTORY_CYCLES = 5
    for cluster in (CLUSTER, "Gone_Cluster"):
        base = f"{prefix}:cluster:{cluster}"
        client.rpush(f"{base}:cycles", *[b"{}"] * 8)
        client.rpush(f"{base}:results", b"x")
        client.set(f"{base}:pending", b"p")
        client.set(f"{base}:names:abc123", b"n")
    out = io.StringIO()
    call_command("prune_history", "--dry-run", stdout=out)
    assert "would delete" in out.getvalue() and "4 Redis key(s) of 1 cluster(s)" in out.getvalue()
    assert client.exists(f"{prefix}:cluster:Gone_Cluster:cycles")
    report = upkeep()
    assert (report.clusters_removed, report.keys_deleted, report.lists_trimmed) == (1, 4, 1)
    assert sorted(k.decode() for k in client.scan_iter(match=f"{prefix}:cluster:*")) == sorted(
        f"{prefix}:cluster:{CLUSTER}:{kind}" for kind in ("cycles", "results", "pending", "names:abc123"))
    assert client.llen(f"{prefix}:cluster:{CLUSTER}:cycles") == 5


def test_the_upkeep_is_on_every_nodes_beat_schedule(demo, embedded):
    entry = app.conf.beat_schedule[UPKEEP]
    assert entry["task"] == "pacing.prune_history"
    app.loader.import_default_modules()                                  # what a worker does at start
    assert app.tasks[entry["task"]]().startswith("upkeep: deleted 0 change record(s)")
