"""The nine steps of the seed's "Deploy Pacing Server" (seeds/pacing-deployment-guide.txt), in its order.

Each step says what it reads (``status``) and what it writes (``apply``); every write goes through
configdb/services.py, the template import service (provisioning/templates/service.py) or the provisioning service
(provisioning/services.py), with the acting user. What each step asks and writes follows the seed's GAX
screens; where the seed is silent the choice is ours and said so here and in docs/wizard.md.
"""

from __future__ import annotations

from pathlib import Path

from alarms import catalog
from configdb import services
from configdb.models import (
    AlarmCondition,
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    ConnectionProtocol,
    Host,
    ListeningMode,
    Port,
    State,
    Tenant,
)

from .. import services as provisioning
from ..templates import service as template_service
from . import serializers as s
from .base import Status, Step, WizardError

#: the templates shipped with the product (the vendor's "installation root/templates")
SHIPPED = Path(__file__).resolve().parents[2] / "templates"
CLUSTER_TEMPLATE, NODE_TEMPLATE = "Pacing_Server_Cluster", "Pacing_Server"
#: the port Pacing Servers cluster through unless a ``clustering`` port says otherwise (the seed)
CLUSTERING_DEFAULT = 7800


# -- reading the configuration --------------------------------------------------------------------------------


def cluster_app(name: str) -> Application | None:
    return (Application.objects.filter(name=name, app_type=ApplicationType.APPLICATION_CLUSTER)
            .select_related("host", "template", "tenant").first())


def require_cluster(name: str) -> Application:
    app = cluster_app(name)
    if app is None:
        raise WizardError("cluster", f"There is no cluster application '{name}' yet: create it (step 2) first.")
    return app


def served_tenant(cluster: Application) -> Tenant | None:
    tenants = list(cluster.tenants.order_by("name"))
    return tenants[0] if len(tenants) == 1 else None


def nodes_of(cluster: Application) -> list[Application]:
    """The nodes connected to the cluster (the seed: a node's only connection is to its cluster)."""
    return list(Application.objects.filter(app_type=ApplicationType.GENESYS_GENERIC_SERVER,
                                           connections__server=cluster).distinct().order_by("name"))


def candidate_nodes(name: str) -> list[Application]:
    """Nodes made for this cluster but not connected yet (ours: a Genesys Generic Server with a default port,
    serving the cluster's tenant, connected to no Application Cluster)."""
    cluster = cluster_app(name)
    tenant = served_tenant(cluster) if cluster else None
    if tenant is None:
        return []
    in_a_cluster = Connection.objects.filter(server__app_type=ApplicationType.APPLICATION_CLUSTER) \
        .values("application_id")
    return list(Application.objects.filter(app_type=ApplicationType.GENESYS_GENERIC_SERVER, tenants=tenant,
                                           ports__port_id="default")
                .exclude(pk__in=in_a_cluster).distinct().order_by("name"))


def _port(app: Application, port_id: str = "default") -> Port | None:
    return app.ports.filter(port_id=port_id).first()


def _servers(cluster: Application, app_type: str) -> list[Application]:
    return list(Application.objects.filter(connected_from__application=cluster, app_type=app_type)
                .distinct().order_by("name"))


# -- 1 and 4: the templates -----------------------------------------------------------------------------------


def _templates(app_type: str) -> list[str]:
    return list(ApplicationTemplate.objects.filter(app_type=app_type).order_by("name").values_list("name", flat=True))


def cluster_template_status(name: str) -> Status:
    found = _templates(ApplicationType.APPLICATION_CLUSTER)
    if found:
        return Status(True, f"Application Cluster template(s): {', '.join(found)}.")
    return Status(False, f"No Application Cluster template: import {CLUSTER_TEMPLATE}.apd and .xml.")


def node_template_status(name: str) -> Status:
    found = _templates(ApplicationType.GENESYS_GENERIC_SERVER)
    if found:
        return Status(True, f"Genesys Generic Server template(s): {', '.join(found)}.")
    return Status(False, f"No Genesys Generic Server template: import {NODE_TEMPLATE}.apd and .xml.")


