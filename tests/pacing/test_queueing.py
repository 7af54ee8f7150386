"""pacing.queueing against published numbers, exact identities and property tests.

Every published figure is quoted with its source, the source's stated inputs and the precision it
was printed with; we compare to 4 significant digits (or to the tolerance the source itself asserts).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacing import queueing as q


def sig4(value, expected):
    """Equal to 4 significant digits."""
    assert float(value) == pytest.approx(expected, rel=5e-4), (value, expected)


# ---------------------------------------------------------------------------------------------------------------
# Published numbers
# ---------------------------------------------------------------------------------------------------------------

def test_cran_erlangc_readme_example():
    """CRAN package ErlangC (github.com/cran/ErlangC, README.md and tests/testthat/test-erlang_c.R):
    erlang_c(100 calls, 30 minutes, AHT 180 s, target 20 s, 14 agents) prints traffic_intensity 10,
    wait_probability 0.1741319, service_level 0.88835, average_speed_of_answer 7.83593701177724 s,
    immediate_answer_probability 0.8258681, occupancy 0.7142857."""
    a = 100 / 1800 * 180
    assert a == pytest.approx(10.0)
    sig4(q.erlang_c(14, a), 0.1741319)
    sig4(q.erlang_c_service_level(14, a, 180, 20), 0.88835)
    sig4(q.erlang_c_asa(14, a, 180), 7.83593701177724)
    sig4(1 - q.erlang_c(14, a), 0.8258681)
    sig4(a / 14, 0.7142857)


@pytest.mark.parametrize(("n", "wait", "sl", "asa"), [
    (11, 0.6821182, 0.3896138, 122.78127684408),
    (12, 0.4493882, 0.640158, 40.4449401868444),
    (13, 0.2852705, 0.7955948, 17.1162271821896),
])
def test_cran_erlangc_readme_calculate_agents_process(n, wait, sl, asa):
    """CRAN ErlangC README, calculate_agents(100 calls / 30 min, AHT 180 s, 20 s, ...) prints the
    $process table for 11..13 agents (wait_probability, service_level, average_speed_of_answer)."""
    sig4(q.erlang_c(n, 10.0), wait)
    sig4(q.erlang_c_service_level(n, 10.0, 180, 20), sl)
    sig4(q.erlang_c_asa(n, 10.0, 180), asa)


@pytest.mark.parametrize(("calls", "interval", "aht", "agents", "target", "p_wait_pct", "asa", "sl_pct"), [
    (360, 1800, 240, 55, 15, 23.87, 8.2, 84.59),
    (300, 900, 180, 65, 45, 42.01, 15.1, 87.96),
    (650, 3600, 150, 34, 30, 14.30, 3.1, 96.41),
    (20, 3600, 1800, 11, 3600, 68.21, 1227.8, 90.77),
])
def test_pyerlang_readme_typical_output(calls, interval, aht, agents, target, p_wait_pct, asa, sl_pct):
    """pyErlang (github.com/AntonioGallego/pyErlang) README "Typical Output"; inputs from pyErlang.py
    (calls, interval s, average call time s, agents, target answer time s). It prints P(wait) and the
    service level in percent to 2 decimals (4 significant digits) and the ASA to 1 decimal."""
    a = calls / interval * aht
    assert 100 * q.erlang_c(agents, a) == pytest.approx(p_wait_pct, abs=0.005)
    assert 100 * q.erlang_c_service_level(agents, a, aht, target) == pytest.approx(sl_pct, abs=0.005)
    assert q.erlang_c_asa(agents, a, aht) == pytest.approx(asa, abs=0.05)


@pytest.mark.parametrize(("m", "nw", "resp"), [(2, 7.674, 1.053), (4, 0.105, 0.212)])
def test_octave_queueing_qsmmm(m, nw, resp):
    """Octave `queueing` package (github.com/mmarzolla/queueing, inst/qsmmm.m) %!test blocks: M/M/m with
    lambda = 9, mu = 5: number waiting NW = lambda * W and response time R, asserted there with
    absolute tolerance 1e-3 (source cited there: ETH Zurich ASL 2017 slides on M/M/x queues)."""
    lam, mu = 9.0, 5.0
    lq = q.erlang_c_queue_length(m, lam / mu)
    assert lq == pytest.approx(nw, abs=1e-3)
    assert lq / lam + 1 / mu == pytest.approx(resp, abs=1e-3)


def test_pyworkforce_erlang_a_regression():
    """pyworkforce (github.com/rodrigo-arenas/pyworkforce, pyworkforce/queuing/tests/test_abandonment.py,
    test_erlanga_regression_metrics): ErlangA(transactions=100, interval=30 min, aht=3 min, patience=5 min),
    14 positions: waiting_probability 0.14526, abandonment_probability 0.013984, occupancy 0.704297,
    average_speed_of_answer 0.069919 min (= E[queue]/lambda = E[W] over all arrivals)."""
    lam, mu, theta = 100 / 30, 1 / 3, 1 / 5
    res = q.erlang_a(14, lam, mu, theta)
    sig4(res.p_wait, 0.14526)
    sig4(res.p_abandon, 0.013984)
    sig4(lam * (1 - res.p_abandon) / (14 * mu), 0.704297)
    sig4(res.mean_wait, 0.069919)
    ref = q.birth_death_erlang_a(14, lam, mu, theta)
    sig4(ref.p_wait, 0.14526)
    sig4(ref.p_abandon, 0.013984)


def test_erlang_b_textbook_value():
    """E_B(10 servers, 5 Erlangs) = 0.01838, as printed in Erlang B tables; also checked against the
    definition in exact rational arithmetic below."""
    sig4(q.erlang_b(10, 5.0), 0.01838)
    exact = Fraction(5 ** 10, math.factorial(10)) / sum(Fraction(5 ** k, math.factorial(k)) for k in range(11))
    assert q.erlang_b(10, 5.0) == pytest.approx(float(exact), rel=1e-14)


@pytest.mark.parametrize(("n", "a"), [(10, 4.461), (20, 12.031), (50, 37.901), (100, 84.064)])
def test_erlang_b_one_percent_table(n, a):
    """Erlang B tables at 1 % grade of service list the load each n carries: 10 -> 4.461, 20 -> 12.031,
    50 -> 37.901, 100 -> 84.064 Erlangs. Quoted from memory of the common printed tables (we could not
    consult one here), so the check is that E_B sits at 1.000 % to the table's 3 decimals of load."""
    assert q.erlang_b(n, a) == pytest.approx(0.01, rel=1e-3)


