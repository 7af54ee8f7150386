"""One administrator's whole journey in one browser session, each step through the UI: sign in on the login form;
create a virtual queue with its pacing options in the options editor and list it among an agent group's
origination DNs; import the cluster template on the template-import page; walk the deployment wizard to the end;
see the new queue's target on the dashboard and its charts follow new stats and real pacing cycles (run here
against the GPE simulator) without a reload; acknowledge the alarm a failed cycle raises. Then the database is
checked, and no Content-Security-Policy violation may have happened on the way.

The demo configuration without its pacing cluster is the start (tests/e2e/helpers.py's strip_pacing_cluster): the
wizard deploys a new one for the tenant. Redis: the cycle tests' (tests/pacing/test_cycle.py), under a key prefix
of this test's own.
"""

from __future__ import annotations

import time

from playwright.sync_api import expect

from alarms import catalog
from alarms.models import Alarm, AlarmState
from configdb.models import (
    AgentGroup,
    AlarmCondition,
    Application,
    ApplicationTemplate,
    Connection,
    ObjectChange,
    Tenant,
    VirtualQueue,
)
from pacing import cycle, history
from pacing import redis as pacing_redis
from pacing.clusters import get_cluster
from pacing.simulators.gpe import GPESimulator
from pacing.stats import StatsStore
from pacing.types import Outcome
from tests.e2e.helpers import (
    add_row,
    csp_violations,
    editor,
    import_cluster_template,
    select2_pick,
    strip_pacing_cluster,
    walk_deploy_wizard,
)
from tests.e2e.screenshots import save_screenshot
from tests.pacing.test_cycle import point_at
from tests.pacing.test_cycle import rc as rc  # noqa: F401  (the fixtures: a real Redis, the cycle's caches reset)
from tests.pacing.test_cycle import redis_url as redis_url  # noqa: F401

QUEUE = "Journey Chat"
TARGET = f"{QUEUE} - chat"
CLUSTER = "Journey_Cluster"
NODE = "Journey_Node_1"


def save_and_continue(page):
    with page.expect_navigation():
        page.click("input[name=_continue]")
    expect(page.locator(".errornote")).to_have_count(0)
    expect(page.locator(".messagelist .success")).to_be_visible()