def _as_bytes(value) -> bytes | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _import(shipped: str, app_type: str, data: dict, user) -> dict:
    if data["source"] == "shipped":
        apd, xml = (SHIPPED / f"{shipped}.apd").read_bytes(), (SHIPPED / f"{shipped}.xml").read_bytes()
        apd_name, xml_name = f"{shipped}.apd", f"{shipped}.xml"
    else:
        apd, xml = _as_bytes(data.get("apd")), _as_bytes(data.get("xml"))
        apd_name, xml_name = data.get("apd_name") or "template.apd", data.get("xml_name") or "template.xml"
    result = template_service.import_template(apd, xml, user=user, apd_name=apd_name, xml_name=xml_name)
    if result.template.app_type != app_type:
        raise WizardError("apd", f"{apd_name}: '{result.template.name}' is a {result.template.get_app_type_display()} "
                                 f"template; this step needs one of type {ApplicationType(app_type).label}.")
    return {"messages": [result.summary]}


def import_cluster_template(name: str, data: dict, user) -> dict:
    return _import(CLUSTER_TEMPLATE, ApplicationType.APPLICATION_CLUSTER, data, user)


def import_node_template(name: str, data: dict, user) -> dict:
    return _import(NODE_TEMPLATE, ApplicationType.GENESYS_GENERIC_SERVER, data, user)


# -- 2: the cluster application -------------------------------------------------------------------------------


def cluster_status(name: str) -> Status:
    app = cluster_app(name)
    if app is None:
        other = Application.objects.filter(name=name).first()
        if other is not None:
            return Status(False, f"'{name}' is a {other.get_app_type_display()}, not an Application Cluster: "
                                 "choose another name.")
        return Status(False, f"No application '{name}' yet.")
    if app.state != State.ENABLED:
        return Status(False, f"'{name}' is disabled; the seed: make sure that State is enabled.")
    return Status(True, f"Application Cluster '{name}' on host {app.host or '—'} (template {app.template or '—'}).")


def cluster_initial(name: str) -> dict:
    app = cluster_app(name)
    if app is None:
        found = _templates(ApplicationType.APPLICATION_CLUSTER)
        return {"template": CLUSTER_TEMPLATE if CLUSTER_TEMPLATE in found else (found[0] if found else "")}
    return {"template": app.template.name if app.template else "", "host": app.host.name if app.host else ""}


def create_cluster(name: str, data: dict, user) -> dict:
    other = Application.objects.filter(name=name).exclude(app_type=ApplicationType.APPLICATION_CLUSTER).first()
    if other is not None:
        raise WizardError("cluster", f"'{name}' is already a {other.get_app_type_display()}; name the cluster "
                                     "otherwise.")
    template = ApplicationTemplate.objects.get(name=data["template"])
    host = Host.objects.get(name=data["host"])
    app = cluster_app(name)
    if app is not None:
        if app.template_id != template.pk:
            raise WizardError("template", f"'{name}' was created from template '{app.template}'; the template of an "
                                          "application cannot change.")
        app.host, app.state = host, State.ENABLED
        services.save_object(app, user=user, fields=["host", "state"])
        return {"messages": [f"Updated cluster '{name}': host {host}, state enabled."]}
    services.save_object(Application(name=name, tenant=template.tenant, template=template, host=host,
                                     working_directory=".", command_line=".", state=State.ENABLED), user=user)
    return {"messages": [f"Created cluster application '{name}' from template '{template}' on host {host} "
                         "(working directory and command line '.', state enabled)."]}


# -- 3: configure the cluster ---------------------------------------------------------------------------------


def configure_status(name: str) -> Status:
    app = cluster_app(name)
    if app is None:
        return Status(False, "The cluster does not exist yet.")
    missing, warnings = [], []
    stat = _servers(app, ApplicationType.STAT_SERVER)
    if not stat:
        missing.append("a Stat Server connection")
    if not _servers(app, ApplicationType.MESSAGE_SERVER):
        warnings.append("No Message Server connection (optional: network logging and alarms).")
    port = _port(app)
    if port is None:
        missing.append("a default port")
    elif port.connection_protocol != ConnectionProtocol.HTTPS:
        warnings.append(f"The default port {port.port} is {port.connection_protocol or 'without protocol'}; the "
                        "seed recommends https.")
    tenant = served_tenant(app)
    if tenant is None:
        missing.append("exactly one tenant")
    endpoint = ((app.options or {}).get("pacingEndpoint") or {}).get("targetEndpoint", "")
    if not str(endpoint).strip():
        missing.append("pacingEndpoint/targetEndpoint")
    if missing:
        return Status(False, "Missing: " + ", ".join(missing) + ".", warnings=tuple(warnings))
    return Status(True, f"Stat Server {', '.join(a.name for a in stat)}; port {port.port}/{port.connection_protocol}; "
                        f"tenant {tenant}; targetEndpoint {endpoint}.", warnings=tuple(warnings))


