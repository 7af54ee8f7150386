"""The GC and memory monitors fire with low thresholds and clear when back under; the collector's hook never
raises anything itself; the metrics reports follow the reporter options; one end-to-end run with the database."""

from __future__ import annotations

import gc
import io
import json
import logging
import threading
import time

import pytest

from alarms import catalog, config, runtime, sinks
from alarms.events import Kind
from alarms.monitors import Monitor, memory_limit, resident_bytes

NODE = "Pacing_Server_Node_01"


class Calls:
    """Stands in for alarms.runtime: records raise_alarm / clear_alarm and the thread that called."""

    def __init__(self):
        self.raised: list[tuple] = []
        self.cleared: list[tuple] = []

    def raise_alarm(self, code, message="", context=None, *, source="", node="", tenant=None):
        self.raised.append((code, message, dict(context or {}), source, node, threading.current_thread().name))

    def clear_alarm(self, code, message="", context=None, *, source="", node="", tenant=None):
        self.cleared.append((code, message, source, node))
        return 0

    def codes(self, which="raised"):
        return [c[0] for c in getattr(self, which)]


@pytest.fixture
def calls(monkeypatch):
    recorder = Calls()
    monkeypatch.setattr(runtime, "raise_alarm", recorder.raise_alarm)
    monkeypatch.setattr(runtime, "clear_alarm", recorder.clear_alarm)
    return recorder


@pytest.fixture(autouse=True)
def _fresh():
    config.reset_warnings()
    yield
    config.reset_warnings()


def monitor(metrics: dict, **kwargs) -> tuple[Monitor, dict]:
    options = {"metrics": dict(metrics)}
    kwargs.setdefault("memory_limit_mb", 1e9)        # far above this process: no heap alarm unless asked
    kwargs.setdefault("clear_after_s", 0)
    return Monitor(NODE, lambda: options, **kwargs), options


def test_a_long_pause_raises_gc_latency_on_the_monitor_thread_only(calls):
    m, _ = monitor({"GcLatency.threshold": "0.000001"})
    with m:
        gc.collect()
        assert calls.raised == []                      # the collector's hook only queued the pause
        measured = m.sample()
    assert measured["pauses"] >= 1 and measured["pause_max_ms"] > 0
    [(code, message, context, source, node, thread)] = calls.raised
    assert code == catalog.GC_LATENCY and (source, node) == (NODE, NODE)
    assert "GcLatency.threshold" in message and context["pauseMs"] > 0 and context["thresholdMs"] == 1e-06
    assert thread == threading.current_thread().name   # whoever called sample(), never the collector


def test_gc_latency_clears_when_pauses_are_back_under(calls):
    m, options = monitor({"GcLatency.threshold": "0.000001"})
    with m:
        gc.collect()
        m.sample()
        options["metrics"]["GcLatency.threshold"] = "60000"
        gc.collect()
        m.sample()
        m.sample()
    assert calls.codes("raised") == [catalog.GC_LATENCY]
    assert calls.codes("cleared").count(catalog.GC_LATENCY) == 1
    assert "back under" in [c for c in calls.cleared if c[0] == catalog.GC_LATENCY][0][1]


def test_the_clear_waits_for_clear_after(calls):
    m, options = monitor({"GcLatency.threshold": "0.000001"}, clear_after_s=60)
    with m:
        gc.collect()
        m.sample(now=1000.0)
        options["metrics"]["GcLatency.threshold"] = "60000"
        m.sample(now=1030.0)
        assert catalog.GC_LATENCY not in calls.codes("cleared")
        m.sample(now=1061.0)
    assert catalog.GC_LATENCY in calls.codes("cleared")


def test_full_collections_per_minute_raise_gc_latency_too(calls):
    m, _ = monitor({"GcFrequency.threshold": "2"})
    with m:
        for _ in range(4):
            gc.collect()
        measured = m.sample()
    assert measured["full_collections_per_min"] >= 4
    [raised] = calls.raised
    assert raised[0] == catalog.GC_LATENCY and "GcFrequency.threshold" in raised[1]
    assert raised[2]["fullCollectionsPerMin"] >= 4


def test_young_collections_do_not_count_as_full(calls):
    m, _ = monitor({"GcFrequency.threshold": "2"})
    with m:
        for _ in range(5):
            gc.collect(0)
        assert m.sample()["full_collections_per_min"] == 0
    assert calls.raised == []


