"""The pacing API: GET /api/v1/pacing/targets/ and POST /api/v1/pacing/stats/."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from configdb import services
from configdb.models import AgentGroup, MediaType, Switch, Tenant, VirtualQueue
from pacing import redis as pacing_redis
from pacing import targets
from pacing.stats import StatsStore
from tests.configdb.api_helpers import body, client_for, make_user, send

TARGETS = "/api/v1/pacing/targets/"
STATS = "/api/v1/pacing/stats/"
CHAT, VOICE = "Proactive Chat - chat", "Proactive Voice - voice"


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("embedded-redis-api")
    yield path
    pacing_redis.reset_clients(f"embedded:{pacing_redis.embedded_db_path(path)}")


@pytest.fixture(autouse=True)
def stats_redis(settings, embedded_dir):
    """The embedded Redis (one server per test session), under a key prefix of each test's own."""
    settings.REDIS_URL = ""
    settings.VAR_DIR = embedded_dir
    settings.PACING_REDIS_PREFIX = prefix = f"test-{uuid.uuid4().hex}"
    targets.clear_cache()
    client = pacing_redis.get_redis()
    yield client
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    targets.clear_cache()


@pytest.fixture
def admin(demo):
    return client_for(make_user("root", superuser=True))


@pytest.fixture
def other(demo):
    """A second tenant with one pacing target, "Their Queue - email"."""
    tenant = Tenant.objects.create(name="Other")
    switch = services.save_object(Switch(tenant=tenant, name="OtherSwitch"))
    services.save_object(MediaType(tenant=tenant, name="email"))
    queue = services.save_object(VirtualQueue(tenant=tenant, switch=switch, number="Their Queue",
                                              options={"pacing": {"media": "email", "optimizationGoal": "10"}}))
    group = services.save_object(AgentGroup(tenant=tenant, name="Their Group"))
    group.origination_dns.add(queue)
    return tenant


def row(target=CHAT, **values):
    return {"target": target, "ready_agents": 3, "busy_agents": 2, "current": 1, "accepted": 40, "abandoned": 1,
            "aht_s": 240.5, **values}


def push(client, snapshots, tenant="Environment"):
    return send(client, "post", STATS, {"tenant": tenant, "snapshots": snapshots})


def results(client, query="") -> list[dict]:
    response = client.get(TARGETS + query)
    assert response.status_code == 200, response.content
    return body(response)["results"]


# --- authentication -----------------------------------------------------------------------------------------


def test_anonymous_is_401(demo):
    anonymous = client_for(None)
    assert anonymous.get(TARGETS).status_code == 401
    response = push(anonymous, [row()])
    assert response.status_code == 401 and "WWW-Authenticate" in response


# --- GET targets --------------------------------------------------------------------------------------------


def test_targets_of_the_demo(admin, demo):
    response = admin.get(TARGETS)
    assert response.status_code == 200
    data = body(response)
    assert set(data) == {"count", "next", "previous", "results"} and data["count"] == 2
    chat, voice = data["results"]
    assert [chat["name"], voice["name"]] == [CHAT, VOICE]
    queue = VirtualQueue.objects.get(number="Proactive Chat")
    assert chat["queue"] == {"id": queue.pk, "url": f"http://testserver/api/v1/virtual-queues/{queue.pk}/",
                             "name": "Proactive Chat"}
    assert chat["tenant"] == {"id": demo.pk, "url": f"http://testserver/api/v1/tenants/{demo.pk}/",
                              "name": "Environment"}
    assert chat["switch"] == "MultiMediaSwitch" and chat["media"] == "chat"
    assert [g["name"] for g in chat["agent_groups"]] == ["Proactive Blended", "Proactive Chat", "Proactive Chat Sales"]
    group = AgentGroup.objects.get(name="Proactive Blended")
    assert chat["agent_groups"][0] == {"id": group.pk, "url": f"http://testserver/api/v1/agent-groups/{group.pk}/",
                                       "name": "Proactive Blended"}
    assert chat["goal_pct"] == 3.0 and chat["goal_source"] == "queue"
    assert chat["stats"] is None and chat["stale"] is True and chat["invitations"] is None
    assert [g["name"] for g in voice["agent_groups"]] == ["Proactive Blended", "Proactive Voice"]
    # the URLs answer
    assert admin.get(chat["queue"]["url"]).status_code == 200
    assert admin.get(chat["agent_groups"][0]["url"]).status_code == 200


