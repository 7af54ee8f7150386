"""The batched writes' own statements (configdb.history._insert_changes, configdb.bulk._write_fields): on PostgreSQL
they bypass ``bulk_create`` / ``bulk_update`` for speed (bench/README.md, config_import), so these tests hold them
to what the ORM writes — the same history rows, the same stored values — and to a statement count that does not
grow with the objects. On SQLite the ORM path runs, and the same assertions hold.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from configdb import bulk, history
from configdb.history import CHANGED_SECRET, acting_as
from configdb.models import DN, ChangeAction, Folder, FolderType, ObjectChange, Switch, Tenant, Transaction

from .api_helpers import make_user

pytestmark = pytest.mark.django_db

VALID = "quote \" apostrophe ' back\\slash %s %(x)s ü € {\"json\": [1]}"  # text every field accepts
SECRET = "plain-secret-value"
TRICKY = VALID + " \u2028 new\nline \x7f"  # and what only the history may hold (a snapshot of anything)


@pytest.fixture
def tenant():
    return Tenant.objects.create(name="T")


@pytest.fixture
def switch(tenant):
    return Switch.objects.create(tenant=tenant, name="S")


def stored(record: ObjectChange) -> dict:
    """A history row as stored, but for what must differ between two inserts (its id and time)."""
    values = ObjectChange.objects.filter(pk=record.pk).values().get()
    del values["id"], values["time"]
    return values


def changes(obj):
    return ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))


def test_the_history_rows_of_the_fast_path_equal_those_of_the_orm(tenant):
    user = make_user("hist")
    rows = [
        {"user_id": user.pk, "actor": "hist", "via": "api", "request_id": uuid.uuid4(), "action": ChangeAction.UPDATE,
         "content_type_id": ContentType.objects.get_for_model(DN).pk, "object_id": "12", "object_repr": TRICKY,
         "tenant_id": tenant.pk, "prechange": {"alias": "", "options": {"pacing": {"media": TRICKY}}, "n": 1.5},
         "postchange": {"alias": TRICKY, "options": {}, "none": None, "list": [1, "two", None], "flag": True}},
        {"user_id": None, "actor": "process:x", "via": "process", "request_id": None, "action": ChangeAction.CREATE,
         "content_type_id": ContentType.objects.get_for_model(Switch).pk, "object_id": "7", "object_repr": "S",
         "tenant_id": None, "prechange": None, "postchange": {"name": "S"}},
    ]
    before = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    history._insert_changes(rows)
    ObjectChange.objects.bulk_create([ObjectChange(**row) for row in rows])
    written = list(ObjectChange.objects.filter(pk__gt=before).order_by("pk"))
    assert len(written) == 4
    assert [stored(r) for r in written[:2]] == [stored(r) for r in written[2:]]
    assert written[0].prechange["options"]["pacing"]["media"] == TRICKY and written[1].prechange is None
    assert written[0].time is not None and written[0].time <= written[1].time  # ids and times in the given order


def test_a_batched_creation_and_update_record_what_a_single_save_records(tenant, switch):
    """record_many / record_updates (the fast path on PostgreSQL) against history.record (one row, the ORM)."""
    options = {"pacing": {"media": "chat", "note": VALID}}
    with acting_as("bench", "command"):
        created, problems = bulk.create_many([(DN(tenant=tenant, switch=switch, number="1", dn_type="extension",
                                                  alias=VALID, options=options), {})])
        assert problems == {}
        dn = created[0]
        batched = changes(dn).get(action=ChangeAction.CREATE)
        single = history.record(dn, ChangeAction.CREATE, None, history.snapshot(dn))
        assert stored(batched) == stored(single)

        copy = DN.objects.select_related("switch").get(pk=dn.pk)
        pre = (history.snapshot(copy), history.secret_fingerprints(copy))
        copy.alias = "changed"
        saved, problems = bulk.update_many([(copy, ["alias"])])
        assert problems == {}
        batched = changes(dn).get(action=ChangeAction.UPDATE)
        single = history.record(saved[0], ChangeAction.UPDATE, pre[0], history.snapshot(saved[0]))
        assert stored(batched) == stored(single)
        assert batched.prechange["alias"] == VALID and batched.postchange["alias"] == "changed"


def test_update_many_stores_each_kind_of_value_as_bulk_update_does(tenant):
    """Text, a choice, a nullable foreign key set and cleared, JSON options with a secret (encrypted on the way),
    and ``modified``: read back as bulk_update would have left them."""
    folder = Folder.objects.create(tenant=tenant, folder_type=FolderType.TRANSACTIONS, name="F")
    first = Transaction.objects.create(tenant=tenant, name="a", annex={"ewt": {"password": "old"}})
    second = Transaction.objects.create(tenant=tenant, name="b", folder=folder)
    items = list(Transaction.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"))
    items[0].folder, items[0].alias, items[0].annex = folder, VALID, {"ewt": {"password": SECRET, "x": VALID}}
    items[1].folder, items[1].state, items[1].description = None, "disabled", ""
    saved, problems = bulk.update_many([(items[0], ["folder", "alias", "annex"]),
                                        (items[1], ["folder", "state", "description"])])
    assert problems == {}
    one, two = Transaction.objects.get(pk=first.pk), Transaction.objects.get(pk=second.pk)
    assert (one.folder_id, one.alias, one.annex) == (folder.pk, VALID, {"ewt": {"password": SECRET, "x": VALID}})
    assert (two.folder_id, two.state, two.name) == (None, "disabled", "b")
    assert one.modified > first.modified and one.modified == two.modified
    with connection.cursor() as cursor:
        cursor.execute("SELECT annex FROM configdb_transaction WHERE id = %s", [first.pk])
        raw = cursor.fetchone()[0]
    raw = json.loads(raw) if isinstance(raw, str) else raw
    assert raw["ewt"]["x"] == VALID and raw["ewt"]["password"].startswith("enc:")  # encrypted, as every write does
    records = [*changes(first).filter(action=ChangeAction.UPDATE), *changes(second).filter(action=ChangeAction.UPDATE)]
    assert len(records) == 2 and records[0].postchange["annex"]["ewt"] == {"password": CHANGED_SECRET, "x": VALID}


def test_the_batched_writes_issue_statements_per_batch_not_per_object(tenant, switch):
    """create_many and update_many of 10 and of 1,200 DNs: a handful of statements more (batches of 1,000; on
    SQLite, Django's batches of at most 999 parameters), not one or more per object."""
    counts = []
    for size, prefix in ((10, "a"), (1200, "b")):
        with CaptureQueriesContext(connection) as queries:
            created, problems = bulk.create_many(
                [(DN(tenant=tenant, switch=switch, number=f"{prefix}{i}", dn_type="extension"), {})
                 for i in range(size)])
            assert problems == {}
        rows = list(DN.objects.select_related("switch").filter(pk__in=[d.pk for d in created]))
        for dn in rows:
            dn.alias = f"alias {dn.number}"
        with CaptureQueriesContext(connection) as updates:
            saved, problems = bulk.update_many([(dn, ["alias"]) for dn in rows])
            assert problems == {} and len(saved) == size
        counts.append((len(queries), len(updates)))
    bound = 8 if connection.vendor == "postgresql" else 40
    assert counts[1][0] - counts[0][0] <= bound and counts[1][1] - counts[0][1] <= bound, counts
    assert ObjectChange.objects.filter(action=ChangeAction.UPDATE).count() == 1210
