"""The admin's read-only page of the pacing nodes (``/admin/pacing/nodes/``): the same rows as the nodes API.

Registered by the admin site (pacingsite/admin_site.py). Staff only (the admin's login); a user sees the pacing
clusters of the tenants they may read. Redis unreachable: the page says so instead of failing.
"""

from __future__ import annotations

import datetime

import redis
from django.template.response import TemplateResponse

from configdb import access
from configdb.models import Application

from .clusters import pacing_clusters
from .nodes import node_rows


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
