"""The config doctor: rules over the stored configuration that say what keeps pacing from working, and where.

Each rule is a small function registered with :func:`rule` (a code, a severity, a title, whether the seeds say it
or we do) that reads a :class:`Config` — the configuration loaded ONCE, in a bounded number of queries whatever
its size — and yields :class:`Finding` rows: severity, code, message, the object (type, natural key, name) and
the admin page that fixes it. :func:`run` loads, runs every rule and keeps the findings on objects the user may
read (configdb.access; ``user=None``, a command, sees everything). ``docs/troubleshooting.md`` lists the rules.

The Interaction Server cluster checker (provisioning/doctor_ixn.py, codes ``IXN_…``) is part of the doctor: its
rules register with the same :func:`rule`, and what they read is added to the Config by a :func:`loader` (a fixed
number of queries too), so ``run``, the command, the API and the admin page show both.

Why the rules reuse the runtime's own definitions (ours): a doctor that disagrees with the pacing service is worse
than none. What a pacing cluster is comes from ``pacing.clusters``; a queue's pacing/media and optimizationGoal
from ``configdb.pacing_options`` (the rule every write path and target discovery apply); the hybrid_integration
and pacingEndpoint shapes from ``pacing.gpe.client.config_from_options`` (what the cycle calls); the alarm
conditions from ``alarms.catalog``.

Severities (ours): **error** — pacing does not run, or runs on wrong numbers (the seed's "Abandoned statistics
always 0"); **warning** — it runs, but against the seeds' advice (no high availability, http, …); **info** — worth
a look. ``manage.py doctor`` exits non-zero when there is an error.
"""

from __future__ import annotations

import re
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from alarms import catalog
from configdb import access
from configdb.models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationType,
    ConnectionProtocol,
    DNType,
    FolderType,
    MediaType,
    OriginationDN,
    State,
    Tenant,
    Transaction,
    TransactionType,
)
from configdb.pacing_options import GOAL, MEDIA, SECTION, alias_warning, check_queue_pacing, parse_goal
from pacing.clusters import pacing_clusters
from pacing.gpe.client import ConfigError, config_from_options

from . import statserver

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)

#: the transaction the GPE client reads (seeds/pacing-provisioning.txt, "Transaction object for hybrid integrations")
HYBRID = "hybrid_integration"
#: the folder of the tenant the seed puts it in
TRANSACTIONS_FOLDER = "Transactions"
#: the vendor's template of a pacing node (a Genesys Generic Server)
NODE_TEMPLATE = "Pacing_Server"

#: the Stat Server's pacing statistics and filter (seeds/pacing-provisioning.txt, "Genesys Stat Server application")
STATISTICS = tuple(statserver.STATISTICS)
FILTERS_SECTION = statserver.FILTERS_SECTION


def missing_statistics(options: Mapping | None) -> list[str]:
    """The pacing statistics and filter absent from a Stat Server application's options.

    Where they live is provisioning/statserver.py's (the one declaration provisioning writes from): each
    statistic an options section of its own name, each filter a key of the section ``filters``."""
    options = options if isinstance(options, Mapping) else {}
    missing = [name for name in STATISTICS if not isinstance(options.get(name), Mapping) or not options.get(name)]
    filters = options.get(FILTERS_SECTION)
    missing += [f"{FILTERS_SECTION}/{name}" for name in statserver.FILTERS
                if not isinstance(filters, Mapping) or name not in filters]
    return missing


# --- findings and rules -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    message: str
    object_type: str          # the model's verbose name: "virtual queue", "application", …
    object_key: tuple         # the object's natural key
    object_name: str
    url: str | None           # the admin page that fixes it
    tenant_id: int | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "object": {"type": self.object_type, "key": [str(k) for k in self.object_key],
                           "name": self.object_name},
                "url": self.url}


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    source: str               # "vendor" (a seed says it) or "ours"
    check: Callable[[Config], Iterable[tuple]]


RULES: list[Rule] = []

#: functions that add to a :class:`Config` what the rules of another module read (each a fixed number of
#: queries), run at the end of its loading: the Interaction Server cluster checker (provisioning/doctor_ixn.py)
LOADERS: list[Callable[[Config], None]] = []


def loader(load):
    """Register a loader (see :data:`LOADERS`)."""
    LOADERS.append(load)
    return load


