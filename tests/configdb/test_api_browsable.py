"""DRF's browsable API: a browser (``Accept: text/html``) signed in to the admin gets HTML pages under the same
permissions as the JSON API; scripts keep JSON; secrets stay masked; the schema does not change."""

from __future__ import annotations

import pytest
from django.test import Client

from configdb import services
from configdb.models import DatabaseAccessPoint, Transaction

from .api_helpers import dap_template, make_user, other_tenant_objects, url

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what Chromium sends
TXN_SECRET = "demo-client-secret"
DAP_SECRET = "dap-secret-pw-42"


def session_for(user) -> Client:
    """A browser's session, signed in through the admin's login (no token)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root(demo):
    return make_user("root", superuser=True)


@pytest.mark.parametrize("path", ["/api/v1/", url("virtual-queues"), url("applications"), url("transactions"),
                                  "/api/v1/pacing/targets/", "/api/v1/alarms/"])
def test_a_browser_gets_the_browsable_api(root, path):
    response = session_for(root).get(path, HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Pacing Console API" in page
    assert 'id="logout-form"' in page and "root" in page


def test_the_api_root_links_to_every_route(root):
    page = session_for(root).get("/api/v1/", HTTP_ACCEPT=HTML).content.decode()
    for route in ("virtual-queues", "agent-groups", "applications", "transactions"):
        assert f"/api/v1/{route}/" in page


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
def test_scripts_keep_json(root, accept):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = session_for(root).get(url("virtual-queues"), **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["count"] >= 1


def test_anonymous_browser_is_sent_to_the_admin_login_and_a_script_gets_401(demo):
    browser = Client().get(url("virtual-queues"), HTTP_ACCEPT=HTML)
    assert browser.status_code == 302
    assert browser["Location"] == "/admin/login/?next=/api/v1/virtual-queues/"
    script = Client().get(url("virtual-queues"))
    assert script.status_code == 401
    assert script["Content-Type"].startswith("application/json")


def test_the_tenant_grants_apply_to_the_html_pages(demo, other_tenant):
    hidden = other_tenant_objects(other_tenant)["queue"]
    reader = make_user("reader", grants={demo: "read"})
    client = session_for(reader)
    page = client.get(url("virtual-queues"), HTTP_ACCEPT=HTML).content.decode()
    assert "Proactive Chat" in page
    assert "Other Queue" not in page
    assert client.get(url("virtual-queues", hidden.pk), HTTP_ACCEPT=HTML).status_code == 404
    # A read grant does not write through the browsable API either (CSRF-checked session, then the grant).
    queue = demo_queue_pk(client)
    response = client.patch(url("virtual-queues", queue), data='{"alias": "x"}', content_type="application/json",
                            HTTP_ACCEPT=HTML)
    assert response.status_code in (403, 404)


def demo_queue_pk(client) -> int:
    return client.get(url("virtual-queues"), {"number": "Proactive Chat"}).json()["results"][0]["id"]


def test_secrets_stay_masked_in_the_html(root, demo):
    services.save_object(DatabaseAccessPoint(tenant=demo, name="DAP", template=dap_template(demo), dbms_type="postgre",
                                             db_password=DAP_SECRET))
    client = session_for(root)
    txn = Transaction.objects.get(name="hybrid_integration")
    dap = DatabaseAccessPoint.objects.get(name="DAP")
    for path in (url("transactions"), url("transactions", txn.pk), url("database-access-points"),
                 url("database-access-points", dap.pk)):
        page = client.get(path, HTTP_ACCEPT=HTML).content.decode()
        assert TXN_SECRET not in page and DAP_SECRET not in page, path
    assert "********" in client.get(url("transactions", txn.pk), HTTP_ACCEPT=HTML).content.decode()


def test_no_html_forms_list_every_related_object(root):
    """The generated forms would render a <select> of every related object; only the raw JSON form is offered."""
    page = session_for(root).get(url("agent-groups"), HTTP_ACCEPT=HTML).content.decode()
    assert 'data-override="content"' in page  # the raw-content form (POST)
    assert "<select" in page  # its media-type picker …
    assert 'name="origination_dns"' not in page and 'name="tenant"' not in page  # … and no generated fields


def test_the_schema_offers_json_only(root):
    schema = session_for(root).get("/api/schema/", {"format": "json"}).json()
    media = {
        content_type
        for item in schema["paths"].values()
        for operation in item.values() if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
        for content_type in response.get("content", {})
    }
    assert "text/html" not in media
    assert "application/json" in media


def test_the_admin_login_brings_the_browser_back_to_the_api(demo):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("alice", None, "secret-pw-1")
    browser = Client()
    login_url = browser.get(url("transactions"), HTTP_ACCEPT=HTML)["Location"]
    assert login_url.startswith("/admin/login/")
    assert browser.get(login_url).status_code == 200
    signed_in = browser.post(login_url, {"username": "alice", "password": "secret-pw-1",
                                         "next": "/api/v1/transactions/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/api/v1/transactions/"
    page = browser.get(signed_in["Location"], HTTP_ACCEPT=HTML)
    assert page.status_code == 200 and "hybrid_integration" in page.content.decode()
