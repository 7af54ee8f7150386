"""Change history: one row per create, update or delete of a configuration object.

Like NetBox's ObjectChange: who (a user, or the process — ``command:load_demo``,
``celery:<task>``), through what (admin, api, command, celery, process), when, and the object's
values before and after, with every secret redacted before it is stored.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from .base import RestrictedManager


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"


class ObjectChange(models.Model):
    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    actor = models.CharField(max_length=150, help_text="The user name, or the process (command:…, celery:…).")
    via = models.CharField(max_length=16, help_text="admin, api, command, celery or process.")
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=8, choices=ChangeAction.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    # No database constraint: the history of a deleted tenant (and of what its deletion cascaded to)
    # outlives it, still scoped by the tenant's id.
    tenant = models.ForeignKey("configdb.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                               blank=True, related_name="+", help_text="The owning tenant, for permission scoping.")
    prechange = models.JSONField(null=True, blank=True)
    postchange = models.JSONField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="objectchange_object")]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr} by {self.actor}"

    @property
    def diff(self) -> dict:
        """``{field: [before, after]}`` for the fields that changed."""
        before, after = self.prechange or {}, self.postchange or {}
        return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
                if before.get(k) != after.get(k)}

    @property
    def diff_entries(self) -> list[tuple[str, object, object]]:
        """What the History page lists: ``(what, before, after)`` per changed field, and for a field holding a
        table (options, annex: ``section → key → value``) one entry per changed key, named ``field: section/key``
        (None where the key was absent), rather than the whole table twice."""
        entries = []
        for name, (before, after) in self.diff.items():
            if isinstance(before, dict | None) and isinstance(after, dict | None):
                flat_before, flat_after = _flatten(before or {}), _flatten(after or {})
                entries += [(f"{name}: {path}", flat_before.get(path), flat_after.get(path))
                            for path in sorted(set(flat_before) | set(flat_after))
                            if flat_before.get(path) != flat_after.get(path)]
            else:
                entries.append((name, before, after))
        return entries


def _flatten(table: dict, prefix: str = "") -> dict[str, object]:
    """``{"pacing": {"media": "chat"}}`` → ``{"pacing/media": "chat"}``; an empty table stays one entry."""
    flat: dict[str, object] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{path}/"))
        else:
            flat[path] = value
    return flat