def rule(code: str, severity: str, title: str, source: str = "vendor"):
    """Register a check; it yields ``(object, message)`` pairs, the rule adds its code and severity."""
    assert severity in SEVERITIES and source in ("vendor", "ours")

    def register(check):
        RULES.append(Rule(code, severity, title, source, check))
        return check
    return register


def admin_url(obj) -> str | None:
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def finding(r: Rule, obj, message: str) -> Finding:
    return Finding(r.severity, r.code, message, str(obj._meta.verbose_name), tuple(obj.natural_key()), str(obj),
                   admin_url(obj), access.tenant_id_of(obj))


# --- the configuration, loaded once -------------------------------------------------------------------------------


@dataclass
class Cluster:
    app: Application
    served: list[Tenant]                    # its Tenants tab
    nodes: list[Application] = field(default_factory=list)

    @property
    def tenant_ids(self) -> set[int]:
        """The tenants it paces (clusters.py: none listed means its owning tenant)."""
        return {t.pk for t in self.served} or {self.app.tenant_id}


class Config:
    """Everything the rules read, in a constant number of queries (no query inside a rule)."""

    def __init__(self):
        self.tenants = {t.pk: t for t in Tenant.objects.all()}
        apps = list(Application.objects.select_related("tenant", "template", "backup_server")
                    .prefetch_related("ports", "connections__server", "tenants"))
        self.apps = {a.pk: a for a in apps}
        cluster_ids = {spec.id for spec in pacing_clusters()}
        self.clusters = [Cluster(a, sorted(a.tenants.all(), key=lambda t: t.name))
                         for a in apps if a.pk in cluster_ids]
        by_id = {c.app.pk: c for c in self.clusters}
        self.nodes: list[tuple[Application, Cluster | None]] = []
        for app in apps:
            if app.app_type != ApplicationType.GENESYS_GENERIC_SERVER:
                continue
            joined = [by_id[c.server_id] for c in app.connections.all() if c.server_id in by_id]
            for cluster in joined:
                cluster.nodes.append(app)
            if joined or app.template.name == NODE_TEMPLATE:
                self.nodes.append((app, joined[0] if joined else None))
        self.queues = list(DN.objects.filter(dn_type=DNType.VIRTUAL_QUEUE)
                           .select_related("switch__tenant", "tenant").order_by("switch__name", "number", "pk"))
        self.media_types: dict[int, set[str]] = defaultdict(set)
        for tenant_id, name in MediaType.objects.values_list("tenant_id", "name"):
            self.media_types[tenant_id].add(name)
        self.groups = {g.pk: g for g in AgentGroup.objects.select_related("tenant").order_by("name", "pk")}
        self.group_queues: dict[int, list[int]] = defaultdict(list)    # group id → its origination DN ids
        self.queue_groups: dict[int, list[int]] = defaultdict(list)    # DN id → the enabled groups that list it
        for group_id, dn_id in OriginationDN.objects.values_list("agent_group_id", "dn_id"):
            self.group_queues[group_id].append(dn_id)
            if self.groups[group_id].state == State.ENABLED:
                self.queue_groups[dn_id].append(group_id)
        self.transactions: dict[int, list[Transaction]] = defaultdict(list)
        for txn in Transaction.objects.filter(name=HYBRID).select_related("tenant", "folder"):
            self.transactions[txn.tenant_id].append(txn)
        self.conditions: dict[int, dict[str, AlarmCondition]] = defaultdict(dict)
        for cond in AlarmCondition.objects.filter(name__in=list(catalog.BY_CODE)).select_related("tenant", "folder"):
            self.conditions[cond.tenant_id][cond.name] = cond
        for load in LOADERS:
            load(self)

    def stat_servers(self, cluster: Cluster) -> list[Application]:
        """The Stat Servers the cluster connects to, a primary and its backup counted once (the seed's pair)."""
        servers = [c.server for c in cluster.app.connections.all() if c.server.app_type == ApplicationType.STAT_SERVER]
        kept: list[Application] = []
        for server in servers:
            if any(server.backup_server_id == k.pk or k.backup_server_id == server.pk for k in kept):
                continue
            if server not in kept:
                kept.append(server)
        return kept


def _pacing_section(queue) -> Mapping | None:
    section = (queue.options or {}).get(SECTION) if isinstance(queue.options, Mapping) else None
    return section if isinstance(section, Mapping) else None


