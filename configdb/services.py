"""Service functions: the one path by which the admin, the API and the commands change objects.

Every write goes through :func:`save_object` (``full_clean()`` then ``save()`` in a
transaction), so a rule written once in a model's ``clean()`` holds on every path.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, transaction

from . import options as opts
from .models import DN, Application, ConfigObject, Connection, Person, Port, SkillLevel, State, Tenant


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


@transaction.atomic
def save_object(obj: models.Model, *, exclude: Iterable[str] | None = None) -> models.Model:
    """Validate ``obj`` completely and save it; raise ValidationError and write nothing otherwise."""
    prepare(obj)
    obj.full_clean(exclude=list(exclude) if exclude else None)
    obj.save()
    return obj


def check_same_tenant(tenant_id: int | None, related: Iterable[models.Model], field: str) -> None:
    """Objects linked to ``tenant_id``'s object (agents, origination DNs, …) must be its own."""
    if tenant_id is None:
        return
    foreign = [str(o) for o in related if getattr(o, "tenant_id", tenant_id) != tenant_id]
    if foreign:
        raise ValidationError({field: f"These belong to another tenant: {', '.join(sorted(foreign))}."})


@transaction.atomic
def set_links(obj: models.Model, field: str, related: Iterable[models.Model]) -> None:
    """Replace a many-to-many field's links (agents, origination DNs, served tenants, media types).

    Agent groups and persons link only to their own tenant's objects; served tenants may be any.
    """
    related = list(related)
    if field != "tenants":
        check_same_tenant(getattr(obj, "tenant_id", None), related, field)
    getattr(obj, field).set(related)


@transaction.atomic
def set_state(objects: Iterable[ConfigObject | Tenant], state: str) -> int:
    """Enable or disable objects; returns how many changed."""
    state = State(state)
    changed = 0
    for obj in objects:
        if obj.state != state:
            obj.state = state
            save_object(obj)
            changed += 1
    return changed


def _unique_copy(model: type[models.Model], field: str, value: str, **scope) -> str:
    base = f"{value} (copy)"
    candidate, n = base, 2
    while model._default_manager.filter(**{field: candidate}, **scope).exists():
        candidate = f"{value} (copy {n})"
        n += 1
    return candidate


#: the field that names each model's objects, and what its uniqueness is scoped by
NAME_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tenant": ("name", ()),
    "host": ("name", ()),
    "applicationtemplate": ("name", ()),
    "application": ("name", ()),
    "databaseaccesspoint": ("name", ()),
    "switch": ("name", ("tenant",)),
    "dn": ("number", ("switch",)),
    "virtualqueue": ("number", ("switch",)),
    "mediatype": ("name", ("tenant",)),
    "skill": ("name", ("tenant",)),
    "person": ("user_name", ()),
    "agentgroup": ("name", ("tenant",)),
    "alarmcondition": ("name", ("tenant",)),
    "transaction": ("name", ("tenant", "transaction_type")),
}


@transaction.atomic
def clone_object(obj: models.Model) -> models.Model:
    """Copy an object under a new name: options, many-to-many links, and for an application its
    ports, connections and tenants. The copy is validated like any new object."""
    model = type(obj)
    name_field, scope_fields = NAME_FIELDS[model._meta.model_name]
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
    save_object(copy)
    for field, values in m2m.items():
        getattr(copy, field).set(values)
    if isinstance(obj, Person):
        for level in SkillLevel.objects.filter(person_id=original_pk):
            save_object(SkillLevel(person=copy, skill_id=level.skill_id, level=level.level))
    if isinstance(obj, Application):
        for port in Port.objects.filter(application_id=original_pk):
            port.pk = None
            port.application = copy
            save_object(port)
        for conn in Connection.objects.filter(application_id=original_pk):
            conn.pk = None
            conn.application = copy
            save_object(conn)
    return copy


def options_fields(model: type[models.Model]) -> list[str]:
    """Names of the options/annex fields of a model (what can be imported and exported)."""
    from .models import OptionsField

    return [f.name for f in model._meta.get_fields() if isinstance(f, OptionsField) and f.editable]


def export_options(obj: models.Model, field: str) -> str:
    """The object's options (or annex) in GAX's plain-text format, secrets masked."""
    if field not in options_fields(type(obj)):
        raise ValidationError({field: "This object has no such options field."})
    return opts.to_text(getattr(obj, field))


@transaction.atomic
def import_options(obj: models.Model, field: str, data: bytes | str, *, replace: bool = False) -> dict:
    """Read GAX's plain-text format into the object's options (or annex) and save the object.

    ``replace`` drops options the file does not name; otherwise the file's keys are merged in.
    A masked secret in the file (as written by :func:`export_options`) keeps the stored value.
    Any problem raises ValidationError and nothing is written.
    """
    if field not in options_fields(type(obj)):
        raise ValidationError({field: "This object has no such options field."})
    stored = getattr(obj, field) or {}
    try:
        incoming = opts.from_text(data)
        new = incoming if replace else opts.merge(stored, incoming)
        new = opts.keep_masked_secrets(new, stored)
    except opts.OptionsError as exc:
        raise ValidationError({field: exc.problems}) from None
    setattr(obj, field, new)
    save_object(obj)
    return new