def test_a_condition_that_lasts_is_raised_again_only_every_reraise(calls):
    m, _ = monitor({"GcLatency.threshold": "0.000001"}, reraise_s=300)
    with m:
        for now in (0.0, 10.0, 20.0, 301.0):
            gc.collect()
            m.sample(now=now)
    assert calls.codes("raised") == [catalog.GC_LATENCY, catalog.GC_LATENCY]


def test_a_tiny_memory_limit_raises_heap_memory_usage_and_a_large_one_clears_it(calls):
    m, _ = monitor({"heapMemoryUsage.threshold": "0.5"}, memory_limit_mb=1)
    m.sample()
    [(code, message, context, source, node, _)] = calls.raised
    assert code == catalog.HEAP_MEMORY_USAGE and source == NODE
    assert context["limitSource"] == "PACING_MEMORY_LIMIT_MB" and context["fraction"] > 1
    assert "heapMemoryUsage.threshold 0.5" in message
    m.memory_limit_mb = 1e9
    m.sample()
    assert catalog.HEAP_MEMORY_USAGE in calls.codes("cleared")


def test_the_first_round_clears_what_a_previous_process_left(calls):
    m, _ = monitor({})
    m.sample()
    m.sample()
    assert sorted(calls.codes("cleared")) == [catalog.GC_LATENCY, catalog.HEAP_MEMORY_USAGE]   # once each
    assert calls.raised == []


def test_a_failing_runtime_is_tried_again(monkeypatch):
    attempts = []

    def failing(*args, **kwargs):
        attempts.append(args[0])
        raise RuntimeError("database down")

    monkeypatch.setattr(runtime, "raise_alarm", failing)
    monkeypatch.setattr(runtime, "clear_alarm", lambda *a, **k: 0)
    m, _ = monitor({}, memory_limit_mb=1)
    m.sample()
    m.sample()
    assert attempts == [catalog.HEAP_MEMORY_USAGE, catalog.HEAP_MEMORY_USAGE]


def test_bad_options_fall_back_with_one_warning_each(calls, caplog):
    caplog.set_level(logging.WARNING, logger="alarms.config")
    m, _ = monitor({"GcLatency.threshold": "-5", "reporter.console.logFrequency": "soon",
                    "reporter.log.enabled": "maybe"})
    for _ in range(3):
        m.sample()
    warned = [r.getMessage() for r in caplog.records if r.name == "alarms.config"]
    assert len(warned) == 3 and all(NODE in w for w in warned)


def test_memory_readings():
    rss, how = resident_bytes()
    assert rss > 1024 * 1024 and how in ("rss", "peak rss")
    assert memory_limit(512) == (512 * 1024 * 1024, "PACING_MEMORY_LIMIT_MB")
    limit, source = memory_limit("lots")
    assert source in ("cgroup", "physical memory") and limit > rss


# --- reports ---------------------------------------------------------------------------------------------------

REPORTING = {"reporter.console.enabled": "true", "reporter.console.logFrequency": "10s",
             "reporter.log.enabled": "true", "reporter.log.logFrequency": "1min",
             "reporter.messageServer.enabled": "true", "reporter.messageServer.logFrequency": "30min"}


@pytest.fixture
def emitted(monkeypatch):
    events = []
    monkeypatch.setattr(sinks, "emit", events.append)
    return events


def test_reports_follow_each_reporters_frequency(calls, emitted, caplog):
    caplog.set_level(logging.INFO, logger="pacing.metrics")
    out = io.StringIO()
    m, _ = monitor(REPORTING, stdout=out)
    start = time.monotonic()
    with m:
        gc.collect()
        m.sample(now=start + 5)        # nothing due yet
        assert out.getvalue() == ""
        m.sample(now=start + 11)       # console
        m.sample(now=start + 22)       # console
        m.sample(now=start + 61)       # console and log
        m.sample(now=start + 1801)     # all three
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and all(line.startswith("metrics {") for line in lines)
    first = json.loads(lines[0].removeprefix("metrics "))
    assert first["node"] == NODE and first["gc"]["pauses"] >= 1 and first["gc"]["collections"]["gen2"] >= 1
    assert first["gc"]["latencyThresholdMs"] == 1000 and first["memory"]["threshold"] == 0.8
    assert first["memory"]["rssBytes"] > 0 and first["memory"]["limitSource"] == "PACING_MEMORY_LIMIT_MB"
    assert json.loads(lines[1].removeprefix("metrics "))["gc"]["pauses"] == 0   # each covers its own period
    logged = [r.getMessage() for r in caplog.records if r.name == "pacing.metrics"]
    assert len(logged) == 2
    [event] = emitted
    assert event.kind == Kind.METRICS and event.node == NODE and event.event_id is None
    assert event.context["gc"]["latencyThresholdMs"] == 1000