def test_an_administrators_journey(demo, rc, page, login, admin_user, live_server):
    strip_pacing_cluster()
    violations = csp_violations(page)
    url = live_server.url

    # 1. sign in on the admin's login form
    login(page, admin_user.username, "password")
    save_screenshot(page, "journey-1-home")

    # 2. a virtual queue with its pacing options, typed into the options editor; an agent group lists it
    page.goto(url + "/admin/configdb/virtualqueue/")
    with page.expect_navigation():
        page.locator("#content .object-tools a.addlink").click()
    page.fill("input[name=number]", QUEUE)
    select2_pick(page, page.locator(".field-switch"), "MultiMedia", "MultiMediaSwitch")
    blank = editor(page).locator("tbody tr.options-row").last
    blank.locator("input[name='options-section']").fill("pacing")
    blank.locator("input[name='options-key']").fill("media")
    blank.locator("input[name='options-value']").fill("chat")
    add_row(page, "pacing", "optimizationGoal", "4")
    expect(editor(page).locator(".options-count")).to_have_text("2 rows")
    save_screenshot(page, "journey-2-virtual-queue")
    save_and_continue(page)
    queue = VirtualQueue.objects.get(number=QUEUE)

    group = AgentGroup.objects.get(name="Proactive Chat")
    page.goto(f"{url}/admin/configdb/agentgroup/{group.pk}/change/")
    inline = page.locator("#originationdn_set-group")
    inline.locator(".add-row a").click()
    select2_pick(page, inline.locator("tr.form-row.dynamic-originationdn_set").last, "Journey", QUEUE)
    save_screenshot(page, "journey-2-agent-group")
    save_and_continue(page)

    # 3. the cluster template and its metadata, uploaded on the template-import page
    page.goto(url + "/admin/configdb/applicationtemplate/")
    with page.expect_navigation():
        page.locator("#content .object-tools a.template-import").click()
    import_cluster_template(page)
    save_screenshot(page, "journey-3-template-imported")

    # 4. the deployment wizard, from the admin home to its summary (step 1 is done: the template is there)
    walk_deploy_wizard(page, live_server, CLUSTER, NODE, cluster_template_imported=True,
                       screenshots="journey-4-wizard")

    # 5. the new target on the dashboard, its charts following the stats and the cycles without a reload
    env = Tenant.objects.get(name="Environment")
    sim = GPESimulator(port=0, clock=False, targets={TARGET: {"agents": 5}}, stats_store=StatsStore(env.pk), seed=3)
    sim.start()
    try:
        point_at(sim)
        sim.advance(1)
        sim._maybe_feed(force=True)
        spec = get_cluster(CLUSTER)
        tick = spec.tick(time.time())
        assert cycle.run_cycle(spec, node=NODE, tick=tick).outcome == Outcome.POSTED

        page.goto(url + "/admin/")
        page.fill("#targets-q", "Journey")
        page.press("#targets-q", "Enter")
        row = page.locator(f"#targets-rows tr[data-target='{TARGET}']")
        expect(page.locator("#targets-rows tr[data-target]")).to_have_count(1)
        row.locator("input.target-select").check()
        card = page.locator(f".chart-card[data-target='{TARGET}']")
        invitations = card.locator("[data-series=invitations]")
        ready = card.locator("[data-series=ready]")
        expect(invitations).to_have_attribute("data-points", "1")
        expect(ready).to_have_attribute("data-points", "1")
        expect(ready.locator(".chart-value")).to_have_text("5")
        first_cycle_at = invitations.get_attribute("data-last")
        save_screenshot(page, "journey-5-dashboard")

        # a new stats snapshot and a second cycle: the charts follow, the page is not reloaded. Both cycles fall
        # in one 20 s step of the hour (docs/dashboard.md), so the newest point moves rather than a point being added
        sim.advance(5)
        sim._maybe_feed(force=True)
        assert cycle.run_cycle(get_cluster(CLUSTER), node=NODE, tick=tick + 1).outcome == Outcome.POSTED
        expect(invitations).not_to_have_attribute("data-last", first_cycle_at)
        expect(ready).not_to_have_attribute("data-last", first_cycle_at)
        save_screenshot(page, "journey-5-dashboard-updated")

        # 6. GPE refuses a post: the cycle raises PacingRequestsFailed (the conditions the wizard provisioned)
        sim.inject_failure(503)
        assert cycle.run_cycle(get_cluster(CLUSTER), node=NODE, tick=tick + 2).outcome == Outcome.REQUEST_FAILED
    finally:
        sim.stop()
    page.goto(url + "/admin/")
    panel = page.locator("#active-alarms")
    expect(panel).to_contain_text("PacingRequestsFailed")
    panel.get_by_role("link", name="Alarm list and history").click()
    rows = page.locator("#result_list tbody tr").filter(has_text="PacingRequestsFailed")
    expect(rows).to_have_count(1)
    rows.locator("input.action-select").check()
    page.select_option("select[name=action]", "acknowledge")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 alarm(s) acknowledged.")
    expect(rows).to_contain_text("Ack. admin")
    save_screenshot(page, "journey-6-alarm-acknowledged")

    # the end state
    queue.refresh_from_db()
    assert queue.options == {"pacing": {"media": "chat", "optimizationGoal": "4"}}
    assert queue.switch.name == "MultiMediaSwitch" and queue.tenant == env
    assert group.origination_dns.filter(pk=queue.pk).exists()
    template = ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")
    assert template.metadata["sections"]["pacing"]["options"]["optimizationGoal"]["max"] == 100
    cluster = Application.objects.get(name=CLUSTER)
    assert cluster.template == template
    assert Connection.objects.filter(application__name=NODE, server=cluster).exists()
    assert AlarmCondition.objects.filter(tenant=env).count() == 5
    assert AlarmCondition.objects.get(tenant=env, name="GC Latency").timeout == 600
    # the cluster's cycle history (Redis): the three cycles, newest first; the target's series, the two posts
    cycles = history.History(rc, CLUSTER, pacing_redis.key_prefix())
    assert [c["outcome"] for c in cycles.cycles()] == [Outcome.REQUEST_FAILED, Outcome.POSTED, Outcome.POSTED]
    assert [p["tick"] for p in cycles.series(TARGET)] == [tick, tick + 1]
    alarm = Alarm.objects.get(detect_event_id=catalog.get(catalog.PACING_REQUESTS_FAILED).detect_event_id)
    assert (alarm.state, alarm.acknowledged_by) == (AlarmState.ACTIVE, "admin")
    assert ObjectChange.objects.filter(content_type__app_label="alarms", object_id=str(alarm.pk), action="update",
                                       actor="admin", via="admin").exists()
    # the change history: each object the administrator created, by that user, through the admin
    changed_by_admin = ObjectChange.objects.filter(actor="admin", via="admin", action="create")
    for obj in (queue, template, cluster, Application.objects.get(name=NODE)):
        model = obj._meta.concrete_model._meta.model_name            # a virtual queue is a DN (a proxy model)
        assert changed_by_admin.filter(content_type__model=model, object_id=str(obj.pk)).exists(), obj
    assert changed_by_admin.filter(content_type__model="originationdn", object_repr=QUEUE).exists()
    assert changed_by_admin.filter(content_type__model="alarmcondition").count() == 5
    assert violations == []