def _paced_queues(cfg: Config) -> Iterator[tuple[DN, Mapping]]:
    for queue in cfg.queues:
        section = _pacing_section(queue)
        if section is not None and queue.state == State.ENABLED:
            yield queue, section


# --- virtual queues and agent groups ------------------------------------------------------------------------------


@rule("VQ_ALIAS", ERROR, "A pacing virtual queue whose alias differs from its number")
def vq_alias(cfg):
    for queue, _ in _paced_queues(cfg):
        warning = alias_warning(queue.number, queue.alias or "")
        if warning:
            yield queue, warning


@rule("VQ_MEDIA", ERROR, "A pacing section without a media, with a list, or naming no media type of the tenant")
def vq_media(cfg):
    for queue, section in _paced_queues(cfg):
        problems = check_queue_pacing(section.get(MEDIA), None, cfg.media_types.get(queue.tenant_id, set()),
                                      queue.tenant.name).problems
        for problem in problems:
            yield queue, f"Virtual queue '{queue.number}': {problem}. Discovery skips it."


@rule("GOAL_RANGE", ERROR, "An optimizationGoal that is not a number from 0 to 100")
def goal_range(cfg):
    for queue, section in _paced_queues(cfg):
        problem = parse_goal(section.get(GOAL))[1]
        if problem:
            yield queue, f"Virtual queue '{queue.number}': {problem}. Discovery skips it."
    for cluster in cfg.clusters:
        section = (cluster.app.options or {}).get(SECTION)
        problem = parse_goal(section.get(GOAL))[1] if isinstance(section, Mapping) else None
        if problem:
            yield cluster.app, f"Cluster '{cluster.app}': {problem}. The queues that rely on it are paced at 3."


@rule("VQ_NO_GROUP", WARNING, "A pacing virtual queue that no enabled agent group lists as an origination DN")
def vq_no_group(cfg):
    for queue, _ in _paced_queues(cfg):
        if not cfg.queue_groups.get(queue.pk):
            yield queue, (f"Virtual queue '{queue.number}' has a pacing section but no enabled agent group lists it "
                          "among its origination DNs: it is not a pacing target. Add it to a group's Origination "
                          "DNs.")


@rule("GROUP_UNPACED", WARNING, "An agent group whose virtual queues have no pacing section")
def group_unpaced(cfg):
    queues = {q.pk: q for q in cfg.queues}
    for group in cfg.groups.values():
        listed = [queues[dn] for dn in cfg.group_queues.get(group.pk, []) if dn in queues]
        if group.state == State.ENABLED and listed and not any(_pacing_section(q) is not None for q in listed):
            names = ", ".join(sorted(f"'{q.number}'" for q in listed)[:10])
            yield group, (f"Agent group '{group}' lists virtual queues ({names}) none of which has a pacing "
                          "section: the group is part of no pacing target. Add pacing/media to the queue.")


# --- the cluster and its nodes ------------------------------------------------------------------------------------


@rule("CLUSTER_NO_STAT_SERVER", ERROR, "A pacing cluster without a Stat Server connection")
def cluster_no_stat_server(cfg):
    for cluster in cfg.clusters:
        if not cfg.stat_servers(cluster):
            yield cluster.app, (f"Cluster '{cluster.app}' has no connection to a Stat Server: the pacing service has "
                                "no statistics. Add one on its Connections tab.")


@rule("CLUSTER_STAT_SERVERS", ERROR, "A pacing cluster connected to more than one Stat Server (HA pair)")
def cluster_stat_servers(cfg):
    for cluster in cfg.clusters:
        servers = cfg.stat_servers(cluster)
        if len(servers) > 1:
            names = ", ".join(sorted(f"'{s}'" for s in servers))
            yield cluster.app, (f"Cluster '{cluster.app}' connects to {len(servers)} Stat Servers ({names}); the "
                                "service connects to only one Stat Server (a primary and its backup). Keep one, or "
                                "make the other its backup.")


@rule("CLUSTER_NO_MESSAGE_SERVER", INFO, "A pacing cluster without a Message Server connection")
def cluster_no_message_server(cfg):
    for cluster in cfg.clusters:
        if not any(c.server.app_type == ApplicationType.MESSAGE_SERVER for c in cluster.app.connections.all()):
            yield cluster.app, (f"Cluster '{cluster.app}' has no connection to a Message Server (optional): its "
                                "alarms and network log reach no Message Server.")


