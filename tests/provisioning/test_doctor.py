"""The config doctor (provisioning/doctor.py): every rule fires on a configuration crafted from the demo, the demo
itself has no error, the query count does not grow with the configuration, and the three ways to run it —
``manage.py doctor`` (its exit status), ``GET /api/v1/doctor/`` (a read-only grant is enough, findings scoped to
the user's tenants) and the admin page."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from alarms import catalog
from configdb import services
from configdb.models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
    Connection,
    DNType,
    Port,
    Switch,
    Transaction,
    TransactionType,
    VirtualQueue,
)
from provisioning import doctor
from tests.configdb.api_helpers import body, client_for, make_user
from tests.configdb.factories import application

CLUSTER = "Pacing_Service_Cluster_9.0"
NODES = ("Pacing_Server_Node_01", "Pacing_Server_Node_02")


def app(name: str) -> Application:
    return Application.objects.get(name=name)


def queue(number: str = "Proactive Chat") -> VirtualQueue:
    return VirtualQueue.objects.get(number=number)


def codes(findings) -> set[str]:
    return {f.code for f in findings}


def drop_statistics(env=None) -> None:
    """Take the pacing statistics (written by load_demo's provisioning, provisioning/statserver.py) out of the
    Stat Server: the one error the doctor then finds on the demo."""
    stat = app("Stat_Server")
    options = {section: keys for section, keys in (stat.options or {}).items() if section not in doctor.STATISTICS}
    options.pop(doctor.FILTERS_SECTION, None)
    stat.options = options
    services.save_object(stat)


def provide_statistics() -> None:
    """Provisioning writes them back (the doctor's message says: run provisioning)."""
    from provisioning.services import provision

    provision(CLUSTER, user=None)


# --- crafted configurations: one change to the demo per rule --------------------------------------------------------


def alias_differs(env):
    q = queue()
    q.alias = "PC"
    services.save_object(q)


def media_list(env):
    DN.objects.filter(number="Proactive Chat").update(options={"pacing": {"media": "chat,voice"}})


def media_missing(env):
    DN.objects.filter(number="Proactive Chat").update(options={"pacing": {"optimizationGoal": "3"}})


def goal_out_of_range(env):
    DN.objects.filter(number="Proactive Chat").update(options={"pacing": {"media": "chat", "optimizationGoal": "101"}})


def cluster_goal_out_of_range(env):
    cluster = app(CLUSTER)
    options = {**cluster.options, "pacing": {"optimizationGoal": "abc", "refreshPeriod": "5"}}
    Application.objects.filter(pk=cluster.pk).update(options=options)


def queue_without_group(env):
    services.save_object(VirtualQueue(tenant=env, switch=Switch.objects.get(name="MultiMediaSwitch"),
                                      number="Lonely", alias="Lonely", dn_type=DNType.VIRTUAL_QUEUE,
                                      options={"pacing": {"media": "chat"}}))


def group_without_paced_queue(env):
    plain = services.save_object(VirtualQueue(tenant=env, switch=Switch.objects.get(name="MultiMediaSwitch"),
                                              number="Plain", alias="Plain", dn_type=DNType.VIRTUAL_QUEUE))
    group = services.save_object(AgentGroup(tenant=env, name="Unpaced"))
    services.set_links(group, "origination_dns", [plain])


def no_stat_server(env):
    services.delete_object(Connection.objects.get(application__name=CLUSTER, server__name="Stat_Server"))


def two_stat_servers(env):
    stat2 = application(env, "Stat_Server_2", ApplicationTemplate.objects.get(name="Stat_Server_85"),
                        ports=(("default", 7001),))
    services.save_object(Connection(application=app(CLUSTER), server=stat2, port_id="default"))


def no_node(env):
    for node in NODES:
        services.delete_object(Connection.objects.get(application__name=node))


def single_node(env):
    services.delete_object(Connection.objects.get(application__name=NODES[1]))


def node_extra_connection(env):
    services.save_object(Connection(application=app(NODES[0]), server=app("Stat_Server"), port_id="default"))


def node_other_tenant(env, other):
    services.set_links(app(NODES[0]), "tenants", [other])


def node_other_port(env):
    port = Port.objects.get(application__name=NODES[1], port_id="default")
    port.port = 9082
    services.save_object(port)


def endpoint_empty(env):
    cluster = app(CLUSTER)
    options = {**cluster.options, "pacingEndpoint": {"targetEndpoint": "", "timeout": "4"}}
    Application.objects.filter(pk=cluster.pk).update(options=options)


def cluster_no_tenant(env):
    services.set_links(app(CLUSTER), "tenants", [])


def cluster_two_tenants(env, other):
    services.set_links(app(CLUSTER), "tenants", [env, other])


def hybrid_missing(env):
    services.delete_object(Transaction.objects.get(name="hybrid_integration"))


def hybrid_incomplete(env):
    Transaction.objects.filter(name="hybrid_integration").update(
        annex={"general": {"base_auth_url": "https://login.example.com/oauth/token",
                           "base_service_url": "https://api.example.com/api/"}})


def hybrid_bad_url(env):
    Transaction.objects.filter(name="hybrid_integration").update(
        annex={"general": {"base_auth_url": "login.example.com/oauth/token",
                           "base_service_url": "https://api.example.com/api/"},
               "ewt": {"client_id": "c", "password": "p"}})


def hybrid_not_a_list(env):
    Transaction.objects.filter(name="hybrid_integration").update(transaction_type=TransactionType.MAP, alias="",
                                                                  folder=None)


def no_message_server(env):
    services.delete_object(Connection.objects.get(application__name=CLUSTER, server__name="Message_Server"))


def queue_disabled(env):
    services.set_state([queue()], "disabled")


def alarm_missing(env):
    services.delete_object(AlarmCondition.objects.get(name=catalog.PACING_REQUESTS_FAILED))


CRAFTED = [
    ("VQ_ALIAS", alias_differs, "queue"),
    ("VQ_MEDIA", media_list, "queue"),
    ("VQ_MEDIA", media_missing, "queue"),
    ("GOAL_RANGE", goal_out_of_range, "queue"),
    ("GOAL_RANGE", cluster_goal_out_of_range, "cluster"),
    ("VQ_NO_GROUP", queue_without_group, "Lonely"),
    ("GROUP_UNPACED", group_without_paced_queue, "Unpaced"),
    ("CLUSTER_NO_STAT_SERVER", no_stat_server, "cluster"),
    ("CLUSTER_STAT_SERVERS", two_stat_servers, "cluster"),
    ("CLUSTER_NO_NODE", no_node, "cluster"),
    ("NODE_ORPHAN", no_node, NODES[0]),
    ("CLUSTER_SINGLE_NODE", single_node, "cluster"),
    ("NODE_CONNECTIONS", node_extra_connection, NODES[0]),
    ("NODE_TENANT", node_other_tenant, NODES[0]),
    ("NODE_PORTS", node_other_port, "cluster"),
    ("CLUSTER_ENDPOINT", endpoint_empty, "cluster"),
    ("STAT_SERVER_STATISTICS", drop_statistics, "Stat_Server"),
    ("CLUSTER_NO_TENANT", cluster_no_tenant, "cluster"),
    ("CLUSTER_MULTI_TENANT", cluster_two_tenants, "cluster"),
    ("HYBRID_MISSING", hybrid_missing, "cluster"),
    ("HYBRID_INCOMPLETE", hybrid_incomplete, "hybrid_integration"),
    ("HYBRID_INCOMPLETE", hybrid_bad_url, "hybrid_integration"),
    ("HYBRID_PLACEMENT", hybrid_not_a_list, "hybrid_integration"),
    ("ALARMS_MISSING", alarm_missing, "Environment"),
    ("CLUSTER_NO_MESSAGE_SERVER", no_message_server, "cluster"),
    ("QUEUE_DISABLED", queue_disabled, "queue"),
]
#: rules the demo itself triggers (it runs on http, against the GPE simulator on 127.0.0.1)
ON_DEMO = {"PORT_HTTP": "cluster", "HYBRID_URL_SHAPE": "hybrid_integration"}


def test_every_rule_is_exercised():
    """The pacing rules here; the Interaction Server cluster checker's in test_doctor_ixn.py."""
    pacing_rules = {r.code for r in doctor.RULES if r.check.__module__ == doctor.__name__}
    assert {code for code, _, _ in CRAFTED} | set(ON_DEMO) == pacing_rules


@pytest.mark.parametrize(("code", "craft", "where"), CRAFTED, ids=[f"{c}-{f.__name__}" for c, f, _ in CRAFTED])
def test_rule_fires_on_a_crafted_configuration(demo, other_tenant, code, craft, where):
    before = codes(doctor.run())
    assert code not in before
    craft(demo, other_tenant) if craft.__code__.co_argcount == 2 else craft(demo)
    hits = [f for f in doctor.run() if f.code == code]
    assert hits, f"{code} did not fire"
    name = {"queue": "Proactive Chat", "cluster": CLUSTER}.get(where, where)
    hit = next((f for f in hits if f.object_name == name), None)
    assert hit is not None, [f.object_name for f in hits]
    rule = next(r for r in doctor.RULES if r.code == code)
    assert hit.severity == rule.severity and hit.message
    assert hit.url and hit.url.startswith("/admin/configdb/") and hit.url.endswith("/change/")


@pytest.mark.parametrize("code", sorted(ON_DEMO))
def test_rules_the_demo_triggers(demo, code):
    name = {"cluster": CLUSTER}.get(ON_DEMO[code], ON_DEMO[code])
    assert any(f.code == code and f.object_name == name for f in doctor.run())


def test_quiet_on_the_demo(demo):
    assert [f for f in doctor.run() if f.severity == doctor.ERROR] == []


def test_no_error_once_the_statistics_are_provisioned_again(demo):
    drop_statistics()
    assert "STAT_SERVER_STATISTICS" in codes(doctor.run())
    provide_statistics()
    assert [f for f in doctor.run() if f.severity == doctor.ERROR] == []


def test_missing_statistics_names_each_one():
    assert doctor.missing_statistics({}) == [*doctor.STATISTICS, "filters/PACS_Proactive_Interaction"]
    assert doctor.missing_statistics({"PACS_VQ_Current": {"Category": "CurrentNumber"},
                                      "filters": {"PACS_Proactive_Interaction": "x"}}) == [
        "PACS_VQ_Abandoned", "PACS_VQ_Accepted"]


def test_a_primary_and_its_backup_count_as_one_stat_server(demo):
    primary = app("Stat_Server")
    backup = application(demo, "Stat_Server_Backup", ApplicationTemplate.objects.get(name="Stat_Server_85"),
                         ports=(("default", 7001),))
    primary.backup_server = backup
    services.save_object(primary)
    services.save_object(Connection(application=app(CLUSTER), server=backup, port_id="default"))
    assert "CLUSTER_STAT_SERVERS" not in codes(doctor.run())


def test_the_query_count_does_not_grow_with_the_configuration(demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(20) as small:
        doctor.run()
    switch = Switch.objects.get(name="MultiMediaSwitch")
    DN.objects.bulk_create([DN(tenant=demo, switch=switch, number=f"Q{i}", alias=f"Q{i}",
                               dn_type=DNType.VIRTUAL_QUEUE, options={"pacing": {"media": "chat"}})
                            for i in range(200)])
    AgentGroup.objects.bulk_create([AgentGroup(tenant=demo, name=f"G{i}") for i in range(50)])
    for i in range(3):
        application(demo, f"Extra_Node_{i}", ApplicationTemplate.objects.get(name="Pacing_Server"))
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        findings = doctor.run()
    assert len(large.captured_queries) == len(small.captured_queries)
    assert sum(f.code == "VQ_NO_GROUP" for f in findings) == 200


# --- manage.py doctor -----------------------------------------------------------------------------------------------


def test_command_exits_non_zero_on_errors(demo):
    drop_statistics()
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("doctor", stdout=out)
    assert raised.value.returncode == 1
    text = out.getvalue()
    assert "ERRORS (1)" in text and "[STAT_SERVER_STATISTICS]" in text and "WARNINGS" in text
    assert "fix: /admin/configdb/application/" in text


def test_command_exit_status_through_manage_py(demo):
    drop_statistics()
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "doctor"]).execute()
    assert exited.value.code == 1
    # run_from_argv closes the database connections when the command ends: nothing may query after it


def test_command_exit_status_zero_through_manage_py_on_the_demo(demo, capsys):
    ManagementUtility(["manage.py", "doctor"]).execute()    # no error: returns, exit status 0
    assert "0 error(s)" in capsys.readouterr().out


def test_command_json(demo):
    out = io.StringIO()
    call_command("doctor", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["summary"]["error"] == 0 and data["summary"]["warning"] >= 1
    first = data["findings"][0]
    assert set(first) == {"severity", "code", "message", "object", "url"}
    assert set(first["object"]) == {"type", "key", "name"}


# --- GET /api/v1/doctor/ --------------------------------------------------------------------------------------------

URL = "/api/v1/doctor/"


def test_api_as_superuser(demo):
    drop_statistics()
    response = client_for(make_user("root", superuser=True)).get(URL)
    assert response.status_code == 200, response.content
    data = body(response)
    assert set(data) == {"summary", "findings"}
    assert data["summary"]["error"] == 1
    assert any(f["code"] == "STAT_SERVER_STATISTICS" and f["object"] == {
        "type": "application", "key": ["Stat_Server"], "name": "Stat_Server"} for f in data["findings"])


def test_api_read_only_grant_runs_it(demo):
    reader = make_user("reader", grants={demo: "read"})
    response = client_for(reader).get(URL, {"severity": "warning"})
    assert response.status_code == 200, response.content
    data = body(response)
    assert data["findings"] and {f["severity"] for f in data["findings"]} == {"warning"}


def test_api_findings_only_on_tenants_the_user_may_read(demo, other_tenant):
    outsider = make_user("outsider", grants={other_tenant: "read"})
    data = body(client_for(outsider).get(URL))
    assert data == {"summary": {"error": 0, "warning": 0, "info": 0}, "findings": []}


def test_api_refuses_anonymous_and_unknown_parameters(demo):
    assert client_for(None).get(URL).status_code in (401, 403)
    user = make_user("root", superuser=True)
    assert client_for(user).get(URL, {"bogus": "1"}).status_code == 400
    assert client_for(user).get(URL, {"severity": "fatal"}).status_code == 400
    assert client_for(user).get(URL, {"code": "NOPE"}).status_code == 400
    only = body(client_for(user).get(URL, {"code": "PORT_HTTP"}))
    assert only["findings"] and {f["code"] for f in only["findings"]} == {"PORT_HTTP"}


# --- the admin page -------------------------------------------------------------------------------------------------


def test_admin_page_lists_findings_with_links(demo, admin_client):
    drop_statistics()
    home = admin_client.get("/admin/")
    assert b"/admin/pacing/doctor/" in home.content
    response = admin_client.get("/admin/pacing/doctor/")
    assert response.status_code == 200
    html = response.content.decode()
    stat = app("Stat_Server")
    assert "STAT_SERVER_STATISTICS" in html and f'href="/admin/configdb/application/{stat.pk}/change/"' in html
    only = admin_client.get("/admin/pacing/doctor/", {"severity": "error"}).content.decode()
    assert "STAT_SERVER_STATISTICS" in only and "PORT_HTTP" not in only


def test_admin_page_for_a_read_only_staff_user(demo, other_tenant, client):
    staff = make_user("staffer", staff=True, grants={other_tenant: "read"})
    client.force_login(staff)
    drop_statistics()
    response = client.get("/admin/pacing/doctor/")
    assert response.status_code == 200
    assert "STAT_SERVER_STATISTICS" not in response.content.decode()    # Environment's objects are not theirs


def test_troubleshooting_doc_lists_every_rule():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text()
    for r in doctor.RULES:
        assert f"| `{r.code}` | {r.severity} |" in text, r.code


def test_a_url_with_credentials_is_never_shown(demo):
    Transaction.objects.filter(name="hybrid_integration").update(
        annex={"general": {"base_auth_url": "ftp://user:s3cret@login.example.com/oauth/token",
                           "base_service_url": "http://user:s3cret@api.example.com/api/"},
               "ewt": {"client_id": "c", "password": "p"}})
    findings = [f for f in doctor.run() if f.code.startswith("HYBRID_")]
    assert {"HYBRID_INCOMPLETE", "HYBRID_URL_SHAPE"} <= codes(findings)
    assert not any("s3cret" in f.message for f in findings)
