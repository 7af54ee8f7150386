"""Celery tasks of the configuration side (thin: they call configdb.import_jobs).

``configdb.import_job`` runs a background configuration import (``POST /api/v1/config/import/`` above
``PACING_IMPORT_BACKGROUND_BYTES``). It is sent to the queue ``configdb.jobs``, which every pacing node
consumes beside its own ``pacing.node.<node>`` queue (pacingsite/celery.py), so the README's ``dev.py run``
runs it on one of its nodes; a dedicated worker can take the queue alone
(``celery -A pacingsite.celery:app worker -Q configdb.jobs``). With no broker (``REDIS_URL`` unset) the API
does not send it: the job runs in a thread of the web process (configdb/import_jobs.py).
"""

from __future__ import annotations

from celery import shared_task

__all__ = ["JOBS_QUEUE", "import_job"]

#: the queue of background configuration imports (ours)
JOBS_QUEUE = "configdb.jobs"


@shared_task(name="configdb.import_job", ignore_result=True)
def import_job(job_id: str) -> str | None:
    """Run the queued import job ``job_id``; returns its final state (None: it was not queued)."""
    from . import import_jobs

    return import_jobs.run(job_id, runner="celery")
