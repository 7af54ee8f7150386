"""The Interaction Server cluster wizard: the seed's "Step by Step Cluster Configuration Process"
(seeds/interaction-server-deployment.txt, steps 1–10 with 5 a–f), as eight wizard steps sharing the deployment
wizard's machinery (base.Wizard, flow.submit, the API views).

The vendor's (the seed): pairs of Interaction Servers, each with its own main and Event Logger DAP (1–2); proxies
of the Interaction Server application type (3–4); media-types per server (5 a); the Interaction Server cluster
(cluster-type "Interaction Server") connected to every primary server (5 b–c); the proxy cluster (cluster-type
"Interaction Server Proxy") connected to every primary proxy (5 d–e); each proxy connected to the server cluster
(5 f); clients to the proxy cluster (6) or to a dedicated proxy pair (7); URS to every primary server (8); ORS to a
proxy (9); Stat Server to a proxy or to every server (10).

Ours: the two cluster applications are created first (wizard step 1, the seed's 5 b and 5 d) so that every pair and
proxy made afterwards is connected as it is created, and the wizard's status can be read from the configuration
(no state store); the proxy cluster is named ``<cluster>_Proxy``; each pair's DAPs are named ``<primary>_DAP`` and
``<primary>_Log_DAP``; steps 6–10 are optional (a deployment may use URS or ORS, not both).
"""

from __future__ import annotations

from rest_framework import serializers

from configdb import interaction_server as ixn
from configdb import ixn_clusters, odbc, services
from configdb.models import (
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    Host,
    Port,
    RedundancyType,
    State,
    Tenant,
)

from .. import doctor
from .base import Status, Step, Wizard, WizardError
from .serializers import StepSerializer, _names

IS = ApplicationType.INTERACTION_SERVER
CLUSTER = ApplicationType.APPLICATION_CLUSTER


def proxy_cluster_name(name: str) -> str:
    return f"{name}_Proxy"


def _cluster(name: str, kind: str) -> Application | None:
    app = Application.objects.filter(name=name, app_type=CLUSTER).first()
    return app if app is not None and ixn.cluster_type(app.options) == kind else None


def server_cluster(name: str) -> Application | None:
    return _cluster(name, ixn.SERVER_CLUSTER)


def proxy_cluster(name: str) -> Application | None:
    return _cluster(proxy_cluster_name(name), ixn.PROXY_CLUSTER)


def _members(cluster: Application | None) -> list[Application]:
    """The Interaction Servers (servers or proxies) the cluster's connections name: configdb.ixn_clusters', the
    licence report's own reading."""
    return [] if cluster is None else ixn_clusters.primaries(cluster)


def primaries(name: str) -> list[Application]:
    return _members(server_cluster(name))


def proxies(name: str) -> list[Application]:
    return _members(proxy_cluster(name))


def _require(app: Application | None, what: str) -> Application:
    if app is None:
        raise WizardError("cluster", f"The {what} does not exist yet: create the clusters (step 1) first.")
    return app


def _connect(app: Application, server: Application, user) -> bool:
    if Connection.objects.filter(application=app, server=server).exists():
        return False
    services.save_object(Connection(application=app, server=server, port_id="default"), user=user)
    return True


def _new_name(field: str, name: str) -> str:
    if Application.objects.filter(name=name).exists():
        raise WizardError(field, f"An application '{name}' exists already; name it otherwise.")
    return name


def _server(name, template, host, port, tenant, user, **extra) -> Application:
    app = services.save_object(Application(name=name, tenant=template.tenant, template=template, host=host,
                                           working_directory=".", command_line=".", state=State.ENABLED, **extra),
                               user=user)
    services.save_object(Port(application=app, port_id="default", port=port), user=user)
    services.set_links(app, "tenants", [tenant], user=user)
    return app


def _tenant_of(cluster: Application) -> Tenant:
    return cluster.tenants.order_by("name").first() or cluster.tenant


# -- serializers (explicit fields; choices restricted to what the acting user may read) -------------------------


