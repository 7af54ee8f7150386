"""pacing.simulators.contact_centre: determinism, conservation, log-outs, the closed loop and the stats feed.

No timing assertions; every figure comes from a seeded simulation.
"""

from __future__ import annotations

import importlib.util
import io
import math
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from pacing.engine import TargetState
from pacing.simulators.contact_centre import ContactCentre, erlang_a_occupancy_bound

ROOT = Path(__file__).resolve().parents[2]


def world(seed=3, **kw) -> ContactCentre:
    params = {"agents": np.array([1, 5, 20, 60]), "lead_rate": np.array([0.05, 0.2, np.inf, 2.0])}
    params.update(kw)
    return ContactCentre(seed=seed, **params)


def trajectory(cc: ContactCentre, seconds: float) -> list:
    rows = []

    def record(sim, invitations):
        rows.append((invitations.tolist(), sim.busy.tolist(), sim.queued.tolist(), sim.pending.tolist(),
                     sim.leads.tolist()))

    cc.run(seconds, on_cycle=record)
    return rows


def check_conservation(cc: ContactCentre) -> None:
    t = cc.totals()
    np.testing.assert_array_equal(t["accepted"], t["served"] + t["abandoned"] + t["queued"])
    np.testing.assert_array_equal(t["sent"], t["accepted"] + t["declined"] + t["expired"] + t["pending"])
    np.testing.assert_array_equal(t["served"], t["completed"] + t["busy"])
    assert np.all(cc.busy >= 0) and np.all(cc.queued >= 0) and np.all(cc.pending >= 0) and np.all(cc.leads >= 0)
    assert np.all(cc.busy - cc.leaving <= cc.p["agents"])


# ---------------------------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------------------------

def test_same_seed_same_trajectory():
    a, b = world(seed=11, handle_sigma=np.array([0, 0.8, 0, 0.8])), world(seed=11, handle_sigma=[0, 0.8, 0, 0.8])
    for cc in (a, b):
        cc.schedule(600, agents=np.array([1, 2, 10, 30]))
    assert trajectory(a, 1200) == trajectory(b, 1200)
    ta, tb = a.totals(), b.totals()
    for key in ta:
        np.testing.assert_array_equal(ta[key], tb[key])


def test_other_seed_other_trajectory():
    assert trajectory(world(seed=1), 600) != trajectory(world(seed=2), 600)


# ---------------------------------------------------------------------------------------------------------------
# conservation and accounting
# ---------------------------------------------------------------------------------------------------------------

def test_conservation_holds_throughout():
    cc = world(seed=5, patience_s=20.0, handle_sigma=np.array([0.0, 0.6, 0.0, 1.0]))
    cc.schedule(900, agents=np.array([0, 2, 10, 30]))
    cc.schedule(1500, agents=np.array([2, 6, 25, 70]))
    for _ in range(12):
        # over-invite on purpose so that visitors wait and abandon
        for _ in range(30):
            cc.invite(cc.ready() * 6 + 3)
            cc.advance(5)
        check_conservation(cc)
    t = cc.totals()
    assert t["abandoned"].sum() > 0 and t["served"].sum() > 0 and t["declined"].sum() > 0 and t["expired"].sum() > 0
    assert np.all(t["busy_s"] <= t["present_s"])


def test_abandonment_only_while_waiting():
    """Agents always free (few invitations): nobody waits, nobody abandons."""
    cc = ContactCentre(agents=50, seed=2, lead_rate=np.inf)
    for _ in range(240):
        cc.invite(1)
        cc.advance(5)
    t = cc.totals()
    assert t["abandoned"][0] == 0
    assert t["accepted"][0] == t["served"][0] > 0


def test_leads_limit_invitations():
    cc = ContactCentre(agents=10, seed=4, lead_rate=0.1, lead_lifetime_s=30.0, initial_leads=False)
    for _ in range(120):
        cc.invite(100)
        cc.advance(5)
    t = cc.totals()
    assert t["sent"][0] <= t["leads"][0]
    assert t["sent"][0] > 0.5 * t["leads"][0]           # most leads get invited while they are on the site


def test_allowance_lapses_after_its_interval():
    cc = ContactCentre(agents=10, seed=4, lead_rate=0.5, lead_lifetime_s=600.0, initial_leads=False)
    cc.invite(1000, valid_s=5)
    cc.advance(5)
    sent = cc.totals()["sent"][0]
    cc.advance(100)
    assert cc.totals()["sent"][0] == sent            # no new invitation once the interval is over


