"""The admin's template import page in real Chromium: the Import template button of the application templates'
list, the upload of the shipped cluster template and its metadata, a refused file named with its line, and the
options editor of an application created from the template showing the metadata and refusing a value outside it."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb import services
from configdb.models import Application, ApplicationTemplate, Host, Tenant
from tests.e2e.helpers import import_cluster_template

from ..provisioning.helpers import TEMPLATES


def test_upload_a_template_in_the_admin(admin_page, live_server, tmp_path):
    page = admin_page
    Tenant.objects.get_or_create(name="Environment")
    page.goto(f"{live_server.url}/admin/configdb/applicationtemplate/")
    with page.expect_navigation():
        page.locator("#content .object-tools a.template-import").click()
    expect(page.locator("#content h1")).to_have_text("Import application template")

    # a refused file: the page names the file, the line and the problem; nothing is written
    bad = tmp_path / "Bad.apd"
    bad.write_text((TEMPLATES / "Pacing_Server_Cluster.apd").read_text().replace("Application Cluster", "Fax"))
    page.set_input_files("input[name=apd]", str(bad))
    page.set_input_files("input[name=metadata]", str(TEMPLATES / "Pacing_Server_Cluster.xml"))
    page.locator("input[type=submit][value=Import]").click()
    errors = page.locator(".template-import-errors li")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("Bad.apd, line 6: unknown application type 'Fax' (known: ")
    assert not ApplicationTemplate.objects.exists()

    import_cluster_template(page)
    template = ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")
    assert template.metadata["sections"]["pacing"]["options"]["optimizationGoal"]["max"] == 100

    # an application created from it: its editor shows the metadata, and a value outside it is refused
    env = Tenant.objects.get(name="Environment")
    host = services.save_object(Host(tenant=env, name="lb", ip_address="10.0.0.9"))
    app = services.save_object(Application(tenant=env, name="Cluster_E2E", template=template, host=host,
                                           working_directory=".", command_line="."))
    page.goto(f"{live_server.url}/admin/configdb/application/{app.pk}/change/")
    row = page.locator("tr.options-row", has=page.locator("input[aria-label=Key][value=optimizationGoal]"))
    expect(row.locator(".options-hint")).to_contain_text("Accepts: number, at least 0, at most 100.")
    page.locator("details.options-reference summary").click()
    expect(page.locator("details.options-reference")).to_contain_text("The highest allowable percentage")
    row.locator("input[aria-label=Value]").fill("150")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".errorlist")).to_contain_text("pacing/optimizationGoal: '150' is above the maximum 100")
    assert Application.objects.get(pk=app.pk).options["pacing"]["optimizationGoal"] == "3"


def test_the_import_page_and_an_editor_with_metadata_fit_1280_px(admin_page, live_server):
    """What the layout test (tests/e2e/test_layout.py) does not walk: the import page with its errors (it walks the
    empty page), and the options editor of an application whose template has metadata (the demo's have none)."""
    from provisioning.templates import service

    from .test_layout import FIT_CHECK, WIDTH

    page = admin_page
    assert page.viewport_size["width"] == WIDTH
    env = Tenant.objects.get_or_create(name="Environment")[0]
    result = service.import_template((TEMPLATES / "Pacing_Server_Cluster.apd").read_bytes(),
                                     (TEMPLATES / "Pacing_Server_Cluster.xml").read_bytes(), user=None)
    host = services.save_object(Host(tenant=env, name="lb", ip_address="10.0.0.9"))
    app = services.save_object(Application(tenant=env, name="Cluster_E2E", template=result.template, host=host,
                                           working_directory=".", command_line="."))
    failures = []
    for path in ("/admin/configdb/applicationtemplate/import/", f"/admin/configdb/application/{app.pk}/change/",
                 f"/admin/configdb/applicationtemplate/{result.template.pk}/change/"):
        page.goto(live_server.url + path)
        page.wait_for_selector("html[data-layout-fitted]", state="attached")
        if page.locator("details.options-reference").count():
            page.locator("details.options-reference summary").click()
        failures.extend(f"{path}: {problem}" for problem in page.evaluate(FIT_CHECK))
    assert not failures, "\n".join(failures)
