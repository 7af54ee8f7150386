"""The pacing engine: how many proactive invitations GPE may send per target in the next interval.

Pure numpy (imports numpy and ``pacing.queueing`` only), vectorised over all targets at once; the
algorithm is OURS (the vendor never published its own) and docs/pacing.md ("The control law") gives its
derivation, its stability argument and its limits. In one paragraph, per target:

1. **Position.** The engine controls the *position* ``X`` = interactions in the system (busy + queued) plus
   the accepts expected from the invitations in flight (``p * U``), an order-up-to ("base-stock") rule:
   every interval it invites what brings the position back to its level, no more. Late statistics: the
   snapshot is ``stats_age_s`` old; ``U`` = the invitations the snapshot cannot have seen resolved (those
   pending when it was taken plus those sent since: ``pending_at_snapshot + sent_since_snapshot``, or an
   estimate from the current ``pending``), and the completions since the snapshot are estimated
   (``busy * (1 - exp(-age / AHT))``).
2. **Level.** The free agents plus the completions expected until the new accepts land (a share of
   ``busy * H / AHT``, ``H`` = accept delay + interval / 2, from ``anticipate_min`` at 1 busy agent to
   ``anticipate_max`` at 100), less the margin ``z * sigma``: ``sigma^2`` counts the binomial accepts still to
   come, the Poisson completions and the snapshot's blind spot (``lam = busy / AHT``), and ``z`` solves the
   normal loss equation ``sigma * L(z) = g_eff * lam * patience`` -- the expected queue the goal allows
   (abandonment rate = queue / patience = g_eff * lam). ``z < 0`` spends the abandonment budget.
3. **Damped feedback.** ``g_eff = g_t * clip((g_t / r) ** 2, feedback_min, feedback_max)``, ``g_t`` = 65 % of
   the goal, ``r`` the window's abandonment ratio shrunk towards ``g_t`` by ``feedback_prior_accepts``. It
   moves the margin by a few ``sigma`` at most (never the whole level): a lucky window cannot open the gates.
4. **Invitations.** ``model = (new accepts allowed) / p - U`` with ``p`` the accept ratio on RESOLVED
   invitations (Beta prior). ``certain = ready - reserve - queued - U`` (every invitation in flight counted
   as an accept: what free agents can certainly take). Blend by evidence (cold start: ``certain``), floor
   at ``certain`` (scaled down while abandonment runs high), cap ``max_invites_per_agent * (ready + busy)
   + max_invites_extra``, zero without agents.
5. **The goal's ends.** ``goal_pct = 0``: ``certain`` only. ``goal_pct >= 100``: no limit (the cap).
   ``max_rate_share`` (reactive protection) caps the accept rate at a share of the Erlang-A rate
   (``MaxLoadTable``).

Every input may be NaN, inf or negative: counts then count as 0, rates and times as missing (their
default). The result is int64, never negative, zero without agents, monotone non-decreasing in ready agents
and non-increasing in pending invitations and queued interactions (tests/pacing/test_engine.py).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from pacing.queueing import erlang_a_max_load

__all__ = ["EngineConfig", "MaxLoadTable", "TargetState", "compute_invitations", "max_load_table"]


@dataclass
class TargetState:
    """Inputs of one pacing cycle: equal-length arrays, one entry per pacing target.

    Required (DESIGN.md "Engine contract"):

    * ``ready_agents`` -- agents of the target's groups ready for the media (as of the snapshot).
    * ``busy_agents`` -- agents of those groups handling an interaction (any origin: reactive work counts,
      it occupies the agent).
    * ``queued`` -- PACS_VQ_Current: accepted interactions waiting for an agent.
    * ``pending`` -- invitations sent and not yet answered, from GPE's last reply (current; 0 on the first
      cycle).
    * ``accepted``, ``abandoned`` -- PACS_VQ_Accepted / PACS_VQ_Abandoned over the stats window
      (abandoned interactions are accepted ones the visitor closed before an agent joined).
    * ``sent`` -- invitations sent over the same window.
    * ``aht_s`` -- average handle time of the proactive interactions, seconds (missing: the default).
    * ``goal_pct`` -- optimizationGoal, percent of accepted interactions abandoned, 0..100 (missing: 3).
    * ``interval_s`` -- scalar: the pacing refresh period, seconds.

    Optional (arrays or scalars; ``None`` = not available; NaN = not available for that target):

    * ``declined``, ``expired`` -- invitations declined / expired over the window. With them the accept
      ratio is estimated on resolved invitations; without them resolved = max(accepted, sent - pending).
    * ``patience_s`` -- mean visitor patience once accepted, seconds (default 60).
    * ``accept_delay_s`` -- mean time from invitation to answer, seconds (default 20).
    * ``reserve_agents`` -- agents kept out of the proactive capacity (reactive protection; default 0).
    * ``max_rate_share`` -- cap of the proactive accept rate as a share of the Erlang-A rate at the goal
      (reactive protection; default off).
    * ``stats_age_s`` -- seconds since each target's statistics snapshot (ready, busy, queued and the window
      counters) was taken; NaN or missing: 0 (current).
    * ``sent_since_snapshot`` -- invitations sent (posted) after the snapshot was taken.
    * ``pending_at_snapshot`` -- invitations pending when the snapshot was taken (GPE's reply of the last
      cycle at or before it). With both, the invitations the snapshot cannot have seen resolved are known
      exactly: ``pending_at_snapshot + sent_since_snapshot``; without them the engine estimates them from
      ``pending`` and the age (docs/pacing.md, "Late statistics").
    """

    ready_agents: Any
    busy_agents: Any
    queued: Any
    pending: Any
    accepted: Any
    abandoned: Any
    sent: Any
    aht_s: Any
    goal_pct: Any = None
    interval_s: float = 5.0
    declined: Any = None
    expired: Any = None
    patience_s: Any = None
    accept_delay_s: Any = None
    reserve_agents: Any = None
    max_rate_share: Any = None
    stats_age_s: Any = None
    sent_since_snapshot: Any = None
    pending_at_snapshot: Any = None


@dataclass(frozen=True)
class EngineConfig:
    """Tuning constants (defaults are ours; docs/pacing.md explains each)."""

    default_aht_s: float = 300.0
    default_patience_s: float = 60.0
    default_accept_delay_s: float = 20.0
    default_goal_pct: float = 3.0
    default_interval_s: float = 5.0
    prior_accept: float = 0.3            # Beta prior mean of the accept ratio
    prior_accept_weight: float = 10.0    # ... worth this many resolved invitations
    cold_start_evidence: float = 20.0    # model weight e / (e + this); 0 evidence = the certain count
    variance_scale: float = 0.3          # multiplies the variance of the accepts to come (docs/pacing.md)
    variance_full_agents: float = 100.0  # ... fully from this many busy agents on, sqrt(busy / this) below
    batch_variance_min: float = 0.7      # the new batch's binomial variance is counted at least this much ...
    batch_variance_knee: float = 6.0     # ... up to this many busy agents, bvm * knee / busy above (fades out)
    anticipate_min: float = 0.0          # share of the completions over the horizon anticipated (1 busy agent;
    anticipate_max: float = 0.9          # ... anticipate_max from variance_full_agents busy agents on: a margin
                                         # against a lagging AHT that costs large teams 10 % of H / AHT
    feedback_prior_accepts: float = 200.0
    feedback_target: float = 0.65        # the feedback aims at this share of the goal
    feedback_power: float = 2.0          # m = (target g / r) ** power, clipped to [feedback_min, feedback_max]
    feedback_min: float = 0.02           # g_eff = g * m, m in [feedback_min, feedback_max]
    feedback_max: float = 3.0
    max_invites_per_agent: float = 10.0
    max_invites_extra: float = 10.0


DEFAULT_CONFIG = EngineConfig()

# Plausibility bounds of sanitised inputs.
MAX_AGENTS = 1e6
MAX_COUNT = 1e12
MAX_AGE_S = 3600.0                       # stats older than this are treated as this old (the cycle drops them)
MIN_GOAL, MAX_GOAL = 0.001, 0.5          # the Erlang-A grid's goal range (max_rate_share only)
MIN_R, MAX_R = 0.01, 100.0               # AHT / patience
MIN_P_ACCEPT, MAX_P_ACCEPT = 0.01, 1.0
Z_LO, Z_HI = -6.0, 8.0                   # the normal loss table's range of z


# ---------------------------------------------------------------------------------------------------------------
# The (n, r, g) -> a* grid
# ---------------------------------------------------------------------------------------------------------------

def _n_nodes() -> np.ndarray:
    """0..64 one by one, then 8 integer nodes per doubling up to 2048 (steps 8, 16, 32, 64, 128)."""
    nodes = list(range(65))
    base, step = 64, 8
    while base < 2048:
        nodes.extend(range(base + step, 2 * base + 1, step))
        base, step = 2 * base, 2 * step
    return np.array(nodes, dtype=np.float64)


def _log_axis(x: np.ndarray, per_decade: float, lo_exp: float, count: int):
    """Cell index and the two linear weights of ``x`` on a log10 grid of ``count`` points."""
    pos = np.log10(x)
    pos *= per_decade
    pos -= lo_exp
    np.clip(pos, 0.0, count - 1, out=pos)
    index = np.minimum(np.floor(pos), count - 2)
    w1 = pos
    w1 -= index
    return index, 1.0 - w1, w1


class MaxLoadTable:
    """a*(n, r, g): the largest offered load with Erlang-A P(Ab) <= g, on a grid, filled on demand.

    Nodes: ``N_NODES`` agents (exact integers), r = 10**(k/8) for k = -16..16 (0.01..100), g =
    10**(k/8) for k = -24..-2 (0.001..0.56). Each node is computed once per process by the exact
    vectorised bisection of ``pacing.queueing.erlang_a_max_load`` (40 steps) and kept (~0.6 MB) as
    a* (1 - g).
    Above the last n node the load per agent of the last node is used (conservative: larger pools are
    more efficient).
    """

    N_NODES = _n_nodes()
    R_PER_DECADE = 8
    R_LO_EXP = -16   # 10**(-16/8) = 0.01
    R_COUNT = 33
    G_PER_DECADE = 8
    G_LO_EXP = -24   # 10**(-24/8) = 0.001
    G_COUNT = 23
    STEPS = 40

    def __init__(self) -> None:
        self.shape = (self.N_NODES.size, self.R_COUNT, self.G_COUNT)
        self.flat = np.full(int(np.prod(self.shape)), np.nan)
        self._lock = threading.Lock()
        n_last = self.N_NODES[-1]
        self.n_last = float(n_last)
        # index of the node at or below each integer 0..n_last (n nodes are integers)
        self._n_index = np.searchsorted(self.N_NODES, np.arange(int(n_last) + 1), side="right") - 1
        self._n_index = np.minimum(self._n_index, self.N_NODES.size - 2).astype(np.int64)
        self._n_lo = self.N_NODES[self._n_index]
        self._n_width = self.N_NODES[self._n_index + 1] - self._n_lo

    def node_values(self, i_n, i_r, i_g) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.N_NODES[i_n]
        r = 10.0 ** ((np.asarray(i_r) + self.R_LO_EXP) / self.R_PER_DECADE)
        g = 10.0 ** ((np.asarray(i_g) + self.G_LO_EXP) / self.G_PER_DECADE)
        return n, r, g

    def fill(self, flat_index: np.ndarray) -> None:
        """Compute the nodes at these flat indices (those still NaN) with the exact bisection."""
        flat_index = np.unique(flat_index)
        flat_index = flat_index[np.isnan(self.flat[flat_index])]
        if flat_index.size == 0:
            return
        i_n, i_r, i_g = np.unravel_index(flat_index, self.shape)
        n, r, g = self.node_values(i_n, i_r, i_g)
        values = erlang_a_max_load(n, r, g, steps=self.STEPS) * (1.0 - g)
        with self._lock:
            self.flat[flat_index] = values

    def value(self, i_n: int, i_r: int, i_g: int) -> float:
        """One stored node a* (1 - g), computed if needed (used by the scalar reference in the tests)."""
        k = int(np.ravel_multi_index((i_n, i_r, i_g), self.shape))
        if math.isnan(self.flat[k]):
            self.fill(np.array([k]))
        return float(self.flat[k])

    def warm(self, n_max: int = 200, goals_pct=(3.0,)) -> None:
        """Pre-compute every node up to n_max agents for the given goals (optional; e.g. at start-up)."""
        i_n = np.arange(int(np.searchsorted(self.N_NODES, n_max, side="left")) + 1)
        g = np.clip(np.asarray(goals_pct, dtype=float) / 100.0, MIN_GOAL, MAX_GOAL)
        pos = (np.log10(g) * self.G_PER_DECADE) - self.G_LO_EXP
        i_g = np.unique(np.concatenate([np.floor(pos), np.floor(pos) + 1]).clip(0, self.G_COUNT - 1)).astype(int)
        grid = np.meshgrid(i_n, np.arange(self.R_COUNT), i_g, indexing="ij")
        self.fill(np.ravel_multi_index(tuple(x.ravel() for x in grid), self.shape))

    def lookup(self, n: np.ndarray, r: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Trilinear interpolation of a* at (n, r, g); n >= 0, r in [MIN_R, MAX_R], g in [MIN_GOAL, MAX_GOAL].

        The nodes store a* (1 - g), which is smooth where a* itself grows like n / (1 - g); the result is
        divided by (1 - g) again. The weights and the summation order are those of the scalar reference in
        the tests: for each corner (dn, dr, dg) in binary order, acc += T[corner] * ((w_n * w_r) * w_g).
        """
        size = n.size
        n_c = np.minimum(n, self.n_last)
        n_int = n_c.astype(np.int64)
        i_n = np.take(self._n_index, n_int)                    # int64
        w_n1 = n_c - np.take(self._n_lo, n_int)
        w_n1 /= np.take(self._n_width, n_int)                  # hi - lo >= 1
        del n_int, n_c
        w_n0 = 1.0 - w_n1

        i_r, w_r0, w_r1 = _log_axis(r, self.R_PER_DECADE, self.R_LO_EXP, self.R_COUNT)
        i_g, w_g0, w_g1 = _log_axis(g, self.G_PER_DECADE, self.G_LO_EXP, self.G_COUNT)

        s_n, s_r = self.shape[1] * self.shape[2], self.shape[2]
        base = i_n * s_n
        base += (i_r * s_r).astype(np.int64)
        base += i_g.astype(np.int64)
        del i_n, i_r, i_g

        w_nr = [np.multiply(wn, wr) for wn in (w_n0, w_n1) for wr in (w_r0, w_r1)]   # (n, r) corner weights
        del w_n0, w_n1, w_r0, w_r1
        offsets = [(dn * s_n + dr * s_r + dg, w_nr[2 * dn + dr], (w_g0, w_g1)[dg])
                   for dn in (0, 1) for dr in (0, 1) for dg in (0, 1)]

        acc = np.zeros(size)
        tmp = np.empty(size)
        wgt = np.empty(size)
        idx = np.empty(size, dtype=np.int64)
        for _attempt in range(2):
            acc.fill(0.0)
            for off, wnr, wg in offsets:
                np.add(base, off, out=idx)
                np.take(self.flat, idx, out=tmp)
                np.multiply(wnr, wg, out=wgt)
                tmp *= wgt
                acc += tmp
            if not np.isnan(acc).any():
                break
            missing = [base[np.isnan(self.flat[base + off])] + off for off, *_ in offsets]
            self.fill(np.concatenate(missing))
        np.subtract(1.0, g, out=tmp)
        acc /= tmp
        return acc


