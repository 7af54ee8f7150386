"""The GAX-style options table in a real browser: add, remove, filter, errors and secrets."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from configdb.models import Transaction, VirtualQueue
from tests.e2e.helpers import add_row, editor
from tests.e2e.screenshots import save_screenshot


def table_rows(page, name: str = "options", *, visible_only: bool = False) -> list[tuple[str, str, str]]:
    """The (section, key, value) the inputs hold now (their live values, not the HTML attributes)."""
    return editor(page, name).evaluate(
        """(editor, visibleOnly) => Array.from(editor.querySelectorAll("tbody tr.options-row"))
            .filter((row) => !visibleOnly || (!row.hidden && row.offsetParent !== null))
            .map((row) => Array.from(row.querySelectorAll("input")).map((input) => input.value))""",
        visible_only,
    )


def as_tuples(rows) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in rows]


def save_and_continue(page):
    with page.expect_navigation():
        page.click("input[name=_continue]")


def queue() -> VirtualQueue:
    return VirtualQueue.objects.get(number="Proactive Chat")


@pytest.fixture
def vq_page(demo, admin_page, live_server):
    """The Proactive Chat virtual queue's change page, signed in as admin."""
    admin_page.goto(f"{live_server.url}/admin/configdb/virtualqueue/{queue().pk}/change/")
    expect(editor(admin_page)).to_be_visible()
    return admin_page


def test_add_a_section_and_key(vq_page):
    page = vq_page
    assert ("pacing", "media", "chat") in as_tuples(table_rows(page))

    add_row(page, "gpe", "priority", "high")
    save_and_continue(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator(".errornote")).to_have_count(0)

    page.reload()
    rows = as_tuples(table_rows(page))
    assert ("gpe", "priority", "high") in rows
    assert ("pacing", "media", "chat") in rows
    assert ("pacing", "optimizationGoal", "3") in rows

    print(f"screenshot of the options editor: {save_screenshot(page, 'options-editor')}")

    options = queue().options
    assert options["gpe"]["priority"] == "high"
    assert options["pacing"] == {"media": "chat", "optimizationGoal": "3"}


def test_remove_a_row(vq_page):
    page = vq_page
    row = (
        editor(page)
        .locator("tbody tr.options-row")
        .filter(has=page.locator("input[name='options-key'][value='optimizationGoal']"))
    )
    expect(row).to_have_count(1)
    row.locator(".options-remove").click()
    expect(row).to_have_count(0)

    save_and_continue(page)
    expect(page.locator(".messagelist .success")).to_be_visible()

    page.reload()
    rows = as_tuples(table_rows(page))
    assert ("pacing", "media", "chat") in rows
    assert not [r for r in rows if r[1] == "optimizationGoal"]
    assert queue().options == {"pacing": {"media": "chat"}}


def test_quick_filter_shows_only_matching_rows(vq_page):
    page = vq_page
    box = editor(page)
    all_rows = len(table_rows(page))
    assert all_rows == 3  # media, optimizationGoal and the blank row for a new option
    expect(box.locator(".options-count")).to_have_text("2 rows")  # the blank row is not an option

    box.locator(".options-filter").fill("media")
    assert as_tuples(table_rows(page, visible_only=True)) == [("pacing", "media", "chat")]
    expect(box.locator("tbody tr.options-row").filter(visible=True)).to_have_count(1)
    expect(box.locator(".options-count")).to_have_text("1 of 2 rows")

    box.locator(".options-filter").fill("")
    assert len(table_rows(page, visible_only=True)) == all_rows
    expect(box.locator(".options-count")).to_have_text("2 rows")

    # rows the filter hides are still part of the form: saving while filtered loses nothing
    box.locator(".options-filter").fill("media")
    save_and_continue(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert queue().options == {"pacing": {"media": "chat", "optimizationGoal": "3"}}


def test_row_without_a_section_is_refused(vq_page):
    page = vq_page
    before = queue().options

    add_row(page, "", "orphan", "x")
    save_and_continue(page)

    errors = page.locator(".field-options .errorlist")
    expect(errors).to_be_visible()
    text = errors.inner_text()
    print(f"error shown: {text!r}")
    assert "row" in text
    assert "section name is empty" in text
    # the posted table comes back as typed, so nothing is lost, and it does not grow: the options and one
    # blank row for a new option, as before the error (the posted blank row is not shown twice)
    assert text.startswith("row 3:")  # the third row shown: blank rows are not counted
    rows = as_tuples(table_rows(page))
    assert rows == [("pacing", "media", "chat"), ("pacing", "optimizationGoal", "3"), ("", "orphan", "x"),
                    ("", "", "")]
    expect(editor(page).locator(".options-count")).to_have_text("3 rows")
    assert queue().options == before


def test_the_counter_counts_options_not_blank_rows(demo, admin_page, live_server):
    page = admin_page
    page.goto(f"{live_server.url}/admin/configdb/switch/add/")
    box = editor(page)
    expect(box).to_be_visible()
    assert len(table_rows(page)) == 1  # the blank row for a new option
    expect(box.locator(".options-count")).to_have_text("0 rows")
    box.locator("tbody tr.options-row input[name='options-section']").first.fill("tserver")
    expect(box.locator(".options-count")).to_have_text("1 row")
    box.locator(".options-add").click()
    expect(box.locator(".options-count")).to_have_text("1 row")  # a row just added is empty: not counted yet
    box.locator("tbody tr.options-row").last.locator("input[name='options-key']").fill("timeout")
    expect(box.locator(".options-count")).to_have_text("2 rows")


def test_secrets_are_never_sent_and_kept_on_save(demo, admin_page, live_server):
    page = admin_page
    txn = Transaction.objects.get(name="hybrid_integration")
    page.goto(f"{live_server.url}/admin/configdb/transaction/{txn.pk}/change/")
    expect(editor(page, "annex")).to_be_visible()

    assert "demo-client-secret" not in page.content()
    password = (
        editor(page, "annex")
        .locator("tbody tr.options-row")
        .filter(has=page.locator("input[name='annex-key'][value='password']"))
        .locator("input[name='annex-value']")
    )
    expect(password).to_have_attribute("type", "password")
    expect(password).to_have_value("")

    save_and_continue(page)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert "demo-client-secret" not in page.content()

    txn.refresh_from_db()
    assert txn.annex["ewt"]["password"] == "demo-client-secret"
    assert txn.annex["ewt"]["client_id"] == "pacing-demo"
