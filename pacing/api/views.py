"""Pacing API views: the discovered targets (``GET targets/``), the stats push (``POST stats/``), the pacing
nodes (``GET nodes/``), the cycles' history (``GET cycles/``), a target's last hour (``GET cycles/series/``)
and the what-if (``POST what-if/``)."""

from __future__ import annotations

import time

import redis
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status, views
from rest_framework.response import Response

from configdb import access, services
from configdb.api.base import OrderedLimitOffsetPagination
from configdb.api.fields import brief
from configdb.models import AgentGroup, Application, Tenant, VirtualQueue

from ..clusters import pacing_clusters
from ..filtersets import CycleFilterBackend, NodeFilterBackend, SeriesFilterBackend, TargetFilterBackend
from ..history import History
from ..nodes import node_rows
from ..redis import get_redis, key_prefix, tenant_key
from ..stats import StatsStore, decode_invitations, decode_stats, stats_max_age_s
from ..targets import Target, discover, discover_many
from ..types import DEFAULT_REFRESH_PERIOD_S
from . import serializers as s


class StatsStoreUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The stats store (Redis) is unavailable."
    default_code = "stats_store_unavailable"


def _unavailable(exc: Exception) -> StatsStoreUnavailable:
    return StatsStoreUnavailable(f"The stats store (Redis) is unavailable: {type(exc).__name__}.")