def test_by_default_only_the_message_server_reports(calls, emitted):
    out = io.StringIO()
    m, _ = monitor({}, stdout=out)
    m.sample(now=time.monotonic() + 1801)
    assert out.getvalue() == "" and [e.kind for e in emitted] == [Kind.METRICS]


def test_no_message_server_report_without_a_connection(calls, emitted):
    m, _ = monitor({}, message_server=lambda: False)
    m.sample(now=time.monotonic() + 1801)
    assert emitted == []


def test_the_thread_samples_and_stops(calls):
    m, _ = monitor({}, interval_s=0.02)
    m.start()
    try:
        deadline = time.monotonic() + 5
        while not m.last and time.monotonic() < deadline:
            time.sleep(0.01)
        assert m.last and m._hook in gc.callbacks
    finally:
        m.stop()
    assert m._thread is None and m._hook not in gc.callbacks
    assert not [t for t in threading.enumerate() if t.name == f"pacing-monitor {NODE}"]


def test_the_collector_hook_only_queues(monkeypatch):
    """The hook runs inside the collector: it records, bounded, and calls nothing else."""
    from alarms import monitors

    def forbidden(*args, **kwargs):
        raise AssertionError("called from the collector's hook")

    monkeypatch.setattr(runtime, "raise_alarm", forbidden)
    monkeypatch.setattr(runtime, "clear_alarm", forbidden)
    monkeypatch.setattr(sinks, "emit", forbidden)
    m, _ = monitor({"GcLatency.threshold": "0.000001"})
    hook = m._hook
    with m:
        gc.collect()                 # a real collection through the hook: nothing forbidden is called
    for _ in range(monitors.MAX_QUEUED_PAUSES + 10):
        hook("start", {"generation": 0})
        hook("stop", {"generation": 0, "collected": 0, "uncollectable": 0})
    assert len(hook.drain()) == monitors.MAX_QUEUED_PAUSES      # bounded: the oldest go first


# --- end to end, with the database ----------------------------------------------------------------------------

def test_end_to_end_with_the_database(demo, settings):
    from alarms.logconfig import reset_log_options
    from alarms.models import Alarm, AlarmState
    from configdb import services
    from configdb.models import Application

    node = Application.objects.get(name=NODE)
    node.options = {**node.options, "metrics": {"GcLatency.threshold": "0.000001"}}
    services.save_object(node)
    m = Monitor.for_node(NODE, memory_limit_mb=1, clear_after_s=0)
    try:
        with m:
            gc.collect()
            m.sample()
        active = {a.condition_name: a for a in Alarm.objects.filter(state=AlarmState.ACTIVE, source=NODE)}
        assert set(active) == {catalog.GC_LATENCY, catalog.HEAP_MEMORY_USAGE}
        assert active[catalog.GC_LATENCY].node == NODE and active[catalog.GC_LATENCY].context["pauseMs"] > 0
        assert active[catalog.HEAP_MEMORY_USAGE].context["limitSource"] == "PACING_MEMORY_LIMIT_MB"
        # the node's log section (the template's verbose=standard, all=stdout) was applied
        assert logging.getLogger().level == logging.WARNING

        node.options["metrics"]["GcLatency.threshold"] = "60000"
        services.save_object(node)
        m2 = Monitor.for_node(NODE, memory_limit_mb=1e9, clear_after_s=0, manage_logging=False)
        with m2:
            gc.collect()
            m2.sample()
        assert not Alarm.objects.filter(state=AlarmState.ACTIVE, source=NODE).exists()
        assert Alarm.objects.filter(state=AlarmState.CLEARED, source=NODE).count() == 2
    finally:
        reset_log_options()


def test_for_node_of_an_unknown_application_uses_the_defaults(db, calls, caplog):
    caplog.set_level(logging.WARNING, logger="alarms.monitors")
    m = Monitor.for_node("No_Such_Node", manage_logging=False, memory_limit_mb=1e9)
    m.sample()
    m.sample()
    assert len([r for r in caplog.records if "No_Such_Node" in r.getMessage()]) == 1
