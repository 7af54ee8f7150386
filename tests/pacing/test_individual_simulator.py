"""pacing.simulators.individual: determinism, conservation, log-outs, late statistics, and agreement with the
count simulator and with Erlang-A theory.

No timing assertions; every figure comes from a seeded simulation.

The theory the static-sender tests check (a Poisson stream of accepts, rate lam, into n agents with
exponential handle times, mean 1/mu, and exponential patience, mean 1/theta: the M/M/n+M queue of Palm,
1943, "Erlang A" in Garnett, Mandelbaum & Reiman, "Designing a call center with impatient customers",
M&SOM 4(3), 2002, eqs. (3.2)-(3.6); PACING-NOTES.md; ``pacing.queueing.erlang_a``):

    x = n mu / theta,  y = lam / theta,  A(x, y) = 1F1(1; x + 1; y) = sum_k y^k / ((x + 1) ... (x + k)),
    P(W > 0) = A E_B(n, lam/mu) / (1 + (A - 1) E_B(n, lam/mu)),
    P(Ab | W > 0) = 1 / (rho A) + 1 - 1/rho   (rho = lam / (n mu)),   P(Ab) = P(Ab | W > 0) P(W > 0),

and, by Little's law on the agents, occupancy = (lam / mu) (1 - P(Ab)) / n. A Poisson stream of accepts is
made by Poisson hot leads (rate lam / p_accept) all invited at once with independent response times: a
thinned Poisson process shifted by i.i.d. delays is Poisson (the output of an M/G/inf queue).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pacing.engine import TargetState
from pacing.queueing import erlang_a
from pacing.simulators.contact_centre import ContactCentre
from pacing.simulators.individual import PARAMS, IndividualCentre, weibull_scale


def world(seed=3, **kw) -> IndividualCentre:
    params = {"agents": np.array([1, 5, 20, 60]), "lead_rate": np.array([0.05, 0.2, np.inf, 2.0]),
              "handle_cv": np.array([0.0, 1.5, 0.5, 0.0]), "patience_shape": np.array([1.0, 0.5, 2.0, 1.0]),
              "response_min_s": 3.0, "stats_delay_s": np.array([0.0, 5.0, 10.0, 3.0])}
    params.update(kw)
    return IndividualCentre(seed=seed, **params)


def trajectory(cc: IndividualCentre, seconds: float) -> list:
    rows = []

    def record(sim, invitations):
        s = sim.target_state()
        rows.append((invitations.tolist(), sim.busy.tolist(), sim.queued.tolist(), sim.pending.tolist(),
                     s.ready_agents.tolist(), np.nan_to_num(s.aht_s).tolist()))

    cc.run(seconds, on_cycle=record)
    return rows


def check_conservation(cc: IndividualCentre) -> None:
    t = cc.totals()
    np.testing.assert_array_equal(t["accepted"], t["served"] + t["abandoned"] + t["queued"])
    np.testing.assert_array_equal(t["sent"], t["accepted"] + t["declined"] + t["expired"] + t["pending"])
    np.testing.assert_array_equal(t["served"], t["completed"] + t["busy"])
    assert np.all(cc.busy >= 0) and np.all(cc.queued >= 0) and np.all(cc.pending >= 0)
    assert np.all(cc.busy - cc.leaving <= cc.p["agents"])
    assert np.all(cc.ready() + cc.busy - cc.leaving == cc.p["agents"])
    assert np.all(t["busy_s"] <= t["present_s"] + 1e-6)


def over_invite(cc: IndividualCentre, cycles: int) -> None:
    """Invite more than the agents can take, so that visitors wait and abandon."""
    for _ in range(cycles):
        cc.invite(cc.ready() * 6 + 3)
        cc.advance(5)


# ---------------------------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------------------------

def test_same_seed_same_trajectory():
    a, b = world(seed=11), world(seed=11)
    for cc in (a, b):
        cc.schedule(600, agents=np.array([1, 2, 10, 30]))
        cc.drift([300, 900], p_accept=[0.3, 0.1], aht_s=[300.0, 450.0])
    assert trajectory(a, 1200) == trajectory(b, 1200)
    ta, tb = a.totals(), b.totals()
    for key in ta:
        np.testing.assert_array_equal(ta[key], tb[key])


def test_other_seed_other_trajectory():
    assert trajectory(world(seed=1), 600) != trajectory(world(seed=2), 600)


# ---------------------------------------------------------------------------------------------------------------
# conservation and the individual times
# ---------------------------------------------------------------------------------------------------------------

def test_conservation_holds_throughout():
    cc = world(seed=5, patience_s=20.0)
    cc.schedule(900, agents=np.array([0, 2, 10, 30]))
    cc.schedule(1500, agents=np.array([2, 6, 25, 70]))
    for _ in range(12):
        over_invite(cc, 30)
        check_conservation(cc)
    t = cc.totals()
    assert t["abandoned"].sum() > 0 and t["served"].sum() > 0 and t["declined"].sum() > 0 and t["expired"].sum() > 0
    assert np.all(t["leads"][[0, 1, 3]] > 0) and np.all(t["sent"][[0, 1]] <= t["leads"][[0, 1]] + 60)


def test_nobody_answers_before_the_minimum_response_time():
    cc = IndividualCentre(agents=5, seed=2, response_min_s=8.0, accept_delay_s=20.0)
    cc.invite(50)
    cc.advance(7.9)
    assert cc.pending[0] == 50 and cc.totals()["accepted"][0] == 0
    cc.advance(200)
    t = cc.totals()
    assert cc.pending[0] == 0 and t["accepted"][0] > 0


def test_handle_times_have_the_configured_mean():
    cc = IndividualCentre(agents=np.array([30, 30, 30]), aht_s=120.0, handle_cv=np.array([0.0, 0.5, 1.5]),
                          seed=8, patience_s=1e6)
    for _ in range(720):                            # keep everyone busy: a queue of patient visitors
        cc.invite(np.maximum(0, 60 - cc.queued - cc.pending // 3))
        cc.advance(5)
    t = cc.totals()
    assert np.all(t["busy_s"] / t["present_s"] > 0.95)
    aht = t["handle_s"] / t["completed"]
    np.testing.assert_allclose(aht, 120.0, rtol=0.08)


def test_weibull_scale_gives_the_mean():
    assert weibull_scale(60.0, 1.0) == pytest.approx(60.0)
    for shape in (0.5, 2.0):
        draws = weibull_scale(60.0, shape) * np.random.default_rng(1).weibull(shape, 200_000)
        assert draws.mean() == pytest.approx(60.0, rel=0.02)


def test_heavy_tailed_patience_abandons_more_in_short_waits():
    """Same mean patience: a heavy tail (Weibull shape 0.5) makes more visitors leave early than a light one."""
    cc = IndividualCentre(agents=np.array([10, 10]), patience_s=60.0, patience_shape=np.array([0.5, 3.0]),
                          seed=4, aht_s=120.0)
    over_invite(cc, 360)
    t = cc.totals()
    ratio = t["abandoned"] / t["accepted"]
    assert ratio[0] > ratio[1] > 0


# ---------------------------------------------------------------------------------------------------------------
# log-ins and log-outs
# ---------------------------------------------------------------------------------------------------------------

def test_busy_agents_finish_their_chat_before_logging_out():
    cc = IndividualCentre(agents=10, seed=1, aht_s=600.0, patience_s=1e6)
    while cc.busy[0] < 10:
        cc.invite(20)
        cc.advance(5)
    cc.invite(0)
    completed = cc.totals()["completed"][0]
    cc.set(agents=4)
    assert cc.leaving[0] == 6 and cc.busy[0] == 10 and cc.ready()[0] == 0
    queued = cc.queued[0]
    assert queued > 0
    served = cc.totals()["served"][0]
    for _ in range(600):
        cc.advance(1)
        t = cc.totals()
        # a chat ending while agents are still leaving is a leaving agent's: nobody new is served
        if cc.leaving[0] == 6 - (t["completed"][0] - completed) and cc.leaving[0] > 0:
            assert t["served"][0] == served
    cc.advance(20000)
    assert cc.leaving[0] == 0 and cc.busy[0] <= 4 and cc.ready()[0] + cc.busy[0] == 4
    check_conservation(cc)


def test_idle_agents_log_out_first_and_logins_add_capacity():
    cc = IndividualCentre(agents=10, seed=1)
    cc.set(agents=6)
    assert cc.leaving[0] == 0 and cc.ready()[0] == 6
    cc.schedule(10, agents=12)
    cc.advance(11)
    assert cc.ready()[0] + cc.busy[0] - cc.leaving[0] == 12


def test_shift_start_drift_logs_agents_in_over_time():
    cc = IndividualCentre(agents=0, seed=1)
    cc.drift([0, 1200], agents=[0, 100])
    cc.advance(600)
    assert 45 <= cc.p["agents"][0] <= 55
    cc.advance(700)
    assert cc.p["agents"][0] == 100
    t = cc.totals()
    assert t["present_s"][0] == pytest.approx(100 * 1200 / 2 + 100 * 100, rel=0.02)


def test_accept_ratio_drift_reaches_the_answers():
    cc = IndividualCentre(agents=1000, seed=3, aht_s=5.0)
    cc.drift([0, 3600, 7200], p_accept=[0.3, 0.1, 0.3])
    rates = []
    for start in (0, 3000, 6000):                     # 20-minute bands: the start, around the low, the end
        cc.advance(start - cc.now_s)
        before = cc.totals()
        for _ in range(240):
            cc.invite(20)
            cc.advance(5)
        after = cc.totals()
        resolved = sum(after[k][0] - before[k][0] for k in ("accepted", "declined", "expired"))
        rates.append((after["accepted"][0] - before["accepted"][0]) / resolved)
    assert rates[0] == pytest.approx(0.267, abs=0.025)   # 0.3 -> 0.267 over the first 20 minutes
    assert rates[1] == pytest.approx(0.117, abs=0.025)   # 0.133 -> 0.1 -> 0.133 around the hour
    assert rates[2] == pytest.approx(0.267, abs=0.025)   # back: 0.233 -> 0.3


# ---------------------------------------------------------------------------------------------------------------
# the statistics: late, windowed, AHT over the window; the closed loop
# ---------------------------------------------------------------------------------------------------------------

def test_stats_delay_really_delays():
    """The same seed with and without a delay: the late target sees the live one's figures of 10 s before."""
    live = IndividualCentre(agents=8, seed=6, stats_delay_s=0.0, aht_s=60.0)
    late = IndividualCentre(agents=8, seed=6, stats_delay_s=10.0, aht_s=60.0)
    history, sent, pending = [], [], []
    for k in range(200):
        obs_live, obs_late = live.observed(), late.observed()      # before this interval's invitations
        history.append(obs_live)
        sent.append(live.totals()["sent"][0])
        pending.append(live.pending[0])
        np.testing.assert_array_equal(live.pending, late.pending)        # from GPE: current
        if k >= 2:
            then = history[k - 2]                                        # 10 s ago
            for key in ("ready", "busy", "queued", "accepted", "abandoned", "sent", "completed"):
                np.testing.assert_array_equal(obs_late[key], then[key], err_msg=key)
            np.testing.assert_array_equal(np.nan_to_num(obs_late["aht_s"]), np.nan_to_num(then["aht_s"]))
            assert late.target_state().stats_age_s[0] == 10.0
            assert late.sent_since_snapshot()[0] == sent[k] - sent[k - 2]
            state = late.target_state()
            assert state.pending_at_snapshot[0] == pending[k - 2]                # GPE's reply then
            assert state.sent_since_snapshot[0] == sent[k] - sent[k - 2]
        assert live.target_state().stats_age_s[0] == 0.0
        counts = 3 + (k % 4)                          # open loop: both worlds follow the same trajectory
        for cc in (live, late):
            cc.invite(counts)
            cc.advance(5)
    assert sum(h["queued"][0] > 0 for h in history) > 5 and history[-1]["completed"][0] > 0