def test_latest_stats_and_invitations_are_shown(admin, stats_redis, demo):
    assert push(admin, [row(sent=50, declined=None)]).status_code == 202
    stats_redis.hset(pacing_redis.tenant_key(demo.pk, "invitations"), CHAT,
                     json.dumps({"invitations": 4, "tick": 352112, "at": 1700000000.5}))
    chat, voice = results(admin)
    stats = chat["stats"]
    assert {k: stats[k] for k in ("ready_agents", "busy_agents", "current", "accepted", "abandoned", "aht_s",
                                  "sent", "declined", "expired")} == {
        "ready_agents": 3.0, "busy_agents": 2.0, "current": 1.0, "accepted": 40.0, "abandoned": 1.0, "aht_s": 240.5,
        "sent": 50.0, "declined": None, "expired": None}
    assert abs(stats["taken_at"] - time.time()) < 30 and 0 <= stats["age_s"] < 30
    assert chat["stale"] is False
    assert chat["invitations"] == {"invitations": 4, "tick": 352112, "at": 1700000000.5, "pending": None,
                                   "share": None, "epoch": None, "cluster": None, "error": None}
    assert voice["stats"] is None and voice["stale"] is True and voice["invitations"] is None


def test_stats_older_than_the_limit_are_stale(admin, settings):
    assert push(admin, [row(taken_at=time.time() - 20)]).status_code == 202
    assert results(admin, "?q=chat")[0]["stale"] is False
    settings.PACING_STATS_MAX_AGE_S = 10
    chat = results(admin, "?q=chat")[0]
    assert chat["stale"] is True and chat["stats"]["ready_agents"] == 3.0


def test_filters(admin, other, demo):
    assert [r["name"] for r in results(admin)] == [CHAT, VOICE, "Their Queue - email"]
    assert [r["name"] for r in results(admin, "?tenant=Other")] == ["Their Queue - email"]
    assert [r["name"] for r in results(admin, f"?tenant={demo.pk}")] == [CHAT, VOICE]
    assert results(admin, "?tenant=Nobody") == []
    assert [r["name"] for r in results(admin, "?media=voice")] == [VOICE]
    assert results(admin, "?media=Voice") == []
    assert [r["name"] for r in results(admin, "?q=PROACTIVE")] == [CHAT, VOICE]
    assert [r["name"] for r in results(admin, "?q=CE%20-%20voi")] == [VOICE]
    push(admin, [row()])
    assert [r["name"] for r in results(admin, "?stale=false")] == [CHAT]
    assert [r["name"] for r in results(admin, "?stale=true")] == [VOICE, "Their Queue - email"]
    assert [r["name"] for r in results(admin, "?stale=true&tenant=Environment&media=voice")] == [VOICE]
    assert results(admin, "?tenant=Other")[0]["goal_pct"] == 10.0


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?bogus=1", "bogus", "Unknown filter parameter."),
    ("?ordering=name", "ordering", "Unknown filter parameter."),
    ("?stale=maybe", "stale", "Expected true or false."),
    ("?limit=abc", "limit", "Must be a whole number from 0."),
    ("?offset=-1", "offset", "Must be a whole number from 0."),
    ("?q=" + "x" * 256, "q", "At most 255 characters, no NUL."),
])
def test_bad_query_parameters_are_400(admin, query, field, message):
    response = admin.get(TARGETS + query)
    assert response.status_code == 400
    assert body(response)[field] in (message, [message])


def test_pagination(admin, other):
    data = body(admin.get(TARGETS + "?limit=1&offset=1"))
    assert data["count"] == 3 and [r["name"] for r in data["results"]] == [VOICE]
    assert "offset=2" in data["next"] and data["previous"]
    data = body(admin.get(TARGETS + "?limit=2&offset=2&stale=true"))
    assert data["count"] == 3 and [r["name"] for r in data["results"]] == ["Their Queue - email"]


def test_tenant_scoping(demo, other):
    reader = client_for(make_user("reader", grants={other: "read"}))
    assert [r["name"] for r in results(reader)] == ["Their Queue - email"]
    assert results(reader, "?tenant=Environment") == []
    assert results(reader, f"?tenant={demo.pk}") == []
    nobody = client_for(make_user("nobody"))
    assert body(nobody.get(TARGETS))["count"] == 0


