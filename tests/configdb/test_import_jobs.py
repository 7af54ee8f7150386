"""Background configuration imports (configdb/import_jobs.py, POST /api/v1/config/import/ → 202 and a job).

Without a broker (the suite's settings: REDIS_URL unset, CELERY_TASK_ALWAYS_EAGER) a job runs in a thread of
the process; ``import_jobs.wait`` joins it, so no test sleeps to see a result. The jobs' threads use their own
database connections, so these tests commit their data (``transaction=True``). One test (PostgreSQL only, the
database a separate process can open) sends the job through a real Redis to a real Celery worker process
started the way ``dev.py run`` starts a pacing node.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from configdb import import_jobs
from configdb.models import DN, ImportJob, JobState, ObjectChange, Skill, VirtualQueue

from .api_helpers import body, client_for, make_user, send

ROOT = Path(__file__).resolve().parents[2]
IMPORT_URL = "/api/v1/config/import/"
JOBS_URL = "/api/v1/config/import-jobs/"
JOB_KEYS = {"id", "url", "state", "user", "tenant", "replace", "dry_run", "size", "progress", "created", "started",
            "finished", "summary", "detail", "errors"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_threshold(settings):
    """Every document of these tests is 'large'."""
    settings.PACING_IMPORT_BACKGROUND_BYTES = 1000


@pytest.fixture
def demo_document(demo):
    root = make_user("exporter", superuser=True)
    response = client_for(root).get("/api/v1/config/export/", {"tenant": "Environment"})
    assert response.status_code == 200
    return body(response)


def writer_of(tenant, name: str = "writer"):
    return make_user(name, grants={tenant: "write"})


def post(client, payload):
    return send(client, "post", IMPORT_URL, payload)


def finished_job(client, response) -> dict:
    """Join the job a 202 started, then read it back through its URL."""
    assert response.status_code == 202, response.content
    data = body(response)
    assert import_jobs.wait(data["id"], timeout=120), "the job's thread did not end"
    answer = client.get(response["Location"])
    assert answer.status_code == 200, answer.content
    return body(answer)


def test_a_large_document_runs_as_a_job_with_a_progress_url(demo, demo_document, small_threshold):
    writer = writer_of(demo)
    client = client_for(writer)
    demo_document["objects"]["skills"].append({"name": "Imported by a job"})
    changes = ObjectChange.objects.count()

    response = post(client, {"document": demo_document})
    assert response.status_code == 202, response.content
    data = body(response)
    assert set(data) == JOB_KEYS
    assert response["Location"] == data["url"]
    assert data["url"].endswith(f"{JOBS_URL}{data['id']}/")
    assert data["state"] == "queued" and data["started"] is None and data["summary"] is None
    assert data["progress"] == {"done": 0, "total": 0, "percent": 0.0}
    assert data["user"] == "writer" and data["tenant"] == "Environment"

    job = finished_job(client, response)
    assert job["state"] == "succeeded", (job["detail"], (job["errors"] or [])[:3])
    assert job["detail"] is None and job["errors"] is None
    records = 1 + sum(len(v) for k, v in demo_document["objects"].items() if k != "tenant")
    assert job["progress"] == {"done": records, "total": records, "percent": 100.0}
    assert job["summary"]["totals"] == {"created": 1, "updated": 0, "deleted": 0, "unchanged": records - 1}
    assert job["summary"]["tenant"] == "Environment" and job["summary"]["dry_run"] is False
    assert job["started"] and job["finished"]
    assert Skill.objects.filter(name="Imported by a job").exists()
    # the history: the job's user, via "job"
    assert ObjectChange.objects.count() > changes
    change = ObjectChange.objects.get(object_repr="Imported by a job")
    assert (change.user, change.actor, change.via) == (writer, "writer", "job")
    stored = ImportJob.objects.get(pk=data["id"])
    assert stored.document is None  # the body is not kept once the job ended
    assert not import_jobs._progress_file(stored.pk).exists()


def test_the_summary_of_a_job_is_the_direct_answer(demo, demo_document, settings):
    client = client_for(writer_of(demo))
    demo_document["objects"]["skills"].append({"name": "Dry"})
    direct = post(client, {"document": demo_document, "dry_run": True})
    assert direct.status_code == 200, direct.content
    job = finished_job(client, post(client, {"document": demo_document, "dry_run": True, "background": True}))
    assert job["state"] == "succeeded" and job["dry_run"] is True
    assert job["summary"] == body(direct)
    assert not Skill.objects.filter(name="Dry").exists()


def test_a_failing_document_ends_failed_with_its_errors_and_writes_nothing(demo, demo_document, small_threshold):
    client = client_for(writer_of(demo))
    demo_document["objects"]["skills"].append({"name": "Brand New"})
    demo_document["objects"]["virtual-queues"][0]["switch"] = "X"
    changes = ObjectChange.objects.count()
    job = finished_job(client, post(client, {"document": demo_document}))
    assert job["state"] == "failed", job
    assert job["detail"] == "Nothing was imported: 1 problem."
    assert job["errors"] == ["virtual-queues[0] (Proactive Chat): switch: no switch named 'X'."]
    assert job["summary"] is None
    assert job["progress"]["done"] == 0
    assert not Skill.objects.filter(name="Brand New").exists()
    assert VirtualQueue.objects.get(number="Proactive Chat").switch.name == "MultiMediaSwitch"
    assert ObjectChange.objects.count() == changes


def test_a_job_is_its_owners(demo, demo_document, small_threshold):
    owner_client = client_for(writer_of(demo, "owner"))
    response = post(owner_client, {"document": demo_document, "dry_run": True})
    job = finished_job(owner_client, response)
    path = f"{JOBS_URL}{job['id']}/"

    other = client_for(writer_of(demo, "other"))
    assert other.get(path).status_code == 404
    assert body(other.get(JOBS_URL))["results"] == []
    assert client_for(make_user("root", superuser=True)).get(path).status_code == 200
    listed = body(owner_client.get(JOBS_URL))
    assert [row["id"] for row in listed["results"]] == [job["id"]]
    assert owner_client.get(f"{JOBS_URL}{uuid.uuid4()}/").status_code == 404
    assert owner_client.get(f"{JOBS_URL}not-a-uuid/").status_code == 404
    assert owner_client.get(JOBS_URL, {"state": "failed"}).status_code == 400
    assert client_for(None).get(path).status_code == 401


def test_a_read_only_grant_is_refused_before_any_job(demo, demo_document, small_threshold):
    reader = make_user("reader", grants={demo: "read"})
    response = post(client_for(reader), {"document": demo_document})
    assert response.status_code == 403, response.content
    assert body(response)["detail"].startswith("You have no read-write grant on tenant 'Environment'")
    demo_document["tenant"] = "Brand New Tenant"  # creating a tenant needs a superuser
    response = post(client_for(writer_of(demo)), {"document": demo_document})
    assert response.status_code == 403 and body(response)["detail"] == "Creating a tenant needs a superuser."
    assert not ImportJob.objects.exists()


def test_the_body_is_checked_before_any_job(demo, demo_document, small_threshold):
    client = client_for(writer_of(demo))
    for payload, error in [
        ({"document": demo_document, "background": "yes"}, "background: must be true or false."),
        ({"document": demo_document, "colour": 1}, "colour: unknown key."),
        ({"document": {**demo_document, "format": "other"}, "background": True},
         "format: expected 'pacing-console-config', found \"other\"."),
        ({"document": {**demo_document, "tenant": ""}}, "tenant: must not be empty."),
    ]:
        response = post(client, payload)
        assert response.status_code == 400, (payload.keys(), response.content)
        assert body(response)["errors"] == [error]
    assert not ImportJob.objects.exists()


def test_a_document_under_the_threshold_still_answers_200(demo, demo_document, settings):
    size = len(json.dumps({"document": demo_document}))
    settings.PACING_IMPORT_BACKGROUND_BYTES = size * 2
    response = post(client_for(writer_of(demo)), {"document": demo_document, "background": False})
    assert response.status_code == 200, response.content
    assert set(body(response)) == {"tenant", "tenant_created", "replace", "dry_run", "counts", "totals", "warnings"}
    assert not ImportJob.objects.exists()
    settings.PACING_IMPORT_BACKGROUND_BYTES = size // 2
    response = post(client_for(writer_of(demo, "writer2")), {"document": demo_document})
    assert response.status_code == 202
    assert import_jobs.wait(body(response)["id"], timeout=120)


def test_the_default_threshold_makes_a_job_of_a_real_megabyte(demo, demo_document):
    """No setting lowered: a body over 1 MiB (130 DNs of about 8 KB each) is a job, and it imports."""
    notes = {f"line{i}": "x" * 4000 for i in range(2)}
    demo_document["objects"]["dns"] += [{"switch": "MultiMediaSwitch", "number": f"9{n:04d}", "dn_type": "extension",
                                         "options": {"notes": notes}} for n in range(130)]
    payload = json.dumps({"document": demo_document})
    assert len(payload) > 1024 * 1024
    client = client_for(writer_of(demo))
    job = finished_job(client, post(client, payload))
    assert job["state"] == "succeeded", (job["detail"], (job["errors"] or [])[:3])
    assert job["summary"]["counts"]["dns"]["created"] == 130
    assert job["progress"]["done"] == job["progress"]["total"] > 130
    assert DN.objects.filter(number__startswith="9").count() == 130


def test_the_progress_is_written_now_and_then_not_per_object(demo, monkeypatch):
    job = ImportJob.objects.create(user=make_user("someone"), tenant="Environment", state=JobState.RUNNING)
    writes = []
    monkeypatch.setattr(import_jobs, "_store", lambda job_id, done, total: writes.append((done, total)))
    progress = import_jobs.Progress(job.pk, every=3600)
    progress.total = 10_000
    progress.refresh()
    for _ in range(10_000):
        progress.update(1)
    progress.close()
    assert writes == [(0, 10_000), (10_000, 10_000)]
    monkeypatch.undo()
    import_jobs._store(job.pk, 25, 100)  # the running count, as another process reads it
    assert import_jobs.progress_of(job) == {"done": 25, "total": 100, "percent": 25.0}
    import_jobs._forget(job.pk)
    assert import_jobs.progress_of(job) == {"done": 0, "total": 0, "percent": 0.0}


def test_a_job_whose_process_died_ends_failed(demo):
    user = make_user("someone", grants={demo: "write"})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    job = ImportJob.objects.create(user=user, tenant="Environment", state=JobState.RUNNING, document=b"x",
                                   runner=f"thread {socket.gethostname()} pid {dead.pid}")
    data = body(client_for(user).get(f"{JOBS_URL}{job.pk}/"))
    assert data["state"] == "failed" and data["detail"] == import_jobs.INTERRUPTED
    job.refresh_from_db()
    assert job.document is None
    assert import_jobs.run(job.pk) is None  # a finished job never runs again


def test_the_task_is_routed_to_the_queue_every_node_consumes():
    from celery import signals

    from configdb.tasks import JOBS_QUEUE, import_job
    from pacingsite.celery import app

    assert app.amqp.router.route({}, import_job.name)["queue"].name == JOBS_QUEUE

    class Worker:  # what celeryd_after_setup hands over
        def __init__(self):
            self.app = app

    queues = app.amqp.queues
    selected, schedule = queues._consume_from, app.conf.beat_schedule
    try:
        queues.select(["pacing.node.other@host"])  # even a node started with -Q takes the jobs
        signals.celeryd_after_setup.send(sender="node-9@host", instance=Worker(), conf=app.conf)
        assert {"pacing.node.node-9@host", JOBS_QUEUE} <= set(queues.consume_from)
    finally:
        queues._consume_from = selected
        app.conf.beat_schedule = schedule


# -- a real broker and a real worker ------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process needs the test database: "
                                                              "PostgreSQL (SQLite's test database is in memory)")
@pytest.mark.skipif(not os.environ.get("PACING_TEST_REDIS_URL"), reason="needs PACING_TEST_REDIS_URL")
def test_a_job_runs_on_a_celery_node_through_redis(demo, demo_document, settings, monkeypatch, tmp_path):
    import redis

    from pacingsite.celery import app

    base = os.environ["PACING_TEST_REDIS_URL"].rsplit("/", 1)[0]
    url = f"{base}/13"  # a database of its own: the queue's keys are dropped afterwards
    prefix = f"test-jobs-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(url)
    client.delete("configdb.jobs")
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "REDIS_URL": url, "DATABASE_URL": database_url, "PACING_REDIS_PREFIX": prefix,
           "PACING_VAR_DIR": str(settings.VAR_DIR)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "worker.log", "w+b")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "pacingsite.celery:app", "worker",
                               "-n", "node-jobtest@%h", "--concurrency", "2", "--loglevel", "INFO"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    monkeypatch.setattr(settings, "REDIS_URL", url)
    monkeypatch.setattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    monkeypatch.setattr(settings, "PACING_REDIS_PREFIX", prefix)
    monkeypatch.setattr(settings, "PACING_IMPORT_BACKGROUND_BYTES", 1000)
    old = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.broker_url, app.conf.task_always_eager = url, False
    _drop_producers(app)  # connections made for an earlier broker (memory://) must not carry this task
    try:
        user = writer_of(demo)
        api = client_for(user)
        demo_document["objects"]["skills"].append({"name": "From a node"})
        response = post(api, {"document": demo_document})
        assert response.status_code == 202, response.content
        job_id = body(response)["id"]
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline and worker.poll() is None:
            state = ImportJob.objects.values_list("state", flat=True).get(pk=job_id)
            if state in (JobState.SUCCEEDED, JobState.FAILED):
                break
            time.sleep(0.2)
        log.seek(0)
        assert state == JobState.SUCCEEDED, log.read().decode(errors="replace")[-3000:]
        job = body(api.get(f"{JOBS_URL}{job_id}/"))
        assert job["summary"]["totals"]["created"] == 1
        assert ImportJob.objects.get(pk=job_id).runner.startswith("celery ")
        change = ObjectChange.objects.get(object_repr="From a node")
        assert (change.user, change.via) == (user, "job")
        assert not client.exists(f"{prefix}:import-job:{job_id}")
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old["broker_url"], old["task_always_eager"]
        _drop_producers(app)
        app.pool.force_close_all()
        try:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        except ProcessLookupError:
            pass
        log.close()
        client.delete("configdb.jobs")
        client.close()


def _drop_producers(app) -> None:
    """Forget the Celery app's broker connections and producers, so the next task goes to the broker now set."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