_TABLE: MaxLoadTable | None = None
_TABLE_LOCK = threading.Lock()


def max_load_table() -> MaxLoadTable:
    """The process-wide grid of a* values (created on first use)."""
    global _TABLE
    if _TABLE is None:
        with _TABLE_LOCK:
            if _TABLE is None:
                _TABLE = MaxLoadTable()
    return _TABLE


# ---------------------------------------------------------------------------------------------------------------
# The normal loss function L(z) = E[(X - z)+], X ~ N(0, 1), and its inverse
# ---------------------------------------------------------------------------------------------------------------

def normal_loss(z: float) -> float:
    """L(z) = phi(z) - z (1 - Phi(z)): the expected excess of a standard normal over z (math.erfc: exact tails)."""
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) - z * 0.5 * math.erfc(z / math.sqrt(2.0))


def _loss_table(step: float = 1.0 / 512.0, points: int = 4096) -> tuple[float, float, np.ndarray, np.ndarray]:
    """z as a function of u = log L(z) on a UNIFORM grid of u (so that the lookup is an index, not a search).

    Built once from a fine table of L (step 1/512 in z, ``math.erfc``), inverted by interpolation; returns
    (u0, 1 / du, z at the nodes, z differences to the next node).
    """
    z_fine = np.arange(Z_HI, Z_LO - 0.5 * step, -step)
    log_l = np.log(np.array([normal_loss(float(v)) for v in z_fine]))      # increasing as z decreases
    u = np.linspace(log_l[0], log_l[-1], points)
    z = np.interp(u, log_l, z_fine)
    return float(u[0]), float((points - 1) / (u[-1] - u[0])), z, np.append(np.diff(z), 0.0)


