"""The admin's pacing pages: the pacing nodes (``/admin/pacing/nodes/``, the same rows as the nodes API), the
nodes panel of the dashboard (the admin home) and the what-if (``/admin/pacing/what-if/``).

Registered by the admin site (pacingsite/admin_site.py). Staff only (the admin's login); a user sees the pacing
clusters and targets of the tenants they may read. Redis unreachable: the page says so instead of failing.
"""

from __future__ import annotations

import datetime

import redis
from django.template.response import TemplateResponse

from configdb import access
from configdb.models import Application, Tenant

from .clusters import pacing_clusters
from .nodes import node_rows
from .targets import discover


def nodes_view(request, admin_site):
    visible = set(access.scope(Application.objects.all(), request.user).values_list("pk", flat=True))
    clusters = [c for c in pacing_clusters() if c.id in visible]
    error = None
    rows: list[dict] = []
    try:
        rows = node_rows(clusters)
    except (redis.RedisError, OSError) as exc:
        error = f"Redis (where the pacing nodes write their heartbeats) is unavailable: {type(exc).__name__}."
    by_cluster = []
    for spec in clusters:
        nodes = [dict(r, heartbeat=datetime.datetime.fromtimestamp(r["last_heartbeat"], datetime.UTC))
                 for r in rows if r["cluster"].id == spec.id]
        leader = next((n["name"] for n in nodes if n["leader"]), None)
        by_cluster.append({"spec": spec, "nodes": nodes, "leader": leader})
    context = {**admin_site.each_context(request), "title": "Pacing nodes", "clusters": by_cluster,
               "error": error}
    return TemplateResponse(request, "pacing/admin/nodes.html", context)


def dashboard_nodes(request) -> tuple[list[dict], str | None]:
    """The dashboard's nodes panel: one row per node (cluster, node, leader, epoch, lease age), and the error
    when Redis is unreachable. ``pacingsite/dashboard.js`` refreshes it from the nodes API."""
    visible = set(access.scope(Application.objects.all(), request.user).values_list("pk", flat=True))
    clusters = [c for c in pacing_clusters() if c.id in visible]
    try:
        return [dict(r, cluster=r["cluster"].name) for r in node_rows(clusters)], None
    except (redis.RedisError, OSError) as exc:
        return [], f"Redis (where the pacing nodes write their heartbeats) is unavailable: {type(exc).__name__}."


def what_if_view(request, admin_site):
    """The what-if page of one target (``?tenant=<id>&target=<name>``, the dashboard's links); without them, a
    form to name one. The answers come from ``POST /api/v1/pacing/what-if/`` (``pacingsite/whatif.js``)."""
    tenants = list(access.scope(Tenant.objects.all(), request.user).order_by("name", "pk").values("pk", "name"))
    tenant = request.GET.get("tenant", "").strip()[:255]
    target = request.GET.get("target", "").strip()[:255]
    if tenant and not tenant.isdigit():
        tenant = next((str(t["pk"]) for t in tenants if t["name"] == tenant), tenant)
    from .whatif import OVERRIDES

    context = {**admin_site.each_context(request), "title": "What-if", "tenants": tenants,
               "tenant": tenant, "target": target,
               "tenant_name": next((t["name"] for t in tenants if str(t["pk"]) == tenant), None),
               "overrides": [{"name": name, "label": label, "lo": lo, "hi": hi, "lo_open": lo_open}
                             for name, (label, lo, hi, lo_open) in OVERRIDES.items()]}
    if tenant.isdigit() and target and context["tenant_name"]:
        from rest_framework.exceptions import ValidationError

        from .api.serializers import WhatIfRequestSerializer

        raw = {k: v for k, v in request.GET.items() if k in OVERRIDES and v.strip()}
        checked = WhatIfRequestSerializer(data={"tenant": tenant, "target": target, **raw})
        if not checked.is_valid():
            context["errors"] = {k: " ".join(map(str, v)) for k, v in checked.errors.items()}
        else:
            context["values"] = raw
            found = discover(int(tenant)).by_name.get(target)
            if found is None:
                context["errors"] = {"target": f"No pacing target named {target!r}."}
            else:
                try:
                    from .stats import StatsStore
                    from .whatif import what_if

                    posted = StatsStore(int(tenant)).get_invitations([target]).get(target) or {}
                    overrides = {k: v for k, v in checked.validated_data.items() if k in OVERRIDES and v is not None}
                    context["result"] = what_if(int(tenant), found, overrides, pending=posted.get("pending") or 0)
                    context["posted"] = posted
                except (redis.RedisError, OSError, ValidationError) as exc:
                    context["errors"] = {"stats": f"The stats store (Redis) is unavailable: {type(exc).__name__}."}
    return TemplateResponse(request, "pacing/admin/what_if.html", context)
