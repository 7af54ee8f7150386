"""Background configuration imports: the job a large ``POST /api/v1/config/import/`` becomes.

Plain Python; the Celery task (configdb/tasks.py) and the in-process thread only call ``run``.

* **Why**: an import costs about a millisecond or two per object, so a large document would outlive the web
  worker's timeout (gunicorn's 30 s) and answer a bare 500. Above ``settings.PACING_IMPORT_BACKGROUND_BYTES``
  (or when the body says ``"background": true``) the API stores the request as an ``ImportJob`` and answers
  202 with the job's URL at once (docs/config-transfer.md).
* **Where it runs**: with a broker (``REDIS_URL`` set) as the Celery task ``configdb.import_job`` on the queue
  ``configdb.jobs``, which every pacing node consumes (pacingsite/celery.py); without one
  (``CELERY_TASK_ALWAYS_EAGER``) in a thread of the web process that received it, so the request still
  answers at once. ``wait(job_id)`` joins such a thread (tests).
* **The document** travels in the job's row (the request body, zlib-compressed), so any process that can
  reach the database can run it; the row's copy is emptied when the job ends.
* **As whom**: the job's user: ``transfer.import_document(user=…)`` checks their grants again, and the history
  records every change as that user's, ``via = "job"``.
* **Progress** cannot be written to the job's row while the import runs: the import is one transaction, so
  those writes would be invisible until its end (and rolled back with it), and on SQLite a second connection
  could not write at all while it holds the write lock. So the running count (done / total, written at most
  every ``PROGRESS_EVERY_S``) lives outside the database: in Redis when ``REDIS_URL`` is set (every web worker
  and node shares it), else in a small file under ``VAR_DIR/import-jobs/`` (without a broker the job runs in
  a web process of this machine). The final counts go to the row when the job ends.
* **Interrupted jobs**: a job whose process died (a web worker restarted, a node killed) is found when its
  state is read on the same machine (its runner's process id is gone) and ends ``failed``; the import's
  transaction rolled back with the process, so nothing was written.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import zlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.utils import timezone

from . import transfer
from .history import acting_as
from .models.jobs import FINISHED, ImportJob, JobState

__all__ = ["PROGRESS_EVERY_S", "create", "enqueue", "progress_of", "run", "start", "wait"]

logger = logging.getLogger("configdb.import_jobs")

#: the running count is written at most this often (seconds; ours), and at the end
PROGRESS_EVERY_S = 0.5
#: how long a running count is kept in Redis after its last write (seconds): a job that outlives it still
#: shows its state, and the last count from its row
PROGRESS_TTL_S = 24 * 3600
INTERRUPTED = "The import was interrupted: the process running it stopped. Nothing was imported."

_threads: dict[str, threading.Thread] = {}
_threads_lock = threading.Lock()


# -- the running count ----------------------------------------------------------------------------------------


_redis_clients: dict[str, object] = {}


def _redis():
    """One client per target and process (configdb.redis_target: a plain URL or Sentinel's primary), kept, so a
    running count written every half second reuses its connection (and asks no sentinel each time)."""
    from . import redis_target

    url = settings.REDIS_URL
    found = _redis_clients.get(url)
    if found is None:
        with _threads_lock:
            found = _redis_clients.get(url)
            if found is None:
                found = _redis_clients[url] = redis_target.client(redis_target.target_from_settings(),
                                                                  **redis_target.client_options())
    return found


def _redis_key(job_id) -> str:
    return f"{settings.PACING_REDIS_PREFIX}:import-job:{job_id}"


def _progress_file(job_id) -> Path:
    return Path(settings.VAR_DIR) / "import-jobs" / f"{job_id}.json"


def _store(job_id, done: int, total: int) -> None:
    if settings.REDIS_URL:
        client = _redis()
        client.hset(_redis_key(job_id), mapping={"done": done, "total": total})
        client.expire(_redis_key(job_id), PROGRESS_TTL_S)
        return
    path = _progress_file(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"done": done, "total": total}))
    os.replace(temporary, path)


def _load(job_id) -> tuple[int, int] | None:
    try:
        if settings.REDIS_URL:
            values = _redis().hmget(_redis_key(job_id), "done", "total")
            if values[0] is None or values[1] is None:
                return None
            return int(values[0]), int(values[1])
        data = json.loads(_progress_file(job_id).read_text())
        return int(data["done"]), int(data["total"])
    except FileNotFoundError:
        return None
    except Exception:  # the running count is a courtesy: without it the job shows its row's count
        logger.debug("import job %s: no running count", job_id, exc_info=True)
        return None


def _forget(job_id) -> None:
    try:
        if settings.REDIS_URL:
            _redis().delete(_redis_key(job_id))
        else:
            _progress_file(job_id).unlink(missing_ok=True)
    except Exception:
        logger.debug("import job %s: the running count was not removed", job_id, exc_info=True)


class Progress:
    """What ``transfer.import_document`` drives (tqdm's ``total`` / ``refresh()`` / ``update(n)``): writes the
    count to the running-count store at most every ``every`` seconds, never once per object."""

    def __init__(self, job_id, *, every: float = PROGRESS_EVERY_S):
        self.job_id = job_id
        self.total = 0
        self.n = 0
        self.every = every
        self._written = -every
        self._failed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        self._maybe_write()

    def refresh(self) -> None:
        self._maybe_write()

    def _maybe_write(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._failed or (not force and now - self._written < self.every):
            return
        self._written = now
        try:
            _store(self.job_id, self.n, max(self.total or 0, self.n))
        except Exception as exc:  # Redis or the disk is down: the import goes on without a running count
            self._failed = True
            logger.warning("import job %s: the progress cannot be written (%s: %s); it shows at the end.",
                           self.job_id, type(exc).__name__, exc)

    def close(self) -> None:
        self._maybe_write(force=True)


def progress_of(job: ImportJob) -> dict:
    """``{done, total, percent}``: from the running count while the job runs, else from its row."""
    done, total = job.done, job.total
    if job.state == JobState.RUNNING:
        running = _load(job.pk)
        if running is not None:
            done, total = running
    total = max(total, done)
    percent = 100.0 if job.state == JobState.SUCCEEDED else (round(100.0 * done / total, 1) if total else 0.0)
    return {"done": done, "total": total, "percent": min(percent, 100.0)}


# -- creating and starting a job ------------------------------------------------------------------------------


def create(user, raw: bytes, *, tenant: str, replace: bool, dry_run: bool) -> ImportJob:
    """Store the request (its raw body, whose ``document`` the job imports) as a queued job; ``enqueue`` starts
    it. The caller has checked the body's shape and the user's grant on the tenant."""
    return ImportJob.objects.create(user=user, tenant=tenant[:255], replace=replace, dry_run=dry_run,
                                    size=len(raw), document=zlib.compress(raw, 1))


def enqueue(job: ImportJob) -> None:
    """Start ``job`` once its row is committed (at once outside a transaction)."""
    transaction.on_commit(lambda: start(job.pk))


def start(job_id) -> None:
    """Send the job to the Celery queue ``configdb.jobs``, or (no broker) run it in a thread of this process.
    A job that cannot be sent (the broker is down) ends failed, saying so."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        thread = threading.Thread(target=_thread_main, args=(job_id,), name=f"import-job-{job_id}", daemon=True)
        with _threads_lock:
            _threads[str(job_id)] = thread
        thread.start()
        return
    from .tasks import JOBS_QUEUE, import_job

    try:
        import_job.apply_async(args=(str(job_id),), queue=JOBS_QUEUE)
    except Exception as exc:
        logger.error("import job %s could not be queued: %s: %s", job_id, type(exc).__name__, exc)
        _finish(job_id, JobState.FAILED, detail=f"The job could not be queued ({type(exc).__name__}); nothing "
                                                "was imported. Try again when the broker (REDIS_URL) is up.",
                errors=[])


def _thread_main(job_id) -> None:
    try:
        run(job_id, runner="thread")
    except Exception as exc:  # the database failed outside the import itself: the job must not stay open
        logger.exception("import job %s failed", job_id)
        try:
            _finish(job_id, JobState.FAILED, detail=f"The import failed unexpectedly ({type(exc).__name__}); "
                                                     "nothing was imported.", errors=[], done=0)
        except Exception:
            logger.exception("import job %s: its failure could not be recorded", job_id)
    finally:
        connections.close_all()  # this thread's own connections
        with _threads_lock:
            _threads.pop(str(job_id), None)


def wait(job_id, timeout: float | None = None) -> bool:
    """Join the in-process thread running ``job_id`` (if any); False if it is still running after ``timeout``."""
    with _threads_lock:
        thread = _threads.get(str(job_id))
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


# -- running a job --------------------------------------------------------------------------------------------


def _runner(kind: str) -> str:
    return f"{kind} {socket.gethostname()} pid {os.getpid()}"[:255]


def _finish(job_id, state: str, *, summary=None, detail: str = "", errors=None, done=None, total=None) -> None:
    values = {"state": state, "summary": summary, "detail": detail, "errors": errors, "document": None,
              "finished": timezone.now()}
    if done is not None:
        values.update(done=done, total=max(total or 0, done))
    ImportJob.objects.filter(pk=job_id).exclude(state__in=FINISHED).update(**values)
    _forget(job_id)


def run(job_id, *, runner: str = "celery") -> str | None:
    """Run a queued job to its end; returns its final state (None: not queued, e.g. a second delivery)."""
    claimed = ImportJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started=timezone.now(), runner=_runner(runner))
    if not claimed:
        logger.info("import job %s is not queued (already taken, or gone): skipped", job_id)
        return None
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    progress = Progress(job.pk)
    user = job.user
    try:
        if not user.is_active:
            raise PermissionDenied(f"The job's user '{user.get_username()}' is no longer active.")
        body = transfer.parse_json(zlib.decompress(bytes(job.document)))
        with acting_as(f"job:{job.pk}", "job", user=user):
            summary = transfer.import_document(body["document"], replace=job.replace, dry_run=job.dry_run,
                                               user=user, progress=progress)
    except transfer.TransferError as exc:
        _finish(job.pk, JobState.FAILED, detail=exc.detail, errors=list(exc.errors), done=0, total=progress.total)
        return JobState.FAILED
    except PermissionDenied as exc:
        _finish(job.pk, JobState.FAILED, detail=str(exc), errors=[], done=0, total=progress.total)
        return JobState.FAILED
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        _finish(job.pk, JobState.FAILED, detail=f"The import failed unexpectedly ({type(exc).__name__}); "
                                                 "nothing was imported.", errors=[], done=0, total=progress.total)
        return JobState.FAILED
    _finish(job.pk, JobState.SUCCEEDED, summary=summary.as_dict(), done=progress.n, total=progress.total)
    return JobState.SUCCEEDED


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_interrupted(job: ImportJob) -> ImportJob:
    """A running job whose process (on this machine) is gone ends failed; returns the job as it now is."""
    if job.state != JobState.RUNNING or not job.runner:
        return job
    parts = job.runner.split()
    if len(parts) != 4 or parts[1] != socket.gethostname() or not parts[3].isdigit() or _alive(int(parts[3])):
        return job
    _finish(job.pk, JobState.FAILED, detail=INTERRUPTED, errors=[], done=0, total=job.total)
    job.refresh_from_db()
    return job
