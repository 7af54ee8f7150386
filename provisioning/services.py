"""The provisioning service: what the vendor's provisioning tool creates, for one pacing application.

The seed (seeds/pacing-provisioning.txt, "Created objects") lists what provisioning writes, and
``provision(app_name, user=…)`` writes exactly that, for a pacing cluster or one of its nodes:

1. the five alarm conditions of alarms/catalog.py in the ``PacingService`` alarm-condition folder of the tenant
   the cluster serves (category Major, timeout 86400, the catalog's detect / cancel events);
2. the statistics ``PACS_VQ_Abandoned``, ``PACS_VQ_Accepted``, ``PACS_VQ_Current`` and the filter
   ``PACS_Proactive_Interaction`` (provisioning/statserver.py) in the options of the Stat Server the cluster
   connects to — and of its backup, when it names one (the seed: one Stat Server, a high-availability pair);
3. the node's launch settings — the vendor's ``launcher.ini`` / ``setenv.sh`` placeholders — which we render
   as an environment file instead of editing files (provisioning/environment.py): nothing is stored.

"If absent": an object that exists is left as the administrator has it, and listed under ``kept`` when it
differs from ours. **Overwrite** replaces it — the seed: "pacing-specific objects that already exist will be
removed and new objects will be created instead. You will lose any changes you have made manually" — and the
plan names, change by change, what is lost. Ours: a condition is replaced *in place* (its values reset to the
catalog's) rather than deleted and created again, so the alarms it raised keep pointing at it; a statistic's
section is replaced whole (keys we do not define are deleted). ``hybrid_integration`` is never read or written
(the seed: "not controlled by the provisioning tool").

Idempotent: a second run plans nothing and writes nothing (no change history either). One transaction: the
plan is computed and applied under it, every write through configdb/services.py with the acting user, so a
user with a read-only grant gets the dry run (``dry_run=True``: the plan, nothing written) but not the apply
(PermissionDenied, nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction

from alarms import catalog
from configdb import services
from configdb.effective import cluster_of
from configdb.models import (
    AlarmCondition,
    Application,
    ApplicationType,
    Folder,
    FolderType,
    State,
    Tenant,
)
from configdb.models.alarms import DetectSelection

from . import statserver

__all__ = ["Change", "Plan", "ProvisioningError", "pacing_applications", "provision", "resolve"]

SUCCESS = "Provisioning script successfully finished his work"  # the vendor's message, verbatim


class ProvisioningError(Exception):
    """The application cannot be provisioned as it is configured; ``field`` names the request field at fault."""

    def __init__(self, message: str, field: str = "application"):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Change:
    """One planned write. ``action``: create (an object, or a section / key of the Stat Server's options, that
    is missing) or replace (overwrite: the stored values are lost; a key we do not define is removed); ``keep``
    in ``Plan.kept``: an existing object left alone. ``lost``: what a replace discards (for a keep: the stored
    values that differ from ours), one string each."""

    action: str
    object_type: str
    object: str
    detail: str = ""
    lost: tuple[str, ...] = ()

    def line(self) -> str:
        text = f"{self.action} {self.object_type} '{self.object}'"
        if self.detail:
            text += f": {self.detail}"
        if self.lost:
            text += f" ({'stored' if self.action == 'keep' else 'loses'} {'; '.join(self.lost)})"
        return text

    def as_dict(self) -> dict:
        return {"action": self.action, "object_type": self.object_type, "object": self.object,
                "detail": self.detail, "lost": list(self.lost)}


@dataclass
class Plan:
    """What provisioning does (``applied``: did) for ``application``."""

    application: str
    kind: str                       # "cluster" or "node"
    cluster: str
    tenant: str
    stat_servers: list[str]
    overwrite: bool
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    kept: list[Change] = field(default_factory=list)   # existing objects that differ from ours, left alone
    applied: bool = False

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "replace"), 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def as_dict(self) -> dict:
        return {"application": self.application, "kind": self.kind, "cluster": self.cluster, "tenant": self.tenant,
                "stat_servers": list(self.stat_servers), "overwrite": self.overwrite, "dry_run": self.dry_run,
                "applied": self.applied, "counts": self.counts(),
                "changes": [c.as_dict() for c in self.changes], "kept": [c.as_dict() for c in self.kept]}


# -- which application, cluster, tenant and Stat Servers ---------------------------------------------------


def pacing_applications(user=None):
    """The applications provisioning accepts: clusters (Application Cluster) and nodes (Genesys Generic Server)."""
    return (Application.objects.restrict(user, "view")
            .filter(app_type__in=[ApplicationType.APPLICATION_CLUSTER, ApplicationType.GENESYS_GENERIC_SERVER])
            .order_by("name"))


def resolve(app_name: str, user=None) -> tuple[Application, Application]:
    """The application named ``app_name`` (one ``user`` may read) and its cluster; ProvisioningError otherwise."""
    app = Application.objects.restrict(user, "view").filter(name=app_name).select_related("tenant").first()
    if app is None:
        raise ProvisioningError(f"No application named '{app_name}'.")
    if app.app_type not in (ApplicationType.APPLICATION_CLUSTER, ApplicationType.GENESYS_GENERIC_SERVER):
        raise ProvisioningError(f"Application '{app_name}' is a {app.get_app_type_display()}; provisioning takes a "
                                "pacing cluster (Application Cluster) or node (Genesys Generic Server).")
    cluster = cluster_of(app)
    if cluster is None:
        raise ProvisioningError(f"Application '{app_name}' has no connection to a pacing cluster (an Application "
                                "Cluster); a node connects to its cluster (seeds: 'Add the node application to the "
                                "cluster').")
    return app, cluster


def served_tenant(cluster: Application) -> Tenant:
    """The one tenant the cluster serves (its Tenants tab; none: its owning tenant). The seed: "Pacing Service is
    a single-tenant application"."""
    tenants = list(cluster.tenants.order_by("name"))
    if len(tenants) > 1:
        raise ProvisioningError(f"Cluster '{cluster}' serves {len(tenants)} tenants ({', '.join(map(str, tenants))}); "
                                "Pacing Service is a single-tenant application: keep one on its Tenants tab.")
    return tenants[0] if tenants else cluster.tenant


