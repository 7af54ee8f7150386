"""The dashboard (admin home) and the what-if: POST /api/v1/pacing/what-if/ and /admin/pacing/what-if/."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from configdb import services
from configdb.models import AgentGroup, MediaType, Switch, Tenant, VirtualQueue
from tests.configdb.api_helpers import body, make_user, send
from tests.pacing.test_pacing_api import CHAT, admin, embedded_dir, push, row, stats_redis  # noqa: F401

WHAT_IF = "/api/v1/pacing/what-if/"


@pytest.fixture
def staff(demo):
    client = Client()
    client.force_login(make_user("boss", superuser=True))
    return client


def ask(client, **values):
    return send(client, "post", WHAT_IF, {"tenant": "Environment", "target": CHAT, **values})


def test_what_if_answers_current_and_changed_from_one_engine_call(admin):  # noqa: F811
    assert push(admin, [row(ready_agents=3, busy_agents=2, sent=100, declined=50, expired=10)]).status_code == 202
    response = ask(admin, ready_agents=30)
    assert response.status_code == 200, response.content
    data = body(response)
    assert data["current"]["inputs"]["ready_agents"] == 3 and data["what_if"]["inputs"]["ready_agents"] == 30
    assert data["what_if"]["invitations"] > data["current"]["invitations"]
    assert data["stale"] is False and data["overrides"] == {"ready_agents": 30.0}
    fewer = body(ask(admin, accept_ratio=1.0))["what_if"]["invitations"]
    more = body(ask(admin, accept_ratio=0.05))["what_if"]["invitations"]
    assert more >= fewer


def test_what_if_without_stats_counts_no_agents_unless_changed(admin):  # noqa: F811
    data = body(ask(admin, ready_agents=10))
    assert data["stale"] is True and data["current"]["invitations"] == 0
    assert data["what_if"]["invitations"] > 0 and data["notes"]


@pytest.mark.parametrize("field,value", [("ready_agents", -1), ("busy_agents", "many"), ("accept_ratio", 0),
                                         ("accept_ratio", 1.5), ("goal_pct", 101), ("goal_pct", -0.1),
                                         ("aht_s", 0), ("ready_agents", True), ("agents", 3)])
def test_what_if_bad_input_is_400_naming_the_field(admin, field, value):  # noqa: F811
    response = ask(admin, **{field: value})
    assert response.status_code == 400 and field in body(response), response.content


def test_what_if_unknown_target_or_unreadable_tenant_is_400(admin, demo):  # noqa: F811
    assert "target" in body(send(admin, "post", WHAT_IF, {"tenant": "Environment", "target": "Nope - chat"}))
    Tenant.objects.create(name="Hidden")
    reader = Client()
    reader.force_login(make_user("nobody"))
    response = send(reader, "post", WHAT_IF, {"tenant": "Environment", "target": CHAT})
    assert response.status_code in (400, 403)


def test_home_page_has_the_dashboard(staff):
    response = staff.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="pacing-dashboard"' in html and "pacingsite/dashboard.js" in html and "<script>" not in html
    assert "pacing_nodes" in response.context and "active_alarm_count" in response.context


def test_what_if_page_shows_both_answers(staff, admin):  # noqa: F811
    push(admin, [row(ready_agents=3, busy_agents=2)])
    tenant = Tenant.objects.get(name="Environment")
    response = staff.get("/admin/pacing/what-if/", {"tenant": tenant.pk, "target": CHAT, "ready_agents": "40"})
    assert response.status_code == 200
    result = response.context["result"]
    assert result.what_if["invitations"] > result.current["invitations"]
    assert staff.get("/admin/pacing/what-if/").status_code == 200
    bad = staff.get("/admin/pacing/what-if/", {"tenant": tenant.pk, "target": CHAT, "goal_pct": "200"})
    assert "goal_pct" in bad.context["errors"]


def test_home_page_query_count_does_not_grow_with_targets(staff, demo):
    staff.get("/admin/")
    with CaptureQueriesContext(connection) as one:
        assert staff.get("/admin/").status_code == 200
    tenant = Tenant.objects.get(name="Environment")
    switch = services.save_object(Switch(tenant=tenant, name="ManyTargets"))
    MediaType.objects.get_or_create(tenant=tenant, name="chat")
    group = services.save_object(AgentGroup(tenant=tenant, name="Many"))
    queues = VirtualQueue.objects.bulk_create(
        [VirtualQueue(tenant=tenant, switch=switch, number=f"Q{i}", options={"pacing": {"media": "chat"}})
         for i in range(50)])
    group.origination_dns.add(*queues)
    with CaptureQueriesContext(connection) as many:
        assert staff.get("/admin/").status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
