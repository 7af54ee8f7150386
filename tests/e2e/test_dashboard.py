"""The dashboard in a browser: a selected target's charts show the hour recorded BEFORE the page opened and
follow new cycles and stats without a reload; the what-if answers a change of agents; no Content-Security-Policy
violation on the way."""

from __future__ import annotations

import re
import time
import uuid

import numpy as np
import orjson
import pytest
from playwright.sync_api import expect

from configdb.models import Tenant
from pacing import redis as pacing_redis
from pacing import targets
from pacing.history import History, hour_bucket, names_digest
from pacing.stats import StatsSnapshot, StatsStore
from tests.e2e.helpers import csp_violations
from tests.e2e.screenshots import save_screenshot

CHAT = "Proactive Chat - chat"
CLUSTER = "Pacing_Service_Cluster_9.0"


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


def record(at: float, tick: int, invitations: int, ready: float, bucket=None):
    """One posted cycle of the demo cluster for CHAT alone, as the cycle records it (latest result, hour)."""
    tenant = Tenant.objects.get(name="Environment")
    h = History(pacing_redis.get_redis(), CLUSTER, pacing_redis.key_prefix())
    blob = orjson.dumps([CHAT])
    digest = names_digest(blob)
    bucket = hour_bucket(bucket, digest=digest, size=1, at=at)
    bucket.add(at=at, tick=tick, invitations=np.array([invitations]), pending=np.array([1.0]), share=np.ones(1),
               ready=np.array([ready]), abandoned_pct=np.array([2.5]))
    pipe = h.client.pipeline()
    h.write_names(pipe, digest, blob)
    h.write_results(pipe, {tenant.pk: ([CHAT], np.array([invitations]), np.array([1]), np.ones(1), [None])},
                    tick=tick, epoch=1, at=at)
    h.write_hour(pipe, bucket)
    pipe.execute()
    return bucket


def test_dashboard_chart_shows_the_hour_before_the_page_and_follows_it(demo, stats, admin_page, live_server):
    page = admin_page
    violations = csp_violations(page)
    opened = time.time()
    for minutes in range(50, 0, -1):                                # the last 50 minutes, one cycle a minute
        record(opened - 60 * minutes, int(opened // 5) - 12 * minutes, invitations=minutes % 5, ready=3)
    put(3)
    page.goto(live_server.url + "/admin/")
    row = page.locator(f"#targets-rows tr[data-target='{CHAT}']")
    row.locator("input.target-select").check()
    card = page.locator(f".chart-card[data-target='{CHAT}']")
    inv = card.locator("[data-series=invitations]")
    expect(inv).to_have_attribute("data-points", "50")
    assert float(inv.get_attribute("data-first")) < opened - 45 * 60   # recorded before the page opened
    expect(card.locator("[data-series=ready] .chart-value")).to_have_text("3")
    expect(card.locator(".chart-axis").first).to_have_text("last hour")
    expect(card.locator("[data-series=abandoned] .chart-value")).to_have_text("2.5")

    record(time.time(), int(time.time() // 5), invitations=9, ready=3)   # a new cycle posts
    expect(inv.locator(".chart-value")).to_have_text("9", timeout=15_000)   # the poll, no reload
    expect(inv).to_have_attribute("data-points", "51")
    put(7)
    expect(card.locator("[data-series=ready] .chart-value")).to_have_text("7", timeout=15_000)
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