def stat_servers(cluster: Application) -> list[Application]:
    """The Stat Server the cluster connects to, then its backup when it names one. Several that are not one
    primary/backup pair are refused (the seed: "connects to only one Stat Server (high-availability pair)")."""
    connected = list(Application.objects.filter(connected_from__application=cluster,
                                                app_type=ApplicationType.STAT_SERVER)
                     .select_related("backup_server").distinct().order_by("name"))
    if not connected:
        raise ProvisioningError(f"Cluster '{cluster}' has no connection to a Stat Server; add it on the cluster's "
                                "Connections tab (the seed's prerequisite) and run provisioning again.")
    primary = next((s for s in connected if s.backup_server_id and
                    all(o.pk in (s.pk, s.backup_server_id) for o in connected)), connected[0])
    pair = [primary] + ([primary.backup_server] if primary.backup_server_id else [])
    others = [s.name for s in connected if s.pk not in {p.pk for p in pair}]
    if others:
        raise ProvisioningError(f"Cluster '{cluster}' connects to {len(connected)} Stat Servers "
                                f"({', '.join(s.name for s in connected)}); the pacing service uses only one (a "
                                "primary and the backup it names).")
    return pair


# -- planning -----------------------------------------------------------------------------------------------

_CONDITION = "alarm condition"


def _condition_values(condition: catalog.Condition, folder: Folder | None) -> dict:
    return {"folder": folder, "description": condition.description, "category": condition.category,
            "timeout": condition.timeout_s, "detect_event_id": condition.detect_event_id,
            "cancel_event_id": condition.cancel_event_id, "detect_selection": DetectSelection.ANY,
            "state": State.ENABLED, "options": {}}


def _differences(row: AlarmCondition, wanted: dict) -> list[str]:
    lost = []
    for name, value in wanted.items():
        stored = getattr(row, name)
        if name == "folder":
            if row.folder_id != (value.pk if value is not None else None) or value is None:
                lost.append(f"folder: {stored.path if stored else '(none)'}")
        elif stored != value:
            lost.append(f"{name}: {stored!r}" if name != "options" else f"options: {len(stored or {})} section(s)")
    return lost


@dataclass
class _Work:
    """The plan and the writes that carry it out (run in order)."""

    plan: Plan
    servers: list = field(default_factory=list)
    writes: list = field(default_factory=list)


def _plan_conditions(work: _Work, tenant: Tenant, overwrite: bool) -> None:
    folder = Folder.objects.filter(tenant=tenant, parent=None, name=catalog.FOLDER,
                                   folder_type=FolderType.ALARM_CONDITIONS).first()
    holder: dict = {"folder": folder}
    if folder is None:
        work.plan.changes.append(Change("create", "folder", f"{tenant} / Alarm Conditions / {catalog.FOLDER}"))

        def create_folder(user):
            holder["folder"] = services.save_object(
                Folder(tenant=tenant, parent=None, name=catalog.FOLDER, folder_type=FolderType.ALARM_CONDITIONS),
                user=user)
        work.writes.append(create_folder)
    names = [c.code for c in catalog.CONDITIONS]
    rows = {c.name: c for c in AlarmCondition.objects.filter(tenant=tenant, name__in=names).select_related("folder")}
    for spec in catalog.CONDITIONS:
        label = f"{catalog.FOLDER} / {spec.code}"
        row = rows.get(spec.code)
        if row is None:
            work.plan.changes.append(Change("create", _CONDITION, label, f"events {spec.detect_event_id} / "
                                            f"{spec.cancel_event_id}, Major, timeout {spec.timeout_s} s"))
            work.writes.append(lambda user, spec=spec: services.save_object(
                AlarmCondition(tenant=tenant, name=spec.code, **_condition_values(spec, holder["folder"])), user=user))
            continue
        lost = _differences(row, _condition_values(spec, folder))
        if not lost:
            continue
        if not overwrite:
            work.plan.kept.append(Change("keep", _CONDITION, label, "differs from the catalog; -overwrite would "
                                         "replace it", tuple(lost)))
            continue
        work.plan.changes.append(Change("replace", _CONDITION, label, "reset to the catalog's values", tuple(lost)))

        def replace(user, row=row, spec=spec):
            for name, value in _condition_values(spec, holder["folder"]).items():
                setattr(row, name, value)
            services.save_object(row, user=user)
        work.writes.append(replace)


