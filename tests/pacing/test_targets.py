"""Pacing target discovery (pacing/targets.py): the seed's rules, skipped queues, goals, cost and cache."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from configdb import services
from configdb.models import (
    DN,
    AgentGroup,
    Application,
    ApplicationTemplate,
    ApplicationType,
    DNType,
    Host,
    MediaType,
    OriginationDN,
    State,
    Switch,
    Tenant,
    VirtualQueue,
)
from pacing import targets as t


@pytest.fixture(autouse=True)
def _fresh_cache():
    t.clear_cache()
    yield
    t.clear_cache()


def media_types(tenant, *names):
    for name in names:
        MediaType.objects.get_or_create(tenant=tenant, name=name)


def _queue(tenant, number, media, goal, switch, extra) -> VirtualQueue:
    switch = switch or Switch.objects.get_or_create(tenant=tenant, name="MultiMediaSwitch")[0]
    pacing = {"media": media} if media is not None else {}
    if goal is not None:
        pacing["optimizationGoal"] = goal
    return VirtualQueue(tenant=tenant, switch=switch, number=number, alias=number, options={"pacing": pacing},
                        **extra)


def queue(tenant, number, media="chat", goal=None, switch=None, **extra):
    """A queue saved through the services (validated: its media type is made first)."""
    media_types(tenant, media)
    return services.save_object(_queue(tenant, number, media, goal, switch, extra))


def legacy_queue(tenant, number, media="chat", goal=None, switch=None, **extra):
    """A queue as a row written before the pacing options were validated (Model.save: no full_clean)."""
    q = _queue(tenant, number, media, goal, switch, extra)
    q.save()
    return q


def group(tenant, name, *queues, **extra):
    g = services.save_object(AgentGroup(tenant=tenant, name=name, **extra))
    g.origination_dns.add(*queues)
    return g


def cluster_of(tenant, goal=None, name="Cluster"):
    host = Host.objects.get_or_create(name="h1", defaults={"tenant": tenant})[0]
    template = services.save_object(ApplicationTemplate(tenant=tenant, name=f"T_{name}", version="9.0.0",
                                                        app_type=ApplicationType.APPLICATION_CLUSTER))
    options = {"pacing": {"optimizationGoal": goal}} if goal is not None else {}
    app = services.save_object(Application(tenant=tenant, name=name, template=template, host=host,
                                           working_directory=".", command_line=".", options=options))
    app.tenants.add(tenant)
    return app


def summary(discovery: t.Discovery) -> dict:
    return {x.name: x.agent_group_names for x in discovery.targets}


# --- the seed's example -------------------------------------------------------------------------------------


def test_demo_configuration_yields_exactly_the_seeds_two_targets(demo):
    discovery = t.discover(demo)
    assert summary(discovery) == {
        "Proactive Chat - chat": ["Proactive Blended", "Proactive Chat", "Proactive Chat Sales"],
        "Proactive Voice - voice": ["Proactive Blended", "Proactive Voice"],
    }
    assert discovery.skipped == () and discovery.problems == ()
    assert discovery.cluster == "Pacing_Service_Cluster_9.0"
    chat = discovery.by_name["Proactive Chat - chat"]
    q = VirtualQueue.objects.get(number="Proactive Chat")
    assert chat.queue == t.QueueRef(q.pk, "Proactive Chat", "MultiMediaSwitch")
    assert chat.media == "chat" and chat.tenant == "Environment"
    assert chat.goal_pct == 3.0 and isinstance(chat.goal_pct, float) and chat.goal_source == "queue"
    assert chat.agent_group_ids == [AgentGroup.objects.get(name=n).pk for n in chat.agent_group_names]
    assert [x.name for x in t.discover_targets(demo)] == ["Proactive Chat - chat", "Proactive Voice - voice"]
    assert t.discover("Environment").names == t.discover(demo.pk).names == discovery.names


def test_queues_on_any_switch_count_and_other_tenants_are_left_out(env_tenant, other_tenant):
    sip = services.save_object(Switch(tenant=env_tenant, name="SIP_Switch", switch_type="sip"))
    a = queue(env_tenant, "Chat A")
    b = queue(env_tenant, "Voice B", media="voice", switch=sip)
    group(env_tenant, "G", a, b)
    theirs = queue(other_tenant, "Their Chat", switch=services.save_object(Switch(tenant=other_tenant, name="S")))
    group(other_tenant, "Theirs", theirs)
    assert summary(t.discover(env_tenant)) == {"Chat A - chat": ["G"], "Voice B - voice": ["G"]}
    assert t.discover(env_tenant).by_name["Voice B - voice"].queue.switch == "SIP_Switch"
    assert summary(t.discover(other_tenant)) == {"Their Chat - chat": ["Theirs"]}


def test_only_virtual_queues_with_a_pacing_section(env_tenant):
    switch = services.save_object(Switch(tenant=env_tenant, name="SW"))
    plain = queue(env_tenant, "No Pacing", switch=switch)
    plain.options = {"other": {"media": "chat"}}
    services.save_object(plain)
    extension = services.save_object(DN(tenant=env_tenant, switch=switch, number="1001", dn_type=DNType.EXTENSION,
                                        options={"pacing": {"media": "chat"}}))
    group(env_tenant, "G", plain, extension)
    discovery = t.discover(env_tenant)
    assert discovery.targets == () and discovery.skipped == ()


def test_disabled_queues_and_groups_are_left_out(env_tenant):
    on, off = queue(env_tenant, "On"), queue(env_tenant, "Off", state=State.DISABLED)
    group(env_tenant, "Enabled", on, off)
    group(env_tenant, "Disabled", on, state=State.DISABLED)
    only_disabled = queue(env_tenant, "Only Disabled Groups")
    group(env_tenant, "Disabled 2", only_disabled, state=State.DISABLED)
    discovery = t.discover(env_tenant)
    assert summary(discovery) == {"On - chat": ["Enabled"]}
    assert [(s.name, s.reason) for s in discovery.skipped] == [
        ("Only Disabled Groups", "no enabled agent group lists it among its origination DNs")]


def test_a_queue_without_agent_groups_is_skipped_with_a_reason(env_tenant, caplog):
    queue(env_tenant, "Lonely")
    with caplog.at_level(logging.WARNING, logger="pacing.targets"):
        discovery = t.discover(env_tenant)
    assert discovery.targets == ()
    assert discovery.skipped[0].name == "Lonely" and "no enabled agent group" in discovery.skipped[0].reason
    assert "Lonely" in caplog.text


def test_agent_groups_are_sorted_by_name_and_each_listed_once(env_tenant):
    q = queue(env_tenant, "Q")
    for name in ("zeta", "Alpha", "beta"):
        group(env_tenant, name, q)
    assert t.discover(env_tenant).targets[0].agent_group_names == ["Alpha", "beta", "zeta"]


# --- skipped queues -----------------------------------------------------------------------------------------

BAD = [
    ("chat,voice", None, "lists several media types"),
    ("chat;voice", None, "lists several media types"),
    ("chat voice", None, "lists several media types"),
    ('["chat", "voice"]', None, "lists several media types"),
    ('["chat"]', None, "lists several media types"),
    ("", None, "pacing/media: empty"),
    ("   ", None, "pacing/media: empty"),
    (None, None, "pacing/media: missing"),
    ("chat!", None, "is not a media type name"),
    ("fax", None, "pacing/media: 'fax' is not a media type of tenant 'Environment' (its media types: chat)"),
    ("chat", "abc", "is not a number"),
    ("chat", "NaN", "is not a number"),
    ("chat", "nan", "is not a number"),
    ("chat", "inf", "is not a number"),
    ("chat", "-inf", "is not a number"),
    ("chat", "1e999", "pacing/optimizationGoal: '1e999' is not a number between 0 and 100"),
    ("chat", "101", "pacing/optimizationGoal: '101' is not a number between 0 and 100 (it is above 100)"),
    ("chat", "100.5", "above 100"),
    ("chat", "-1", "below 0"),
    ("chat", "3%", "is not a number"),
    ("chat", "3_0", "is not a number"),
]


@pytest.mark.parametrize(("media", "goal", "reason"), BAD)
def test_unusable_pacing_options_skip_the_queue_with_a_logged_reason(env_tenant, caplog, media, goal, reason):
    good = queue(env_tenant, "Good")
    bad = legacy_queue(env_tenant, "Broken Queue", media=media, goal=goal)
    group(env_tenant, "G", good, bad)
    with caplog.at_level(logging.WARNING, logger="pacing.targets"):
        discovery = t.discover(env_tenant)
    assert discovery.names == ["Good - chat"]
    assert len(discovery.skipped) == 1
    skipped = discovery.skipped[0]
    assert skipped.name == "Broken Queue" and reason in skipped.reason
    assert skipped.queue == t.QueueRef(bad.pk, "Broken Queue", "MultiMediaSwitch")
    records = [r for r in caplog.records if r.name == "pacing.targets"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "Broken Queue" in records[0].getMessage() and reason in records[0].getMessage()


@pytest.mark.parametrize("goal", ["0", "100", "2.5", " 7 ", "1e1", ".5", "+4"])
def test_valid_goals(env_tenant, goal):
    group(env_tenant, "G", queue(env_tenant, "Q", goal=goal))
    target = t.discover(env_tenant).targets[0]
    assert target.goal_pct == float(goal) and target.goal_source == "queue"


def test_same_name_on_two_switches_the_oldest_queue_keeps_it(env_tenant):
    first = queue(env_tenant, "Proactive Chat")
    second = queue(env_tenant, "Proactive Chat", switch=services.save_object(Switch(tenant=env_tenant, name="B")))
    group(env_tenant, "G", first, second)
    discovery = t.discover(env_tenant)
    assert discovery.names == ["Proactive Chat - chat"]
    assert discovery.by_name["Proactive Chat - chat"].queue.id == first.pk
    assert discovery.skipped[0].queue.id == second.pk and "already taken" in discovery.skipped[0].reason


# --- the goal's fallback chain ------------------------------------------------------------------------------


def test_goal_falls_back_from_queue_to_cluster_to_3(env_tenant):
    with_goal, without = queue(env_tenant, "With", goal="5"), queue(env_tenant, "Without")
    empty = queue(env_tenant, "Empty", goal="")  # an empty value counts as unset
    group(env_tenant, "G", with_goal, without, empty)
    d = t.discover(env_tenant)
    assert d.cluster is None
    assert [(x.name, x.goal_pct, x.goal_source) for x in d.targets] == [
        ("Empty - chat", 3.0, "default"), ("With - chat", 5.0, "queue"), ("Without - chat", 3.0, "default")]

    cluster = cluster_of(env_tenant, goal="7.5")
    d = t.discover(env_tenant)
    assert d.cluster == "Cluster"
    assert [(x.goal_pct, x.goal_source) for x in d.targets] == [(7.5, "cluster"), (5.0, "queue"), (7.5, "cluster")]

    other = cluster_of(env_tenant, goal="9", name="Another")  # passed in explicitly
    other.tenants.remove(env_tenant)
    assert [x.goal_pct for x in t.discover(env_tenant, other).targets] == [9.0, 5.0, 9.0]
    assert [x.goal_pct for x in t.discover(env_tenant).targets] == [7.5, 5.0, 7.5]

    cluster.options = {"pacing": {"optimizationGoal": "NaN"}}
    services.save_object(cluster)
    d = t.discover(env_tenant)
    assert [(x.goal_pct, x.goal_source) for x in d.targets] == [(3.0, "default"), (5.0, "queue"), (3.0, "default")]
    assert len(d.problems) == 1 and "Cluster 'Cluster'" in d.problems[0] and "NaN" in d.problems[0]


def test_the_demo_clusters_goal_is_the_fallback(demo):
    for q in VirtualQueue.objects.all():
        del q.options["pacing"]["optimizationGoal"]
        services.save_object(q)
    cluster = Application.objects.get(name="Pacing_Service_Cluster_9.0")
    cluster.options["pacing"]["optimizationGoal"] = "4"
    services.save_object(cluster)
    assert {(x.goal_pct, x.goal_source) for x in t.discover(demo).targets} == {(4.0, "cluster")}


def test_several_clusters_serving_a_tenant_are_noted(env_tenant):
    group(env_tenant, "G", queue(env_tenant, "Q"))
    cluster_of(env_tenant, goal="6", name="B_Cluster")
    cluster_of(env_tenant, goal="8", name="A_Cluster")
    d = t.discover(env_tenant)
    assert d.cluster == "A_Cluster" and d.targets[0].goal_pct == 8.0
    assert "Several Application Clusters" in d.problems[0]


def test_a_disabled_cluster_does_not_serve(env_tenant):
    group(env_tenant, "G", queue(env_tenant, "Q"))
    cluster = cluster_of(env_tenant, goal="6")
    cluster.state = State.DISABLED
    services.save_object(cluster)
    d = t.discover(env_tenant)
    assert d.cluster is None and d.targets[0].goal_pct == 3.0


# --- cost ---------------------------------------------------------------------------------------------------


def _bulk(tenant, count: int, prefix: str) -> None:
    media_types(tenant, "chat", "voice")
    switch = Switch.objects.get_or_create(tenant=tenant, name="MultiMediaSwitch")[0]
    queues = DN.objects.bulk_create([
        DN(tenant=tenant, switch=switch, number=f"{prefix}{i:04d}", dn_type=DNType.VIRTUAL_QUEUE,
           options={"pacing": {"media": ("chat", "voice", "chat,voice")[i % 3], "optimizationGoal": str(i % 7)}})
        for i in range(count)])
    groups = AgentGroup.objects.bulk_create([AgentGroup(tenant=tenant, name=f"{prefix}G{i:04d}")
                                             for i in range(count * 2)])
    OriginationDN.objects.bulk_create([OriginationDN(agent_group=g, dn=queues[i // 2]) for i, g in enumerate(groups)])


def test_constant_number_of_queries_whatever_the_size(env_tenant, other_tenant):
    cluster_of(env_tenant, goal="4")
    _bulk(env_tenant, 10, "small")
    _bulk(other_tenant, 10, "theirs")
    with CaptureQueriesContext(connection) as small:
        d_small = t.discover(env_tenant, use_cache=False)
    _bulk(env_tenant, 190, "large")
    with CaptureQueriesContext(connection) as large:
        d_large = t.discover(env_tenant, use_cache=False)
    assert len(d_small.targets) + len(d_small.skipped) == 10
    assert len(d_large.targets) + len(d_large.skipped) == 200
    assert len(d_large.skipped) == 3 + 63  # every third queue lists two media
    # queues, origination DNs, media types, cluster
    assert len(small.captured_queries) == len(large.captured_queries) == 4
    tenants = list(Tenant.objects.all())
    with CaptureQueriesContext(connection) as many:
        both = t.discover_many(tenants, use_cache=False)
    assert len(many.captured_queries) == 4 and len(both) == 2
    cluster = Application.objects.get(name="Cluster")
    with CaptureQueriesContext(connection) as passed:
        t.discover(env_tenant, cluster, use_cache=False)
    assert len(passed.captured_queries) == 3


# --- cache --------------------------------------------------------------------------------------------------


def test_cached_until_the_configuration_changes(env_tenant, django_assert_num_queries):
    q = queue(env_tenant, "Q")
    g = group(env_tenant, "G", q)
    first = t.discover(env_tenant)
    with django_assert_num_queries(1):  # the configuration version only
        assert t.discover(env_tenant) is first

    q.options = {"pacing": {"media": "voice"}}
    media_types(env_tenant, "voice")
    services.save_object(q)
    assert t.discover(env_tenant).names == ["Q - voice"]

    g2 = services.save_object(AgentGroup(tenant=env_tenant, name="G2"))
    q.origination_for.add(g2)  # a reverse many-to-many add: not in the history, caught by the local generation
    assert t.discover(env_tenant).targets[0].agent_group_names == ["G", "G2"]

    g.state = State.DISABLED
    services.save_object(g)
    assert t.discover(env_tenant).targets[0].agent_group_names == ["G2"]

    g2.delete()
    assert t.discover(env_tenant).names == []


def test_a_change_in_another_process_is_seen_through_the_history(env_tenant):
    q = queue(env_tenant, "Q")
    group(env_tenant, "G", q)
    media_types(env_tenant, "email")
    assert t.discover(env_tenant).names == ["Q - chat"]
    # What another process's write leaves here: a history row, no signal in this process.
    DN.objects.filter(pk=q.pk).update(options={"pacing": {"media": "email"}})
    assert t.discover(env_tenant).names == ["Q - chat"]  # no signal, no history row: still cached
    from configdb.history import record

    q.refresh_from_db()
    record(q, "update", None, None)
    assert t.discover(env_tenant).names == ["Q - email"]


def test_the_time_to_live_catches_writes_without_signals(env_tenant, settings):
    q = queue(env_tenant, "Q")
    group(env_tenant, "G", q)
    assert t.discover(env_tenant).names == ["Q - chat"]
    media_types(env_tenant, "email")
    DN.objects.filter(pk=q.pk).update(options={"pacing": {"media": "email"}})
    settings.PACING_TARGETS_CACHE_TTL_S = 0
    assert t.discover(env_tenant).names == ["Q - email"]


# --- option parsing -----------------------------------------------------------------------------------------


def test_parse_media_and_goal():
    assert t.parse_media("chat") == ("chat", None)
    assert t.parse_media(" voice ") == ("voice", None)
    assert t.parse_media("web-callback_2.0") == ("web-callback_2.0", None)
    assert t.parse_media("chat|voice")[0] is None
    assert t.parse_media(3)[0] is None
    assert t.parse_goal(None) == (None, None)
    assert t.parse_goal("  ") == (None, None)
    assert t.parse_goal("3") == (3.0, None)
    assert t.parse_goal("Infinity")[0] is None
