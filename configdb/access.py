"""Tenant permissions, one definition for the admin, the API and the services.

A superuser sees and changes everything. Any other user sees the objects of the tenants granted
to them (TenantGrant) and changes those of the tenants granted read-write. Objects without an
owning tenant of their own (ports, connections, link rows) follow their parent.

Reads are scoped with ``Model.objects.restrict(user, action)`` (NetBox's pattern; every configdb
model's manager has it), writes are checked by configdb.services, which every write goes through.
``user=None`` means a command or a Celery task: unrestricted (ours: they run with the operator's
access to the machine and the database).
"""

from __future__ import annotations

from django.db import models

from .models import Access, Tenant, TenantGrant

#: how to reach the owning tenant from each model that has no ``tenant`` field of its own
TENANT_PATHS = {
    "tenant": "pk",
    "port": "application__tenant",
    "connection": "application__tenant",
    "applicationtenant": "application__tenant",
    "skilllevel": "person__tenant",
    "originationdn": "agent_group__tenant",
    "tenantgrant": "tenant",
}


def tenant_path(model: type[models.Model]) -> str:
    return TENANT_PATHS.get(model._meta.model_name, "tenant")


def _grants(user) -> dict[int, str]:
    cached = getattr(user, "_pacing_grants", None)
    if cached is None:
        cached = dict(TenantGrant.objects.filter(user_id=user.pk).values_list("tenant_id", "access"))
        user._pacing_grants = cached
    return cached


def is_unrestricted(user) -> bool:
    return bool(user and user.is_active and user.is_superuser)


def visible_tenant_ids(user) -> set[int] | None:
    """Tenants the user may read; None means all."""
    if is_unrestricted(user):
        return None
    if not user or not user.is_authenticated:
        return set()
    return set(_grants(user))


def writable_tenant_ids(user) -> set[int] | None:
    """Tenants the user may change; None means all."""
    if is_unrestricted(user):
        return None
    if not user or not user.is_authenticated:
        return set()
    return {tenant for tenant, access in _grants(user).items() if access == Access.WRITE}


#: what restrict() accepts: reading, or one of the writes (which all need a read-write grant)
ACTIONS = ("view", "add", "change", "delete")


def _only_tenants(queryset: models.QuerySet, tenants: set[int] | None) -> models.QuerySet:
    if tenants is None:
        return queryset
    path = tenant_path(queryset.model)
    lookup = "pk__in" if path == "pk" else f"{path}__in" if path.endswith("tenant") else f"{path}_id__in"
    return queryset.filter(**{lookup: tenants})


def restrict(queryset: models.QuerySet, user, action: str = "view") -> models.QuerySet:
    """The rows ``user`` may read (``view``) or change (``add``/``change``/``delete``); None: every row."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
    if user is None:
        return queryset
    return _only_tenants(queryset, visible_tenant_ids(user) if action == "view" else writable_tenant_ids(user))


def scope(queryset: models.QuerySet, user) -> models.QuerySet:
    """Only the rows of the tenants the user may read (for models outside configdb, e.g. alarms;
    unlike restrict(), no user sees nothing)."""
    return _only_tenants(queryset, visible_tenant_ids(user))


def tenant_id_of(obj: models.Model) -> int | None:
    path = tenant_path(type(obj))
    if path == "pk":
        return obj.pk
    node = obj
    for part in path.split("__")[:-1]:
        node = getattr(node, part, None)
        if node is None:
            return None
    return getattr(node, "tenant_id", None)


def can_write(user, tenant_id: int | None) -> bool:
    tenants = writable_tenant_ids(user)
    return tenants is None or (tenant_id is not None and tenant_id in tenants)


def can_write_object(user, obj: models.Model) -> bool:
    return can_write(user, tenant_id_of(obj))


def writable_tenants(user) -> models.QuerySet:
    return Tenant.objects.restrict(user, "change")
