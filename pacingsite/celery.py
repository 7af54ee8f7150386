"""The Celery app (`pacingsite.celery:app`) that runs the pacing cycle on every pacing node.

The broker is Redis from REDIS_URL. The beat schedule is added by the pacing app.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacingsite.settings")

app = Celery("pacingsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
