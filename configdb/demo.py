"""The demo configuration: the examples of the seeds (seeds/pacing-*.txt), loaded idempotently.

Objects are found by their natural key; a missing object is created through the service layer
(so it is validated like any other), an existing one is left as the administrator has it, and
missing links (ports, connections, tenants, origination DNs, agents) are added. Values the vendor
never published (ports of Stat Server and Message Server, the demo agents, option values of the
cluster) are ours. The alarm conditions and the Stat Server's statistics are provisioning's
(provisioning/services.py), which ``manage.py load_demo`` runs after this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from django.db import models, transaction

from . import services
from .models import (
    AgentGroup,
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    ConnectionProtocol,
    DNType,
    Folder,
    FolderType,
    Host,
    ListeningMode,
    MediaType,
    OSType,
    Person,
    Port,
    Skill,
    SkillLevel,
    Switch,
    SwitchType,
    Tenant,
    Transaction,
    TransactionType,
    VirtualQueue,
)

CLUSTER_OPTIONS = {
    "log": {"verbose": "standard", "all": "stdout", "expire": "10"},
    "metrics": {
        "GcFrequency.threshold": "24",
        "GcLatency.threshold": "1000",
        "heapMemoryUsage.threshold": "0.8",
        "reporter.console.enabled": "false",
        "reporter.console.logFrequency": "30min",
        "reporter.log.enabled": "false",
        "reporter.log.logFrequency": "30min",
        "reporter.messageServer.enabled": "true",
        "reporter.messageServer.logFrequency": "30min",
    },
    "pacing": {"optimizationGoal": "3", "refreshPeriod": "5"},
    "pacingEndpoint": {"targetEndpoint": "v1/pacing/targets", "timeout": "4"},
    "forward-proxy": {"enabled": "false", "host": "", "port": ""},
}

# agent group → the virtual queues it lists as origination DNs (seeds/pacing-deployment-guide.txt)
AGENT_GROUPS = {
    "Proactive Chat": ["Proactive Chat"],
    "Proactive Chat Sales": ["Proactive Chat"],
    "Proactive Voice": ["Proactive Voice"],
    "Proactive Blended": ["Proactive Chat", "Proactive Voice"],
}

# demo agents (ours): user name → (media, groups)
AGENTS = {
    "chat.agent1": (["chat"], ["Proactive Chat"]),
    "chat.agent2": (["chat"], ["Proactive Chat"]),
    "sales.agent1": (["chat"], ["Proactive Chat Sales"]),
    "voice.agent1": (["voice"], ["Proactive Voice"]),
    "voice.agent2": (["voice"], ["Proactive Voice"]),
    "blended.agent1": (["chat", "voice"], ["Proactive Blended"]),
}


@dataclass
class Report:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def note(self, obj: models.Model, created: bool) -> None:
        bucket = self.created if created else self.existing
        label = obj._meta.verbose_name_plural.title()
        bucket[label] = bucket.get(label, 0) + 1

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def ensure(report: Report, model: type[models.Model], lookup: dict, defaults: dict | None = None):
    obj = model._default_manager.filter(**lookup).first()
    if obj is not None:
        report.note(obj, False)
        return obj
    obj = model(**lookup, **(defaults or {}))
    services.save_object(obj)
    report.note(obj, True)
    return obj


def _link(obj, field: str, objects) -> None:
    """Add ``objects`` to ``obj``'s many-to-many ``field`` (the links it has stay), through the services."""
    manager = getattr(obj, field)
    missing = [o for o in objects if not manager.filter(pk=o.pk).exists()]
    if missing:
        services.set_links(obj, field, [*manager.all(), *missing])


