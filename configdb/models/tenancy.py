"""Tenants and folders."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .base import FieldNamedConstraints, FolderType, State
from .fields import OptionsField


class Tenant(FieldNamedConstraints):
    """A Configuration Server tenant; ``Environment`` is the service provider's own."""

    natural_key_fields = ("name",)

    name = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=1024, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ENABLED)
    options = OptionsField()
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name



class Folder(FieldNamedConstraints):
    """A typed folder, such as the ``PacingService`` folder of alarm conditions."""

    natural_key_fields = ("tenant", "folder_type", "parent", "name")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="folders")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    name = models.CharField(max_length=255)
    folder_type = models.CharField("type", max_length=32, choices=FolderType.choices)
    description = models.CharField(max_length=1024, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ENABLED)

    class Meta:
        ordering = ["folder_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "folder_type", "parent", "name"], name="folder_unique_name_in_parent",
                violation_error_message="A folder with this name already exists here.",
            ),
            models.UniqueConstraint(
                fields=["tenant", "folder_type", "name"], condition=Q(parent__isnull=True),
                name="folder_unique_name_at_root",
                violation_error_message="A top-level folder with this name and type already exists.",
            ),
        ]

    def __str__(self):
        return self.path

    # A folder is named by its path within its tenant and type; its natural key is (tenant, type, path), the
    # path a tuple of folder names from the top (ours: fixed length, though folders nest to any depth).

    @classmethod
    def natural_key_size(cls) -> int:
        return 3

    def natural_key(self) -> tuple:
        return (self.tenant.name, self.folder_type, tuple(self.path_names()))

    @classmethod
    def natural_key_lookup(cls, values: list) -> dict:
        if len(values) < 3:
            raise ValueError("Folder: a natural key is (tenant, type, path).")
        tenant, folder_type, path = values.pop(0), values.pop(0), tuple(values.pop(0))
        if not path:
            raise ValueError("Folder: the path names at least one folder.")
        lookup = {"tenant": tenant} if isinstance(tenant, models.Model) else {"tenant__name": tenant}
        lookup["folder_type"] = folder_type
        prefix = ""
        for name in reversed(path):
            lookup[f"{prefix}name"] = name
            prefix += "parent__"
        lookup[f"{prefix[:-2]}__isnull"] = True
        return lookup

    def path_names(self) -> list[str]:
        """The names of the folders from the top down to this one."""
        parts, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            parts.append(node.name)
            try:
                node = node.parent
            except Folder.DoesNotExist:  # the parent went first, in a cascade or a queryset delete
                break
        return list(reversed(parts))

    @property
    def path(self) -> str:
        return " / ".join(self.path_names())

    def filed_objects(self, folder_type: str | None = None) -> int:
        """How many objects (of the folder's stored type) and subfolders sit in this folder."""
        from django.apps import apps

        folder_type = folder_type or self.folder_type
        count = self.children.count()
        for model in apps.get_app_config("configdb").get_models():
            if getattr(model, "folder_type", None) == folder_type and not model._meta.proxy:
                count += model._default_manager.filter(folder_id=self.pk).count()
        return count

    def clean(self):
        super().clean()
        if self.pk:
            old = Folder.objects.filter(pk=self.pk).values("folder_type", "tenant_id").first()
            moved = old and (old["folder_type"] != self.folder_type or old["tenant_id"] != self.tenant_id)
            if moved and self.filed_objects(old["folder_type"]):
                raise ValidationError("The type or tenant of a folder cannot change while it holds objects or "
                                      "subfolders.")
        if self.parent_id:
            parent = self.parent
            errors = []
            if parent.folder_type != self.folder_type:
                errors.append("A folder must hold the same type of objects as its parent.")
            if self.tenant_id and parent.tenant_id != self.tenant_id:
                errors.append("A folder must belong to the same tenant as its parent.")
            node, hops = parent, 0
            while node is not None and hops < 1000:
                if self.pk and node.pk == self.pk:
                    errors.append("A folder cannot be placed inside itself.")
                    break
                node, hops = node.parent, hops + 1
            if errors:
                raise ValidationError({"parent": errors})
