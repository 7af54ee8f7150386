"""The alarm runtime: raise → update → clear by the cancel event → clear by timeout; conditions missing or
disabled; the one-active-alarm constraint, also between two OS processes raising at the same moment."""

from __future__ import annotations

import datetime
import logging
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alarms import catalog, runtime
from alarms.models import Alarm, AlarmState, ClearReason
from configdb.models import AlarmCondition, State

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "Pacing_Service_Cluster_9.0"


@pytest.fixture
def conditions(demo):
    return {c.name: c for c in AlarmCondition.objects.filter(tenant=demo)}


def test_load_demo_provisions_the_catalog(conditions):
    assert set(conditions) == {c.code for c in catalog.CONDITIONS}
    for spec in catalog.CONDITIONS:
        row = conditions[spec.code]
        assert (row.detect_event_id, row.cancel_event_id) == (spec.detect_event_id, spec.cancel_event_id)
        assert (row.category, row.timeout, row.folder.name) == ("major", 86400, "PacingService")
    ids = {(c.code, c.detect_event_id, c.cancel_event_id) for c in catalog.CONDITIONS}
    assert ids == {("GC Latency", 10005, 10006), ("Heap Memory Usage", 10001, 10002),
                   ("PacingRequestsFailed", 100603, 100604), ("PacingResponseTargetError", 100605, 100606),
                   ("PacingResponseValidationError", 100607, 100608)}


def test_raise_update_and_clear_by_cancel_event(conditions):
    alarm = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "GPE refused the connection",
                                {"url": "http://127.0.0.1:1/"}, source=CLUSTER, node="node-1")
    assert alarm is not None and alarm.state == AlarmState.ACTIVE
    assert (alarm.condition_id, alarm.count, alarm.node, alarm.detect_event_id) == (
        conditions["PacingRequestsFailed"].pk, 1, "node-1", 100603)
    assert alarm.expires_at == alarm.last_detected + datetime.timedelta(seconds=86400)
    first = alarm.first_detected

    again = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "timed out", source=CLUSTER, node="node-2")
    assert again.pk == alarm.pk
    assert (again.count, again.node, again.message, again.first_detected) == (2, "node-2", "timed out", first)
    assert again.last_detected >= first
    assert Alarm.objects.filter(state=AlarmState.ACTIVE).count() == 1

    # Another source (another cluster) is another alarm; a cancel event of another source clears nothing.
    other = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, source="Other_Cluster")
    assert other.pk != alarm.pk
    assert runtime.clear_alarm(catalog.PACING_REQUESTS_FAILED, source="Nowhere") == 0

    assert runtime.clear_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER, node="node-1") == 1
    alarm.refresh_from_db()
    assert (alarm.state, alarm.clear_reason, alarm.cleared_by) == (AlarmState.CLEARED, ClearReason.CANCEL_EVENT,
                                                                    "node-1")
    assert runtime.clear_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER) == 0  # nothing active any more

    # Raised again after clearing: a new occurrence, the old one stays as history.
    fresh = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER)
    assert fresh.pk not in (alarm.pk, other.pk) and fresh.count == 1


def test_codes_may_be_event_ids(conditions):
    alarm = runtime.raise_alarm(100605, "target error", source=CLUSTER)
    assert alarm.condition_name == "PacingResponseTargetError"
    assert runtime.clear_alarm(100606, source=CLUSTER) == 1
    with pytest.raises(KeyError):
        runtime.raise_alarm("NoSuchCondition")


def test_clear_by_timeout_and_zero_never_expires(conditions):
    gc_condition = conditions["GC Latency"]
    gc_condition.timeout = 60
    gc_condition.save()
    heap = conditions["Heap Memory Usage"]
    heap.timeout = 0
    heap.save()
    gc_alarm = runtime.raise_alarm(catalog.GC_LATENCY, "pause 1500 ms", source="node-1", node="node-1")
    heap_alarm = runtime.raise_alarm(catalog.HEAP_MEMORY_USAGE, "rss 0.93", source="node-1", node="node-1")
    assert heap_alarm.expires_at is None

    assert runtime.expire_due(timezone.now() + datetime.timedelta(seconds=30)) == 0
    assert runtime.expire_due(timezone.now() + datetime.timedelta(seconds=61)) == 1
    gc_alarm.refresh_from_db()
    heap_alarm.refresh_from_db()
    assert (gc_alarm.state, gc_alarm.clear_reason) == (AlarmState.CLEARED, ClearReason.TIMEOUT)
    assert heap_alarm.state == AlarmState.ACTIVE
    assert runtime.expire_due(timezone.now() + datetime.timedelta(days=3650)) == 0


