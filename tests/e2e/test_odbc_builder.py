"""The ODBC connection-string builder in real Chromium, as an administrator meets it: from a database access
point's page, *ODBC connection-string builder*, a refused input named on its field, *Build* showing the option,
*Apply* writing it into the DAP (and back on its page), the password never shown."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb import services
from configdb.models import DatabaseAccessPoint, Tenant

from ..configdb.api_helpers import dap_template


def test_build_and_apply_an_odbc_string_from_a_dap_page(admin_page, live_server):
    page = admin_page
    env = Tenant.objects.get_or_create(name="Environment")[0]
    dap = services.save_object(DatabaseAccessPoint(tenant=env, name="IXN_Main_DAP", template=dap_template(env),
                                                   dbms_type="mssql", dbms_name="sql1", database_name="ixn",
                                                   db_username="genesys", db_password="s3cret-pw"))
    page.goto(f"{live_server.url}/admin/configdb/databaseaccesspoint/{dap.pk}/change/")
    assert "s3cret-pw" not in page.content()
    with page.expect_navigation():
        page.locator("a.extra-tool", has_text="ODBC connection-string builder").first.click()
    expect(page.locator("#content h1")).to_have_text("ODBC connection-string builder")

    # a DSN and a driver at once is refused, named on the page; nothing is written
    page.fill("input[name=dsn]", "ci-vm410")
    page.fill("input[name=driver]", "ODBC Driver 17 for SQL Server")
    page.locator("input[type=submit][name=build]").click()
    expect(page.locator(".errorlist")).to_contain_text("not both")
    assert DatabaseAccessPoint.objects.get(pk=dap.pk).options == {}
    page.fill("input[name=driver]", "")

    # 8.5.3 and later: odbc-string with the DSN
    page.select_option("select[name=version]", value="8.5.3")
    page.locator("input[type=submit][name=build]").click()
    expect(page.locator("#odbc-builder-result")).to_contain_text("DSN={ci-vm410}")
    assert DatabaseAccessPoint.objects.get(pk=dap.pk).options == {}          # Build writes nothing

    with page.expect_navigation():
        page.locator("input[type=submit][name=apply]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("odbc-string = DSN={ci-vm410}")
    assert f"/databaseaccesspoint/{dap.pk}/change/" in page.url
    assert "s3cret-pw" not in page.content()
    stored = DatabaseAccessPoint.objects.get(pk=dap.pk)
    assert stored.options["settings"] == {"dbprotocol": "odbc", "odbc-string": "DSN={ci-vm410}"}
    assert stored.db_password == "s3cret-pw"                                  # the password kept, unseen
