"""Import: a document written into its tenant, all or nothing (docs/config-transfer.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import ProtectedError, RestrictedError

from .. import access, crypto, services
from ..models import (
    DN,
    Application,
    Connection,
    DatabaseAccessPoint,
    DNType,
    Folder,
    MediaType,
    Skill,
    Switch,
    Tenant,
    Transaction,
)
from .codecs import DNRefs, FolderPath, Names, Ref, Rows, RowSpec, _clean_fields, _name, _type_name
from .document import FAILED, FORMAT, MAX_REPORTED, STATUSES, TOP_KEYS, VERSION, Problem, TransferError, _grow, _tick
from .export import _Exporter, _queryset
from .specs import (
    CONNECTION,
    DELETE_ORDER,
    GLOBAL_KINDS,
    KEY_FIELDS,
    LIST_KEYS,
    OBJECT_KEYS,
    PORT,
    SKILL_LEVEL,
    SPECS,
    TENANT_SPEC,
    Spec,
    _spec_problems,
    describe,
    natural_key,
)

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
