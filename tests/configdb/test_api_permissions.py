"""Authentication and tenant permissions of the API (and the admin, which obeys the same grants)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from configdb import services
from configdb.models import DN, DatabaseAccessPoint, ObjectChange, Switch, Tenant, VirtualQueue

from .api_helpers import (
    ALL_ROUTES,
    OBJECT_ROUTES,
    body,
    client_for,
    dap_template,
    fetch_all,
    make_user,
    names,
    other_tenant_objects,
    send,
    url,
)

# -- anonymous -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ALL_ROUTES)
def test_anonymous_is_401_on_every_route(db, route):
    client = client_for(None)
    for method, path in [("get", url(route)), ("get", url(route, 1)), ("post", url(route)),
                         ("put", url(route, 1)), ("patch", url(route, 1)), ("delete", url(route, 1))]:
        response = send(client, method, path, {"name": "x"} if method in ("post", "put", "patch") else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers.get("WWW-Authenticate", "").startswith("Token"), (method, path)
        assert "results" not in response.content.decode()


def test_anonymous_is_401_on_every_api_url(db):
    """Every URL the API's URLconf has (routes, format suffixes, and any view added beside them)."""
    from configdb.api import urls as api_urls

    checked = []
    for pattern in api_urls.urlpatterns:
        if not pattern.name:
            continue
        kwargs = {name: ("json" if name == "format" else "1") for name in pattern.pattern.regex.groupindex}
        path = reverse(f"api:{pattern.name}", kwargs=kwargs)
        client = client_for(None)
        client.raise_request_exception = False
        for method in ("get", "post"):
            response = send(client, method, path, {} if method == "post" else None)
            assert response.status_code == 401, (method, path, response.status_code)
        checked.append(path)
    assert len(checked) > 2 * len(ALL_ROUTES)


@pytest.mark.parametrize("path", ["/api/v1/", "/api/schema/", "/api/docs/"])
def test_anonymous_is_401_on_the_api_root_schema_and_docs(db, path):
    client = client_for(None)
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 401, (path, response.status_code)