class PacingTargetListView(generics.GenericAPIView):
    """The pacing targets discovered in the tenants you may read, with their latest stats and invitations.

    A target is a virtual queue with a `pacing/media` option joined with the enabled agent groups that list it
    among their origination DNs (named `<queue> - <media>`). Ordered by name (then tenant). Stale stats (older
    than PACING_STATS_MAX_AGE_S, or missing) mean the target is sent 0 invitations.
    """

    serializer_class = s.PacingTargetSerializer
    pagination_class = OrderedLimitOffsetPagination
    filter_backends = [TargetFilterBackend]

    def get_queryset(self):
        return access.scope(Tenant.objects.all(), self.request.user).order_by("name", "pk")

    @extend_schema(operation_id="pacing_targets_list", tags=["pacing"],
                   responses={200: s.PacingTargetSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        filters = TargetFilterBackend().parse(request)
        tenants = self.get_queryset()
        if filters.tenant is not None:
            tenants = tenants.filter(**filters.tenant_lookup())
        discoveries = discover_many(list(tenants.only("pk", "name")))
        # (tenant id, target): the stats are keyed by the tenant's id (pacing/redis.py)
        rows = [(d.tenant_id, t) for d in discoveries.values() for t in d.targets if filters.keep(t)]
        rows.sort(key=lambda row: (row[1].name, row[1].tenant, row[0]))
        now = time.time()
        if filters.stale is not None:
            stats, invitations = self._fetch(rows)
            limit = stats_max_age_s()
            rows = [(tid, t) for tid, t in rows
                    if StatsStore.stale(stats.get((tid, t.name)), limit, now) == filters.stale]
            page = self.paginate_queryset(rows)
        else:
            page = self.paginate_queryset(rows)
            stats, invitations = self._fetch(page)
        body = [self._row(request, t, tid, stats, invitations, now) for tid, t in page]
        return self.get_paginated_response(body)

    def _fetch(self, rows: list[tuple[int, Target]]) -> tuple[dict, dict]:
        """Stats and invitations of the (tenant id, target) rows, keyed by (tenant id, name): one round trip."""
        by_tenant: dict[int, list[str]] = {}
        for tenant_id, target in rows:
            by_tenant.setdefault(tenant_id, []).append(target.name)
        if not by_tenant:
            return {}, {}
        try:
            pipe = get_redis().pipeline(transaction=False)
            for tenant_id, names in by_tenant.items():
                pipe.hmget(tenant_key(tenant_id, "stats"), names)
                pipe.hmget(tenant_key(tenant_id, "invitations"), names)
            replies = iter(pipe.execute())
        except (redis.RedisError, OSError) as exc:
            raise _unavailable(exc) from exc
        stats, invitations = {}, {}
        for tenant_id, names in by_tenant.items():
            for name, snapshot in decode_stats(names, next(replies)).items():
                stats[(tenant_id, name)] = snapshot
            for name, entry in decode_invitations(names, next(replies)).items():
                invitations[(tenant_id, name)] = entry
        return stats, invitations

    @staticmethod
    def _row(request, target: Target, tenant_id: int, stats: dict, invitations: dict, now: float) -> dict:
        snapshot = stats.get((tenant_id, target.name))
        stats_body = None
        if snapshot is not None:
            stats_body = snapshot.to_dict()
            del stats_body["target"]
            stats_body["age_s"] = round(now - snapshot.taken_at, 3)
        # The configuration API's brief form {id, url, name}, from unsaved stand-ins (no query).
        return {
            "name": target.name,
            "tenant": brief(Tenant(pk=tenant_id, name=target.tenant), request),
            "queue": brief(VirtualQueue(pk=target.queue.id, number=target.queue.number), request),
            "switch": target.queue.switch,
            "media": target.media,
            "agent_groups": [brief(AgentGroup(pk=g.id, name=g.name), request) for g in target.agent_groups],
            "goal_pct": target.goal_pct,
            "goal_source": target.goal_source,
            "stats": stats_body,
            "stale": StatsStore.stale(snapshot, stats_max_age_s(), now),
            "invitations": invitations.get((tenant_id, target.name)),
        }


class StatsPushView(views.APIView):
    """Store the latest stats of a tenant's pacing targets (what a Stat Server bridge calls).

    Needs a read-write grant on the tenant. All rows are checked before anything is stored: any problem is a
    400 listing every one, each naming its row and field (`snapshots[2].target: no pacing target named …`).
    """

    @extend_schema(
        operation_id="pacing_stats_push",
        tags=["pacing"],
        request=s.StatsPushSerializer,
        responses={
            202: s.StatsPushResultSerializer,
            400: OpenApiResponse(s.ProblemsSerializer, description="Invalid body; nothing was stored."),
            401: OpenApiResponse(description="Not authenticated."),
            403: OpenApiResponse(description="No read-write grant on the tenant."),
            503: OpenApiResponse(description="The stats store (Redis) is unavailable."),
        },
    )
    def post(self, request, *args, **kwargs):
        data = request.data
        if not isinstance(data, dict):
            return _problems(["Expected an object: {\"tenant\": …, \"snapshots\": […]}."])
        problems = [f"{str(key)[:80]}: unknown field." for key in data if key not in ("tenant", "snapshots")]
        raw_tenant = data.get("tenant")
        tenant = None
        if raw_tenant is None:
            problems.append("tenant: required.")
        elif isinstance(raw_tenant, bool) or not isinstance(raw_tenant, str | int) or raw_tenant == "":
            problems.append("tenant: expected the tenant's name or id.")
        elif isinstance(raw_tenant, str) and "\x00" in raw_tenant:   # PostgreSQL refuses NUL in a query
            problems.append("tenant: contains a NUL character.")
        else:
            lookup = {"pk": raw_tenant} if isinstance(raw_tenant, int) else {"name": raw_tenant[:255]}
            tenant = access.scope(Tenant.objects.filter(**lookup), request.user).first()
            if tenant is None:
                problems.append(f"tenant: no tenant {str(raw_tenant)[:200]!r}.")
        if "snapshots" not in data:
            problems.append("snapshots: required.")
        if problems:
            return _problems(problems)
        services.check_tenant_write(request.user, tenant)  # a reader's push: 403 before its snapshots are read
        names = discover(tenant).by_name
        snapshots, problems = s.validate_snapshots(data["snapshots"], names, tenant.name)
        if problems:
            return _problems(problems)
        try:
            stored = StatsStore(tenant.pk).put_many(snapshots)
        except (redis.RedisError, OSError) as exc:
            raise _unavailable(exc) from exc
        return Response({"stored": stored}, status=status.HTTP_202_ACCEPTED)


def _problems(errors: list[str]) -> Response:
    return Response({"detail": f"Nothing was stored: {len(errors)} problem(s).", "errors": errors},
                    status=status.HTTP_400_BAD_REQUEST)




def _visible_clusters(request, wanted: str | None):
    """The pacing clusters the user may read (``wanted``: a name, or an id when all digits)."""
    visible = set(access.scope(Application.objects.all(), request.user).values_list("pk", flat=True))
    clusters = [c for c in pacing_clusters() if c.id in visible]
    if wanted is not None:
        clusters = [c for c in clusters if c.name == wanted or (wanted.isdigit() and c.id == int(wanted))]
    return clusters


class NodesUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Redis (where the pacing nodes write their heartbeats) is unavailable."
    default_code = "nodes_unavailable"


class PacingNodeListView(generics.GenericAPIView):
    """The pacing nodes of the pacing clusters you may read, from their heartbeats: which one is the leader,
    the cluster's epoch, the lease's age, and why a node is not posting.

    A node is listed while its heartbeat lives (about three lease lifetimes after its last cycle). Ordered by
    cluster name, then node name. Redis unreachable: 503.
    """

    serializer_class = s.PacingNodeSerializer
    pagination_class = OrderedLimitOffsetPagination
    filter_backends = [NodeFilterBackend]

    def get_queryset(self):
        return access.scope(Application.objects.all(), self.request.user).order_by("name", "pk")

    @extend_schema(operation_id="pacing_nodes_list", tags=["pacing"],
                   responses={200: s.PacingNodeSerializer(many=True),
                              503: OpenApiResponse(description="Redis is unavailable.")})
    def get(self, request, *args, **kwargs):
        filters = NodeFilterBackend().parse(request)
        clusters = _visible_clusters(request, filters.cluster)
        try:
            rows = node_rows(clusters)
        except (redis.RedisError, OSError) as exc:
            raise NodesUnavailable(f"Redis (where the pacing nodes write their heartbeats) is unavailable: "
                                   f"{type(exc).__name__}.") from exc
        if filters.leader is not None:
            rows = [r for r in rows if r["leader"] == filters.leader]
        page = self.paginate_queryset(rows)
        body = []
        for row in page:
            spec = row["cluster"]
            body.append({**row, "cluster": brief(Application(pk=spec.id, name=spec.name), request)})
        return self.get_paginated_response(body)


class PacingCycleListView(generics.GenericAPIView):
    """The recorded cycles of the pacing clusters you may read, newest first: tick, epoch, node, outcome and
    reason, milliseconds per stage, targets, invitations, pending counts. Cycles of leaders only (a standby
    node writes its heartbeat, not a cycle). The history is bounded: PACING_HISTORY_CYCLES summaries per
    cluster (default 2,880). Redis unreachable: 503.
    """

    serializer_class = s.PacingCycleSerializer
    pagination_class = OrderedLimitOffsetPagination
    filter_backends = [CycleFilterBackend]

    def get_queryset(self):
        return access.scope(Application.objects.all(), self.request.user).order_by("name", "pk")

    @extend_schema(operation_id="pacing_cycles_list", tags=["pacing"],
                   responses={200: s.PacingCycleSerializer(many=True),
                              503: OpenApiResponse(description="Redis is unavailable.")})
    def get(self, request, *args, **kwargs):
        filters = CycleFilterBackend().parse(request)
        rows = []
        try:
            client = get_redis()
            for spec in _visible_clusters(request, filters.cluster):
                rows += History(client, spec.name, key_prefix()).cycles(limit=100_000)
        except (redis.RedisError, OSError) as exc:
            raise _history_unavailable(exc) from exc
        if filters.outcome is not None:
            rows = [r for r in rows if r.get("outcome") == filters.outcome]
        rows.sort(key=lambda r: (-float(r.get("started_at") or 0), str(r.get("cluster", "")), r.get("tick", 0)))
        fields = list(s.PacingCycleSerializer().fields)
        page = [{name: row.get(name) for name in fields} for row in self.paginate_queryset(rows)]
        return self.get_paginated_response(page)


class HourPagination(OrderedLimitOffsetPagination):
    """The whole hour on the first page by default (180 points at the default step; at most 1,000 a page)."""

    default_limit = 1000


class PacingSeriesView(generics.GenericAPIView):
    """One target's last hour in the cluster's posted cycles, oldest first (for charts): one point per
    PACING_HISTORY_HOUR_STEP_S seconds (default 20, so up to 180 points; the newest point is the open step and
    changes with every cycle), each the means over the step's cycles of the invitations allowed, GPE's pending
    count, the ready agents and the abandonment % of the stats (null when unknown) and the blended share, at `at`
    (the mean time of those cycles, unix seconds). An unknown target or cluster gives an empty list. Redis
    unreachable: 503.
    """

    serializer_class = s.PacingSeriesPointSerializer
    pagination_class = HourPagination
    filter_backends = [SeriesFilterBackend]

    def get_queryset(self):
        return access.scope(Application.objects.all(), self.request.user).order_by("name", "pk")

    @extend_schema(operation_id="pacing_cycles_series", tags=["pacing"],
                   responses={200: s.PacingSeriesPointSerializer(many=True),
                              503: OpenApiResponse(description="Redis is unavailable.")})
    def get(self, request, *args, **kwargs):
        filters = SeriesFilterBackend().parse(request)
        clusters = _visible_clusters(request, filters.cluster)
        try:
            rows = (History(get_redis(), clusters[0].name, key_prefix()).hour(filters.target)
                    if clusters else [])
        except (redis.RedisError, OSError) as exc:
            raise _history_unavailable(exc) from exc
        return self.get_paginated_response(self.paginate_queryset(rows))


def _history_unavailable(exc: Exception) -> NodesUnavailable:
    return NodesUnavailable(f"Redis (where the pacing cycles are recorded) is unavailable: {type(exc).__name__}.")


class WhatIfView(views.APIView):
    """What the engine would allow one target now, and with your changes (OURS: pacing/whatif.py).

    Body: `{"tenant": name or id, "target": "<queue> - <media>", "ready_agents": …, "busy_agents": …,
    "accept_ratio": …, "aht_s": …, "goal_pct": …}` (every change optional). Both answers come from one call of
    the engine on the target's latest stats (stale or missing stats: 0 agents, as in the pacing cycle), GPE's
    last pending count and the cluster's refresh period; each gives the invitations and the inputs used. Needs
    read access to the tenant. Bad input: a 400 naming each field (agents below 0, accept ratio outside
    (0, 1], handle time not above 0, goal outside [0, 100], an unknown field, target or tenant).
    """

    @extend_schema(
        operation_id="pacing_what_if", tags=["pacing"], request=s.WhatIfRequestSerializer,
        responses={200: s.WhatIfSerializer,
                   400: OpenApiResponse(description="Invalid body: every problem by field."),
                   503: OpenApiResponse(description="The stats store (Redis) is unavailable.")},
    )
    def post(self, request, *args, **kwargs):
        from ..whatif import what_if

        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected an object."]})
        checked = s.WhatIfRequestSerializer(data=data)
        errors = {str(key)[:80]: ["Unknown field."] for key in data if key not in checked.fields}
        if not checked.is_valid():
            errors.update(checked.errors)
        if errors:
            raise exceptions.ValidationError(errors)
        values = checked.validated_data
        raw_tenant = values["tenant"]
        lookup = {"pk": int(raw_tenant)} if raw_tenant.isdigit() else {"name": raw_tenant}
        tenant = access.scope(Tenant.objects.filter(**lookup), request.user).first()
        if tenant is None:
            raise exceptions.ValidationError({"tenant": [f"No tenant {raw_tenant[:200]!r}."]})
        target = discover(tenant).by_name.get(values["target"])
        if target is None:
            raise exceptions.ValidationError(
                {"target": [f"No pacing target named {values['target'][:200]!r} in tenant '{tenant.name}'."]})
        overrides = {k: v for k, v in values.items() if k not in ("tenant", "target") and v is not None}
        try:
            store = StatsStore(tenant.pk)
            posted = store.get_invitations([target.name]).get(target.name)
            interval = DEFAULT_REFRESH_PERIOD_S
            cluster = (posted or {}).get("cluster")
            if cluster:
                spec = next((c for c in _visible_clusters(request, None) if c.name == cluster), None)
                interval = spec.refresh_s if spec is not None else interval
            result = what_if(tenant.pk, target, overrides, pending=(posted or {}).get("pending") or 0,
                             interval_s=interval, store=store)
        except (redis.RedisError, OSError) as exc:
            raise _unavailable(exc) from exc
        return Response({
            "tenant": brief(tenant, request), "target": target.name, "goal_source": target.goal_source,
            "stale": result.stale, "interval_s": result.interval_s, "posted": posted,
            "overrides": overrides, "current": result.current, "what_if": result.what_if, "notes": result.notes,
        })
