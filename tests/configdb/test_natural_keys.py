"""Identity declared once: every configuration model's ``natural_key_fields`` (configdb/models/base.py).

``natural_key()`` and ``get_by_natural_key()`` are each other's inverse on every object of the demo
configuration; the declared fields are a uniqueness rule the database enforces (so a natural key names one
object at most); and the users of the declaration (the API's name-or-id fields, clone, the transfer) read it.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from configdb import services
from configdb.api.fields import natural_name_field
from configdb.demo import load_demo
from configdb.models import DN, Folder, Person, Switch, Tenant, VirtualQueue
from configdb.models.base import FieldNamedConstraints

pytestmark = pytest.mark.django_db


def keyed_models() -> list[type[models.Model]]:
    return [m for m in apps.get_app_config("configdb").get_models()
            if issubclass(m, FieldNamedConstraints) and not m._meta.proxy]


def unique_sets(model) -> set[tuple[str, ...]]:
    sets = {(f.name,) for f in model._meta.concrete_fields if f.unique and not f.primary_key}
    for owner in (model, *model._meta.get_parent_list()):
        for constraint in owner._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                sets.add(tuple(constraint.fields))
    return sets


@pytest.mark.parametrize("model", keyed_models(), ids=lambda m: m.__name__)
def test_the_declared_natural_key_is_a_uniqueness_rule_of_the_model(model):
    fields = model.natural_key_fields
    for name in fields:
        model._meta.get_field(name)  # every declared field exists
    if model is Folder:  # (tenant, type, parent, name): two constraints, one for the top level
        assert ("tenant", "folder_type", "parent", "name") in unique_sets(model)
        return
    assert set(map(frozenset, unique_sets(model))) & {frozenset(fields)}, (
        f"{model.__name__}.natural_key_fields {fields} is not one of its unique rules {unique_sets(model)}")


def test_natural_key_and_get_by_natural_key_are_inverse_on_every_demo_object():
    load_demo()
    checked = 0
    for model in keyed_models():
        for obj in model._default_manager.all():
            key = obj.natural_key()
            assert len(key) == model.natural_key_size(), (model.__name__, key)
            assert model._default_manager.get_by_natural_key(*key) == obj
            checked += 1
    assert checked > 50


def test_a_related_part_may_be_given_as_the_object():
    load_demo()
    dn = DN.objects.select_related("switch__tenant").first()
    assert DN.objects.get_by_natural_key(dn.switch, dn.number) == dn
    assert DN.objects.get_by_natural_key(dn.switch.tenant.name, dn.switch.name, dn.number) == dn
    with pytest.raises(DN.DoesNotExist):
        DN.objects.get_by_natural_key(dn.switch, "no such number")
    with pytest.raises(ValueError, match="too many"):
        Switch.objects.get_by_natural_key("Environment", "x", "y")
    with pytest.raises(ValueError, match="natural key has 2 values"):
        Switch.objects.get_by_natural_key("Environment")


def test_a_folder_is_named_by_its_path():
    tenant = Tenant.objects.create(name="T")
    top = Folder.objects.create(tenant=tenant, folder_type="dn", name="A")
    inner = Folder.objects.create(tenant=tenant, folder_type="dn", name="B", parent=top)
    Folder.objects.create(tenant=tenant, folder_type="dn", name="B")  # the same name at the top level
    assert inner.natural_key() == ("T", "dn", ("A", "B"))
    assert Folder.objects.get_by_natural_key("T", "dn", ("A", "B")) == inner
    assert Folder.objects.get_by_natural_key(tenant, "dn", ("A",)) == top
    assert Folder.objects.get_by_natural_key("T", "dn", ("B",)).parent is None


def test_the_users_of_the_declaration_read_it():
    """The API's name-or-id fields and clone take the name and its scope from the model."""
    assert natural_name_field(DN) == natural_name_field(VirtualQueue) == "number"
    assert natural_name_field(Person) == "user_name"
    assert natural_name_field(Switch) == "name"
    for model in keyed_models():
        assert natural_name_field(model) == model.name_field()
    assert services.name_and_scope(DN) == ("number", ("switch",))
    assert services.name_and_scope(Switch) == ("name", ("tenant",))
