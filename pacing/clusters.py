"""Which applications are pacing clusters, and their refresh periods (read by the beat every second).

The rule (OURS; the vendor's Pacing Server is simply configured as one cluster application): a **pacing
cluster** is an ENABLED application of type *Application Cluster* whose options have a ``pacing`` section, or
whose template is named ``Pacing_Server_Cluster`` (the template the vendor ships and ``load_demo`` creates).
Other Application Clusters (of other products) are not paced.

Its targets are those of the tenants it serves (its Tenants tab); a cluster that lists no tenant paces its
owning tenant's. Its refresh period is ``pacing/refreshPeriod`` (``pacing.types.parse_refresh_period``); a
bad value is logged ONCE per cluster and value (logger ``pacing.clusters``, WARNING, naming the option).

Cost: two SQL queries per call (the clusters, their served tenants), whatever the number of clusters.
"""

from __future__ import annotations

import logging
import threading

from django.db.models import Q

from configdb.models import Application, ApplicationType, State

from .types import ClusterSpec, parse_refresh_period

__all__ = ["PACING_TEMPLATE", "get_cluster", "pacing_clusters"]

logger = logging.getLogger("pacing.clusters")

#: the vendor's template of a pacing cluster application
PACING_TEMPLATE = "Pacing_Server_Cluster"

_warned_lock = threading.Lock()
_warned: dict[int, str] = {}   # cluster id → the raw refreshPeriod last warned about


def _queryset():
    return (Application.objects
            .filter(app_type=ApplicationType.APPLICATION_CLUSTER, state=State.ENABLED)
            .filter(Q(options__has_key="pacing") | Q(template__name=PACING_TEMPLATE))
            .select_related("tenant")
            .prefetch_related("tenants")
            .order_by("name", "pk"))


def _spec(app: Application) -> ClusterSpec:
    options = app.options or {}
    pacing = options.get("pacing") or {}
    raw = pacing.get("refreshPeriod") if isinstance(pacing, dict) else None
    refresh, problem = parse_refresh_period(raw)
    _warn_once(app, raw, problem)
    served = tuple(sorted(t.name for t in app.tenants.all())) or (app.tenant.name,)
    return ClusterSpec(id=app.pk, name=app.name, tenant=app.tenant.name, tenants=served, refresh_s=refresh,
                       period_problem=problem, options=options)


def _warn_once(app: Application, raw, problem: str | None) -> None:
    with _warned_lock:
        if problem is None:
            _warned.pop(app.pk, None)
            return
        if _warned.get(app.pk) == str(raw):
            return
        _warned[app.pk] = str(raw)
    logger.warning("Pacing cluster '%s': %s (the option is in the cluster application's options, section "
                   "'pacing').", app.name, problem)


def pacing_clusters() -> list[ClusterSpec]:
    """Every pacing cluster, by name (see the module's docstring)."""
    return [_spec(app) for app in _queryset()]


def get_cluster(cluster: int | str) -> ClusterSpec | None:
    """One pacing cluster by id or name; None when there is no such (enabled, pacing) cluster."""
    lookup = {"pk": cluster} if isinstance(cluster, int) else {"name": cluster}
    app = _queryset().filter(**lookup).first()
    return None if app is None else _spec(app)


def reset_warnings() -> None:
    """Forget which bad refresh periods were logged (tests)."""
    with _warned_lock:
        _warned.clear()
