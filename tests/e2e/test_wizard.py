"""The deployment wizard clicked through in real Chromium, from the admin home to the summary, on the demo
configuration without its pacing cluster (provisioning/wizard/, docs/wizard.md)."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb.models import AlarmCondition, Application, ApplicationTemplate, Connection
from tests.e2e.screenshots import save_screenshot

CLUSTER = "Browser_Cluster"


def _bare():
    Connection.objects.filter(server__name__startswith="Pacing_").delete()
    Application.objects.filter(name__startswith="Pacing_").delete()
    ApplicationTemplate.objects.filter(name__in=["Pacing_Server_Cluster", "Pacing_Server"]).delete()
    AlarmCondition.objects.all().delete()


def _save(page, label="Save and continue"):
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def test_click_through_the_wizard_to_the_summary(demo, admin_page, live_server):
    _bare()
    page = admin_page
    page.goto(live_server.url + "/admin/")
    page.get_by_role("link", name="Deploy a pacing cluster").first.click()
    page.fill("#id_cluster", CLUSTER)
    _save(page, "Start")
    expect(page.locator("#wizard-title")).to_have_text("1. Import the cluster application template")

    # 1: the shipped template; 2: the cluster
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("2. Create the cluster application")
    page.select_option("#id_template", "Pacing_Server_Cluster")
    page.select_option("#id_host", "demosrv")
    _save(page)

    # 3: configure (https, the Stat Server and Message Server, the tenant, pacingEndpoint)
    expect(page.locator("#wizard-title")).to_contain_text("3. Configure the cluster application")
    page.select_option("#id_stat_server", "Stat_Server")
    page.select_option("#id_message_server", "Message_Server")
    page.fill("#id_port", "9443")
    page.select_option("#id_protocol", "https")
    page.select_option("#id_tenant", "Environment")
    page.fill("#id_target_endpoint", "v1/pacing/targets")
    save_screenshot(page, "deploy-wizard-clicked-step")
    _save(page)

    # 4: the node template; 5: one node (the form stays for the next), then on
    expect(page.locator("#wizard-title")).to_contain_text("4. Import the Pacing Server application template")
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("5. Create and configure a node application")
    page.fill("#id_name", "Browser_Node_1")
    page.select_option("#id_template", "Pacing_Server")
    page.select_option("#id_host", "demosrv")
    page.fill("#id_port", "9443")
    _save(page, "Save node")
    expect(page.locator(".messagelist")).to_contain_text("Created node 'Browser_Node_1'")
    with page.expect_navigation():
        page.locator("#wizard-next").click()

    # 6: connect it; 7: preview, then apply provisioning
    expect(page.locator("#wizard-title")).to_contain_text("6. Add the node application to the cluster")
    page.get_by_label("Browser_Node_1").check()
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("7. Install Pacing Server")
    expect(page.locator("a.wizard-envfile")).to_have_text("Browser_Node_1.env")
    _save(page, "Preview provisioning")
    expect(page.locator("#wizard-plan")).to_contain_text("PacingRequestsFailed")
    assert AlarmCondition.objects.count() == 0
    _save(page, "Apply provisioning")
    assert AlarmCondition.objects.count() == 5

    # 8: tune one condition, then on; 9: no forward proxy
    expect(page.locator("#wizard-title")).to_contain_text("8. Configure alarms")
    page.select_option("#id_action", "tune")
    page.select_option("#id_condition", "GC Latency")
    page.fill("#id_timeout", "600")
    _save(page, "Apply")
    expect(page.locator("#wizard-alarms")).to_contain_text("600 s")
    with page.expect_navigation():
        page.locator("#wizard-next").click()
    expect(page.locator("#wizard-title")).to_contain_text("9. Configure a forward proxy (optional)")
    _save(page)

    expect(page.locator("#wizard-summary")).to_contain_text(CLUSTER)
    expect(page.locator("#wizard-steps tr.wizard-step")).to_have_count(9)
    expect(page.locator("#wizard-findings")).to_be_visible()
    save_screenshot(page, "deploy-wizard-clicked-summary")
    assert Connection.objects.filter(application__name="Browser_Node_1", server__name=CLUSTER).exists()
