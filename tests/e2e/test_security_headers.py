"""The Content Security Policy breaks no page: the admin (its options editor, the autocomplete), the Swagger UI
and the browsable API run in Chromium with the policy on and the browser reports no violation."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb.models import DN, AgentGroup


def test_the_pages_work_under_the_content_security_policy(demo, admin_page, live_server):
    page = admin_page
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    queue = DN.objects.order_by("pk").first()
    group = AgentGroup.objects.order_by("pk").first()

    response = page.goto(live_server.url + "/admin/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.goto(f"{live_server.url}/admin/configdb/dn/{queue.pk}/change/")
    expect(page.locator("#content h1")).to_be_visible()
    page.goto(f"{live_server.url}/admin/configdb/agentgroup/{group.pk}/change/")
    expect(page.locator(".select2-container").first).to_be_visible()          # the autocomplete's script ran
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()        # Swagger UI built its page
    page.goto(live_server.url + "/api/v1/virtual-queues/")
    expect(page.locator(".response-info")).to_be_visible()                    # DRF's browsable API
    assert violations == []
