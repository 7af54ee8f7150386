"""Change history: who changed what, through which path (admin, api, command), before and after."""

from __future__ import annotations

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from configdb.models import AgentGroup, ObjectChange, Switch, VirtualQueue
from pacingsite.models import ApiToken

from .api_helpers import body, fetch_all, make_user, url


def changes_of(obj, **filters):
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    return ObjectChange.objects.filter(content_type=ct, object_id=str(obj.pk), **filters).order_by("-id")


@pytest.fixture
def root(demo):
    return make_user("root", superuser=True)


@pytest.fixture
def token_client(root):
    from rest_framework.test import APIClient

    _, key = ApiToken.issue(root)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_load_demo_is_recorded_as_the_command(demo):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    created = changes_of(queue, action="create").get()
    assert created.actor == "command:load_demo"
    assert created.via == "command"
    assert created.user is None
    assert created.prechange is None
    assert created.postchange["number"] == "Proactive Chat"
    assert created.postchange["options"] == {"pacing": {"media": "chat", "optimizationGoal": "3"}}
    assert created.tenant.name == "Environment"
    # one command run, one request id for all its changes
    ids = set(ObjectChange.objects.filter(via="command").values_list("request_id", flat=True))
    assert len(ids) == 1 and None not in ids
    # running it again changes nothing, so records nothing
    before = ObjectChange.objects.count()
    call_command("load_demo", stdout=io.StringIO())
    assert ObjectChange.objects.count() == before


def test_api_change_is_recorded_as_the_token_user(token_client, root):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    response = token_client.patch(url("virtual-queues", queue.pk), {"alias": "PC", "state": "disabled"}, format="json")
    assert response.status_code == 200, response.content
    change = changes_of(queue).first()
    assert change.action == "update"
    assert change.via == "api"
    assert change.actor == "root"
    assert change.user == root
    assert change.request_id is not None
    assert change.prechange["alias"] == "Proactive Chat" and change.postchange["alias"] == "PC"
    assert change.prechange["state"] == "enabled" and change.postchange["state"] == "disabled"
    assert change.diff == {"alias": ["Proactive Chat", "PC"], "state": ["enabled", "disabled"]}


def test_api_create_and_delete_are_recorded(token_client):
    response = token_client.post(url("switches"), {"tenant": "Environment", "name": "SW2"}, format="json")
    assert response.status_code == 201
    switch = Switch.objects.get(name="SW2")
    created = changes_of(switch, action="create").get()
    assert (created.via, created.actor, created.prechange) == ("api", "root", None)
    assert created.postchange["name"] == "SW2"
    assert token_client.delete(url("switches", switch.pk)).status_code == 204
    deleted = ObjectChange.objects.filter(action="delete", object_id=str(switch.pk),
                                          content_type=created.content_type).get()
    assert (deleted.via, deleted.actor, deleted.postchange) == ("api", "root", None)
    assert deleted.prechange["name"] == "SW2"


def test_api_link_change_is_recorded(token_client):
    group = AgentGroup.objects.get(name="Proactive Chat")
    response = token_client.patch(url("agent-groups", group.pk), {"agents": ["chat.agent1"]}, format="json")
    assert response.status_code == 200, response.content
    change = changes_of(group).first()
    assert change.via == "api" and change.actor == "root"
    assert len(change.prechange["agents"]) == 2
    assert len(change.postchange["agents"]) == 1


def test_unchanged_save_records_nothing(token_client):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    before = ObjectChange.objects.count()
    response = token_client.patch(url("virtual-queues", queue.pk), {"alias": "Proactive Chat"}, format="json")
    assert response.status_code == 200
    assert ObjectChange.objects.count() == before