LOSS_U0, LOSS_INV_DU, LOSS_Z, LOSS_DZ = _loss_table()
LOSS_AT_Z_LO = normal_loss(Z_LO)         # 6.0000000002: beyond it L(z) = -z to 1e-10
_LOSS_ZDZ = LOSS_Z + 1j * LOSS_DZ        # both per node in one complex (exact): one gather instead of two


def inverse_normal_loss(rho: np.ndarray) -> np.ndarray:
    """z with L(z) = rho (rho >= 0): linear interpolation on a uniform grid of log L; -rho beyond the table;
    Z_HI for rho ~ 0."""
    with np.errstate(divide="ignore"):
        pos = np.log(rho)
    pos -= LOSS_U0
    pos *= LOSS_INV_DU
    pos.clip(0.0, LOSS_Z.size - 1.0, out=pos)
    cell = np.floor(pos)                             # pos >= 0: the cell's index, as a float
    node = _LOSS_ZDZ[cell.astype(np.intp)]           # z and its difference to the next node
    pos -= cell                                      # the fraction of the cell
    pos *= node.imag
    pos += node.real
    if rho.max(initial=0.0) > LOSS_AT_Z_LO:          # (NaN compares False, as in the mask)
        big = rho > LOSS_AT_Z_LO
        pos[big] = -rho[big]
    return pos


