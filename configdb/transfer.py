"""Export and import of a tenant's whole configuration as one JSON document (the format is ours).

The document (docs/config-transfer.md)::

    {"format": "pacing-console-config", "version": 1, "exported": "<ISO time>", "tenant": "<name>",
     "objects": {"tenant": {...}, "folders": [...], "hosts": [...], ...}}

holds one list per object type, in dependency order, and names every related object by its
natural key (a name, a folder path, a switch + number), never by a database id, so a file made
here imports into another database. Secrets (option keys named like one, a DAP's password) are
written as the ``enc:v1:`` tokens of ``configdb.crypto``: a file moves between installations that
share PACING_SECRETS_KEY, and never holds a secret in clear.

Import is all or nothing. The whole document is checked first (shape, types, unknown keys,
duplicates, secret tokens), then every record is written through ``services.save_object`` /
``services.set_links`` inside one transaction, so ``full_clean()`` runs and the history records
each change; any problem anywhere rolls everything back and every problem is reported, each
naming its record (``virtual-queues[3] (Proactive Chat): switch: no switch named 'X'``).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import ExpressionWrapper, F, Prefetch, ProtectedError, RestrictedError
from django.utils import timezone

from . import access, crypto, services
from . import options as opts
from .models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
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
from .secrets import is_secret_key

FORMAT = "pacing-console-config"
VERSION = 1
#: the largest document read (a file, standard input, or the API's request body)
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
#: at most this many problems are listed (then "… and N more")
MAX_REPORTED = 1000

TOP_KEYS = ("format", "version", "exported", "tenant", "objects")
STATUSES = ("created", "updated", "deleted", "unchanged")


class TransferError(Exception):
    """The document cannot be exported or imported; ``errors`` lists every problem, one a line."""

    def __init__(self, detail: str, errors: list[str] | None = None):
        self.detail = detail
        self.errors = list(errors or [])
        super().__init__("\n".join([detail, *self.errors]))


class Problem(Exception):
    """A problem with one value; ``attached`` messages start with an index (``[2] …``)."""

    def __init__(self, *messages: str, attached: bool = False):
        self.messages = list(messages)
        self.attached = attached
        super().__init__("; ".join(messages))


FAILED = object()  # a reference to a record that has problems of its own (already reported)


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a decimal number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise Problem(f"must be a name (text), not {_type_name(value)}.")
    if not value:
        raise Problem("must not be empty.")
    if "\x00" in value:
        raise Problem("contains a NUL character.")
    return value


def _decrypt_token(value: str) -> str:
    if not crypto.is_encrypted(value):
        raise Problem(f"a secret must be written as an encrypted {crypto.PREFIX}… token; this format never holds "
                      "a secret in clear.")
    try:
        return crypto.decrypt(value)
    except (crypto.SecretDecryptionError, UnicodeDecodeError):
        raise Problem("the secret does not decrypt with this installation's PACING_SECRETS_KEY (the file was "
                      "exported with another key, or the token is damaged).") from None


# -- field kinds: how one field is written (dump) and read back (clean) ------------------------------


class Kind:
    def default(self, model, name):
        return model._meta.get_field(name).get_default()

    def clean(self, value):
        return value

    def dump(self, obj, name, ex):
        return getattr(obj, name)


class Text(Kind):
    def clean(self, value):
        if not isinstance(value, str):
            raise Problem(f"must be text, not {_type_name(value)}.")
        if "\x00" in value:
            raise Problem("contains a NUL character.")
        return value


class Int(Kind):
    def __init__(self, nullable: bool = False):
        self.nullable = nullable

    def clean(self, value):
        if value is None and self.nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Problem(f"must be a whole number{' or null' if self.nullable else ''}, not {_type_name(value)}.")
        return value


class Bool(Kind):
    def clean(self, value):
        if not isinstance(value, bool):
            raise Problem(f"must be true or false, not {_type_name(value)}.")
        return value


class Json(Kind):
    """Free JSON kept as it is (a template's option metadata)."""

    def clean(self, value):
        if not isinstance(value, dict):
            raise Problem(f"must be an object, not {_type_name(value)}.")
        return value


class Options(Kind):
    """An options table; secret values are tokens in the file, plain text once read."""

    def default(self, model, name):
        return {}

    def clean(self, value):
        if not isinstance(value, dict):
            raise Problem(f"must be an object of sections, each an object of keys and text values, "
                          f"not {_type_name(value)}.")
        plain, problems = {}, []
        for section, keys in value.items():
            if not isinstance(keys, dict):
                plain[section] = keys  # opts.validate names the problem
                continue
            plain[section] = {}
            for key, item in keys.items():
                if isinstance(item, str) and item and is_secret_key(key):
                    try:
                        secret = _decrypt_token(item)
                    except Problem as exc:
                        problems.append(f"section '{section[:80]}', key '{key[:80]}': {exc.messages[0]}")
                        continue
                    plain[section][key] = secret
                else:
                    plain[section][key] = item
        if problems:
            raise Problem(*problems)
        try:
            opts.validate(plain)
        except opts.OptionsError as exc:
            raise Problem(*exc.problems) from None
        return plain

    def dump(self, obj, name, ex):
        return ex.options(obj, name)


class Secret(Kind):
    """A secret field (a DAP's password): a token in the file, or "" for none."""

    def clean(self, value):
        Text().clean(value)
        return _decrypt_token(value) if value else ""

    def dump(self, obj, name, ex):
        return ex.secret(obj, name)


class Ref(Kind):
    """A foreign key, written as the related object's name."""

    def __init__(self, target: str, nullable: bool = True):
        self.target = target
        self.nullable = nullable

    def default(self, model, name):
        return None

    def clean(self, value):
        if value is None and self.nullable:
            return None
        return _name(value)

    def dump(self, obj, name, ex):
        related = getattr(obj, name)
        return None if related is None else related.name


class FolderPath(Kind):
    """A folder, written as its path: the folder names, outermost first."""

    def __init__(self, nullable: bool = True):
        self.nullable = nullable

    def default(self, model, name):
        return None

    def clean(self, value):
        if value is None and self.nullable:
            return None
        if not isinstance(value, list) or not value:
            raise Problem("must be a folder path: a list of folder names, outermost first"
                          f"{', or null' if self.nullable else ''}.")
        return tuple(_name(part) for part in value)

    def dump(self, obj, name, ex):
        return ex.path(obj.folder_id)


def _unique_items(value: list, parse, twice) -> list:
    """Parse each item of a list of references; every bad or repeated item is a problem naming its index."""
    items, problems = [], []
    for index, item in enumerate(value):
        try:
            parsed = parse(item)
        except Problem as exc:
            problems.append(f"[{index}]: {exc.messages[0]}")
            continue
        if parsed in items:
            problems.append(f"[{index}]: {twice(parsed)}")
            continue
        items.append(parsed)
    if problems:
        raise Problem(*problems, attached=True)
    return items


def _dn_ref(item) -> tuple[str, str]:
    if not isinstance(item, dict) or set(item) != {"switch", "number"}:
        raise Problem('must be {"switch": name, "number": number}.')
    return _name(item["switch"]), _name(item["number"])


class Names(Kind):
    """A many-to-many field, written as the sorted names of the linked objects."""

    def __init__(self, attr: str = "name"):
        self.attr = attr

    def default(self, model, name):
        return []

    def clean(self, value):
        if not isinstance(value, list):
            raise Problem(f"must be a list of names, not {_type_name(value)}.")
        return _unique_items(value, _name, lambda name: f"'{name}' is listed twice.")

    def dump(self, obj, name, ex):
        return sorted(getattr(related, self.attr) for related in getattr(obj, name).all())


class DNRefs(Kind):
    """Origination DNs: ``[{"switch": name, "number": n}, …]``."""

    def default(self, model, name):
        return []

    def clean(self, value):
        if not isinstance(value, list):
            raise Problem(f"must be a list of {{\"switch\": name, \"number\": number}}, not {_type_name(value)}.")
        return _unique_items(value, _dn_ref, lambda ref: f"DN '{ref[1]}' of switch '{ref[0]}' is listed twice.")

    def dump(self, obj, name, ex):
        return [{"switch": s, "number": n}
                for s, n in sorted((dn.switch.name, dn.number) for dn in getattr(obj, name).all())]


@dataclass(frozen=True)
class RowSpec:
    """Rows that belong to an object (ports, connections, skill levels), nested in its record."""

    model: type[models.Model]
    fields: dict[str, Kind]
    required: tuple[str, ...]
    key: tuple[str, ...]

    def label(self, row: dict) -> str:
        return ":".join(str(row.get(k)) for k in self.key)


class Rows(Kind):
    def __init__(self, spec: RowSpec):
        self.spec = spec

    def default(self, model, name):
        return []

    def clean(self, value):
        if not isinstance(value, list):
            raise Problem(f"must be a list of objects, not {_type_name(value)}.")
        rows, keys, problems = [], set(), []
        for index, item in enumerate(value):
            data, found = _clean_fields(self.spec.fields, self.spec.required, item, self.spec.model)
            label = f"[{index}] ({self.spec.label(data)})" if data and all(k in data for k in self.spec.key) \
                else f"[{index}]"
            if not found:
                key = tuple(data[k] for k in self.spec.key)
                if key in keys:
                    found.append("listed twice.")
                keys.add(key)
            if found:
                problems += [f"{label}: {p}" for p in found]
                continue
            rows.append(data)
        if problems:
            raise Problem(*problems, attached=True)
        return rows

    def dump(self, obj, name, ex):
        rows = [{n: kind.dump(row, n, ex) for n, kind in self.spec.fields.items()} for row in getattr(obj, name).all()]
        return sorted(rows, key=lambda row: tuple(str(row[k]) for k in self.spec.key))


def _clean_fields(fields: dict[str, Kind], required: tuple[str, ...], raw: object, model):
    """(cleaned values, problems) of one record; secrets decrypted."""
    if not isinstance(raw, dict):
        return None, [f"must be an object, not {_type_name(raw)}."]
    problems: list[str] = []
    unknown = [str(k)[:80] for k in raw if k not in fields]
    if unknown:
        problems.append(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown[:20]))} "
                        f"(known: {', '.join(fields)}).")
    data = {}
    for name, kind in fields.items():
        if name in raw:
            try:
                value = kind.clean(raw[name])
            except Problem as exc:
                problems += [f"{name}{m}" if exc.attached else f"{name}: {m}" for m in exc.messages]
                continue
        elif name in required:
            problems.append(f"{name}: missing; it is required.")
            continue
        else:
            value = kind.default(model, name)
        data[name] = value
    return data, problems