def test_healthz_needs_no_login(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_for_a_logged_in_user(db, path):
    client = client_for(make_user("reader"))
    client.raise_request_exception = False
    assert client.get(path).status_code == 200


def test_bad_credentials_are_401_not_anonymous(db):
    client = client_for(None)
    for header in ("Token nonsense", "Token", "Token a b", "Bearer pc_notakey", "Token \xff"):
        response = client.get(url("tenants"), HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header


def test_session_login_works_for_the_api(demo):
    client = Client()
    client.force_login(make_user("root", superuser=True))
    response = client.get(url("tenants"))
    assert response.status_code == 200
    assert names(response.json()["results"]) == ["Environment"]


def test_inactive_user_is_refused(demo):
    user = make_user("gone", superuser=True)
    user.is_active = False
    user.save()
    client = Client()
    client.force_login(user)
    assert client.get(url("tenants")).status_code in (401, 403)


# -- tenant grants -------------------------------------------------------------------------------


@pytest.fixture
def world(demo, other_tenant):
    """Environment (the demo) and Other, each with a switch and a virtual queue."""
    objects = other_tenant_objects(other_tenant)
    return {"env": demo, "other": other_tenant, **objects,
            "env_switch": Switch.objects.get(name="MultiMediaSwitch"),
            "env_queue": VirtualQueue.objects.get(number="Proactive Chat")}


def test_reader_sees_only_the_granted_tenant(world):
    client = client_for(make_user("reader", grants={world["env"]: "read"}))
    assert names(fetch_all(client, "tenants")) == ["Environment"]
    assert names(fetch_all(client, "switches")) == ["MultiMediaSwitch"]
    assert names(fetch_all(client, "virtual-queues"), "number") == ["Proactive Chat", "Proactive Voice"]
    assert names(fetch_all(client, "skills")) == ["Proactive"]
    assert len(fetch_all(client, "skill-levels")) == 6
    assert fetch_all(client, "switches", tenant="Other") == []
    assert fetch_all(client, "virtual-queues", q="Other") == []


def test_reader_gets_404_for_another_tenants_object(world):
    client = client_for(make_user("reader", grants={world["env"]: "read"}))
    for route, obj in (("switches", world["switch"]), ("virtual-queues", world["queue"]), ("dns", world["queue"]),
                       ("skills", world["skill"]), ("tenants", world["other"])):
        assert client.get(url(route, obj.pk)).status_code == 404, route
        assert send(client, "patch", url(route, obj.pk), {"state": "disabled"}).status_code == 404, route
        assert client.delete(url(route, obj.pk)).status_code == 404, route


def test_reader_cannot_write_the_granted_tenant(world):
    client = client_for(make_user("reader", grants={world["env"]: "read"}))
    switch = world["env_switch"]
    assert client.get(url("switches", switch.pk)).status_code == 200
    full = {"tenant": "Environment", "name": "Renamed", "switch_type": "sip"}
    assert send(client, "put", url("switches", switch.pk), full).status_code == 403
    assert send(client, "patch", url("switches", switch.pk), {"name": "Renamed"}).status_code == 403
    assert client.delete(url("switches", switch.pk)).status_code == 403
    response = send(client, "post", url("switches"), {"tenant": "Environment", "name": "New"})
    assert response.status_code == 403, response.content
    response = send(client, "post", url("virtual-queues"), {"switch": "MultiMediaSwitch", "number": "VQ9"})
    assert response.status_code == 403, response.content
    response = send(client, "post", url("virtual-queues"), [{"switch": "MultiMediaSwitch", "number": "VQ9"}])
    assert response.status_code == 403, response.content
    switch.refresh_from_db()
    assert switch.name == "MultiMediaSwitch"
    assert not Switch.objects.filter(name="New").exists()
    assert not DN.objects.filter(number="VQ9").exists()


def test_writer_may_write_the_granted_tenant(world):
    client = client_for(make_user("writer", grants={world["env"]: "write"}))
    switch = world["env_switch"]
    response = send(client, "patch", url("switches", switch.pk), {"switch_type": "sip"})
    assert response.status_code == 200, response.content
    response = send(client, "put", url("switches", switch.pk),
                    {"tenant": "Environment", "name": "MultiMediaSwitch", "switch_type": "generic"})
    assert response.status_code == 200, response.content
    created = send(client, "post", url("skills"), {"tenant": "Environment", "name": "Spanish"})
    assert created.status_code == 201, created.content
    assert client.delete(url("skills", body(created)["id"])).status_code == 204
    queue = world["env_queue"]
    response = send(client, "patch", url("virtual-queues", queue.pk), {"alias": "PC"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("route", ["virtual-queues", "dns"])
def test_writer_may_create_a_dn_whose_tenant_comes_from_its_switch(world, route):
    """A DN's tenant is not written: it is its switch's. A writer of that tenant may create one."""
    client = client_for(make_user("writer", grants={world["env"]: "write"}))
    payload = {"switch": "MultiMediaSwitch", "number": "VQ9"}
    if route == "dns":
        payload["dn_type"] = "extension"
    created = send(client, "post", url(route), payload)
    assert created.status_code == 201, created.content
    assert body(created)["tenant"]["name"] == "Environment"
    bulk = send(client, "post", url(route), [{**payload, "number": "VQ10"}, {**payload, "number": "VQ11"}])
    assert bulk.status_code == 201, bulk.content


def test_writer_cannot_create_in_a_tenant_it_may_only_read(world):
    client = client_for(make_user("writer", grants={world["env"]: "write", world["other"]: "read"}))
    response = send(client, "post", url("skills"), {"tenant": "Other", "name": "Spanish"})
    assert response.status_code == 403, response.content
    response = send(client, "post", url("virtual-queues"), {"switch": "OtherSwitch", "number": "VQ9"})
    assert response.status_code == 403, response.content
    # nor move its own object there
    response = send(client, "patch", url("skills", world["skill"].pk), {"name": "Renamed"})
    assert response.status_code == 403
    env_skill = fetch_all(client, "skills", tenant="Environment")[0]
    response = send(client, "patch", url("skills", env_skill["id"]), {"tenant": "Other"})
    assert response.status_code == 403, response.content
    assert not DN.objects.filter(number="VQ9").exists()
    assert world["skill"].__class__.objects.get(pk=env_skill["id"]).tenant.name == "Environment"


def test_a_tenant_without_any_grant_is_not_revealed(world):
    client = client_for(make_user("writer", grants={world["env"]: "write"}))
    response = send(client, "post", url("skills"), {"tenant": "Other", "name": "Spanish"})
    assert response.status_code == 400
    assert body(response) == {"tenant": ["No tenant with name 'Other'."]}


def test_naming_another_tenants_object_is_a_400_not_found(world):
    client = client_for(make_user("writer", grants={world["env"]: "write"}))
    response = send(client, "post", url("virtual-queues"), {"switch": "OtherSwitch", "number": "VQ9"})
    assert response.status_code == 400
    assert body(response) == {"switch": ["No switch with name 'OtherSwitch'."]}
    response = send(client, "post", url("virtual-queues"), {"switch": world["switch"].pk, "number": "VQ9"})
    assert response.status_code == 400
    assert body(response) == {"switch": [f"No switch with id {world['switch'].pk}."]}
    # the same answer as for a switch that does not exist at all
    response = send(client, "post", url("virtual-queues"), {"switch": "NoSuchSwitch", "number": "VQ9"})
    assert body(response) == {"switch": ["No switch with name 'NoSuchSwitch'."]}
    response = send(client, "patch", url("virtual-queues", world["env_queue"].pk),
                    {"switch": {"id": world["switch"].pk}})
    assert response.status_code == 400
    assert "switch" in body(response)
    response = send(client, "post", url("agent-groups"),
                    {"tenant": "Environment", "name": "G", "origination_dns": ["Other Queue"]})
    assert response.status_code == 400
    assert list(body(response)) == ["origination_dns"]
    assert "No " in body(response)["origination_dns"][0]
    assert not DN.objects.filter(number="VQ9").exists()


def test_filter_by_another_tenants_object_reveals_nothing(world):
    client = client_for(make_user("reader", grants={world["env"]: "read"}))
    assert fetch_all(client, "virtual-queues", switch="OtherSwitch") == []
    assert fetch_all(client, "virtual-queues", switch=str(world["switch"].pk)) == []


def test_user_without_grants_sees_empty_lists(world):
    client = client_for(make_user("nobody"))
    for route in ALL_ROUTES:
        response = client.get(url(route))
        assert response.status_code == 200, route
        assert body(response)["count"] == 0, route
    assert client.get(url("switches", world["env_switch"].pk)).status_code == 404
    response = send(client, "post", url("tenants"), {"name": "Mine"})
    assert response.status_code == 403
    assert not Tenant.objects.filter(name="Mine").exists()


def test_superuser_sees_everything(world):
    client = client_for(make_user("root", superuser=True))
    assert names(fetch_all(client, "tenants")) == ["Environment", "Other"]
    assert names(fetch_all(client, "switches")) == ["MultiMediaSwitch", "OtherSwitch"]
    assert client.get(url("virtual-queues", world["queue"].pk)).status_code == 200
    assert send(client, "patch", url("switches", world["switch"].pk), {"switch_type": "sip"}).status_code == 200


def test_changes_are_scoped_by_grants(world):
    reader = client_for(make_user("reader", grants={world["env"]: "read"}))
    tenants = {row["tenant"] for row in fetch_all(reader, "changes")}
    assert tenants == {"Environment"}
    switch_changes = fetch_all(reader, "changes", object_type="configdb.switch")
    assert {row["object_id"] for row in switch_changes} == {str(world["env_switch"].pk)}
    dn_changes = {row["object_id"] for row in fetch_all(reader, "changes", object_type="configdb.dn")}
    assert str(world["queue"].pk) not in dn_changes
    assert str(world["env_queue"].pk) in dn_changes
    other_change = ObjectChange.objects.filter(tenant=world["other"]).first()
    assert reader.get(url("changes", other_change.pk)).status_code == 404
    nobody = client_for(make_user("nobody"))
    assert fetch_all(nobody, "changes") == []
    root = client_for(make_user("root", superuser=True))
    assert {row["tenant"] for row in fetch_all(root, "changes")} >= {"Environment", "Other"}


def test_changes_are_read_only(world):
    client = client_for(make_user("root", superuser=True))
    change = ObjectChange.objects.first()
    assert send(client, "post", url("changes"), {"action": "create"}).status_code == 405
    assert send(client, "patch", url("changes", change.pk), {"actor": "me"}).status_code == 405
    assert client.delete(url("changes", change.pk)).status_code == 405


def test_reader_cannot_delete_or_change_anything_on_any_route(world):
    from configdb.api.urls import ROUTES

    services.save_object(DatabaseAccessPoint(tenant=world["env"], name="DAP", template=dap_template(world["env"]),
                                             dbms_type="postgre", db_password="pw-1"))
    client = client_for(make_user("reader", grants={world["env"]: "read", world["other"]: "read"}))
    problems = []
    for route in OBJECT_ROUTES:
        model = next(v for prefix, v, _ in ROUTES if prefix == route).queryset.model
        obj = model._default_manager.first()
        assert obj is not None, route
        assert client.get(url(route, obj.pk)).status_code == 200, route
        for method in ("delete", "patch"):
            response = send(client, method, url(route, obj.pk), {} if method == "patch" else None)
            if response.status_code != 403:
                problems.append(f"{method.upper()} {route}: {response.status_code}")
        if not model._default_manager.filter(pk=obj.pk).exists():
            problems.append(f"{route}: deleted")
    assert not problems, problems


# -- the admin obeys the same grants -------------------------------------------------------------


def staff_client(username, grants):
    user = make_user(username, staff=True, grants=grants)
    perms = Permission.objects.filter(content_type__app_label="configdb",
                                      codename__regex=r"^(view|change|add|delete)_")
    user.user_permissions.add(*perms)
    client = Client()
    client.force_login(user)
    return client


def test_admin_changelist_shows_only_granted_rows(world):
    client = staff_client("staff", {world["env"]: "read"})
    response = client.get(reverse("admin:configdb_switch_changelist"))
    assert response.status_code == 200
    assert [s.name for s in response.context["cl"].result_list] == ["MultiMediaSwitch"]
    response = client.get(reverse("admin:configdb_virtualqueue_changelist"))
    assert sorted(q.number for q in response.context["cl"].result_list) == ["Proactive Chat", "Proactive Voice"]
    other = client.get(reverse("admin:configdb_switch_change", args=[world["switch"].pk]))
    assert other.status_code in (302, 404)  # "does not exist" redirect, never the object


def test_admin_change_page_is_read_only_with_a_read_grant(world):
    client = staff_client("staff", {world["env"]: "read"})
    switch = world["env_switch"]
    response = client.get(reverse("admin:configdb_switch_change", args=[switch.pk]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()
    posted = client.post(reverse("admin:configdb_switch_change", args=[switch.pk]),
                         {"name": "Renamed", "switch_type": "sip", "tenant": switch.tenant_id, "state": "enabled"})
    assert posted.status_code == 403
    switch.refresh_from_db()
    assert switch.name == "MultiMediaSwitch"
    assert client.get(reverse("admin:configdb_switch_add")).status_code == 403


def test_admin_change_page_saves_with_a_write_grant(world):
    client = staff_client("staff", {world["env"]: "write"})
    response = client.get(reverse("admin:configdb_switch_change", args=[world["env_switch"].pk]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is True
    assert 'name="_save"' in response.content.decode()