def _power(x: np.ndarray, p: float) -> None:
    """x **= p in place; the usual integer powers as products (np.power is several times slower)."""
    if p == 4.0:
        np.square(x, out=x)
        np.square(x, out=x)
    elif p == 2.0:
        np.square(x, out=x)
    elif p != 1.0:
        np.power(x, p, out=x)


# ---------------------------------------------------------------------------------------------------------------
# Input sanitation
# ---------------------------------------------------------------------------------------------------------------

def _count(value, size: int, hi: float = MAX_COUNT) -> np.ndarray | float:
    """A count: NaN, inf, negative or missing -> 0; clipped to hi. Arrays come back as new float64 arrays.

    Plain ufuncs, no boolean masks (they dominate the engine's time otherwise): ``x - x`` is NaN exactly
    where x is NaN or infinite, so ``fmax(x + (x - x), 0)`` maps all of those to 0.
    """
    if value is None:
        return 0.0
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        return min(v, hi) if math.isfinite(v) and v > 0 else 0.0
    arr = arr.reshape(size)
    if np.isfinite(arr.sum()):                       # no NaN or inf anywhere (the usual case): one clip
        return np.clip(arr, 0.0, hi)
    out = np.subtract(arr, arr)
    out += arr
    np.fmax(out, 0.0, out=out)
    np.minimum(out, hi, out=out)
    return out


def _positive(value, size: int, default: float, lo: float = 0.0, hi: float = math.inf) -> np.ndarray | float:
    """A positive quantity: NaN, inf, <= 0 or missing -> default; then clipped to [lo, hi]."""
    if value is None:
        return min(max(default, lo), hi)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        v = v if math.isfinite(v) and v > 0 else default
        return min(max(v, lo), hi)
    arr = arr.reshape(size)
    if arr.min() > 0.0 and arr.max() < math.inf:     # NaN fails both comparisons: only positive finite values
        return np.clip(arr, lo, hi)
    ok = np.less(arr, math.inf)                      # False for NaN and +inf
    ok &= arr > 0.0
    out = np.where(ok, arr, default)
    np.clip(out, lo, hi, out=out)
    return out


def _goal(value, size: int, default_pct: float) -> np.ndarray:
    """optimizationGoal as a fraction in [0, 1]: NaN, inf, negative or missing -> default; 0 and 100 kept."""
    if value is None:
        return np.full(size, min(max(default_pct / 100.0, 0.0), 1.0), dtype=np.float64)
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1) if np.ndim(value) else
                          np.asarray(value, dtype=np.float64), (size,))
    if arr.min() >= 0.0 and arr.max() < math.inf:
        out = arr / 100.0
    else:
        ok = np.less(arr, math.inf)
        ok &= arr >= 0.0
        out = np.where(ok, arr, default_pct)
        out /= 100.0
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _scalar(value, default: float, lo: float, hi: float) -> float:
    """A scalar setting (interval_s): NaN, inf, <= 0 or missing -> default; clipped to [lo, hi]."""
    try:
        v = float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        v = default
    if not (math.isfinite(v) and v > 0):
        v = default
    return min(max(v, lo), hi)


def _known(value, size: int) -> np.ndarray:
    """Per target: whether a value was given (not None, not NaN)."""
    if value is None:
        return np.zeros(size, dtype=bool)
    arr = np.asarray(value, dtype=np.float64)
    return np.broadcast_to(~np.isnan(arr), (size,)).copy() if arr.ndim == 0 else ~np.isnan(arr.reshape(size))


