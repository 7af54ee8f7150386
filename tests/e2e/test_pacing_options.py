"""Pacing options checked where they are typed, in a real browser: the error names the key; the alias warning shows."""

from __future__ import annotations

from playwright.sync_api import expect

from configdb.models import VirtualQueue
from tests.e2e.screenshots import save_screenshot


def queue() -> VirtualQueue:
    return VirtualQueue.objects.get(number="Proactive Chat")


def value_of(page, key: str):
    """The value input of the options row whose key is ``key``."""
    row = page.locator(".options-editor[data-name='options'] tbody tr.options-row").filter(
        has=page.locator(f"input[name='options-key'][value='{key}']"))
    expect(row).to_have_count(1)
    return row.locator("input[name='options-value']")


def save_and_continue(page):
    with page.expect_navigation():
        page.click("input[name=_continue]")


def test_a_bad_goal_is_refused_in_the_form_naming_the_key_then_an_alias_warns(demo, admin_page, live_server):
    page = admin_page
    page.goto(f"{live_server.url}/admin/configdb/virtualqueue/{queue().pk}/change/")
    value_of(page, "optimizationGoal").fill("abc")
    save_and_continue(page)

    errors = page.locator(".field-options .errorlist")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("pacing/optimizationGoal: 'abc' is not a number between 0 and 100")
    expect(page.locator(".errornote")).to_be_visible()
    print(f"screenshot of the refused goal: {save_screenshot(page, 'pacing-options-error')}")
    assert queue().options == {"pacing": {"media": "chat", "optimizationGoal": "3"}}

    # a media type the tenant does not have
    value_of(page, "optimizationGoal").fill("5")
    value_of(page, "media").fill("fax")
    save_and_continue(page)
    expect(page.locator(".field-options .errorlist")).to_contain_text(
        "pacing/media: 'fax' is not a media type of tenant 'Environment'")

    # fixed, with an alias that differs from the number: saved, and the seed's consequence said
    value_of(page, "media").fill("chat")
    page.fill("input[name=alias]", "PC")
    save_and_continue(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    warning = page.locator(".messagelist .warning")
    expect(warning).to_contain_text("its alias 'PC' differs from its number 'Proactive Chat'")
    expect(warning).to_contain_text("Abandoned statistics are not calculated (always 0)")
    saved = queue()
    assert saved.alias == "PC" and saved.options == {"pacing": {"media": "chat", "optimizationGoal": "5"}}