# -- what each list holds ---------------------------------------------------------------------------

PORT = RowSpec(Port, {
    "port_id": Text(), "port": Int(), "connection_protocol": Text(), "listening_mode": Text(),
    "ha_sync": Bool(), "description": Text(),
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
DELETE_ORDER = ("transactions", "alarm-conditions", "agent-groups", "persons", "skills", "media-types",
                "virtual-queues", "dns", "switches", "database-access-points", "applications",
                "application-templates", "hosts", "folders")
NOUNS = {"folder": "folder", "host": "host", "template": "application template", "application": "application",
         "switch": "switch", "dn": "DN", "mediatype": "media type", "skill": "skill", "person": "person",
         "agentgroup": "agent group", "alarmcondition": "alarm condition", "transaction": "transaction"}
#: namespaces whose names are unique across tenants (so a name may be another tenant's object)
GLOBAL_KINDS = {"host": Host, "template": ApplicationTemplate, "application": Application, "person": Person}


#: the fields of a record that make its natural key (the label field for the others)
KEY_FIELDS = {"folder": ("type", "path"), "dn": ("switch", "number"), "transaction": ("transaction_type", "name")}


def natural_key(spec: Spec, data: dict) -> tuple:
    if spec.kind == "folder":
        return ("folder", data["type"], tuple(data["path"]))
    if spec.kind == "dn":
        return ("dn", data["switch"], data["number"])
    if spec.kind == "transaction":
        return ("transaction", data["transaction_type"], data["name"])
    return (spec.kind, data[spec.label_field])


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


def _spec_problems(spec: Spec, data: dict) -> list[str]:
    problems = []
    if spec.key == "folders" and "type" in data and data["type"] not in FolderType.values:
        problems.append(f"type: '{data['type'][:80]}' is not a folder type (one of: {', '.join(FolderType.values)}).")
    if spec.key == "dns" and data.get("dn_type") == DNType.VIRTUAL_QUEUE:
        problems.append("dn_type: virtual queues are listed under virtual-queues.")
    return problems


# -- progress ---------------------------------------------------------------------------------------


def _grow(progress, count: int) -> None:
    if progress is not None and count:
        progress.total = (progress.total or 0) + count
        progress.refresh()


def _tick(progress) -> None:
    if progress is not None:
        progress.update(1)


@contextmanager
def progress_bar(stream, *, force: bool = False, desc: str = "") -> Iterator[Any]:
    """A tqdm bar on ``stream`` (stderr), shown only on a terminal unless ``force``, so CI logs stay clean."""
    from tqdm import tqdm

    enabled = force or bool(getattr(stream, "isatty", None) and stream.isatty())
    bar = tqdm(total=0, desc=desc, unit="obj", file=stream, disable=not enabled, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


# -- export -----------------------------------------------------------------------------------------


def _raw(name: str, kind: Kind):
    """The stored value of a field as the database holds it (secrets still encrypted)."""
    output = models.JSONField() if isinstance(kind, Options) else models.TextField()
    return ExpressionWrapper(F(name), output_field=output)


def _queryset(spec: Spec, tenant: Tenant) -> models.QuerySet:
    model = spec.model
    queryset = model._default_manager.filter(pk=tenant.pk) if model is Tenant else \
        model._default_manager.filter(tenant=tenant)
    if spec.key == "applications":
        queryset = queryset.filter(databaseaccesspoint__isnull=True)
    elif spec.key == "dns":
        queryset = queryset.exclude(dn_type=DNType.VIRTUAL_QUEUE)
    elif spec.key == "virtual-queues":
        queryset = queryset.filter(dn_type=DNType.VIRTUAL_QUEUE)
    select = [n for n, k in spec.fields.items() if isinstance(k, Ref)]
    if select:
        queryset = queryset.select_related(*select)
    prefetch = []
    for name, kind in spec.fields.items():
        if isinstance(kind, Names):
            prefetch.append(name)
        elif isinstance(kind, DNRefs):
            prefetch.append(Prefetch(name, queryset=DN.objects.select_related("switch")))
        elif isinstance(kind, Rows):
            refs = [n for n, k in kind.spec.fields.items() if isinstance(k, Ref)]
            prefetch.append(Prefetch(name, queryset=kind.spec.model._default_manager.select_related(*refs)))
    if prefetch:
        queryset = queryset.prefetch_related(*prefetch)
    raw = {f"_raw_{n}": _raw(n, k) for n, k in spec.fields.items() if isinstance(k, Options | Secret)}
    return queryset.annotate(**raw) if raw else queryset


class _Exporter:
    def __init__(self, tenant: Tenant, progress=None):
        self.tenant = tenant
        self.progress = progress
        self.folders = {f.pk: f for f in Folder.objects.filter(tenant=tenant)}

    def path(self, folder_id: int | None) -> list[str] | None:
        if folder_id is None:
            return None
        parts, seen = [], set()
        while folder_id is not None and folder_id not in seen:
            seen.add(folder_id)
            node = self.folders.get(folder_id) or Folder.objects.filter(pk=folder_id).first()
            if node is None:
                break
            self.folders[node.pk] = node
            parts.append(node.name)
            folder_id = node.parent_id
        return list(reversed(parts))

    @staticmethod
    def seal(plain: str, stored: object) -> str:
        """The token for a secret: the stored one (so exports repeat), or a new one for a value stored in clear."""
        if crypto.is_encrypted(stored):
            try:
                if crypto.decrypt(stored) == plain:
                    return stored
            except crypto.SecretDecryptionError:
                pass
        return crypto.encrypt(plain)

    def options(self, obj, name: str) -> dict:
        plain = getattr(obj, name) or {}
        raw = getattr(obj, f"_raw_{name}", None) or {}
        out = {}
        for section in sorted(plain):
            stored = raw.get(section) if isinstance(raw.get(section), dict) else {}
            out[section] = {}
            for key in sorted(plain[section]):
                value = plain[section][key]
                if value and isinstance(value, str) and is_secret_key(key):
                    value = self.seal(value, stored.get(key))
                out[section][key] = value
        return out

    def secret(self, obj, name: str) -> str:
        plain = getattr(obj, name)
        return self.seal(plain, getattr(obj, f"_raw_{name}", None)) if plain else ""

    def record(self, spec: Spec, obj) -> dict:
        if spec.key == "folders":
            return {"type": obj.folder_type, "path": self.path(obj.pk), "description": obj.description,
                    "state": obj.state}
        return {name: kind.dump(obj, name, self) for name, kind in spec.fields.items()}

    def run(self) -> dict:
        tenant = _queryset(TENANT_SPEC, self.tenant).get()
        objects: dict[str, Any] = {"tenant": self.record(TENANT_SPEC, tenant)}
        for key, spec in SPECS.items():
            rows = list(_queryset(spec, self.tenant))
            _grow(self.progress, len(rows))
            records = []
            for obj in rows:
                records.append(self.record(spec, obj))
                _tick(self.progress)
            objects[key] = sorted(records, key=lambda r, s=spec: _sort_key(s, r))
        return {"format": FORMAT, "version": VERSION, "exported": timezone.now().isoformat(timespec="seconds"),
                "tenant": self.tenant.name, "objects": objects}


def _sort_key(spec: Spec, record: dict) -> tuple:
    return tuple(tuple(part) if isinstance(part, list) else part for part in natural_key(spec, record))


def export_tenant(tenant: Tenant, *, progress=None) -> dict:
    """The document of ``tenant``'s configuration: every object it owns, references by natural key."""
    try:
        return _Exporter(tenant, progress).run()
    except crypto.SecretDecryptionError as exc:
        raise TransferError(f"Cannot export tenant '{tenant.name}'.", [str(exc)]) from None


def dumps(document: dict) -> str:
    """The document as the text of a file (2-space indent, UTF-8, a final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- reading a file ---------------------------------------------------------------------------------


def _too_large() -> TransferError:
    return TransferError(f"The document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB.",
                         [f"at most {MAX_DOCUMENT_BYTES} bytes are read."])


def _object_pairs(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise TransferError("Malformed JSON.", [f"the key '{key[:80]}' appears twice in one object."])
        seen[key] = value
    return seen


def _no_constant(name):
    raise TransferError("Malformed JSON.", [f"{name} is not a JSON number."])


def parse_json(data: bytes | str) -> Any:
    """Parse the text of a document: UTF-8 JSON, no duplicate keys, no NaN/Infinity, at most 64 MiB."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TransferError("The document is not UTF-8 text.", [f"invalid UTF-8 at byte {exc.start}."]) from None
    if not data.strip():
        raise TransferError("The document is empty; expected JSON.")
    try:
        return json.loads(data, object_pairs_hook=_object_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise TransferError("Malformed JSON.", [f"line {exc.lineno}, column {exc.colno}: {exc.msg}."]) from None
    except RecursionError:
        raise TransferError("Malformed JSON.", ["the document is nested too deeply."]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise TransferError("Malformed JSON.", [str(exc)]) from None


def read_document(source: str | os.PathLike) -> Any:
    """Read and parse a document from a file, or from standard input for ``-``."""
    if str(source) == "-":
        data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise _too_large()
            with path.open("rb") as fh:
                data = fh.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise TransferError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large()
    return parse_json(data)


# -- import -----------------------------------------------------------------------------------------


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m if name == NON_FIELD_ERRORS else f"{name}: {m}"
                for name, messages in exc.message_dict.items() for m in messages]
    return list(exc.messages)


def _apply(obj: models.Model, values: dict) -> list[str]:
    """Set ``values`` on ``obj`` (foreign keys given as objects); the names of the fields that changed
    (saved alone, so a concurrent change of another field is kept: services.save_object(fields=…))."""
    changed = []
    for name, value in values.items():
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            if getattr(obj, model_field.attname) != (value.pk if value is not None else None):
                setattr(obj, name, value)
                changed.append(name)
        elif getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


@dataclass
class _Record:
    spec: Spec
    index: int
    where: str
    data: dict | None = None
    key: tuple | None = None
    obj: Any = None
    status: str = ""  # created / updated / unchanged once written

    def touch(self) -> None:
        if self.status == "unchanged":
            self.status = "updated"


@dataclass
class Summary:
    """What an import did (or, for a dry run, would do)."""

    tenant: str
    tenant_created: bool
    replace: bool
    dry_run: bool
    counts: dict[str, dict[str, int]]

    @property
    def totals(self) -> dict[str, int]:
        return {status: sum(c[status] for c in self.counts.values()) for status in STATUSES}

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "tenant_created": self.tenant_created, "replace": self.replace,
                "dry_run": self.dry_run, "counts": self.counts, "totals": self.totals}

    def lines(self) -> list[str]:
        width = max(len(k) for k in self.counts) + 2
        head = f"{'':{width}}" + "".join(f"{s:>10}" for s in STATUSES)
        rows = [f"{k:{width}}" + "".join(f"{c[s]:10d}" for s in STATUSES) for k, c in self.counts.items()]
        total = f"{'total':{width}}" + "".join(f"{self.totals[s]:10d}" for s in STATUSES)
        return [head, *rows, total]


class _Importer:
    def __init__(self, document: Any, *, replace: bool, user, progress):
        self.document = document
        self.replace = replace
        self.progress = progress
        self.user = user
        self.visible = None if user is None else access.visible_tenant_ids(user)
        self.errors: list[str] = []
        self.tenant_record = _Record(TENANT_SPEC, 0, "tenant")
        self.records: dict[str, list[_Record]] = {key: [] for key in LIST_KEYS}
        self.file_keys: dict[tuple, _Record] = {}
        self.done: dict[tuple, Any] = {}
        self.deleted: Counter = Counter()
        self.tenant: Tenant | None = None
        self.tenant_created = False

    # -- checking the document ----------------------------------------------------------------------

    def check(self) -> None:
        """Check the whole document; raise TransferError when it cannot be read as one at all."""
        doc = self.document
        if not isinstance(doc, dict):
            raise TransferError("Not a configuration document.",
                                [f"the document must be a JSON object, not {_type_name(doc)}."])
        if doc.get("format") != FORMAT:
            found = json.dumps(doc.get("format"))[:80] if "format" in doc else "nothing"
            raise TransferError("Not a Pacing Console configuration document.",
                                [f"format: expected '{FORMAT}', found {found}."])
        version = doc.get("version")
        if isinstance(version, bool) or version != VERSION:
            raise TransferError(f"Unsupported document version: this installation reads version {VERSION}.",
                                [f"version: expected {VERSION}, found {json.dumps(version)[:80]}."])
        problems = []
        unknown = [str(k)[:80] for k in doc if k not in TOP_KEYS]
        if unknown:
            problems.append(f"unknown top-level key(s) {', '.join(map(repr, unknown))} (known: {', '.join(TOP_KEYS)}).")
        if "exported" in doc and not isinstance(doc["exported"], str):
            problems.append(f"exported: must be text (an ISO time), not {_type_name(doc['exported'])}.")
        try:
            name = _name(doc.get("tenant"))
            if len(name) > 255:
                raise Problem("is longer than 255 characters.")
        except Problem as exc:
            problems.append(f"tenant: {exc.messages[0]}")
        objects = doc.get("objects")
        if not isinstance(objects, dict):
            problems.append(f"objects: must be an object of lists, not {_type_name(objects)}.")
        if problems:
            raise TransferError("The document is not valid.", problems)
        unknown = [str(k)[:80] for k in objects if k not in OBJECT_KEYS]
        if unknown:
            self.errors.append(f"objects: unknown key(s) {', '.join(map(repr, unknown))} "
                               f"(known: {', '.join(OBJECT_KEYS)}).")
        self._check_tenant(objects.get("tenant", {}))
        for key, spec in SPECS.items():
            items = objects.get(key, [])
            if not isinstance(items, list):
                self.errors.append(f"{key}: must be a list, not {_type_name(items)}.")
                continue
            for index, raw in enumerate(items):
                self._check_record(spec, index, raw)

    def _check_tenant(self, raw) -> None:
        rec = self.tenant_record
        data, problems = _clean_fields(TENANT_SPEC.fields, (), raw, Tenant)
        if problems:
            self.errors += [f"tenant: {p}" for p in problems]
        else:
            rec.data = data

    def _check_record(self, spec: Spec, index: int, raw) -> None:
        label = raw.get(spec.label_field) if isinstance(raw, dict) else None
        if isinstance(label, list) and all(isinstance(p, str) for p in label):
            label = " / ".join(label)
        where = f"{spec.key}[{index}] ({label[:80]})" if isinstance(label, str) and label else f"{spec.key}[{index}]"
        rec = _Record(spec, index, where)
        self.records[spec.key].append(rec)
        data, problems = _clean_fields(spec.fields, spec.required, raw, spec.model)
        if data is not None:
            problems += _spec_problems(spec, data)
            if all(name in data for name in KEY_FIELDS.get(spec.kind, (spec.label_field,))):
                rec.key = natural_key(spec, data)
        if rec.key is not None:
            first = self.file_keys.get(rec.key)
            if first is not None:
                problems.append(f"the same {describe(rec.key)} as {first.where}.")
            else:
                self.file_keys[rec.key] = rec
        if problems:
            self.errors += [f"{where}: {p}" for p in problems]
            if rec.key is not None and self.file_keys.get(rec.key) is rec:
                self.done[rec.key] = FAILED
            return
        rec.data = data

    # -- helpers ------------------------------------------------------------------------------------

    def _error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def _register(self, rec: _Record, obj) -> None:
        if rec.key is not None and self.file_keys.get(rec.key) is rec:
            self.done[rec.key] = obj

    def _each(self, key: str) -> Iterator[_Record]:
        """The key's records that passed the checks (a progress tick for every record)."""
        for rec in self.records[key]:
            if rec.data is not None:
                yield rec
            _tick(self.progress)

    def _visible(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset if self.visible is None else queryset.filter(tenant_id__in=self.visible)

    def _stored(self, key: tuple):
        """The stored object a natural key names (another tenant's only for the global namespaces)."""
        kind = key[0]
        if kind == "folder":
            parent = None
            for name in key[2]:
                parent = Folder.objects.filter(tenant=self.tenant, folder_type=key[1], parent=parent,
                                               name=name).first()
                if parent is None:
                    return None
            return parent
        if kind == "dn":
            return DN.objects.filter(tenant=self.tenant, switch__name=key[1], number=key[2]).first()
        if kind in GLOBAL_KINDS:
            model = GLOBAL_KINDS[kind]
            field_name = "user_name" if kind == "person" else "name"
            return self._visible(model._default_manager.filter(**{field_name: key[1]})).first()
        model = {"switch": Switch, "mediatype": MediaType, "skill": Skill}[kind]
        return model._default_manager.filter(tenant=self.tenant, name=key[1]).first()

    def _lookup(self, key: tuple):
        """The object a reference names: one of the file's (already written), or a stored one."""
        if key in self.done:
            return self.done[key]
        if key in self.file_keys:
            return FAILED  # in the file, but its record has problems of its own
        obj = self._stored(key)
        if obj is None:
            raise Problem(f"no {describe(key)}.")
        if key[0] == "person" and obj.tenant_id != self.tenant.pk:
            raise Problem(f"person '{key[1]}' belongs to another tenant.")
        if self.replace and getattr(obj, "tenant_id", None) == self.tenant.pk:
            raise Problem(f"{describe(key)} is not in the file, and replace deletes the tenant's objects that "
                          "the file does not list.")
        self.done[key] = obj
        return obj

    def _values(self, rec: _Record, skip: tuple[str, ...] = ()) -> dict | None:
        """The record's model values with references resolved; None (problems reported) if one fails."""
        values, problems, failed = {}, [], False
        for name, kind in rec.spec.fields.items():
            if name in skip:
                continue
            value = rec.data[name]
            if isinstance(kind, FolderPath):
                target = None if value is None else ("folder", rec.spec.model.folder_type, value)
            elif isinstance(kind, Ref):
                target = None if value is None else (kind.target, value)
            elif isinstance(kind, Names | DNRefs | Rows):
                continue
            else:
                values[name] = value
                continue
            if target is None:
                values[name] = None
                continue
            try:
                obj = self._lookup(target)
            except Problem as exc:
                problems.append(f"{name}: {exc.messages[0]}")
                continue
            if obj is FAILED:
                failed = True
            values[name] = obj
        for problem in problems:
            self._error(rec.where, problem)
        if problems or failed:
            self._register(rec, FAILED)
            return None
        return values

    def _existing(self, rec: _Record, values: dict):
        """The stored object the record describes, or None; Problem if that name is taken elsewhere."""
        spec, data = rec.spec, rec.data
        if spec.kind == "dn":
            return DN.objects.filter(switch=values["switch"], number=data["number"]).first()
        if spec.kind == "transaction":
            return Transaction.objects.filter(tenant=self.tenant, transaction_type=data["transaction_type"],
                                              name=data["name"]).first()
        if spec.kind in GLOBAL_KINDS:
            name_field = spec.label_field
            obj = GLOBAL_KINDS[spec.kind]._default_manager.filter(**{name_field: data[name_field]}).first()
            if obj is None:
                return None
            if obj.tenant_id != self.tenant.pk:
                raise Problem(f"{name_field}: {describe((spec.kind, data[name_field]))} already exists and belongs to "
                              "another tenant.")
            if spec.kind == "application":
                dap = DatabaseAccessPoint.objects.filter(pk=obj.pk).first()
                if spec.model is DatabaseAccessPoint and dap is None:
                    raise Problem(f"name: '{obj.name}' is an application, not a database access point; list it "
                                  "under applications.")
                if spec.model is Application and dap is not None:
                    raise Problem(f"name: '{obj.name}' is a database access point; list it under "
                                  "database-access-points.")
                return dap or obj
            return obj
        return spec.model._default_manager.filter(tenant=self.tenant, name=data["name"]).first()

    def _save(self, where: str, obj: models.Model, fields: list[str] | None = None) -> bool:
        try:
            services.save_object(obj, user=self.user, fields=fields if not obj._state.adding else None)
        except ValidationError as exc:
            self.errors += [f"{where}: {m}" for m in _messages(exc)]
        except (DatabaseError, crypto.SecretDecryptionError) as exc:
            self._error(where, f"the database refused it: {exc}")
        else:
            return True
        return False

    def _save_record(self, rec: _Record, obj: models.Model, fields: list[str] | None = None) -> bool:
        """Save the record's own object. Its secrets keep the file's tokens: configdb.crypto reuses the
        token a value was just decrypted from, so exporting again gives the same file."""
        return self._save(rec.where, obj, fields)

    def _upsert(self, rec: _Record, existing, values: dict) -> bool:
        if existing is None:
            extra = {"tenant": self.tenant} if rec.spec.model is not Tenant else {}
            obj, status = rec.spec.model(**extra, **values), "created"
        else:
            obj = existing
            changed = _apply(obj, values)
            if not changed:
                rec.obj, rec.status = obj, "unchanged"
                self._register(rec, obj)
                return True
            status = "updated"
        if not self._save_record(rec, obj, changed if existing is not None else None):
            self._register(rec, FAILED)
            return False
        rec.obj, rec.status = obj, status
        self._register(rec, obj)
        return True

    def _delete(self, where: str, obj: models.Model) -> bool:
        try:
            services.delete_object(obj, user=self.user)
        except services.ObjectGone:
            return True  # deleted meanwhile by another request: gone either way
        except ValidationError as exc:
            self.errors += [f"{where}: cannot delete: {m}" for m in _messages(exc)]
        except (ProtectedError, RestrictedError) as exc:
            used = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
            names = sorted({str(o) for o in list(used)[:10]})
            self._error(where, f"cannot delete: other objects use it ({', '.join(names)}).")
        else:
            return True
        return False

    def _links(self, rec: _Record, field_name: str, keys: list[tuple]) -> None:
        """Set a many-to-many field to the objects ``keys`` name (unchanged links are not rewritten)."""
        objects, ok = [], True
        for key in keys:
            try:
                obj = self._lookup(key)
            except Problem as exc:
                self._error(rec.where, f"{field_name}: {exc.messages[0]}")
                ok = False
                continue
            if obj is FAILED:
                ok = False
                continue
            objects.append(obj)
        if not ok:
            return
        self._set_links(rec, field_name, objects)

    def _set_links(self, rec: _Record, field_name: str, objects: list) -> None:
        current = set(getattr(rec.obj, field_name).values_list("pk", flat=True))
        if current == {o.pk for o in objects}:
            return
        try:
            services.set_links(rec.obj, field_name, objects, user=self.user)
        except ValidationError as exc:
            self.errors += [f"{rec.where}: {m}" for m in _messages(exc)]
            return
        rec.touch()

    def _rows(self, rec: _Record, field_name: str, spec: RowSpec, parent: dict, rows: list[dict]) -> list:
        """Create or update the rows of ``field_name``; return the stored rows the file does not list."""
        manager = getattr(rec.obj, field_name)
        existing = {}
        for row in manager.all():
            key = tuple(getattr(row, f"{k}_id") if isinstance(spec.fields[k], Ref) else getattr(row, k)
                        for k in spec.key)
            existing[key] = row
        wanted = set()
        for index, data in enumerate(rows):
            where = f"{rec.where}: {field_name}[{index}] ({spec.label(data)})"
            values, ok = dict(parent), True
            for name, kind in spec.fields.items():
                if not isinstance(kind, Ref):
                    values[name] = data[name]
                    continue
                try:
                    obj = self._lookup((kind.target, data[name]))
                except Problem as exc:
                    self._error(where, f"{name}: {exc.messages[0]}")
                    ok = False
                    continue
                if obj is FAILED:
                    ok = False
                values[name] = obj
            if not ok:
                continue
            key = tuple(values[k].pk if isinstance(spec.fields[k], Ref) else values[k] for k in spec.key)
            wanted.add(key)
            row = existing.get(key)
            if row is None:
                row = spec.model(**values)
            else:
                changed = _apply(row, values)
                if not changed:
                    continue
            if self._save(where, row, None if row._state.adding else changed):
                rec.touch()
        return [row for key, row in existing.items() if key not in wanted]

    def _delete_rows(self, rec: _Record, field_name: str, rows: list) -> None:
        for row in rows:
            if self._delete(f"{rec.where}: {field_name} ({row})", row):
                rec.touch()

    # -- writing, in dependency order ---------------------------------------------------------------

    def write(self) -> None:
        _grow(self.progress, 1 + sum(len(r) for r in self.records.values()))
        self._write_tenant()
        if self.tenant is None:
            return
        self._write_folders()
        self._write_simple("hosts")
        self._write_simple("application-templates")
        self._write_applications()
        self._write_simple("switches")
        self._write_simple("dns")
        self._write_simple("virtual-queues")
        self._write_simple("media-types")
        self._write_simple("skills")
        self._write_persons()
        self._write_agent_groups()
        self._write_simple("alarm-conditions")
        self._write_simple("transactions")
        if self.replace:
            self._delete_extras()

    def _write_tenant(self) -> None:
        rec = self.tenant_record
        name = self.document["tenant"]
        existing = Tenant.objects.filter(name=name).first()
        values = rec.data if rec.data is not None else {}
        if existing is None:
            tenant = Tenant(name=name, **values)
            if self._save_record(rec, tenant):
                self.tenant, self.tenant_created = tenant, True
                rec.status = "created" if rec.data is not None else ""
        else:
            self.tenant = existing
            if rec.data is not None:
                rec.obj = existing
                changed = _apply(existing, values)
                rec.status = "updated" if changed else "unchanged"
                if rec.status == "updated" and not self._save_record(rec, existing, changed):
                    rec.status = ""
        _tick(self.progress)

    def _write_folders(self) -> None:
        # parents first: a shorter path is written before a longer one
        order = sorted(self.records["folders"], key=lambda r: len(r.data["path"]) if r.data else 0)
        for rec in order:
            _tick(self.progress)
            if rec.data is None:
                continue
            data = rec.data
            path = data["path"]
            parent = None
            if len(path) > 1:
                try:
                    parent = self._lookup(("folder", data["type"], path[:-1]))
                except Problem as exc:
                    self._error(rec.where, f"path: the parent: {exc.messages[0]}")
                    self._register(rec, FAILED)
                    continue
                if parent is FAILED:
                    self._register(rec, FAILED)
                    continue
            existing = Folder.objects.filter(tenant=self.tenant, folder_type=data["type"], parent=parent,
                                             name=path[-1]).first()
            self._upsert(rec, existing, {"folder_type": data["type"], "parent": parent, "name": path[-1],
                                         "description": data["description"], "state": data["state"]})

    def _write_simple(self, key: str, skip: tuple[str, ...] = ()) -> list[_Record]:
        written = []
        for rec in self._each(key):
            values = self._values(rec, skip)
            if values is None:
                continue
            if key == "virtual-queues":
                values["dn_type"] = DNType.VIRTUAL_QUEUE
            try:
                existing = self._existing(rec, values)
            except Problem as exc:
                self._error(rec.where, exc.messages[0])
                self._register(rec, FAILED)
                continue
            created = existing is None
            if self._upsert(rec, existing, values):
                written.append(rec)
                if created and isinstance(rec.obj, Application):
                    self._keep_file_options(rec)
        return written

    def _keep_file_options(self, rec: _Record) -> None:
        """A new application starts with its template's options when it has none (services.prepare);
        the file's (empty) options are what it must have."""
        obj = rec.obj
        wanted = {name: rec.data[name] for name in ("options", "annex")}
        changed = _apply(obj, wanted)
        if changed:
            self._save_record(rec, obj, changed)

    def _write_applications(self) -> None:
        apps = self._write_simple("applications", skip=("backup_server",))
        apps += self._write_simple("database-access-points", skip=("backup_server",))
        unused_ports = {}
        for rec in apps:  # every port first: connections name the ports of other applications
            unused_ports[rec.where] = self._rows(rec, "ports", PORT, {"application": rec.obj}, rec.data["ports"])
        for rec in apps:
            stale = self._rows(rec, "connections", CONNECTION, {"application": rec.obj}, rec.data["connections"])
            self._delete_rows(rec, "connections", stale)
        for rec in apps:  # a port can go once no connection names it
            self._delete_rows(rec, "ports", unused_ports[rec.where])
        for rec in apps:
            self._backup(rec)
            self._served_tenants(rec)

    def _backup(self, rec: _Record) -> None:
        name = rec.data["backup_server"]
        backup = None
        if name is not None:
            try:
                backup = self._lookup(("application", name))
            except Problem as exc:
                self._error(rec.where, f"backup_server: {exc.messages[0]}")
                return
            if backup is FAILED:
                return
        changed = _apply(rec.obj, {"backup_server": backup})
        if changed and self._save_record(rec, rec.obj, changed):
            rec.touch()

    def _served_tenants(self, rec: _Record) -> None:
        tenants, ok = [], True
        for name in rec.data["tenants"]:
            tenant = self.tenant if name == self.tenant.name else Tenant.objects.filter(name=name).first()
            if tenant is None or (self.visible is not None and tenant.pk not in self.visible):
                self._error(rec.where, f"tenants: no tenant named '{name}'.")
                ok = False
                continue
            tenants.append(tenant)
        if ok:
            self._set_links(rec, "tenants", tenants)

    def _write_persons(self) -> None:
        for rec in self._write_simple("persons"):
            self._links(rec, "media_types", [("mediatype", name) for name in rec.data["media_types"]])
            stale = self._rows(rec, "skill_levels", SKILL_LEVEL, {"person": rec.obj}, rec.data["skill_levels"])
            self._delete_rows(rec, "skill_levels", stale)

    def _write_agent_groups(self) -> None:
        for rec in self._write_simple("agent-groups"):
            self._links(rec, "agents", [("person", name) for name in rec.data["agents"]])
            self._links(rec, "supervisors", [("person", name) for name in rec.data["supervisors"]])
            self._links(rec, "origination_dns", [("dn", s, n) for s, n in rec.data["origination_dns"]])

    def _stored_key(self, key: str, obj, exporter: _Exporter) -> tuple:
        spec = SPECS[key]
        if spec.kind == "folder":
            return ("folder", obj.folder_type, tuple(exporter.path(obj.pk)))
        if spec.kind == "dn":
            return ("dn", obj.switch.name, obj.number)
        if spec.kind == "transaction":
            return ("transaction", obj.transaction_type, obj.name)
        return (spec.kind, getattr(obj, spec.label_field))

    def _delete_extras(self) -> None:
        """Replace: delete the tenant's objects that the file does not list (dependents first)."""
        exporter = _Exporter(self.tenant)
        plan = []
        for key in DELETE_ORDER:
            queryset = _queryset(SPECS[key], self.tenant).prefetch_related(None)
            objects = [obj for obj in queryset if self._stored_key(key, obj, exporter) not in self.file_keys]
            if key == "folders":  # the deepest first
                objects.sort(key=lambda f: -len(exporter.path(f.pk)))
            plan += [(key, obj) for obj in objects]
        _grow(self.progress, len(plan))
        # applications that go may connect to each other: their connections go first
        going = [obj.pk for key, obj in plan if key in ("applications", "database-access-points")]
        for connection in Connection.objects.filter(application_id__in=going).select_related("application", "server"):
            self._delete(f"connection {connection.application}→{connection}", connection)
        for key, obj in plan:
            label = " / ".join(exporter.path(obj.pk)) if key == "folders" else str(obj)
            if self._delete(f"{key} ({label})", obj):
                self.deleted[key] += 1
            _tick(self.progress)

    def summary(self, dry_run: bool) -> Summary:
        counts = {"tenant": dict.fromkeys(STATUSES, 0)}
        if self.tenant_record.status:
            counts["tenant"][self.tenant_record.status] += 1
        for key, records in self.records.items():
            counter = Counter(rec.status for rec in records if rec.status)
            counts[key] = {status: counter[status] for status in STATUSES}
            counts[key]["deleted"] = self.deleted[key]
        return Summary(tenant=self.tenant.name, tenant_created=self.tenant_created, replace=self.replace,
                       dry_run=dry_run, counts=counts)


def _capped(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_REPORTED:
        return errors
    return [*errors[:MAX_REPORTED], f"… and {len(errors) - MAX_REPORTED} more."]


def import_document(document: Any, *, replace: bool = False, dry_run: bool = False, user=None,
                    progress=None) -> Summary:
    """Write ``document`` into its tenant (created if missing): all of it, or nothing.

    Objects are matched by natural key: missing ones are created, stored ones are set to the file's
    values. ``replace`` also deletes the tenant's objects the file does not list. ``dry_run`` does
    all the work, reports it, and rolls it back. ``user`` (the API's) limits the objects of other
    tenants a reference may name to those the user may read; None (a command) sees every tenant.
    Every write goes through configdb.services with ``user``: PermissionDenied (nothing written) when the
    user lacks a read-write grant on the tenant or on an object the document changes.
    Raises TransferError listing every problem, each naming its record.
    """
    importer = _Importer(document, replace=replace, user=user, progress=progress)
    importer.check()
    # An import writes into the tenant it names: it needs a read-write grant there (creating the tenant, a
    # superuser) even when nothing turns out to differ — the rule of services.check_write, asked up front.
    stored = Tenant.objects.filter(name=document["tenant"]).only("pk", "name").first()
    services.check_write(user, stored if stored is not None else Tenant(name=document["tenant"]))
    with transaction.atomic():
        try:
            importer.write()
        except crypto.SecretDecryptionError as exc:  # a stored object's secret, not the file's
            importer.errors.append(f"stored configuration: {exc}")
        if importer.errors or dry_run:
            transaction.set_rollback(True)
    if importer.errors:
        count = len(importer.errors)
        raise TransferError(f"Nothing was imported: {count} problem{'s' if count != 1 else ''}.",
                            _capped(importer.errors))
    return importer.summary(dry_run)