def _all_known(value) -> bool:
    """Whether a value was given for every target (no NaN; a sum is NaN if any element is -- or if it holds
    both infinities, which then takes the per-target path, as exact)."""
    return value is not None and not math.isnan(float(np.sum(value)))


def _full(value, size: int) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.shape == (size,):
        return value
    return np.full(size, value, dtype=np.float64)


def _float_bits(x: float) -> int:
    return int(np.float64(x).view(np.uint64))


# The bounds of each field's sanitised values: a count's are [0, hi] (_count); a positive quantity's (aht, patience,
# delay: _positive) [lo, hi], and never 0; a goal's [0, 100] percent (_goal). _CLEAN_BITS: the same as bit patterns.
_COUNT_FIELDS = {"ready_agents": MAX_AGENTS, "busy_agents": MAX_AGENTS, "reserve_agents": MAX_AGENTS,
                 "queued": MAX_COUNT, "pending": MAX_COUNT, "accepted": MAX_COUNT, "abandoned": MAX_COUNT,
                 "sent": MAX_COUNT, "declined": MAX_COUNT, "expired": MAX_COUNT, "stats_age_s": MAX_AGE_S,
                 "sent_since_snapshot": MAX_COUNT, "pending_at_snapshot": MAX_COUNT}
_POSITIVE_FIELDS = {"aht_s": (1.0, 86400.0), "patience_s": (1.0, 86400.0), "accept_delay_s": (0.0, 86400.0)}
_CLEAN_BITS = {**{k: (0, _float_bits(hi)) for k, hi in _COUNT_FIELDS.items()},
               **{k: (max(_float_bits(lo), 1), _float_bits(hi)) for k, (lo, hi) in _POSITIVE_FIELDS.items()},
               "goal_pct": (0, _float_bits(100.0))}


def _bit_patterns(value) -> np.ndarray | None:
    """A float64 array's bit patterns (a uint64 view), or None where the value is not a 1-D float64 array.

    Non-negative floats order as their bit patterns; everything else has a larger one: the sign bit is the top
    bit (negative values, -0.0, -inf, negative NaN) and +inf and NaN have the largest exponent. So every element
    lies in [lo, hi] (lo >= 0, hi finite; no NaN, no -0.0) exactly when the patterns lie in [bits(lo), bits(hi)]:
    one or two integer reductions tell that a whole array needs no sanitation."""
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype == np.float64):
        return None
    return value.view(np.uint64)


class _Inputs:
    """The call's input fields (1-D arrays of the call's size, 0-d values or None) and, checked once per call and
    field on first use, whether a field's array is already clean (its own sanitised value, element by element)."""

    __slots__ = ("_clean", "fields")

    def __init__(self, fields: dict) -> None:
        self.fields = fields
        self._clean: dict[str, bool] = {}

    def clean(self, name: str) -> bool:
        ok = self._clean.get(name)
        if ok is None:
            lo, hi = _CLEAN_BITS[name]
            bits = _bit_patterns(self.fields[name])
            ok = bits is not None and int(bits.max()) <= hi and (lo == 0 or int(bits.min()) >= lo)
            self._clean[name] = ok
        return ok


class _Block:
    """One block of targets: the raw slices of the inputs and their sanitised values -- a slice of the
    caller's array itself (no copy, never written to) where the whole array is clean, else the sanitation
    functions above on the slice."""

    __slots__ = ("consts", "hi", "inputs", "interval_s", "lo", "size")

    def __init__(self, inputs: _Inputs, lo: int, hi: int, interval_s: float, consts: tuple) -> None:
        self.inputs, self.lo, self.hi, self.size, self.interval_s = inputs, lo, hi, hi - lo, interval_s
        self.consts = tuple(c[: self.size] for c in consts)

    def raw(self, name: str):
        value = self.inputs.fields[name]
        return value[self.lo:self.hi] if isinstance(value, np.ndarray) and value.ndim else value

    def given(self, name: str) -> bool:
        return self.inputs.fields[name] is not None

    def count(self, name: str) -> np.ndarray | float:
        value = self.raw(name)
        if isinstance(value, np.ndarray) and self.inputs.clean(name):
            return value
        return _count(value, self.size, _COUNT_FIELDS[name])

    def positive(self, name: str, default: float) -> np.ndarray | float:
        value = self.raw(name)
        if isinstance(value, np.ndarray) and self.inputs.clean(name):
            return value
        lo, hi = _POSITIVE_FIELDS[name]
        return _positive(value, self.size, default, lo, hi)

    def all_known(self, name: str) -> bool:
        """Whether a value was given for every target of the block (see _all_known)."""
        value = self.raw(name)
        return (isinstance(value, np.ndarray) and self.inputs.clean(name)) or _all_known(value)


# ---------------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------------

# At most this many targets per block (the blocks of a call are of equal size): a block's temporaries (256 KiB
# each at most) stay in the CPU's (L3) cache and bound the memory; each numpy call costs about a microsecond whatever
# its size, so fewer blocks cost fewer calls (32768: ~4 % faster than 16384 on 100,000 targets, bench/README.md)
BLOCK = 32768

_ARRAY_FIELDS = ("ready_agents", "busy_agents", "queued", "pending", "accepted", "abandoned", "sent", "aht_s",
                 "goal_pct", "declined", "expired", "patience_s", "accept_delay_s", "reserve_agents", "max_rate_share",
                 "stats_age_s", "sent_since_snapshot", "pending_at_snapshot")


