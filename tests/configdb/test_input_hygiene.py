"""Input hygiene in one place (configdb/validators.py and the model fields): bad input of any kind is a 400
naming the field and the problem — on the API, the admin, bulk create and the import alike — never a 500
or a silent write."""

from __future__ import annotations

import json
import unicodedata

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.urls import reverse

from configdb import services
from configdb.models import (
    AgentGroup,
    DatabaseAccessPoint,
    ObjectChange,
    Person,
    Skill,
    Switch,
    Tenant,
    Transaction,
    VirtualQueue,
)

from .api_helpers import body, client_for, dap_template, make_user, send, url

BAD = {
    "newline": "a\nb", "escape": "a\x1bb", "DEL": "a\x7fb", "C1": "a\x85b", "right-to-left override": "Sales\u202e",
    "isolate": "a\u2066b", "zero-width space": "Sa\u200bles", "BOM": "\ufeffSales", "word joiner": "a\u2060b",
    "line separator": "a\u2028b", "tab": "a\tb", "NUL": "a\x00b",
}


@pytest.fixture
def root(db):
    return make_user("root", superuser=True)


@pytest.fixture
def client(root):
    return client_for(root)


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_bad_characters_in_names_are_a_400_naming_the_field(demo, client, text):
    for route, payload, field in (
        ("skills", {"tenant": "Environment", "name": text}, "name"),
        ("dns", {"switch": "MultiMediaSwitch", "number": text, "dn_type": "extension"}, "number"),
        ("virtual-queues", {"switch": "MultiMediaSwitch", "number": "VQ1", "alias": text}, "alias"),
        ("tenants", {"name": text}, "name"),
    ):
        for sent in (payload, [payload]):
            response = send(client, "post", url(route), sent)
            assert response.status_code == 400, (route, response.content)
            assert field in json.dumps(body(response)), (route, body(response))
    assert not Skill.objects.exclude(name="Proactive").exists()


def test_the_error_says_which_character_and_where(demo, client):
    response = send(client, "post", url("skills"), {"tenant": "Environment", "name": "Sales\u202e"})
    assert body(response) == {"name": ["contains a bidirectional-text control (it reorders what is shown), U+202E "
                                       "(RIGHT-TO-LEFT OVERRIDE), at position 6; control, invisible and "
                                       "bidirectional-text characters are not allowed."]}


@pytest.mark.parametrize("text", [v for k, v in BAD.items() if k != "tab"], ids=[k for k in BAD if k != "tab"])
def test_bad_characters_in_options_are_refused_tab_allowed_in_values_only(demo, client, text):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    for options in ({"pacing": {"media": text}}, {"pacing": {text: "chat"}}, {text: {"media": "chat"}}):
        response = send(client, "patch", url("virtual-queues", queue.pk), {"options": options})
        assert response.status_code == 400, (options, response.content)
        assert "options" in body(response)
    assert send(client, "patch", url("virtual-queues", queue.pk),
                {"options": {"pacing": {"media": "chat", "sep": "a\tb"}}}).status_code == 200
    assert VirtualQueue.objects.get(pk=queue.pk).options["pacing"]["sep"] == "a\tb"
    for options in ({"pacing": {"a\tb": "x"}}, {"pa\tcing": {"media": "x"}}):
        assert send(client, "patch", url("virtual-queues", queue.pk), {"options": options}).status_code == 400


def test_the_admin_and_the_services_refuse_them_too(demo):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.save_object(Skill(tenant=demo, name="Sales\u202e"))
    assert list(caught.value.message_dict) == ["name"]
    user = make_user("staff", staff=True, grants={demo: "write"})
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="configdb"))
    admin = Client()
    admin.force_login(user)
    response = admin.post(reverse("admin:configdb_skill_add"), {"name": "Sa\u200bles", "tenant": demo.pk,
                                                               "state": "enabled"})
    assert response.status_code == 200
    assert "zero-width" in response.content.decode()
    assert not Skill.objects.filter(name__startswith="Sa").exists()


def test_the_import_refuses_them_naming_the_record(demo, client):
    document = body(client.get("/api/v1/config/export/", {"tenant": "Environment"}))
    document["objects"]["skills"].append({"name": "Sales\u202e"})
    response = send(client, "post", "/api/v1/config/import/", {"document": document})
    assert response.status_code == 400
    assert any("skills[1]" in e and "U+202E" in e for e in body(response)["errors"]), body(response)


