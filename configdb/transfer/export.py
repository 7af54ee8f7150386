"""Export: a tenant's objects as a document, references by natural key, secrets as ``enc:v1:`` tokens."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import ExpressionWrapper, F, Prefetch
from django.utils import timezone

from .. import crypto, services
from ..models import DN, DNType, Folder, Tenant
from ..secrets import MASK, is_secret_key
from .codecs import DNRefs, Kind, Names, Options, Ref, Rows, Secret, bind
from .document import FORMAT, VERSION, WITHHELD, TransferError, _grow, _tick
from .specs import SPECS, TENANT_SPEC, Spec, natural_key

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
            rows = kind.spec.model._default_manager.select_related(*refs)
            # a row's secrets (a port's certificate key) as stored too, so an export repeats their tokens
            raw_rows = {f"_raw_{n}": _raw(n, k) for n, k in kind.spec.fields.items() if isinstance(k, Secret)}
            prefetch.append(Prefetch(name, queryset=rows.annotate(**raw_rows) if raw_rows else rows))
    if prefetch:
        queryset = queryset.prefetch_related(*prefetch)
    raw = {f"_raw_{n}": _raw(n, k) for n, k in spec.fields.items() if isinstance(k, Options | Secret)}
    return queryset.annotate(**raw) if raw else queryset


class _Exporter:
    def __init__(self, tenant: Tenant, progress=None, with_secrets: bool = True):
        self.tenant = tenant
        self.progress = progress
        self.with_secrets = with_secrets
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

    def seal(self, plain: str, stored: object) -> str:
        """A secret as the document carries it: the stored token (so exports repeat), or a new one for a value
        stored in clear, bound to the tenant (codecs.bind); the mask alone when secrets are withheld."""
        if not self.with_secrets:
            return MASK
        return bind(self._token(plain, stored), self.tenant.name)

    @staticmethod
    def _token(plain: str, stored: object) -> str:
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
        head = {"format": FORMAT, "version": VERSION, "exported": timezone.now().isoformat(timespec="seconds"),
                "tenant": self.tenant.name}
        if not self.with_secrets:
            head["secrets"] = WITHHELD
        return {**head, "objects": objects}


def _sort_key(spec: Spec, record: dict) -> tuple:
    return tuple(tuple(part) if isinstance(part, list) else part for part in natural_key(spec, record))


def export_tenant(tenant: Tenant, *, progress=None, user=None) -> dict:
    """The document of ``tenant``'s configuration: every object it owns, references by natural key.

    ``user`` (the API's; None: a command) decides the secrets: with a read-write grant on the tenant they are
    tokens bound to it; without one they are withheld (masked, ``"secrets": "withheld"``): a reader may see the
    configuration, not carry its secrets elsewhere."""
    try:
        return _Exporter(tenant, progress, with_secrets=services.may_write(user, tenant)).run()
    except crypto.SecretDecryptionError as exc:
        raise TransferError(f"Cannot export tenant '{tenant.name}'.", [str(exc)]) from None


