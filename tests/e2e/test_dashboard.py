"""The dashboard in a browser: a selected target's chart is drawn and follows new stats without a reload; the
what-if answers a change of agents; no Content-Security-Policy violation on the way."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from configdb.models import Tenant
from pacing import redis as pacing_redis
from pacing import targets
from pacing.stats import StatsSnapshot, StatsStore
from tests.e2e.helpers import csp_violations
from tests.e2e.screenshots import save_screenshot

CHAT = "Proactive Chat - chat"


@pytest.fixture
def stats(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    settings.PACING_REDIS_PREFIX = f"e2e-{uuid.uuid4().hex}"
    targets.clear_cache()
    yield
    pacing_redis.reset_clients(f"embedded:{pacing_redis.embedded_db_path(tmp_path)}")
    targets.clear_cache()


def put(ready: float):
    tenant = Tenant.objects.get(name="Environment")
    StatsStore(tenant.pk).put_many([StatsSnapshot(CHAT, ready, 2, 0, 40, 1, 240.0, taken_at=time.time())])


def test_dashboard_chart_follows_stats_and_what_if_answers(demo, stats, admin_page, live_server):
    page = admin_page
    violations = csp_violations(page)
    put(3)
    page.goto(live_server.url + "/admin/")
    row = page.locator(f"#targets-rows tr[data-target='{CHAT}']")
    row.locator("input.target-select").check()
    card = page.locator(f".chart-card[data-target='{CHAT}']")
    ready = card.locator("[data-series=ready] .chart-value")
    expect(ready).to_have_text("3")
    expect(card.locator("[data-series=ready] svg polyline")).to_have_count(1)
    put(7)
    expect(ready).to_have_text("7", timeout=15_000)                 # the poll, no reload
    expect(card.locator("[data-series=ready]")).to_have_attribute("data-points", "2")
    save_screenshot(page, "dashboard-chart")

    row.locator("a", has_text="What-if").click()
    expect(page.locator("#what-if-current .whatif-answer")).to_be_visible()
    before = page.locator("#what-if-changed .whatif-answer").inner_text()
    page.fill("#wi-ready_agents", "40")
    page.click("#what-if-form input[type=submit]")
    expect(page.locator("#what-if-changed .whatif-answer")).not_to_have_text(re.compile(f"^{before}$"))
    assert int(page.locator("#what-if-changed .whatif-answer").inner_text()) > int(before)
    save_screenshot(page, "dashboard-what-if")
    assert violations == []
