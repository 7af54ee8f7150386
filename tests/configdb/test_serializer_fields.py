"""Every API serializer lists its fields by name, and every model field is either in it or kept out on purpose.

NetBox's shape (../shared/STYLE.md, "Explicit API shapes"): a field added to a model does not appear in the API,
nor become writable, until someone adds it to its serializer's ``Meta.fields`` — or to ``NOT_IN_API`` below, with
the reason. Until then ``test_every_model_field_is_listed_or_kept_out`` fails naming it. And a field that is not
in ``Meta.fields``, sent in a POST or a PATCH, is a 400 "Unknown field." (never silently dropped).
"""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

from alarms.api.serializers import AlarmSerializer
from configdb import services
from configdb.api.fields import NaturalKeyRelatedField
from configdb.api.urls import ROUTES
from configdb.models import Application, DatabaseAccessPoint, Person, Skill, Switch

from .api_helpers import body, client_for, dap_template, make_user, send, url
from .test_api_crud import SPECS

#: every serializer of a model the API serves, by route
SERIALIZERS = {prefix: viewset.serializer_class for prefix, viewset, _basename in ROUTES} | {"alarms": AlarmSerializer}

#: "app_label.Model.field" → why that model field is not in its serializer's Meta.fields
NOT_IN_API = {
    "configdb.DatabaseAccessPoint.is_server": "a DAP is never an application server: its clean() sets it to False",
    "configdb.ObjectChange.content_type": "shown as object_type (\"configdb.dn\"), a read-only method field",
}


def model_fields(model) -> list:
    """The model's own fields: concrete and many-to-many, without auto-created reverse relations
    (another model's foreign keys to this one) and without the parent link of multi-table inheritance
    (a DAP's ``application_ptr``: its id is the API's ``id``)."""
    return [
        f for f in model._meta.get_fields()
        if (f.concrete or f.many_to_many)
        and not (f.auto_created and not f.concrete)
        and not (f.one_to_one and getattr(f.remote_field, "parent_link", False))
    ]


def key(model, name: str) -> str:
    return f"{model._meta.label}.{name}"


@pytest.mark.parametrize("route", sorted(SERIALIZERS))
def test_every_model_field_is_listed_or_kept_out(route):
    serializer = SERIALIZERS[route]
    model = serializer.Meta.model
    listed = set(serializer.Meta.fields)
    missing = [key(model, f.name) for f in model_fields(model) if f.name not in listed and key(model, f.name)
               not in NOT_IN_API]
    assert not missing, (
        f"{serializer.__name__} does not list {missing}: add each to its Meta.fields (read-only if it must not be "
        f"written) or to NOT_IN_API in {__name__} with the reason")


def test_the_list_of_fields_kept_out_names_real_fields_that_are_out():
    """No stale entry: each names a field of a served model that its serializer does not list."""
    by_label = {s.Meta.model._meta.label: s for s in SERIALIZERS.values()}
    for entry in NOT_IN_API:
        label, name = entry.rsplit(".", 1)
        assert label in by_label, entry
        serializer = by_label[label]
        assert name in {f.name for f in model_fields(serializer.Meta.model)}, entry
        assert name not in serializer.Meta.fields, f"{entry} is in {serializer.__name__}'s Meta.fields"


def _class_def(cls) -> ast.ClassDef:
    """The ``class`` statement that defines ``cls`` at the top of its module (none: it was generated)."""
    module = importlib.import_module(cls.__module__)
    assert getattr(module, cls.__name__, None) is cls, f"{cls.__name__} is not {cls.__module__}.{cls.__name__}"
    tree = ast.parse(inspect.getsource(module))
    found = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__]
    assert len(found) == 1, f"{cls.__module__}.{cls.__name__} is not defined by one class statement (generated?)"
    return found[0]


def _meta_assignments(class_def: ast.ClassDef) -> dict[str, ast.expr]:
    metas = [node for node in class_def.body if isinstance(node, ast.ClassDef) and node.name == "Meta"]
    assert len(metas) == 1, f"{class_def.name} has no Meta of its own"
    return {target.id: node.value for node in metas[0].body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def _is_literal_list_of_names(node: ast.expr) -> bool:
    return isinstance(node, ast.List) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts)