class ClustersSerializer(StepSerializer):
    template = serializers.ChoiceField(choices=[], help_text="An Application Cluster template.")
    host = serializers.ChoiceField(choices=[])
    tenant = serializers.ChoiceField(choices=[], help_text="The tenant the clusters serve.")
    port = serializers.IntegerField(min_value=1, max_value=65535, help_text="The clusters' default port (ours: a "
                                    "connection names a port of its server, so the clusters have one).")

    class Meta:
        fields = ("template", "host", "tenant", "port")

    def choices(self):
        self.fields["template"].choices = _names(ApplicationTemplate.objects.filter(app_type=CLUSTER), self.user)
        self.fields["host"].choices = _names(Host.objects.all(), self.user)
        self.fields["tenant"].choices = _names(Tenant.objects.all(), self.user)


class _ServerFields(StepSerializer):
    name = serializers.CharField(max_length=200, help_text="The primary's name.")
    template = serializers.ChoiceField(choices=[], help_text="An Interaction Server template.")
    host = serializers.ChoiceField(choices=[])
    port = serializers.IntegerField(min_value=1, max_value=65535)
    backup = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   help_text="The backup's name (blank: no backup).")
    backup_host = serializers.ChoiceField(choices=[], required=False, allow_blank=True)
    redundancy = serializers.ChoiceField(choices=[RedundancyType.HOT_STANDBY, RedundancyType.WARM_STANDBY],
                                         default=RedundancyType.HOT_STANDBY)

    def choices(self):
        self.fields["template"].choices = _names(ApplicationTemplate.objects.filter(app_type=IS), self.user)
        hosts = _names(Host.objects.all(), self.user)
        self.fields["host"].choices = hosts
        self.fields["backup_host"].choices = [""] + hosts

    def validate(self, attrs):
        if attrs.get("backup") and not attrs.get("backup_host"):
            raise serializers.ValidationError({"backup_host": ["Give the backup's host."]})
        if attrs.get("backup") and attrs["backup"] == attrs["name"]:
            raise serializers.ValidationError({"backup": ["The backup needs a name of its own."]})
        return attrs


class PairSerializer(_ServerFields):
    media_types = serializers.CharField(max_length=1024, required=False, allow_blank=True,
                                        help_text="[cluster-settings] media-types, comma-separated (blank: every "
                                                  "media type of the tenant).")
    dap_template = serializers.ChoiceField(choices=[], help_text="A Database Access Point template.")
    dbms_type = serializers.ChoiceField(choices=sorted(odbc.DEFAULT_DRIVERS), help_text="ODBC: mssql, oracle, "
                                        "postgre or db2.")
    dbms_name = serializers.CharField(max_length=255)
    database_name = serializers.CharField(max_length=255, help_text="The pair's interaction database.")
    logger_database_name = serializers.CharField(max_length=255, help_text="The pair's event-log database.")
    db_username = serializers.CharField(max_length=255)
    db_password = serializers.CharField(max_length=255, write_only=True, trim_whitespace=False,
                                        help_text="A secret: stored encrypted, never shown.")
    db_port = serializers.IntegerField(min_value=1, max_value=65535, required=False,
                                       help_text="The database's port (blank: the DBMS type's default).")
    dsn = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                help_text="A DSN configured on the host (blank: the default driver).")

    class Meta:
        fields = ("name", "template", "host", "port", "backup", "backup_host", "redundancy", "media_types",
                  "dap_template", "dbms_type", "dbms_name", "database_name", "logger_database_name", "db_username",
                  "db_password", "db_port", "dsn")

    def choices(self):
        super().choices()
        self.fields["dap_template"].choices = _names(ApplicationTemplate.objects.filter(
            app_type=ApplicationType.DATABASE_ACCESS_POINT), self.user)

    def validate_media_types(self, value):
        if not value.strip():
            return ""
        try:
            return ",".join(ixn.parse_media_types(value))
        except ValueError as exc:
            raise serializers.ValidationError(f"media-types {exc}.") from None


class ProxySerializer(_ServerFields):
    class Meta:
        fields = ("name", "template", "host", "port", "backup", "backup_host", "redundancy")


