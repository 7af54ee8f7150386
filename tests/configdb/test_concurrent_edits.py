"""Concurrent edits are kept: a PATCH writes only the fields it names, onto the row as stored under its lock,
with the history's before/after taken under the same lock; whole-object edits carry a version (ETag /
If-Match, the admin form's hidden field) and a stale one is refused with a link to what changed; a unique
constraint that two requests race for answers 400 naming the field.

The deterministic tests slip "another request's" write in between the moment the API (or the admin) read
the object and the moment the service locks it; the PostgreSQL tests run real threads.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from configdb import services
from configdb.models import DN, AgentGroup, ObjectChange, Switch, Tenant

from .api_helpers import body, client_for, make_user, send, url


@pytest.fixture
def root(db):
    return make_user("root", superuser=True)


@pytest.fixture
def switch(env_tenant):
    return services.save_object(Switch(tenant=env_tenant, name="SW", options={"a": {"b": "1"}}))


def meanwhile(monkeypatch, change):
    """Run ``change()`` (another request's write) once, just before the service locks the row."""
    original = services.check_version
    done = []

    def slipped(obj, version):
        if not done:
            done.append(True)
            change()
        return original(obj, version)

    monkeypatch.setattr(services, "check_version", slipped)


def other_write(pk, **values):
    def change():
        obj = Switch.objects.get(pk=pk)
        for name, value in values.items():
            setattr(obj, name, value)
        services.save_object(obj, fields=list(values))
    return change


def test_a_patch_keeps_a_concurrent_change_of_another_field(root, switch, monkeypatch):
    meanwhile(monkeypatch, other_write(switch.pk, switch_type="sip"))
    response = send(client_for(root), "patch", url("switches", switch.pk), {"name": "SW renamed"})
    assert response.status_code == 200, response.content
    assert body(response)["switch_type"] == "sip"  # the answer is the row as stored now
    switch.refresh_from_db()
    assert (switch.name, switch.switch_type) == ("SW renamed", "sip")
    # the history's "before" of the PATCH is the row it locked, which already had the other change
    last = ObjectChange.objects.filter(object_id=str(switch.pk)).order_by("-pk").first()
    assert last.prechange["switch_type"] == "sip" and last.prechange["name"] == "SW"
    assert last.postchange["name"] == "SW renamed"


def test_a_put_without_if_match_writes_only_the_fields_it_sends(root, switch, monkeypatch):
    meanwhile(monkeypatch, other_write(switch.pk, options={"changed": {"by": "other"}}))
    response = send(client_for(root), "put", url("switches", switch.pk), {"tenant": "Environment", "name": "SW",
                                                                         "switch_type": "generic"})
    assert response.status_code == 200, response.content
    switch.refresh_from_db()
    assert switch.switch_type == "generic" and switch.options == {"changed": {"by": "other"}}


def test_every_answer_carries_the_version_and_a_stale_if_match_is_412(root, switch):
    client = client_for(root)
    got = client.get(url("switches", switch.pk))
    etag = got.headers["ETag"]
    assert etag == f'"{services.version_of(switch)}"'
    other = Switch.objects.get(pk=switch.pk)
    other.switch_type = "sip"
    services.save_object(other)
    for method, payload in (("put", {"tenant": "Environment", "name": "Mine", "switch_type": "generic"}),
                            ("patch", {"name": "Mine"})):
        response = send(client, method, url("switches", switch.pk), payload, HTTP_IF_MATCH=etag)
        assert response.status_code == 412, response.content
        data = body(response)
        assert "changed by someone else since you opened it" in data["detail"]
        assert data["changes"] == (f"http://testserver/api/v1/changes/?object_type=configdb.switch"
                                   f"&object_id={switch.pk}")
        diff = client.get(data["changes"])
        assert diff.status_code == 200
        assert any(row["postchange"].get("switch_type") == "sip" for row in body(diff)["results"])
    assert Switch.objects.get(pk=switch.pk).name == "SW"
    current = client.get(url("switches", switch.pk)).headers["ETag"]
    assert current != etag
    response = send(client, "put", url("switches", switch.pk),
                    {"tenant": "Environment", "name": "Mine", "switch_type": "generic"}, HTTP_IF_MATCH=current)
    assert response.status_code == 200, response.content
    assert response.headers["ETag"] == client.get(url("switches", switch.pk)).headers["ETag"] != current
    created = send(client, "post", url("skills"), {"tenant": "Environment", "name": "S"})
    assert created.status_code == 201 and created.headers["ETag"]
    assert send(client, "patch", url("switches", switch.pk), {"name": "Any"}, HTTP_IF_MATCH="*").status_code == 200


def test_a_stale_get_body_put_back_with_if_match_is_412_not_a_read_only_400(root, switch):
    """Found by bench/concurrency.py: the GET's body carries `modified`, which the other write changed; the
    read-only check refused it with a 400 before the version was looked at."""
    client = client_for(root)
    got = client.get(url("switches", switch.pk))
    payload = {**body(got), "tenant": body(got)["tenant"]["id"], "name": "Mine"}
    other_write(switch.pk, switch_type="sip")()
    response = send(client, "put", url("switches", switch.pk), payload, HTTP_IF_MATCH=got.headers["ETag"])
    assert response.status_code == 412, response.content
    assert "changed by someone else since you opened it" in body(response)["detail"]
    assert Switch.objects.get(pk=switch.pk).name == "SW"
    # the same body against the current version: read-only fields must still be sent back unchanged
    current = client.get(url("switches", switch.pk)).headers["ETag"]
    response = send(client, "put", url("switches", switch.pk), payload, HTTP_IF_MATCH=current)
    assert response.status_code == 400 and "modified" in body(response), response.content


def test_the_version_reveals_nothing_of_a_secret(root, env_tenant):
    """A keyed digest: two objects that differ only in a secret have different versions, and the same secret
    under another SECRET_KEY gives another version (so it cannot be guessed offline from the ETag)."""
    from django.test import override_settings

    from configdb.models import Transaction

    txn = services.save_object(Transaction(tenant=env_tenant, name="t", annex={"ewt": {"password": "pw-1"}}))
    version = services.version_of(txn)
    with override_settings(SECRET_KEY="another" * 10):
        assert services.version_of(txn) != version
    txn.annex = {"ewt": {"password": "pw-2"}}
    assert services.version_of(txn) != version


def test_the_admin_refuses_a_stale_form_with_a_link_to_the_history(env_tenant, switch):
    user = make_user("staff", staff=True, grants={env_tenant: "write"})
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="configdb"))
    client = Client()
    client.force_login(user)
    change = reverse("admin:configdb_switch_change", args=[switch.pk])
    page = client.get(change)
    version = page.context["adminform"].form.initial["pacing_version"]
    assert f'name="pacing_version" value="{version}"' in page.content.decode()
    other = Switch.objects.get(pk=switch.pk)
    other.switch_type = "sip"
    services.save_object(other)
    data = {"name": "Mine", "switch_type": "generic", "tenant": env_tenant.pk, "state": "enabled",
            "pacing_version": version, "options-present": "1"}
    response = client.post(change, data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "changed by someone else since you opened it" in text
    assert f'href="{reverse("admin:configdb_switch_history", args=[switch.pk])}"' in text
    switch.refresh_from_db()
    assert (switch.name, switch.switch_type) == ("SW", "sip")
    data["pacing_version"] = services.version_of(switch)
    assert client.post(change, data).status_code == 302
    switch.refresh_from_db()
    assert (switch.name, switch.switch_type) == ("Mine", "generic")


def test_a_unique_constraint_race_answers_400_naming_the_field(root, switch, monkeypatch):
    """Validation passed (the other request had not committed yet) but the database refused the row."""
    services.save_object(DN(switch=switch, number="5001", dn_type="extension"))
    original = DN.full_clean

    def blind(self, *args, **kwargs):  # what full_clean saw before the other request committed
        kwargs["validate_constraints"] = False
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DN, "full_clean", blind)
    response = send(client_for(root), "post", url("dns"), {"switch": "SW", "number": "5001", "dn_type": "extension"})
    assert response.status_code == 400, response.content
    assert body(response) == {"number": ["This switch already has a DN with this number."]}
    response = send(client_for(root), "post", url("dns"), [{"switch": "SW", "number": "5001", "dn_type": "extension"}])
    assert response.status_code == 400, response.content
    assert DN.objects.filter(number="5001").count() == 1