@pytest.mark.parametrize("route", sorted(SERIALIZERS))
def test_meta_fields_are_a_literal_list(route):
    """Written out in the source, not computed (no ``get_fields()`` loop, no ``"__all__"``, no ``exclude``)."""
    serializer = SERIALIZERS[route]
    meta = _meta_assignments(_class_def(serializer))
    assert "exclude" not in meta and not hasattr(serializer.Meta, "exclude"), serializer.__name__
    assert "fields" in meta, f"{serializer.__name__}.Meta.fields is not assigned in its class statement"
    assert _is_literal_list_of_names(meta["fields"]), (
        f"{serializer.__name__}.Meta.fields is not a literal list of names: {ast.unparse(meta['fields'])}")
    # … and it is what the class holds (not changed after the class statement)
    assert ast.literal_eval(meta["fields"]) == list(serializer.Meta.fields), serializer.__name__
    if "read_only_fields" in meta:
        node = meta["read_only_fields"]
        # literal too, or "all of them" (the read-only alarms: ``read_only_fields = fields``)
        assert _is_literal_list_of_names(node) or (isinstance(node, ast.Name) and node.id == "fields"), (
            f"{serializer.__name__}.Meta.read_only_fields: {ast.unparse(node)}")
    if "extra_kwargs" in meta:
        assert ast.literal_eval(meta["extra_kwargs"]) == serializer.Meta.extra_kwargs, serializer.__name__


@pytest.mark.parametrize("route", sorted(SERIALIZERS))
def test_many_to_many_fields_are_declared_and_writable(route):
    """DRF would make a many-to-many with a through model (an application's tenants) read-only: ours are
    declared, written by id or name, and answered brief."""
    serializer = SERIALIZERS[route]
    for f in serializer.Meta.model._meta.many_to_many:
        if f.name not in serializer.Meta.fields:
            continue
        declared = serializer._declared_fields.get(f.name)
        assert declared is not None, f"{serializer.__name__}.{f.name} is not declared"
        assert isinstance(declared.child_relation, NaturalKeyRelatedField), f"{serializer.__name__}.{f.name}"
        assert not declared.read_only and not declared.required, f"{serializer.__name__}.{f.name}"
        assert declared.child_relation.queryset.model is f.related_model, f"{serializer.__name__}.{f.name}"


# --- fields outside Meta.fields are refused on write ---------------------------------------------------------------

@pytest.fixture
def root(db):
    return make_user("root", superuser=True)


@pytest.fixture
def ctx(demo):
    """What test_api_crud's SPECS payloads name (the same as its own ``ctx``)."""
    dap_template(demo)
    services.save_object(Skill(tenant=demo, name="German"))
    return {
        "env_id": demo.pk,
        "stat_id": Application.objects.get(name="Stat_Server").pk,
        "node_id": Application.objects.get(name="Pacing_Server_Node_01").pk,
        "switch_id": Switch.objects.get(name="MultiMediaSwitch").pk,
        "sales_id": Person.objects.get(user_name="sales.agent1").pk,
    }


def _kept_out(route: str) -> dict:
    """The NOT_IN_API fields of a route's model, each with a plausible value."""
    label = SERIALIZERS[route].Meta.model._meta.label
    return {entry.rsplit(".", 1)[1]: True for entry in NOT_IN_API if entry.rsplit(".", 1)[0] == label}


@pytest.mark.parametrize("route", sorted(SPECS))
def test_a_field_outside_meta_fields_is_unknown_on_post_and_patch(root, ctx, route):
    client = client_for(root)
    model = SERIALIZERS[route].Meta.model
    payload = SPECS[route].build(ctx)
    # a made-up name, and any field of the model kept out of the API (a DAP's is_server)
    outside = {"colour": "red", **_kept_out(route)}
    before = model._default_manager.count()

    for name, value in outside.items():
        response = send(client, "post", url(route), {**payload, name: value})
        assert response.status_code == 400, (name, response.status_code, response.content[:300])
        assert body(response) == {name: ["Unknown field."]}, name
    assert model._default_manager.count() == before  # nothing created

    created = send(client, "post", url(route), payload)
    assert created.status_code == 201, created.content
    pk = body(created)["id"]
    stored = body(client.get(url(route, pk)))
    for name, value in outside.items():
        response = send(client, "patch", url(route, pk), {name: value})
        assert response.status_code == 400, (name, response.status_code, response.content[:300])
        assert body(response) == {name: ["Unknown field."]}, name
    assert body(client.get(url(route, pk))) == stored  # nothing written


def test_a_kept_out_field_keeps_its_stored_value(root, ctx):
    """A DAP's is_server, sent anyway, changes nothing: the model's rule holds (False)."""
    client = client_for(root)
    created = send(client, "post", url("database-access-points"), SPECS["database-access-points"].build(ctx))
    assert created.status_code == 201, created.content
    pk = body(created)["id"]
    assert send(client, "patch", url("database-access-points", pk), {"is_server": True}).status_code == 400
    assert DatabaseAccessPoint.objects.get(pk=pk).is_server is False
    assert "is_server" not in body(client.get(url("database-access-points", pk)))