@pytest.mark.parametrize(("n", "a", "frac"), [
    (1, 1, Fraction(1, 2)), (2, 1, Fraction(1, 5)), (3, 2, Fraction(4, 19)), (0, 3, Fraction(1)),
])
def test_erlang_b_exact_rationals(n, a, frac):
    assert q.erlang_b(n, a) == pytest.approx(float(frac), rel=1e-15)


def test_erlang_c_exact_rational():
    """C(3 servers, 2 Erlangs) = 4/9 from the definition."""
    assert q.erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-14)


# ---------------------------------------------------------------------------------------------------------------
# Special functions
# ---------------------------------------------------------------------------------------------------------------

def test_log_gamma_matches_math():
    xs = np.concatenate([np.linspace(0.01, 40, 400), np.logspace(-6, 7, 100)])
    ours = q.log_gamma(xs)
    ref = np.array([math.lgamma(x) for x in xs])
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("x", [1e-8, 0.1, 1.0, 2.5, 10.0, 60.0, 700.0])
def test_gammainc_closed_forms(x):
    assert q.gammainc(1.0, x) == pytest.approx(-math.expm1(-x), rel=1e-13)
    assert q.gammainc(0.5, x) == pytest.approx(math.erf(math.sqrt(x)), rel=1e-13)
    assert q.gammaincc(0.5, x) == pytest.approx(math.erfc(math.sqrt(x)), rel=1e-11, abs=1e-300)


def _poisson_pmf(k: int, a: float) -> float:
    return math.exp(k * math.log(a) - a - math.lgamma(k + 1)) if a > 0 else float(k == 0)


