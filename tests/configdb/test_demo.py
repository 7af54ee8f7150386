"""manage.py load_demo: the seeds' example configuration, loaded idempotently."""

import io

from django.core.management import call_command

from configdb.models import (
    DN,
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationType,
    Connection,
    Folder,
    Host,
    Person,
    Port,
    Switch,
    Tenant,
    Transaction,
    TransactionType,
    VirtualQueue,
)

COUNTED = [Tenant, Folder, Host, Application, Port, Connection, Switch, DN, AgentGroup, Person, AlarmCondition,
           Transaction]


def counts():
    return {m.__name__: m.objects.count() for m in COUNTED}


def test_demo_loads_twice_without_duplicates(db):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    first = counts()
    assert "objects created" in out.getvalue()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert counts() == first
    assert "0 objects created" in out.getvalue()


def test_demo_matches_the_seeds(demo):
    assert Host.objects.filter(name="demosrv").exists()
    switch = Switch.objects.get(name="MultiMediaSwitch", tenant=demo)
    chat = VirtualQueue.objects.get(switch=switch, number="Proactive Chat")
    voice = VirtualQueue.objects.get(switch=switch, number="Proactive Voice")
    assert chat.alias == chat.number and voice.alias == voice.number
    assert chat.options["pacing"]["media"] == "chat"
    assert voice.options["pacing"]["media"] == "voice"

    def groups_of(queue):
        return sorted(queue.origination_for.values_list("name", flat=True))

    assert groups_of(chat) == ["Proactive Blended", "Proactive Chat", "Proactive Chat Sales"]
    assert groups_of(voice) == ["Proactive Blended", "Proactive Voice"]

    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    assert cluster.app_type == ApplicationType.APPLICATION_CLUSTER
    port = cluster.ports.get(port_id="default")
    assert (port.port, port.connection_protocol) == (9081, "http")
    assert list(cluster.tenants.values_list("name", flat=True)) == ["Environment"]
    assert cluster.connections.filter(server__name="Stat_Server", port_id="default").exists()
    assert Application.objects.get(name="Message_Server").app_type == ApplicationType.MESSAGE_SERVER
    for node_name in ("Pacing_Server_Node_01", "Pacing_Server_Node_02"):
        node = Application.objects.get(name=node_name)
        assert node.app_type == ApplicationType.GENESYS_GENERIC_SERVER
        assert [c.server.name for c in node.connections.all()] == ["Pacing_Service_Cluster_9.0"]

    txn = Transaction.objects.get(name="hybrid_integration", transaction_type=TransactionType.LIST)
    assert txn.alias == "hybrid_integration"
    assert set(txn.annex) == {"general", "ewt"}
    assert {"base_auth_url", "base_service_url"} <= set(txn.annex["general"])
    assert {"client_id", "password"} <= set(txn.annex["ewt"])

    folder = Folder.objects.get(name="PacingService", folder_type="alarmcondition")
    alarms = {a.name: (a.category, a.timeout, a.detect_event_id, a.cancel_event_id)
              for a in AlarmCondition.objects.filter(folder=folder)}
    assert alarms == {
        "GC Latency": ("major", 86400, 10005, 10006),
        "Heap Memory Usage": ("major", 86400, 10001, 10002),
        "PacingRequestsFailed": ("major", 86400, 100603, 100604),
        "PacingResponseTargetError": ("major", 86400, 100605, 100606),
        "PacingResponseValidationError": ("major", 86400, 100607, 100608),
    }


def test_demo_leaves_an_administrators_edits_alone(demo):
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    queue.options = {"pacing": {"media": "chat", "optimizationGoal": "5"}}
    queue.save()
    call_command("load_demo", stdout=io.StringIO())
    queue.refresh_from_db()
    assert queue.options["pacing"]["optimizationGoal"] == "5"


def test_demo_templates_carry_the_shipped_metadata_and_a_second_load_changes_nothing(demo):
    from configdb.models import ApplicationTemplate, ObjectChange

    cluster = ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")
    node = ApplicationTemplate.objects.get(name="Pacing_Server")
    assert cluster.metadata and node.metadata                     # templates/*.xml, imported by load_demo
    changes = ObjectChange.objects.count()
    call_command("load_demo", stdout=io.StringIO())
    assert ObjectChange.objects.count() == changes