def after_the_view_read(monkeypatch, change):
    """Run ``change()`` (another request's write) once, after the API's DELETE read the object and before it
    hands it to the service."""
    from configdb.api import views

    original = views.ConfigObjectViewSet.perform_destroy

    def slipped(self, instance):
        change()
        return original(self, instance)

    monkeypatch.setattr(views.ConfigObjectViewSet, "perform_destroy", slipped)


def test_a_delete_records_the_object_as_stored_when_it_is_deleted(root, switch, monkeypatch):
    """Found by bench/concurrency.py: the delete's history "before" was the copy the view had read, so a PATCH
    committed in between was missing from it (the history chain broke at the delete)."""
    meanwhile_change = other_write(switch.pk, switch_type="sip", options={"patched": {"by": "other"}})
    after_the_view_read(monkeypatch, meanwhile_change)
    response = send(client_for(root), "delete", url("switches", switch.pk))
    assert response.status_code == 204, response.content
    assert not Switch.objects.filter(pk=switch.pk).exists()
    chain = list(ObjectChange.objects.filter(object_id=str(switch.pk), content_type__model="switch").order_by("pk"))
    assert [c.action for c in chain] == ["create", "update", "delete"]
    assert chain[2].prechange == chain[1].postchange
    assert chain[2].prechange["switch_type"] == "sip"


