"""Field codecs: how one field of a record is written into the document (``dump``) and read back (``clean``).

``clean`` turns a document's value into the model's value or raises :class:`Problem` naming what is wrong;
the value rules themselves are the model's (``full_clean()`` runs on every object written). What the API's
field codecs (configdb/api/fields.py) also do is one function in the layer below, called by both: an options
table is read by ``configdb.options.read`` (the document's secrets are tokens, decrypted by the callback given
to it; the API's are masks), and a reference by name is checked by ``validators.reference_name_problem``. What
differs on purpose is in docs/config-transfer.md (*Shared with the API*).
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from .. import crypto, validators
from .. import options as opts
from .document import Problem

_type_name = validators.json_type


def _name(value: object) -> str:
    """A reference by name (validators.reference_name_problem: the rule the API's name-or-id fields apply too)."""
    problem = validators.reference_name_problem(value)
    if problem:
        raise Problem(problem)
    return value


def _decrypt(value: object) -> object:
    """A secret option's value as the document gives it: an ``enc:v1:`` token, decrypted (options.read's
    ``secret`` callback: ValueError for what is refused). An empty value stays empty, a value of another type is
    left to options.validate."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return _decrypt_token(value)
    except Problem as exc:
        raise ValueError(exc.messages[0]) from None


# -- secrets bound to their tenant (OURS) -----------------------------------------------------------------
# A document's secret is the stored token followed by ``#`` and a tag: an HMAC of the document's tenant name and
# the token under a key derived from PACING_SECRETS_KEY. The import checks the tag against the tenant it writes
# into, so a token copied from another tenant's export is refused rather than decrypted into this tenant (the
# ciphertext itself is the installation's, not the tenant's). A rename of the tenant needs a new export.

#: the tenant of the document being imported (set by import_document); None: a codec used on its own
DOCUMENT_TENANT: contextvars.ContextVar[str | None] = contextvars.ContextVar("document_tenant", default=None)
BIND = "#"


def _binding_keys() -> list[bytes]:
    return [hashlib.sha256(b"pacing-console document binding\0" + key.encode()).digest()
            for key in settings.PACING_SECRETS_KEYS]


def _tag(token: str, tenant: str, key: bytes) -> str:
    mac = hmac.new(key, f"{tenant}\0{token}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode()


def bind(token: str, tenant: str) -> str:
    """A stored token as a document of ``tenant`` carries it."""
    return f"{token}{BIND}{_tag(token, tenant, _binding_keys()[0])}"


def unbind(value: str, tenant: str) -> str:
    """The stored token of a document's secret, checked to belong to ``tenant``; Problem otherwise."""
    token, sep, tag = value.rpartition(BIND)
    if not sep:
        raise Problem(f"the secret token is not bound to a tenant (written by hand, or by an older export): "
                      f"export tenant '{tenant[:80]}' again, or set the secret in the admin or the API.")
    if not any(hmac.compare_digest(tag, _tag(token, tenant, key)) for key in _binding_keys()):
        raise Problem(f"the secret token was not exported from tenant '{tenant[:80]}' by this installation "
                      "(copied from another tenant's document, exported with another PACING_SECRETS_KEY, or "
                      "altered): a secret cannot move between tenants through a document; set it in the admin or "
                      "the API.")
    return token


def _decrypt_token(value: str) -> str:
    tenant = DOCUMENT_TENANT.get()
    if tenant is not None and crypto.is_encrypted(value):
        value = unbind(value, tenant)
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
        try:
            return opts.read(value, _decrypt)  # the API's OptionsSerializerField reads with the same function
        except opts.OptionsError as exc:
            raise Problem(*exc.problems) from None

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