def test_sent_since_snapshot_counts_the_late_invitations():
    cc = IndividualCentre(agents=5, seed=1, stats_delay_s=10.0)
    cc.advance(30)
    cc.invite(4)
    cc.advance(5)
    cc.invite(3)
    assert cc.sent_since_snapshot()[0] == 7
    cc.advance(11)
    assert cc.sent_since_snapshot()[0] == 0


def test_aht_is_over_the_windows_completed_chats():
    cc = IndividualCentre(agents=20, seed=2, aht_s=100.0, window_s=300.0)
    assert math.isnan(cc.target_state().aht_s[0])               # nothing completed yet: unknown
    before = cc.totals()
    for _ in range(60):
        cc.invite(np.maximum(0, cc.ready() - cc.pending // 3))
        cc.advance(5)
    obs = cc.observed()
    assert obs["completed"][0] > 20
    assert 50 < obs["aht_s"][0] < 200
    cc.set(aht_s=1000.0)                                          # no chat completes for a while
    for _ in range(80):
        cc.invite(0)
        cc.advance(5)
    obs = cc.observed()
    t = cc.totals()
    if obs["completed"][0] == 0:                                   # falls back to every chat completed so far
        assert obs["aht_s"][0] == pytest.approx((t["handle_s"][0] - before["handle_s"][0]) / t["completed"][0])
    assert cc.window()["sent"][0] == 0


def test_window_aht_is_biased_low_at_a_cold_start_and_the_censored_one_is_not():
    kw = {"agents": 200, "aht_s": 300.0, "seed": 1}
    naive, censored = IndividualCentre(**kw), IndividualCentre(aht_stat="censored", **kw)
    for cc in (naive, censored):
        cc.invite(1000)
        cc.advance(150)
    assert naive.observed()["aht_s"][0] < 0.5 * 300
    assert 0.6 * 300 < censored.observed()["aht_s"][0] < 1.5 * 300
    with pytest.raises(ValueError):
        IndividualCentre(aht_stat="median")


def test_target_state_from_observed_statistics():
    cc = world()
    s = cc.target_state()
    assert isinstance(s, TargetState)
    assert s.ready_agents.tolist() == [1, 5, 20, 60] and np.all(np.isnan(s.aht_s))      # cold start
    assert np.all(s.accepted == 0) and s.interval_s == 5.0
    cc.run(1800)
    s = cc.target_state()
    np.testing.assert_array_equal(s.stats_age_s, [0.0, 5.0, 10.0, 3.0])
    obs = cc.observed()
    np.testing.assert_array_equal(s.accepted, obs["accepted"])
    np.testing.assert_array_equal(s.pending, cc.pending)
    live = cc.window()
    assert s.accepted[0] == live["accepted"][0]                # delay 0: live
    assert s.patience_s.tolist() == [60.0] * 4
    assert cc.target_state(know_times=False).patience_s is None
    assert set(PARAMS) >= {"stats_delay_s", "patience_shape", "handle_cv", "response_min_s"}


def test_closed_loop_with_the_engine_runs_and_conserves():
    cc = world(seed=21)
    cc.run(1800)
    check_conservation(cc)
    assert cc.totals()["served"].sum() > 100


def test_add_targets_and_schedule_subset():
    cc = IndividualCentre(0, names=[], seed=1)
    assert cc.size == 0
    cc.run(10)
    idx = cc.add_targets(["a", "b"], agents=[3, 7], aht_s=[200.0, 4000.0], stats_delay_s=[0.0, 120.0])
    assert idx.tolist() == [0, 1] and cc.names == ["a", "b"]
    cc.schedule(20, targets=[1], agents=2)
    cc.run(300)
    assert cc.p["agents"].tolist() == [3, 2]
    assert cc.target_state().stats_age_s.tolist() == [0.0, 120.0]
    check_conservation(cc)
    with pytest.raises(TypeError):
        cc.schedule(5, agnets=3)


class FakeStore:
    def __init__(self):
        self.batches = []

    def put_many(self, snapshots):
        self.batches.append(list(snapshots))


def test_feed_puts_one_late_snapshot_per_target():
    cc = IndividualCentre(names=["Proactive Chat - chat", "Proactive Voice - voice"], agents=[4, 3], seed=1,
                          stats_delay_s=[0.0, 10.0])
    store = FakeStore()
    cc.run(600, store=store)
    assert len(store.batches) == 120
    snaps = cc.snapshots(taken_at=1000.0)
    assert [s.taken_at for s in snaps] == [1000.0, 990.0]
    assert snaps[0].ready_agents == cc.ready()[0] and snaps[0].current == cc.queued[0]


# ---------------------------------------------------------------------------------------------------------------
# the exponential case against the count simulator and against Erlang A (a static Poisson sender)
# ---------------------------------------------------------------------------------------------------------------

def static_poisson(cls, seed: int, agents: int, targets: int, lam: float, aht: float, patience: float,
                   seconds: float, warmup: float = 1200.0) -> tuple[float, float, int]:
    """Poisson accepts at ``lam`` per second into ``agents`` agents: P(Ab) and occupancy after a warm-up."""
    p_accept = 0.5
    cc = cls(agents=np.full(targets, agents), seed=seed, aht_s=aht, patience_s=patience, p_accept=p_accept,
             accept_delay_s=10.0, lead_rate=lam / p_accept, lead_lifetime_s=1.0, initial_leads=False)
    cc.invite(np.full(targets, 10**9), valid_s=warmup + seconds + 1e6)
    cc.advance(warmup)
    before = cc.totals()
    cc.advance(seconds)
    after = cc.totals()
    d = {k: (after[k] - before[k]).sum() for k in ("accepted", "abandoned", "busy_s", "present_s")}
    return d["abandoned"] / d["accepted"], d["busy_s"] / d["present_s"], int(d["accepted"])


CASES = [   # agents, accepts per second, AHT, mean patience: loads from light to overloaded
    (1, 0.8 / 60, 60.0, 30.0),
    (5, 4.0 / 60, 60.0, 60.0),
    (20, 18.0 / 60, 60.0, 45.0),
]


@pytest.mark.parametrize(("agents", "lam", "aht", "patience"), CASES)
def test_static_poisson_sender_matches_erlang_a(agents, lam, aht, patience):
    theory = erlang_a(agents, lam, 1.0 / aht, 1.0 / patience)
    p_ab_theory = float(theory.p_abandon)
    occ_theory = lam * aht * (1.0 - p_ab_theory) / agents
    p_ab, occ, accepted = static_poisson(IndividualCentre, 17, agents, 20 if agents < 20 else 8, lam, aht,
                                         patience, 8 * 3600.0)
    assert accepted > 5000
    # tolerance: about 4 standard errors of a ratio over ~20-50k correlated accepts, and a floor
    assert p_ab == pytest.approx(p_ab_theory, rel=0.06, abs=0.004)
    assert occ == pytest.approx(occ_theory, rel=0.02)


def test_exponential_case_reproduces_the_count_simulator():
    """Same static Poisson sender in both simulators (exponential times, no delay): the same figures within
    noise (the count simulator's 1 s steps round handle times to whole seconds)."""
    agents, lam, aht, patience = 10, 9.0 / 60, 60.0, 40.0
    ind = static_poisson(IndividualCentre, 5, agents, 30, lam, aht, patience, 2 * 3600.0)
    cnt = static_poisson(ContactCentre, 5, agents, 30, lam, aht, patience, 2 * 3600.0)
    assert ind[2] > 20000 and cnt[2] > 20000
    assert ind[0] == pytest.approx(cnt[0], rel=0.12, abs=0.005)
    assert ind[1] == pytest.approx(cnt[1], rel=0.03)


def test_exponential_case_in_a_closed_loop_is_close_to_the_count_simulator():
    """The engine driving both: the same team and parameters give abandonment and occupancy close together."""
    figures = []
    for cls in (IndividualCentre, ContactCentre):
        cc = cls(agents=np.full(18, 30), seed=9, lead_rate=np.inf)
        cc.run(1200)
        before = cc.totals()
        cc.run(3600)
        after = cc.totals()
        d = {k: (after[k] - before[k]).sum() for k in ("accepted", "abandoned", "busy_s", "present_s")}
        figures.append((d["abandoned"] / d["accepted"], d["busy_s"] / d["present_s"]))
    (ab_i, occ_i), (ab_c, occ_c) = figures
    assert abs(ab_i - ab_c) < 0.01
    assert occ_i == pytest.approx(occ_c, abs=0.03)
