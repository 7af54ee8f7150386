"""Recording ObjectChange rows for every change of a configuration object, on every path.

Signals (pre_save / post_save / post_delete / m2m_changed) catch the change wherever it comes
from; a context variable says who is acting: the web request's user (set by
``pacingsite.middleware.ActorMiddleware``, resolved late so API token users count too), a
management command (``ConfigCommand``), a Celery task (``pacingsite.celery``), or else the process.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone

from .models import ChangeAction, ObjectChange
from .models.fields import EncryptedTextField, OptionsField
from .secrets import MASK, is_secret_key

CHANGED_SECRET = f"{MASK} (changed)"

SKIPPED_MODELS = {"objectchange", "importjob"}  # the history itself; background imports (not configuration)
SKIPPED_FIELDS = {"created", "modified"}


@dataclass
class Actor:
    name: str
    via: str
    user: object | None = None
    request: object | None = None
    request_id: uuid.UUID | None = field(default_factory=uuid.uuid4)

    def resolve(self) -> tuple[object | None, str]:
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user, user.get_username()
        return None, self.name


_actor: ContextVar[Actor | None] = ContextVar("pacing_actor", default=None)


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is not None:
        return actor
    argv = [Path(sys.argv[0]).name, *sys.argv[1:2]] if sys.argv else ["python"]
    return Actor(name=f"process:{' '.join(argv)}"[:150], via="process", request_id=None)


@contextmanager
def acting_as(name: str, via: str, *, user=None, request=None) -> Iterator[Actor]:
    """Everything changed inside is recorded as done by this actor."""
    actor = Actor(name=name[:150], via=via, user=user, request=request)
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(name: str, via: str, *, user=None):
    """For frameworks with separate start/end hooks (Celery): returns the token for reset_actor."""
    return _actor.set(Actor(name=name[:150], via=via, user=user))


def reset_actor(token) -> None:
    _actor.reset(token)


def redact_options(options):
    if not isinstance(options, dict):
        return options
    return {s: {k: (MASK if is_secret_key(k) and v else v) for k, v in keys.items()} if isinstance(keys, dict)
            else keys for s, keys in options.items()}


def _json(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(obj: models.Model) -> dict:
    """The object's stored values, JSON-ready, secrets redacted (foreign keys as ids)."""
    data = {}
    for f in obj._meta.concrete_fields:
        if f.name in SKIPPED_FIELDS or (f.one_to_one and f.remote_field.parent_link):
            continue
        value = getattr(obj, f.attname)
        if isinstance(f, OptionsField):
            value = redact_options(value)
        elif isinstance(f, EncryptedTextField):
            value = MASK if value else ""
        data[f.name if not f.is_relation else f.name] = _json(value)
    return data


def secret_fingerprints(obj: models.Model) -> dict[tuple[str, ...], str]:
    """Digests of the object's secret values, kept in memory only, to tell that a secret changed."""
    prints = {}
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname)
        if isinstance(f, OptionsField) and isinstance(value, dict):
            for section, keys in value.items():
                for key, secret in (keys or {}).items() if isinstance(keys, dict) else ():
                    if is_secret_key(key) and isinstance(secret, str):
                        prints[(f.name, section, key)] = hashlib.sha256(secret.encode()).hexdigest()
        elif isinstance(f, EncryptedTextField) and isinstance(value, str):
            prints[(f.name,)] = hashlib.sha256(value.encode()).hexdigest()
    return prints


def _mark_changed_secrets(post: dict, before: dict, after: dict) -> None:
    for path in set(before) | set(after):
        if before.get(path) == after.get(path) or path not in after:
            continue
        if len(path) == 1:
            post[path[0]] = CHANGED_SECRET
        else:
            field_name, section, key = path
            post.setdefault(field_name, {}).setdefault(section, {})[key] = CHANGED_SECRET


def _tracked(sender) -> bool:
    meta = sender._meta
    return meta.app_label == "configdb" and meta.model_name not in SKIPPED_MODELS


def _tenant_id(obj):
    from .access import tenant_id_of

    try:
        return tenant_id_of(obj)
    except models.ObjectDoesNotExist:
        return None


def _repr(obj: models.Model) -> str:
    try:
        return str(obj)[:255]
    except models.ObjectDoesNotExist:  # __str__ follows a relation deleted in the same cascade
        return f"{obj._meta.verbose_name} {obj.pk}"


def record(obj: models.Model, action: str, prechange: dict | None, postchange: dict | None) -> ObjectChange:
    actor = current_actor()
    user, name = actor.resolve()
    return ObjectChange.objects.create(
        user=user, actor=name, via=actor.via, request_id=actor.request_id, action=action,
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk),
        object_repr=_repr(obj), tenant_id=_tenant_id(obj), prechange=prechange, postchange=postchange,
    )


def record_many(objs: list[models.Model], links: list[dict] | None = None) -> None:
    """Creation rows for objects inserted with bulk_create (which sends no post_save); ``links`` (one entry
    per object: {many-to-many field: sorted ids}) are the links inserted with them (no m2m_changed either)."""
    if not objs:
        return
    actor = current_actor()
    user, name = actor.resolve()
    content_type = ContentType.objects.get_for_model(objs[0])
    links = links or [{}] * len(objs)
    common = {"user_id": getattr(user, "pk", None), "actor": name, "via": actor.via, "request_id": actor.request_id,
              "action": ChangeAction.CREATE, "content_type_id": content_type.pk, "prechange": None}
    _insert_changes([
        {**common, "object_id": str(obj.pk), "object_repr": _repr(obj), "tenant_id": _tenant_id(obj),
         "postchange": {**snapshot(obj), **extra}}
        for obj, extra in zip(objs, links, strict=True)
    ])


