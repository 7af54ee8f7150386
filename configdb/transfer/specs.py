"""What each list of a document holds: its model, its fields and their codecs, its natural key."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from .. import interaction_server as ixn
from ..models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
    ApplicationType,
    Connection,
    DatabaseAccessPoint,
    DNType,
    Folder,
    FolderType,
    Host,
    MediaType,
    Person,
    Port,
    Skill,
    SkillLevel,
    Switch,
    Tenant,
    Transaction,
)
from .codecs import Bool, DNRefs, FolderPath, Int, Json, Kind, Names, Options, Ref, Rows, RowSpec, Secret, Text

# -- what each list holds ---------------------------------------------------------------------------

PORT = RowSpec(Port, {
    "port_id": Text(), "port": Int(), "connection_protocol": Text(), "listening_mode": Text(),
    "ha_sync": Bool(), "description": Text(), "certificate": Text(), "certificate_key": Secret(), "trusted_ca": Text(),
}, required=("port_id", "port"), key=("port_id",))

CONNECTION = RowSpec(Connection, {
    "server": Ref("application", nullable=False), "port_id": Text(), "connection_protocol": Text(),
    "local_timeout": Int(), "remote_timeout": Int(), "trace_mode": Text(), "transport_parameters": Text(),
    "application_parameters": Text(),
}, required=("server",), key=("server", "port_id"))

SKILL_LEVEL = RowSpec(SkillLevel, {"skill": Ref("skill", nullable=False), "level": Int()},
                      required=("skill",), key=("skill",))


@dataclass(frozen=True)
class Spec:
    key: str                       # the list's name in "objects"
    model: type[models.Model]
    kind: str                      # the namespace of its natural key
    fields: dict[str, Kind]
    required: tuple[str, ...]
    label_field: str = "name"


def _common() -> dict[str, Kind]:
    return {"folder": FolderPath(), "state": Text()}


def _app_fields(dap: bool) -> dict[str, Kind]:
    fields = {"name": Text(), **_common(), "template": Ref("template", nullable=False)}
    if not dap:
        fields["app_type"] = Text()
    fields |= {"version": Text(), "component_type": Text()}
    if not dap:
        fields["is_server"] = Bool()
    fields |= {
        "host": Ref("host"), "working_directory": Text(), "command_line": Text(), "command_line_arguments": Text(),
        "startup_timeout": Int(), "shutdown_timeout": Int(), "auto_restart": Bool(), "redundancy_type": Text(),
        "backup_server": Ref("application"), "log_on_as_system": Bool(),
    }
    if dap:
        fields |= {"dbms_name": Text(), "dbms_type": Text(), "database_name": Text(), "db_username": Text(),
                   "db_password": Secret(), "query_timeout": Int()}
    fields |= {"tenants": Names(), "options": Options(), "annex": Options(), "ports": Rows(PORT),
               "connections": Rows(CONNECTION)}
    return fields


def _dn_fields(queue: bool) -> dict[str, Kind]:
    fields = {"switch": Ref("switch", nullable=False), "number": Text()}
    if not queue:
        fields["dn_type"] = Text()
    return fields | {**_common(), "alias": Text(), "association": Text(), "register": Text(), "route_type": Text(),
                     "options": Options()}


TENANT_SPEC = Spec("tenant", Tenant, "tenant", {"description": Text(), "state": Text(), "options": Options()}, ())

SPECS: dict[str, Spec] = {spec.key: spec for spec in [
    Spec("folders", Folder, "folder", {"type": Text(), "path": FolderPath(nullable=False), "description": Text(),
                                       "state": Text()}, ("type", "path"), label_field="path"),
    Spec("hosts", Host, "host", {"name": Text(), **_common(), "ip_address": Text(), "os_type": Text(),
                                 "os_version": Text(), "lca_port": Int(), "options": Options()}, ("name",)),
    Spec("application-templates", ApplicationTemplate, "template", {
        "name": Text(), **_common(), "app_type": Text(), "version": Text(), "default_options": Options(),
        "default_annex": Options(), "metadata": Json(),
    }, ("name", "app_type", "version")),
    Spec("applications", Application, "application", _app_fields(dap=False), ("name", "template")),
    Spec("database-access-points", DatabaseAccessPoint, "application", _app_fields(dap=True),
         ("name", "template", "dbms_type")),
    Spec("switches", Switch, "switch", {"name": Text(), **_common(), "switch_type": Text(),
                                        "t_server": Ref("application"), "options": Options()}, ("name",)),
    Spec("dns", DN, "dn", _dn_fields(queue=False), ("switch", "number", "dn_type"), label_field="number"),
    Spec("virtual-queues", DN, "dn", _dn_fields(queue=True), ("switch", "number"), label_field="number"),
    Spec("media-types", MediaType, "mediatype", {"name": Text(), "display_name": Text(), **_common()}, ("name",)),
    Spec("skills", Skill, "skill", {"name": Text(), **_common()}, ("name",)),
    Spec("persons", Person, "person", {
        "user_name": Text(), "first_name": Text(), "last_name": Text(), "email": Text(), "employee_id": Text(),
        "is_agent": Bool(), **_common(), "media_types": Names(), "skill_levels": Rows(SKILL_LEVEL),
        "options": Options(),
    }, ("user_name", "employee_id"), label_field="user_name"),
    Spec("agent-groups", AgentGroup, "agentgroup", {
        "name": Text(), "group_type": Text(), "skill_expression": Text(), **_common(),
        "agents": Names("user_name"), "supervisors": Names("user_name"), "origination_dns": DNRefs(),
        "options": Options(),
    }, ("name",)),
    Spec("alarm-conditions", AlarmCondition, "alarmcondition", {
        "name": Text(), "description": Text(), "category": Text(), "timeout": Int(), "detect_event_id": Int(),
        "detect_selection": Text(), "cancel_event_id": Int(nullable=True), **_common(), "options": Options(),
    }, ("name", "detect_event_id")),
    Spec("transactions", Transaction, "transaction", {
        "name": Text(), "transaction_type": Text(), "alias": Text(), "description": Text(), **_common(),
        "annex": Options(),
    }, ("name",)),
]}
#: the lists of "objects", in dependency order (the order they are written in)
LIST_KEYS = tuple(SPECS)
OBJECT_KEYS = ("tenant", *LIST_KEYS)
#: the order objects are deleted in by a replace: dependents first
DELETE_ORDER = ("transactions", "alarm-conditions", "agent-groups", "persons", "skills", "virtual-queues", "dns",
                "media-types", "switches", "database-access-points", "applications", "application-templates",
                "hosts", "folders")                # media types after the queues whose pacing/media names them
NOUNS = {"folder": "folder", "host": "host", "template": "application template", "application": "application",
         "switch": "switch", "dn": "DN", "mediatype": "media type", "skill": "skill", "person": "person",
         "agentgroup": "agent group", "alarmcondition": "alarm condition", "transaction": "transaction"}
#: the model of each namespace of natural keys ("application" holds applications and DAPs alike)
KIND_MODELS: dict[str, type[models.Model]] = {}
for _spec in SPECS.values():
    KIND_MODELS.setdefault(_spec.kind, _spec.model._meta.concrete_model)

#: namespaces whose names are unique across tenants (so a name may be another tenant's object): the models whose
#: declared natural key has no scope (configdb/models/base.py)
GLOBAL_KINDS = {kind: model for kind, model in KIND_MODELS.items() if not model.scope_fields()}


def _record_key_fields(kind: str) -> tuple[str, ...]:
    """The record fields of a natural key: the model's declared key, less the tenant the document is of (a
    folder is named by its type and path)."""
    if kind == "folder":
        return ("type", "path")
    return tuple(name for name in KIND_MODELS[kind].natural_key_fields if name != "tenant")


#: the fields of a record that make its natural key
KEY_FIELDS = {kind: _record_key_fields(kind) for kind in KIND_MODELS}


def natural_key(spec: Spec, data: dict) -> tuple:
    """The record's natural key in the document: (namespace, *the values of its key fields)."""
    return (spec.kind, *(tuple(data[name]) if isinstance(data[name], list) else data[name]
                         for name in KEY_FIELDS[spec.kind]))


