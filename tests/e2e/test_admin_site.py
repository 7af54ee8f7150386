"""The admin's home page in a real browser: each section header opens that section alone, and *View site*
opens the API documentation, whose description shows the token header whole."""

from __future__ import annotations

from playwright.sync_api import expect


def section_models(page) -> dict[str, list[str]]:
    """{section name: [object type names]} of the page's main content."""
    return page.locator("#content-main").evaluate(
        """(main) => Object.fromEntries(Array.from(main.querySelectorAll("div.module:has(caption)")).map((m) => [
            m.querySelector("caption").textContent.trim(),
            Array.from(m.querySelectorAll("th[scope=row]")).map((th) => th.textContent.trim())]))""")


def test_each_section_header_opens_its_own_section(demo, admin_page, live_server):
    page = admin_page
    page.goto(live_server.url + "/admin/")
    home = section_models(page)
    assert {"Environment", "Switching", "Accounts", "Routing / eServices", "Administration"} <= set(home)
    urls = set()
    for name, models in home.items():
        page.goto(live_server.url + "/admin/")
        # the dashboard's panels fill in above the app list after the load: a click before they are done can
        # land where the header was
        expect(page.locator("#pacing-dashboard")).to_have_attribute("data-loaded", "true")
        header = page.locator("#content-main caption a.section", has_text=name)
        with page.expect_navigation() as navigation:
            header.click()
        assert navigation.value.status == 200, f"{name}: {navigation.value.status}"
        urls.add(page.url)
        if name == "Pacing":  # not objects: the pacing nodes page
            expect(page.locator("#content h1")).to_contain_text("Pacing nodes")
            continue
        expect(page.locator("#content h1")).to_have_text(name)
        assert section_models(page) == {name: models}, f"{name} lists other objects"
        expect(page.locator(".breadcrumbs")).to_contain_text(name)
    assert len(urls) == len(home), f"two section headers lead to one page: {sorted(urls)}"


def test_view_site_opens_the_api_documentation_with_the_token_header(admin_page, live_server):
    page = admin_page
    page.goto(live_server.url + "/admin/")
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="View site").click()
    assert navigation.value.status == 200
    assert page.url == live_server.url + "/api/docs/"
    description = page.locator(".swagger-ui .info .description")
    expect(description).to_contain_text("Authorization: Token <key>")
    expect(description.locator("code", has_text="Authorization: Token <key>")).to_have_count(1)