def record_updates(objs: list[models.Model], befores: list[tuple[dict, dict]]) -> None:
    """Update rows for objects written with bulk_update (which sends no signals): ``befores`` holds, per
    object, (snapshot, secret_fingerprints) of the row as read under its lock. An unchanged object gets none."""
    actor = current_actor()
    user, name = actor.resolve()
    common = {"user_id": getattr(user, "pk", None), "actor": name, "via": actor.via, "request_id": actor.request_id,
              "action": ChangeAction.UPDATE}
    rows = []
    for obj, (pre, presecrets) in zip(objs, befores, strict=True):
        post = snapshot(obj)
        _mark_changed_secrets(post, presecrets, secret_fingerprints(obj))
        if pre == post:
            continue
        rows.append({**common, "content_type_id": ContentType.objects.get_for_model(obj).pk, "object_id": str(obj.pk),
                     "object_repr": _repr(obj), "tenant_id": _tenant_id(obj), "prechange": pre, "postchange": post})
    _insert_changes(rows)


FAST_INSERT_ROWS = 5000  # rows per statement of the PostgreSQL path (a JSON parameter of a few megabytes)


def _insert_changes(rows: list[dict]) -> None:
    """Insert history rows (ObjectChange values by attribute name, ``time`` set here) in as few statements as
    possible: the one place the batched writes (record_many, record_updates) insert their history.

    Ours, measured (bench/README.md, config_import): on PostgreSQL, Django with psycopg 3 binds parameters on
    the client, and ``bulk_create`` sends each column as an array whose elements (the JSON snapshots above all)
    psycopg quotes one by one in Python, after Django prepared every value of every row — about 40 % of a
    20,000-object import. Here the rows go as one JSON document in one parameter and the server unpacks it
    (``jsonb_to_recordset``, in the document's order, so ids follow it as with ``bulk_create``); the values are
    the same, and so are the constraints the server checks. Other databases keep ``bulk_create``.
    """
    if not rows:
        return
    connection = connections[ObjectChange.objects.db]
    if connection.vendor != "postgresql":
        ObjectChange.objects.bulk_create([ObjectChange(**row) for row in rows], batch_size=1000)
        return
    fields = [f for f in ObjectChange._meta.concrete_fields if not f.primary_key]
    missing = {f.attname for f in fields} - {"time"} - set(rows[0])
    if missing:  # a new field of ObjectChange must be given a value here, as the ORM path would
        raise ValueError(f"history rows without {sorted(missing)}")
    table = connection.ops.quote_name(ObjectChange._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    definitions = ", ".join(f"{connection.ops.quote_name(f.column)} {f.db_type(connection)}" for f in fields)
    sql = (f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) "  # noqa: S608
           f"AS ({definitions})) WITH ORDINALITY AS r({columns}, ordinal) ORDER BY ordinal")
    for start in range(0, len(rows), FAST_INSERT_ROWS):
        chunk = [{**row, "time": timezone.now().isoformat(), "request_id": _json(row["request_id"])}
                 for row in rows[start:start + FAST_INSERT_ROWS]]
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(chunk)])


def remember_stored(instance: models.Model, stored: models.Model) -> None:
    """The stored row (read under a row lock by configdb.services) is the "before" of ``instance``'s
    next save; taken now, so ``stored`` may be the very object that is then changed and saved."""
    instance.__dict__["_pacing_before"] = (snapshot(stored), secret_fingerprints(stored))


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or not _tracked(sender):
        return
    instance._pacing_prechange = None
    instance._pacing_presecrets = {}
    if instance.pk is not None and not instance._state.adding:
        # configdb.services hands over the row it read under the row lock (the "before" of this very
        # save); any other path reads it here.
        before = instance.__dict__.pop("_pacing_before", None)
        if before is not None:
            instance._pacing_prechange, instance._pacing_presecrets = before
            return
        old = sender._base_manager.filter(pk=instance.pk).first()
        if old is not None:
            instance._pacing_prechange = snapshot(old)
            instance._pacing_presecrets = secret_fingerprints(old)


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _tracked(sender):
        return
    pre = None if created else getattr(instance, "_pacing_prechange", None)
    post = snapshot(instance)
    if not created:
        _mark_changed_secrets(post, getattr(instance, "_pacing_presecrets", {}), secret_fingerprints(instance))
        if pre == post:
            return
    record(instance, ChangeAction.CREATE if created else ChangeAction.UPDATE, pre, post)


def _post_delete(sender, instance, **kwargs):
    if not _tracked(sender):
        return
    record(instance, ChangeAction.DELETE, snapshot(instance), None)


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A link added or removed is an update of the object that owns the field (not of the far side)."""
    if action not in ("pre_add", "pre_remove", "pre_clear", "post_add", "post_remove", "post_clear"):
        return
    if reverse or not _tracked(type(instance)):
        return
    field_name = next((f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender), None)
    if field_name is None:
        return
    if action.startswith("pre_"):
        instance._pacing_m2m_before = sorted(getattr(instance, field_name).values_list("pk", flat=True))
        return
    before = getattr(instance, "_pacing_m2m_before", None)
    after = sorted(getattr(instance, field_name).values_list("pk", flat=True))
    if before != after:
        record(instance, ChangeAction.UPDATE, {field_name: before}, {field_name: after})


def connect() -> None:
    pre_save.connect(_pre_save, dispatch_uid="pacing-history-pre-save")
    post_save.connect(_post_save, dispatch_uid="pacing-history-post-save")
    post_delete.connect(_post_delete, dispatch_uid="pacing-history-post-delete")
    m2m_changed.connect(_m2m_changed, dispatch_uid="pacing-history-m2m")
