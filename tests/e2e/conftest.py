"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server.

No browser is downloaded (``playwright install`` is never needed): the tests use the system
chromium, found through ``PACING_CHROMIUM``, then ``chromium`` on the PATH, then
``/usr/bin/chromium``. Without one the tests are skipped, unless ``CI`` or
``PACING_REQUIRE_BROWSER`` is set, where a missing browser fails the run instead of passing it
silently.

Every test here is marked ``browser`` (``pytest -m "not browser"`` leaves them out) and runs with
``transactional_db``: the live server answers from another thread, so data a test creates must be
committed for the server to see it, and a test's own ``TestCase`` transaction would hide it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

# Playwright's sync API runs an asyncio event loop in the test's thread (in a greenlet). Django
# sees that loop and raises SynchronousOnlyOperation for every ORM call made afterwards in that
# thread: the fixtures that load data, and the database checks the tests make after driving the
# browser. Nothing here is async code sharing a connection between coroutines, so the guard only
# gets in the way; Django's documented switch turns it off.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--no-sandbox",  # no user namespaces in containers / CI runners
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls home, no network at all here
    "--disable-component-update",
    "--disable-sync",
]

MISSING_BROWSER = (
    "No chromium found for the browser tests (looked at $PACING_CHROMIUM, `chromium` on the PATH and "
    "/usr/bin/chromium): install Debian's chromium package (apt-get install chromium) or point "
    "PACING_CHROMIUM at a Chromium binary."
)


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder ``browser``."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("PACING_REQUIRE_BROWSER"))


def _missing(message: str) -> NoReturn:
    if _browser_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The chromium binary the tests drive."""
    configured = os.environ.get("PACING_CHROMIUM")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            _missing(f"PACING_CHROMIUM={configured!r} is not an executable file. {MISSING_BROWSER}")
        return configured
    found = shutil.which("chromium")
    if found:
        return found
    fallback = "/usr/bin/chromium"
    if os.path.isfile(fallback) and os.access(fallback, os.X_OK):
        return fallback
    _missing(MISSING_BROWSER)


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless chromium for the whole session."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("The Python package playwright is not installed (pip install -e '.[test]').")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            _missing(f"Chromium at {chromium_path} did not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator:
    """A fresh browser context (no cookies, no storage) and page for each test, on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def login(live_server) -> Callable:
    """``login(page, username, password)``: sign in through the admin's login form, checking it worked."""
    from playwright.sync_api import expect

    def do_login(page, username: str, password: str):
        page.goto(live_server.url + "/admin/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("input[type=submit], button[type=submit]")
        assert page.locator(".errornote").count() == 0, page.locator(".errornote").inner_text()
        assert "/admin/login/" not in page.url, f"login as {username!r} failed: still at {page.url}"
        expect(page.locator("#logout-form")).to_have_count(1)
        return page

    return do_login


@pytest.fixture
def admin_page(page, login, admin_user):
    """A page signed in as the superuser ``admin``."""
    return login(page, admin_user.username, "password")