def describe(key: tuple) -> str:
    kind = key[0]
    if kind == "folder":
        label = FolderType(key[1]).label if key[1] in FolderType.values else key[1]
        return f"folder '{' / '.join(key[2])}' of {label}"
    if kind == "dn":
        return f"DN '{key[2]}' on switch '{key[1]}'"
    if kind == "transaction":
        return f"transaction '{key[2]}' of type '{key[1]}'"
    return f"{NOUNS[kind]} named '{key[1]}'"


def _legacy_values(spec: Spec, data: dict) -> None:
    """Values of older documents mapped to today's (in place): the application type ``interaction_server_proxy``
    is an Interaction Server whose component type is ``Interaction Server Proxy`` (configdb.interaction_server;
    a template of that type is an Interaction Server template), as migration 0004 did to stored rows."""
    if data.get("app_type") != ixn.LEGACY_PROXY_TYPE:
        return
    if spec.key == "applications":
        data["app_type"] = ApplicationType.INTERACTION_SERVER
        data["component_type"] = data.get("component_type") or ixn.PROXY_COMPONENT
    elif spec.key == "application-templates":
        data["app_type"] = ApplicationType.INTERACTION_SERVER


def _spec_problems(spec: Spec, data: dict) -> list[str]:
    problems = []
    if spec.key == "folders" and "type" in data and data["type"] not in FolderType.values:
        problems.append(f"type: '{data['type'][:80]}' is not a folder type (one of: {', '.join(FolderType.values)}).")
    if spec.key == "dns" and data.get("dn_type") == DNType.VIRTUAL_QUEUE:
        problems.append("dn_type: virtual queues are listed under virtual-queues.")
    return problems