@pytest.mark.parametrize(("s", "x"), [
    (1, 0.5), (3, 2.0), (10, 10.0), (50, 40.0), (50, 65.0), (200, 180.0), (200, 230.0),
])
def test_gammainc_integer_is_poisson_tail(s, x):
    """P(s, x) = P(Poisson(x) >= s) for integer s."""
    lower = math.fsum(_poisson_pmf(k, x) for k in range(s))
    assert q.gammainc(s, x) == pytest.approx(1 - lower, rel=1e-11)
    assert q.gammaincc(s, x) == pytest.approx(lower, rel=1e-11)


# ---------------------------------------------------------------------------------------------------------------
# Erlang A identities
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "a"), [
    (1, 0.5), (5, 3.75), (10, 10.0), (14, 10.0), (30, 45.0), (100, 95.0), (400, 410.0),
])
def test_theta_equal_mu_is_m_m_infinity(n, a):
    """theta = mu: the number in system is Poisson(a) (M/M/inf), so P(W>0) = P(N >= n) and
    P(Ab) = E[(N - n)+] / a (PACING-NOTES, exact checks)."""
    kmax = int(a + 40 * math.sqrt(a) + 50)
    pmf = [_poisson_pmf(k, a) for k in range(kmax)]
    p_wait = math.fsum(pmf[n:])
    excess = math.fsum((k - n) * pmf[k] for k in range(n + 1, kmax))
    p_wait_a, p_ab, _ = q.erlang_a_load(n, a, 1.0)
    assert p_wait_a == pytest.approx(p_wait, rel=1e-10)
    assert p_ab == pytest.approx(excess / a, rel=1e-10)


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (5, 3.0), (14, 10.0), (50, 45.0), (200, 190.0)])
def test_theta_to_zero_is_erlang_c(n, a):
    c = q.erlang_c(n, a)
    gaps = [abs(q.erlang_a_load(n, a, r)[0] - c) for r in (1e-2, 1e-4, 1e-6)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-4 * c
    assert q.erlang_a_load(n, a, 1e-6)[1] < 1e-4
    assert q.erlang_a_load(n, a, 0.0)[0] == pytest.approx(c, rel=1e-14)
    assert q.erlang_a_load(n, a, 0.0)[1] == 0.0


@pytest.mark.parametrize(("n", "a"), [(1, 2.0), (5, 8.0), (100, 150.0)])
def test_theta_to_zero_overload_is_fluid(n, a):
    """theta -> 0 with a > n: the excess over the agents abandons, P(Ab) -> 1 - n/a."""
    assert q.erlang_a_load(n, a, 1e-6)[1] == pytest.approx(1 - n / a, rel=1e-4)


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (5, 3.75), (14, 10.0), (60, 70.0), (500, 480.0)])
def test_theta_to_infinity_is_erlang_b(n, a):
    eb = q.erlang_b(n, a)
    assert q.erlang_a_load(n, a, 1e6)[1] == pytest.approx(eb, rel=1e-4)
    assert q.erlang_a_load(n, a, np.inf)[1] == pytest.approx(eb, rel=1e-14)


def test_small_team_note():
    """PACING-NOTES: 5 agents, AHT 300 s, patience 60 s, rho = 0.75 gives P(Ab) ~ 13.6 %."""
    p_ab = q.erlang_a(5, 3.75 / 300, 1 / 300, 1 / 60).p_abandon
    assert p_ab == pytest.approx(0.136, abs=0.0005)


CHAIN_CASES = [
    (n, n * load, r)
    for n in (1, 2, 7, 30, 120)
    for load in (0.1, 0.7, 1.0, 1.3, 4.0)
    for r in (0.01, 0.3, 1.0, 5.0, 100.0)
]


@pytest.mark.parametrize(("n", "a", "r"), CHAIN_CASES)
def test_erlang_a_equals_birth_death_chain(n, a, r):
    """Erlang A (hypergeometric / incomplete-gamma forms) equals the truncated birth-death chain."""
    p_wait, p_ab, p_ab_w = q.erlang_a_load(n, a, r)
    ref = q.birth_death_erlang_a(n, a, 1.0, r)
    assert p_wait == pytest.approx(ref.p_wait, rel=1e-9, abs=0)
    assert p_ab == pytest.approx(ref.p_abandon, rel=1e-9, abs=0)
    assert p_ab_w == pytest.approx(ref.p_abandon_given_wait, rel=1e-9, abs=0)