class _AppsField(serializers.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(allow_empty=False, **kwargs)


class ClientsSerializer(StepSerializer):
    clients = _AppsField(choices=[], help_text="Applications that support proxy clusters (e.g. desktops).")

    class Meta:
        fields = ("clients",)

    def choices(self):
        apps = Application.objects.exclude(app_type__in=[IS, CLUSTER, ApplicationType.DATABASE_ACCESS_POINT])
        self.fields["clients"].choices = _names(apps, self.user)


class DedicatedSerializer(ClientsSerializer):
    proxy = serializers.ChoiceField(choices=[], help_text="A proxy of the cluster (the seed: a primary/backup pair).")

    class Meta:
        fields = ("proxy", "clients")

    def choices(self):
        super().choices()
        self.fields["proxy"].choices = [p.name for p in proxies(self.cluster)]


class UrsSerializer(StepSerializer):
    urs = serializers.ChoiceField(choices=[])

    class Meta:
        fields = ("urs",)

    def choices(self):
        self.fields["urs"].choices = _names(Application.objects.filter(
            app_type=ApplicationType.UNIVERSAL_ROUTING_SERVER), self.user)


class OrsSerializer(StepSerializer):
    ors = serializers.ChoiceField(choices=[])
    proxy = serializers.ChoiceField(choices=[])

    class Meta:
        fields = ("ors", "proxy")

    def choices(self):
        self.fields["ors"].choices = _names(Application.objects.filter(
            app_type=ApplicationType.ORCHESTRATION_SERVER), self.user)
        self.fields["proxy"].choices = [p.name for p in proxies(self.cluster)]


class StatSerializer(StepSerializer):
    stat_server = serializers.ChoiceField(choices=[])
    target = serializers.ChoiceField(choices=[("proxy", "a proxy"), ("servers", "every Interaction Server")])
    proxy = serializers.ChoiceField(choices=[], required=False, allow_blank=True, help_text="With target proxy.")

    class Meta:
        fields = ("stat_server", "target", "proxy")

    def choices(self):
        self.fields["stat_server"].choices = _names(Application.objects.filter(
            app_type=ApplicationType.STAT_SERVER), self.user)
        self.fields["proxy"].choices = [""] + [p.name for p in proxies(self.cluster)]

    def validate(self, attrs):
        if attrs["target"] == "proxy" and not attrs.get("proxy"):
            raise serializers.ValidationError({"proxy": ["Choose the proxy the Stat Server connects to."]})
        return attrs


# -- status and apply -------------------------------------------------------------------------------------------


def clusters_status(name: str) -> Status:
    a, b = server_cluster(name), proxy_cluster(name)
    if a and b:
        return Status(True, f"Clusters '{a}' ({ixn.SERVER_CLUSTER}) and '{b}' ({ixn.PROXY_CLUSTER}).")
    return Status(False, f"Create '{name}' and '{proxy_cluster_name(name)}' (Application Clusters).")


def create_clusters(name: str, data: dict, user) -> dict:
    template = ApplicationTemplate.objects.get(name=data["template"])
    host, tenant = Host.objects.get(name=data["host"]), Tenant.objects.get(name=data["tenant"])
    done = []
    for app_name, kind in ((name, ixn.SERVER_CLUSTER), (proxy_cluster_name(name), ixn.PROXY_CLUSTER)):
        app = Application.objects.filter(name=app_name).first()
        if app is not None:
            if app.app_type != CLUSTER or ixn.cluster_type(app.options) != kind:
                raise WizardError("cluster", f"'{app_name}' exists and is not an {kind} cluster; name the cluster "
                                             "otherwise.")
            continue
        app = services.save_object(Application(
            name=app_name, tenant=template.tenant, template=template, host=host, working_directory=".",
            command_line=".", state=State.ENABLED, options={ixn.SECTION: {ixn.CLUSTER_TYPE: kind}}), user=user)
        services.save_object(Port(application=app, port_id="default", port=data["port"]), user=user)
        services.set_links(app, "tenants", [tenant], user=user)
        done.append(f"Created '{app_name}' ([{ixn.SECTION}] {ixn.CLUSTER_TYPE}={kind}).")
    return {"messages": done or ["Both clusters exist already."]}


def pairs_status(name: str) -> Status:
    found = primaries(name)
    if not found:
        return Status(False, "No Interaction Server pair yet.")
    single = [p.name for p in found if not p.backup_server_id]
    warnings = (f"No backup: {', '.join(single)} (the seed: every node a primary/backup pair).",) if single else ()
    return Status(True, f"Primary servers: {', '.join(p.name for p in found)}.", warnings=warnings)


def _make_pair(data: dict, user, tenant: Tenant, **extra) -> tuple[Application, Application | None]:
    template = ApplicationTemplate.objects.get(name=data["template"])
    primary = _server(_new_name("name", data["name"]), template, Host.objects.get(name=data["host"]), data["port"],
                      tenant, user, **extra)
    backup = None
    if data.get("backup"):
        backup = _server(_new_name("backup", data["backup"]), template, Host.objects.get(name=data["backup_host"]),
                         data["port"], tenant, user, **extra)
        primary.backup_server, primary.redundancy_type = backup, data["redundancy"]
        services.save_object(primary, user=user, fields=["backup_server", "redundancy_type"])
        backup.redundancy_type = data["redundancy"]
        services.save_object(backup, user=user, fields=["redundancy_type"])
    return primary, backup


def _dap(name: str, data: dict, database: str, section: str, protocol: str, version: str, user) -> Application:
    if data["dbms_type"] == odbc.DB2 and ixn.at_least(version, odbc.NO_DB2_VERSION):
        raise WizardError("dbms_type", f"Interaction Server {version} cannot use DB2: support of the IBM DB2 "
                                       "database was discontinued in release 8.5.2 (choose mssql, oracle or postgre).")
    try:
        key, value = odbc.build(data["dbms_type"], version=version, dsn=data.get("dsn", ""), port=data.get("db_port"))
    except odbc.BuildError as exc:
        raise WizardError({"port": "db_port"}.get(exc.field, exc.field), str(exc)) from None
    template = ApplicationTemplate.objects.get(name=data["dap_template"])
    dap = services.save_object(DatabaseAccessPoint(
        name=_new_name("name", name), tenant=template.tenant, template=template, is_server=False,
        dbms_type=data["dbms_type"], dbms_name=data["dbms_name"], database_name=database,
        db_username=data["db_username"], db_password=data["db_password"], state=State.ENABLED,
        options={section: {protocol: odbc.ODBC, key: value}}), user=user)
    # ours: a connection names a port of its server, so the DAP gets the database's port
    services.save_object(Port(application=dap, port_id="default",
                              port=data.get("db_port") or odbc.DEFAULT_PORTS[data["dbms_type"]]), user=user)
    return dap


#: the seed's "Configuration Recommendations" for the servers of a cluster (what provisioning/doctor_ixn.py's
#: IXN_RECOMMENDED checks); login-session-timeout exists from 8.5.107
RECOMMENDED = {"login-session-timeout": "1440", "not-ready-on-invitation-timeout": "false",
               "allow-multiple-agent-connections": "false"}


def _release_gate(data: dict, minimum, what: str) -> str:
    """The template's release, refused on ``template`` when it is older than a cluster allows (the seed: clusters
    from Interaction Server 8.5.106 and Interaction Server Proxy 8.5.107). An unreadable release passes (ours;
    the doctor's IXN_VERSION_UNKNOWN says so)."""
    version = ApplicationTemplate.objects.filter(name=data["template"]).values_list("version", flat=True).first()
    if ixn.at_least(version or "", minimum) is False:
        raise WizardError("template", f"Template '{data['template']}' is {what} {version}: a cluster needs "
                                      f"{what} {'.'.join(map(str, minimum))} or later.")
    return version or ""


def recommended_settings(version: str) -> dict[str, str]:
    """The recommendations a server of ``version`` has options for (ours: written on every server the wizard
    creates, so a new cluster starts as the vendor advises; the administrator may change them afterwards)."""
    settings = dict(RECOMMENDED)
    if ixn.at_least(version, ixn.SNAPSHOT_VERSION) is False:
        settings.pop("login-session-timeout")
    return settings


def create_pair(name: str, data: dict, user) -> dict:
    cluster = _require(server_cluster(name), "Interaction Server cluster")
    version = _release_gate(data, ixn.MIN_SERVER_VERSION, "Interaction Server")
    options = {"settings": recommended_settings(version)}
    if data.get("media_types"):
        options[ixn.SECTION] = {ixn.MEDIA_TYPES: data["media_types"]}
    primary, backup = _make_pair(data, user, _tenant_of(cluster), options=options)
    main = _dap(f"{primary}_DAP", data, data["database_name"], odbc.MAIN_SECTION, odbc.MAIN_PROTOCOL,
                primary.version, user)
    log = _dap(f"{primary}_Log_DAP", data, data["logger_database_name"], odbc.LOGGER_SECTION, odbc.LOGGER_PROTOCOL,
               primary.version, user)
    for server in filter(None, (primary, backup)):
        _connect(server, main, user)
        _connect(server, log, user)
    _connect(cluster, primary, user)
    return {"messages": [f"Created pair {primary}" + (f"/{backup}" if backup else " (no backup)")
                         + f" with DAPs {main} and {log}, connected to cluster '{cluster}'."]}


def proxies_status(name: str) -> Status:
    found = proxies(name)
    if not found:
        return Status(False, "No Interaction Server Proxy yet.")
    return Status(True, f"Proxies: {', '.join(p.name for p in found)}.")


def create_proxy(name: str, data: dict, user) -> dict:
    cluster = _require(server_cluster(name), "Interaction Server cluster")
    pcluster = _require(proxy_cluster(name), "proxy cluster")
    _release_gate(data, ixn.MIN_PROXY_VERSION, "Interaction Server Proxy")
    primary, backup = _make_pair(data, user, _tenant_of(cluster), component_type=ixn.PROXY_COMPONENT)
    for proxy in filter(None, (primary, backup)):
        _connect(proxy, cluster, user)
    _connect(pcluster, primary, user)
    messages = [f"Created proxy {primary}" + (f"/{backup}" if backup else "")
                + f", connected to '{cluster}' and listed by '{pcluster}'."]
    if backup:
        messages.append("Note: the seed recommends proxies without backup (N+1) for clients that support proxy "
                        "clusters; keep pairs for dedicated proxies (step 5).")
    return {"messages": messages}


def _connected_from(server: Application | None, app_types=None) -> list[str]:
    if server is None:
        return []
    qs = Connection.objects.filter(server=server)
    if app_types:
        qs = qs.filter(application__app_type__in=app_types)
    return sorted(set(qs.values_list("application__name", flat=True)))


def _optional(found: list[str], what: str) -> Status:
    if found:
        return Status(True, f"{what}: {', '.join(found)}.")
    return Status(False, f"No {what.lower()} yet (optional).", optional=True)


def clients_status(name: str) -> Status:
    return _optional(_connected_from(proxy_cluster(name)), "Clients of the proxy cluster")


def connect_clients(name: str, data: dict, user) -> dict:
    pcluster = _require(proxy_cluster(name), "proxy cluster")
    for client in sorted(data["clients"]):
        _connect(Application.objects.get(name=client), pcluster, user)
    return {"messages": [f"Connected {', '.join(sorted(data['clients']))} to '{pcluster}'."]}


def dedicated_status(name: str) -> Status:
    found = []
    for proxy in proxies(name):
        # ORS and Stat Server connections to a proxy are steps 9 and 10
        found += [f"{c} → {proxy}" for c in Connection.objects.filter(server=proxy).exclude(
            application__app_type__in=[CLUSTER, ApplicationType.ORCHESTRATION_SERVER, ApplicationType.STAT_SERVER])
            .values_list("application__name", flat=True).distinct()]
    return _optional(found, "Clients of dedicated proxies")


def connect_dedicated(name: str, data: dict, user) -> dict:
    proxy = Application.objects.get(name=data["proxy"])
    for client in sorted(data["clients"]):
        _connect(Application.objects.get(name=client), proxy, user)
    messages = [f"Connected {', '.join(sorted(data['clients']))} to the dedicated proxy '{proxy}'."]
    if not proxy.backup_server_id:
        messages.append(f"Warning: '{proxy}' has no backup; the seed recommends a primary/backup pair for clients "
                        "that do not support proxy clusters.")
    return {"messages": messages}


def urs_status(name: str) -> Status:
    servers = primaries(name)
    urs = set.intersection(*(set(_connected_from(p, [ApplicationType.UNIVERSAL_ROUTING_SERVER])) for p in servers)) \
        if servers else set()
    return _optional(sorted(urs), "URS connected to every primary server")


def connect_urs(name: str, data: dict, user) -> dict:
    urs = Application.objects.get(name=data["urs"])
    servers = primaries(name)
    for server in servers:
        _connect(urs, server, user)
    return {"messages": [f"Connected URS '{urs}' to {', '.join(map(str, servers))}."]}


def ors_status(name: str) -> Status:
    found = []
    for proxy in proxies(name):
        found += [f"{o} → {proxy}" for o in _connected_from(proxy, [ApplicationType.ORCHESTRATION_SERVER])]
    return _optional(found, "ORS connected to a proxy")


def connect_ors(name: str, data: dict, user) -> dict:
    ors, proxy = Application.objects.get(name=data["ors"]), Application.objects.get(name=data["proxy"])
    _connect(ors, proxy, user)
    return {"messages": [f"Connected ORS '{ors}' to proxy '{proxy}'."]}


def stat_status(name: str) -> Status:
    stat = [ApplicationType.STAT_SERVER]
    found = [f"{s} → {p}" for p in proxies(name) for s in _connected_from(p, stat)]
    servers = primaries(name)
    if servers:
        found += [f"{s} → every server" for s in sorted(set.intersection(
            *(set(_connected_from(p, stat)) for p in servers)))]
    return _optional(found, "Stat Server connections")


def connect_stat(name: str, data: dict, user) -> dict:
    stat = Application.objects.get(name=data["stat_server"])
    targets = [Application.objects.get(name=data["proxy"])] if data["target"] == "proxy" else primaries(name)
    for server in targets:
        _connect(stat, server, user)
    return {"messages": [f"Connected Stat Server '{stat}' to {', '.join(map(str, targets))}."]}


def check_name(name: str) -> str | None:
    from .flow import check_name as pacing_check

    problem = pacing_check(name)
    if problem is None and len(name) > 240:
        return "An Interaction Server cluster name has at most 240 characters (its proxy cluster adds '_Proxy')."
    return problem


STEPS: list[Step] = [
    Step(1, "clusters", "Create the two clusters", "5 b, 5 d", ClustersSerializer, clusters_status, create_clusters),
    Step(2, "pairs", "Interaction Server pairs and their DAPs", "1, 2, 5 a, 5 c", PairSerializer, pairs_status,
         create_pair),
    Step(3, "proxies", "Interaction Server Proxies", "3, 4, 5 e, 5 f", ProxySerializer, proxies_status, create_proxy),
    Step(4, "clients", "Clients of the proxy cluster", "6", ClientsSerializer, clients_status, connect_clients),
    Step(5, "dedicated", "Clients of a dedicated proxy", "7", DedicatedSerializer, dedicated_status,
         connect_dedicated),
    Step(6, "urs", "URS to every primary server", "8", UrsSerializer, urs_status, connect_urs),
    Step(7, "ors", "ORS to a proxy", "9", OrsSerializer, ors_status, connect_ors),
    Step(8, "stat", "Stat Server", "10", StatSerializer, stat_status, connect_stat),
]

def subjects(user) -> list[str]:
    """The Interaction Server clusters the user may read (the start page's list)."""
    apps = Application.objects.restrict(user, "view").filter(app_type=CLUSTER).order_by("name")
    return [a.name for a in apps if ixn.cluster_type(a.options) == ixn.SERVER_CLUSTER]


def findings(name: str, user) -> list[doctor.Finding]:
    """The cluster checker's findings (``IXN_…``, provisioning/doctor_ixn.py) on this cluster's objects: the two
    cluster applications, every server and proxy with its backup, their DAPs, and the applications connected to
    any of them (URS, ORS, Stat Server, clients)."""
    core = [c for c in (server_cluster(name), proxy_cluster(name)) if c is not None]
    members = primaries(name) + proxies(name)
    apps = core + members + [m.backup_server for m in members if m.backup_server_id]
    ids = {a.pk for a in apps}
    names = {a.name for a in apps}
    names |= set(Application.objects.filter(connected_from__application_id__in=ids).values_list("name", flat=True))
    names |= set(Application.objects.filter(connections__server_id__in=ids).values_list("name", flat=True))
    return [f for f in doctor.run(user) if f.code.startswith("IXN_") and f.object_name in names]


WIZARD = Wizard("interaction-cluster", "Configure an Interaction Server cluster", tuple(STEPS), check_name,
                server_cluster, subjects, frozenset({"pairs", "proxies"}), "admin/wizard/ixn_start.html",
                findings=findings)