@rule("QUEUE_DISABLED", INFO, "A disabled virtual queue with a pacing section", "ours")
def queue_disabled(cfg):
    for queue in cfg.queues:
        if queue.state != State.ENABLED and _pacing_section(queue) is not None:
            yield queue, f"Virtual queue '{queue.number}' has a pacing section but is disabled: it is not paced."


@rule("CLUSTER_NO_NODE", ERROR, "A pacing cluster without a node")
def cluster_no_node(cfg):
    for cluster in cfg.clusters:
        if not cluster.nodes:
            yield cluster.app, (f"Cluster '{cluster.app}' has no node (a Genesys Generic Server connected to it): "
                                "nothing runs its pacing. Create a node and connect it to the cluster.")


@rule("CLUSTER_SINGLE_NODE", WARNING, "A pacing cluster with a single node (no high availability)")
def cluster_single_node(cfg):
    for cluster in cfg.clusters:
        if len(cluster.nodes) == 1:
            yield cluster.app, (f"Cluster '{cluster.app}' has one node ('{cluster.nodes[0]}'): fine in a lab, but "
                                "high availability needs two nodes (N+1).")


@rule("NODE_CONNECTIONS", WARNING, "A node with a connection other than its cluster")
def node_connections(cfg):
    cluster_ids = {c.app.pk for c in cfg.clusters}
    for node, cluster in cfg.nodes:
        others = sorted(str(c.server) for c in node.connections.all() if c.server_id not in cluster_ids)
        if cluster is not None and others:
            yield node, (f"Node '{node}' connects to {', '.join(others)} besides its cluster: a node's only "
                         "connection is to its cluster; connections to other servers belong to the cluster.")


@rule("NODE_ORPHAN", WARNING, "A node (from the Pacing_Server template) connected to no pacing cluster", "ours")
def node_orphan(cfg):
    for node, cluster in cfg.nodes:
        if cluster is None:
            yield node, (f"Node '{node}' is connected to no pacing cluster: add the cluster on its Connections tab.")


@rule("NODE_TENANT", WARNING, "A node whose tenant differs from its cluster's")
def node_tenant(cfg):
    for cluster in cfg.clusters:
        want = cluster.tenant_ids
        for node in cluster.nodes:
            have = {t.pk for t in node.tenants.all()} or {node.tenant_id}
            if have != want:
                yield node, (f"Node '{node}' serves tenant(s) {_names(cfg, have)}, its cluster '{cluster.app}' "
                             f"{_names(cfg, want)}: select the same tenant as the cluster's on the Tenants tab.")


@rule("NODE_PORTS", WARNING, "Nodes of a cluster listening on different ports")
def node_ports(cfg):
    for cluster in cfg.clusters:
        layouts = {node.name: {p.port_id: p.port for p in node.ports.all()} for node in cluster.nodes}
        if len({tuple(sorted(v.items())) for v in layouts.values()}) > 1:
            shown = "; ".join(f"{name}: " + ", ".join(f"{k}={v}" for k, v in sorted(ports.items()))
                              for name, ports in sorted(layouts.items()))
            yield cluster.app, (f"The nodes of cluster '{cluster.app}' listen on different ports ({shown}): all "
                                "instances of Pacing Server should listen on the same ports.")


@rule("PORT_HTTP", WARNING, "A cluster or node port on http where https is recommended")
def port_http(cfg):
    apps = [c.app for c in cfg.clusters] + [node for node, _ in cfg.nodes]
    for app in apps:
        for port in app.ports.all():
            if port.port_id == "default" and port.connection_protocol != ConnectionProtocol.HTTPS:
                said = port.connection_protocol or "no protocol"
                yield app, (f"'{app}' port {port.port_id} ({port.port}) uses {said}: Genesys recommends https "
                            "(and a Secured listening mode).")


