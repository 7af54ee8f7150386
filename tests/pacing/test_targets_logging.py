"""Discovery logs a skipped queue once per change of the row (or of its reason), not on every load."""

from __future__ import annotations

import logging

import pytest

from configdb import services
from configdb.models import DN, AgentGroup, Application, MediaType, Switch, VirtualQueue
from pacing import targets as t


@pytest.fixture(autouse=True)
def _fresh_cache():
    t.clear_cache()
    yield
    t.clear_cache()


def warnings(caplog) -> list[str]:
    found = [r.getMessage() for r in caplog.records if r.name == "pacing.targets" and r.levelno == logging.WARNING]
    caplog.clear()
    return found


@pytest.fixture
def legacy(env_tenant):
    """A queue with a goal discovery rejects, as a row written before the rule (Model.save, no validation)."""
    MediaType.objects.create(tenant=env_tenant, name="chat")
    switch = services.save_object(Switch(tenant=env_tenant, name="MultiMediaSwitch"))
    good = services.save_object(VirtualQueue(switch=switch, number="Good", alias="Good",
                                             options={"pacing": {"media": "chat"}}))
    bad = VirtualQueue(tenant=env_tenant, switch=switch, number="Old Queue", alias="Old Queue",
                       options={"pacing": {"media": "chat", "optimizationGoal": "abc"}})
    bad.save()
    group = services.save_object(AgentGroup(tenant=env_tenant, name="G"))
    group.origination_dns.add(good, bad)
    return bad


def test_two_discoveries_log_once_and_a_change_logs_again(env_tenant, legacy, caplog):
    caplog.set_level(logging.WARNING, logger="pacing.targets")
    for _ in range(2):
        discovery = t.discover(env_tenant, use_cache=False)
        assert [s.name for s in discovery.skipped] == ["Old Queue"]  # still skipped every time
    logged = warnings(caplog)
    assert len(logged) == 1
    assert "Virtual queue 'Old Queue'" in logged[0]
    assert "pacing/optimizationGoal: 'abc' is not a number between 0 and 100" in logged[0]

    # the row changes (its modified stamp), still bad: logged again, once
    legacy.options = {"pacing": {"media": "chat", "optimizationGoal": "150"}}
    legacy.save()
    t.discover(env_tenant, use_cache=False)
    t.discover(env_tenant, use_cache=False)
    logged = warnings(caplog)
    assert len(logged) == 1 and "'150' is not a number between 0 and 100 (it is above 100)" in logged[0]

    # a write that bypasses signals and the modified stamp changes the reason: logged again
    DN.objects.filter(pk=legacy.pk).update(options={"pacing": {"media": "fax"}})
    t.discover(env_tenant, use_cache=False)
    logged = warnings(caplog)
    assert len(logged) == 1 and "pacing/media: 'fax' is not a media type of tenant 'Environment'" in logged[0]

    # fixed, then broken again the same way: logged again (a new change of the row)
    legacy.refresh_from_db()
    legacy.options = {"pacing": {"media": "chat"}}
    services.save_object(legacy)
    assert "Old Queue - chat" in t.discover(env_tenant, use_cache=False).names
    assert warnings(caplog) == []
    DN.objects.filter(pk=legacy.pk).update(options={"pacing": {"media": "fax"}})
    t.discover(env_tenant, use_cache=False)
    assert len(warnings(caplog)) == 1


def test_clear_cache_forgets_what_was_logged(env_tenant, legacy, caplog):
    caplog.set_level(logging.WARNING, logger="pacing.targets")
    t.discover(env_tenant, use_cache=False)
    t.clear_cache()
    t.discover(env_tenant, use_cache=False)
    assert len(warnings(caplog)) == 2


def test_an_invalid_cluster_goal_is_logged_once_per_value(env_tenant, legacy, caplog):
    from tests.pacing.test_targets import cluster_of

    cluster_of(env_tenant, goal="abc")
    caplog.set_level(logging.WARNING, logger="pacing.targets")
    for _ in range(2):
        assert t.discover(env_tenant, use_cache=False).problems
    cluster_lines = [m for m in warnings(caplog) if m.startswith("Cluster")]
    assert len(cluster_lines) == 1
    cluster = Application.objects.get(name="Cluster")
    cluster.options = {"pacing": {"optimizationGoal": "-5"}}
    cluster.save()
    t.discover(env_tenant, use_cache=False)
    assert [m for m in warnings(caplog) if m.startswith("Cluster")] != []
