"""Tenant grants: which tenants a (non-superuser) user may read, or read and write."""

from django.conf import settings
from django.db import models

from .base import FieldNamedConstraints


class Access(models.TextChoices):
    READ = "read", "Read-only"
    WRITE = "write", "Read-write"


class TenantGrant(FieldNamedConstraints):

    natural_key_fields = ("user", "tenant")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_grants")
    tenant = models.ForeignKey("configdb.Tenant", on_delete=models.CASCADE, related_name="grants")
    access = models.CharField(max_length=8, choices=Access.choices, default=Access.READ)

    class Meta:
        ordering = ["user__username", "tenant__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="tenantgrant_unique",
                                    violation_error_message="This user already has a grant on this tenant."),
        ]

    def __str__(self):
        return f"{self.user} → {self.tenant} ({self.get_access_display()})"
