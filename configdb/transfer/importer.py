"""Import: a document written into its tenant, all or nothing (docs/config-transfer.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import ProtectedError, RestrictedError, prefetch_related_objects

from .. import access, bulk, crypto, pacing_options, services
from ..models import (
    Application,
    Connection,
    DatabaseAccessPoint,
    DNType,
    Tenant,
)
from .codecs import DOCUMENT_TENANT, DNRefs, FolderPath, Names, Ref, Rows, RowSpec, _clean_fields, _name, _type_name
from .document import (
    FAILED,
    FORMAT,
    MAX_REPORTED,
    STATUSES,
    TOP_KEYS,
    VERSION,
    WITHHELD,
    Problem,
    TransferError,
    _grow,
    _tick,
)
from .export import _Exporter, _queryset
from .specs import (
    CONNECTION,
    DELETE_ORDER,
    GLOBAL_KINDS,
    KEY_FIELDS,
    KIND_MODELS,
    LIST_KEYS,
    OBJECT_KEYS,
    PORT,
    SKILL_LEVEL,
    SPECS,
    TENANT_SPEC,
    Spec,
    _legacy_values,
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
                changed.append(name)
            if value is not None or name in changed:
                setattr(obj, name, value)  # loaded: validation reads it (the folder's type) without a query
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
class _New:
    """An object to create: a record's own (``rec``) or a row of one (``owner``: its parent's record)."""

    where: str
    obj: models.Model
    rec: _Record | None = None
    owner: _Record | None = None
    links: dict = field(default_factory=dict)


@dataclass
class Summary:
    """What an import did (or, for a dry run, would do)."""

    tenant: str
    tenant_created: bool
    replace: bool
    dry_run: bool
    counts: dict[str, dict[str, int]]
    #: what was imported but deserves a look, each naming its record: a pacing virtual queue whose alias differs
    #: from its number (configdb.pacing_options.queue_warnings, the warning the admin and the API give on a save)
    warnings: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {status: sum(c[status] for c in self.counts.values()) for status in STATUSES}

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "tenant_created": self.tenant_created, "replace": self.replace,
                "dry_run": self.dry_run, "counts": self.counts, "totals": self.totals, "warnings": self.warnings}

    def lines(self) -> list[str]:
        width = max(len(k) for k in self.counts) + 2
        head = f"{'':{width}}" + "".join(f"{s:>10}" for s in STATUSES)
        rows = [f"{k:{width}}" + "".join(f"{c[s]:10d}" for s in STATUSES) for k, c in self.counts.items()]
        total = f"{'total':{width}}" + "".join(f"{self.totals[s]:10d}" for s in STATUSES)
        return [head, *rows, total]


class _StoredIndex:
    """The stored objects the document's natural keys may name, read in one query per namespace (and, for the
    namespaces unique across tenants, per 500 names the document uses), not one query per record.

    ``get(key)`` answers for the tenant's own namespaces (folders, switches, DNs, …) and, unfiltered by tenant,
    for the global ones (hosts, templates, applications, persons): the importer applies the visibility and
    ownership rules. Only what the import itself writes changes the answer, and those keys the importer knows
    from the file first (``_Importer.done``)."""

    CHUNK = 500

    def __init__(self, tenant: Tenant | None, names: dict[str, set]):
        self.tenant = tenant
        self.names = names  # global namespace -> the names the document uses
        self.maps: dict[str, dict[tuple, Any]] = {}
        self.daps: set[int] = set()

    def get(self, key: tuple):
        kind = key[0]
        if kind not in self.maps:
            self.maps[kind] = self._load(kind)
        found = self.maps[kind].get(key)
        if found is None and kind in GLOBAL_KINDS and key[1] not in self.names.get(kind, ()):
            found = self._load_names(kind, [key[1]]).get(key)  # a name only a reference uses
            if found is not None:
                self.maps[kind][key] = found
        return found

    def is_dap(self, obj) -> bool:
        return obj.pk in self.daps

    def _load(self, kind: str) -> dict[tuple, Any]:
        if kind in GLOBAL_KINDS:
            return self._load_names(kind, sorted(self.names.get(kind, ())))
        if self.tenant is None or self.tenant.pk is None:
            return {}
        model = KIND_MODELS[kind]
        rows = model._default_manager.filter(tenant=self.tenant)
        if kind == "folder":
            folders = list(rows)
            by_pk = {f.pk: f for f in folders}
            for folder in folders:  # the parents from this one query, not one query per level
                if folder.parent_id in by_pk:
                    folder.parent = by_pk[folder.parent_id]
            return {("folder", f.folder_type, tuple(f.path_names())): f for f in folders}
        if kind == "dn":
            rows = rows.select_related("switch")
            return {("dn", dn.switch.name, dn.number): dn for dn in rows}
        fields = KEY_FIELDS[kind]
        return {(kind, *(getattr(obj, name) for name in fields)): obj for obj in rows}

    def _load_names(self, kind: str, names: list) -> dict[tuple, Any]:
        model = GLOBAL_KINDS[kind]
        name_field = model.name_field()
        found = {}
        for start in range(0, len(names), self.CHUNK):
            rows = list(model._default_manager.filter(**{f"{name_field}__in": names[start:start + self.CHUNK]}))
            found.update({(kind, getattr(obj, name_field)): obj for obj in rows})
            if kind == "application" and rows:
                self.daps.update(DatabaseAccessPoint.objects.filter(pk__in=[o.pk for o in rows])
                                 .values_list("pk", flat=True))
        return found


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
        self.index: _StoredIndex | None = None

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
        if "secrets" in doc:
            if doc["secrets"] == WITHHELD:
                raise TransferError("This document carries no secrets: it was exported for a user without a "
                                    "read-write grant on the tenant, so importing it would lose them.",
                                    ["secrets: withheld. Import an export made with a read-write grant."])
            found = json.dumps(doc["secrets"])[:80]
            raise TransferError("The document is not valid.",
                                [f"secrets: expected '{WITHHELD}' or nothing, found {found}."])
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
            _legacy_values(spec, data)
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
        """The stored object a natural key names (another tenant's only for the global namespaces, and only
        one the user may read)."""
        obj = self.index.get(key)
        if obj is not None and key[0] in GLOBAL_KINDS and self.visible is not None \
                and obj.tenant_id not in self.visible:
            return None
        return obj

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
            return self.index.get(("dn", values["switch"].name, data["number"]))
        obj = self.index.get(rec.key)
        if obj is None or spec.kind not in GLOBAL_KINDS:
            return obj
        name_field = spec.label_field
        if obj.tenant_id != self.tenant.pk:
            raise Problem(f"{name_field}: {describe((spec.kind, data[name_field]))} already exists and belongs to "
                          "another tenant.")
        if spec.kind == "application":
            dap = self.index.is_dap(obj)
            if spec.model is DatabaseAccessPoint and not dap:
                raise Problem(f"name: '{obj.name}' is an application, not a database access point; list it "
                              "under applications.")
            if spec.model is Application and dap:
                raise Problem(f"name: '{obj.name}' is a database access point; list it under "
                              "database-access-points.")
            if dap:
                return DatabaseAccessPoint.objects.get(pk=obj.pk)
        return obj

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

    def _resolve_links(self, rec: _Record, field_name: str, keys: list[tuple]) -> list | None:
        """The objects ``keys`` name; None (problems reported) if one of them fails."""
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
        return objects if ok else None

    def _links(self, rec: _Record, field_name: str, keys: list[tuple]) -> None:
        """Set a many-to-many field of a stored object to the objects ``keys`` name (unchanged links are not
        rewritten)."""
        objects = self._resolve_links(rec, field_name, keys)
        if objects is not None:
            self._set_links(rec, field_name, objects)

    def _set_links(self, rec: _Record, field_name: str, objects: list) -> None:
        current = {o.pk for o in getattr(rec.obj, field_name).all()}  # prefetched for the stored objects
        if current == {o.pk for o in objects}:
            return
        try:
            services.set_links(rec.obj, field_name, objects, user=self.user)
        except ValidationError as exc:
            self.errors += [f"{rec.where}: {m}" for m in _messages(exc)]
            return
        rec.touch()

    def _rows(self, rec: _Record, field_name: str, spec: RowSpec, parent: dict, rows: list[dict],
              batch: list | None = None) -> list:
        """Create or update the rows of ``field_name``; return the stored rows the file does not list. The rows
        of an object created by this import are appended to ``batch`` (created together, _create) when given."""
        new_parent = rec.status == "created"
        existing = {}
        for row in () if new_parent else getattr(rec.obj, field_name).all():  # prefetched
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
                if batch is not None and new_parent:
                    batch.append(_New(where, row, owner=rec))
                    continue
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
        names: dict[str, set] = {kind: set() for kind in GLOBAL_KINDS}
        for key in self.file_keys:
            if key[0] in names:
                names[key[0]].add(key[1])
        self.index = _StoredIndex(None if self.tenant_created else self.tenant, names)
        self._write_folders()
        self._write_simple("hosts")
        self._write_simple("application-templates")
        # media types before the applications and DNs: an Interaction Server's [cluster-settings] media-types and
        # a virtual queue's pacing/media must name media types of their tenant
        self._write_simple("media-types")
        self._write_applications()
        self._write_simple("switches")
        self._write_simple("dns")
        self._write_simple("virtual-queues")
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
            existing = self.index.get(rec.key)
            self._upsert(rec, existing, {"folder_type": data["type"], "parent": parent, "name": path[-1],
                                         "description": data["description"], "state": data["state"]})

    def _write_simple(self, key: str, skip: tuple[str, ...] = (), links=None) -> list[_Record]:
        """Write the records of ``key``: stored objects updated one by one (services.save_object), new ones
        created together (services' bulk path, configdb.bulk.create_many), with the links ``links(rec)``
        resolves for them ({field: objects}, None when a reference fails). The written records, in file order."""
        written, new, updates = [], [], []
        model = SPECS[key].model
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
            if existing is None:
                resolved = links(rec) if links is not None else {}
                if resolved is None:
                    self._register(rec, FAILED)
                    continue
                new.append(_New(rec.where, model(tenant=self.tenant, **values), rec=rec, links=resolved))
                written.append(rec)
                continue
            changed = _apply(existing, values)
            rec.obj, rec.status = existing, "unchanged"
            if changed:
                updates.append((rec, existing, changed))
            self._register(rec, existing)
            written.append(rec)
        self._update(updates)
        self._create(new)
        for entry in new:
            if entry.rec.status == "created" and isinstance(entry.obj, Application):
                self._keep_file_options(entry.rec)
        return [rec for rec in written if rec.status]

    def _update(self, updates: list[tuple[_Record, models.Model, list[str]]]) -> None:
        """Write the changed fields of stored objects (all of one model) together (configdb.bulk.update_many);
        when some are refused, each problem is reported for its record and the others are saved one by one."""
        if not updates:
            return
        try:
            saved, problems = bulk.update_many([(obj, fields) for _, obj, fields in updates], user=self.user)
        except (DatabaseError, crypto.SecretDecryptionError) as exc:
            saved, problems = [], {0: {NON_FIELD_ERRORS: [f"the database refused it: {exc}"]}}
        if not problems:
            for (rec, _, _), row in zip(updates, saved, strict=True):
                rec.obj, rec.status = row, "updated"
                self._register(rec, row)
            return
        for index, (rec, obj, fields) in enumerate(updates):
            if index in problems:
                self.errors += [f"{rec.where}: {m}" for m in _messages(ValidationError(problems[index]))]
                self._register(rec, FAILED)
            elif self._save_record(rec, obj, fields):
                rec.status = "updated"
            else:
                self._register(rec, FAILED)

    def _create(self, new: list[_New]) -> None:
        """Create ``new`` objects (all of one model) in batches; each problem is reported for its record. When
        some are refused, the others are saved one by one, so that what depends on them is still checked."""
        if not new:
            return
        try:
            _, problems = bulk.create_many([(e.obj, e.links) for e in new], user=self.user)
        except (DatabaseError, crypto.SecretDecryptionError) as exc:
            problems = {0: {NON_FIELD_ERRORS: [f"the database refused it: {exc}"]}}
        if problems:
            for index, entry in enumerate(new):
                if index in problems:
                    self.errors += [f"{entry.where}: {m}" for m in _messages(ValidationError(problems[index]))]
                    if entry.rec is not None:
                        self._register(entry.rec, FAILED)
                    continue
                if not self._save(entry.where, entry.obj):
                    if entry.rec is not None:
                        self._register(entry.rec, FAILED)
                    continue
                for field_name, objects in entry.links.items():
                    if objects:
                        self._save_links(entry, field_name, objects)
                self._created(entry)
            return
        for entry in new:
            self._created(entry)

    def _save_links(self, entry: _New, field_name: str, objects: list) -> None:
        try:
            services.set_links(entry.obj, field_name, objects, user=self.user)
        except ValidationError as exc:
            self.errors += [f"{entry.where}: {m}" for m in _messages(exc)]

    def _created(self, entry: _New) -> None:
        if entry.rec is not None:
            entry.rec.obj, entry.rec.status = entry.obj, "created"
            self._register(entry.rec, entry.obj)
        if entry.owner is not None:
            entry.owner.touch()

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
        def links(rec):
            media = self._resolve_links(rec, "media_types", [("mediatype", n) for n in rec.data["media_types"]])
            return None if media is None else {"media_types": media}

        records = self._write_simple("persons", links=links)
        self._prefetch(records, "media_types", "skill_levels")
        rows: list[_New] = []
        for rec in records:
            if rec.status != "created":
                self._links(rec, "media_types", [("mediatype", name) for name in rec.data["media_types"]])
            stale = self._rows(rec, "skill_levels", SKILL_LEVEL, {"person": rec.obj}, rec.data["skill_levels"],
                               batch=rows)
            self._delete_rows(rec, "skill_levels", stale)
        self._create(rows)

    def _write_agent_groups(self) -> None:
        fields = {"agents": lambda d: [("person", n) for n in d["agents"]],
                  "supervisors": lambda d: [("person", n) for n in d["supervisors"]],
                  "origination_dns": lambda d: [("dn", s, n) for s, n in d["origination_dns"]]}

        def links(rec):
            resolved = {name: self._resolve_links(rec, name, keys(rec.data)) for name, keys in fields.items()}
            return None if any(v is None for v in resolved.values()) else resolved

        records = self._write_simple("agent-groups", links=links)
        self._prefetch(records, *fields)
        for rec in records:
            if rec.status != "created":
                for name, keys in fields.items():
                    self._links(rec, name, keys(rec.data))

    def _prefetch(self, records: list[_Record], *lookups: str) -> None:
        """Read the links and rows of the stored objects among ``records`` in one query per field."""
        stored = [rec.obj for rec in records if rec.status != "created"]
        if stored:
            prefetch_related_objects(stored, *lookups)

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
                       dry_run=dry_run, counts=counts, warnings=self.warnings())

    def warnings(self) -> list[str]:
        """The warnings of the document's virtual queues as imported (created, updated or unchanged: the file says
        what the queue is, and the admin warns on every save of such a queue too)."""
        return [f"{rec.where}: {warning}" for rec in self.records["virtual-queues"]
                if rec.status and rec.obj is not FAILED for warning in pacing_options.queue_warnings(rec.obj)]


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
    tenant_name = document.get("tenant") if isinstance(document, dict) else None
    binding = DOCUMENT_TENANT.set(tenant_name if isinstance(tenant_name, str) else "")
    try:
        return _import(importer, document, dry_run, user)
    finally:
        DOCUMENT_TENANT.reset(binding)


def _import(importer: _Importer, document: Any, dry_run: bool, user) -> Summary:
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
