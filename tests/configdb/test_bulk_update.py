"""configdb.bulk.update_many: many stored objects changed at once with the rules of services.save_object.

Only the named fields are written (onto the rows read under their locks, so another field changed meanwhile is
kept), every object is validated, uniqueness is checked as a set (an object keeps its own name), nothing is
written when one object is refused, the grant is checked, and each changed object gets one history record whose
"before" is the stored row.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from configdb import bulk
from configdb.models import DN, ObjectChange, Switch, Tenant

from .api_helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def dns():
    tenant = Tenant.objects.create(name="T")
    switch = Switch.objects.create(tenant=tenant, name="S")
    return [DN.objects.create(tenant=tenant, switch=switch, number=str(1000 + i), dn_type="extension")
            for i in range(5)]


def copies(objects):
    return [DN.objects.select_related("switch").get(pk=o.pk) for o in objects]


def test_only_the_named_fields_are_written_and_each_change_is_recorded(dns):
    DN.objects.filter(pk=dns[0].pk).update(association="changed meanwhile")
    items = copies(dns)
    for dn in items:
        dn.alias = f"alias {dn.number}"
        dn.association = "stale"  # not named: not written
    before = ObjectChange.objects.count()
    saved, problems = bulk.update_many([(dn, ["alias"]) for dn in items])
    assert problems == {}
    assert [d.alias for d in saved] == [f"alias {d.number}" for d in dns]
    assert DN.objects.get(pk=dns[0].pk).association == "changed meanwhile"
    records = list(ObjectChange.objects.order_by("pk")[before:])
    assert len(records) == 5 and {r.action for r in records} == {"update"}
    assert records[0].prechange["alias"] == "" and records[0].postchange["alias"] == "alias 1000"
    assert records[0].prechange["association"] == "changed meanwhile"


def test_an_unchanged_object_gets_no_record_and_keeps_its_own_name(dns):
    before = ObjectChange.objects.count()
    saved, problems = bulk.update_many([(dn, ["number"]) for dn in copies(dns)])
    assert problems == {} and len(saved) == 5
    assert ObjectChange.objects.count() == before


def test_one_refused_object_writes_nothing_and_is_named(dns):
    items = copies(dns)
    items[1].number = items[2].number  # taken by another DN
    items[3].alias = "x\u202ey"  # a bidi override
    items[0].alias = "fine"
    _, problems = bulk.update_many([(items[0], ["alias"]), (items[1], ["number"]), (items[3], ["alias"])])
    assert set(problems) == {1, 2}
    assert "number" in problems[1] and "alias" in problems[2]
    assert DN.objects.get(pk=dns[0].pk).alias == ""


def test_two_objects_of_the_request_may_not_take_the_same_name(dns):
    items = copies(dns)[:2]
    items[0].number = items[1].number = "2000"
    _, problems = bulk.update_many([(d, ["number"]) for d in items])
    assert "the same as record 1" in str(problems[1])


def test_a_read_only_grant_is_refused(dns):
    reader = make_user("reader", grants={dns[0].tenant: "read"})
    items = copies(dns)
    items[0].alias = "no"
    with pytest.raises(PermissionDenied):
        bulk.update_many([(items[0], ["alias"])], user=reader)
    assert DN.objects.get(pk=dns[0].pk).alias == ""


def test_a_deleted_object_is_a_problem_not_a_crash(dns):
    items = copies(dns)[:2]
    DN.objects.filter(pk=items[1].pk).delete()
    items[0].alias = "a"
    _, problems = bulk.update_many([(d, ["alias"]) for d in items])
    assert "deleted meanwhile" in str(problems[1])
    assert DN.objects.get(pk=items[0].pk).alias == ""