@rule("CLUSTER_ENDPOINT", ERROR, "An empty or malformed pacingEndpoint/targetEndpoint (or forward-proxy)")
def cluster_endpoint(cfg):
    good_annex = {"general": {"base_auth_url": "https://h/oauth/token", "base_service_url": "https://h/api/"},
                  "ewt": {"client_id": "x", "password": "x"}}
    for cluster in cfg.clusters:
        try:
            config_from_options(good_annex, cluster.app.options or {}, refresh_period_s=1e9, cluster=cluster.app.name)
        except ConfigError as exc:
            yield cluster.app, f"{exc}. The pacing service posts nothing."


@rule("CLUSTER_NO_TENANT", WARNING, "A pacing cluster whose Tenants tab is empty", "ours")
def cluster_no_tenant(cfg):
    for cluster in cfg.clusters:
        if not cluster.served:
            yield cluster.app, (f"Cluster '{cluster.app}' lists no tenant: it paces its owning tenant "
                                f"'{cluster.app.tenant}'. Add that tenant on its Tenants tab.")


@rule("CLUSTER_MULTI_TENANT", ERROR, "A pacing cluster serving more than one tenant")
def cluster_multi_tenant(cfg):
    for cluster in cfg.clusters:
        if len(cluster.served) > 1:
            yield cluster.app, (f"Cluster '{cluster.app}' serves {len(cluster.served)} tenants "
                                f"({', '.join(t.name for t in cluster.served)}): the pacing service is a "
                                "single-tenant application; configure one cluster per tenant.")


# --- hybrid_integration, alarms, Stat Server ----------------------------------------------------------------------


def _hybrid(cfg: Config, cluster: Cluster) -> Transaction | None:
    """The transaction the cycle would read: of the cluster's owning tenant first, else of a tenant it serves."""
    for tenant_id in [cluster.app.tenant_id, *sorted(t.pk for t in cluster.served)]:
        if cfg.transactions.get(tenant_id):
            return cfg.transactions[tenant_id][0]
    return None


@rule("HYBRID_MISSING", ERROR, "No hybrid_integration transaction in the cluster's tenant")
def hybrid_missing(cfg):
    for cluster in cfg.clusters:
        if _hybrid(cfg, cluster) is None:
            yield cluster.app, (f"No '{HYBRID}' transaction in tenant {_names(cfg, cluster.tenant_ids)}: the "
                                "pacing service cannot reach Genesys Predictive Engagement. Create it (type List, "
                                "in the Transactions folder) with general/base_auth_url, general/base_service_url, "
                                "ewt/client_id and ewt/password.")


@rule("HYBRID_INCOMPLETE", ERROR, "A hybrid_integration missing a section or key, or with a bad URL")
def hybrid_incomplete(cfg):
    good_cluster = {"pacingEndpoint": {"targetEndpoint": "v1/pacing"}}
    for txn in _hybrids_in_use(cfg):
        if txn.state != State.ENABLED:
            yield txn, f"Transaction '{HYBRID}' of tenant '{txn.tenant}' is disabled: the pacing service posts nothing."
            continue
        try:  # secrets are checked for presence only: a stand-in, never the stored (encrypted) value
            config_from_options(_masked(txn.annex), good_cluster, refresh_period_s=1e9)
        except ConfigError as exc:
            yield txn, f"{_redacted(str(exc))} (tenant '{txn.tenant}')."


@rule("HYBRID_URL_SHAPE", WARNING, "hybrid_integration URLs not of the shape the seed expects")
def hybrid_url_shape(cfg):
    expected = {"base_auth_url": "/oauth/token", "base_service_url": "/api/"}
    for txn in _hybrids_in_use(cfg):
        general = (txn.annex or {}).get("general")
        if not isinstance(general, Mapping):
            continue
        for key, tail in expected.items():
            value = str(general.get(key) or "").strip()
            if not value:
                continue
            parts = urllib.parse.urlsplit(value)
            problems = ([] if parts.scheme == "https" else ["is not https"]) + \
                ([] if parts.path.rstrip("/") == tail.rstrip("/") else [f"does not end in {tail}"])
            if problems:
                yield txn, (f"Transaction '{HYBRID}' general/{key} {_redacted(value)!r} {' and '.join(problems)}: "
                            f"the seed expects https://[region_host]{tail}.")


