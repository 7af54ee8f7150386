"""Service functions: the one path by which the admin, the API, the importers and the commands change objects.

Every write goes through this module with the acting user (``user=None`` for a management command or a
Celery task of its own, which are unrestricted; ours: a task carrying out a user's request — a background
configuration import — acts as that user, so it runs with their grants and is recorded as theirs). Each
function, in one transaction:

1. reads the stored row under a row lock (``select_for_update``; on SQLite the immediate transaction
   holds the database's write lock instead),
2. checks the user's tenant grant (configdb.access) on the stored object *and* on what it becomes,
3. checks the caller's version of the object (``version``: an ETag / the admin form's hidden field) is
   still the stored one — else :class:`StaleObject`, "changed by someone else since you opened it",
4. applies the change — with ``fields``, only the named fields, onto the freshly locked row, so a
   concurrent change of another field is kept — and runs ``full_clean()``,
5. saves (``update_fields`` when ``fields`` is given), turning a unique-constraint race the
   validation could not see into a ValidationError naming the field,
6. records the history (configdb.history), whose "before" is the row read under the lock.

Callers keep no checks of their own: they scope what they show with ``Model.objects.restrict(user,
action)`` and hand every write to these functions. A caller that must refuse before it does any work (reads
a large upload, plans a provisioning, validates a stats push) asks the services' own checks up front —
:func:`check_write`, :func:`check_tenant_write`, :func:`check_any_write` — and what to show (an *Apply*
button, the admin's change permission) asks :func:`may_write` / :func:`may_write_any`: one definition of who
may write, the same the writes themselves apply again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.crypto import salted_hmac

from . import access, history
from . import options as opts
from .models import (
    DN,
    Application,
    ConfigObject,
    Connection,
    Person,
    Port,
    SkillLevel,
    State,
    Tenant,
)
from .models.fields import OptionsField

__all__ = [
    "ObjectGone", "StaleObject", "apply_fields", "check_deferred_constraints", "check_same_tenant", "check_move",
    "check_any_write", "check_tenant_write", "check_version", "check_write", "clone_object", "may_write",
    "may_write_any", "delete_object", "export_options", "import_options", "lock",
    "name_and_scope", "options_fields", "prepare", "sealed_secret_warnings", "save_object", "set_links", "set_state",
    "tenant_references", "version_of",
]


class StaleObject(Exception):
    """The object was changed by someone else since the caller read it (its version differs)."""

    def __init__(self, obj: models.Model):
        self.obj = obj
        self.object_type = f"{obj._meta.concrete_model._meta.app_label}.{obj._meta.concrete_model._meta.model_name}"
        self.message = (f"This {obj._meta.verbose_name} was changed by someone else since you opened it; nothing "
                        "was written. Look at what changed, then apply your change to the current version.")
        super().__init__(self.message)


class ObjectGone(ObjectDoesNotExist):
    """The object to update was deleted meanwhile (by another request)."""


# -- versions ---------------------------------------------------------------------------------------


def version_of(obj: models.Model) -> str:
    """The version of an object's stored values (every concrete field): an ETag in the API, a hidden field
    in the admin form. A keyed digest (HMAC with SECRET_KEY), so it reveals nothing about secret values.
    Links (many-to-many fields) are not part of it (ours: they are written whole, by a separate call)."""
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    payload = json.dumps(values, sort_keys=True, default=str)
    return salted_hmac("configdb.services.version", payload).hexdigest()[:32]


def lock(obj: models.Model) -> models.Model | None:
    """The stored row of ``obj``, locked until the end of the transaction (None if it is gone)."""
    return type(obj)._base_manager.select_for_update().filter(pk=obj.pk).first()


def check_version(obj: models.Model, version: str | None) -> models.Model | None:
    """Lock ``obj``'s row and raise StaleObject unless its stored version is ``version`` (None: no check).
    Must run inside a transaction (the admin's change view is one): the lock lasts until its end."""
    stored = lock(obj) if obj.pk is not None and not obj._state.adding else None
    if version and stored is not None and version_of(stored) != version:
        raise StaleObject(stored)
    return stored


# -- permission ---------------------------------------------------------------------------------------


def _tenant_label(tenant_id: int | None) -> str:
    name = Tenant.objects.filter(pk=tenant_id).values_list("name", flat=True).first() if tenant_id else None
    return f"tenant '{name}'" if name else "this object's tenant"


def check_write(user, obj: models.Model, stored: models.Model | None = None) -> None:
    """PermissionDenied unless ``user`` may write the tenant of ``obj`` (and of ``stored``, the object as
    it is stored: moving an object needs both tenants). None (a command or task) may write anything."""
    if user is None:
        return
    if isinstance(obj, Tenant) and obj.pk is None:
        if not access.is_unrestricted(user):
            raise PermissionDenied("Creating a tenant needs a superuser.")
        return
    tenants = {access.tenant_id_of(obj)}
    if stored is not None:
        tenants.add(access.tenant_id_of(stored))
    for tenant_id in sorted(tenants, key=lambda t: (t is None, t or 0)):
        if not access.can_write(user, tenant_id):
            raise PermissionDenied(f"You have no read-write grant on {_tenant_label(tenant_id)}.")


def check_tenant_write(user, tenant: Tenant | str) -> None:
    """PermissionDenied unless ``user`` may write into ``tenant``: a Tenant, or a tenant's name (one not stored
    yet is a tenant to create, which needs a superuser). :func:`check_write` asked up front, for a caller that
    refuses before any work — a configuration import before it reads its document (directly or as a job), a
    stats push before it validates the snapshots, a provisioning before it writes; the writes check again."""
    if isinstance(tenant, str):
        tenant = Tenant.objects.filter(name=tenant).only("pk", "name").first() or Tenant(name=tenant)
    check_write(user, tenant)


def check_any_write(user, what: str) -> None:
    """PermissionDenied unless ``user`` holds a read-write grant on at least one tenant (None, a command, and a
    superuser always may): asked before reading an upload whose tenant is known only once it is read (an
    application template), so a read-only user gets 403 before any file is read. ``what`` names the request
    ("importing a template")."""
    if not may_write_any(user):
        raise PermissionDenied(f"You have no read-write grant: {what} needs one.")


def may_write(user, obj: models.Model) -> bool:
    """Whether :func:`check_write` lets ``user`` write ``obj`` (what a page shows: a change button, *Apply*)."""
    try:
        check_write(user, obj)
    except PermissionDenied:
        return False
    return True


def may_write_any(user) -> bool:
    """Whether ``user`` may write anything at all (a read-write grant on some tenant, or unrestricted)."""
    return user is None or access.writable_tenant_ids(user) != set()


# -- what a save derives, and the rules across objects ---------------------------------------------------


def _apply_template_defaults(app: Application) -> None:
    """A new application starts with its template's type, version, options and annex (as in GAX)."""
    template = app.template if app.template_id else None
    if template is None:
        return
    app.app_type = app.app_type or template.app_type
    app.version = app.version or template.version
    if not app.options:
        app.options = {s: dict(k) for s, k in (template.default_options or {}).items()}
    if not app.annex:
        app.annex = {s: dict(k) for s, k in (template.default_annex or {}).items()}


def prepare(obj: models.Model) -> None:
    """Fill what an object derives before validation and permission checks (template defaults, a DN's
    tenant from its switch)."""
    if isinstance(obj, Application) and obj._state.adding:
        _apply_template_defaults(obj)
    if isinstance(obj, DN) and obj.switch_id and not obj.tenant_id:
        obj.tenant = obj.switch.tenant


def check_same_tenant(tenant_id: int | None, related: Iterable[models.Model], field: str) -> None:
    """Objects linked to ``tenant_id``'s object (agents, origination DNs, …) must be its own."""
    if tenant_id is None:
        return
    foreign = [str(o) for o in related if getattr(o, "tenant_id", tenant_id) != tenant_id]
    if foreign:
        raise ValidationError({field: f"These belong to another tenant: {', '.join(sorted(foreign))}."})


#: link models whose rows stand for a many-to-many field (reported through that field instead)
_LINK_MODELS = {"originationdn", "applicationtenant"}


def _describe(obj: models.Model) -> str:
    return f"{obj._meta.verbose_name} '{obj}'"


def tenant_references(obj: ConfigObject, tenant_id: int, limit: int = 20) -> list[str]:
    """Objects of tenant ``tenant_id`` that refer to ``obj`` or that ``obj`` links to (its agents,
    origination DNs, media types, a person's skills): what moving ``obj`` out of that tenant would leave
    pointing across tenants."""
    found: set[str] = set()
    only = {tenant_id}
    for rel in obj._meta.related_objects:
        related = rel.related_model
        if related._meta.app_label != "configdb" or related._meta.model_name in _LINK_MODELS | {"objectchange"}:
            continue
        if rel.one_to_one and rel.field.remote_field.parent_link:
            continue  # a DAP is its application
        name = rel.field.name
        path = access.tenant_path(related)
        if not rel.many_to_many and path.split("__")[0] == name:
            continue  # owned by obj (its ports, its skill levels): they move with it
        rows = access._only_tenants(related._base_manager.filter(**{name: obj}), only)
        for row in rows[:limit]:
            owner = row if path in ("tenant", "pk") else getattr(row, path.split("__")[0])
            found.add(_describe(owner))
    for field in obj._meta.many_to_many:
        if field.name == "tenants":  # an application serves any tenant
            continue
        for row in access._only_tenants(getattr(obj, field.name).all(), only)[:limit]:
            found.add(_describe(row))
    if isinstance(obj, Person):
        for level in SkillLevel.objects.filter(person=obj, skill__tenant_id=tenant_id).select_related("skill"):
            found.add(_describe(level.skill))
    return sorted(found)[:limit]


def check_move(obj: ConfigObject) -> None:
    """An object may change tenant only when no object of its old tenant refers to it (ours: the old tenant
    would keep references across tenants, and its export would no longer import). Called by
    ConfigObject.clean(), so every path — admin form, API, import — gets the same answer."""
    if obj.pk is None or obj._state.adding or isinstance(obj, DN):
        return
    old = type(obj)._base_manager.filter(pk=obj.pk).values_list("tenant_id", flat=True).first()
    if old is None or old == obj.tenant_id:
        return
    refs = tenant_references(obj, old)
    if refs:
        raise ValidationError({"tenant": f"Cannot move this {obj._meta.verbose_name} to another tenant while "
                                         f"objects of its tenant refer to it: {', '.join(refs)}."})


# -- saving -----------------------------------------------------------------------------------------------


def _update_fields(obj: models.Model, fields: Iterable[str]) -> list[str]:
    """Concrete field names for ``save(update_fields=…)`` (``modified`` too, when the model has it)."""
    concrete = {f.name: f for f in obj._meta.concrete_fields}
    names = [name for name in dict.fromkeys(fields) if name in concrete and not concrete[name].primary_key]
    if names and "modified" in concrete:
        names.append("modified")
    return names


def apply_fields(target: models.Model, source: models.Model, names: list[str]) -> None:
    """Copy the named fields' values of ``source`` onto ``target`` (a related object as it is loaded)."""
    for name in names:
        field = source._meta.get_field(name)
        if field.is_relation and field.is_cached(source):
            setattr(target, name, getattr(source, name))
        else:
            setattr(target, field.attname, getattr(source, field.attname))


def _integrity_error(obj: models.Model, exc: IntegrityError) -> ValidationError:
    """A constraint the database refused although full_clean() passed: another request saved the same name
    at the same moment (READ COMMITTED on PostgreSQL). Asked again now, validation names the field."""
    try:
        obj.validate_unique()
        obj.validate_constraints()
    except ValidationError as found:
        return found
    return ValidationError({NON_FIELD_ERRORS: [
        "Another change conflicted with this one at the same moment (a related object was changed or deleted); "
        "nothing was written. Try again."]})


def check_deferred_constraints() -> None:
    """Run now the foreign-key checks PostgreSQL defers to the commit (Django creates them DEFERRABLE INITIALLY
    DEFERRED), inside the caller's savepoint: a related object another request deleted since this one read it
    is then an IntegrityError the caller turns into a 400, not a failed COMMIT (a 500). SQLite needs none: its
    immediate transaction holds the write lock, so nothing is deleted meanwhile."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        connection.check_constraints()  # SET CONSTRAINTS ALL IMMEDIATE, then DEFERRED again


def _save(obj: models.Model, update_fields: list[str] | None) -> None:
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
            check_deferred_constraints()
    except IntegrityError as exc:
        raise _integrity_error(obj, exc) from None


def save_object(obj: models.Model, *, user=None, fields: Iterable[str] | None = None, version: str | None = None,
                exclude: Iterable[str] | None = None) -> models.Model:
    """Validate ``obj`` completely and save it; raise ValidationError (PermissionDenied, StaleObject) and
    write nothing otherwise.

    ``fields`` (a partial update: a PATCH, enable/disable, an options import) writes only those fields,
    set from ``obj`` onto the stored row read under the lock, and returns that row: use the return value.
    ``version`` (from :func:`version_of`) refuses the save when the stored object has changed since.
    """
    with transaction.atomic():
        stored = check_version(obj, version)
        if stored is None and obj.pk is not None and not obj._state.adding:
            raise ObjectGone(f"This {obj._meta.verbose_name} was deleted meanwhile; nothing was written.")
        target, update_fields = obj, None
        if stored is not None and fields is not None:
            update_fields = _update_fields(obj, fields)
            target = type(obj)._base_manager.get(pk=stored.pk)  # locked above, in this transaction
            apply_fields(target, obj, [name for name in update_fields if name != "modified"])
        try:
            if stored is not None:
                history.remember_stored(target, stored)
            prepare(target)
            check_write(user, target, stored)
            target.full_clean(exclude=list(exclude) if exclude else None)
            if update_fields != []:
                _save(target, update_fields)
        finally:
            target.__dict__.pop("_pacing_before", None)
    return target


def delete_object(obj: models.Model, *, user=None) -> None:
    """Delete an object (ProtectedError / RestrictedError / ValidationError when others use it).

    The stored row is read under its row lock and that is what is deleted, so the history's "before" is the
    object as it is at that moment (with a change another request committed since the caller read it), and
    an object another request deleted meanwhile raises ObjectGone instead of recording a second delete.
    """
    with transaction.atomic():
        stored = lock(obj) if obj.pk is not None else None
        if stored is None:
            raise ObjectGone(f"This {obj._meta.verbose_name} was deleted meanwhile; nothing was written.")
        check_write(user, stored)
        stored.delete()
    setattr(obj, obj._meta.pk.attname, None)  # as Model.delete() leaves the caller's copy


@transaction.atomic
def set_links(obj: models.Model, field: str, related: Iterable[models.Model], *, user=None) -> None:
    """Replace a many-to-many field's links (agents, origination DNs, served tenants, media types).

    Agent groups and persons link only to their own tenant's objects; served tenants may be any. A user
    may link only objects they may read.
    """
    related = list(related)
    check_write(user, obj)
    if user is not None and related:
        wanted = {o.pk for o in related}
        visible = set(obj._meta.get_field(field).related_model._default_manager.restrict(user, "view")
                      .filter(pk__in=wanted).values_list("pk", flat=True))
        if visible != wanted:
            raise ValidationError({field: "Some of these objects do not exist."})
    if field != "tenants":
        check_same_tenant(getattr(obj, "tenant_id", None), related, field)
    try:
        with transaction.atomic():
            getattr(obj, field).set(related)
            check_deferred_constraints()
    except IntegrityError:
        raise ValidationError({field: "Some of these objects were deleted meanwhile by another request; nothing "
                                      "was written."}) from None


@transaction.atomic
def set_state(objects: Iterable[ConfigObject | Tenant], state: str, *, user=None) -> int:
    """Enable or disable objects; returns how many changed."""
    state = State(state)
    changed = 0
    for obj in objects:
        check_write(user, obj)  # refused even when there is nothing to change
        if obj.state != state:
            obj.state = state
            save_object(obj, user=user, fields=["state"])
            changed += 1
    return changed


def _unique_copy(model: type[models.Model], field: str, value: str, **scope) -> str:
    base = f"{value} (copy)"
    candidate, n = base, 2
    while model._default_manager.filter(**{field: candidate}, **scope).exists():
        candidate = f"{value} (copy {n})"
        n += 1
    return candidate


def name_and_scope(model: type[models.Model]) -> tuple[str, tuple[str, ...]]:
    """The field that names the model's objects and the fields its uniqueness is scoped by: the model's
    declared natural key (configdb/models/base.py)."""
    return model.name_field(), model.scope_fields()


@transaction.atomic
def clone_object(obj: models.Model, *, user=None) -> models.Model:
    """Copy an object under a new name: options, many-to-many links, and for an application its
    ports, connections and tenants. The copy is validated like any new object (in the same tenant, so it
    needs a read-write grant there)."""
    model = type(obj)
    name_field, scope_fields = name_and_scope(model)
    scope = {f: getattr(obj, f) for f in scope_fields}
    m2m = {f.name: list(getattr(obj, f.name).all()) for f in model._meta.many_to_many}
    original_pk = obj.pk
    copy = model._default_manager.get(pk=original_pk)
    copy.pk = None
    copy.id = None
    if hasattr(copy, "application_ptr_id"):
        copy.application_ptr_id = None
    copy._state.adding = True
    setattr(copy, name_field, _unique_copy(model, name_field, getattr(obj, name_field), **scope))
    if model._meta.model_name == "person":
        copy.employee_id = _unique_copy(model, "employee_id", obj.employee_id, tenant=obj.tenant)
    if "tenants" in m2m and hasattr(copy, "pending_tenants"):
        copy.pending_tenants = m2m["tenants"]  # an application's rules see the tenants the copy will serve
    save_object(copy, user=user)
    for field, values in m2m.items():
        set_links(copy, field, values, user=user)
    if isinstance(obj, Person):
        for level in SkillLevel.objects.filter(person_id=original_pk):
            save_object(SkillLevel(person=copy, skill_id=level.skill_id, level=level.level), user=user)
    if isinstance(obj, Application):
        for port in Port.objects.filter(application_id=original_pk):
            port.pk = None
            port._state.adding = True
            port.application = copy
            save_object(port, user=user)
        for conn in Connection.objects.filter(application_id=original_pk):
            conn.pk = None
            conn._state.adding = True
            conn.application = copy
            save_object(conn, user=user)
    return copy


def sealed_secret_warnings(obj: models.Model) -> list[str]:
    """What to tell about the object's stored secrets that do not decrypt (configdb.secrets.SealedSecret)."""
    from . import crypto
    from .models.fields import EncryptedTextField
    from .secrets import is_sealed

    where = []
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname, None)
        if isinstance(field, OptionsField):
            where += [f"{field.name}: section '{s}', key '{k}'" for s, k in crypto.sealed_paths(value)]
        elif isinstance(field, EncryptedTextField) and is_sealed(value):
            where.append(field.name)
    return [f"{place}: the stored secret does not decrypt with PACING_SECRETS_KEY (the key was changed or lost, "
            "or the value was damaged); it is kept as stored. Restore the key, or set the secret again."
            for place in where]


