"""What several browser tests do the same way: pick in an autocomplete, type into the options editor, collect
Content-Security-Policy violations, strip the demo of its pacing cluster, click through the deployment wizard.

tests/e2e/test_journey.py chains them into one administrator's session; the tests of each page use them alone.
"""

from __future__ import annotations

from playwright.sync_api import expect

from configdb.models import AlarmCondition, Application, ApplicationTemplate, Connection
from tests.e2e.screenshots import save_screenshot
from tests.provisioning.helpers import TEMPLATES


def csp_violations(page) -> list[str]:
    """The console messages about the Content-Security-Policy ``page`` logs from now on (a list that grows)."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    return violations


def select2_pick(page, row, typed: str, wanted: str):
    """Open the autocomplete of ``row``, type ``typed``, click the result whose text holds ``wanted``."""
    row.locator(".select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(typed)
    option = page.locator(".select2-results__option", has_text=wanted)
    expect(option).to_have_count(1)
    option.click()


# -- the options editor (configdb/static/configdb/options-editor.js) ---------------------------------------------


def editor(page, name: str = "options"):
    return page.locator(f".options-editor[data-name='{name}']")


def add_row(page, section: str, key: str, value: str, name: str = "options"):
    """Click Add and type into the row it appends (the last one)."""
    box = editor(page, name)
    before = box.locator("tbody tr.options-row").count()
    box.locator(".options-add").click()
    rows = box.locator("tbody tr.options-row")
    expect(rows).to_have_count(before + 1)
    row = rows.last
    expect(row.locator(f"input[name='{name}-section']")).to_be_focused()
    row.locator(f"input[name='{name}-section']").fill(section)
    row.locator(f"input[name='{name}-key']").fill(key)
    row.locator(f"input[name='{name}-value']").fill(value)


# -- the deployment wizard (provisioning/wizard/, docs/wizard.md) ------------------------------------------------


def strip_pacing_cluster():
    """The demo minus its cluster, nodes, pacing templates and alarm conditions (what the wizard creates)."""
    Connection.objects.filter(server__name__startswith="Pacing_").delete()
    Application.objects.filter(name__startswith="Pacing_").delete()
    ApplicationTemplate.objects.filter(name__in=["Pacing_Server_Cluster", "Pacing_Server"]).delete()
    AlarmCondition.objects.all().delete()


def _save(page, label="Save and continue"):
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def walk_deploy_wizard(page, live_server, cluster: str, node: str, *, cluster_template_imported: bool = False,
                       screenshots: str = "deploy-wizard-clicked"):
    """Click through the nine steps from the admin home to the summary, on the demo's Stat Server, Message Server,
    host ``demosrv`` and tenant Environment: a cluster on https 9443, one node, the conditions provisioned with GC
    Latency tuned to 600 s, no forward proxy. ``cluster_template_imported``: step 1 is done already (the wizard
    opens at step 2). Screenshots ``<screenshots>-step`` (step 3) and ``<screenshots>-summary``."""
    page.goto(live_server.url + "/admin/")
    page.get_by_role("link", name="Deploy a pacing cluster").first.click()
    page.fill("#id_cluster", cluster)
    _save(page, "Start")

    # 1: the shipped template (unless imported before); 2: the cluster
    if not cluster_template_imported:
        expect(page.locator("#wizard-title")).to_have_text("1. Import the cluster application template")
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
    save_screenshot(page, f"{screenshots}-step")
    _save(page)

    # 4: the node template; 5: one node (the form stays for the next), then on
    expect(page.locator("#wizard-title")).to_contain_text("4. Import the Pacing Server application template")
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("5. Create and configure a node application")
    page.fill("#id_name", node)
    page.select_option("#id_template", "Pacing_Server")
    page.select_option("#id_host", "demosrv")
    page.fill("#id_port", "9443")
    _save(page, "Save node")
    expect(page.locator(".messagelist")).to_contain_text(f"Created node '{node}'")
    with page.expect_navigation():
        page.locator("#wizard-next").click()

    # 6: connect it; 7: preview, then apply provisioning
    expect(page.locator("#wizard-title")).to_contain_text("6. Add the node application to the cluster")
    page.get_by_label(node).check()
    _save(page)
    expect(page.locator("#wizard-title")).to_contain_text("7. Install Pacing Server")
    expect(page.locator("a.wizard-envfile")).to_have_text(f"{node}.env")
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

    expect(page.locator("#wizard-summary")).to_contain_text(cluster)
    expect(page.locator("#wizard-steps tr.wizard-step")).to_have_count(9)
    expect(page.locator("#wizard-findings")).to_be_visible()
    save_screenshot(page, f"{screenshots}-summary")


def import_cluster_template(page) -> None:
    """On the template-import page: upload the shipped cluster template (.apd and metadata) and see it created."""
    page.set_input_files("input[name=apd]", str(TEMPLATES / "Pacing_Server_Cluster.apd"))
    page.set_input_files("input[name=metadata]", str(TEMPLATES / "Pacing_Server_Cluster.xml"))
    with page.expect_navigation():
        page.locator("input[type=submit][value=Import]").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        "Created application template 'Pacing_Server_Cluster' (Application Cluster, version 9.0.0)")
