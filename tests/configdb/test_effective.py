"""A node's effective options: its cluster's, with the node's own keys winning; its cluster; its Message Servers."""

from configdb import services
from configdb.demo import CLUSTER_OPTIONS
from configdb.effective import cluster_of, effective_options, message_servers
from configdb.models import Application, ApplicationType, Connection, ConnectionProtocol

from .factories import application, template

CLUSTER = "Pacing_Service_Cluster_9.0"
NODE = "Pacing_Server_Node_01"


def test_a_node_inherits_the_cluster_options(demo):
    node = Application.objects.get(name=NODE)
    options = effective_options(node)
    assert options["metrics"] == CLUSTER_OPTIONS["metrics"]
    assert options["pacing"] == CLUSTER_OPTIONS["pacing"]
    # the node template's own log keys win, the cluster's other log keys are inherited
    assert options["log"] == {"verbose": "standard", "all": "stdout", "expire": "10"}


def test_an_option_set_on_the_node_wins_key_by_key(demo):
    node = Application.objects.get(name=NODE)
    node.options = {**node.options, "metrics": {"GcLatency.threshold": "250", "reporter.log.enabled": ""}}
    services.save_object(node)
    options = effective_options(node)
    assert options["metrics"]["GcLatency.threshold"] == "250"
    assert options["metrics"]["reporter.log.enabled"] == ""          # set, even empty: the node's value
    assert options["metrics"]["GcFrequency.threshold"] == "24"       # not set on the node: the cluster's
    cluster = Application.objects.get(name=CLUSTER)
    assert cluster.options["metrics"]["GcLatency.threshold"] == "1000"   # nothing written back


def test_the_result_is_a_copy(demo):
    node = Application.objects.get(name=NODE)
    cluster = Application.objects.get(name=CLUSTER)
    effective_options(node, cluster)["metrics"]["GcLatency.threshold"] = "1"
    assert cluster.options["metrics"]["GcLatency.threshold"] == "1000"


def test_cluster_of(demo):
    cluster = Application.objects.get(name=CLUSTER)
    assert cluster_of(Application.objects.get(name=NODE)) == cluster
    assert cluster_of(cluster) == cluster
    assert cluster_of(Application.objects.get(name="Stat_Server")) is None


def test_an_application_without_cluster_has_its_own_options(demo):
    stat = Application.objects.get(name="Stat_Server")
    assert effective_options(stat) == stat.options
    cluster = Application.objects.get(name=CLUSTER)
    assert effective_options(cluster) == cluster.options


def test_several_clusters_the_first_by_name(env_tenant):
    t_cluster = template(env_tenant, "T_Cluster", ApplicationType.APPLICATION_CLUSTER)
    b = application(env_tenant, "B_Cluster", t_cluster, options={"metrics": {"GcLatency.threshold": "2"}})
    a = application(env_tenant, "A_Cluster", t_cluster, options={"metrics": {"GcLatency.threshold": "1"}})
    node = application(env_tenant, "Node")
    for cluster in (b, a):
        services.save_object(Connection(application=node, server=cluster, port_id="default"))
    assert cluster_of(node) == a
    assert effective_options(node)["metrics"]["GcLatency.threshold"] == "1"


def test_message_servers_of_the_node_or_its_cluster(demo, django_assert_max_num_queries):
    node = Application.objects.get(name=NODE)
    with django_assert_max_num_queries(2):
        found = message_servers(node)
    assert [m.name for m in found] == ["Message_Server"]          # the demo connects the cluster to it
    Connection.objects.filter(application__name=CLUSTER, server__name="Message_Server").delete()
    assert message_servers(node) == []
    services.save_object(Connection(application=node, server=Application.objects.get(name="Message_Server"),
                                    port_id="default", connection_protocol=ConnectionProtocol.NONE))
    assert [m.name for m in message_servers(node)] == ["Message_Server"]   # the node's own connection counts


def test_one_query_per_call(demo, django_assert_num_queries):
    node = Application.objects.get(name=NODE)
    with django_assert_num_queries(1):
        effective_options(node)
