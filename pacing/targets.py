"""Pacing target discovery: which (virtual queue, media, agent groups) the pacing service paces.

As the vendor defines it (seeds/pacing-deployment-guide.txt, "Configuration"):

* a **virtual queue** of the service's tenant — a DN of type Virtual Queue, enabled, on any switch — whose
  options have a ``pacing`` section with a ``media`` option naming a SINGLE media type ("You cannot specify
  a list of media types"), and optionally ``optimizationGoal``, a float from 0 to 100, default 3 (the rule is
  ``configdb.pacing_options.check_queue_pacing``, the one every write path validates with);
* joined with every enabled **agent group** of that tenant that lists the queue among its origination DNs;
* named ``"<queue number> - <media>"``, e.g. ``Proactive Chat - chat``.

Decisions that are OURS (the vendor does not say):

* A queue whose ``pacing`` section is unusable is not a target; it is returned in ``Discovery.skipped``
  (queue, reason) and logged (logger ``pacing.targets``, WARNING, naming the queue; the first 20 per tenant
  one by one, the rest counted in one line), so the config doctor can show it: no ``media`` option, an empty
  one, a list (``chat,voice``, ``chat;voice``, ``chat voice``, ``["chat"]``), a value that is not a media
  type name or not one of the tenant's media types, an ``optimizationGoal`` that is not a finite number from
  0 to 100 (``abc``, ``NaN``, ``inf``, ``101``, ``-1``). An EMPTY ``optimizationGoal`` counts as unset. Every
  write path refuses such options now (``full_clean()``); a row written before that rule, or by a path that
  sends no validation (``QuerySet.update``), is still skipped. Each skipped row is logged ONCE per change of
  the row (its ``modified`` stamp) or of its reason, in this process, not on every load.
* A queue that no enabled agent group lists is skipped too, with a reason (the seed: a target is "a set of
  ONE OR MORE agent groups that are associated with this queue").
* Two queues on different switches with the same number and media would make the same target name; the
  oldest queue (lowest id) keeps it and the others are skipped with a reason.
* Disabled queues and disabled agent groups are left out silently (an administrator's choice, not an error).
* The goal falls back from the queue's ``pacing/optimizationGoal`` to the cluster's (the Application
  Cluster serving the tenant — the first by name if several do, noted in ``Discovery.problems`` — or the one
  passed in), then to 3. An invalid cluster goal is noted in ``problems`` and 3 is used.

Cost: a CONSTANT number of SQL queries whatever the size — queues (one query, the two options read as text
in SQL), origination rows joined to their groups (one), the tenants' media type names (one), the serving
cluster (one, unless passed in) — and
``discover_many`` does the same for any number of tenants.

Cache: results are kept per (tenant, cluster) in this process and reused while the configuration version is
unchanged. The version is ``(max(ObjectChange.id), local generation)``: every change of a configuration
object on any path that sends Django signals records an ObjectChange row (configdb/history.py), in any
process, so one indexed ``MAX(id)`` query per call tells that something changed; the local generation
counter, bumped by post_save / post_delete / m2m_changed of any configdb model in this process, also catches
changes history does not record (reverse many-to-many adds). Writes that bypass signals (``bulk_create``,
``QuerySet.update``, raw SQL) and history rows committed out of id order are caught by a time-to-live,
``settings.PACING_TARGETS_CACHE_TTL_S`` (default 60 s). ``clear_cache()`` drops everything.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

from django.conf import settings
from django.db import connections
from django.db.models import Max
from django.db.models.fields.json import KT
from django.db.models.signals import m2m_changed, post_delete, post_save

from configdb.models import (
    DN,
    Application,
    ApplicationType,
    DNType,
    MediaType,
    ObjectChange,
    OriginationDN,
    State,
    Tenant,
)
from configdb.pacing_options import check_queue_pacing, parse_goal, parse_media
from pacing.gcpause import gc_paused

__all__ = [
    "DEFAULT_GOAL_PCT", "Discovery", "GroupRef", "QueueRef", "Skipped", "Target", "clear_cache", "config_version",
    "discover", "discover_many", "discover_targets", "parse_goal", "parse_media",
]

logger = logging.getLogger("pacing.targets")

#: optimizationGoal when neither the queue nor the cluster sets one (seed: "The default value is 3")
DEFAULT_GOAL_PCT = 3.0
DEFAULT_CACHE_TTL_S = 60.0
#: skipped queues logged one by one per discovery and tenant; the rest are counted in one line
MAX_LOGGED_SKIPS = 20



# --- results ------------------------------------------------------------------------------------------------


class QueueRef(NamedTuple):
    """The virtual queue of a target: id, number and the name of its switch."""

    id: int
    number: str
    switch: str


class GroupRef(NamedTuple):
    id: int
    name: str


class Target(NamedTuple):
    """One pacing target: a media-specific virtual queue and the agent groups that list it.

    (Named tuples, not dataclasses: discovery makes tens of thousands of these, and a tuple is made ~4x faster
    than a frozen dataclass.)"""

    name: str                          # "<queue number> - <media>"
    tenant: str
    queue: QueueRef
    media: str
    agent_groups: tuple[GroupRef, ...]  # sorted by name, then id
    goal_pct: float                    # optimizationGoal, percent
    goal_source: str                   # "queue", "cluster" or "default"

    @property
    def agent_group_ids(self) -> list[int]:
        return [g.id for g in self.agent_groups]

    @property
    def agent_group_names(self) -> list[str]:
        return [g.name for g in self.agent_groups]


class Skipped(NamedTuple):
    """A virtual queue with a pacing section that is not a target, and why."""

    name: str       # the queue's number
    reason: str
    queue: QueueRef


@dataclass(frozen=True)
class Discovery:
    tenant: str
    tenant_id: int
    cluster: str | None                 # the cluster whose goal is the fallback (None: no cluster)
    targets: tuple[Target, ...]         # sorted by name
    skipped: tuple[Skipped, ...]        # sorted by queue number
    problems: tuple[str, ...] = ()      # cluster-level notes (several clusters, an invalid cluster goal)
    version: tuple = ()
    by_name: dict[str, Target] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if not self.by_name:
            object.__setattr__(self, "by_name", {t.name: t for t in self.targets})

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]


# --- option values ------------------------------------------------------------------------------------------
# parse_media and parse_goal are configdb.pacing_options' (imported above, kept in __all__ for callers).


# --- configuration version and cache --------------------------------------------------------------------------

_generation = itertools.count(1)
_local_generation = 0
_cache_lock = threading.Lock()
_cache: dict[tuple[int, int | str], tuple[tuple, float, Discovery]] = {}


def _bump(sender, **kwargs):
    global _local_generation
    if sender._meta.app_label == "configdb" and sender._meta.model_name != "objectchange":
        _local_generation = next(_generation)


post_save.connect(_bump, dispatch_uid="pacing-targets-post-save")
post_delete.connect(_bump, dispatch_uid="pacing-targets-post-delete")
m2m_changed.connect(_bump, dispatch_uid="pacing-targets-m2m")


def config_version() -> tuple[int, int]:
    """``(max(ObjectChange.id), local generation)``: one indexed query."""
    last = ObjectChange.objects.aggregate(last=Max("id"))["last"] or 0
    return last, _local_generation


def clear_cache() -> None:
    """Drop every cached discovery (and forget which skipped queues were logged)."""
    with _cache_lock:
        _cache.clear()
        _reported.clear()
        _reported_clusters.clear()


#: tenant id → {queue id: (its modified stamp, the reason)} of the skipped queues already logged in this process
_reported: dict[int, dict[int, tuple]] = {}
#: tenant id → (cluster name, raw goal) whose invalid goal was logged
_reported_clusters: dict[int, tuple] = {}


def _ttl() -> float:
    return float(getattr(settings, "PACING_TARGETS_CACHE_TTL_S", DEFAULT_CACHE_TTL_S))


# --- discovery ----------------------------------------------------------------------------------------------


def _resolve_tenant(tenant) -> tuple[int, str]:
    if isinstance(tenant, Tenant):
        return tenant.pk, tenant.name
    found = Tenant.objects.filter(**({"pk": tenant} if isinstance(tenant, int) else {"name": tenant}))
    row = found.values_list("pk", "name").first()
    if row is None:
        raise Tenant.DoesNotExist(f"No tenant {tenant!r}.")
    return row


def discover(tenant, cluster: Application | None = None, *, use_cache: bool = True) -> Discovery:
    """The pacing targets of ``tenant`` (a Tenant, its id or its name), and the queues skipped, with reasons.

    ``cluster``: the Application Cluster whose ``pacing/optimizationGoal`` is the fallback goal; by default
    the one serving the tenant.
    """
    tenant_id, tenant_name = _resolve_tenant(tenant)
    return _discover({tenant_id: tenant_name}, cluster, use_cache)[tenant_id]


def discover_targets(tenant, cluster: Application | None = None) -> list[Target]:
    """The targets only (see ``discover``)."""
    return list(discover(tenant, cluster).targets)


def discover_many(tenants: Iterable[Tenant], *, use_cache: bool = True) -> dict[int, Discovery]:
    """``discover`` for several tenants (each with the cluster serving it), in a constant number of queries."""
    return _discover({t.pk: t.name for t in tenants}, None, use_cache)


def _discover(tenants: dict[int, str], cluster: Application | None, use_cache: bool) -> dict[int, Discovery]:
    if not tenants:
        return {}
    # The cache key's second part: the cluster passed in, or "auto" (the one serving each tenant).
    cluster_id = "auto" if cluster is None else cluster.pk
    use_cache = use_cache and cluster_id is not None  # an unsaved cluster is never cached
    version = config_version() if use_cache else ()
    found: dict[int, Discovery] = {}
    if use_cache:
        now = time.monotonic()
        ttl = _ttl()
        for tenant_id in tenants:
            entry = _cache.get((tenant_id, cluster_id))
            if entry is not None and entry[0] == version and now - entry[1] < ttl:
                found[tenant_id] = entry[2]
    missing = {tid: name for tid, name in tenants.items() if tid not in found}
    if missing:
        loaded = _load(missing, cluster, version)
        found.update(loaded)
        if use_cache:
            stamp = time.monotonic()
            with _cache_lock:
                for tenant_id, discovery in loaded.items():
                    _cache[(tenant_id, cluster_id)] = (version, stamp, discovery)
    return found


def _clusters(tenants: dict[int, str], cluster: Application | None) -> dict[int, tuple[str | None, object, list]]:
    """tenant id → (cluster name, raw cluster goal, problems)."""
    if cluster is not None:
        raw = ((cluster.options or {}).get("pacing") or {}).get("optimizationGoal")
        return {tid: (cluster.name, raw, []) for tid in tenants}
    rows = (Application.objects
            .filter(tenants__in=list(tenants), app_type=ApplicationType.APPLICATION_CLUSTER, state=State.ENABLED)
            .annotate(goal=KT("options__pacing__optimizationGoal"))
            .order_by("name", "id")
            .values_list("tenants", "name", "goal"))
    serving: dict[int, list[tuple[str, object]]] = {}
    for tenant_id, name, goal in rows:
        serving.setdefault(tenant_id, []).append((name, goal))
    result = {}
    for tenant_id in tenants:
        clusters = serving.get(tenant_id, [])
        if not clusters:
            result[tenant_id] = (None, None, [])
            continue
        problems = []
        if len(clusters) > 1:
            problems.append(f"Several Application Clusters serve tenant '{tenants[tenant_id]}' "
                            f"({', '.join(n for n, _ in clusters)}); the fallback goal comes from '{clusters[0][0]}'.")
        result[tenant_id] = (clusters[0][0], clusters[0][1], problems)
    return result


def _rows(queryset) -> list[tuple]:
    """A values_list queryset's rows in one ``fetchall`` (Django's own iteration fetches 100 rows at a time)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _load(tenants: dict[int, str], cluster: Application | None, version: tuple) -> dict[int, Discovery]:
    with gc_paused():
        return _load_all(tenants, cluster, version)