def options_fields(model: type[models.Model]) -> list[str]:
    """Names of the options/annex fields of a model (what can be imported and exported)."""
    return [f.name for f in model._meta.get_fields() if isinstance(f, OptionsField) and f.editable]


def export_options(obj: models.Model, field: str) -> str:
    """The object's options (or annex) in GAX's plain-text format, secrets masked."""
    if field not in options_fields(type(obj)):
        raise ValidationError({field: "This object has no such options field."})
    return opts.to_text(getattr(obj, field))


@transaction.atomic
def import_options(obj: models.Model, field: str, data: bytes | str, *, replace: bool = False, user=None) -> dict:
    """Read GAX's plain-text format into the object's options (or annex) and save the object.

    ``replace`` drops options the file does not name; otherwise the file's keys are merged into the options
    as stored now (read under the row lock). A masked secret in the file (as written by :func:`export_options`)
    keeps the stored value. Any problem raises ValidationError and nothing is written.
    """
    if field not in options_fields(type(obj)):
        raise ValidationError({field: "This object has no such options field."})
    current = lock(obj) or obj
    check_write(user, current)
    stored = getattr(current, field) or {}
    try:
        incoming = opts.from_text(data)
        new = incoming if replace else opts.merge(stored, incoming)
        new = opts.keep_masked_secrets(new, stored)
    except opts.OptionsError as exc:
        raise ValidationError({field: exc.problems}) from None
    setattr(obj, field, new)
    saved = save_object(obj, user=user, fields=[field])
    setattr(obj, field, getattr(saved, field))
    return new

