"""Creating and updating many objects at once: the same rules as save_object, checked as a set.

``save_object`` validates one object with ``full_clean()``; for ten thousand objects that is tens of
thousands of queries (a uniqueness query and a foreign-key existence query per object, a history
insert per object). ``create_many`` runs the same ``full_clean()`` on each object for everything
that needs no query, then checks uniqueness for the whole set at once (against the database and
within the set), inserts the objects and their many-to-many links in batches, and records the history
in batches (one creation record per object, its links included). ``update_many`` does the same for
changes of stored objects: the rows read under row locks, only the named fields applied onto them (as
``save_object(fields=…)`` does), validated, written in batches (``_write_fields``: ``bulk_update``, or on
PostgreSQL one ``UPDATE … FROM UNNEST`` per batch) and recorded in batches, each record's "before" the row
read under the lock. Nothing is written unless every object is valid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Q
from django.utils import timezone

from . import history, pacing_options, services

BATCH = 1000


def _unique_sets(model: type[models.Model]):
    """(fields, message) for every unconditional uniqueness rule of the model; conditional
    constraints are returned separately to be checked object by object."""
    sets, conditional = [], []
    meta = model._meta
    for field in meta.concrete_fields:
        if field.unique and not field.primary_key:
            message = field.error_messages["unique"] % {
                "model_name": meta.verbose_name.capitalize(), "field_label": field.verbose_name.capitalize()}
            sets.append(((field.name,), message))
    owners = {model, meta.concrete_model, *meta.get_parent_list()}  # a proxy's rules live on its concrete model
    constraints = {c.name: c for owner in owners for c in owner._meta.constraints}
    for constraint in constraints.values():
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            if constraint.condition is None and not constraint.expressions:
                sets.append((tuple(constraint.fields), constraint.get_violation_error_message()))
            else:
                conditional.append(constraint)
    return sets, conditional


def _value(obj, name: str):
    field = obj._meta.get_field(name)
    return getattr(obj, field.attname)


def _check_uniqueness(objs: Sequence[models.Model], errors: dict[int, dict]) -> None:
    model = type(objs[0])
    sets, conditional = _unique_sets(model)
    for fields, message in sets:
        seen: dict[tuple, int] = {}
        wanted: dict[tuple, list[int]] = defaultdict(list)
        for index, obj in enumerate(objs):
            key = tuple(_value(obj, f) for f in fields)
            if any(v is None for v in key):
                continue
            if key in seen:
                errors.setdefault(index, {}).setdefault(fields[-1], []).append(
                    f"{message} (the same as record {seen[key] + 1} of this request)")
                continue
            seen[key] = index
            wanted[key].append(index)
        keys = list(wanted)
        attnames = [model._meta.get_field(f).attname for f in fields]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            # One IN list per field (a superset of the wanted keys, matched exactly below): an OR of 500
            # per-key conditions costs Django more to build than the database to answer.
            condition = Q(**{f"{name}__in": sorted({k[i] for k in chunk}, key=repr)
                             for i, name in enumerate(attnames)})
            for pk, *row in model._base_manager.filter(condition).values_list("pk", *attnames):
                for index in wanted.get(tuple(row), ()):
                    if objs[index].pk != pk:  # an update keeps its own name
                        errors.setdefault(index, {}).setdefault(fields[-1], []).append(message)
    for index, obj in enumerate(objs):
        for constraint in conditional:
            try:
                constraint.validate(model, obj)
            except ValidationError as exc:
                key = constraint.fields[-1] if constraint.fields else NON_FIELD_ERRORS
                errors.setdefault(index, {}).setdefault(key, []).extend(exc.messages)


def _resolved_relations(obj: models.Model) -> list[str]:
    """Foreign keys whose related object is already loaded (found by the caller in the database):
    ``full_clean`` need not query again whether it exists."""
    return [f.name for f in obj._meta.concrete_fields if f.many_to_one and f.is_cached(obj)]


@transaction.atomic
@pacing_options.media_types_cached()  # a virtual queue's media checked against one read per tenant
def create_many(
    items: Sequence[tuple[models.Model, dict[str, list]]],
    *,
    user=None,
) -> tuple[list[models.Model], dict[int, dict]]:
    """Create ``items`` — (unsaved object, {many-to-many field: related objects}) — all or nothing.

    Returns (created objects, {}) or ([], {index: {field: [messages]}}) with nothing written. ``user``
    (None: a command or task) must hold a read-write grant on every object's tenant, else PermissionDenied
    (services.check_write, the rule of every write).
    """
    objs = [obj for obj, _ in items]
    if not objs:
        return [], {}
    model = type(objs[0])
    errors: dict[int, dict] = {}
    for index, (obj, links) in enumerate(items):
        services.prepare(obj)
        services.check_write(user, obj)
        if "tenants" in links and hasattr(obj, "pending_tenants"):
            obj.pending_tenants = links["tenants"]  # an application's rules see the tenants it is about to serve
        try:
            obj.full_clean(exclude=_resolved_relations(obj), validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(index, {}).setdefault(key, []).extend(messages)
        for field, related in links.items():
            if field == "tenants":  # an application may serve any tenant
                continue
            try:
                services.check_same_tenant(getattr(obj, "tenant_id", None), related, field)
            except ValidationError as exc:
                errors.setdefault(index, {}).setdefault(field, []).extend(exc.messages)
    _check_uniqueness(objs, errors)
    if errors:
        return [], errors
    multi_table = bool(model._meta.concrete_model._meta.parents)  # a DAP: one row in each of two tables
    try:
        with transaction.atomic():
            if not multi_table:
                for start in range(0, len(objs), BATCH):
                    model._default_manager.bulk_create(objs[start:start + BATCH])
                _insert_links(model, items)
                history.record_many(objs, links=[_link_pks(links) for _, links in items])
            else:  # multi-table inheritance (a DAP): one by one, still validated above
                for obj in objs:
                    obj.save()
            services.check_deferred_constraints()  # a related object deleted meanwhile: here, not at COMMIT
    except IntegrityError:
        # Another request created the same name between the check above and the insert (PostgreSQL's READ
        # COMMITTED): asked again, the check names the records and fields; nothing of this request is written.
        for obj in objs:
            obj.pk = None
            obj._state.adding = True
        _check_uniqueness(objs, errors)
        return [], errors or {0: {NON_FIELD_ERRORS: [
            "Another change conflicted with this one at the same moment; nothing was written. Try again."]}}
    if multi_table:
        for obj, links in items:
            for field, related in links.items():
                if related:
                    getattr(obj, field).set(related)
    return objs, {}


def _link_pks(links: dict[str, list]) -> dict[str, list[int]]:
    return {field: sorted({o.pk for o in related}) for field, related in links.items() if related}


def _insert_links(model: type[models.Model], items) -> None:
    """The many-to-many links of new objects, inserted in batches into each field's link table (the creation
    record of each object lists them: history.record_many)."""
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        rows = [through(**{f"{source}_id": obj.pk, f"{target}_id": pk})
                for obj, links in items for pk in sorted({o.pk for o in links.get(field.name) or ()})]
        for start in range(0, len(rows), BATCH):
            through._default_manager.bulk_create(rows[start:start + BATCH])


@transaction.atomic
@pacing_options.media_types_cached()
def update_many(
    items: Sequence[tuple[models.Model, list[str]]],
    *,
    user=None,
) -> tuple[list[models.Model], dict[int, dict]]:
    """Write the named fields of stored objects — (object with the new values, [field names]), all of one
    model — all or nothing, as ``services.save_object(obj, fields=…)`` would one by one.

    Returns (the saved rows, {}) or ([], {index: {field: [messages]}}) with nothing written. PermissionDenied
    unless ``user`` may write every object's tenant, as stored and as changed.
    """
    if not items:
        return [], {}
    model = type(items[0][0])
    if model._meta.concrete_model._meta.parents:  # multi-table inheritance (a DAP): one by one
        return _update_one_by_one(items, user)
    stored: dict = {}
    pks = [obj.pk for obj, _ in items]
    for start in range(0, len(pks), BATCH):
        stored.update(model._base_manager.select_for_update().in_bulk(pks[start:start + BATCH]))
    errors: dict[int, dict] = {}
    rows, befores, names = [], [], {"modified"} if any(f.name == "modified" for f in model._meta.fields) else set()
    for index, (obj, fields) in enumerate(items):
        row = stored.get(obj.pk)
        if row is None:
            errors[index] = {NON_FIELD_ERRORS: [f"This {model._meta.verbose_name} was deleted meanwhile."]}
            continue
        befores.append((history.snapshot(row), history.secret_fingerprints(row)))
        services.check_write(user, row)
        services.apply_fields(row, obj, fields)
        for field in model._meta.concrete_fields:  # related objects the caller has loaded: not read again
            if field.many_to_one and field.is_cached(obj) and not field.is_cached(row) \
                    and getattr(obj, field.attname) == getattr(row, field.attname):
                field.set_cached_value(row, field.get_cached_value(obj))
        services.prepare(row)
        services.check_write(user, row)
        names.update(fields)
        try:
            # A foreign key the change does not name keeps its stored value, which the database vouches for.
            unchanged = [f.name for f in model._meta.concrete_fields if f.many_to_one and f.name not in fields]
            row.full_clean(exclude=[*_resolved_relations(row), *unchanged], validate_unique=False,
                           validate_constraints=False)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(index, {}).setdefault(key, []).extend(messages)
        rows.append((index, row))
    found: dict[int, dict] = {}
    _check_uniqueness([row for _, row in rows], found)
    for position, problems in found.items():
        for key, messages in problems.items():
            errors.setdefault(rows[position][0], {}).setdefault(key, []).extend(messages)
    if errors:
        return [], errors
    rows = [row for _, row in rows]
    now = timezone.now()
    if "modified" in names:
        for row in rows:
            row.modified = now
    try:
        with transaction.atomic():
            _write_fields(model, rows, sorted(names))
            history.record_updates(rows, befores)
            services.check_deferred_constraints()
    except IntegrityError:  # a concurrent change took a name meanwhile: asked again, the check names it
        _check_uniqueness(rows, errors)
        return [], errors or {0: {NON_FIELD_ERRORS: [
            "Another change conflicted with this one at the same moment; nothing was written. Try again."]}}
    return rows, {}


def _unnestable(field: models.Field, connection) -> bool:
    """Django's own rule for sending a column as one array (its PostgreSQL bulk insert, SQLInsertCompiler)."""
    target = field.target_field if field.is_relation else field
    return not hasattr(field, "get_placeholder") and target.get_internal_type() in connection.data_types


