"""Background configuration imports (``POST /api/v1/config/import/`` above a size threshold).

A job is not a configuration object: it has no tenant of its own (``tenant`` is the name the document
gives), it is never recorded in the history, and it belongs to the user who sent it — only that user (or a
superuser) sees it. The work itself is configdb/import_jobs.py; docs/config-transfer.md describes the API.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


#: states after which nothing changes any more
FINISHED = (JobState.SUCCEEDED, JobState.FAILED)


class ImportJobQuerySet(models.QuerySet):
    """``restrict(user, action)`` as on every configdb model, by owner instead of by tenant grant: a user sees
    and changes their own jobs, a superuser every job, None (a command or task) every job."""

    def restrict(self, user, action: str = "view"):
        from ..access import ACTIONS, is_unrestricted

        if action not in ACTIONS:
            raise ValueError(f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
        if user is None or is_unrestricted(user):
            return self
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user_id=user.pk)


class ImportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             help_text="Who sent the document; the import runs with this user's grants.")
    tenant = models.CharField(max_length=255, help_text="The tenant the document names.")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    replace = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    size = models.PositiveBigIntegerField(default=0, help_text="The request body, bytes.")
    done = models.PositiveIntegerField(default=0, help_text="Objects imported so far (final when finished).")
    total = models.PositiveIntegerField(default=0, help_text="Objects to import, as far as known so far.")
    summary = models.JSONField(null=True, blank=True, help_text="What the import did (as the 200 answer).")
    detail = models.TextField(blank=True, help_text="Why the import failed.")
    errors = models.JSONField(null=True, blank=True, help_text="Every problem, each naming its record.")
    #: the request body, zlib-compressed, so a worker in another process (or on another machine) can read it;
    #: emptied (NULL) as soon as the job ends
    document = models.BinaryField(null=True, blank=True, editable=False)
    runner = models.CharField(max_length=255, blank=True,
                              help_text="Where it runs: 'thread' or 'celery', the host and the process id.")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "import job"

    def __str__(self):
        return f"import of '{self.tenant}' ({self.state})"