def test_an_object_deleted_meanwhile_answers_404_and_is_recorded_once(root, switch, monkeypatch):
    """Two DELETEs of one object at the same moment: one 204, the other 404 — not two 204s and two deletes."""
    after_the_view_read(monkeypatch, lambda: services.delete_object(Switch.objects.get(pk=switch.pk)))
    response = send(client_for(root), "delete", url("switches", switch.pk))
    assert response.status_code == 404, response.content
    assert "deleted meanwhile" in body(response)["detail"]
    deletes = ObjectChange.objects.filter(object_id=str(switch.pk), content_type__model="switch", action="delete")
    assert deletes.count() == 1


def test_the_admin_deleting_an_object_deleted_meanwhile_is_no_error(env_tenant, switch, monkeypatch):
    user = make_user("staff", staff=True, grants={env_tenant: "write"})
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="configdb"))
    client = Client()
    client.force_login(user)
    original = services.delete_object

    def raced(obj, **kwargs):  # another request deletes it first
        original(Switch.objects.get(pk=obj.pk))
        return original(obj, **kwargs)

    monkeypatch.setattr(services, "delete_object", raced)
    response = client.post(reverse("admin:configdb_switch_delete", args=[switch.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert ObjectChange.objects.filter(object_id=str(switch.pk), content_type__model="switch",
                                       action="delete").count() == 1


# -- real threads, on PostgreSQL (SQLite serialises writers: tests/pacingsite/test_sqlite_concurrency.py) --------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


def run_threads(count: int, work) -> list:
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_of_different_fields_both_survive():
    env = Tenant.objects.create(name="Environment")
    root = make_user("root", superuser=True)
    switch = services.save_object(Switch(tenant=env, name="SW"))
    rounds = 25

    def work(index: int):
        client = client_for(root)
        answers = []
        for n in range(rounds):
            payload = {"name": f"SW {n}"} if index == 0 else {"options": {"round": {"n": str(n)}}}
            answers.append(send(client, "patch", url("switches", switch.pk), payload).status_code)
        return answers

    results = run_threads(2, work)
    assert results == [[200] * rounds, [200] * rounds]
    switch.refresh_from_db()
    assert switch.name == f"SW {rounds - 1}"
    assert switch.options == {"round": {"n": str(rounds - 1)}}
    # the history chain: each update's "before" is the previous one's "after" (no write lost unseen)
    chain = list(ObjectChange.objects.filter(object_id=str(switch.pk), action="update").order_by("pk"))
    assert len(chain) == 2 * rounds
    for previous, current in zip(chain, chain[1:], strict=False):
        for field in ("name", "options"):
            assert current.prechange[field] == previous.postchange[field], (previous.pk, current.pk, field)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_creating_the_same_dn_at_the_same_moment_is_one_201_and_400s_never_500():
    env = Tenant.objects.create(name="Environment")
    root = make_user("root", superuser=True)
    services.save_object(Switch(tenant=env, name="SW"))
    for attempt in range(5):
        number = f"70{attempt}"

        def work(index: int, number=number):
            client = client_for(root)
            client.raise_request_exception = False
            bulk = index % 2 == 1
            record = {"switch": "SW", "number": number, "dn_type": "extension"}
            response = send(client, "post", url("dns"), [record] if bulk else record)
            return response.status_code, body(response)

        results = run_threads(4, work)
        codes = sorted(code for code, _ in results)
        assert codes == [201, 400, 400, 400], results
        for code, data in results:
            if code == 400:
                assert "number" in str(data), data
        assert DN.objects.filter(number=number).count() == 1


def committed_elsewhere(change) -> None:
    """Run ``change()`` on a connection of its own, committed before this returns (another request)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            change()
        except BaseException as exc:  # noqa: BLE001 - reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors, errors


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_linking_a_dn_deleted_meanwhile_is_a_400_not_a_500_at_commit(monkeypatch, method):
    """Found by bench/concurrency.py on PostgreSQL: the DN was deleted (and committed) after the request checked it
    and before its commit; the link row's deferred foreign-key check then failed at COMMIT, a 500."""
    env = Tenant.objects.create(name="Environment")
    root = make_user("root", superuser=True)
    switch = services.save_object(Switch(tenant=env, name="SW"))
    dn = services.save_object(DN(switch=switch, number="5001", dn_type="extension"))
    group = services.save_object(AgentGroup(tenant=env, name="G"))
    original = services.check_same_tenant

    def raced(tenant_id, related, field):  # after the request read the DNs, before it writes the links
        if field == "origination_dns" and DN.objects.filter(pk=dn.pk).exists():
            committed_elsewhere(lambda: services.delete_object(DN.objects.get(pk=dn.pk)))
        return original(tenant_id, related, field)

    monkeypatch.setattr(services, "check_same_tenant", raced)
    client = client_for(root)
    client.raise_request_exception = False
    if method == "post":
        response = send(client, "post", url("agent-groups"), {"tenant": "Environment", "name": "G2",
                                                              "origination_dns": [dn.pk]})
    else:
        response = send(client, "patch", url("agent-groups", group.pk), {"origination_dns": [dn.pk]})
    assert response.status_code == 400, response.content
    assert "origination_dns" in body(response)
    assert not AgentGroup.objects.filter(name="G2").exists()
    assert not DN.objects.filter(pk=dn.pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_saving_onto_a_switch_deleted_meanwhile_is_a_400_not_a_500_at_commit(monkeypatch):
    env = Tenant.objects.create(name="Environment")
    root = make_user("root", superuser=True)
    switch = services.save_object(Switch(tenant=env, name="SW"))
    original = DN.full_clean

    def raced(self, *args, **kwargs):  # validation saw the switch; it is deleted before the insert
        original(self, *args, **kwargs)
        committed_elsewhere(lambda: services.delete_object(Switch.objects.get(pk=switch.pk)))

    monkeypatch.setattr(DN, "full_clean", raced)
    client = client_for(root)
    client.raise_request_exception = False
    response = send(client, "post", url("dns"), {"switch": "SW", "number": "5001", "dn_type": "extension"})
    assert response.status_code == 400, response.content
    assert "conflicted with this one at the same moment" in str(body(response))
    assert not DN.objects.exists()


def test_a_race_the_admin_form_could_not_see_is_a_message_not_a_500(env_tenant, switch, monkeypatch):
    from django.core.exceptions import ValidationError

    user = make_user("staff", staff=True, grants={env_tenant: "write"})
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="configdb"))
    client = Client()
    client.force_login(user)

    def raced(obj, **kwargs):
        raise ValidationError({"name": ["This tenant already has a skill with this name."]})

    monkeypatch.setattr(services, "save_object", raced)
    add = reverse("admin:configdb_skill_add")
    response = client.post(add, {"name": "Taken", "tenant": env_tenant.pk, "state": "enabled"}, follow=True)
    assert response.status_code == 200
    assert "Nothing was saved: This tenant already has a skill with this name." in response.content.decode()