def test_names_are_nfc_so_nfc_and_nfd_are_the_same_name(demo, client):
    nfc, nfd = unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")
    assert nfc != nfd
    first = send(client, "post", url("skills"), {"tenant": "Environment", "name": nfd})
    assert first.status_code == 201
    assert body(first)["name"] == nfc and Skill.objects.get(pk=body(first)["id"]).name == nfc
    second = send(client, "post", url("skills"), {"tenant": "Environment", "name": nfc})
    assert second.status_code == 400
    assert body(second) == {"name": ["This tenant already has a skill with this name."]}
    # a name in NFD names the object stored in NFC
    person = send(client, "post", url("persons"), {"tenant": "Environment", "user_name": "p", "employee_id": "p"})
    level = send(client, "post", url("skill-levels"), {"person": body(person)["id"], "skill": nfd, "level": 2})
    assert level.status_code == 201, level.content
    assert body(client.get(url("skills"), {"name": nfd}))["count"] == 1
    bulk = send(client, "post", url("skills"), [{"tenant": "Environment", "name": "Zoë"},
                                               {"tenant": "Environment", "name": unicodedata.normalize("NFD", "Zoë")}])
    assert bulk.status_code == 400
    assert "record 2, name" in body(bulk)["errors"][0]


@pytest.mark.parametrize("value", ["pacing/media__regex=(", "pacing/media__gt=a", "pacing__x/media=chat",
                                   "pacing/media", "pacing-media=chat", "/media=chat", "pacing/=chat",
                                   "pacing/me\u202edia=chat", "ewt/password=x"])
def test_the_option_filter_takes_only_its_documented_form(demo, client, value):
    response = client.get(url("virtual-queues"), {"option": value})
    assert response.status_code == 400, (value, response.content)
    assert "option" in body(response)


def test_the_option_filter_matches_exactly(demo, client):
    rows = body(client.get(url("virtual-queues"), {"option": "pacing/media=chat"}))["results"]
    assert [r["number"] for r in rows] == ["Proactive Chat"]
    assert body(client.get(url("virtual-queues"), {"option": "pacing/media=cha"}))["count"] == 0
    assert body(client.get(url("virtual-queues"), {"option": "pacing/media=Chat"}))["count"] == 0
    assert client.get(url("virtual-queues"), {"option__gt": "a"}).status_code == 400  # not a filter at all


HUGE = "99999999999999999999"


@pytest.mark.parametrize("params", [{"id__in": HUGE}, {"id__in": f"1,{HUGE}"}, {"id": HUGE}, {"id__gte": HUGE},
                                    {"id__lte": f"-{HUGE}"}, {"tenant": HUGE}, {"lca_port": HUGE}])
def test_out_of_range_integers_in_filters_are_a_400(demo, client, params):
    route = "hosts"
    response = client.get(url(route), params)
    assert response.status_code == 400, (params, response.content)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_out_of_range_ids_are_a_404(demo, client, method):
    for route in ("database-access-points", "switches", "tenants", "changes"):
        if route == "changes" and method != "get":
            continue
        response = send(client, method, f"/api/v1/{route}/{HUGE}/", {} if method in ("put", "patch") else None)
        assert response.status_code == 404, (route, method, response.content)


def test_out_of_range_ids_in_the_admin_are_not_found(demo, admin_client):
    response = admin_client.get(f"/admin/configdb/switch/{HUGE}/change/")
    assert response.status_code == 302  # "does not exist", back to the list
    assert admin_client.get("/admin/configdb/skill/", {"folder": HUGE}).status_code == 200


def plant(model, pk, column, value):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {model._meta.pk.column} = %s",  # noqa: S608
                       [value, pk])