def compute_invitations(state: TargetState, config: EngineConfig | None = None) -> np.ndarray:
    """Invitations GPE may send per target in the next interval: int64 array, never negative.

    Vectorised over all targets; the targets are taken in equal blocks of at most ``BLOCK`` so that the
    temporaries stay in cache (a loop over a handful of blocks, never over targets).
    """
    cfg = config or DEFAULT_CONFIG
    size = int(np.asarray(state.ready_agents).size)
    out = np.zeros(size, dtype=np.int64)
    if size == 0:
        return out
    fields = {}
    for name in _ARRAY_FIELDS:
        value = getattr(state, name)
        if value is not None:
            value = np.asarray(value)
            if value.ndim:
                value = value.reshape(-1)
                if value.size == 1:
                    value = np.broadcast_to(value, (size,))
                elif value.size != size:                 # not the contract; pad with NaN (= missing), cut
                    padded = np.full(size, np.nan)
                    padded[: min(size, value.size)] = value[:size]
                    value = padded
        fields[name] = value
    interval = _scalar(state.interval_s, cfg.default_interval_s, 0.1, 86400.0)
    inputs = _Inputs(fields)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # bad inputs are sanitised, not warned of
        # the goal, once for the whole call, and whether any target has a goal at one of its ends (0 %, 100 %)
        raw_goal = fields["goal_pct"]
        if inputs.clean("goal_pct"):                  # all in [0, 100]: the fraction needs no clipping
            goal = raw_goal / 100.0
            goal_lo, goal_hi = float(raw_goal.min()) / 100.0, float(raw_goal.max()) / 100.0
        else:
            goal = _goal(raw_goal, size, cfg.default_goal_pct)
            goal_lo, goal_hi = float(goal.min()), float(goal.max())
        goal_ends = (goal_lo <= 0.0, goal_hi >= 1.0)
        step = -(-size // -(-size // BLOCK))          # blocks of equal size, at most BLOCK (no small last block)
        consts = _constants(min(size, step))
        for lo in range(0, size, step):
            hi = min(lo + step, size)
            out[lo:hi] = _compute_block(_Block(inputs, lo, hi, interval, consts), goal[lo:hi], goal_ends, cfg)
    return out


def _constants(size: int) -> tuple[np.ndarray, ...]:
    """Read-only arrays of 0, 1, 1e-300 and inf: np.maximum and np.minimum of two arrays take about half the time
    of an array and a scalar (numpy 2.4: only the former is vectorised), with the same results."""
    arrays = tuple(np.full(size, v) for v in (0.0, 1.0, 1e-300, math.inf))
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _in_flight(b: _Block, pending: np.ndarray, age: np.ndarray | float, delay):
    """U: invitations the snapshot cannot have seen resolved (pending when it was taken + sent since), >= pending.

    Where both ``pending_at_snapshot`` and ``sent_since_snapshot`` are given: exact. Elsewhere: the answers
    of a steady flow over the age, ``pending * (1 + min(age / delay, 5))``.
    """
    size = b.size
    known = None
    if b.given("sent_since_snapshot") and b.given("pending_at_snapshot"):
        exact = b.all_known("sent_since_snapshot") and b.all_known("pending_at_snapshot")
        if not exact:
            known = _known(b.raw("sent_since_snapshot"), size)
            known &= _known(b.raw("pending_at_snapshot"), size)
            exact = bool(known.all())
        if exact:
            u = np.add(_full(b.count("pending_at_snapshot"), size), b.count("sent_since_snapshot"))
            np.maximum(u, pending, out=u)
            return u
    spread = np.divide(age, np.maximum(delay, 1.0))
    if not np.any(spread):
        flow = pending
    else:
        np.minimum(spread, 5.0, out=spread)
        spread += 1.0
        flow = pending * spread
    if known is None or not known.any():
        return flow
    u = b.count("pending_at_snapshot") + b.count("sent_since_snapshot")
    u = np.where(known, u, flow)
    np.maximum(u, pending, out=u)
    return u


def _compute_block(b: _Block, goal: np.ndarray, goal_ends: tuple[bool, bool], cfg: EngineConfig) -> np.ndarray:
    """One block's invitations as floats, >= 0 (their conversion to int64 truncates: the floor); ``goal`` its goals
    as fractions, ``goal_ends`` whether any target of the call has a goal of 0 or of 100 %.

    No input array is written to (a clean field's values are the caller's array itself); the temporaries are
    updated in place, and the subexpressions the steps share are computed once."""
    size, interval = b.size, b.interval_s
    zeros, ones, tiny, inf = b.consts

    # --- agents, goal, times --------------------------------------------------------------------------------
    ready = _full(b.count("ready_agents"), size)
    busy = _full(b.count("busy_agents"), size)
    reserve = b.count("reserve_agents")
    no_reserve = not isinstance(reserve, np.ndarray) and reserve == 0.0     # then x - reserve == x (x >= 0)
    agents = ready + busy
    n = agents if no_reserve else agents - reserve   # agents for proactive work
    cap_total = agents * cfg.max_invites_per_agent
    cap_total += cfg.max_invites_extra
    del agents
    aht = b.positive("aht_s", cfg.default_aht_s)
    patience = b.positive("patience_s", cfg.default_patience_s)
    delay = b.positive("accept_delay_s", cfg.default_accept_delay_s)
    age = b.count("stats_age_s")
    queued = b.count("queued")
    pending = _full(b.count("pending"), size)

    # --- 1. position: late statistics ------------------------------------------------------------------------
    # completions since the snapshot, busy (1 - e^(-age/AHT)), kept negated: lost = -done
    if isinstance(age, np.ndarray):
        lost = np.divide(age, aht)
        np.negative(lost, out=lost)
        np.expm1(lost, out=lost)
        lost *= busy
    else:
        lost = np.expm1(-(age / aht)) * busy if age else 0.0
    busy_now = busy + lost
    u = _in_flight(b, pending, age, delay)

    # --- accept ratio on resolved invitations (Beta prior) and evidence -----------------------------------
    accepted = _full(b.count("accepted"), size)
    prior_a = cfg.prior_accept * cfg.prior_accept_weight
    if not b.given("declined") and not b.given("expired"):
        resolved = np.maximum(accepted, b.count("sent") - pending)
    else:
        # Targets whose source reports neither count (NaN) fall back to sent − pending, target by target;
        # counting their NaN as 0 would overstate their accept ratio.
        resolved = accepted + b.count("declined")
        resolved += b.count("expired")
        known = None if b.all_known("declined") or b.all_known("expired") else \
            _known(b.raw("declined"), size) | _known(b.raw("expired"), size)
        if known is not None and not known.all():
            resolved = np.where(known, resolved, np.maximum(accepted, b.count("sent") - pending))
        del known
    evidence = resolved                               # the invitations the accept ratio is estimated on
    p_acc = accepted + prior_a
    p_acc /= resolved + cfg.prior_accept_weight
    del resolved
    p_acc.clip(MIN_P_ACCEPT, MAX_P_ACCEPT, out=p_acc)

    # --- 3. damped feedback: the effective goal g * m ---------------------------------------------------------
    abandoned = np.minimum(b.count("abandoned"), accepted)
    k0 = cfg.feedback_prior_accepts
    target = goal * cfg.feedback_target               # g_t: the feedback's aim, and its prior
    ratio = target * k0
    ratio += abandoned                                # r = (abandoned + g_t k0) / (accepted + k0)
    ratio /= accepted + k0
    del accepted
    np.maximum(ratio, tiny, out=ratio)                # 0 only at goal 0 (overridden below) or without a prior
    m = np.divide(target, ratio)
    _power(m, cfg.feedback_power)                     # m = (g_t / r) ** power, clipped
    m.clip(cfg.feedback_min, cfg.feedback_max, out=m)
    m *= cfg.feedback_target                          # g_eff = g m = g_t (g_t / r) ** power
    del target

    # --- 2. the level: n + beta when the new accepts land; beta = -z sigma is the abandonment budget ------
    horizon = delay + 0.5 * interval                  # H: the mean time to the landing of the accepts in flight
    q = 1.0 - p_acc
    vs = max(float(cfg.variance_scale), 0.0)
    # busy_now = max(busy_now, 0) already: busy + busy * expm1(-age / AHT) >= 0 (expm1 >= -1), never -0.0
    lam = np.divide(busy_now, aht)                    # throughput (accepts per second, Little's law)
    base_var = delay * q
    base_var += horizon                               # sigma0^2 = lam (delay (1 - p) + H + age (2 - p)) s:
    if isinstance(age, np.ndarray) or age:            # in flight, completions, and what the snapshot cannot see
        base_var += age * (1.0 + q)
    # small teams: the base-stock truncates the upper tail of the interactions in the system (no invitation
    # while the position is above its level), lighter than the normal's: the variance is scaled down, fully
    # counted from variance_full_agents busy agents on (calibrated: docs/pacing.md)
    busy_1 = np.maximum(busy_now, ones)               # max(busy, 1), also the batch-variance floor's below
    small = busy_1 / max(float(cfg.variance_full_agents), 1e-9)
    np.minimum(small, ones, out=small)
    np.sqrt(small, out=small)
    # anticipated completions: a share of those expected over the horizon, from anticipate_min (1 busy) to 1
    fx = min(max(float(cfg.anticipate_max), 0.0), 1.0)
    fm = min(max(float(cfg.anticipate_min), 0.0), fx)
    anticipate = small * (fx - fm)
    if fm:                                            # (+ 0.0 would change nothing: small (fx - fm) >= +0)
        anticipate += fm
    small *= vs                                       # s = vs sqrt(min(max(busy, 1) / full, 1))
    base_var *= small
    # the new batch's variance per expected accept: at least batch_variance_min of it for the smallest teams,
    # the floor fading as knee / busy above batch_variance_knee busy agents (mid-sized teams: the slope of the
    # level in the free agents stays near the optimal policy's, docs/pacing.md "How far from the optimum")
    floor_bv = np.divide(max(float(cfg.batch_variance_knee), 0.0), busy_1, out=busy_1)
    del busy_1
    np.minimum(floor_bv, ones, out=floor_bv)
    floor_bv *= cfg.batch_variance_min
    np.maximum(floor_bv, small, out=floor_bv)
    qv = np.multiply(q, floor_bv, out=floor_bv)       # q * floor_bv
    del floor_bv
    del q
    ref = qv * interval
    ref += base_var                                   # sigma_ref^2 / lam = s (delay (1 - p) + H + T (1 - p))
    np.maximum(ref, tiny, out=ref)                    # 0 only with variance_scale 0
    rho = np.divide(lam, ref, out=ref)                # rho = g m patience lam / sigma_ref
    del ref
    np.sqrt(rho, out=rho)
    rho *= goal
    rho *= m
    rho *= patience
    z = inverse_normal_loss(rho)
    del rho
    # the tail: the scaled-down variance describes the centre; a margin beyond z = 1 (low goals) is taken on
    # the full variance (base_var / s), reached at z = 2
    tail = z - 1.0
    tail.clip(0.0, 1.0, out=tail)
    if vs > 0.0:                                      # small > 0 exactly when variance_scale > 0
        unscale = np.divide(1.0, small, out=small)
        unscale -= 1.0
        unscale *= tail                               # s_eff / s = 1 + (1/s - 1) clip(z - 1, 0, 1)
        unscale += 1.0
        base_var *= unscale
        qv *= unscale
        del unscale
    del tail, small
    base_var *= lam                                   # sigma0^2

    # capacity C: n - (busy_now + queued) + completions since the snapshot and over the horizon
    free = ready - queued if no_reserve else (ready - reserve) - queued   # also the certain count's start
    cap = free - lost
    flow = busy_now * horizon
    flow /= aht
    flow *= anticipate
    del anticipate
    cap += flow
    del flow, lost
    # new expected accepts y with y + z sigma(y) = C, sigma(y)^2 = sigma0^2 + qv y (the batch is binomial):
    # (y - C)^2 = z^2 (sigma0^2 + qv y) -> y = C + z^2 qv / 2 - sign(z) sqrt(z^2 (C qv + z^2 qv^2 / 4 + sigma0^2))
    z2 = z * z
    half = z2 * qv
    half *= 0.5                                       # z^2 qv / 2
    disc = cap * qv
    qv *= 0.5
    qv *= half
    disc += qv                                        # C qv + z^2 qv^2 / 4
    disc += base_var
    del base_var
    disc *= z2
    del z2
    ok = disc >= 0.0
    np.maximum(disc, zeros, out=disc)
    np.sqrt(disc, out=disc)
    # sign(z) sqrt(disc): z is never NaN; at z = 0, disc = 0 and only the sign of a zero can differ from
    # np.sign's product, which no later step can tell (no division by it, max(., 0) below)
    np.copysign(disc, z, out=disc)
    allowed = cap + half
    allowed -= disc
    del disc, half, qv
    # with a margin (z > 0) the root is at most C; beyond (C < -sigma0^2 / qv: nothing fits) it is not a root
    z_pos = z > 0.0
    np.minimum(allowed, cap if z_pos.all() else np.where(z_pos, cap, inf), out=allowed)
    del z, z_pos
    if not ok.all():
        allowed[~ok] = 0.0
    np.maximum(allowed, zeros, out=allowed)
    del ok
    model = np.divide(allowed, p_acc, out=allowed)
    model -= u
    del allowed, cap

    certain = np.subtract(free, u, out=free)          # ready - reserve - queued - U
    del free

    share = b.raw("max_rate_share")
    # the certain count is scaled down only while the window's (shrunk) ratio is above the goal itself
    floor_mult = np.maximum(ratio, goal)
    np.divide(goal, floor_mult, out=floor_mult)       # g / r while r > g, else 1
    zero_goal = goal <= 0.0 if goal_ends[0] else None
    any_zero = zero_goal is not None and bool(zero_goal.any())
    if any_zero:
        floor_mult[zero_goal] = 1.0                   # goal 0: the certain count is all there is
    del ratio
    _power(floor_mult, cfg.feedback_power)
    if share is not None:
        share = _positive(share, size, math.inf, 0.0, math.inf)
        capped = np.isfinite(share) if isinstance(share, np.ndarray) else np.full(size, math.isfinite(share))
        if capped.any():
            s_cap = _full(share, size)[capped]
            g_cap = np.clip(goal[capped], MIN_GOAL, MAX_GOAL)
            a_cap = _full(aht, size)[capped]
            p_cap = _full(patience, size)[capped]
            n_cap = np.maximum(n[capped], 0.0)
            r_cap = np.clip(a_cap / p_cap, MIN_R, MAX_R)
            table = max_load_table()
            rate = table.lookup(n_cap, r_cap, g_cap)
            big = n_cap > table.n_last
            rate[big] *= n_cap[big] / table.n_last
            rate *= s_cap / a_cap
            level = _full(horizon, size)[capped] + a_cap * (1.0 - g_cap) + g_cap * p_cap
            room = rate * level - busy_now[capped] - _full(queued, size)[capped]
            np.maximum(room, 0.0, out=room)
            cap_share = room / p_acc[capped] - u[capped]
            model[capped] = np.minimum(model[capped], cap_share)
        floor_mult = np.minimum(floor_mult, share)
    del p_acc, u

    # blend by evidence (cold start: the certain count), floor at the certain count
    weight = evidence + cfg.cold_start_evidence
    np.divide(evidence, weight, out=weight)
    del evidence
    model -= certain
    model *= weight                                   # w * (model - certain) + certain
    model += certain
    del weight
    certain *= floor_mult
    inv = np.maximum(model, certain, out=model)
    del model

    # --- 5. the goal's ends -----------------------------------------------------------------------------------
    if any_zero:
        inv[zero_goal] = certain[zero_goal]           # 0 %: only what free agents can certainly take
    no_limit = goal >= 1.0 if goal_ends[1] else None
    if no_limit is not None and no_limit.any():
        inv[no_limit] = cap_total[no_limit]          # 100 %: no limit but the cap
    del certain

    # --- bounds -------------------------------------------------------------------------------------------
    np.minimum(inv, cap_total, out=inv)
    np.maximum(inv, zeros, out=inv)
    no_agents = n <= 0.0
    if no_agents.any():
        inv[no_agents] = 0.0
    return inv                                        # >= 0 (or NaN): int64 of it is its floor