def test_a_new_detection_pushes_the_timeout_back(conditions):
    condition = conditions["PacingResponseValidationError"]
    condition.timeout = 60
    condition.save()
    alarm = runtime.raise_alarm(catalog.PACING_RESPONSE_VALIDATION_ERROR, source=CLUSTER)
    Alarm.objects.filter(pk=alarm.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    # The raise expires the overdue occurrence first, then opens a new one.
    newer = runtime.raise_alarm(catalog.PACING_RESPONSE_VALIDATION_ERROR, source=CLUSTER)
    assert newer.pk != alarm.pk
    alarm.refresh_from_db()
    assert alarm.clear_reason == ClearReason.TIMEOUT


@pytest.mark.parametrize("how", ["disabled", "missing"])
def test_no_enabled_condition_logs_the_event_and_raises_nothing(conditions, how, caplog):
    condition = conditions["PacingRequestsFailed"]
    if how == "disabled":
        condition.state = State.DISABLED
        condition.save()
    else:
        condition.delete()
    with caplog.at_level(logging.INFO, logger="pacing.events"):
        assert runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "refused", source=CLUSTER) is None
    assert not Alarm.objects.exists()
    logged = [r for r in caplog.records if r.name == "pacing.events"]
    assert logged and "100603" in " ".join(r.getMessage() for r in logged)


def test_the_tenant_narrows_the_conditions(conditions, other_tenant):
    assert runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER, tenant="Other") is None
    alarm = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER, tenant="Environment")
    assert alarm.tenant.name == "Environment"


def test_context_is_bounded_and_secrets_masked(conditions):
    alarm = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "x" * 10_000,
                                {"password": "s3cret", "client_secret": "abc", "status": 503,
                                 "nested": {"token": "t0k"}, "obj": object()}, source=CLUSTER)
    assert len(alarm.message) == runtime.MAX_MESSAGE
    assert alarm.context["password"] == alarm.context["client_secret"] == "********"
    assert alarm.context["status"] == 503 and isinstance(alarm.context["obj"], str)
    assert "s3cret" not in str(alarm.context) and "abc" not in str(alarm.context)


def test_one_active_alarm_per_condition_and_source_is_a_constraint(conditions):
    condition = conditions["PacingRequestsFailed"]
    now = timezone.now()
    row = {"condition": condition, "condition_name": condition.name, "source": CLUSTER,
           "detect_event_id": 100603, "first_detected": now, "last_detected": now}
    Alarm.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alarm.objects.create(**row)
    Alarm.objects.create(**row, state=AlarmState.CLEARED)  # history rows are not limited


def test_history_is_bounded(conditions, settings):
    settings.PACING_ALARM_HISTORY = 3
    for n in range(6):
        runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, f"failure {n}", source=CLUSTER)
        runtime.clear_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER)
    cleared = Alarm.objects.filter(state=AlarmState.CLEARED).order_by("cleared_at")
    assert [a.message for a in cleared] == ["failure 3", "failure 4", "failure 5"]


def test_a_database_error_is_logged_not_raised(conditions, monkeypatch, caplog):
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(runtime, "_conditions", broken)
    with caplog.at_level(logging.ERROR, logger="alarms.runtime"):
        assert runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, source=CLUSTER) is None
    assert "could not raise alarm PacingRequestsFailed" in caplog.text


# -- two OS processes raising the same alarm at the same moment ------------------------------------------------

RACER = textwrap.dedent("""
    import os, sys, time
    import django
    django.setup()
    from alarms import catalog, runtime
    start, node, times = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    while time.time() < start:
        time.sleep(0.001)
    for _ in range(times):
        assert runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "race", source="race-cluster",
                                   node=node) is not None
""")


@pytest.fixture
def scratch_database(tmp_path):
    """A database of the suite's engine that other processes can open: a file for SQLite, a new database for
    PostgreSQL; migrated and loaded with the demo by the real commands."""
    url = os.environ.get("DATABASE_URL", "")
    created = None
    if url.startswith("postgres"):
        import psycopg

        created = f"pacing_race_{uuid.uuid4().hex[:12]}"
        base = url.rsplit("/", 1)[0]
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{created}"')
        scratch = f"{base}/{created}"
    else:
        scratch = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": scratch, "PACING_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_SETTINGS_MODULE": "pacingsite.settings", "PYTHONPATH": str(ROOT)}
    for command in (["migrate", "--no-input", "-v", "0"], ["load_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=180,
                       capture_output=True)
    yield env
    if created:
        import psycopg

        connection.close()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def test_two_processes_raising_at_once_leave_one_active_alarm(scratch_database, tmp_path):
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    start = time.time() + 4.0  # both processes are set up by then, and start the same millisecond
    racers = [subprocess.Popen([sys.executable, str(script), str(start), f"node-{n}", "15"], cwd=ROOT,
                               env=scratch_database, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
              for n in (1, 2)]
    try:
        outputs = [r.communicate(timeout=120)[0].decode() for r in racers]
    finally:
        for r in racers:
            if r.poll() is None:
                r.kill()
                r.wait()
    assert [r.returncode for r in racers] == [0, 0], outputs
    check = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from alarms.models import Alarm; "
         "print([(a.state, a.count) for a in Alarm.objects.filter(source='race-cluster')])"],
        cwd=ROOT, env=scratch_database, capture_output=True, text=True, timeout=60, check=True)
    assert check.stdout.strip().splitlines()[-1] == "[('active', 30)]", check.stdout + check.stderr
