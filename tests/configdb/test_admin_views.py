"""The views a GAX administrator expects (issue 11): the tenant filter on every list, the applications' state
column, a cluster's nodes and a node's cluster, the origination-DN picker, the port-id choices."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from configdb.models import Tenant


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def has_tenant(model) -> bool:
    return any(f.name == "tenant" for f in model._meta.get_fields())


TENANT_LISTS = sorted((m for m in admin.site._registry if has_tenant(m)), key=lambda m: m._meta.label)


def test_tenant_lists_cover_the_object_types():
    labels = {m._meta.label for m in TENANT_LISTS}
    assert {"configdb.Application", "configdb.VirtualQueue", "configdb.Folder", "configdb.TenantGrant",
            "alarms.Alarm"} <= labels


@pytest.mark.parametrize("model", TENANT_LISTS, ids=lambda m: m._meta.label)
def test_every_list_with_a_tenant_shows_the_tenant_filter_with_one_tenant(admin_client, demo, model):
    assert Tenant.objects.count() == 1
    page = admin_client.get(url(model, "changelist")).content.decode()
    assert 'data-filter-title="tenant"' in page, f"no tenant filter on the {model._meta.verbose_name_plural} list"


def test_the_tenant_filter_filters(admin_client, demo):
    from configdb.models import Application

    response = admin_client.get(url(Application, "changelist"), {"tenant__id__exact": demo.pk})
    assert response.status_code == 200
    assert "Pacing_Service_Cluster_9.0" in response.content.decode()


def test_the_applications_list_has_a_state_column(admin_client, demo):
    from configdb.models import Application, State

    node = Application.objects.get(name="Pacing_Server_Node_02")
    node.state = State.DISABLED
    node.save(update_fields=["state"])
    page = admin_client.get(url(Application, "changelist")).content.decode()
    assert 'column-state"' in page
    assert '<td class="field-state">Disabled</td>' in page
    assert '<td class="field-state">Enabled</td>' in page
    filtered = admin_client.get(url(Application, "changelist"), {"state__exact": "disabled"}).content.decode()
    assert "Pacing_Server_Node_02" in filtered and "Pacing_Server_Node_01" not in filtered


def section_html(page: str, section_id: str) -> str:
    start = page.find(f'id="{section_id}"')
    assert start >= 0, f"no section {section_id}"
    return page[start:page.find("</fieldset>", start)]


def test_the_cluster_page_lists_its_nodes_with_links(admin_client, demo):
    from configdb.models import Application

    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    page = admin_client.get(url(Application, "change", cluster.pk)).content.decode()
    nodes = section_html(page, "cluster-nodes")
    for name in ("Pacing_Server_Node_01", "Pacing_Server_Node_02"):
        node = Application.objects.get(name=name)
        assert f'<a href="{url(Application, "change", node.pk)}">{name}</a>' in nodes
    assert "Genesys Generic Server" in nodes
    assert 'id="node-cluster"' not in page  # a cluster connects to servers, not to another cluster


def test_a_node_page_shows_its_cluster(admin_client, demo):
    from configdb.models import Application

    node = Application.objects.get(name="Pacing_Server_Node_01")
    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    page = admin_client.get(url(Application, "change", node.pk)).content.decode()
    assert f'<a href="{url(Application, "change", cluster.pk)}">Pacing_Service_Cluster_9.0</a>' in section_html(
        page, "node-cluster")
    assert "No application connects to this one." in section_html(page, "dependencies")


def test_a_server_page_lists_the_applications_connected_to_it(admin_client, demo):
    from configdb.models import Application, Connection

    server = Connection.objects.filter(application__name="Pacing_Service_Cluster_9.0").first().server
    page = admin_client.get(url(Application, "change", server.pk)).content.decode()
    assert "Pacing_Service_Cluster_9.0" in section_html(page, "dependencies")


def test_dependencies_list_only_applications_the_user_may_see(client, demo, other_tenant):
    from django.contrib.auth import get_user_model

    from configdb import services
    from configdb.models import Application, Connection, TenantGrant

    from . import factories as f

    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    hidden = f.application(other_tenant, "Other_Node")
    services.save_object(Connection(application=hidden, server=cluster, port_id="default"))
    reader = get_user_model().objects.create_user("reader", password="x", is_staff=True)
    TenantGrant.objects.create(user=reader, tenant=demo, access="read")
    from django.contrib.auth.models import Permission

    reader.user_permissions.add(Permission.objects.get(codename="view_application"))
    client.force_login(reader)
    page = client.get(url(Application, "change", cluster.pk)).content.decode()
    nodes = section_html(page, "cluster-nodes")
    assert "Pacing_Server_Node_01" in nodes and "Other_Node" not in nodes


# --- the origination-DN picker -------------------------------------------------------------------------------

@pytest.fixture
def dns(demo, other_tenant):
    """Besides the demo's queues: a routing point with an alias, a DN on a second switch, another tenant's DN."""
    from configdb import services
    from configdb.models import DN, DNType, Switch

    switch = Switch.objects.get(name="MultiMediaSwitch")
    sip = services.save_object(Switch(tenant=demo, name="SIP_Switch_East"))
    other_switch = services.save_object(Switch(tenant=other_tenant, name="OtherSwitch"))
    return {
        "rp": services.save_object(DN(switch=switch, number="7001", dn_type=DNType.ROUTING_POINT,
                                      alias="Sales Inbound")),
        "east": services.save_object(DN(switch=sip, number="7002", dn_type=DNType.EXTENSION)),
        "other": services.save_object(DN(switch=other_switch, number="7003", dn_type=DNType.ROUTING_POINT,
                                         alias="Sales Other")),
    }


def pick(client, term: str, **extra) -> list[str]:
    """What the origination-DN picker lists for ``term`` (Django's autocomplete view, as select2 asks it)."""
    params = {"term": term, "app_label": "configdb", "model_name": "originationdn", "field_name": "dn", **extra}
    response = client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def test_the_picker_finds_a_dn_by_alias_number_switch_and_type(admin_client, dns):
    label = "7001 — Routing Point on MultiMediaSwitch, alias Sales Inbound"
    assert pick(admin_client, "inbound") == [label]
    assert pick(admin_client, "7001") == [label]
    assert pick(admin_client, "routing point") == [label, "7003 — Routing Point on OtherSwitch, alias Sales Other"]
    assert pick(admin_client, "routing_point")[0] == label
    assert pick(admin_client, "east") == ["7002 — Extension on SIP_Switch_East"]
    assert "Proactive Chat — Virtual Queue on MultiMediaSwitch" in pick(admin_client, "virtual queue")


def test_the_picker_of_a_saved_group_lists_its_tenant_dns_only(admin_client, dns, demo):
    assert len(pick(admin_client, "sales")) == 2  # without a tenant (a new group): every DN the user may see
    assert pick(admin_client, "sales", tenant=demo.pk) == [
        "7001 — Routing Point on MultiMediaSwitch, alias Sales Inbound"]
    assert pick(admin_client, "sales", tenant="x") == pick(admin_client, "sales")  # junk: ignored, never a 500


def test_the_picker_lists_only_dns_the_user_may_see(client, dns, demo):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from configdb.models import TenantGrant

    user = get_user_model().objects.create_user("editor", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_dn", "change_agentgroup"]))
    TenantGrant.objects.create(user=user, tenant=demo, access="write")
    client.force_login(user)
    assert pick(client, "sales") == ["7001 — Routing Point on MultiMediaSwitch, alias Sales Inbound"]


def test_the_group_page_labels_its_dns_and_scopes_the_picker(admin_client, dns, demo):
    from configdb.models import AgentGroup

    group = AgentGroup.objects.get(name="Proactive Chat")
    page = admin_client.get(url(AgentGroup, "change", group.pk)).content.decode()
    assert f'data-ajax--url="{reverse("admin:autocomplete")}?tenant={demo.pk}"' in page
    assert ">Proactive Chat — Virtual Queue on MultiMediaSwitch</option>" in page
    add = admin_client.get(url(AgentGroup, "add")).content.decode()
    assert f'data-ajax--url="{reverse("admin:autocomplete")}"' in add


def test_the_dn_list_search_finds_a_switch(admin_client, dns):
    from configdb.models import DN

    page = admin_client.get(url(DN, "changelist"), {"q": "SIP_Switch_East"}).content.decode()
    assert "7002" in page and "7001" not in page


# --- the port-ID choice of a connection -------------------------------------------------------------------------

def test_the_ports_view_lists_a_servers_ports(admin_client, demo):
    from configdb.models import Application

    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    response = admin_client.get(reverse("admin:configdb_application_ports", args=[cluster.pk]))
    assert response.status_code == 200
    ports = response.json()["ports"]
    assert [p["id"] for p in ports] == sorted(cluster.ports.values_list("port_id", flat=True))
    assert ports[0]["label"].startswith(f"{ports[0]['id']} (")


def test_the_ports_view_is_permission_checked(client, demo, other_tenant):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from configdb.models import Application, TenantGrant

    from . import factories as f

    hidden = f.application(other_tenant, "Other_Server")
    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    ports = lambda app: reverse("admin:configdb_application_ports", args=[app.pk])  # noqa: E731
    assert client.get(ports(cluster)).status_code == 302  # not signed in: the login page
    user = get_user_model().objects.create_user("editor", password="x", is_staff=True)
    TenantGrant.objects.create(user=user, tenant=demo, access="write")
    client.force_login(user)
    assert client.get(ports(cluster)).status_code == 403  # no view permission on applications
    user.user_permissions.add(Permission.objects.get(codename="view_application"))
    assert client.get(ports(cluster)).status_code == 200
    assert client.get(ports(hidden)).status_code == 404  # another tenant's application
    assert client.get(reverse("admin:configdb_application_ports", args=["x"])).status_code == 404


def test_the_connection_inline_offers_the_servers_ports(admin_client, demo):
    from configdb.models import Application

    node = Application.objects.get(name="Pacing_Server_Node_01")
    page = admin_client.get(url(Application, "change", node.pk)).content.decode()
    start = page.find('name="connections-0-port_id"')
    select = page[page.rfind("<select", 0, start):page.find("</select>", start)]
    assert 'class="connection-port"' in select and "data-ports-url" in select
    assert '<option value="default" selected>default (' in select
    assert "configdb/connection-ports.js" in page


def test_a_port_id_the_server_lacks_is_refused_by_the_api_too(demo):
    """The rule behind the choice is the model's (Connection.clean, run by the services): every path obeys it."""
    from configdb.models import Application

    from .api_helpers import body, client_for, make_user, send

    node = Application.objects.get(name="Pacing_Server_Node_01")
    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    response = send(client_for(make_user("root", superuser=True)), "post", "/api/v1/connections/",
                    {"application": node.pk, "server": cluster.pk, "port_id": "nosuch"})
    assert response.status_code == 400
    assert "has no port with ID 'nosuch'" in str(body(response)["port_id"])