def configure_initial(name: str) -> dict:
    app = cluster_app(name)
    if app is None:
        return {}
    port, tenant = _port(app), served_tenant(app)
    endpoint = (app.options or {}).get("pacingEndpoint") or {}
    stat, msg = _servers(app, ApplicationType.STAT_SERVER), _servers(app, ApplicationType.MESSAGE_SERVER)
    return {"stat_server": stat[0].name if stat else "", "message_server": msg[0].name if msg else "",
            "port": port.port if port else "", "protocol": port.connection_protocol if port else "https",
            "tenant": tenant.name if tenant else app.tenant.name,
            "target_endpoint": endpoint.get("targetEndpoint", ""), "endpoint_timeout": endpoint.get("timeout", "")}


def _connect_only(app: Application, server: Application | None, app_type: str, user) -> None:
    """Leave ``app`` connected to ``server`` alone among the servers of ``app_type`` (the seed: one Stat Server)."""
    for conn in Connection.objects.filter(application=app, server__app_type=app_type).select_related("server"):
        if server is None or conn.server_id != server.pk:
            services.delete_object(conn, user=user)
    if server is not None and not Connection.objects.filter(application=app, server=server).exists():
        services.save_object(Connection(application=app, server=server, port_id="default"), user=user)


def _save_port(app: Application, port_id: str, number: int, protocol: str, user) -> None:
    port = _port(app, port_id) or Port(application=app, port_id=port_id)
    port.port, port.connection_protocol = number, protocol
    if protocol == ConnectionProtocol.HTTPS:
        port.listening_mode = ListeningMode.SECURED
    services.save_object(port, user=user)


def configure_cluster(name: str, data: dict, user) -> dict:
    app = require_cluster(name)
    stat = Application.objects.get(name=data["stat_server"])
    message = Application.objects.get(name=data["message_server"]) if data.get("message_server") else None
    _connect_only(app, stat, ApplicationType.STAT_SERVER, user)
    _connect_only(app, message, ApplicationType.MESSAGE_SERVER, user)
    _save_port(app, "default", data["port"], data["protocol"], user)
    services.set_links(app, "tenants", [Tenant.objects.get(name=data["tenant"])], user=user)
    app = Application.objects.get(pk=app.pk)
    options = {section: dict(keys) for section, keys in (app.options or {}).items()}
    endpoint = options.setdefault("pacingEndpoint", {})
    endpoint["targetEndpoint"] = data["target_endpoint"]
    if data.get("endpoint_timeout"):
        endpoint["timeout"] = data["endpoint_timeout"]
    app.options = options
    services.save_object(app, user=user, fields=["options"])
    messages = [f"Configured '{name}': Stat Server {stat}" + (f", Message Server {message}" if message else "")
                + f", default port {data['port']}/{data['protocol']}, tenant {data['tenant']}, "
                  f"targetEndpoint {data['target_endpoint']}."]
    if data["protocol"] != "https":
        messages.append("Warning: the default port is http; the seed recommends https.")
    return {"messages": messages}


# -- 5 and 6: the nodes ---------------------------------------------------------------------------------------


def _clustering_port(app: Application) -> int:
    port = _port(app, "clustering")
    return port.port if port else CLUSTERING_DEFAULT


def _taken(host: Host, number: int, exclude: Application | None) -> str | None:
    """The application on ``host`` that listens on ``number`` (a port, or a node's clustering port)."""
    # A cluster application listens nowhere (the seed: "does not represent a particular server").
    apps = (Application.objects.filter(host=host).exclude(pk=exclude.pk if exclude else None)
            .exclude(app_type=ApplicationType.APPLICATION_CLUSTER).prefetch_related("ports"))
    for app in apps.order_by("name"):
        if any(p.port == number for p in app.ports.all()):
            return app.name
        if app.app_type == ApplicationType.GENESYS_GENERIC_SERVER and _clustering_port(app) == number:
            return f"{app.name} (its clustering port)"
    return None


