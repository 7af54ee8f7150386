"""How long the change history is kept (``PACING_CHANGE_HISTORY_DAYS``; OURS: Configuration Server keeps its
history log by count, ``[history-log] max-records``, not by age).

Records older than the setting (default 365 days; 0 keeps everything) are deleted by the daily upkeep task
(``pacing.prune_history``, pacing/retention.py) and by ``manage.py prune_history``, oldest first in batches, so a
large backlog never holds one long transaction. An object changed less recently than that keeps no record of
those changes; its current values are, as always, the object itself.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from .models import ObjectChange

BATCH = 5000


def retention_days() -> int:
    return max(0, int(getattr(settings, "PACING_CHANGE_HISTORY_DAYS", 365)))


def cutoff(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Records before this are due (None: the history is kept for ever)."""
    days = retention_days()
    if not days:
        return None
    return (now or timezone.now()) - datetime.timedelta(days=days)


def expired_changes(now: datetime.datetime | None = None):
    limit = cutoff(now)
    return ObjectChange.objects.none() if limit is None else ObjectChange.objects.filter(time__lt=limit)


def prune_change_history(now: datetime.datetime | None = None, *, dry_run: bool = False) -> int:
    """Delete the change records older than the retention; the count deleted (``dry_run``: that would be)."""
    due = expired_changes(now)
    if dry_run:
        return due.count()
    deleted = 0
    while True:
        ids = list(due.order_by("time", "id").values_list("id", flat=True)[:BATCH])
        if not ids:
            return deleted
        deleted += ObjectChange.objects.filter(id__in=ids).delete()[0]
