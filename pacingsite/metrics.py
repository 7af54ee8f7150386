"""``/metrics`` (Prometheus text format) and ``/readyz``: no login, as a scraper and a load balancer need.

``/metrics`` gathers, per scrape, into a fresh registry:

* the process metrics of every process that shares ``PROMETHEUS_MULTIPROC_DIR`` (the gunicorn workers and
  the pacing nodes of one machine; prometheus-client's multiprocess mode) — or, with that unset, this
  process's own registry;
* the collectors of shared state, read at scrape time: active alarms by condition (alarms.metrics) and,
  where the pacing runtime provides them, leader status per node and the cycle figures (pacing.metrics).

``PACING_METRICS_ALLOW`` (ours): comma-separated addresses or networks (CIDR) allowed to scrape; unset, any
client may. Behind a proxy the address is the proxy's (REMOTE_ADDR): restrict there, or list the proxy.
"""

from __future__ import annotations

import ipaddress
import os

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess


class _ProcessRegistry:
    """This process's default registry, as a collector of the per-scrape registry."""

    def collect(self):
        yield from REGISTRY.collect()


def _allowed(request) -> bool:
    networks = getattr(settings, "PACING_METRICS_ALLOW", None)
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in networks)


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    from alarms.metrics import collectors as alarm_collectors

    extra = list(alarm_collectors())
    try:
        from pacing.metrics import collectors as pacing_collectors
    except ImportError:
        pacing_collectors = None
    if pacing_collectors is not None:
        extra += list(pacing_collectors())
    for collector in extra:
        registry.register(collector)
    return registry


@require_GET
def metrics(request):
    if not _allowed(request):
        return HttpResponseForbidden("This address may not read /metrics (PACING_METRICS_ALLOW).\n",
                                     content_type="text/plain")
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unreachable'}"
    return None


def _check_redis() -> str | None:
    from pacing.redis import get_redis, redis_target

    try:
        get_redis().ping()
    except Exception as exc:  # redis-py's errors, or the embedded server failing to start
        return f"{type(exc).__name__} ({_without_credentials(redis_target())})"
    return None


def _without_credentials(target: str) -> str:
    """``redis://:secret@host:6379/0`` → ``redis://host:6379/0``: a readiness answer names no password."""
    if "://" not in target:
        return target
    scheme, _, rest = target.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"


@require_GET
def readyz(request):
    """Ready when the database and Redis answer; 503 naming the one that does not."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    body = {"status": "ok" if not any(checks.values()) else "unavailable",
            "checks": {name: ({"status": "ok"} if problem is None else {"status": "error", "error": problem})
                       for name, problem in checks.items()}}
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