def nodes_status(name: str) -> Status:
    app = cluster_app(name)
    if app is None:
        return Status(False, "The cluster does not exist yet.")
    nodes = nodes_of(app) + candidate_nodes(name)
    if not nodes:
        return Status(False, "No node yet: create at least one (two for high availability).")
    warnings = []
    ports = {(_port(n).port if _port(n) else None) for n in nodes}
    if len(ports) > 1:
        warnings.append("The nodes listen on different ports; the seed: all on the same ports.")
    http = [n.name for n in nodes if _port(n) and _port(n).connection_protocol != ConnectionProtocol.HTTPS]
    if http:
        warnings.append(f"Not https: {', '.join(http)} (the seed recommends https).")
    return Status(True, f"Node(s): {', '.join(n.name for n in nodes)}.", warnings=tuple(warnings))


def create_node(name: str, data: dict, user) -> dict:
    cluster = require_cluster(name)
    tenant = served_tenant(cluster)
    if tenant is None:
        raise WizardError("tenant", "The cluster serves no single tenant yet: configure it (step 3) first.")
    host = Host.objects.get(name=data["host"])
    node = Application.objects.filter(name=data["name"]).first()
    if node is not None and (node.app_type != ApplicationType.GENESYS_GENERIC_SERVER or node.pk == cluster.pk):
        raise WizardError("name", f"'{data['name']}' is already a {node.get_app_type_display()}; name the node "
                                  "otherwise.")
    if data.get("clustering_port") is not None and data.get("clustering_port") == data["port"]:
        raise WizardError("clustering_port", "The clustering port must differ from the default port.")
    clustering = data.get("clustering_port") or CLUSTERING_DEFAULT
    taken = _taken(host, clustering, node)
    if taken:
        field_hint = "another" if data.get("clustering_port") else "a"
        raise WizardError("clustering_port", f"Port {clustering} is taken on host {host} by {taken}: give "
                                             f"{field_hint} clustering port (the seed: add a port with ID clustering).")
    taken = _taken(host, data["port"], node)
    if taken:
        raise WizardError("port", f"Port {data['port']} is taken on host {host} by {taken}.")
    template = ApplicationTemplate.objects.get(name=data["template"])
    if node is None:
        node = services.save_object(Application(name=data["name"], tenant=cluster.tenant, template=template,
                                                host=host, working_directory=".", command_line=".",
                                                state=State.ENABLED), user=user)
        verb = "Created"
    else:
        node.host = host
        node = services.save_object(node, user=user, fields=["host"])
        verb = "Updated"
    _save_port(node, "default", data["port"], data["protocol"], user)
    if data.get("clustering_port"):
        _save_port(node, "clustering", data.get("clustering_port"), "", user)
    services.set_links(node, "tenants", [tenant], user=user)
    messages = [f"{verb} node '{node}' on host {host}: default port {data['port']}/{data['protocol']}"
                + (f", clustering port {data['clustering_port']}" if data.get("clustering_port") else "")
                + f", tenant {tenant}."]
    if data["protocol"] != "https":
        messages.append("Warning: the node's port is http; the seed recommends https.")
    return {"messages": messages}


def connect_status(name: str) -> Status:
    app = cluster_app(name)
    nodes = nodes_of(app) if app else []
    if not nodes:
        return Status(False, "No node is connected to the cluster yet.")
    warnings = () if len(nodes) > 1 else ("A single node: no high availability (the seed: use multiple nodes).",)
    return Status(True, f"Connected: {', '.join(n.name for n in nodes)}.", warnings=warnings)


def connect_nodes(name: str, data: dict, user) -> dict:
    cluster = require_cluster(name)
    done = []
    for node_name in sorted(data["nodes"]):
        node = Application.objects.get(name=node_name)
        services.save_object(Connection(application=node, server=cluster, port_id="default"), user=user)
        done.append(node_name)
    return {"messages": [f"Connected {', '.join(done)} to '{name}'."]}