def test_query_count_does_not_grow_with_tenants(admin, demo):
    results(admin)  # warm the target cache
    with CaptureQueriesContext(connection) as one:
        results(admin)
    for number in range(3):
        tenant = Tenant.objects.create(name=f"T{number}")
        switch = services.save_object(Switch(tenant=tenant, name="S"))
        services.save_object(MediaType(tenant=tenant, name="chat"))
        queue = services.save_object(VirtualQueue(tenant=tenant, switch=switch, number="Q",
                                                  options={"pacing": {"media": "chat"}}))
        services.save_object(AgentGroup(tenant=tenant, name="G")).origination_dns.add(queue)
    assert len(results(admin)) == 5
    with CaptureQueriesContext(connection) as four:
        results(admin)
    assert len(one.captured_queries) == len(four.captured_queries) <= 3


def test_redis_down_is_503(admin, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        response = admin.get(TARGETS)
        assert response.status_code == 503 and "stats store" in body(response)["detail"]
        assert push(admin, [row()]).status_code == 503
    finally:
        pacing_redis.reset_clients("redis://127.0.0.1:1/0")


# --- POST stats ---------------------------------------------------------------------------------------------


def test_push_stores_and_answers_202(admin):
    response = push(admin, [row(), row(VOICE, ready_agents=0, aht_s=None, sent=7, declined=1, expired=0,
                                       taken_at=1_700_000_000)])
    assert response.status_code == 202 and body(response) == {"stored": 2}
    stored = StatsStore(Tenant.objects.get(name="Environment")).get_many([CHAT, VOICE])
    assert stored[CHAT].ready_agents == 3.0 and stored[CHAT].sent is None
    assert stored[VOICE].taken_at == 1_700_000_000 and stored[VOICE].expired == 0.0
    assert response.status_code == 202 and str(stored[VOICE].aht_s) == "nan"


def test_push_by_tenant_id(admin, demo):
    assert push(admin, [row()], tenant=demo.pk).status_code == 202


def test_push_needs_a_read_write_grant(demo, other):
    reader = client_for(make_user("reader", grants={demo: "read"}))
    response = push(reader, [row()])
    assert response.status_code == 403 and "read-write" in body(response)["detail"]
    stranger = client_for(make_user("stranger", grants={other: "write"}))
    response = push(stranger, [row()])  # a tenant it may not read is not revealed
    assert response.status_code == 400 and body(response)["errors"] == ["tenant: no tenant 'Environment'."]
    writer = client_for(make_user("writer", grants={demo: "write"}))
    assert push(writer, [row()]).status_code == 202
    assert push(stranger, [row("Their Queue - email")], tenant="Other").status_code == 202


def errors_of(response) -> list[str]:
    assert response.status_code == 400, response.content
    data = body(response)
    assert data["detail"].startswith("Nothing was stored")
    return data["errors"]


def test_unknown_target_names_the_row(admin):
    errors = errors_of(push(admin, [row(), row(VOICE), row("Nope - chat")]))
    assert errors == ["snapshots[2].target: no pacing target named 'Nope - chat' in tenant 'Environment'."]
    assert StatsStore(Tenant.objects.get(name="Environment")).get_many([CHAT, VOICE]) == {}  # nothing stored


def test_another_tenants_target_is_unknown(admin, other):
    errors = errors_of(push(admin, [row("Their Queue - email")]))
    assert errors == ["snapshots[0].target: no pacing target named 'Their Queue - email' in tenant 'Environment'."]


@pytest.mark.parametrize(("values", "expected"), [
    ({"ready_agents": -1}, "snapshots[0].ready_agents: must not be negative."),
    ({"busy_agents": 1e7}, "snapshots[0].busy_agents: must be at most 1,000,000."),
    ({"accepted": 1e300}, "snapshots[0].accepted: must be at most 1,000,000,000."),
    ({"aht_s": 90_000}, "snapshots[0].aht_s: must be at most 86,400."),
    ({"current": "3"}, "snapshots[0].current: must be a number, not text."),
    ({"abandoned": True}, "snapshots[0].abandoned: must be a number, not bool."),
    ({"sent": [1]}, "snapshots[0].sent: must be a number, not list."),
    ({"declined": -0.5}, "snapshots[0].declined: must not be negative."),
    ({"ready_agents": None}, "snapshots[0].ready_agents: may not be null."),
    ({"taken_at": None}, "snapshots[0].taken_at: may not be null (leave it out: the time of receipt)."),
    ({"taken_at": time.time() + 3600},
     "snapshots[0].taken_at: is in the future (more than 60 s ahead of the server's clock)."),
    ({"extra": 1}, "snapshots[0].extra: unknown field."),
    ({"target": 5}, "snapshots[0].target: must be text."),
    ({"target": None}, "snapshots[0].target: required."),
])
def test_bad_values_name_the_field(admin, values, expected):
    assert errors_of(push(admin, [row(**values)])) == [expected]


def test_missing_fields_and_several_problems(admin):
    snapshots = [{"target": CHAT}, "x", row(VOICE, ready_agents=-1, busy_agents=-2), row(VOICE)]
    errors = errors_of(push(admin, snapshots))
    assert errors == [
        "snapshots[0].ready_agents: required.", "snapshots[0].busy_agents: required.",
        "snapshots[0].current: required.", "snapshots[0].accepted: required.", "snapshots[0].abandoned: required.",
        "snapshots[1]: expected an object.",
        "snapshots[2].ready_agents: must not be negative.", "snapshots[2].busy_agents: must not be negative.",
        "snapshots[3].target: 'Proactive Voice - voice' is given twice (also snapshots[2]).",
    ]


def test_optional_fields_may_be_left_out(admin):
    minimal = {k: v for k, v in row().items() if k != "aht_s"}
    assert push(admin, [minimal]).status_code == 202


@pytest.mark.parametrize(("payload", "expected"), [
    ({"snapshots": []}, ["snapshots: the list is empty."]),
    ({"snapshots": {}}, ["snapshots: expected a list of objects."]),
    ({"tenant": "Environment"}, ["snapshots: required."]),
    ({}, ["tenant: required.", "snapshots: required."]),
    ({"tenant": True, "snapshots": []}, ["tenant: expected the tenant's name or id."]),
    ({"tenant": "Nobody", "snapshots": []}, ["tenant: no tenant 'Nobody'."]),
    ({"tenant": "Environment", "snapshots": [], "more": 1}, ["more: unknown field."]),
    ([], ["Expected an object: {\"tenant\": …, \"snapshots\": […]}."]),
])
def test_bad_bodies(admin, payload, expected):
    if isinstance(payload, dict) and "snapshots" in payload and "tenant" not in payload:
        payload = {"tenant": "Environment", **payload}
    assert errors_of(send(admin, "post", STATS, payload)) == expected


def test_at_most_10000_rows(admin):
    errors = errors_of(push(admin, [{}] * 10_001))
    assert errors == ["snapshots: at most 10,000 rows per request (got 10,001)."]


def test_errors_are_capped(admin):
    errors = errors_of(push(admin, [{"target": "x"}] * 500))
    assert len(errors) == 101 and errors[-1].startswith("… and more problems")


@pytest.mark.parametrize("raw", [
    b'{"tenant": "Environment", "snapshots": [{"target": "Proactive Chat - chat", "ready_agents": NaN}]}',
    b'{"tenant": "Environment", "snapshots": [{"target": "Proactive Chat - chat", "ready_agents": 1e999}]}',
    b'{"tenant": "Environment", "snapshots": [{"target": "Proactive Chat - chat", "ready_agents": Infinity}]}',
])
def test_nan_and_infinity_are_malformed_json(admin, raw):
    response = send(admin, "post", STATS, raw)
    assert response.status_code == 400 and "Malformed JSON" in body(response)["detail"]


def test_push_only_posts(admin):
    assert admin.get(STATS).status_code == 405


@pytest.mark.parametrize(("tenant", "error"), [
    ("Environment\x00", "tenant: contains a NUL character."),             # was a 500 on PostgreSQL
    (2**70, "tenant: expected the tenant's name or id."),                 # beyond a 64-bit id (the parser's)
])
def test_a_tenant_no_database_can_look_up_is_400(admin, tenant, error):
    response = push(admin, [row()], tenant=tenant)
    assert response.status_code == 400 and errors_of(response) == [error]
