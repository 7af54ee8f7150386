"""POST /api/v1/provisioning/provision/ and GET /api/v1/provisioning/environment/."""

import base64
import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from configdb.models import AlarmCondition
from pacingsite.models import ApiToken
from tests.configdb.api_helpers import client_for, make_user, send

PROVISION = "/api/v1/provisioning/provision/"
ENVIRONMENT = "/api/v1/provisioning/environment/"
CLUSTER, NODE = "Pacing_Service_Cluster_9.0", "Pacing_Server_Node_01"


@pytest.fixture
def root(demo):
    return make_user("root", superuser=True)


def body(response):
    return json.loads(response.content)


def test_dry_run_then_apply(root):
    AlarmCondition.objects.filter(name__in=["GC Latency", "Heap Memory Usage"]).delete()
    client = client_for(root)
    dry = send(client, "post", PROVISION, {"application": NODE, "dry_run": True})
    assert dry.status_code == 200, dry.content
    plan = body(dry)
    assert set(plan) == {"application", "kind", "cluster", "tenant", "stat_servers", "overwrite", "dry_run",
                         "applied", "counts", "changes", "kept"}
    assert (plan["kind"], plan["cluster"], plan["applied"], plan["counts"]["create"]) == ("node", CLUSTER, False, 2)
    assert set(plan["changes"][0]) == {"action", "object_type", "object", "detail", "lost"}
    assert AlarmCondition.objects.count() == 3
    applied = send(client, "post", PROVISION, {"application": NODE})
    assert applied.status_code == 200 and body(applied)["applied"] is True
    assert AlarmCondition.objects.count() == 5
    again = body(send(client, "post", PROVISION, {"application": NODE, "overwrite": True}))
    assert again["changes"] == [] and again["overwrite"] is True


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "application"),
    ({"application": ""}, "application"),
    ({"application": "a\x00b"}, "application"),
    ({"application": 5}, "application"),
    ({"application": "x" * 300}, "application"),
    ({"application": NODE, "overwrite": "yes"}, "overwrite"),
    ({"application": NODE, "dry_run": 1}, "dry_run"),
    ({"application": NODE, "colour": "red"}, "colour"),
    ({"application": "Nope"}, "application"),
    ({"application": "Stat_Server"}, "application"),
])
def test_bad_input_is_400_naming_the_field(root, payload, field):
    before = AlarmCondition.objects.count()
    response = send(client_for(root), "post", PROVISION, payload)
    assert response.status_code == 400, response.content
    assert field in body(response), body(response)
    assert AlarmCondition.objects.count() == before


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1]", b'"x"', b"null"])
def test_malformed_bodies_are_400(root, raw):
    assert send(client_for(root), "post", PROVISION, raw).status_code == 400


def test_unknown_application_names_it(root):
    response = send(client_for(root), "post", PROVISION, {"application": "Nope"})
    assert body(response) == {"application": ["No application named 'Nope'."]}


def test_read_only_grant_dry_runs_but_is_403_on_apply(demo):
    AlarmCondition.objects.filter(name="GC Latency").delete()
    client = client_for(make_user("reader", grants={demo: "read"}))
    assert send(client, "post", PROVISION, {"application": CLUSTER, "dry_run": True}).status_code == 200
    response = send(client, "post", PROVISION, {"application": CLUSTER})
    assert response.status_code == 403
    assert "read-only grant allows the dry run only" in body(response)["detail"]
    assert not AlarmCondition.objects.filter(name="GC Latency").exists()


def test_authentication_token_and_basic(demo):
    user = get_user_model().objects.create_superuser("ops", None, "pw-ops-1")
    _, key = ApiToken.issue(user)
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert send(token, "post", PROVISION, {"application": CLUSTER, "dry_run": True}).status_code == 200
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ops:pw-ops-1").decode())
    assert send(basic, "post", PROVISION, {"application": CLUSTER, "dry_run": True}).status_code == 200
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ops:wrong").decode())
    response = send(wrong, "post", PROVISION, {"application": CLUSTER, "dry_run": True})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")  # never a browser's password prompt
    assert send(APIClient(), "post", PROVISION, {"application": CLUSTER}).status_code == 401
    # Basic is accepted by the provisioning views only
    assert basic.get("/api/v1/tenants/").status_code == 401


def test_environment_file_download(root):
    client = client_for(root)
    response = client.get(ENVIRONMENT, {"application": NODE})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == f'attachment; filename="{NODE}.env"'
    assert f"PACING_NODE_APPLICATION={NODE}" in response.content.decode()
    for params, field in (({}, "application"), ({"application": "Nope"}, "application"),
                          ({"application": CLUSTER}, "application"), ({"application": NODE, "x": "1"}, "x")):
        response = client.get(ENVIRONMENT, params)
        assert response.status_code == 400 and field in body(response), (params, response.content)
