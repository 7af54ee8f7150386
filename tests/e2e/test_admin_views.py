"""The views a GAX administrator expects, in a real browser: the origination-DN picker (autocomplete by alias),
the port-ID choice that follows the chosen server, and a cluster's nodes with working links."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from configdb import services
from configdb.models import DN, AgentGroup, Application, Connection, DNType, OriginationDN, Port, Switch, Tenant
from tests.e2e.helpers import select2_pick
from tests.e2e.screenshots import save_screenshot


def change_url(live_server, obj) -> str:
    return f"{live_server.url}/admin/configdb/{obj._meta.model_name}/{obj.pk}/change/"


def save_and_continue(page):
    with page.expect_navigation():
        page.click("input[name=_continue]")
    expect(page.locator(".errornote")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_origination_dn_autocomplete_finds_a_dn_by_alias(demo, admin_page, live_server):
    switch = Switch.objects.get(name="MultiMediaSwitch")
    dn = services.save_object(DN(switch=switch, number="7001", dn_type=DNType.ROUTING_POINT, alias="Sales Inbound"))
    group = AgentGroup.objects.get(name="Proactive Chat")
    page = admin_page
    page.goto(change_url(live_server, group))
    inline = page.locator("#originationdn_set-group")
    before = inline.locator("tr.form-row.has_original").count()
    inline.locator(".add-row a").click()
    row = inline.locator("tr.form-row.dynamic-originationdn_set").last
    select2_pick(page, row, "Inbou", "alias Sales Inbound")
    expect(row.locator(".select2-selection__rendered")).to_have_text(
        re.compile("7001 — Routing Point on MultiMediaSwitch, alias Sales Inbound"))
    save_screenshot(page, "admin-views-origination-dn")
    save_and_continue(page)
    assert OriginationDN.objects.filter(agent_group=group, dn=dn).exists()
    expect(inline.locator("tr.form-row.has_original")).to_have_count(before + 1)
    expect(page.locator("#originationdn_set-group")).to_contain_text("alias Sales Inbound")


@pytest.mark.django_db(transaction=True)
def test_a_new_groups_picker_follows_the_chosen_tenant(demo, admin_page, live_server):
    switch = Switch.objects.get(name="MultiMediaSwitch")
    mine = services.save_object(DN(switch=switch, number="7001", dn_type=DNType.ROUTING_POINT, alias="Sales Inbound"))
    other = services.save_object(Tenant(name="Other"))
    other_switch = services.save_object(Switch(tenant=other, name="OtherSwitch"))
    services.save_object(DN(switch=other_switch, number="7003", dn_type=DNType.ROUTING_POINT, alias="Sales Other"))
    page = admin_page
    page.goto(f"{live_server.url}/admin/configdb/agentgroup/add/")
    page.fill("input[name=name]", "Sales Group")
    page.select_option("select#id_tenant", label="Environment")
    inline = page.locator("#originationdn_set-group")
    inline.locator(".add-row a").click()
    row = inline.locator("tr.form-row.dynamic-originationdn_set").last
    row.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Sales")
    options = page.locator(".select2-results__option")
    expect(options).to_have_text(["7001 — Routing Point on MultiMediaSwitch, alias Sales Inbound"])
    options.first.click()
    with page.expect_navigation():
        page.click("input[name=_continue]")
    expect(page.locator(".errornote")).to_have_count(0)
    group = AgentGroup.objects.get(name="Sales Group")
    assert list(group.origination_dns.all()) == [mine]


@pytest.mark.django_db(transaction=True)
def test_the_port_id_choice_offers_the_chosen_servers_ports(demo, admin_page, live_server):
    stat = Application.objects.get(name="Stat_Server")
    services.save_object(Port(application=stat, port_id="statistics", port=7001))
    node = Application.objects.get(name="Pacing_Server_Node_01")
    page = admin_page
    page.goto(change_url(live_server, node))
    inline = page.locator("#connections-group")
    inline.locator(".add-row a").click()
    row = inline.locator("tr.form-row.dynamic-connections").last
    port = row.locator("select.connection-port")
    select2_pick(page, row, "Stat_", "Stat_Server")
    expect(port.locator("option")).to_have_text(["---------", "default (7000)", "statistics (7001)"])
    expect(port).to_have_value("default")
    select2_pick(page, row, "Message", "Message_Server")
    expect(port.locator("option")).to_have_text(["---------", "default (4000)"])
    select2_pick(page, row, "Stat_", "Stat_Server")
    expect(port.locator("option")).to_have_count(3)
    port.select_option("statistics")
    save_screenshot(page, "admin-views-port-choice")
    save_and_continue(page)
    assert Connection.objects.filter(application=node, server=stat, port_id="statistics").exists()


@pytest.mark.django_db(transaction=True)
def test_the_cluster_page_lists_its_nodes_with_working_links(demo, admin_page, live_server):
    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    page = admin_page
    page.goto(change_url(live_server, cluster))
    nodes = page.locator("#cluster-nodes")
    expect(nodes.locator("tbody tr")).to_have_count(2)
    expect(nodes.locator("tbody a")).to_have_text(["Pacing_Server_Node_01", "Pacing_Server_Node_02"])
    save_screenshot(page, "admin-views-cluster-nodes")
    with page.expect_navigation():
        nodes.locator("a", has_text="Pacing_Server_Node_02").click()
    node = Application.objects.get(name="Pacing_Server_Node_02")
    assert page.url == change_url(live_server, node)
    expect(page.locator("input[name=name]")).to_have_value("Pacing_Server_Node_02")
    back = page.locator("#node-cluster a", has_text="Pacing_Service_Cluster_9.0")
    with page.expect_navigation():
        back.click()
    assert page.url == change_url(live_server, cluster)