def test_a_planted_undecryptable_secret_is_masked_and_said_never_a_500(demo, client, admin_client):
    txn = Transaction.objects.get(name="hybrid_integration")
    annex = dict(txn.annex)
    annex["ewt"] = {**annex.get("ewt", {}), "password": "enc:v1:garbage"}
    plant(Transaction, txn.pk, "annex", json.dumps(annex))
    listed = client.get(url("transactions"))
    assert listed.status_code == 200
    row = next(r for r in body(listed)["results"] if r["id"] == txn.pk)
    assert row["annex"]["ewt"]["password"] == "********"
    assert "warnings" not in row
    detail = body(client.get(url("transactions", txn.pk)))
    assert detail["annex"]["ewt"]["password"] == "********"
    assert detail["warnings"] == ["annex: section 'ewt', key 'password': the stored secret does not decrypt with "
                                  "PACING_SECRETS_KEY (the key was changed or lost, or the value was damaged); it "
                                  "is kept as stored. Restore the key, or set the secret again."]
    assert "garbage" not in json.dumps(detail)
    # another field can still be changed, and the stored token is kept as it was
    assert send(client, "patch", url("transactions", txn.pk), {"alias": "hi"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT annex FROM configdb_transaction WHERE id = %s", [txn.pk])
        stored = cursor.fetchone()[0]
    assert json.loads(stored)["ewt"]["password"] == "enc:v1:garbage"
    assert admin_client.get(reverse("admin:configdb_transaction_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:configdb_transaction_change", args=[txn.pk]))
    assert page.status_code == 200 and "does not decrypt" in page.content.decode()
    assert client.get(url("changes"), {"object_type": "configdb.transaction"}).status_code == 200


def test_a_planted_dap_password_is_not_a_500(demo, client):
    dap = services.save_object(DatabaseAccessPoint(tenant=demo, name="DAP", template=dap_template(demo),
                                                   dbms_type="postgre", db_password="pw-1"))
    plant(DatabaseAccessPoint, dap.pk, "db_password", "enc:v1:garbage")
    assert client.get(url("database-access-points")).status_code == 200
    detail = body(client.get(url("database-access-points", dap.pk)))
    assert detail["warnings"][0].startswith("db_password: the stored secret does not decrypt")


def test_values_carrying_the_secret_token_prefix_are_refused(demo, client):
    txn = Transaction.objects.get(name="hybrid_integration")
    for annex in ({"ewt": {"password": "enc:v1:gAAAAAB"}}, {"general": {"note": "enc:v1:x"}}):
        response = send(client, "patch", url("transactions", txn.pk), {"annex": annex})
        assert response.status_code == 400, response.content
        assert "enc:v1:" in json.dumps(body(response)["annex"])
    response = send(client, "post", url("database-access-points"),
                    {"tenant": "Environment", "name": "D", "template": dap_template(demo).name, "dbms_type": "postgre",
                     "db_password": "enc:v1:planted"})
    assert response.status_code == 400
    assert list(body(response)) == ["db_password"]


def test_moving_a_skill_used_by_the_old_tenant_is_refused_listing_who_uses_it(demo, other_tenant, client):
    skill = Skill.objects.get(name="Proactive")
    response = send(client, "patch", url("skills", skill.pk), {"tenant": "Other"})
    assert response.status_code == 400
    message = body(response)["tenant"][0]
    assert message.startswith("Cannot move this skill to another tenant while objects of its tenant refer to it: ")
    assert "person 'chat.agent1'" in message
    assert Skill.objects.get(pk=skill.pk).tenant == demo
    free = services.save_object(Skill(tenant=demo, name="Unused"))
    assert send(client, "patch", url("skills", free.pk), {"tenant": "Other"}).status_code == 200


def test_moving_an_agent_group_with_its_persons_and_dns_is_refused(demo, other_tenant, client):
    group = AgentGroup.objects.get(name="Proactive Chat")
    response = send(client, "patch", url("agent-groups", group.pk), {"tenant": "Other"})
    assert response.status_code == 400
    message = body(response)["tenant"][0]
    assert "person 'chat.agent1'" in message and "DN 'Proactive Chat'" in message
    # the same rule in the admin and the import: it is the model's
    from django.core.exceptions import ValidationError

    group.tenant = other_tenant
    with pytest.raises(ValidationError):
        services.save_object(group)
    person = Person.objects.get(user_name="chat.agent1")
    person.tenant = other_tenant
    with pytest.raises(ValidationError) as caught:
        services.save_object(person)
    assert "skill 'Proactive'" in str(caught.value) and "agent group 'Proactive Chat'" in str(caught.value)
    switch = Switch.objects.get(name="MultiMediaSwitch")
    switch.tenant = other_tenant
    with pytest.raises(ValidationError) as caught:
        services.save_object(switch)
    assert "DN 'Proactive Chat'" in str(caught.value)


def test_read_only_fields_with_a_new_value_are_a_400(demo, client):
    response = send(client, "post", url("skills"), {"id": 999, "tenant": "Environment", "name": "S"})
    assert response.status_code == 400
    assert body(response) == {"id": ["This field is read-only."]}
    created = body(send(client, "post", url("skills"), {"tenant": "Environment", "name": "S"}))
    again = send(client, "put", url("skills", created["id"]), {**created, "tenant": "Environment", "name": "S2"})
    assert again.status_code == 200, again.content  # id, url, created, modified sent back unchanged
    response = send(client, "patch", url("skills", created["id"]), {"id": created["id"] + 1})
    assert response.status_code == 400 and body(response) == {"id": ["This field is read-only."]}
    response = send(client, "patch", url("skills", created["id"]), {"created": "2020-01-01T00:00:00Z"})
    assert response.status_code == 400 and "created" in body(response)
    assert ObjectChange.objects.filter(content_type__model="skill", object_id=str(created["id"]),
                                       action="update").count() == 1
    assert Tenant.objects.count() == 1
