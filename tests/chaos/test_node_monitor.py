"""A pacing node started as operators start it runs its monitor against its application's ``metrics``
options: a heap threshold below the node's resident memory raises Heap Memory Usage for that node."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest

from .conftest import ROOT

#: a real node process and its timings: alone, after the parallel workers (tests/conftest.py)
pytestmark = pytest.mark.serial

MONITORED = "Monitor_Test_Node"

CREATE = f"""
import django; django.setup()
from configdb import services
from configdb.models import Application
if not Application.objects.filter(name={MONITORED!r}).exists():
    node = services.clone_object(Application.objects.get(name="Pacing_Server_Node_01"))
    node.name = {MONITORED!r}
    node.options = {{"metrics": {{"heapMemoryUsage.threshold": "0.0001"}}}}
    services.save_object(node)
"""


def test_the_node_monitor_raises_heap_memory_usage(world):
    done = subprocess.run([sys.executable, "-c", CREATE], cwd=ROOT, env=world.env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    world.env = {**world.env, "PACING_NODE_APPLICATION": MONITORED}
    world.start_node("node-4")

    def raised():
        with contextlib.closing(world._db()) as db:
            rows = db.execute("SELECT source, node, message FROM alarms_alarm WHERE condition_name = ? AND "
                              "state = 'active'", ("Heap Memory Usage",)).fetchall()
        return [r for r in rows if r[0] == "node-4"]

    rows = world.wait("node-4's Heap Memory Usage alarm", raised, timeout=30)
    assert rows[0][1] == "node-4" and "heapMemoryUsage.threshold" in rows[0][2]
    # The other nodes use the defaults (0.8 of the machine's memory): nothing raised for them.
    with contextlib.closing(world._db()) as db:
        others = db.execute("SELECT source FROM alarms_alarm WHERE condition_name = ? AND source != 'node-4'",
                            ("Heap Memory Usage",)).fetchall()
    assert others == []


def test_the_nodes_metrics_reach_one_multiprocess_directory(world):
    """What the node processes count is what /metrics sums (prometheus-client's multiprocess mode)."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess
    from prometheus_client.parser import text_string_to_metric_families

    world.wait_steady()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=world.env["PROMETHEUS_MULTIPROC_DIR"])
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    cluster = (("cluster", "Pacing_Service_Cluster_9.0"),)
    posted = samples[("pacing_cycles_total", (*cluster, ("outcome", "posted")))]
    assert posted >= 2
    assert samples[("pacing_cycle_duration_seconds_count", cluster)] >= posted
    assert samples[("pacing_gpe_request_duration_seconds_count", cluster)] >= posted
    assert ("pacing_invitations_sent_total", cluster) in samples