def _write_fields(model: type[models.Model], rows: list[models.Model], names: list[str]) -> None:
    """Write the fields ``names`` of ``rows`` (stored objects of ``model``), as ``bulk_update`` does.

    Ours, measured (bench/README.md, config_import): ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per
    object and field, and Django resolves each as an expression — about 40 % of an import that updates 10,000
    objects. On PostgreSQL the rows go instead as one array per column, joined on the primary key
    (``UPDATE … FROM UNNEST(…)``, as Django's own bulk insert sends its rows), each value prepared by its field
    as ``bulk_update`` prepares it (``get_db_prep_save``: options as JSON, secrets encrypted). Other databases,
    and a field Django would not send as an array, keep ``bulk_update``.
    """
    connection = connections[model._base_manager.db]
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    if connection.vendor != "postgresql" or not all(_unnestable(f, connection) for f in [meta.pk, *fields]):
        model._base_manager.bulk_update(rows, names, batch_size=BATCH)
        return
    quote = connection.ops.quote_name
    table, columns = quote(meta.db_table), [quote(f.column) for f in [meta.pk, *fields]]
    arrays = ", ".join(f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in [meta.pk, *fields])
    sql = (f"UPDATE {table} SET {', '.join(f'{c} = v.{c}' for c in columns[1:])} "  # noqa: S608 (names: the model's)
           f"FROM UNNEST({arrays}) AS v({', '.join(columns)}) WHERE {table}.{columns[0]} = v.{columns[0]}")
    for row in rows:
        row._prepare_related_fields_for_save(operation_name="bulk_update", fields=fields)  # as bulk_update does
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            cursor.execute(sql, [[f.get_db_prep_save(getattr(row, f.attname), connection) for row in chunk]
                                 for f in [meta.pk, *fields]])


def _update_one_by_one(items, user) -> tuple[list[models.Model], dict[int, dict]]:
    saved, errors = [], {}
    with transaction.atomic():
        for index, (obj, fields) in enumerate(items):
            try:
                saved.append(services.save_object(obj, user=user, fields=fields))
            except ValidationError as exc:
                errors[index] = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        if errors:
            transaction.set_rollback(True)
            return [], errors
    return saved, {}
