"""The Interaction Server cluster wizard clicked through in real Chromium, from the admin home to the summary
(provisioning/wizard/ixn_steps.py, docs/wizard.md)."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb.models import Application, Connection
from tests.e2e.screenshots import save_screenshot
from tests.provisioning.test_ixn_wizard import make_config

NAME = "Browser_IXN"


def _save(page, label="Save and continue"):
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def _next(page):
    with page.expect_navigation():
        page.locator("#wizard-next").first.click()


def _server(page, name, port, backup=""):
    page.fill("#id_name", name)
    page.select_option("#id_template", "IXN_T")
    page.select_option("#id_host", "h1")
    page.fill("#id_port", str(port))
    if backup:
        page.fill("#id_backup", backup)
        page.select_option("#id_backup_host", "h1")


def test_click_through_the_ixn_wizard(admin_page, live_server):
    make_config()
    page = admin_page
    page.goto(live_server.url + "/admin/")
    page.get_by_role("link", name="Configure an Interaction Server cluster").first.click()
    page.fill("#id_cluster", NAME)
    _save(page, "Start")
    expect(page.locator("#wizard-title")).to_contain_text("1. Create the two clusters")
    page.select_option("#id_template", "Cluster_T")
    page.select_option("#id_host", "h1")
    page.select_option("#id_tenant", "T1")
    page.fill("#id_port", "7100")
    _save(page)

    expect(page.locator("#wizard-title")).to_contain_text("2. Interaction Server pairs")
    _server(page, "B_IXN_1", 7120, backup="B_IXN_1_B")
    page.fill("#id_media_types", "chat, email")
    page.select_option("#id_dap_template", "DAP_T")
    page.select_option("#id_dbms_type", "mssql")
    for field, value in (("dbms_name", "sql1"), ("database_name", "ixn"), ("logger_database_name", "ixnlog"),
                         ("db_username", "u"), ("db_password", "s3cret")):
        page.fill(f"#id_{field}", value)
    _save(page)
    expect(page.locator(".success, .messagelist").first).to_contain_text("Created pair B_IXN_1/B_IXN_1_B")
    assert "s3cret" not in page.content()
    _next(page)

    expect(page.locator("#wizard-title")).to_contain_text("3. Interaction Server Proxies")
    _server(page, "B_Proxy_1", 7130)
    _save(page)
    _next(page)

    expect(page.locator("#wizard-title")).to_contain_text("4. Clients of the proxy cluster")
    page.get_by_label("Desktop").check()
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("5. Clients of a dedicated proxy")
    _next(page)
    page.select_option("#id_urs", "URS")
    _save(page)
    page.select_option("#id_ors", "ORS")
    page.select_option("#id_proxy", "B_Proxy_1")
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("8. Stat Server")
    page.select_option("#id_stat_server", "Stat")
    page.select_option("#id_target", "servers")
    _save(page)
    expect(page).to_have_url(live_server.url + f"/admin/pacing/interaction-cluster/{NAME}/summary/")
    save_screenshot(page, "ixn-wizard-clicked-summary")

    primary = Application.objects.get(name="B_IXN_1")
    assert primary.backup_server.name == "B_IXN_1_B"
    assert set(Connection.objects.filter(application__name=NAME).values_list("server__name", flat=True)) == {
        "B_IXN_1"}
    assert set(Connection.objects.filter(application__name="B_Proxy_1").values_list("server__name", flat=True)) \
        == {NAME}
    assert set(Connection.objects.filter(application__name="Stat").values_list("server__name", flat=True)) == {
        "B_IXN_1"}
