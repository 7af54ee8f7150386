"""The pacing engine: how many proactive invitations GPE may send per target in the next interval.

Pure numpy (imports numpy and ``pacing.queueing`` only), vectorised over all targets at once; the
algorithm is OURS (the vendor never published its own) and is documented in docs/pacing.md.
In one paragraph, per target:

1. ``n`` = ready + busy - reserve agents. Erlang A (M/M/n+M, r = AHT/patience) gives the largest
   offered load ``a*`` whose abandonment probability stays at the goal g (exact vectorised bisection at
   the nodes of a lazily filled grid over (n, r, g), trilinear interpolation in between):
   ``lam* = a*/AHT`` accepted interactions per second.
2. A slow feedback multiplier ``f`` in [0.5, 1.5] on the OBSERVED abandonment ratio of the stats
   window, shrunk towards the goal by a prior of ``feedback_prior_accepts`` accepted interactions,
   scales the rate; an optional ``max_rate_share`` caps it (reactive-traffic protection).
3. The horizon ``W`` = interval + accept delay. Capacity for new accepts in that horizon = rate * W
   plus the target level ``L = rate * (AHT (1 - g) + g * patience)`` (Little's law at the goal)
   minus what the agents already carry (busy + queued).
4. New accepts are binomial; a margin of ``safety_z`` standard deviations (Poisson bound on the
   binomial variance) turns the capacity ``c`` into allowed expected accepts ``E`` with
   ``E + z sqrt(E) = c``; invitations ``E / p`` minus those still pending, where ``p`` is the accept
   ratio on RESOLVED invitations (accepted / (accepted + declined + expired)) with a Beta prior.
5. Progressive fallback: ``ready - reserve - queued - pending`` (every pending invitation counted as
   an accept). With no history the engine is purely progressive; the model's weight grows with the
   evidence (``e / (e + cold_start_evidence)``); the progressive count, scaled down by the feedback
   when abandonment runs high, is also a floor (it cannot over-commit ready agents).
6. Floor, cap at ``max_invites_per_agent * (ready + busy) + max_invites_extra``, zero without agents.

Every input may be NaN, inf or negative: counts then count as 0, rates and times as missing (their
default). The result is int64, never negative, monotone non-decreasing in ready agents and
non-increasing in pending invitations and queued interactions (tests/pacing/test_engine.py).
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

    * ``ready_agents`` -- agents of the target's groups ready for the media now.
    * ``busy_agents`` -- agents of those groups handling an interaction now (any origin: reactive work
      counts, it occupies the agent).
    * ``queued`` -- PACS_VQ_Current: accepted interactions waiting for an agent.
    * ``pending`` -- invitations sent and not yet answered, from GPE's last reply (0 on the first cycle).
    * ``accepted``, ``abandoned`` -- PACS_VQ_Accepted / PACS_VQ_Abandoned over the stats window
      (abandoned interactions are accepted ones the visitor closed before an agent joined).
    * ``sent`` -- invitations sent over the same window.
    * ``aht_s`` -- average handle time of the proactive interactions, seconds (missing: the default).
    * ``goal_pct`` -- optimizationGoal, percent of accepted interactions abandoned (missing: 3).
    * ``interval_s`` -- scalar: the pacing refresh period, seconds.

    Optional (arrays or scalars; ``None`` = not available):

    * ``declined``, ``expired`` -- invitations declined / expired over the window. With them the accept
      ratio is estimated on resolved invitations; without them resolved = max(accepted, sent - pending).
    * ``patience_s`` -- mean visitor patience once accepted, seconds (default 60).
    * ``accept_delay_s`` -- mean time from invitation to answer, seconds (default 20).
    * ``reserve_agents`` -- agents kept out of the proactive capacity (reactive protection; default 0).
    * ``max_rate_share`` -- cap of the proactive accept rate as a share of the Erlang-A rate at the goal
      (reactive protection; default off).
    * ``stats_age_s`` -- seconds since each target's statistics snapshot was taken (NaN: no snapshot), filled
      by the pacing cycle. Not used by the computation yet (the next engine version builds on it).
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
    cold_start_evidence: float = 20.0    # model weight e / (e + this); 0 evidence = progressive
    feedback_gain: float = 0.5
    feedback_prior_accepts: float = 300.0
    feedback_min: float = 0.5
    feedback_max: float = 1.5
    safety_z: float = 1.0
    max_invites_per_agent: float = 10.0
    max_invites_extra: float = 10.0


DEFAULT_CONFIG = EngineConfig()

# Plausibility bounds of sanitised inputs.
MAX_AGENTS = 1e6
MAX_COUNT = 1e12
MIN_GOAL, MAX_GOAL = 0.001, 0.5          # fractions: optimizationGoal clipped to [0.1 %, 50 %]
MIN_R, MAX_R = 0.01, 100.0               # AHT / patience
MIN_P_ACCEPT, MAX_P_ACCEPT = 0.01, 1.0


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
# Input sanitation
# ---------------------------------------------------------------------------------------------------------------

def _count(value, size: int, hi: float = MAX_COUNT) -> np.ndarray | float:
    """A count: NaN, inf, negative or missing -> 0; clipped to hi. Arrays are copied (float64)."""
    if value is None:
        return 0.0
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        return min(v, hi) if math.isfinite(v) and v > 0 else 0.0
    out = np.array(arr, dtype=np.float64, copy=True).reshape(size)
    out[~np.isfinite(out)] = 0.0
    np.clip(out, 0.0, hi, out=out)
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
    out = np.array(arr, dtype=np.float64, copy=True).reshape(size)
    out[~(np.isfinite(out) & (out > 0))] = default
    np.clip(out, lo, hi, out=out)
    return out


def _goal(value, size: int, default_pct: float) -> np.ndarray:
    """optimizationGoal as a fraction: NaN, inf, negative or missing -> default; 0 allowed; clipped."""
    if value is None:
        out = np.full(size, default_pct, dtype=np.float64)
    else:
        arr = np.asarray(value, dtype=np.float64)
        out = np.array(np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (size,)), dtype=np.float64)
        out[~(np.isfinite(out) & (out >= 0))] = default_pct
    out /= 100.0
    np.clip(out, MIN_GOAL, MAX_GOAL, out=out)
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


def _is_missing(value) -> bool:
    return value is None


def _full(value, size: int) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.shape == (size,):
        return value
    return np.full(size, value, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------------

BLOCK = 16384  # targets per block: a block's temporaries stay in the CPU cache (and bound the memory)

_ARRAY_FIELDS = ("ready_agents", "busy_agents", "queued", "pending", "accepted", "abandoned", "sent", "aht_s",
                 "goal_pct", "declined", "expired", "patience_s", "accept_delay_s", "reserve_agents", "max_rate_share")


def compute_invitations(state: TargetState, config: EngineConfig | None = None) -> np.ndarray:
    """Invitations GPE may send per target in the next interval: int64 array, never negative.

    Vectorised over all targets; the targets are taken in blocks of ``BLOCK`` so that the temporaries
    stay in cache (a loop over a handful of blocks, never over targets).
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
    for lo in range(0, size, BLOCK):
        hi = min(lo + BLOCK, size)
        part = TargetState(**{k: (v[lo:hi] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in fields.items()},
                           interval_s=interval)
        out[lo:hi] = _compute_block(part, cfg, hi - lo)
    return out


def _compute_block(state: TargetState, cfg: EngineConfig, size: int) -> np.ndarray:
    z = max(float(cfg.safety_z), 0.0) if math.isfinite(cfg.safety_z) else 0.0
    interval = state.interval_s

    # --- agents ---------------------------------------------------------------------------------------------
    ready = _full(_count(state.ready_agents, size, MAX_AGENTS), size)
    busy = _count(state.busy_agents, size, MAX_AGENTS)
    reserve = _count(state.reserve_agents, size, MAX_AGENTS)
    n = ready + busy
    cap_total = n * cfg.max_invites_per_agent        # later + extra; from ready + busy
    n -= reserve
    np.maximum(n, 0.0, out=n)

    # --- Erlang A capacity ----------------------------------------------------------------------------------
    aht = _positive(state.aht_s, size, cfg.default_aht_s, 1.0, 86400.0)
    patience = _positive(state.patience_s, size, cfg.default_patience_s, 1.0, 86400.0)
    goal_v = _goal(state.goal_pct, size, cfg.default_goal_pct)
    r = _full(np.clip(np.divide(aht, patience), MIN_R, MAX_R), size)
    table = max_load_table()
    rate = table.lookup(n, r, goal_v)                 # a* (Erlangs)
    del r
    big = n > table.n_last                            # beyond the grid: the last node's load per agent
    if big.any():
        rate[big] *= n[big] / table.n_last
    del big
    rate /= aht                                       # lam* (accepts per second)

    # --- feedback on the observed abandonment ratio ---------------------------------------------------------
    accepted = _full(_count(state.accepted, size), size)
    abandoned = np.minimum(_count(state.abandoned, size), accepted)
    fb = goal_v * accepted
    fb -= abandoned
    del abandoned
    denom = goal_v * (accepted + cfg.feedback_prior_accepts)
    fb /= denom
    del denom
    fb *= cfg.feedback_gain
    fb += 1.0
    np.clip(fb, cfg.feedback_min, cfg.feedback_max, out=fb)
    share = state.max_rate_share
    if not _is_missing(share):
        share = _positive(share, size, math.inf, 0.0, math.inf)
        mult = np.minimum(fb, share)
        floor_mult = np.minimum(mult, 1.0)
    else:
        mult = fb
        floor_mult = np.minimum(fb, 1.0)
    rate *= mult
    del mult, fb

    # --- capacity for new accepts over the horizon ----------------------------------------------------------
    delay = _positive(state.accept_delay_s, size, cfg.default_accept_delay_s, 0.0, 86400.0)
    horizon = delay + interval
    level = aht * (1.0 - goal_v)
    level += goal_v * patience
    level += horizon                                  # rate * (W + AHT (1-g) + g patience)
    del goal_v
    cap = rate
    cap *= level
    del level, rate
    queued = _count(state.queued, size)
    cap -= busy
    cap -= queued

    # allowed expected accepts E with E + z sqrt(E) <= cap: sqrt(E) = 2 cap / (z + sqrt(z^2 + 4 cap))
    np.maximum(cap, 0.0, out=cap)
    root = cap * 4.0
    root += z * z
    np.sqrt(root, out=root)
    root += z
    np.maximum(root, 1e-300, out=root)                # z = 0 and cap = 0: 0 / tiny = 0, not NaN
    cap *= 2.0
    cap /= root
    del root
    cap *= cap                                        # E

    # --- accept ratio on resolved invitations (Beta prior) and evidence -----------------------------------
    pending = _count(state.pending, size)
    prior_a = cfg.prior_accept * cfg.prior_accept_weight
    if _is_missing(state.declined) and _is_missing(state.expired):
        sent = _count(state.sent, size)
        resolved = np.maximum(accepted, sent - pending)
        evidence = np.maximum(accepted, sent)
        del sent
    else:
        # Targets whose source reports neither count (NaN) fall back to sent − pending, target by target;
        # counting their NaN as 0 would overstate their accept ratio.
        known = _known(state.declined, size) | _known(state.expired, size)
        resolved = accepted + _count(state.declined, size)
        resolved += _count(state.expired, size)
        if not known.all():
            sent = _count(state.sent, size)
            resolved = np.where(known, resolved, np.maximum(accepted, sent - pending))
            evidence = np.where(known, resolved, np.maximum(accepted, sent))
            del sent
        else:
            evidence = resolved.copy()
        del known
    resolved += cfg.prior_accept_weight
    p_acc = accepted + prior_a
    p_acc /= resolved
    del resolved, accepted
    np.clip(p_acc, MIN_P_ACCEPT, MAX_P_ACCEPT, out=p_acc)

    model = cap
    model /= p_acc                                    # invitations outstanding allowed
    model -= pending
    del p_acc

    # --- progressive fallback, cold-start blend ------------------------------------------------------------
    prog = ready - reserve
    prog -= queued
    prog -= pending
    del queued
    weight = evidence / (evidence + cfg.cold_start_evidence)
    del evidence
    model -= prog
    model *= weight                                   # w * (model - prog) + prog
    model += prog
    del weight
    prog *= floor_mult
    inv = np.maximum(model, prog)
    del model, prog

    # --- bounds -------------------------------------------------------------------------------------------
    cap_total += cfg.max_invites_extra
    np.minimum(inv, cap_total, out=inv)
    np.maximum(inv, 0.0, out=inv)
    inv[n <= 0.0] = 0.0
    np.floor(inv, out=inv)
    return inv
