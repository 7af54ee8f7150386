"""CRUD of every configuration object over /api/v1/, pagination, ordering and filters.

What a script author relies on: an object created with related objects written by name (or id)
is read back with brief relations ``{"id", "url", "name"}``; lists are paginated and stably
ordered; filters narrow the list, an unknown filter or ordering field is a 400 naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import connection

from configdb import services
from configdb.models import Application, Person, Skill, Switch, Tenant

from .api_helpers import (
    BRIEF_KEYS,
    OBJECT_ROUTES,
    PAGE_KEYS,
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


@dataclass
class Spec:
    """How to create, change and recognise one resource."""

    build: object  # (ctx) -> create payload
    put: tuple[str, object]  # a field the PUT changes, and its new value
    patch: tuple[str, object]  # a field the PATCH changes, and its new value
    relations: dict[str, object] = field(default_factory=dict)  # field -> expected brief name (list for m2m)


SPECS: dict[str, Spec] = {
    "tenants": Spec(
        build=lambda ctx: {"name": "Acme", "description": "a customer"},
        put=("description", "a bigger customer"), patch=("state", "disabled"),
    ),
    "folders": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "Queues", "folder_type": "dn"},
        put=("description", "all queues"), patch=("name", "Queues 2"),
        relations={"tenant": "Environment"},
    ),
    "hosts": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "host-new", "ip_address": "10.0.0.7", "os_type": "linux",
                           "lca_port": 4999},
        put=("ip_address", "10.0.0.8"), patch=("lca_port", 5000),
        relations={"tenant": "Environment"},
    ),
    "application-templates": Spec(
        build=lambda ctx: {"tenant": {"name": "Environment"}, "name": "T_New", "app_type": "genesys_generic_server",
                           "version": "9.0.1"},
        put=("version", "9.0.2"), patch=("state", "disabled"),
        relations={"tenant": "Environment"},
    ),
    "applications": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "App_New", "template": "Pacing_Server", "host": "demosrv",
                           "working_directory": ".", "command_line": "./run", "tenants": ["Environment"]},
        put=("command_line_arguments", "-app App_New"), patch=("startup_timeout", 120),
        relations={"tenant": "Environment", "template": "Pacing_Server", "host": "demosrv",
                   "tenants": ["Environment"]},
    ),
    "ports": Spec(
        build=lambda ctx: {"application": ctx["stat_id"], "port_id": "extra", "port": 7001},
        put=("port", 7002), patch=("description", "second port"),
        relations={"application": "Stat_Server"},
    ),
    "connections": Spec(
        build=lambda ctx: {"application": {"id": ctx["node_id"]}, "server": "Stat_Server", "port_id": "default"},
        put=("local_timeout", 30), patch=("trace_mode", "both"),
        relations={"application": "Pacing_Server_Node_01", "server": "Stat_Server"},
    ),
    "database-access-points": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "DAP_New", "template": "T_DAP", "dbms_type": "postgre",
                           "dbms_name": "pg1", "database_name": "ixn", "db_username": "genesys",
                           "db_password": "dap-pw-crud"},
        put=("database_name", "ixn2"), patch=("query_timeout", 30),
        relations={"tenant": "Environment", "template": "T_DAP"},
    ),
    "switches": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "SIP_Switch", "switch_type": "sip"},
        put=("switch_type", "generic"), patch=("t_server", "Stat_Server"),
        relations={"tenant": "Environment"},
    ),
    "dns": Spec(
        build=lambda ctx: {"switch": "MultiMediaSwitch", "number": "5001", "dn_type": "extension"},
        put=("alias", "front desk"), patch=("register", "local"),
        relations={"switch": "MultiMediaSwitch", "tenant": "Environment"},
    ),
    "virtual-queues": Spec(
        build=lambda ctx: {"switch": ctx["switch_id"], "number": "Proactive Email", "alias": "Proactive Email",
                           "options": {"pacing": {"media": "email", "optimizationGoal": "3"}}},
        put=("alias", "PE"), patch=("options", {"pacing": {"media": "email", "optimizationGoal": "5"}}),
        relations={"switch": "MultiMediaSwitch", "tenant": "Environment"},
    ),
    "media-types": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "sms", "display_name": "SMS"},
        put=("display_name", "Text message"), patch=("state", "disabled"),
        relations={"tenant": "Environment"},
    ),
    "skills": Spec(
        build=lambda ctx: {"tenant": ctx["env_id"], "name": "Spanish"},
        put=("name", "Spanish (fluent)"), patch=("state", "disabled"),
        relations={"tenant": "Environment"},
    ),
    "persons": Spec(
        build=lambda ctx: {"tenant": "Environment", "user_name": "new.agent", "employee_id": "E9001",
                           "first_name": "New", "media_types": ["chat", "voice"]},
        put=("last_name", "Agent"), patch=("media_types", ["email"]),
        relations={"tenant": "Environment", "media_types": ["chat", "voice"]},
    ),
    "skill-levels": Spec(
        build=lambda ctx: {"person": "chat.agent1", "skill": {"name": "German"}, "level": 3},
        put=("level", 7), patch=("level", 9),
        relations={"person": "chat.agent1", "skill": "German"},
    ),
    "agent-groups": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "Proactive Email", "agents": ["chat.agent1"],
                           "supervisors": [ctx["sales_id"]], "origination_dns": ["Proactive Chat"]},
        put=("options", {"routing": {"priority": "2"}}), patch=("agents", ["chat.agent2", "voice.agent1"]),
        relations={"tenant": "Environment", "agents": ["chat.agent1"], "supervisors": ["sales.agent1"],
                   "origination_dns": ["Proactive Chat"]},
    ),
    "alarm-conditions": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "Queue Stalled", "detect_event_id": 200001,
                           "cancel_event_id": 200002, "category": "minor"},
        put=("timeout", 600), patch=("category", "critical"),
        relations={"tenant": "Environment"},
    ),
    "transactions": Spec(
        build=lambda ctx: {"tenant": "Environment", "name": "routing_map", "transaction_type": "map",
                           "annex": {"map": {"a": "1"}}},
        put=("alias", "rmap"), patch=("annex", {"map": {"a": "2", "b": "3"}}),
        relations={"tenant": "Environment"},
    ),
}


def test_every_object_route_has_a_spec():
    assert sorted(SPECS) == sorted(OBJECT_ROUTES)


@pytest.fixture
def root(db):
    return make_user("root", superuser=True)


@pytest.fixture
def ctx(demo):
    """The demo, plus what some payloads name: a DAP template, a skill nobody has, a few ids."""
    dap_template(demo)
    services.save_object(Skill(tenant=demo, name="German"))
    return {
        "env_id": demo.pk,
        "stat_id": Application.objects.get(name="Stat_Server").pk,
        "node_id": Application.objects.get(name="Pacing_Server_Node_01").pk,
        "switch_id": Switch.objects.get(name="MultiMediaSwitch").pk,
        "sales_id": Person.objects.get(user_name="sales.agent1").pk,
    }


def assert_brief(client, value, expected_name):
    assert isinstance(value, dict), value
    assert set(value) == BRIEF_KEYS, value
    assert value["name"] == expected_name
    assert isinstance(value["id"], int)
    # the url is absolute and leads to the object itself
    assert value["url"].startswith("http://testserver/api/v1/")
    linked = client.get(value["url"])
    assert linked.status_code == 200, value["url"]
    assert body(linked)["id"] == value["id"]


def assert_relations(client, data, relations):
    for name, expected in relations.items():
        if isinstance(expected, list):
            assert sorted(b["name"] for b in data[name]) == sorted(expected), name
            for brief in data[name]:
                assert_brief(client, brief, brief["name"])
        else:
            assert_brief(client, data[name], expected)


def same_value(actual, expected):
    if isinstance(expected, list):  # many-to-many written by name, read back brief
        return sorted(b["name"] for b in actual) == sorted(expected)
    if isinstance(actual, dict) and set(actual) == BRIEF_KEYS:
        return actual["name"] == expected
    return actual == expected


@pytest.mark.parametrize("route", sorted(SPECS))
def test_crud(root, ctx, route):
    spec = SPECS[route]
    client = client_for(root)
    payload = spec.build(ctx)
    before = fetch_all(client, route)

    created = send(client, "post", url(route), payload)
    assert created.status_code == 201, created.content
    data = body(created)
    pk = data["id"]
    assert data["url"] == f"http://testserver{url(route, pk)}"
    for key, value in payload.items():
        if key not in spec.relations and key != "db_password":
            assert data[key] == value, key
    assert "db_password" not in data  # write-only
    assert_relations(client, data, spec.relations)

    # retrieve: what was created, as it was answered
    got = client.get(url(route, pk))
    assert got.status_code == 200
    assert body(got) == data

    # list: paginated, holds the new object
    listed = client.get(url(route))
    assert listed.status_code == 200
    assert set(body(listed)) == PAGE_KEYS
    assert body(listed)["count"] == len(before) + 1
    assert pk in [row["id"] for row in fetch_all(client, route)]

    # PUT: the whole object again, one field changed
    put_field, put_value = spec.put
    updated = send(client, "put", url(route, pk), {**payload, put_field: put_value})
    assert updated.status_code == 200, updated.content
    assert same_value(body(updated)[put_field], put_value)
    assert same_value(body(client.get(url(route, pk)))[put_field], put_value)

    # PATCH: one field; the PUT's change stays
    patch_field, patch_value = spec.patch
    patched = send(client, "patch", url(route, pk), {patch_field: patch_value})
    assert patched.status_code == 200, patched.content
    reread = body(client.get(url(route, pk)))
    assert same_value(reread[patch_field], patch_value)
    if put_field != patch_field:
        assert same_value(reread[put_field], put_value)
    assert reread["id"] == pk

    # DELETE, then it is gone
    deleted = client.delete(url(route, pk))
    assert deleted.status_code == 204, deleted.content
    # what the commit of the request's transaction would check (the test runs inside one transaction)
    connection.check_constraints()
    assert client.get(url(route, pk)).status_code == 404
    assert [row["id"] for row in fetch_all(client, route)] == [row["id"] for row in before]


def test_every_list_is_paginated_and_stably_ordered(root, demo):
    """Paging through any list with a small limit gives each object once, in the order of the whole list."""
    client = client_for(root)
    problems = []
    for route in sorted(SPECS):
        everything = [row["id"] for row in fetch_all(client, route)]
        if everything != [row["id"] for row in fetch_all(client, route)]:
            problems.append(f"{route}: two reads differ")
        paged, offset = [], 0
        while True:
            page = client.get(url(route), {"limit": 2, "offset": offset})
            assert page.status_code == 200
            data = body(page)
            assert set(data) == PAGE_KEYS
            assert data["count"] == len(everything)
            paged += [row["id"] for row in data["results"]]
            if data["next"] is None:
                break
            assert "limit=2" in data["next"]
            offset += 2
        if paged != everything:
            problems.append(f"{route}: pages {paged} != whole list {everything}")
    assert not problems, problems


def test_lists_default_to_the_model_ordering(root, demo):
    client = client_for(root)
    for route in ("alarm-conditions", "agent-groups", "applications", "hosts", "media-types"):
        rows = names(fetch_all(client, route))
        assert rows == sorted(rows), route
    persons = names(fetch_all(client, "persons"), "user_name")
    assert persons == sorted(persons)


def test_pagination_limits(root, demo):
    client = client_for(root)
    data = body(client.get(url("alarm-conditions"), {"limit": 2, "offset": 2}))
    assert len(data["results"]) == 2
    assert data["previous"] is not None and data["next"] is not None
    for bad in ({"limit": "abc"}, {"offset": "-1"}, {"limit": "1" * 20}):
        response = client.get(url("alarm-conditions"), bad)
        assert response.status_code == 400, bad
        assert set(body(response)) == set(bad)


@pytest.fixture
def both_tenants(root, demo, other_tenant):
    other_tenant_objects(other_tenant)
    return client_for(root)


def test_filter_by_tenant_name_or_id(both_tenants, demo, other_tenant):
    client = both_tenants
    assert names(fetch_all(client, "switches")) == ["MultiMediaSwitch", "OtherSwitch"]
    assert names(fetch_all(client, "switches", tenant="Environment")) == ["MultiMediaSwitch"]
    assert names(fetch_all(client, "switches", tenant=str(other_tenant.pk))) == ["OtherSwitch"]
    assert names(fetch_all(client, "virtual-queues", tenant="Other"), "number") == ["Other Queue"]
    assert fetch_all(client, "switches", tenant="Nobody") == []


def test_filter_by_name_and_related_name(both_tenants):
    client = both_tenants
    assert names(fetch_all(client, "applications", name="Stat_Server")) == ["Stat_Server"]
    assert names(fetch_all(client, "applications", name__icontains="node")) == [
        "Pacing_Server_Node_01", "Pacing_Server_Node_02"]
    assert names(fetch_all(client, "virtual-queues", switch="MultiMediaSwitch"), "number") == [
        "Proactive Chat", "Proactive Voice"]
    assert names(fetch_all(client, "agent-groups", origination_dns="Proactive Voice")) == [
        "Proactive Blended", "Proactive Voice"]
    assert names(fetch_all(client, "applications", template="Pacing_Server")) == [
        "Pacing_Server_Node_01", "Pacing_Server_Node_02"]


def test_filter_q_searches_names(both_tenants):
    client = both_tenants
    assert names(fetch_all(client, "virtual-queues", q="proactive"), "number") == ["Proactive Chat", "Proactive Voice"]
    assert names(fetch_all(client, "agent-groups", q="SALES")) == ["Proactive Chat Sales"]
    assert names(fetch_all(client, "persons", q="voice"), "user_name") == ["voice.agent1", "voice.agent2"]
    assert fetch_all(client, "hosts", q="no-such-host") == []


def test_filter_state(both_tenants):
    client = both_tenants
    queue = fetch_all(client, "virtual-queues", number="Proactive Voice")[0]
    assert fetch_all(client, "virtual-queues", state="disabled") == []
    assert send(client, "patch", url("virtual-queues", queue["id"]), {"state": "disabled"}).status_code == 200
    assert names(fetch_all(client, "virtual-queues", state="disabled"), "number") == ["Proactive Voice"]
    assert "Proactive Voice" not in names(fetch_all(client, "virtual-queues", state="enabled"), "number")
    response = client.get(url("virtual-queues"), {"state": "maybe"})
    assert response.status_code == 400
    assert "state" in body(response)


def test_filter_option_and_section(both_tenants):
    client = both_tenants
    chat = sorted(names(fetch_all(client, "virtual-queues", option="pacing/media=chat"), "number"))
    assert chat == ["Other Queue", "Proactive Chat"]
    assert names(fetch_all(client, "virtual-queues", option="pacing/media=voice"), "number") == ["Proactive Voice"]
    assert fetch_all(client, "virtual-queues", option="pacing/media=fax") == []
    assert len(fetch_all(client, "virtual-queues", has_section="pacing")) == 3
    assert fetch_all(client, "virtual-queues", has_section="nothing") == []
    response = client.get(url("virtual-queues"), {"option": "pacing-media-chat"})
    assert response.status_code == 400
    assert "option" in body(response)


def test_ordering(both_tenants):
    client = both_tenants
    rows = names(fetch_all(client, "alarm-conditions", ordering="-name"))
    assert rows == sorted(rows, reverse=True)
    rows = names(fetch_all(client, "virtual-queues", ordering="-number"), "number")
    assert rows == sorted(rows, reverse=True)
    rows = fetch_all(client, "alarm-conditions", ordering="detect_event_id,-name")
    events = [row["detect_event_id"] for row in rows]
    assert events == sorted(events)


def test_unknown_filter_is_a_400_naming_it(both_tenants):
    response = both_tenants.get(url("virtual-queues"), {"colour": "red", "number": "Proactive Chat"})
    assert response.status_code == 400
    data = body(response)
    assert "colour" in data
    assert "number" not in data
    assert "colour" in response.content.decode()


@pytest.mark.parametrize("route", sorted(SPECS))
def test_unknown_filter_on_every_route(root, db, route):
    response = client_for(root).get(url(route), {"no_such_filter": "1"})
    assert response.status_code == 400
    assert "no_such_filter" in body(response)


def test_bad_ordering_field_is_a_400(both_tenants):
    response = both_tenants.get(url("switches"), {"ordering": "-colour"})
    assert response.status_code == 400
    data = body(response)
    assert "ordering" in data
    assert "colour" in response.content.decode()
    # ordering on a related object's field is not offered either
    assert both_tenants.get(url("switches"), {"ordering": "tenant__name,name"}).status_code == 400


def test_missing_object_is_a_404(root, db):
    client = client_for(root)
    assert client.get(url("switches", 999999)).status_code == 404
    assert send(client, "patch", url("switches", 999999), {"name": "x"}).status_code == 404
    assert client.delete(url("switches", 999999)).status_code == 404


def test_delete_of_an_object_in_use_is_a_409(root, demo):
    client = client_for(root)
    switch = fetch_all(client, "switches", name="MultiMediaSwitch")[0]
    response = client.delete(url("switches", switch["id"]))
    assert response.status_code == 409
    assert "used_by" in body(response)
    assert client.get(url("switches", switch["id"])).status_code == 200


def test_dn_tenant_follows_its_switch(root, demo, other_tenant):
    other_tenant_objects(other_tenant)
    client = client_for(root)
    created = send(client, "post", url("dns"), {"switch": "OtherSwitch", "number": "7000", "dn_type": "extension"})
    assert created.status_code == 201, created.content
    assert body(created)["tenant"]["name"] == "Other"
    assert Tenant.objects.get(name="Other").pk == body(created)["tenant"]["id"]


def test_ties_in_the_default_ordering_are_broken_by_id(root, env_tenant, other_tenant):
    """Pages must not overlap or skip: objects that sort alike by the model's ordering (switches
    named alike in two tenants, skill levels of one skill) come in id order, on every database."""
    from configdb.models import SkillLevel

    first = services.save_object(Switch(tenant=other_tenant, name="Dup"))
    second = services.save_object(Switch(tenant=env_tenant, name="Dup"))
    third = services.save_object(Switch(tenant=other_tenant, name="Alpha"))
    client = client_for(root)
    assert [row["id"] for row in fetch_all(client, "switches")] == [third.pk, first.pk, second.pk]
    skill = services.save_object(Skill(tenant=env_tenant, name="Chat"))
    levels = []
    for n in range(8):
        person = services.save_object(Person(tenant=env_tenant, user_name=f"agent{7 - n}", employee_id=f"E{n}"))
        levels.append(services.save_object(SkillLevel(person=person, skill=skill, level=n)).pk)
    assert [row["id"] for row in fetch_all(client, "skill-levels")] == sorted(levels)
    paged = [row["id"] for offset in range(0, 8, 3)
             for row in body(client.get(url("skill-levels"), {"limit": 3, "offset": offset}))["results"]]
    assert paged == sorted(levels)