def _load_all(tenants: dict[int, str], cluster: Application | None, version: tuple) -> dict[int, Discovery]:
    tenant_ids = list(tenants)
    queues = (DN.objects
              .filter(tenant_id__in=tenant_ids, dn_type=DNType.VIRTUAL_QUEUE, state=State.ENABLED,
                      options__has_key="pacing")
              .annotate(media=KT("options__pacing__media"), goal=KT("options__pacing__optimizationGoal"))
              .order_by("id")
              .values_list("id", "tenant_id", "number", "switch__name", "media", "goal", "modified"))
    # Every origination row of the tenants' enabled groups (no join to the DNs: the loop below only looks up
    # the paced queues' ids, and the few rows of other DNs cost less than the join).
    origins = (OriginationDN.objects
               .filter(agent_group__tenant_id__in=tenant_ids, agent_group__state=State.ENABLED)
               .values_list("dn_id", "agent_group_id", "agent_group__name", "agent_group__tenant_id"))
    groups: dict[int, list] = {}
    for dn_id, group_id, group_name, group_tenant in _rows(origins):
        entry = groups.get(dn_id)
        if entry is None:
            groups[dn_id] = [group_tenant, GroupRef(group_id, group_name)]
        else:
            entry.append(GroupRef(group_id, group_name))
            if entry[0] != group_tenant:
                entry[0] = None  # groups of several tenants list this DN: impossible (refused on write)
    media_types: dict[int, set[str]] = {tid: set() for tid in tenants}
    for tenant_id, media_name in MediaType.objects.filter(tenant_id__in=tenant_ids).values_list("tenant_id", "name"):
        media_types[tenant_id].add(media_name)
    clusters = _clusters(tenants, cluster)

    cluster_goals: dict[int, tuple[float | None, list[str]]] = {}
    for tenant_id, (name, raw, problems) in clusters.items():
        goal, error = parse_goal(raw)
        problems = list(problems)
        if error:
            problems.append(f"Cluster '{name}': {error}; the default goal {DEFAULT_GOAL_PCT:g} is used instead.")
            if _reported_clusters.get(tenant_id) != (name, raw):
                logger.warning("Cluster '%s': %s; using the default goal %g.", name, error, DEFAULT_GOAL_PCT)
            _reported_clusters[tenant_id] = (name, raw)
        else:
            _reported_clusters.pop(tenant_id, None)
        cluster_goals[tenant_id] = (goal, problems)

    targets: dict[int, dict[str, Target]] = {tid: {} for tid in tenants}
    skipped: dict[int, list[Skipped]] = {tid: [] for tid in tenants}
    # Skipped queues are logged once per change of the row or its reason (ours): (id, modified, reason) seen.
    reported = {tid: {} for tid in tenants}
    logged = dict.fromkeys(tenants, 0)
    unlogged = dict.fromkeys(tenants, 0)
    by_name_then_id = itemgetter(1, 0)
    no_groups = "no enabled agent group lists it among its origination DNs"
    for queue_id, tenant_id, number, switch, raw_media, raw_goal, modified in _rows(queues):
        media, goal, problems = check_queue_pacing(raw_media, raw_goal, media_types[tenant_id], tenants[tenant_id])
        error = "; ".join(problems) if problems else None
        if error is None:
            entry = groups.get(queue_id)
            if entry is None or entry[0] != tenant_id:
                error = no_groups
        if error is None:
            name = f"{number} - {media}"
            first = targets[tenant_id].get(name)
            if first is not None:
                error = (f"target name '{name}' is already taken by virtual queue '{first.queue.number}' on switch "
                         f"'{first.queue.switch}' (queue numbers must differ across switches)")
        if error is not None:
            ref = QueueRef(queue_id, number, switch)
            skipped[tenant_id].append(Skipped(number, error, ref))
            stamp = (modified, error)
            reported[tenant_id][queue_id] = stamp
            if _reported.get(tenant_id, {}).get(queue_id) != stamp:
                if logged[tenant_id] < MAX_LOGGED_SKIPS:
                    logged[tenant_id] += 1
                    logger.warning("Virtual queue '%s' (switch '%s', tenant '%s') is not a pacing target: %s.",
                                   number, switch, tenants[tenant_id], error)
                else:
                    unlogged[tenant_id] += 1
            continue
        source = "queue"
        if goal is None:
            goal, source = cluster_goals[tenant_id][0], "cluster"
            if goal is None:
                goal, source = DEFAULT_GOAL_PCT, "default"
        members = entry[1:]
        if len(members) > 1:
            members.sort(key=by_name_then_id)
        targets[tenant_id][name] = Target(name, tenants[tenant_id], QueueRef(queue_id, number, switch), media,
                                          tuple(members), goal, source)

    with _cache_lock:
        _reported.update(reported)
    result = {}
    for tenant_id, tenant_name in tenants.items():
        if unlogged[tenant_id]:
            logger.warning("... and %d more virtual queues of tenant '%s' are not pacing targets (the config doctor "
                           "lists them all).", unlogged[tenant_id], tenant_name)
        by_name = dict(sorted(targets[tenant_id].items()))
        result[tenant_id] = Discovery(
            tenant=tenant_name, tenant_id=tenant_id, cluster=clusters[tenant_id][0],
            targets=tuple(by_name.values()),
            skipped=tuple(sorted(skipped[tenant_id], key=lambda x: (x.name, x.queue.switch, x.queue.id))),
            problems=tuple(cluster_goals[tenant_id][1]), version=version, by_name=by_name,
        )
    return result