def test_occupancy_accounting_and_handle_times():
    cc = ContactCentre(agents=np.array([20, 20]), aht_s=120.0, handle_sigma=np.array([0.0, 0.9]), seed=8,
                       lead_rate=np.inf, patience_s=1e6)
    for _ in range(720):                            # keep everyone busy: a long queue of patient visitors
        cc.invite(np.maximum(0, 40 - cc.queued))
        cc.advance(5)
    t = cc.totals()
    occupancy = t["busy_s"] / t["present_s"]
    assert np.all(occupancy > 0.95)
    aht = t["handle_s"] / t["completed"]
    assert np.all(np.abs(aht / 120.0 - 1) < 0.1)    # exponential and lognormal, both with mean 120 s
    np.testing.assert_allclose(cc.observed_aht(), t["busy_s"] / t["completed"])


def test_naive_aht_is_biased_low_at_a_cold_start():
    kw = {"agents": 200, "aht_s": 300.0, "seed": 1, "lead_rate": np.inf}
    naive, censored = ContactCentre(aht_stat="completed", **kw), ContactCentre(aht_stat="censored", **kw)
    for cc in (naive, censored):
        cc.invite(1000)
        cc.advance(120)
    assert naive.observed_aht()[0] < 0.5 * 300
    assert 0.6 * 300 < censored.observed_aht()[0] < 1.5 * 300


# ---------------------------------------------------------------------------------------------------------------
# log-ins and log-outs
# ---------------------------------------------------------------------------------------------------------------

def test_agents_logging_out_reduce_capacity():
    def served_after(logout: bool) -> tuple[int, float, ContactCentre]:
        cc = ContactCentre(agents=np.array([40, 40]), seed=9, lead_rate=np.inf)
        if logout:
            cc.schedule(1800, agents=20)
        cc.run(1800)
        before = cc.totals()
        cc.run(3600)
        after = cc.totals()
        return int((after["served"] - before["served"]).sum()), float(
            (after["present_s"] - before["present_s"]).sum()), cc

    full, full_present, _ = served_after(False)
    half, half_present, cc = served_after(True)
    assert half < 0.7 * full
    assert half_present < 0.6 * full_present
    assert np.all(cc.p["agents"] == 20)
    assert np.all(cc.busy <= 20) and np.all(cc.leaving == 0)     # the leaving agents have finished
    assert np.all(cc.ready() + cc.busy <= 20)
    check_conservation(cc)


def test_busy_agents_finish_before_leaving():
    cc = ContactCentre(agents=10, seed=1, lead_rate=np.inf, aht_s=600.0, patience_s=1e6)
    while cc.busy[0] < 10:
        cc.invite(20)
        cc.advance(5)
    cc.set(agents=4)
    assert cc.leaving[0] == 6 and cc.busy[0] == 10 and cc.ready()[0] == 0
    queued = cc.queued[0]
    cc.advance(1)
    assert cc.queued[0] <= queued                    # nobody new was taken by a leaving agent
    cc.advance(6000)
    assert cc.leaving[0] == 0 and cc.busy[0] <= 4


def test_idle_agents_log_out_first_and_logins_add_capacity():
    cc = ContactCentre(agents=10, seed=1, lead_rate=np.inf)
    cc.set(agents=6)
    assert cc.leaving[0] == 0 and cc.ready()[0] == 6
    cc.schedule(10, agents=12)
    cc.advance(11)
    assert cc.ready()[0] + cc.busy[0] - cc.leaving[0] == 12


# ---------------------------------------------------------------------------------------------------------------
# the closed loop with the engine, and the stats feed
# ---------------------------------------------------------------------------------------------------------------

def test_target_state_from_observed_statistics():
    cc = world()
    s = cc.target_state()
    assert isinstance(s, TargetState)
    assert s.ready_agents.tolist() == [1, 5, 20, 60] and np.all(np.isnan(s.aht_s))      # cold start
    assert np.all(s.accepted == 0) and s.interval_s == 5.0
    cc.run(1800)
    s = cc.target_state()
    w = cc.window()
    np.testing.assert_array_equal(s.accepted, w["accepted"])
    np.testing.assert_array_equal(s.ready_agents + s.busy_agents, cc.p["agents"] + cc.leaving)
    assert np.all(np.isfinite(s.aht_s[1:]))
    assert s.patience_s.tolist() == [60.0] * 4
    assert cc.target_state(know_times=False).patience_s is None


def test_window_forgets_old_events():
    cc = ContactCentre(agents=10, seed=3, lead_rate=np.inf, window_s=60)
    cc.run(300)
    cc.invite(0)
    sent_before = cc.totals()["sent"][0]
    assert sent_before > 0
    for _ in range(30):                              # no invitation for longer than the window
        cc.invite(0)
        cc.advance(5)
    assert cc.window()["sent"][0] == 0


def test_closed_loop_meets_the_goal_for_a_large_team():
    cc = ContactCentre(agents=np.array([80, 80]), seed=21, lead_rate=np.inf)
    cc.run(1200)
    before = cc.totals()
    cc.run(3600)
    after = cc.totals()
    accepted = (after["accepted"] - before["accepted"]).sum()
    abandoned = (after["abandoned"] - before["abandoned"]).sum()
    occupancy = (after["busy_s"] - before["busy_s"]).sum() / (after["present_s"] - before["present_s"]).sum()
    assert accepted > 1000
    assert abandoned / accepted < 0.05
    assert occupancy > 0.8