@transaction.atomic
def load_demo(report: Report | None = None) -> Report:
    """The seeds' example, without what provisioning writes (the alarm conditions, the Stat Server's
    statistics): ``manage.py load_demo`` runs the provisioning service (provisioning/services.py) after this."""
    r = report if report is not None else Report()
    env = ensure(r, Tenant, {"name": "Environment"}, {"description": "The service provider's tenant."})

    def folder(name: str, folder_type: str) -> Folder:
        return ensure(r, Folder, {"tenant": env, "parent": None, "name": name, "folder_type": folder_type})

    app_folder = folder("Pacing Service", FolderType.APPLICATIONS)
    txn_folder = folder("Transactions", FolderType.TRANSACTIONS)

    host = ensure(r, Host, {"name": "demosrv"},
                   {"tenant": env, "ip_address": "demosrv.genesyslab.com", "os_type": OSType.LINUX})

    def template(name, app_type, version, default_options=None):
        return ensure(r, ApplicationTemplate, {"name": name},
                       {"tenant": env, "app_type": app_type, "version": version,
                        "default_options": default_options or {}})

    t_cluster = template("Pacing_Server_Cluster", ApplicationType.APPLICATION_CLUSTER, "9.0.0", CLUSTER_OPTIONS)
    t_node = template("Pacing_Server", ApplicationType.GENESYS_GENERIC_SERVER, "9.0.0",
                      {"log": {"verbose": "standard", "all": "stdout"}})
    t_stat = template("Stat_Server_85", ApplicationType.STAT_SERVER, "8.5.1")
    t_msg = template("Message_Server_85", ApplicationType.MESSAGE_SERVER, "8.5.1")

    def application(name, tmpl, ports, **extra):
        app = ensure(r, Application, {"name": name},
                      {"tenant": env, "template": tmpl, "host": host, "working_directory": ".",
                       "command_line": ".", "folder": app_folder, **extra})
        for port_id, number, protocol in ports:
            ensure(r, Port, {"application": app, "port_id": port_id},
                    {"port": number, "connection_protocol": protocol,
                     "listening_mode": ListeningMode.UNSECURED})
        _link(app, "tenants", [env])
        return app

    stat = application("Stat_Server", t_stat, [("default", 7000, "")])
    msg = application("Message_Server", t_msg, [("default", 4000, "")])
    cluster = application("Pacing_Service_Cluster_9.0", t_cluster,
                          [("default", 9081, ConnectionProtocol.HTTP)])
    ensure(r, Connection, {"application": cluster, "server": stat, "port_id": "default"})
    ensure(r, Connection, {"application": cluster, "server": msg, "port_id": "default"})
    for node_name in ("Pacing_Server_Node_01", "Pacing_Server_Node_02"):
        node = application(node_name, t_node, [("default", 9081, ConnectionProtocol.HTTP)])
        ensure(r, Connection, {"application": node, "server": cluster, "port_id": "default"})

    switch = ensure(r, Switch, {"tenant": env, "name": "MultiMediaSwitch"}, {"switch_type": SwitchType.MULTIMEDIA})
    media = {name: ensure(r, MediaType, {"tenant": env, "name": name}, {"display_name": name.title()})
             for name in ("chat", "voice", "email")}
    queues = {}
    for number, medium in (("Proactive Chat", "chat"), ("Proactive Voice", "voice")):
        queues[number] = ensure(
            r, VirtualQueue, {"switch": switch, "number": number},
            {"tenant": env, "dn_type": DNType.VIRTUAL_QUEUE, "alias": number,
             "options": {"pacing": {"media": medium, "optimizationGoal": "3"}}},
        )
    groups = {}
    for name, queue_names in AGENT_GROUPS.items():
        group = ensure(r, AgentGroup, {"tenant": env, "name": name})
        _link(group, "origination_dns", [queues[q] for q in queue_names])
        groups[name] = group
    skill = ensure(r, Skill, {"tenant": env, "name": "Proactive"})
    for number, (user_name, (media_names, group_names)) in enumerate(AGENTS.items(), start=1):
        first, _, last = user_name.partition(".")
        person = ensure(r, Person, {"user_name": user_name},
                         {"tenant": env, "employee_id": f"E{number:04d}", "first_name": first.title(),
                          "last_name": last.title()})
        _link(person, "media_types", [media[m] for m in media_names])
        ensure(r, SkillLevel, {"person": person, "skill": skill}, {"level": 5})
        for group_name in group_names:
            _link(groups[group_name], "agents", [person])

    # Where the GPE simulator listens (ours): `dev.py run --gpe-port` and the chaos tests move it.
    gpe = (os.environ.get("PACING_DEMO_GPE_URL") or "http://127.0.0.1:8089").rstrip("/")
    ensure(r, Transaction, {"tenant": env, "name": "hybrid_integration", "transaction_type": TransactionType.LIST},
            {"alias": "hybrid_integration", "folder": txn_folder,
             "annex": {
                 "general": {"base_auth_url": f"{gpe}/oauth/token", "base_service_url": f"{gpe}/api/"},
                 "ewt": {"client_id": "pacing-demo", "password": "demo-client-secret"},
             }})
    return r
