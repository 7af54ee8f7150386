"""The config doctor's Interaction Server cluster checker: the rules of seeds/interaction-server-deployment.txt
("Interaction Server Cluster", "Database Connection", "Migrating to ODBC from DB Server") over the stored
configuration, as findings of the config doctor (provisioning/doctor.py runs them with its own rules).

How the configuration is read (the vendor's steps 5 a–f and 6–10; the vocabulary is configdb/interaction_server.py
and configdb/odbc.py, shared with the model, the wizard and the admin):

- an *Interaction Server cluster* is an Application Cluster whose ``[cluster-settings] cluster-type`` is
  ``Interaction Server``; its connections go to every **primary** Interaction Server; a *node* is such a primary
  and its ``backup_server`` (a primary/backup pair);
- an *Interaction Server Proxy cluster* has ``cluster-type`` ``Interaction Server Proxy`` and connections to every
  primary proxy; a *proxy* is an application a proxy cluster lists, one whose ``component_type`` is
  :data:`~configdb.interaction_server.PROXY_COMPONENT` (ours), or the backup of either. A proxy reaches servers
  through its connection to the Interaction Server cluster, or by direct connections (5 f);
- a *client* of a proxy connects to it (a dedicated proxy, step 7) or to a proxy cluster listing it (step 6);
- a server's databases are the Database Access Points it connects to; one with a ``[logger-settings]`` section is
  an Event Logger DAP, the others main database DAPs.

Ours (the vendor is silent), each said again where it is used: the option section of the server and proxy options
the seed names without one is ``[settings]`` (the seed's own section for ``pull-hold-timeout``); a version that
cannot be read counts as a current release (as configdb.odbc does), and is reported once, as info; the ESP server
types, the monitoring types, what "a queue of email" is, the pull-hold-timeout threshold; the severities: an
**error** is a configuration the cluster refuses or cannot serve (a release that cannot run it, an unsupported
database, a node nobody routes), a **warning** goes against the seed's advice, an **info** states a choice and
its limitations.

Every message that a misconfiguration turns into a proxy error names the code (configdb.interaction_server
PROXY_ERRORS), e.g. "clients would get error 2001 (There are no servers accepting this media/tenant)".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from configdb import interaction_server as ixn
from configdb import odbc
from configdb.models import Application, ApplicationType, DatabaseAccessPoint, DBMSType, MediaType, State

from .doctor import ERROR, INFO, WARNING, Config, loader, rule

#: ours: the section of the server and proxy options the seed names without a section (its own for pull-hold-timeout)
SETTINGS = "settings"
#: the seed's "Configuration Recommendations" for Interaction Server nodes (value the seed recommends)
LOGIN_SESSION_TIMEOUT = ("login-session-timeout", "1440")
RECOMMENDED_FALSE = ("not-ready-on-invitation-timeout", "allow-multiple-agent-connections")
AGENT_LOGIN_CONTROL = "agent-login-control"
MAX_PER_SNAPSHOT = "max-interactions-per-snapshot"
PULL_HOLD_TIMEOUT = "pull-hold-timeout"
#: ours: the proxy's pull-hold-timeout above which we warn, in seconds ("a relatively low value", the seed says)
PULL_HOLD_LIMIT_S = 5
#: ours: the application types an Interaction Server reaches as External Service Protocol (ESP) servers
ESP_TYPES = frozenset({ApplicationType.CHAT_SERVER, ApplicationType.EMAIL_SERVER,
                       ApplicationType.GENESYS_GENERIC_SERVER, ApplicationType.THIRD_PARTY_SERVER})
#: the seed's reporting clients (Stat Servers and ICON)
REPORTING_TYPES = frozenset({ApplicationType.STAT_SERVER, ApplicationType.INTERACTION_CONCENTRATOR})
#: the seed's media servers ("including chat and e-mail"), connected to a primary/backup pair of proxies
MEDIA_SERVER_TYPES = frozenset({ApplicationType.CHAT_SERVER, ApplicationType.EMAIL_SERVER})
#: ours: the components that monitor servers with Ping requests (Solution Control Server)
MONITOR_TYPES = frozenset({ApplicationType.SOLUTION_CONTROL_SERVER})
#: ours: the media type names that make "a queue of email" (long-lived interactions: the seed's FIFO issue)
EMAIL_MEDIA = frozenset({"email", "e-mail"})
#: ours: media types an Interaction Server never handles (telephony goes through T-Server / SIP Server)
NOT_MULTIMEDIA = frozenset({"voice"})
#: Boolean option values read as false (ours: the spellings Genesys options accept)
FALSE = frozenset({"false", "no", "0", "off"})


def error_text(code: int) -> str:
    """``error 2001 (There are no servers accepting this media/tenant)``: a proxy error as a message says it."""
    return f"error {code} ({ixn.PROXY_ERRORS_BY_CODE[code].description})"


# --- the configuration, loaded once (with the doctor's Config) ----------------------------------------------------


@dataclass
class Node:
    """A primary Interaction Server and its backup (the seed's primary/backup pair)."""

    primary: Application
    backup: Application | None

    @property
    def servers(self) -> list[Application]:
        return [self.primary] + ([self.backup] if self.backup is not None else [])


@dataclass
class ServerCluster:
    app: Application
    nodes: list[Node] = field(default_factory=list)
    listed_backups: list[Application] = field(default_factory=list)    # backups it connects to (5 c: primaries)

    @property
    def servers(self) -> list[Application]:
        return [s for n in self.nodes for s in n.servers]


class IxnConfig:
    """What the cluster rules read, derived from the doctor's applications plus two queries (the DAPs' DB Info and
    the media types with their state)."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        apps = cfg.apps
        self.daps = {d.pk: d for d in DatabaseAccessPoint.objects.select_related("tenant")}
        self.media: dict[int, dict[str, str]] = defaultdict(dict)     # tenant id → media name → state
        for tenant_id, name, state in MediaType.objects.values_list("tenant_id", "name", "state"):
            self.media[tenant_id][name] = state
        self.primary_of: dict[int, Application] = {a.backup_server_id: a for a in apps.values() if a.backup_server_id}
        self.incoming: dict[int, list[Application]] = defaultdict(list)  # app id → the apps connecting to it
        for app in apps.values():
            for conn in app.connections.all():
                self.incoming[conn.server_id].append(app)

        clusters = [a for a in apps.values() if a.app_type == ApplicationType.APPLICATION_CLUSTER]
        self.server_clusters = [ServerCluster(a) for a in clusters if ixn.cluster_type(a.options) == ixn.SERVER_CLUSTER]
        self.proxy_clusters = [a for a in clusters if ixn.cluster_type(a.options) == ixn.PROXY_CLUSTER]
        for cluster in self.server_clusters:
            members = [apps[c.server_id] for c in cluster.app.connections.all()]
            for member in members:
                primary = self.primary_of.get(member.pk)
                if primary is not None:     # a backup listed: its primary makes the node, listed or not
                    cluster.listed_backups.append(member)
                    if primary not in members:
                        cluster.nodes.append(Node(primary, member))
                else:
                    backup = apps.get(member.backup_server_id) if member.backup_server_id else None
                    cluster.nodes.append(Node(member, backup))
        self.cluster_of: dict[int, ServerCluster] = {s.pk: c for c in self.server_clusters for s in c.servers}

        proxies: dict[int, Application] = {}
        for pc in self.proxy_clusters:
            for conn in pc.connections.all():
                proxies[conn.server_id] = apps[conn.server_id]
        for app in apps.values():
            if app.component_type == ixn.PROXY_COMPONENT:
                proxies[app.pk] = app
        for proxy in list(proxies.values()):
            if proxy.backup_server_id and proxy.backup_server_id in apps:
                proxies[proxy.backup_server_id] = apps[proxy.backup_server_id]
        self.proxies = sorted((p for p in proxies.values() if p.pk not in self.cluster_of), key=lambda a: a.name)
        self.proxy_ids = {p.pk for p in self.proxies}
        self.proxy_cluster_ids = {pc.pk for pc in self.proxy_clusters}
        # every Interaction Server that is not a proxy: a cluster's, or a single one (the database rules apply)
        self.servers = sorted({**{s.pk: s for c in self.server_clusters for s in c.servers},
                               **{a.pk: a for a in apps.values() if a.app_type == ApplicationType.INTERACTION_SERVER
                                  and a.pk not in self.proxy_ids}}.values(), key=lambda a: a.name)

    # -- small readings ------------------------------------------------------------------------------------------

    def identity(self, app: Application) -> Application:
        """A backup stands for its primary (a connection to either reaches the pair)."""
        return self.primary_of.get(app.pk, app)

    def pair_key(self, app: Application) -> int:
        return self.identity(app).pk

    def targets(self, app: Application) -> list[Application]:
        return [self.cfg.apps[c.server_id] for c in app.connections.all()]

    def tenants(self, app: Application) -> set[int]:
        """The tenants an application serves: its Tenants tab, or its owning tenant when it lists none."""
        return {t.pk for t in app.tenants.all()} or {app.tenant_id}

    def tenant_media(self, tenant_id: int) -> set[str]:
        """The enabled media types of a tenant an Interaction Server may handle."""
        return {name for name, state in self.media.get(tenant_id, {}).items()
                if state == State.ENABLED and name.lower() not in NOT_MULTIMEDIA}

    def served_media(self, server: Application, tenant_id: int) -> set[str]:
        """What a server accepts for a tenant: its media-types (absent: every media type of the tenant, 5 a).
        Ours: an unreadable list accepts nothing (IXN_MEDIA_NAMES says why)."""
        try:
            listed = ixn.media_types(server.options)
        except ValueError:
            return set()
        return self.tenant_media(tenant_id) if listed is None else set(listed)

    def reach(self, proxy: Application) -> list[ServerCluster]:
        """The server clusters a proxy reaches: through the Interaction Server cluster, or direct connections."""
        found: dict[int, ServerCluster] = {}
        for target in self.targets(proxy):
            for cluster in self.server_clusters:
                if target == cluster.app or target in cluster.servers:
                    found[cluster.app.pk] = cluster
        return list(found.values())

    def proxies_behind(self, target: Application) -> list[Application]:
        """The proxies a client reaches by connecting to ``target``: the proxy itself, or a proxy cluster's."""
        if target.pk in self.proxy_ids:
            return [target]
        if target.pk in self.proxy_cluster_ids:
            return [self.cfg.apps[c.server_id] for c in target.connections.all() if c.server_id in self.proxy_ids]
        return []

    def clients(self) -> Iterator[tuple[Application, Application, list[Application]]]:
        """(client, what it connects to — a proxy or a proxy cluster —, the proxies behind it), in name order."""
        for app in sorted(self.cfg.apps.values(), key=lambda a: a.name):
            if app.pk in self.proxy_ids or app.pk in self.proxy_cluster_ids:
                continue
            for target in self.targets(app):
                behind = self.proxies_behind(target)
                if behind:
                    yield app, target, behind

    def direct_clients(self, proxy: Application) -> list[Application]:
        """Applications connected to the proxy itself (not through a proxy cluster), its own pair left out."""
        pair = {proxy.pk, proxy.backup_server_id, self.pair_key(proxy)}
        return [a for a in self.incoming.get(proxy.pk, [])
                if a.pk not in pair and a.pk not in self.proxy_cluster_ids]

    def clusters_reached_by(self, app: Application) -> list[ServerCluster]:
        """The server clusters an application reaches: through a proxy or a proxy cluster, through the Interaction
        Server cluster object, or by a direct connection to one of its servers."""
        found: dict[int, ServerCluster] = {}
        for target in self.targets(app):
            for proxy in self.proxies_behind(target):
                for cluster in self.reach(proxy):
                    found[cluster.app.pk] = cluster
            for cluster in self.server_clusters:
                if target == cluster.app or target in cluster.servers:
                    found[cluster.app.pk] = cluster
        return list(found.values())

    def databases(self, server: Application) -> tuple[list[DatabaseAccessPoint], list[DatabaseAccessPoint]]:
        """(main database DAPs, Event Logger DAPs) a server connects to."""
        daps = [self.daps[c.server_id] for c in server.connections.all() if c.server_id in self.daps]
        return ([d for d in daps if not is_logger(d)], [d for d in daps if is_logger(d)])


def is_logger(dap) -> bool:
    """An Event Logger DAP: one with a [logger-settings] section (the seed's "Configure the DAP")."""
    return isinstance((dap.options or {}).get(odbc.LOGGER_SECTION), dict)


def option(app: Application, key: str, section: str = SETTINGS) -> str | None:
    values = (app.options or {}).get(section)
    value = values.get(key) if isinstance(values, dict) else None
    return value.strip() if isinstance(value, str) else None


def release_at_least(version: str, minimum) -> bool | None:
    """Whether ``version`` is ``minimum`` or later (configdb.interaction_server.at_least: builds count by
    hundreds, so 8.5.106 is older than the seed's 8.5.2); None when it cannot be read."""
    return ixn.at_least(version, minimum)


def at_least(app: Application, minimum) -> bool:
    """Ours: a version that cannot be read counts as a current release (IXN_VERSION_UNKNOWN says so)."""
    return release_at_least(app.version, minimum) is not False


def release(minimum) -> str:
    """A release as the seed writes it: (8, 5, 300) → "8.5.3", (8, 5, 106) → "8.5.106"."""
    parts = list(minimum)
    if len(parts) >= 3 and parts[2] >= 100 and parts[2] % 100 == 0:
        parts[2] //= 100
    return ".".join(str(p) for p in parts)


def _names(apps: Iterable[Application]) -> str:
    return ", ".join(f"'{a}'" for a in sorted(apps, key=lambda a: a.name))


@loader
def load(cfg: Config) -> None:
    cfg.ixn = IxnConfig(cfg)


# --- the clusters and their nodes ---------------------------------------------------------------------------------


@rule("IXN_MEMBER_TYPE", ERROR, "A proxy connects only to applications of type Interaction Server")
def member_type(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        for server in cluster.servers:
            if server.app_type != ApplicationType.INTERACTION_SERVER:
                yield server, (f"'{server}' is a member of Interaction Server cluster '{cluster.app}' but of type "
                               f"{server.get_app_type_display()}: Interaction Server Proxy connects only to "
                               "Interaction Servers configured with the Interaction Server application type; "
                               "its proxies never reach it.")
    for proxy in x.proxies:
        if proxy.app_type != ApplicationType.INTERACTION_SERVER:
            yield proxy, (f"Proxy '{proxy}' is of type {proxy.get_app_type_display()}: create Interaction Server "
                          "Proxy applications using the Interaction Server application type (step 3).")


@rule("IXN_CLUSTER_EMPTY", ERROR, "An Interaction Server or Proxy cluster with no connection to a member")
def cluster_empty(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        if not cluster.nodes:
            yield cluster.app, (f"Interaction Server cluster '{cluster.app}' has no connection to an Interaction "
                                "Server: add connections to all primary Interaction Servers (step 5 c); its "
                                f"proxies' clients would get {error_text(2001)}.")
    for pc in x.proxy_clusters:
        if not any(c.server_id in x.proxy_ids for c in pc.connections.all()):
            yield pc, (f"Interaction Server Proxy cluster '{pc}' has no connection to a proxy: add connections to "
                       "all primary Interaction Server Proxy applications (step 5 e).")


@rule("IXN_NODE_PAIR", WARNING, "Every node is a primary/backup pair")
def node_pair(cfg):
    for cluster in cfg.ixn.server_clusters:
        for node in cluster.nodes:
            if node.backup is None:
                yield node.primary, (f"Interaction Server '{node.primary}' (cluster '{cluster.app}') has no backup "
                                     "server: nodes are irreplaceable, deploy each node as a primary/backup pair. "
                                     f"While it is down clients get {error_text(2002)} and {error_text(2003)}.")
        for backup in cluster.listed_backups:
            yield cluster.app, (f"Interaction Server cluster '{cluster.app}' connects to '{backup}', the backup of "
                                f"'{cfg.ixn.primary_of[backup.pk]}': add connections to the primary Interaction "
                                "Servers only (step 5 c).")


@rule("IXN_PROXY_SERVERS", ERROR, "A proxy that does not reach every Interaction Server of its cluster (step 5 f)")
def proxy_servers(cfg):
    x = cfg.ixn
    for proxy in x.proxies:
        if proxy.pk in x.primary_of:
            continue    # a backup proxy follows its primary's connections
        clusters = x.reach(proxy)
        if not clusters:
            yield proxy, (f"Proxy '{proxy}' connects to no Interaction Server cluster and no Interaction Server: add "
                          "a connection to the Interaction Server cluster (step 5 f); its clients would get "
                          f"{error_text(2001)}.")
            continue
        targets = x.targets(proxy)
        for cluster in clusters:
            if cluster.app in targets:
                continue
            missing = [n.primary for n in cluster.nodes if not any(s in targets for s in n.servers)]
            if missing:
                yield proxy, (f"Proxy '{proxy}' connects directly to some servers of cluster '{cluster.app}' but not "
                              f"to {_names(missing)}: all proxies connect to all Interaction Servers of the cluster "
                              "simultaneously (connect it to the cluster); requests for interactions of those nodes "
                              f"get {error_text(2003)}.")


def _not_connected_directly(cfg, app_type):
    """(application, cluster, primaries) for each application of ``app_type`` that reaches an Interaction Server
    cluster but is not connected directly to those primaries (a pair counts once: its primary or its backup)."""
    x = cfg.ixn
    for app in sorted(cfg.apps.values(), key=lambda a: a.name):
        if app.app_type != app_type:
            continue
        targets = {x.pair_key(t) for t in x.targets(app)}
        for cluster in x.clusters_reached_by(app):
            missing = [n.primary for n in cluster.nodes if n.primary.pk not in targets]
            if missing:
                yield app, cluster, missing


@rule("IXN_URS_DIRECT", ERROR, "URS connects directly to every primary Interaction Server of the cluster (step 8)")
def urs_direct(cfg):
    for app, cluster, missing in _not_connected_directly(cfg, ApplicationType.UNIVERSAL_ROUTING_SERVER):
        yield app, (f"URS '{app}' does not connect directly to {_names(missing)} of Interaction Server "
                    f"cluster '{cluster.app}': URS should be connected directly to all primary Interaction "
                    "Servers in the cluster (it only routes interactions of the servers it is connected to; "
                    "a connection to a proxy or to the cluster object does not do).")


@rule("IXN_MEDIA_UNSERVED", WARNING, "A media type of the tenant that no node serves (error 2001)")
def media_unserved(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        primaries = [n.primary for n in cluster.nodes]
        for tenant_id in sorted({t for p in primaries for t in x.tenants(p)}):
            served = set().union(*(x.served_media(p, tenant_id) for p in primaries if tenant_id in x.tenants(p)))
            missing = sorted(x.tenant_media(tenant_id) - served)
            if missing:
                tenant = cfg.tenants[tenant_id]
                yield cluster.app, (f"No node of Interaction Server cluster '{cluster.app}' serves media type(s) "
                                    f"{', '.join(missing)} of tenant '{tenant}': clients submitting them would get "
                                    f"{error_text(2001)}. Add them to a server's [cluster-settings] media-types "
                                    "(absent means every media type of the tenant).")


@rule("IXN_MEDIA_NAMES", WARNING, "A media-types list that is malformed or names no enabled media type of the tenant")
def media_names(cfg):
    x = cfg.ixn
    for server in x.servers:
        try:
            listed = ixn.media_types(server.options)
        except ValueError as exc:
            yield server, (f"Interaction Server '{server}': [cluster-settings] media-types {exc}; the proxies read it "
                           f"to route requests, so clients may get {error_text(2001)}.")
            continue
        if listed is None:
            continue
        tenants = x.tenants(server)
        known = {name: state for t in tenants for name, state in x.media.get(t, {}).items()}
        unknown = [m for m in listed if m not in known]
        disabled = [m for m in listed if known.get(m, State.ENABLED) != State.ENABLED]
        if unknown:
            yield server, (f"Interaction Server '{server}': media-types names {', '.join(unknown)}, no media type of "
                           f"its tenant(s) {', '.join(cfg.tenants[t].name for t in sorted(tenants))} (names are "
                           "compared as the tenant keeps them).")
        if disabled:
            yield server, (f"Interaction Server '{server}': media-types names the disabled media type(s) "
                           f"{', '.join(disabled)}: Interaction Server Proxy does not allow submissions of such "
                           f"interactions: clients get {error_text(2001)}.")


@rule("IXN_RECOMMENDED", WARNING, "Configuration recommendations: login-session-timeout 1440, "
      "not-ready-on-invitation-timeout false, allow-multiple-agent-connections false")
def recommended(cfg):
    for cluster in cfg.ixn.server_clusters:
        for server in cluster.servers:
            wrong = []
            key, want = LOGIN_SESSION_TIMEOUT
            value = option(server, key)
            if value is not None and value != want and at_least(server, ixn.SNAPSHOT_VERSION):
                wrong.append(f"{key} is {value!r} (recommended: {want}, the default)")
            for key in RECOMMENDED_FALSE:
                value = option(server, key)
                if value is None or value.lower() not in FALSE:
                    said = "is not set" if value is None else f"is {value!r}"
                    wrong.append(f"{key} {said} (recommended: false)")
            why = (" allow-multiple-agent-connections=false avoids the significant increase in the flow of "
                   "notification events agent desktops may experience in a cluster."
                   if any(w.startswith("allow-multiple") for w in wrong) else "")
            if wrong:
                yield server, (f"Interaction Server '{server}' (cluster '{cluster.app}'): [{SETTINGS}] "
                               f"{'; '.join(wrong)}.{why}")


@rule("IXN_LOGIN_CONTROL", WARNING, "agent-login-control set to the same value on all Interaction Servers")
def login_control(cfg):
    for cluster in cfg.ixn.server_clusters:
        values = {s.name: option(s, AGENT_LOGIN_CONTROL) for s in cluster.servers}
        if len(set(values.values())) > 1:
            shown = ", ".join(f"{n}: {v if v is not None else '(not set)'}" for n, v in sorted(values.items()))
            yield cluster.app, (f"The servers of Interaction Server cluster '{cluster.app}' have different "
                                f"[{SETTINGS}] {AGENT_LOGIN_CONTROL} ({shown}): set it to the same value on all "
                                "Interaction Servers in all nodes.")


@rule("IXN_ESP_SYMMETRY", WARNING, "ESP configuration must be symmetrical across servers of the same tenant and media")
def esp_symmetry(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        esp = {n.primary.pk: {x.identity(t) for s in n.servers for t in x.targets(s) if t.app_type in ESP_TYPES}
               for n in cluster.nodes}
        for node in cluster.nodes:
            a = node.primary
            missing: set = set()
            peers = []
            for other in cluster.nodes:
                b = other.primary
                if b == a:
                    continue
                shared = any(x.served_media(a, t) & x.served_media(b, t) for t in x.tenants(a) & x.tenants(b))
                if shared and esp[b.pk] - esp[a.pk]:
                    missing |= esp[b.pk] - esp[a.pk]
                    peers.append(b)
            if missing:
                yield a, (f"Interaction Server '{a}' serves the same tenant and media as {_names(peers)} but has no "
                          f"connection to the ESP server(s) {_names(missing)}: all servers serving the same tenant "
                          "and media type should connect to the same ESP servers, or an ESP request one server can "
                          "execute fails on the other.")


# --- databases ----------------------------------------------------------------------------------------------------


@rule("IXN_DB_ENGINES", WARNING, "Main and Event Logger databases of one database engine type")
def db_engines(cfg):
    x = cfg.ixn
    for server in x.servers:
        main, logger = x.databases(server)
        types = {d.dbms_type for d in main + logger}
        if main and logger and len(types) > 1:
            shown = ", ".join(f"'{d}' ({d.get_dbms_type_display()})" for d in main + logger)
            yield server, (f"Interaction Server '{server}' uses different database engine types ({shown}): Genesys "
                           "recommends that you do not use different database engine types simultaneously.")


@rule("IXN_DB2", ERROR, "DB2 is not supported from Interaction Server 8.5.2")
def db2(cfg):
    x = cfg.ixn
    users = _dap_users(x, lambda server: at_least(server, odbc.NO_DB2_VERSION))
    for dap, servers in users:
        if dap.dbms_type == DBMSType.DB2:
            yield dap, (f"Database access point '{dap}' (of Interaction Server {_releases(servers)}) is DB2: support "
                        f"of the IBM DB2 database was discontinued in release {release(odbc.NO_DB2_VERSION)}.")


def _dap_users(x: IxnConfig, which) -> list[tuple[DatabaseAccessPoint, list[Application]]]:
    """Each DAP that servers satisfying ``which`` connect to, with those servers (a finding per DAP, not per
    server: a primary and its backup share theirs)."""
    found: dict[int, list[Application]] = defaultdict(list)
    for server in x.servers:
        if which(server):
            for dap in sum(x.databases(server), []):
                found[dap.pk].append(server)
    return [(x.daps[pk], servers) for pk, servers in sorted(found.items(), key=lambda i: x.daps[i[0]].name)]


def _releases(servers: Iterable[Application]) -> str:
    return ", ".join(f"'{s}' {s.version or '(no version)'}" for s in servers)


@rule("IXN_DB_SERVER", ERROR, "No DB Server from Interaction Server 8.5.3: ODBC only")
def db_server(cfg):
    x = cfg.ixn
    for server in x.servers:
        if not at_least(server, odbc.ODBC_STRING_VERSION):
            continue
        for target in x.targets(server):
            if target.app_type == ApplicationType.DB_SERVER:
                yield server, (f"Interaction Server '{server}' connects to DB Server '{target}': Interaction Server "
                               f"{release(odbc.ODBC_STRING_VERSION)} and higher does not support DB Server; connect "
                               "it to its DAPs and set them to ODBC.")
    for dap, servers in _dap_users(x, lambda server: at_least(server, odbc.ODBC_STRING_VERSION)):
        section, key = (odbc.LOGGER_SECTION, odbc.LOGGER_PROTOCOL) if is_logger(dap) else \
            (odbc.MAIN_SECTION, odbc.MAIN_PROTOCOL)
        value = option(dap, key, section)
        if (value or "").lower() != odbc.ODBC:
            said = "is not set" if value is None else f"is {value!r}"
            yield dap, (f"Database access point '{dap}' (of Interaction Server {_releases(servers)}): [{section}] "
                        f"{key} {said}; from {release(odbc.ODBC_STRING_VERSION)} it must be odbc (Interaction "
                        "Server does not support DB Server).")


@rule("IXN_OWN_DATABASES", ERROR, "Each primary/backup pair has its own interaction and event-log databases")
def own_databases(cfg):
    x = cfg.ixn
    main_users: dict[int, set[int]] = defaultdict(set)      # DAP id → pairs using it as main database
    logger_users: dict[int, set[int]] = defaultdict(set)
    for server in x.servers:
        main, logger = x.databases(server)
        for dap in main:
            main_users[dap.pk].add(x.pair_key(server))
        for dap in logger:
            logger_users[dap.pk].add(x.pair_key(server))
    for cluster in x.server_clusters:
        for node in cluster.nodes:
            if not any(x.databases(s)[0] for s in node.servers):
                yield node.primary, (f"Interaction Server '{node.primary}' (cluster '{cluster.app}') connects to no "
                                     "main database DAP: create the pair with the required Database Access Point "
                                     "(step 1).")
    for dap_id, pairs in sorted(main_users.items()):
        if len(pairs) > 1:
            yield x.daps[dap_id], (f"Database access point '{x.daps[dap_id]}' is the interaction database of "
                                   f"several primary/backup pairs ({_names(cfg.apps[p] for p in pairs)}): each node "
                                   "has its own interaction database.")
    for dap_id, pairs in sorted(logger_users.items()):
        if len(pairs) < 2:
            continue
        clusters = {x.cluster_of[p].app.pk if p in x.cluster_of else None for p in pairs}
        cluster = x.cluster_of.get(next(iter(pairs)))
        whole = (len(clusters) == 1 and cluster is not None
                 and pairs == {n.primary.pk for n in cluster.nodes})
        if not whole:
            yield x.daps[dap_id], (f"Event Logger DAP '{x.daps[dap_id]}' is shared by "
                                   f"{_names(cfg.apps[p] for p in pairs)}: configure one Event Logger database for "
                                   "the entire cluster, or a separate one for each primary/backup pair, not a mix.")


@rule("IXN_EVENT_LOGGER", INFO, "The Event Logger choice: one database for the cluster or one per pair")
def event_logger(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        per_node = [{d.pk for s in n.servers for d in x.databases(s)[1]} for n in cluster.nodes]
        used = set().union(*per_node) if per_node else set()
        if not used or len(cluster.nodes) < 2:
            continue
        disjoint = all(per_node) and sum(len(p) for p in per_node) == len(used)
        if len(used) == 1 and all(per_node):
            yield cluster.app, (f"Interaction Server cluster '{cluster.app}' writes its event log to one Event Logger "
                                "database for the entire cluster. Limitations: each server writes its own "
                                "EventAgentLogin/EventAgentLogout pair, so database triggers that remove agent events "
                                "on EventAgentLogout (the standard ones included) act on the first logout while the "
                                "agent may still be logged in on other servers; an ETL or other consumer must handle "
                                "multiple overlapping login/logout pairs.")
        elif disjoint:   # a mix is IXN_OWN_DATABASES's
            yield cluster.app, (f"Interaction Server cluster '{cluster.app}' writes its event log to "
                                f"{len(used)} Event Logger databases (one per primary/backup pair). Limitation: event "
                                "log consumers must process multiple databases and merge the event streams, taking "
                                "into account overlapping agent state events.")


# --- versions -----------------------------------------------------------------------------------------------------


@rule("IXN_VERSION", ERROR, "Clusters need Interaction Server 8.5.106 and Interaction Server Proxy 8.5.107 at least")
def version(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        for server in cluster.servers:
            if release_at_least(server.version, ixn.MIN_SERVER_VERSION) is False:
                yield server, (f"Interaction Server '{server}' is release {server.version}: clusters need "
                               f"Interaction Server {release(ixn.MIN_SERVER_VERSION)} or later.")
    for proxy in x.proxies:
        if release_at_least(proxy.version, ixn.MIN_PROXY_VERSION) is False:
            yield proxy, (f"Interaction Server Proxy '{proxy}' is release {proxy.version}: clusters need "
                          f"Interaction Server Proxy {release(ixn.MIN_PROXY_VERSION)} or later.")


@rule("IXN_VERSION_UNKNOWN", INFO, "An Interaction Server or proxy whose release cannot be read", "ours")
def version_unknown(cfg):
    x = cfg.ixn
    for app in sorted({a.pk: a for a in x.servers + x.proxies}.values(), key=lambda a: a.name):
        if ixn.parse_version(app.version) is None:
            yield app, (f"'{app}' has the version {app.version!r}, which is not a release number: the release rules "
                        "(8.5.106, 8.5.107, 8.5.2, 8.5.3) treat it as a current release.")


@rule("IXN_SNAPSHOTS", WARNING, "login-session-timeout and snapshots exist from Interaction Server 8.5.107")
def snapshots(cfg):
    for cluster in cfg.ixn.server_clusters:
        old = [s for s in cluster.servers if not at_least(s, ixn.SNAPSHOT_VERSION)
               and at_least(s, ixn.MIN_SERVER_VERSION)]
        for server in old:
            ignored = [k for k in (LOGIN_SESSION_TIMEOUT[0], MAX_PER_SNAPSHOT) if option(server, k) is not None]
            also = f"; {', '.join(ignored)} is not read by this release" if ignored else ""
            yield server, (f"Interaction Server '{server}' (cluster '{cluster.app}') is release {server.version}: "
                           f"clusters support snapshots from {release(ixn.SNAPSHOT_VERSION)}, so snapshot requests "
                           f"get {error_text(2006)}{also}.")


@rule("IXN_SNAPSHOT_LIMIT", INFO, "max-interactions-per-snapshot limits each server, not the client's snapshot")
def snapshot_limit(cfg):
    for cluster in cfg.ixn.server_clusters:
        limited = [s for s in cluster.servers if option(s, MAX_PER_SNAPSHOT) is not None]
        if limited and len(cluster.nodes) > 1:
            shown = ", ".join(f"{s}: {option(s, MAX_PER_SNAPSHOT)}" for s in limited)
            yield cluster.app, (f"[{SETTINGS}] {MAX_PER_SNAPSHOT} is set on servers of cluster '{cluster.app}' "
                                f"({shown}): these limits are per server, not per client snapshot, so a client "
                                f"snapshot may return up to {len(cluster.nodes)} times as many interactions.")


@rule("IXN_PULL_HOLD_TIMEOUT", WARNING, "The proxy's pull-hold-timeout wins over the servers': keep it low "
      f"(above {PULL_HOLD_LIMIT_S} s is ours)")
def pull_hold_timeout(cfg):
    x = cfg.ixn
    for proxy in x.proxies:
        value = option(proxy, PULL_HOLD_TIMEOUT)
        if value is None:
            high = [s for c in x.reach(proxy) for s in c.servers
                    if (option(s, PULL_HOLD_TIMEOUT) or "0").isdigit()
                    and int(option(s, PULL_HOLD_TIMEOUT) or "0") > PULL_HOLD_LIMIT_S]
            if high:
                yield proxy, (f"Proxy '{proxy}' sets no [{SETTINGS}] {PULL_HOLD_TIMEOUT}, so the servers' own values "
                              f"apply ({', '.join(f'{s}: {option(s, PULL_HOLD_TIMEOUT)}' for s in high)}): set the "
                              f"proxy option to a low value (at most {PULL_HOLD_LIMIT_S}) so that a server with no "
                              "interactions does not hold the pull.")
        elif not value.isdigit():
            yield proxy, f"Proxy '{proxy}': [{SETTINGS}] {PULL_HOLD_TIMEOUT} {value!r} is not a number of seconds."
        elif int(value) > PULL_HOLD_LIMIT_S:
            yield proxy, (f"Proxy '{proxy}': [{SETTINGS}] {PULL_HOLD_TIMEOUT} is {value}: the proxy's value overrides "
                          "every server's, and the proxy waits for a server with no interactions before going on to "
                          f"the next; keep it low (at most {PULL_HOLD_LIMIT_S}, ours).")


# --- the clients --------------------------------------------------------------------------------------------------


@rule("IXN_CLUSTER_PROXY_BACKUP", WARNING, "Proxies serving clients that use the proxy cluster run without backup "
      "(step 6)")
def cluster_proxy_backup(cfg):
    x = cfg.ixn
    members = {c.server_id for pc in x.proxy_clusters for c in pc.connections.all()}
    for proxy in x.proxies:
        if proxy.pk in members and proxy.backup_server_id:
            yield proxy, (f"Proxy '{proxy}' of a proxy cluster has the backup '{cfg.apps[proxy.backup_server_id]}': "
                          "Genesys recommends that you not use primary/backup deployment for proxies serving client "
                          "applications that support proxy clusters (N+1: the client chooses any available proxy).")


@rule("IXN_DEDICATED_PROXY_PAIR", WARNING, "Clients connected to a dedicated proxy, and media servers: a "
      "primary/backup pair (step 7)")
def dedicated_proxy_pair(cfg):
    x = cfg.ixn
    for client, target, _ in x.clients():
        if client.app_type in MEDIA_SERVER_TYPES and target.pk in x.proxy_cluster_ids:
            yield client, (f"{client.get_app_type_display()} '{client}' connects to the proxy cluster '{target}': "
                           "media servers (including chat and e-mail) should be connected to a primary/backup pair "
                           "of Interaction Server Proxies, shared with other applications or dedicated.")
    members = {c.server_id for pc in x.proxy_clusters for c in pc.connections.all()}
    for proxy in x.proxies:
        if proxy.pk in x.primary_of or proxy.pk in members:
            continue    # a backup; a proxy cluster's member follows step 6 (IXN_CLUSTER_PROXY_BACKUP)
        clients = x.direct_clients(proxy)
        if clients and not proxy.backup_server_id:
            yield proxy, (f"Proxy '{proxy}' serves {_names(clients)} directly but has no backup: Genesys recommends "
                          "primary/backup deployment for proxies serving clients that do not support proxy clusters; "
                          f"while it is down they get {error_text(2002)} or no answer.")


@rule("IXN_DEDICATED_REPORTING", WARNING, "Separate primary/backup proxy pairs for reporting clients (Stat Server, "
      "ICON) and for ORS")
def dedicated_reporting(cfg):
    x = cfg.ixn
    kinds = {"reporting clients": REPORTING_TYPES, "ORS": {ApplicationType.ORCHESTRATION_SERVER}}

    def kind(app):
        return next((k for k, types in kinds.items() if app.app_type in types), None)

    for client, target, _ in x.clients():
        if kind(client) is not None and target.pk in x.proxy_cluster_ids:
            yield client, (f"{client.get_app_type_display()} '{client}' connects to the proxy cluster '{target}': "
                           f"connect {kind(client)} to a dedicated primary/backup proxy pair.")
    for proxy in x.proxies:
        clients = [c for c in x.direct_clients(proxy) if c.app_type not in MONITOR_TYPES]
        found = {kind(c) for c in clients}
        if found - {None} and len(found) > 1:
            yield proxy, (f"Proxy '{proxy}' serves {_names(clients)}: configure separate proxy pairs specifically "
                          "for reporting clients (Stat Servers and ICON) and for ORS, not shared with other clients.")


@rule("IXN_PROXY_TENANTS", WARNING, "A client connects to the proxy whose tenants match its own")
def proxy_tenants(cfg):
    x = cfg.ixn
    for client, target, behind in x.clients():
        want = x.tenants(client)
        wrong = [p for p in behind if not want <= x.tenants(p)]
        if wrong:
            names = ", ".join(cfg.tenants[t].name for t in sorted(want) if t in cfg.tenants)
            yield client, (f"'{client}' (tenants {names}) connects to '{target}', whose proxy(ies) {_names(wrong)} "
                           "do not list all of its tenants: clients connect to the proxy whose configured tenants "
                           "match their own (\"match\" as including them is ours).")


@rule("IXN_EMAIL_FIFO", WARNING, "Interaction queue FIFO issue: several nodes share a queue of email")
def email_fifo(cfg):
    x = cfg.ixn
    for cluster in x.server_clusters:
        for tenant_id in sorted({t for n in cluster.nodes for t in x.tenants(n.primary)}):
            sharing = [n.primary for n in cluster.nodes if tenant_id in x.tenants(n.primary)
                       and {m.lower() for m in x.served_media(n.primary, tenant_id)} & EMAIL_MEDIA]
            if len(sharing) > 1:
                yield cluster.app, (f"Nodes {_names(sharing)} of cluster '{cluster.app}' all serve email for tenant "
                                    f"'{cfg.tenants[tenant_id]}': the proxy requests interactions from the same queue "
                                    "in a round robin fashion, so the order of interactions could be broken — more "
                                    "important for long-lived interactions like email. Let one node handle email "
                                    "(media-types), or accept it.")


@rule("IXN_STAT_SERVER_DIRECT", WARNING, "Stat Server connected directly to every Interaction Server (panic signal)")
def stat_server_direct(cfg):
    for app, cluster, missing in _not_connected_directly(cfg, ApplicationType.STAT_SERVER):
        yield app, (f"Stat Server '{app}' is not connected directly to {_names(missing)} of cluster "
                    f"'{cluster.app}': through a proxy the servers cannot tell a mass disconnect and send "
                    "no panic signal to reporting clients; connect Stat Server to all Interaction Servers "
                    "in the cluster directly.")


@rule("IXN_MONITOR_PING", WARNING, "Monitors connected directly: the proxy does not support Ping (error 2000)")
def monitor_ping(cfg):
    x = cfg.ixn
    for client, target, _ in x.clients():
        if client.app_type in MONITOR_TYPES:
            yield client, (f"{client.get_app_type_display()} '{client}' connects to '{target}': the proxy does not "
                           f"support Ping requests, they get {error_text(2000)}; components that monitor "
                           "Interaction Server have to be connected directly to the individual Interaction Servers.")