def test_admin_change_is_recorded_as_the_admin_user(root):
    switch = Switch.objects.get(name="MultiMediaSwitch")
    client = Client()
    client.force_login(root)
    response = client.post(reverse("admin:configdb_switch_change", args=[switch.pk]), {
        "name": "MMS", "switch_type": "sip", "t_server": "", "tenant": switch.tenant_id, "folder": "",
        "state": "enabled", "options-present": "1", "options-section": ["tserver"], "options-key": ["port"],
        "options-value": ["3000"],
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    change = changes_of(switch).first()
    assert change.action == "update"
    assert change.via == "admin"
    assert change.actor == "root"
    assert change.user == root
    assert change.prechange["name"] == "MultiMediaSwitch" and change.postchange["name"] == "MMS"
    assert change.prechange["switch_type"] == "multimedia" and change.postchange["switch_type"] == "sip"
    assert change.prechange["options"] == {} and change.postchange["options"] == {"tserver": {"port": "3000"}}


def test_admin_action_is_recorded_as_the_admin_user(root):
    queue = VirtualQueue.objects.get(number="Proactive Voice")
    client = Client()
    client.force_login(root)
    response = client.post(reverse("admin:configdb_virtualqueue_changelist"),
                           {"action": "disable", "_selected_action": [queue.pk]})
    assert response.status_code == 302
    change = changes_of(queue).first()
    assert (change.action, change.via, change.actor) == ("update", "admin", "root")
    assert change.diff == {"state": ["enabled", "disabled"]}


def test_changes_endpoint_lists_them(token_client, root):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    token_client.patch(url("virtual-queues", queue.pk), {"alias": "PC"}, format="json")
    rows = fetch_all(token_client, "changes", object_type="configdb.dn")
    assert {row["object_type"] for row in rows} == {"configdb.dn"}
    assert {(row["action"], row["via"]) for row in rows} == {("create", "command"), ("update", "api")}
    latest = rows[0]  # newest first
    assert latest["object_id"] == str(queue.pk)
    assert latest["object_repr"] == "Proactive Chat"
    assert (latest["action"], latest["via"], latest["actor"], latest["user"]) == ("update", "api", "root", "root")
    assert latest["tenant"] == "Environment"
    assert latest["prechange"]["alias"] == "Proactive Chat" and latest["postchange"]["alias"] == "PC"
    detail = token_client.get(url("changes", latest["id"]))
    assert detail.status_code == 200 and body(detail) == latest
    creates = [row for row in rows if row["action"] == "create"]
    assert {row["actor"] for row in creates} == {"command:load_demo"}
    assert all(row["user"] is None for row in creates)


def test_changes_filters(token_client, root):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    token_client.patch(url("virtual-queues", queue.pk), {"alias": "PC"}, format="json")
    assert len(fetch_all(token_client, "changes", via="api")) == 1
    assert len(fetch_all(token_client, "changes", user="root")) == 1
    assert len(fetch_all(token_client, "changes", actor="root", action="update")) == 1
    assert len(fetch_all(token_client, "changes", object_type="configdb.dn", object_id=str(queue.pk))) == 2
    assert {row["via"] for row in fetch_all(token_client, "changes", actor__icontains="load_demo")} == {"command"}
    assert fetch_all(token_client, "changes", object_type="configdb.nothing") == []
    oldest_first = fetch_all(token_client, "changes", ordering="id")
    assert [row["id"] for row in oldest_first] == sorted(row["id"] for row in oldest_first)
    for bad in ({"object_type": "dn"}, {"colour": "red"}, {"ordering": "actor"}, {"time_after": "yesterday"}):
        response = token_client.get(url("changes"), bad)
        assert response.status_code == 400, bad
        assert set(body(response)) == set(bad), bad


def test_changes_endpoint_is_scoped_by_grants(demo, other_tenant):
    from rest_framework.test import APIClient

    from .api_helpers import other_tenant_objects

    other_tenant_objects(other_tenant)
    reader = make_user("reader", grants={other_tenant: "read"})
    client = APIClient()
    client.force_authenticate(reader)
    rows = fetch_all(client, "changes", object_type="configdb.dn")
    assert [row["object_repr"] for row in rows] == ["Other Queue"]
    assert {row["tenant"] for row in fetch_all(client, "changes")} == {"Other"}