def _plan_stat_server(work: _Work, server: Application, overwrite: bool) -> None:
    label = f"{server.name}"
    new = {s: dict(k) for s, k in (server.options or {}).items()}
    changed = False
    for section, keys in statserver.STATISTICS.items():
        stored = new.get(section)
        where = f"{label} [{section}]"
        if stored is None:
            work.plan.changes.append(Change("create", "Stat Server statistic", where,
                                            ", ".join(f"{k}={v}" for k, v in keys.items() if k != "Description")))
        elif stored == keys:
            continue
        elif not overwrite:
            work.plan.kept.append(Change("keep", "Stat Server statistic", where, "differs from ours; -overwrite would "
                                         "replace the section", tuple(f"{k}={v}" for k, v in stored.items()
                                                                      if keys.get(k) != v)))
            continue
        else:
            lost = tuple(f"{k}={v}" + ("" if k in keys else " (removed)") for k, v in stored.items()
                         if keys.get(k) != v)
            work.plan.changes.append(Change("replace", "Stat Server statistic", where, "section replaced by ours",
                                            lost))
        new[section] = dict(keys)
        changed = True
    filters = dict(new.get(statserver.FILTERS_SECTION) or {})
    for name, expression in statserver.FILTERS.items():
        where = f"{label} [{statserver.FILTERS_SECTION}] {name}"
        stored = filters.get(name)
        if stored is None:
            work.plan.changes.append(Change("create", "Stat Server filter", where, expression))
        elif stored == expression:
            continue
        elif not overwrite:
            work.plan.kept.append(Change("keep", "Stat Server filter", where, "differs from ours; -overwrite would "
                                         "replace it", (f"{name}={stored}",)))
            continue
        else:
            work.plan.changes.append(Change("replace", "Stat Server filter", where, expression, (f"{name}={stored}",)))
        filters[name] = expression
        changed = True
    if not changed:
        return
    new[statserver.FILTERS_SECTION] = filters

    def save(user, server=server, new=new):
        server.options = new
        services.save_object(server, user=user, fields=["options"])
    work.writes.append(save)


def _plan(app: Application, cluster: Application, *, overwrite: bool, dry_run: bool) -> _Work:
    tenant = served_tenant(cluster)
    servers = stat_servers(cluster)
    if not dry_run:  # their options are rewritten from what is read here: no concurrent edit may slip between
        servers = [services.lock(server) or server for server in servers]
    kind = "cluster" if app.pk == cluster.pk else "node"
    work = _Work(Plan(application=app.name, kind=kind, cluster=cluster.name, tenant=tenant.name,
                      stat_servers=[s.name for s in servers], overwrite=overwrite, dry_run=dry_run))
    work.servers = servers
    _plan_conditions(work, tenant, overwrite)
    for server in servers:
        _plan_stat_server(work, server, overwrite)
    return work


# -- the service --------------------------------------------------------------------------------------------


def provision(app_name: str, *, user=None, overwrite: bool = False, dry_run: bool = False) -> Plan:
    """Plan (and, unless ``dry_run``, apply) the provisioning of pacing application ``app_name``.

    ``user``: the acting user (None: a command, unrestricted). Raises ProvisioningError when the application
    cannot be provisioned as configured, PermissionDenied when ``user`` may not write what it needs (nothing is
    written), and ValidationError should a write be refused by the object's own rules (nothing is written).
    """
    with transaction.atomic():
        app, cluster = resolve(app_name, user)
        work = _plan(app, cluster, overwrite=overwrite, dry_run=dry_run)
        if dry_run:
            return work.plan
        try:
            # Refused even when there is nothing to change (as services.set_state is): applying is a write.
            services.check_tenant_write(user, work.plan.tenant)
            for server in work.servers:
                services.check_write(user, server)
            for write in work.writes:
                write(user)
        except PermissionDenied as exc:
            raise PermissionDenied(f"{exc} Provisioning '{app_name}' needs a read-write grant; a read-only grant "
                                   "allows the dry run only. Nothing was written.") from None
        work.plan.applied = True
        return work.plan