def test_erlang_a_vectorised_equals_elementwise():
    cases = np.array(CHAIN_CASES, dtype=float)
    vec = q.erlang_a_load(cases[:, 0], cases[:, 1], cases[:, 2])
    for i, (n, a, r) in enumerate(cases):
        one = q.erlang_a_load(n, a, r)
        for j in range(3):
            assert vec[j][i] == pytest.approx(float(one[j]), rel=1e-12, abs=1e-300)


def test_erlang_a_mean_wait_units():
    res = q.erlang_a(14, 100 / 30, 1 / 3, 1 / 5)
    assert res.mean_wait == pytest.approx(res.p_abandon * 5)
    res0 = q.erlang_a(14, 100 / 30, 1 / 3, 0.0)
    assert res0.mean_wait == pytest.approx(q.erlang_c_asa(14, 10.0, 3.0))


def test_extremes_never_nan():
    n = np.array([0, 1, 1, 1000, 1000, 1000, 1000, 1000, 1000, 5])
    a = np.array([5.0, 1e-12, 1e4, 10_000, 999.0, 500.0, 1100.0, 1000.0, 0.0, np.inf])
    r = np.array([1.0, 1.0, 0.001, 0.01, 1e-4, 0.01, 100.0, 1e-9, 1.0, 1.0])
    for out in q.erlang_a_load(n, a, r):
        assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    assert q.erlang_a_load(1000, 10_000, 0.01)[1] == pytest.approx(0.9, rel=1e-9)
    assert q.erlang_a_load(0, 5.0, 1.0)[1] == 1.0
    assert q.erlang_a_load(5, np.inf, 1.0)[1] == 1.0


def test_max_load_bisection_is_tight():
    n = np.array([1, 5, 14, 50, 200, 1000])
    r = np.array([5.0, 5.0, 0.6, 1.0, 0.1, 10.0])
    g = np.array([0.03, 0.03, 0.05, 0.01, 0.03, 0.2])
    a = q.erlang_a_max_load(n, r, g)
    p_at = q.erlang_a_load(n, a, r)[1]
    p_above = q.erlang_a_load(n, a * (1 + 1e-7), r)[1]
    assert np.all(p_at <= g)
    assert np.all(p_above > g)
    assert q.erlang_a_max_load(0, 1.0, 0.03) == 0.0


# ---------------------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------------------

finite_r = st.floats(min_value=0.01, max_value=100.0)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 1000), load=st.floats(0.0, 10.0), r=finite_r)
def test_erlang_a_bounds_and_order(n, load, r):
    a = load * max(n, 1)
    p_wait, p_ab, p_ab_w = (float(v) for v in q.erlang_a_load(n, a, r))
    for p in (p_wait, p_ab, p_ab_w):
        assert math.isfinite(p) and 0.0 <= p <= 1.0
    assert p_ab <= p_wait * (1 + 1e-12)
    assert p_ab <= float(q.erlang_b(n, a)) * (1 + 1e-9) + 1e-300
    if n > 0 and a > 0:
        assert p_ab >= 1 - n / a - 1e-9          # the excess over n must abandon


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 999), load=st.floats(0.01, 10.0), r=finite_r)
def test_erlang_a_monotone_in_agents(n, load, r):
    a = load * max(n, 1)
    p_wait, p_ab, _ = q.erlang_a_load(np.array([n, n + 1]), a, r)
    assert p_ab[1] <= p_ab[0] * (1 + 1e-10)
    assert p_wait[1] <= p_wait[0] * (1 + 1e-10)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 1000), load=st.floats(0.0, 10.0))
def test_erlang_b_and_c_properties(n, load):
    a = load * max(n, 1)
    b = q.erlang_b(np.array([n, n + 1]), a)
    assert np.all(np.isfinite(b)) and np.all((b >= 0) & (b <= 1))
    assert b[1] <= b[0]
    c = q.erlang_c(n, a)
    assert 0.0 <= c <= 1.0 and c >= b[0] - 1e-15