class FakeStore:
    def __init__(self):
        self.batches = []

    def put_many(self, snapshots):
        self.batches.append(list(snapshots))


def test_feed_puts_one_snapshot_per_target():
    cc = ContactCentre(names=["Proactive Chat - chat", "Proactive Voice - voice"], agents=[4, 3], seed=1)
    store = FakeStore()
    cc.run(600, store=store)
    assert len(store.batches) == 120
    last = store.batches[-1]
    assert [s.target for s in last] == ["Proactive Chat - chat", "Proactive Voice - voice"]
    w = cc.window()
    s = cc.snapshots(taken_at=1234.5)[1]
    assert s.taken_at == 1234.5
    assert s.ready_agents == int(cc.ready()[1]) and s.busy_agents == int(cc.busy[1])
    assert s.current == int(cc.queued[1]) and s.accepted == int(w["accepted"][1])
    assert s.abandoned == int(w["abandoned"][1]) and s.sent == int(w["sent"][1])
    assert s.declined == int(w["declined"][1]) and s.expired == int(w["expired"][1])
    assert math.isfinite(s.aht_s) or math.isnan(s.aht_s)
    assert type(s).__name__ == "StatsSnapshot"
    assert cc.feed(store) == 2


def test_feed_before_any_history_has_no_aht():
    snaps = ContactCentre(agents=3, seed=1).snapshots()
    assert math.isnan(snaps[0].aht_s) and snaps[0].accepted == 0


def test_add_targets_and_schedule_subset():
    cc = ContactCentre(0, names=[], seed=1)
    assert cc.size == 0
    cc.run(10)                                       # nothing to simulate, nothing breaks
    idx = cc.add_targets(["a", "b"], agents=[3, 7], aht_s=[200.0, 4000.0])
    assert idx.tolist() == [0, 1] and cc.names == ["a", "b"]
    assert cc.horizon >= 8 * 4000
    cc.schedule(20, targets=[1], agents=2)
    cc.run(60)
    assert cc.p["agents"].tolist() == [3, 2]
    check_conservation(cc)
    with pytest.raises(TypeError):
        cc.schedule(5, agnets=3)


def test_erlang_a_occupancy_bound():
    bound = erlang_a_occupancy_bound([0, 1, 10, 100], 300.0, 60.0, 3.0)
    assert bound[0] == 0.0
    assert 0.03 < bound[1] < 0.04                   # one agent: ~3.6 %
    assert 0.55 < bound[2] < 0.65
    assert 0.9 < bound[3] < 0.93
    assert np.all(np.diff(bound) > 0)


def test_quality_bench_runs_briefly():
    spec = importlib.util.spec_from_file_location("_bench_quality", ROOT / "bench" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    out = io.StringIO()
    with redirect_stdout(out):
        assert module.main(["--only", "steady,late,mixed", "--scale", "0.03", "--mixed-targets", "20", "--seeds", "1",
                            "--jobs", "1"]) == 0
    text = out.getvalue()
    for name in ("steady", "late", "mixed"):
        assert f"## {name} -- count simulator" in text and f"## {name} -- individual simulator" in text
    assert "occ/ref" in text and "CV inv" in text and "hold one by one" in text
    assert "PASS" in text or "MISS" in text


class _MiniRedis:
    """The few Redis hash calls StatsStore makes, in memory."""

    def __init__(self):
        self.hashes = {}

    def pipeline(self, transaction=True):
        return self

    def hset(self, key, mapping):
        self.hashes.setdefault(key, {}).update(mapping)

    def expire(self, key, seconds):
        pass

    def execute(self):
        return []

    def hmget(self, key, names):
        return [self.hashes.get(key, {}).get(n) for n in names]


def test_round_trip_through_the_stats_store():
    stats = pytest.importorskip("pacing.stats")
    store = stats.StatsStore(1, redis=_MiniRedis())
    cc = ContactCentre(names=["Proactive Chat - chat", "Proactive Voice - voice"], agents=[4, 30], seed=2)
    assert cc.feed(store, taken_at=1000.0) == 2               # cold start: AHT unknown
    got = store.get_many(cc.names)
    assert math.isnan(got["Proactive Chat - chat"].aht_s)
    cc.run(900)
    cc.feed(store)
    got = store.get_many(cc.names)
    voice = got["Proactive Voice - voice"]
    assert voice.ready_agents == cc.ready()[1] and voice.busy_agents == cc.busy[1]
    assert voice.accepted == cc.window()["accepted"][1] and voice.aht_s == pytest.approx(cc.observed_aht()[1])
    arrays, stale = store.state_for(cc.names)
    assert stale == []
    np.testing.assert_array_equal(arrays["queued"], cc.queued)
