"""The deployment wizard (provisioning/wizard/): the nine steps walked in the admin and through the API, on the
demo configuration without its pacing cluster (the Stat Server, Message Server, host and tenant stay)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from configdb.models import AlarmCondition, Application, ApplicationTemplate, Connection, ObjectChange
from tests.configdb.api_helpers import client_for, make_user, send
from tests.provisioning.helpers import shipped

CLUSTER = "Wizard_Cluster"
BASE = f"/admin/pacing/deploy/{CLUSTER}/"
API = f"/api/v1/provisioning/deploy/{CLUSTER}/"


@pytest.fixture
def bare(demo):
    """The demo minus its cluster, nodes, pacing templates and alarm conditions."""
    Connection.objects.filter(server__name__startswith="Pacing_").delete()
    Application.objects.filter(name__startswith="Pacing_").delete()
    ApplicationTemplate.objects.filter(name__in=["Pacing_Server_Cluster", "Pacing_Server"]).delete()
    AlarmCondition.objects.all().delete()
    return demo


@pytest.fixture
def root(bare):
    return make_user("root", superuser=True)


@pytest.fixture
def browser_client(client, root):
    client.force_login(root)
    return client


def post(client, step, data, **kw):
    return client.post(BASE + step + "/", data, **kw)


def test_walk_the_nine_steps_in_the_admin(browser_client):
    c = browser_client
    start = c.get("/admin/pacing/deploy/")
    assert start.status_code == 200 and b"Deploy a pacing cluster" in start.content
    assert c.get("/admin/pacing/deploy/", {"cluster": CLUSTER})["Location"] == BASE
    assert c.get(BASE)["Location"] == BASE + "cluster-template/"
    assert c.get(BASE + "cluster-template/").status_code == 200

    r = post(c, "cluster-template", {"source": "upload",
                                     "apd": SimpleUploadedFile("Pacing_Server_Cluster.apd",
                                                               shipped("Pacing_Server_Cluster", "apd")),
                                     "xml": SimpleUploadedFile("Pacing_Server_Cluster.xml",
                                                               shipped("Pacing_Server_Cluster", "xml"))})
    assert r.status_code == 302 and r["Location"] == BASE + "cluster/", r.content.decode()[:2000]
    assert ApplicationTemplate.objects.filter(name="Pacing_Server_Cluster", metadata__isnull=False).exists()

    r = post(c, "cluster", {"template": "Pacing_Server_Cluster", "host": "demosrv"})
    assert r.status_code == 302 and r["Location"] == BASE + "configure/"
    cluster = Application.objects.get(name=CLUSTER)
    assert (cluster.working_directory, cluster.command_line, cluster.state) == (".", ".", "enabled")

    r = post(c, "configure", {"stat_server": "Stat_Server", "message_server": "Message_Server", "port": "9443",
                              "protocol": "https", "tenant": "Environment", "target_endpoint": "v1/pacing/targets"})
    assert r.status_code == 302 and r["Location"] == BASE + "node-template/"
    assert set(cluster.connections.values_list("server__name", flat=True)) == {"Stat_Server", "Message_Server"}

    r = post(c, "node-template", {"source": "shipped"})
    assert r.status_code == 302 and r["Location"] == BASE + "nodes/"

    r = post(c, "nodes", {"name": "Wizard_Node_1", "template": "Pacing_Server", "host": "demosrv", "port": "9443",
                          "protocol": "https"})
    assert r.status_code == 302 and r["Location"] == BASE + "nodes/"
    # a second node on the same host: 7800 is taken by the first, so a clustering port is required
    r = post(c, "nodes", {"name": "Wizard_Node_2", "template": "Pacing_Server", "host": "demosrv", "port": "9444",
                          "protocol": "https"})
    assert r.status_code == 400 and b"7800 is taken" in r.content
    assert not Application.objects.filter(name="Wizard_Node_2").exists()
    r = post(c, "nodes", {"name": "Wizard_Node_2", "template": "Pacing_Server", "host": "demosrv", "port": "9444",
                          "protocol": "https", "clustering_port": "7801"})
    assert r.status_code == 302
    assert Application.objects.get(name="Wizard_Node_2").ports.get(port_id="clustering").port == 7801

    page = c.get(BASE + "connect/")
    assert b"Wizard_Node_1" in page.content
    r = post(c, "connect", {"nodes": ["Wizard_Node_1", "Wizard_Node_2"]})
    assert r.status_code == 302 and r["Location"] == BASE + "install/"
    assert Connection.objects.filter(server=cluster).count() == 2

    preview = post(c, "install", {"preview": "Preview"})
    assert preview.status_code == 200 and b"Provisioning preview" in preview.content
    assert AlarmCondition.objects.count() == 0
    assert b"Wizard_Node_1.env" in preview.content
    r = post(c, "install", {"apply": "Apply"})
    assert r.status_code == 302 and r["Location"] == BASE + "alarms/"
    assert AlarmCondition.objects.count() == 5

    r = post(c, "alarms", {"action": "tune", "condition": "GC Latency", "category": "critical", "timeout": "600"})
    assert r.status_code == 302
    assert AlarmCondition.objects.get(name="GC Latency").timeout == 600
    r = post(c, "alarms", {"action": "remove", "condition": "GC Latency"})
    assert AlarmCondition.objects.count() == 4
    assert c.get(BASE + "forward-proxy/")["Location"] == BASE + "alarms/"   # step 8 is incomplete again
    assert c.get(BASE + "alarms/").status_code == 200                      # step 7 stays done
    r = post(c, "alarms", {"action": "recreate"})
    assert r.status_code == 302 and AlarmCondition.objects.count() == 5

    r = post(c, "forward-proxy", {"enabled": "on", "host": "proxy.example.com", "port": "3128"})
    assert r.status_code == 302 and r["Location"] == BASE + "summary/"
    assert Application.objects.get(name=CLUSTER).options["forward-proxy"] == {
        "enabled": "true", "host": "proxy.example.com", "port": "3128"}
    summary = c.get(BASE + "summary/")
    assert summary.status_code == 200 and b"is complete" in summary.content
    assert b"wizard-findings" in summary.content
    assert c.get(BASE)["Location"] == BASE + "summary/"
    assert CLUSTER.encode() in c.get("/admin/pacing/deploy/").content


def test_a_step_opened_early_redirects_to_the_first_incomplete(browser_client):
    r = browser_client.get(BASE + "install/")
    assert r.status_code == 302 and r["Location"] == BASE + "cluster-template/"
    follow = browser_client.get(BASE + "install/", follow=True)
    assert b"opens once step 1" in follow.content
    assert browser_client.get(BASE + "summary/")["Location"] == BASE + "cluster-template/"
    r = post(browser_client, "nodes", {"name": "X", "template": "Pacing_Server", "host": "demosrv", "port": "1"})
    assert r.status_code == 302 and not Application.objects.filter(name="X").exists()


def test_bad_input_names_the_field_and_writes_nothing(browser_client):
    browser_client.post(BASE + "cluster-template/", {"source": "shipped"})
    before = ObjectChange.objects.count()
    r = post(browser_client, "cluster", {"template": "Pacing_Server_Cluster", "host": "nohost"})
    assert r.status_code == 400 and b"nohost" in r.content and b"field-host" in r.content
    r = post(browser_client, "cluster", {"template": "Pacing_Server_Cluster"})
    assert r.status_code == 400 and b"This field is required" in r.content
    bad_apd = SimpleUploadedFile("bad.apd", b"<application-template><name>x</na")
    r = post(browser_client, "cluster-template", {"source": "upload", "apd": bad_apd})
    assert r.status_code == 400 and b"bad.apd" in r.content
    assert ObjectChange.objects.count() == before
    assert not Application.objects.filter(name=CLUSTER).exists()


#: every step of the deployment wizard once, as the API takes them (also walked by tests/configdb/test_write_walk.py)
DEPLOY_WALK = [
    ("cluster-template", {}),
    ("cluster", {"template": "Pacing_Server_Cluster", "host": "demosrv"}),
    ("configure", {"stat_server": "Stat_Server", "port": 9443, "protocol": "http", "tenant": "Environment",
                   "target_endpoint": "v1/pacing/targets"}),
    ("node-template", {"source": "upload", "apd": shipped("Pacing_Server", "apd").decode(),
                       "xml": shipped("Pacing_Server", "xml").decode()}),
    ("nodes", {"name": "Api_Node_1", "template": "Pacing_Server", "host": "demosrv", "port": 9443}),
    ("connect", {"nodes": ["Api_Node_1"]}),
    ("install", {"dry_run": True}),
    ("install", {}),
    ("alarms", {"action": "tune", "condition": "Heap Memory Usage", "timeout": 120}),
    ("forward-proxy", {"enabled": False}),
]


def _api_walk(client):
    for key, data in DEPLOY_WALK:
        r = send(client, "post", API + key + "/", data)
        assert r.status_code == 200, (key, r.content)
        yield key, json.loads(r.content)


def test_the_api_walk(root):
    client = client_for(root)
    first = json.loads(client.get(API).content)
    assert first["next"] == "cluster-template" and len(first["steps"]) == 9
    assert [s["number"] for s in first["steps"]] == list(range(1, 10))
    early = send(client, "post", API + "install/", {"dry_run": True})
    assert early.status_code == 409 and "Step 1" in early.content.decode()
    results = dict(_api_walk(client))
    assert results["configure"]["messages"][-1].startswith("Warning: the default port is http")
    assert results["install"]["plan"]["applied"] is True
    assert AlarmCondition.objects.get(name="Heap Memory Usage").timeout == 120
    final = json.loads(client.get(API).content)
    assert final["next"] is None and all(s["done"] or s["optional"] for s in final["steps"])
    configure = next(s for s in final["steps"] if s["key"] == "configure")
    assert any("https" in w for w in configure["warnings"])


@pytest.mark.parametrize(("step", "payload", "field"), [
    ("cluster-template", {"source": "upload"}, "apd"),
    ("cluster-template", {"source": "upload", "apd": "<application-template>"}, "apd"),
    ("cluster-template", {"colour": "red"}, "colour"),
    ("cluster-template", {"source": "upload", "apd": shipped("Pacing_Server", "apd").decode()}, "apd"),
    ("cluster-template", [1], "detail"),
])
def test_api_bad_input_is_400_naming_the_field(root, step, payload, field):
    before = ApplicationTemplate.objects.count()
    r = send(client_for(root), "post", API + step + "/", payload)
    assert r.status_code == 400, r.content
    assert field in json.loads(r.content)
    assert ApplicationTemplate.objects.count() == before


def test_api_configure_refuses_a_bad_port_and_unknown_step(root):
    client = client_for(root)
    assert send(client, "post", API + "cluster-template/", {}).status_code == 200
    assert send(client, "post", API + "cluster/", {"template": "Pacing_Server_Cluster", "host": "demosrv"}) \
        .status_code == 200
    r = send(client, "post", API + "configure/", {"stat_server": "Stat_Server", "port": 70000, "tenant": "Environment",
                                                  "target_endpoint": "v1/x"})
    assert r.status_code == 400 and "port" in json.loads(r.content)
    assert not Connection.objects.filter(application__name=CLUSTER).exists()
    assert send(client, "post", API + "nope/", {}).status_code == 404


def test_read_only_sees_status_but_cannot_apply(bare, client):
    reader = make_user("reader", staff=True, grants={bare: "read"})
    api = client_for(reader)
    assert api.get(API).status_code == 200
    r = send(api, "post", API + "cluster-template/", {})
    assert r.status_code == 403 and "read-only" in r.content.decode()
    assert not ApplicationTemplate.objects.filter(name="Pacing_Server_Cluster").exists()
    client.force_login(reader)
    page = client.get(BASE + "cluster-template/")
    assert page.status_code == 200 and b"wizard-read-only" in page.content and b"wizard-form" not in page.content
    r = client.post(BASE + "cluster-template/", {"source": "shipped"})
    assert r.status_code == 403 and b"read-only" in r.content
    assert not ApplicationTemplate.objects.filter(name="Pacing_Server_Cluster").exists()


def test_read_only_may_preview_the_install(root):
    client = client_for(root)
    list(_api_walk(client))
    AlarmCondition.objects.filter(name="GC Latency").delete()
    from configdb.models import Tenant

    reader = make_user("reader2", grants={Tenant.objects.get(name="Environment"): "read"})
    api = client_for(reader)
    r = send(api, "post", API + "install/", {"dry_run": True})
    assert r.status_code == 200 and json.loads(r.content)["plan"]["counts"]["create"] == 1
    assert send(api, "post", API + "install/", {}).status_code == 403
    assert not AlarmCondition.objects.filter(name="GC Latency").exists()


def test_a_cluster_of_a_tenant_you_may_not_read_is_404(demo, other_tenant, client):
    outsider = make_user("outsider", staff=True, grants={other_tenant: "write"})
    demo_cluster = "/api/v1/provisioning/deploy/Pacing_Service_Cluster_9.0/"
    api = client_for(outsider)
    assert api.get(demo_cluster).status_code == 404
    assert send(api, "post", demo_cluster + "forward-proxy/", {"enabled": False}).status_code == 404
    client.force_login(outsider)
    assert client.get("/admin/pacing/deploy/Pacing_Service_Cluster_9.0/").status_code == 404
    assert b"/admin/pacing/deploy/Pacing_Service_Cluster_9.0/" not in client.get("/admin/pacing/deploy/").content


def test_the_choices_offer_only_objects_the_user_may_read(demo, other_tenant):
    from provisioning.wizard.serializers import ClusterSerializer, ConfigureSerializer

    outsider = make_user("outsider", staff=True, grants={other_tenant: "write"})
    root = make_user("root", superuser=True)
    assert "demosrv" in ClusterSerializer(context={"cluster": "New", "user": root}).fields["host"].choices
    mine = ClusterSerializer(context={"cluster": "New", "user": outsider}).fields["host"].choices
    assert "demosrv" not in mine                                        # the Environment tenant's host
    configure = ConfigureSerializer(context={"cluster": "New", "user": outsider})
    assert "Stat_Server" not in configure.fields["stat_server"].choices
    assert "Environment" not in configure.fields["tenant"].choices