def nodes_context(name: str, user) -> dict:
    app = cluster_app(name)
    return {"nodes": nodes_of(app) if app else [], "candidates": candidate_nodes(name)}


# -- 7: install (the environment file, provisioning) -----------------------------------------------------------


def install_status(name: str) -> Status:
    try:
        plan = provisioning.provision(name, user=None, dry_run=True)
    except provisioning.ProvisioningError as exc:
        return Status(False, exc.message)
    # Conditions removed on purpose are step 8's business (the seed: remove, then re-create): the install is done
    # once provisioning has run, i.e. nothing but some of the conditions is left to create (ours).
    others = [c for c in plan.changes if c.object_type != "alarm condition"]
    created = sum(1 for c in plan.changes if c.object_type == "alarm condition" and c.action == "create")
    if others or created == len(catalog.CONDITIONS):
        return Status(False, f"Provisioning has {len(plan.changes)} change(s) to make: preview, then apply.")
    return Status(True, f"Provisioned (tenant {plan.tenant}, Stat Server {', '.join(plan.stat_servers)}).")


def install(name: str, data: dict, user) -> dict:
    plan = provisioning.provision(name, user=user, dry_run=data["dry_run"])
    verb = "would make" if plan.dry_run else "made"
    lines = [f"Provisioning {verb} {len(plan.changes)} change(s)" + ("." if plan.changes or plan.dry_run
                                                                   else " (nothing to do).")]
    if plan.applied:
        lines[0] += f" {provisioning.SUCCESS}."
    return {"messages": lines, "plan": plan.as_dict()}


def install_context(name: str, user) -> dict:
    try:
        plan = provisioning.provision(name, user=user, dry_run=True)
    except provisioning.ProvisioningError as exc:
        return {"plan_error": exc.message}
    app = cluster_app(name)
    return {"plan": plan, "nodes": nodes_of(app) if app else []}


# -- 8: alarms ------------------------------------------------------------------------------------------------


def _conditions(name: str) -> tuple[Tenant | None, dict[str, AlarmCondition]]:
    app = cluster_app(name)
    tenant = served_tenant(app) if app else None
    if tenant is None:
        return None, {}
    return tenant, {c.name: c for c in AlarmCondition.objects.filter(tenant=tenant, name__in=list(catalog.BY_CODE))}


def alarms_status(name: str) -> Status:
    tenant, found = _conditions(name)
    missing = [c.code for c in catalog.CONDITIONS if c.code not in found]
    if tenant is None or missing:
        return Status(False, f"Missing alarm condition(s): {', '.join(missing)}; re-create them.")
    return Status(True, f"The five alarm conditions are in {tenant} / {catalog.FOLDER}.")


def configure_alarms(name: str, data: dict, user) -> dict:
    require_cluster(name)
    if data["action"] == "recreate":
        plan = provisioning.provision(name, user=user, overwrite=True)
        return {"messages": [f"Re-created the alarm conditions (provisioning overwrite: {len(plan.changes)} "
                             "change(s))."], "plan": plan.as_dict()}
    tenant, found = _conditions(name)
    condition = found.get(data["condition"])
    if condition is None:
        raise WizardError("condition", f"'{data['condition']}' does not exist in "
                                       f"{tenant or 'the cluster tenant'}; re-create the conditions.")
    if data["action"] == "remove":
        services.delete_object(condition, user=user)
        return {"messages": [f"Removed alarm condition '{condition.name}'."]}
    fields = []
    if data.get("category"):
        condition.category = data["category"]
        fields.append("category")
    if data.get("timeout") is not None:
        condition.timeout = data["timeout"]
        fields.append("timeout")
    services.save_object(condition, user=user, fields=fields)
    return {"messages": [f"Tuned alarm condition '{condition.name}': category {condition.get_category_display()}, "
                         f"timeout {condition.timeout} s."]}


def alarms_context(name: str, user) -> dict:
    _, found = _conditions(name)
    return {"conditions": [(c, found.get(c.code)) for c in catalog.CONDITIONS]}


# -- 9: forward proxy ----------------------------------------------------------------------------------------


