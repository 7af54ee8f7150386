"""Alarms in a real browser: the home page shows the active alarms; the list acknowledges and clears them."""

from __future__ import annotations

from django.core.management import call_command
from playwright.sync_api import expect

from alarms import catalog, runtime
from alarms.models import Alarm, AlarmState, ClearReason
from configdb.models import ObjectChange
from tests.e2e.screenshots import save_screenshot

CLUSTER = "Pacing_Service_Cluster_9.0"


def test_acknowledge_and_clear_an_alarm_in_the_admin(admin_page, live_server):
    call_command("load_demo", verbosity=0)
    failed = runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "GPE refused the connection", source=CLUSTER,
                                 node="node-1")
    gc_alarm = runtime.raise_alarm(catalog.GC_LATENCY, "collector pause 1500 ms", source="node-2", node="node-2")
    page = admin_page

    page.goto(live_server.url + "/admin/")
    panel = page.locator("#active-alarms")
    expect(panel.locator("h2")).to_have_text("Active alarms (2)")
    expect(panel).to_contain_text("PacingRequestsFailed")
    expect(panel).to_contain_text("GC Latency")

    panel.get_by_role("link", name="Alarm list and history").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has_text="PacingRequestsFailed")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "acknowledge")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 alarm(s) acknowledged.")
    expect(rows.filter(has_text="PacingRequestsFailed")).to_contain_text("Ack. admin")
    save_screenshot(page, "alarms-admin")

    failed.refresh_from_db()
    assert failed.acknowledged_by == "admin" and failed.state == AlarmState.ACTIVE

    rows.filter(has_text="GC Latency").locator("input.action-select").check()
    page.select_option("select[name=action]", "clear")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 alarm(s) cleared.")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)  # the active list no longer shows it

    page.get_by_role("link", name="Cleared").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("GC Latency")

    gc_alarm.refresh_from_db()
    assert (gc_alarm.state, gc_alarm.clear_reason, gc_alarm.cleared_by) == (AlarmState.CLEARED, ClearReason.USER,
                                                                             "admin")
    recorded = ObjectChange.objects.filter(content_type__app_label="alarms").values_list("object_id", "actor")
    assert sorted(recorded) == sorted([(str(failed.pk), "admin"), (str(gc_alarm.pk), "admin")])

    # The alarm's own page shows what happened, and its History the operator's actions.
    page.goto(live_server.url + f"/admin/alarms/alarm/{gc_alarm.pk}/change/")
    expect(page.locator("#content")).to_contain_text("collector pause 1500 ms")
    page.goto(live_server.url + f"/admin/alarms/alarm/{gc_alarm.pk}/history/")
    expect(page.locator("#content")).to_contain_text("state: active → cleared")
    assert Alarm.objects.filter(state=AlarmState.ACTIVE).count() == 1