@rule("HYBRID_PLACEMENT", WARNING, "hybrid_integration not of type List, without its alias, or outside Transactions")
def hybrid_placement(cfg):
    for txn in _hybrids_in_use(cfg):
        problems = []
        if txn.transaction_type != TransactionType.LIST:
            problems.append(f"its type is {txn.get_transaction_type_display()}, not List")
        if txn.alias != HYBRID:
            problems.append(f"its alias is {txn.alias!r}, not '{HYBRID}'" if txn.alias else "it has no alias")
        folder = txn.folder
        if folder is None or folder.name != TRANSACTIONS_FOLDER or folder.folder_type != FolderType.TRANSACTIONS:
            problems.append(f"it is not in the tenant's '{TRANSACTIONS_FOLDER}' folder")
        if problems:
            yield txn, f"Transaction '{HYBRID}' of tenant '{txn.tenant}': {'; '.join(problems)}."


@rule("ALARMS_MISSING", WARNING, "Missing or altered pacing alarm conditions")
def alarms_missing(cfg):
    for tenant_id in sorted({c.app.tenant_id for c in cfg.clusters}):
        tenant = cfg.tenants[tenant_id]
        have = cfg.conditions.get(tenant_id, {})
        missing = [c.code for c in catalog.CONDITIONS if c.code not in have]
        if missing:
            yield tenant, (f"Tenant '{tenant}' lacks the alarm condition(s) {', '.join(missing)}: the pacing service "
                           "cannot raise them. Run provisioning (it creates them in the PacingService folder).")
        for code, cond in sorted(have.items()):
            want = catalog.BY_CODE[code]
            if (cond.detect_event_id, cond.cancel_event_id) != (want.detect_event_id, want.cancel_event_id):
                yield cond, (f"Alarm condition '{code}' detects event {cond.detect_event_id} and cancels "
                             f"{cond.cancel_event_id}; the pacing service logs {want.detect_event_id} and "
                             f"{want.cancel_event_id}.")


@rule("STAT_SERVER_STATISTICS", ERROR, "The cluster's Stat Server lacks the pacing statistics or filter")
def stat_server_statistics(cfg):
    seen: set[int] = set()
    for cluster in cfg.clusters:
        for server in cfg.stat_servers(cluster):
            missing = missing_statistics(server.options)
            if missing and server.pk not in seen:
                seen.add(server.pk)
                yield server, (f"Stat Server '{server}' (of cluster '{cluster.app}') lacks {', '.join(missing)}: "
                               "the pacing service gets no queue statistics. Run provisioning.")


def _hybrids_in_use(cfg: Config) -> list[Transaction]:
    found: dict[int, Transaction] = {}
    for cluster in cfg.clusters:
        txn = _hybrid(cfg, cluster)
        if txn is not None:
            found[txn.pk] = txn
    return [found[k] for k in sorted(found)]


#: what replaces a stored secret before the shape check (never the secret, never decrypted)
_STAND_IN = "stand-in"


def _masked(annex) -> dict:
    """The annex with ewt/password replaced by a stand-in when present (it is stored encrypted)."""
    copy = {s: dict(k) if isinstance(k, Mapping) else k for s, k in (annex or {}).items()}
    ewt = copy.get("ewt")
    if isinstance(ewt, dict) and ewt.get("password") not in (None, ""):
        ewt["password"] = _STAND_IN
    return copy


_USERINFO = re.compile(r"//[^/@\s]*@")


def _redacted(text: str) -> str:
    """``text`` with any ``user:password@`` of a URL hidden: a finding is shown to read-only users."""
    return _USERINFO.sub("//***@", text)


def _names(cfg: Config, tenant_ids: Iterable[int]) -> str:
    return ", ".join(sorted(f"'{cfg.tenants[t].name}'" for t in tenant_ids if t in cfg.tenants))


# --- running ------------------------------------------------------------------------------------------------------

_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def run(user=None, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Every finding, on objects ``user`` may read (None: all), errors first, then by code and object."""
    cfg = Config()
    visible = access.visible_tenant_ids(user) if user is not None else None
    findings = []
    for r in rules if rules is not None else RULES:
        for obj, message in r.check(cfg):
            f = finding(r, obj, message)
            if visible is None or f.tenant_id in visible:
                findings.append(f)
    findings.sort(key=lambda f: (_ORDER[f.severity], f.code, f.object_type, [str(k) for k in f.object_key]))
    return findings


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


# the Interaction Server cluster checker registers its loader and rules here (it imports this module's names)
from . import doctor_ixn  # noqa: E402, F401, I001
