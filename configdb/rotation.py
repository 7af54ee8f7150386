"""Re-encrypting every stored secret under the newest key (``manage.py rotate_secrets_key``; OURS).

``PACING_SECRETS_KEY`` lists keys newest first: the first encrypts, all decrypt. Rotating a key is three steps
(docs/deployment.md, "Rotating the secrets key"): put the new key in front and restart every process; run this,
which rewrites every stored token that is not under the newest key; drop the old key and restart. Until the last
step nothing is lost: an old token still decrypts.

Every model field that holds secrets is found from the models themselves (``OptionsField``: the secret-named
keys of each table; ``EncryptedTextField``), so a secret added later is rotated too. Each table is rewritten in
batches by primary key, each batch in its own transaction, with ``QuerySet.update``: the secrets' plain values do
not change, so this is not a configuration change and records no history (the history never holds secrets).
A token that decrypts with no configured key (a lost key, a planted value) cannot be rotated; it is reported
with its object and field and left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction

from . import crypto
from .models.fields import EncryptedTextField, OptionsField
from .secrets import SealedSecret, is_secret_key

BATCH = 500


@dataclass
class RotationReport:
    rotated: int = 0                 # tokens re-encrypted under the newest key
    current: int = 0                 # tokens already under it
    rows: int = 0                    # rows rewritten
    sealed: list[str] = field(default_factory=list)   # "<model> <pk> <field>[ section/key]": no key decrypts it
    dry_run: bool = False


def secret_fields() -> Iterator[tuple[type[models.Model], models.Field]]:
    """Every (model, field) of the project that stores secrets."""
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for f in model._meta.local_concrete_fields:          # inherited fields: with their own table
            if isinstance(f, OptionsField | EncryptedTextField):
                yield model, f


def _tokens(f: models.Field, stored) -> Iterator[tuple[str, str]]:
    """(where, token) of each secret in a raw stored value."""
    if isinstance(f, EncryptedTextField):
        if crypto.is_encrypted(stored):
            yield "", stored
        return
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            return
    for section, keys in (stored or {}).items() if isinstance(stored, dict) else ():
        for key, value in (keys or {}).items() if isinstance(keys, dict) else ():
            if is_secret_key(key) and crypto.is_encrypted(value):
                yield f" {section}/{key}", value


def _raw(model: type[models.Model], f: models.Field, pks: list) -> dict:
    """The stored (still encrypted) values of ``f`` for ``pks``: read with the column's own type, no converter."""
    from django.db import connection

    table, column, pk_column = model._meta.db_table, f.column, model._meta.pk.column
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(pk_column)}, {quote(column)} FROM {quote(table)} "  # noqa: S608 - names
                       f"WHERE {quote(pk_column)} IN ({marks})", pks)                     # from the models
        return dict(cursor.fetchall())


def rotate(*, dry_run: bool = False, progress: Callable[[str, int], None] | None = None) -> RotationReport:
    """Re-encrypt every secret not under the newest key (``dry_run``: count only)."""
    report = RotationReport(dry_run=dry_run)
    for model, f in secret_fields():
        label = f"{model._meta.label} {f.name}"
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            batch = pks[start:start + BATCH]
            with transaction.atomic():
                raw = _raw(model, f, batch)
                stale = []
                for pk, stored in raw.items():
                    tokens = list(_tokens(f, stored))
                    old = [(where, t) for where, t in tokens if not crypto.is_current(t)]
                    report.current += len(tokens) - len(old)
                    if not old:
                        continue
                    opened = [crypto.open_stored(t) for _, t in old]
                    for (where, _), plain in zip(old, opened, strict=True):
                        if isinstance(plain, SealedSecret):
                            report.sealed.append(f"{model._meta.label} {pk} {f.name}{where}")
                    good = sum(not isinstance(p, SealedSecret) for p in opened)
                    if good:
                        report.rotated += good
                        stale.append(pk)
                if stale and not dry_run:
                    # the field reads decrypted (from_db_value) and writes encrypted under the newest key
                    # (get_prep_value); sealed values pass through unchanged
                    for obj in model._base_manager.filter(pk__in=stale).only("pk", f.attname):
                        model._base_manager.filter(pk=obj.pk).update(**{f.attname: getattr(obj, f.attname)})
                    report.rows += len(stale)
            if progress:
                progress(label, len(batch))
    return report
