"""The Celery app (`pacingsite.celery:app`) that runs the pacing cycle on every pacing node.

The broker is Redis from REDIS_URL. The beat schedule is added by the pacing app.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacingsite.settings")

app = Celery("pacingsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _task_actor(task_id=None, task=None, **kwargs):
    """Configuration changed by a task is recorded as ``celery:<task name>``."""
    from configdb.history import set_actor

    task.request.pacing_actor_token = set_actor(f"celery:{task.name}", "celery")


@signals.task_postrun.connect
def _task_actor_done(task_id=None, task=None, **kwargs):
    from configdb.history import reset_actor

    token = getattr(task.request, "pacing_actor_token", None)
    if token is not None:
        reset_actor(token)
