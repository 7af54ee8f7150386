"""Queueing formulas for the pacing engine: Erlang B, Erlang C and Erlang A (M/M/n+M), vectorised.

Pure numpy (no scipy): numpy arrays in, numpy arrays out, every argument broadcast against the others.
Nothing here raises on odd values; the engine sanitises its inputs before calling in.

Notation (as in /work/shared/PACING-NOTES.md): ``n`` agents, arrival rate ``lam``, service rate
``mu = 1/AHT``, abandonment rate ``theta = 1/mean patience``; offered load ``a = lam/mu`` (Erlangs),
occupancy ``rho = a/n``; for Erlang A ``x = n*mu/theta`` and ``y = lam/theta``.

Numerical choices (ours):

* Erlang B by the stable recursion on the inverse, ``1/E_B(k) = 1 + (k/a)/E_B(k-1)``, vectorised over
  elements of different ``n`` (elements are sorted by ``n`` so step ``k`` touches a contiguous tail).
  It overflows to ``inf`` (so ``E_B = 0``) instead of producing NaN.
* Erlang A uses ``A(x, y) = 1F1(1; x+1; y) = sum_k y^k / ((x+1)...(x+k))``. For ``y < x + 1`` the
  series is summed directly, together with ``S1 = sum_k k*t_k`` so that ``P(Ab | W>0) = S1/(y*A)`` has
  no cancellation (the textbook ``1/(rho*A) + 1 - 1/rho`` cancels when ``theta -> 0``). For
  ``y >= x + 1`` it uses ``A = P(x, y) / [e^-y y^x / Gamma(x+1)]`` with the regularised incomplete
  gamma ``P = 1 - Q`` (``Q`` by Lentz's continued fraction) and the prefactor taken in logs as
  ``-(D(x, y) + lstirling(x))`` where ``D = (y-x) - x*log1p((y-x)/x) >= 0`` and
  ``lstirling(x) = lgamma(x+1) - x*log(x) + x`` (computed without the large cancelling terms).
  Only ``1/A`` is ever formed in that branch, so heavy overload underflows gracefully to the fluid
  limit instead of overflowing to NaN.
* ``birth_death_erlang_a`` is the slow exact reference: the truncated birth-death chain, scalar.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "ErlangAResult",
    "birth_death_erlang_a",
    "erlang_a",
    "erlang_a_load",
    "erlang_a_max_load",
    "erlang_b",
    "erlang_c",
    "erlang_c_asa",
    "erlang_c_queue_length",
    "erlang_c_service_level",
    "gammainc",
    "gammaincc",
    "log_gamma",
]

_EPS = 1e-16
_TINY = 1e-300
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_MAX_ITER = 1_000_000
R_ERLANG_C = 1e-8   # theta/mu at or below this is treated as theta = 0 (patience > 1e8 x AHT)


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# Gamma function pieces
# ---------------------------------------------------------------------------------------------------------------

def _stirling_tail(z: np.ndarray) -> np.ndarray:
    """lgamma(z) - [(z - 1/2) log z - z + log sqrt(2 pi)] for z >= 10 (asymptotic series, |error| < 1e-15)."""
    inv = 1.0 / z
    inv2 = inv * inv
    return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 / 1188))))


def log_gamma(x) -> np.ndarray:
    """log Gamma(x) for x > 0 (``inf`` at 0, NaN below). Stirling series after shifting x up to >= 10."""
    x = _f(x)
    z = np.array(x, dtype=np.float64, copy=True, ndmin=1)
    prod = np.ones_like(z)
    small = z < 10.0
    while small.any():
        prod[small] *= z[small]
        z[small] += 1.0
        small = z < 10.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (z - 0.5) * np.log(z) - z + _HALF_LOG_2PI + _stirling_tail(z) - np.log(prod)
    return out.reshape(x.shape) if x.ndim else out[0]


def _lstirling(x: np.ndarray) -> np.ndarray:
    """lgamma(x + 1) - x log x + x for x >= 0, i.e. log(sqrt(2 pi x)) + Stirling tail, without cancellation."""
    x = _f(x)
    out = np.empty(np.broadcast(x).shape)
    big = x >= 10.0
    with np.errstate(divide="ignore", invalid="ignore"):
        xb = np.where(big, x, 10.0)
        out[...] = 0.5 * np.log(xb) + _HALF_LOG_2PI + _stirling_tail(xb)
        xs = np.where(big, 1.0, x)
        xlogx = np.where(xs > 0, xs * np.log(np.where(xs > 0, xs, 1.0)), 0.0)
        small_val = log_gamma(xs + 1.0) - xlogx + xs
    return np.where(big, out, small_val)


def _d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """D(x, y) = y - x - x log(y/x) >= 0: minus the log of the Poisson-like kernel e^-y y^x / (e^-x x^x)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = np.where(x > 0, x, 1.0)
        t = (y - x) / xs
        d = x * (t - np.log1p(t))
    d = np.where(x > 0, d, y)          # x = 0: D = y
    return np.where(np.isnan(d), np.inf, d)  # y = 0 < x: log1p(-1) = -inf, D = +inf