def proxy_status(name: str) -> Status:
    app = cluster_app(name)
    proxy = ((app.options or {}).get("forward-proxy") or {}) if app else {}
    if str(proxy.get("enabled", "")).lower() == "true":
        return Status(True, f"Forward proxy {proxy.get('host')}:{proxy.get('port')}.", optional=True)
    return Status(False, "No forward proxy (optional: only where the Internet is reached through one).",
                  optional=True)


def proxy_initial(name: str) -> dict:
    app = cluster_app(name)
    proxy = ((app.options or {}).get("forward-proxy") or {}) if app else {}
    return {"enabled": str(proxy.get("enabled", "")).lower() == "true", "host": proxy.get("host", ""),
            "port": proxy.get("port", "")}


def forward_proxy(name: str, data: dict, user) -> dict:
    app = require_cluster(name)
    options = {section: dict(keys) for section, keys in (app.options or {}).items()}
    proxy = options.setdefault("forward-proxy", {})
    proxy["enabled"] = "true" if data["enabled"] else "false"
    if data["enabled"]:
        proxy["host"], proxy["port"] = data["host"], str(data["port"])
    app.options = options
    services.save_object(app, user=user, fields=["options"])
    if data["enabled"]:
        return {"messages": [f"Forward proxy {data['host']}:{data['port']} enabled."]}
    return {"messages": ["Forward proxy disabled."]}


# -- the list -------------------------------------------------------------------------------------------------

STEPS: list[Step] = [
    Step(1, "cluster-template", "Import the cluster application template",
         "Navigate to the Pacing Server installation root/templates folder and select Pacing_Server_Cluster.apd … "
         "Click Import Metadata … select Pacing_Server_Cluster.xml.",
         s.TemplateStepSerializer, cluster_template_status, import_cluster_template, files=("apd", "xml")),
    Step(2, "cluster", "Create the cluster application",
         "Set the value of the Working Directory and Command Line fields to . (a single dot). Make sure that State "
         "is enabled. Select the Host … usually the … load balancer that provides access to the Pacing Service.",
         s.ClusterSerializer, cluster_status, create_cluster, initial=cluster_initial),
    Step(3, "configure", "Configure the cluster application",
         "Select the Stat Server application … If appropriate, you can also add a connection to Message Server … "
         "set the desired value of the default port … Genesys recommends that you use a secure connection … select "
         "your tenant … keep the default values for all options except the ones in the pacingEndpoint section.",
         s.ConfigureSerializer, configure_status, configure_cluster, initial=configure_initial),
    Step(4, "node-template", "Import the Pacing Server application template",
         "Navigate to the Pacing Server installation root/templates folder and select Pacing_Server.apd … "
         "select Pacing_Server.xml.",
         s.TemplateStepSerializer, node_template_status, import_node_template, files=("apd", "xml")),
    Step(5, "nodes", "Create and configure a node application",
         "Select the Host on which the Pacing Server node will reside … the default port … set the protocol type "
         "to https … By default, this port is 7800. If this port is already in use … add another port with ID "
         "clustering … Select the same tenant that is specified for the Pacing Service Cluster application.",
         s.NodeSerializer, nodes_status, create_node, context=nodes_context),
    Step(6, "connect", "Add the node application to the cluster",
         "Select the Pacing Service cluster application you created previously … in order to provide high "
         "availability in production, you must use multiple nodes.",
         s.ConnectSerializer, connect_status, connect_nodes, context=nodes_context),
    Step(7, "install", "Install Pacing Server",
         "This installation procedure automatically provisions all of the Pacing Server-related configuration "
         "information.",
         s.InstallSerializer, install_status, install, context=install_context),
    Step(8, "alarms", "Configure alarms",
         "Genesys recommends that you tune the following Pacing Server-related alarms … you can remove them if "
         "necessary and then re-create them.",
         s.AlarmsSerializer, alarms_status, configure_alarms, context=alarms_context),
    Step(9, "forward-proxy", "Configure a forward proxy (optional)",
         "If your environment permits connections to the Internet only through a forward proxy service … configure "
         "the forward-proxy options, so the Pacing Service can connect to Genesys Predictive Engagement.",
         s.ForwardProxySerializer, proxy_status, forward_proxy, initial=proxy_initial),
]

BY_KEY = {step.key: step for step in STEPS}
