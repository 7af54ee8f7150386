"""bench/optimal.py: the pacing MDP's solver and evaluator, checked against an event-by-event simulation."""

from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def optimal():
    spec = importlib.util.spec_from_file_location("_bench_optimal", ROOT / "bench" / "optimal.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def simulate_policy(opt, mdp, level, events=300_000, seed=3):
    """The controlled chain event by event (Gillespie): time-average occupancy and abandoned / accepted."""
    rng = np.random.default_rng(seed)
    b = q = u = 0
    busy_time = total = 0.0
    accepted = abandoned = 0
    for _ in range(events):
        u = max(u, int(level[b, q]))
        rates = (mdp.mu * b, mdp.theta * q, mdp.delta * u)
        rate = sum(rates)
        dt = rng.exponential(1.0 / rate)
        busy_time += b * dt
        total += dt
        x = rng.random() * rate
        if x < rates[0]:                       # a completion: the next queued visitor, or a free agent
            if q:
                q -= 1
            else:
                b -= 1
        elif x < rates[0] + rates[1]:
            q -= 1
            abandoned += 1
        else:
            u -= 1
            if rng.random() < opt.P_ACCEPT:
                accepted += 1
                if b < mdp.n:
                    b += 1
                else:
                    q = min(q + 1, opt.QUEUE_MAX)
    return busy_time / total / mdp.n, abandoned / accepted


def test_evaluation_matches_an_event_simulation(optimal):
    mdp = optimal.TeamMDP(3)
    level = mdp.solve(300.0)
    occ, ab = mdp.evaluate(level)
    sim_occ, sim_ab = simulate_policy(optimal, mdp, level)
    assert abs(occ - sim_occ) < 0.01
    assert abs(ab - sim_ab) < 0.01


def test_never_sending_leaves_the_agents_idle(optimal):
    mdp = optimal.TeamMDP(2)
    occ, ab = mdp.evaluate(np.zeros((3, optimal.QUEUE_MAX + 1), dtype=np.int64))
    assert occ == 0.0 and ab == 0.0


def test_a_dearer_abandonment_buys_less_occupancy_and_less_abandonment(optimal):
    mdp = optimal.TeamMDP(5)
    cheap = mdp.evaluate(mdp.solve(100.0))
    dear = mdp.evaluate(mdp.solve(1000.0))
    assert cheap[0] > dear[0] and cheap[1] > dear[1]
    assert dear[1] < 0.01 < cheap[1]


def test_nothing_in_flight_while_every_agent_is_busy(optimal):
    """The finding docs/pacing.md builds on: small teams do not anticipate completions."""
    for n in (2, 5):
        mdp = optimal.TeamMDP(n)
        level = mdp.solve(300.0)
        assert level[n, 0] == 0
        assert np.all(np.diff(level[::-1, 0]) >= 0)          # more free agents, no fewer in flight


def test_policy_engine_sends_up_to_the_level(optimal):
    level = np.zeros((3, optimal.QUEUE_MAX + 1), dtype=np.int64)
    level[0, 0], level[1, 0] = 7, 4
    engine = optimal.policy_engine(level)
    state = SimpleNamespace(busy_agents=np.array([0.0, 1.0, 2.0, 1.0]), queued=np.array([0.0, 0.0, 3.0, 0.0]),
                            pending=np.array([2.0, 1.0, 0.0, 9.0]))
    assert engine(state).tolist() == [5, 3, 0, 0]


def test_prints_the_optimum(optimal):
    out = io.StringIO()
    with redirect_stdout(out):
        assert optimal.main(["--agents", "2", "--costs", "300"]) == 0
    assert "2 agents, c 300: optimum occ" in out.getvalue()


@pytest.mark.parametrize("argv, text", [
    (["--agents", "0"], "--agents: each value must be between 1 and 40"),
    (["--agents", "x"], "--agents: expected comma-separated numbers"),
    (["--costs", "-5"], "--costs: each value must be between 1 and 1e+06"),
    (["--seeds", "0", "--simulate"], "--seeds: must be between 1 and 50"),
])
def test_bad_options_are_named(optimal, argv, text):
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as exc:
        optimal.main(argv)
    assert exc.value.code == 2
    assert text in err.getvalue()