def _log_prefactor(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log(e^-y y^s / Gamma(s + 1)), stable for large s and y."""
    return -(_d(s, y) + _lstirling(s))


# ---------------------------------------------------------------------------------------------------------------
# Vectorised iterations with compaction (only unconverged elements keep iterating)
# ---------------------------------------------------------------------------------------------------------------

def _series_a(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A = sum_{k>=0} t_k and S1 = sum k t_k with t_k = y^k / ((x+1)...(x+k)); requires 0 <= y < x + 1."""
    size = x.size
    s0 = np.ones(size)
    s1 = np.zeros(size)
    term = np.ones(size)
    idx = np.arange(size)
    xa, ya = x.copy(), y.copy()
    k = 0
    while idx.size and k < _MAX_ITER:
        k += 1
        term *= ya / (xa + k)
        s0[idx] += term
        s1[idx] += k * term
        q = ya / (xa + k + 1.0)
        one_minus_q = 1.0 - q
        tail = term / one_minus_q
        done = (tail <= _EPS * s0[idx]) & (tail * (k + 1.0 / one_minus_q) <= _EPS * s1[idx])
        done |= term == 0.0
        if done.any():
            keep = ~done
            idx, xa, ya, term = idx[keep], xa[keep], ya[keep], term[keep]
    return s0, s1


def _series_p(s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Regularised lower incomplete gamma P(s, x) by its power series (use for x < s + 1)."""
    total, _ = _series_a(s, x)
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(_log_prefactor(s, x)) * total


def _cf_q(s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Regularised upper incomplete gamma Q(s, x) by Lentz's continued fraction (use for x >= s + 1)."""
    size = s.size
    h_out = np.empty(size)
    idx = np.arange(size)
    sa, xa = s.copy(), x.copy()
    b = xa + 1.0 - sa
    c = np.full(size, 1.0 / _TINY)
    d = 1.0 / np.where(np.abs(b) < _TINY, _TINY, b)
    h = d.copy()
    i = 0
    while idx.size and i < _MAX_ITER:
        i += 1
        an = -i * (i - sa)
        b += 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h *= delta
        done = np.abs(delta - 1.0) <= _EPS
        if done.any():
            h_out[idx[done]] = h[done]
            keep = ~done
            idx, sa, xa, b, c, d, h = idx[keep], sa[keep], xa[keep], b[keep], c[keep], d[keep], h[keep]
    if idx.size:
        h_out[idx] = h
    with np.errstate(over="ignore", under="ignore"):
        # e^-x x^s / Gamma(s) = s * e^-x x^s / Gamma(s + 1)
        return s * np.exp(_log_prefactor(s, x)) * h_out


def gammainc(s, x) -> np.ndarray:
    """Regularised lower incomplete gamma P(s, x) = gamma(s, x) / Gamma(s), for s > 0, x >= 0."""
    s, x = np.broadcast_arrays(_f(s), _f(x))
    shape = s.shape
    s, x = s.ravel().copy(), x.ravel().copy()
    out = np.zeros(s.size)
    use_series = x < s + 1.0
    pos = x > 0
    m = use_series & pos
    if m.any():
        out[m] = _series_p(s[m], x[m])
    m = ~use_series & pos
    if m.any():
        out[m] = 1.0 - _cf_q(s[m], x[m])
    out = np.clip(out, 0.0, 1.0)
    return out.reshape(shape) if shape else out[0]


def gammaincc(s, x) -> np.ndarray:
    """Regularised upper incomplete gamma Q(s, x) = 1 - P(s, x), accurate in the upper tail."""
    s, x = np.broadcast_arrays(_f(s), _f(x))
    shape = s.shape
    s, x = s.ravel().copy(), x.ravel().copy()
    out = np.ones(s.size)
    use_series = x < s + 1.0
    pos = x > 0
    m = use_series & pos
    if m.any():
        out[m] = 1.0 - _series_p(s[m], x[m])
    m = ~use_series & pos
    if m.any():
        out[m] = _cf_q(s[m], x[m])
    out = np.clip(out, 0.0, 1.0)
    return out.reshape(shape) if shape else out[0]


# ---------------------------------------------------------------------------------------------------------------
# Erlang B and C
# ---------------------------------------------------------------------------------------------------------------

def _inverse_erlang_b(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """1/E_B(n, a) by the recursion R_k = 1 + (k/a) R_{k-1}, flat arrays, n integral >= 0."""
    size = n.size
    if size == 0:
        return np.ones(0)
    order = np.argsort(n, kind="stable")
    ns = n[order]
    a_s = a[order]
    inv = np.ones(size)
    top = int(ns[-1]) if size else 0
    starts = np.searchsorted(ns, np.arange(1, top + 1), side="left")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for k in range(1, top + 1):
            lo = starts[k - 1]
            tail = inv[lo:]
            tail *= k
            tail /= a_s[lo:]
            tail += 1.0
    inv = np.where(np.isnan(inv), np.inf, inv)  # 0 * inf with a = 0
    out = np.empty(size)
    out[order] = inv
    return out


def _servers(n) -> np.ndarray:
    n = _f(n)
    return np.where(np.isfinite(n) & (n > 0), np.floor(n + 0.5), 0.0)


def erlang_b(n, a) -> np.ndarray:
    """Erlang B blocking probability E_B(n, a) for n servers (rounded to integers) and offered load a Erlangs."""
    n, a = np.broadcast_arrays(_servers(n), _f(a))
    shape = n.shape
    a = np.where(a > 0, a, 0.0)
    with np.errstate(divide="ignore"):
        out = 1.0 / _inverse_erlang_b(n.ravel(), a.ravel())
    return out.reshape(shape) if shape else out[0]


def erlang_c(n, a) -> np.ndarray:
    """Erlang C probability of waiting C(n, a) = E_B / (1 - rho (1 - E_B)); 1 when a >= n (unstable)."""
    n, a = np.broadcast_arrays(_servers(n), _f(a))
    b = erlang_b(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(n > 0, a / np.where(n > 0, n, 1.0), np.inf)
        c = b / (1.0 - rho * (1.0 - b))
    return np.where(a < n, c, 1.0)


def erlang_c_asa(n, a, aht) -> np.ndarray:
    """Erlang C average speed of answer C * AHT / (n - a) (same unit as ``aht``); inf when a >= n."""
    n, a, aht = np.broadcast_arrays(_servers(n), _f(a), _f(aht))
    c = erlang_c(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        asa = c * aht / (n - a)
    return np.where(a < n, asa, np.inf)


def erlang_c_service_level(n, a, aht, t) -> np.ndarray:
    """Erlang C service level P(wait <= t) = 1 - C exp(-(n - a) t / AHT); 0 when a >= n."""
    n, a, aht, t = np.broadcast_arrays(_servers(n), _f(a), _f(aht), _f(t))
    c = erlang_c(n, a)
    with np.errstate(over="ignore", invalid="ignore"):
        sl = 1.0 - c * np.exp(-(n - a) * t / aht)
    return np.where(a < n, sl, 0.0)


def erlang_c_queue_length(n, a) -> np.ndarray:
    """Erlang C mean number waiting Lq = C a / (n - a); inf when a >= n."""
    n, a = np.broadcast_arrays(_servers(n), _f(a))
    c = erlang_c(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = c * a / (n - a)
    return np.where(a < n, lq, np.inf)


# ---------------------------------------------------------------------------------------------------------------
# Erlang A (M/M/n+M)
# ---------------------------------------------------------------------------------------------------------------

class ErlangAResult(NamedTuple):
    """Steady-state M/M/n+M figures: P(W>0), P(Ab), P(Ab | W>0) and the mean wait E[W] (all arrivals)."""

    p_wait: np.ndarray
    p_abandon: np.ndarray
    p_abandon_given_wait: np.ndarray
    mean_wait: np.ndarray


def erlang_a_load(n, a, r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dimensionless Erlang A: n agents, offered load a = lam/mu, r = theta/mu (= AHT / mean patience).

    Returns (P(W>0), P(Ab), P(Ab | W>0)). r <= R_ERLANG_C is Erlang C (P(Ab) = 0 when stable; the fluid limit
    1 - n/a when a >= n); r = inf is Erlang B (P(Ab) = E_B).
    """
    n, a, r = np.broadcast_arrays(_servers(n), _f(a), _f(r))
    shape = n.shape
    n, a, r = n.ravel(), a.ravel(), r.ravel()
    a = np.where(a > 0, a, 0.0)
    r = np.where(r >= 0, r, 0.0)
    size = n.size
    p_wait = np.zeros(size)
    p_ab = np.zeros(size)
    p_ab_w = np.zeros(size)

    live = (a > 0) & (n > 0) & np.isfinite(a)
    # n = 0 with arrivals, or an infinite load: every arrival waits and abandons.
    none = (a > 0) & ((n == 0) | np.isinf(a))
    p_wait[none] = 1.0
    p_ab[none] = 1.0
    p_ab_w[none] = 1.0

    inv_b = _inverse_erlang_b(n[live], a[live])
    nl, al, rl = n[live], a[live], r[live]
    pw = np.empty(nl.size)
    pab_w = np.empty(nl.size)

    # r = 0: Erlang C (stable), fluid limit (unstable); r = inf: Erlang B. Below R_ERLANG_C the series
    # would need ~9 sqrt(n/r) terms near a = n for a change in the 8th digit: Erlang C it is.
    zero_r = rl <= R_ERLANG_C
    inf_r = np.isinf(rl)
    mid = ~zero_r & ~inf_r
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if zero_r.any():
            b = 1.0 / inv_b[zero_r]
            rho = al[zero_r] / nl[zero_r]
            c = np.where(rho < 1.0, b / (1.0 - rho * (1.0 - b)), 1.0)
            pw[zero_r] = c
            pab_w[zero_r] = np.where(rho > 1.0, 1.0 - 1.0 / rho, 0.0) / np.where(c > 0, c, 1.0)
        if inf_r.any():
            pw[inf_r] = 1.0 / inv_b[inf_r]
            pab_w[inf_r] = 1.0
        if mid.any():
            x = nl[mid] / rl[mid]
            y = al[mid] / rl[mid]
            rb = inv_b[mid]
            pw_m = np.empty(x.size)
            pab_m = np.empty(x.size)
            ser = y < x + 1.0
            if ser.any():
                big_a, s1 = _series_a(x[ser], y[ser])
                pw_m[ser] = big_a / (rb[ser] + big_a - 1.0)
                pab_m[ser] = s1 / (y[ser] * big_a)
            gam = ~ser
            if gam.any():
                xg, yg = x[gam], y[gam]
                q = _cf_q(xg, yg)
                inv_a = np.exp(_log_prefactor(xg, yg)) / (1.0 - q)
                pw_m[gam] = 1.0 / (1.0 + (rb[gam] - 1.0) * inv_a)
                rho = yg / xg
                pab_m[gam] = inv_a / rho + (1.0 - 1.0 / rho)
            pw[mid] = pw_m
            pab_w[mid] = pab_m
    pw = np.clip(np.where(np.isnan(pw), 1.0, pw), 0.0, 1.0)
    pab_w = np.clip(np.where(np.isnan(pab_w), 0.0, pab_w), 0.0, 1.0)
    p_wait[live] = pw
    p_ab_w[live] = pab_w
    p_ab[live] = pw * pab_w
    if shape:
        return p_wait.reshape(shape), p_ab.reshape(shape), p_ab_w.reshape(shape)
    return p_wait[0], p_ab[0], p_ab_w[0]


def erlang_a(n, lam, mu, theta) -> ErlangAResult:
    """Erlang A (Palm's M/M/n+M): n agents, arrival rate lam, service rate mu, abandonment rate theta.

    ``mean_wait`` = E[W] over all arrivals = P(Ab)/theta (in the time unit of the rates); with
    theta = 0 it is the Erlang C ASA (inf when lam >= n mu).
    """
    n, lam, mu, theta = np.broadcast_arrays(_servers(n), _f(lam), _f(mu), _f(theta))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = lam / mu
        r = theta / mu
    p_wait, p_ab, p_ab_w = erlang_a_load(n, a, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = p_ab / theta
        asa_c = np.where(a < n, p_wait / (n * mu - lam), np.inf)
    wait = np.where(theta > 0, wait, asa_c)
    wait = np.where(lam > 0, wait, 0.0)
    return ErlangAResult(p_wait, p_ab, p_ab_w, wait)


def erlang_a_max_load(n, r, goal, steps: int = 40) -> np.ndarray:
    """Largest offered load a (Erlangs) with Erlang-A P(Ab)(n, a, r) <= goal, by vectorised bisection.

    The answer lies in [0, n/(1 - goal)]: P(Ab) >= 1 - n/a (the excess over n agents must abandon).
    Returns the feasible end of the final bracket (never above the true value by more than rounding).
    """
    n, r, goal = np.broadcast_arrays(_servers(n), _f(r), _f(goal))
    shape = n.shape
    n, r, goal = n.ravel(), r.ravel(), np.clip(goal.ravel(), 0.0, 1.0 - 1e-12)
    lo = np.zeros(n.size)
    hi = n / (1.0 - goal)
    work = (n > 0) & (goal > 0)
    if work.any():
        nw, rw, gw = n[work], r[work], goal[work]
        lw, hw = lo[work], hi[work]
        for _ in range(steps):
            midp = 0.5 * (lw + hw)
            ok = erlang_a_load(nw, midp, rw)[1] <= gw
            lw = np.where(ok, midp, lw)
            hw = np.where(ok, hw, midp)
        lo[work] = lw
    return lo.reshape(shape) if shape else lo[0]


# ---------------------------------------------------------------------------------------------------------------
# Exact reference: the truncated birth-death chain (slow, scalar)
# ---------------------------------------------------------------------------------------------------------------

def birth_death_erlang_a(n: int, lam: float, mu: float, theta: float, tol: float = 1e-17) -> ErlangAResult:
    """M/M/n+M solved as the birth-death chain with birth lam and death min(k, n) mu + (k - n)+ theta.

    Plain Python floats, rescaled to stay finite; the chain is truncated once the new state's weight is
    below ``tol`` of the mass of the all-busy states (past n and the mode). P(Ab) = theta E[queue] / lam.
    Meant for tests (small to moderate n), not for the engine.
    """
    n = int(n)
    if lam <= 0:
        return ErlangAResult(0.0, 0.0, 0.0, 0.0)
    weights = [1.0]
    tail = 1.0 if n == 0 else 0.0   # mass of the states k >= n (all agents busy)
    k = 0
    while True:
        k += 1
        death = min(k, n) * mu + max(k - n, 0) * theta
        if death <= 0:
            raise ValueError("the chain has no way down (n = 0 and theta = 0)")
        w = weights[-1] * lam / death
        weights.append(w)
        if k >= n:
            tail += w
        if k > n and lam < death and w < tol * tail:
            break
        if w > 1e250:
            weights = [v * 1e-250 for v in weights]
            tail *= 1e-250
        if k > 50_000_000:
            raise RuntimeError("the chain did not converge")
    p_wait = math.fsum(weights[n:]) / math.fsum(weights)
    queue = math.fsum((j - n) * weights[j] for j in range(n + 1, len(weights))) / math.fsum(weights)
    p_ab = theta * queue / lam
    return ErlangAResult(p_wait, p_ab, p_ab / p_wait if p_wait > 0 else 0.0, queue / lam)
