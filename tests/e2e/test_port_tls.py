"""A port's TLS material in the application page's Ports table, in a real browser: the certificate, its key and
the trusted CA typed, saved and the two certificates shown again, the key never sent back, kept when left blank, and
a key pasted into the certificate field refused in the row."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb.models import Application, Port
from tests.configdb.factories import tls_material

CERT, KEY = tls_material()
CA, _ = tls_material("ca.pacing.example.com")  # a certificate of another name: the CA clients are checked against


def node_page(page, live_server):
    node = Application.objects.get(name="Pacing_Server_Node_01")
    page.goto(f"{live_server.url}/admin/configdb/application/{node.pk}/change/")
    return node


def port_row(page, port_id: str = "default"):
    return page.locator("#ports-group tbody tr.form-row").filter(
        has=page.locator(f"input[name$='-port_id'][value='{port_id}']"))


def save_and_continue(page):
    with page.expect_navigation():
        page.click("input[name=_continue]")


def test_a_port_takes_its_certificate_key_and_trusted_ca_and_never_shows_the_key(demo, admin_page, live_server):
    page = admin_page
    node = node_page(page, live_server)
    row = port_row(page)
    expect(row).to_have_count(1)
    row.locator("textarea[name$='-certificate']").fill(CERT)
    key_input = row.locator("input[name$='-certificate_key']")
    expect(key_input).to_have_attribute("type", "password")
    key_input.fill(KEY)  # a password input drops the line breaks: the key is read all the same
    row.locator("textarea[name$='-trusted_ca']").fill(CA)
    save_and_continue(page)
    expect(page.locator(".messagelist .success")).to_be_visible()

    port = Port.objects.get(application=node, port_id="default")
    assert (port.certificate, port.certificate_key, port.trusted_ca) == (CERT, KEY, CA)
    assert KEY.splitlines()[2] not in page.content()
    key_input = port_row(page).locator("input[name$='-certificate_key']")
    expect(key_input).to_have_value("")
    expect(key_input).to_have_attribute("placeholder", "******** (kept)")
    expect(port_row(page).locator("textarea[name$='-certificate']")).to_have_value(CERT)
    expect(port_row(page).locator("textarea[name$='-trusted_ca']")).to_have_value(CA)

    save_and_continue(page)  # the key left blank: kept
    expect(page.locator(".messagelist .success")).to_be_visible()
    stored = Port.objects.get(pk=port.pk)
    assert (stored.certificate_key, stored.trusted_ca) == (KEY, CA)

    port_row(page).locator("textarea[name$='-certificate']").fill(KEY)
    save_and_continue(page)
    errors = port_row(page).locator(".errorlist")
    expect(errors).to_contain_text("block 1 is a private key, not a certificate")
    assert Port.objects.get(pk=port.pk).certificate == CERT
    # the key typed into the wrong box is not sent back in it
    expect(port_row(page).locator("textarea[name$='-certificate']")).to_have_value("")
    assert KEY.splitlines()[2] not in page.content()
