"""A per-individual, continuous-time, event-driven contact-centre simulator of many pacing targets at once.

What it is for: an INDEPENDENT check of the pacing engine. ``ContactCentre`` (contact_centre.py) counts
visitors in 1-second steps with memoryless times, which are the engine's own assumptions; this simulator keeps
every invitation, every visitor and every chat as an individual with its own times, drawn from distributions
the engine does not assume, and reports statistics the way a Stat Server does (late, and over a window).
Everything here is OURS. Pure Python + numpy; one seeded ``numpy.random.Generator`` (same seed, same
parameters, same calls -> the same trajectory).

The model, per target (parameters in ``PARAMS``; each a scalar or one value per target):

* **Hot leads** (visitors GPE may invite) arrive as a Poisson process (``lead_rate`` per second, ``inf`` =
  unlimited) and stay on the site for an exponential time (mean ``lead_lifetime_s``). ``invite(counts)``
  gives each target an allowance until ``valid_s`` from now (default one interval; the previous allowance
  is replaced): it is spent at once on the leads present, then on each lead as it arrives. (Leads waiting
  for an invitation are the one thing kept as a count: with memoryless stays they are exchangeable, and the
  count is updated exactly -- binomial survivors, Poisson arrivals -- whenever it is read.)
* **Invitations.** Each sent invitation has its own response time: ``response_min_s`` (nobody can click
  before) plus an exponential part, the mean of the whole being ``accept_delay_s``. At that time it is
  accepted with probability ``p_accept`` (read at the answer: a drifting ratio applies to answers as they
  come), otherwise expired (share ``expire_share`` of the rest) or declined. Until then it is *pending*.
* **Visitors.** An accepted visitor joins the target's first-come first-served queue, or goes straight to a
  free agent. Each has its own patience: Weibull with mean ``patience_s`` and shape ``patience_shape``
  (1 = exponential; < 1 heavy-tailed: many leave very soon, a few wait very long; > 1 light-tailed). A
  visitor still waiting when the patience runs out *abandons* (closes the chat before an agent joined).
* **Chats.** Each has its own handle time: exponential with mean ``aht_s`` (``handle_cv <= 0``) or
  lognormal with mean ``aht_s`` and coefficient of variation ``handle_cv`` (e.g. 0.5 … 1.5).
* **Agents** are individuals. A free agent takes the head of the queue at once; the longest-idle agent
  takes a new visitor. When ``agents`` drops, idle agents log out at once (the longest idle first), then
  randomly chosen busy ones are marked *leaving*: each finishes its own chat, takes no other, and logs out.
  Leaving agents count as busy (they handle a chat) and as logged in until they finish. A log-in adds new
  agents (those leaving still leave).
* **Changes over time.** ``schedule(at_s, targets, **values)``: a step change of any parameter at a time
  (log-ins and log-outs, a lunch wave, a change of visitors' behaviour). ``drift(times_s, targets,
  **values)``: piecewise-linear schedules of parameters (knot times and values; not applied before the
  first knot, the last value kept after the last), applied every ``drift_step_s`` (default: the interval,
  5 s) -- e.g. the accept ratio from 30 % to 10 % within an hour and back, the AHT rising by half within an hour, agents
  logging in over 20 minutes (``agents`` is rounded to whole agents).

Statistics (what the pacing engine sees; ``target_state()``), as a Stat Server reports them:

* **Agents and queue "now"** (ready = idle agents, busy, queued = PACS_VQ_Current) come from a snapshot
  taken ``stats_delay_s`` ago (per target; snapshots are recorded every ``tick_s`` = 1 s, so the delay is
  rounded up to a whole tick; 0 = live). Before the run is that old, the first snapshot (t = 0) is used.
* **Window counts** of the same snapshot: sent, accepted, declined, expired, abandoned, completed over the
  ``window_s`` before the snapshot (buckets of ``interval_s``: the full buckets of the window plus the
  current partial one, as ContactCentre does).
* **AHT**: the mean handle time of the chats COMPLETED in that window (a Stat Server's average over
  finished interactions). Before the first completion it is NaN (unknown: the engine uses its default);
  when the window holds no completion but earlier ones exist, the mean of all chats completed up to the
  snapshot. (Right after a cold start it is biased low: only short chats have ended; docs/pacing.md.)
  ``aht_stat="censored"`` (not the default) reports instead the agents' busy time over the window -- the
  completed chats' and the elapsed part of those in progress -- divided by the chats completed in it (the
  time-on-test estimate of ContactCentre's default, unbiased for exponential handle times).
* **Pending invitations** come from GPE's reply and are CURRENT (never delayed).
* ``TargetState.stats_age_s`` = the age of the snapshot used (0 when live); ``sent_since_snapshot`` and
  ``pending_at_snapshot`` (also methods) = the invitations sent since each target's snapshot and those
  pending when it was taken (the pacing cycle knows both: what it posted, and GPE's replies).

Accounting over the run (``totals()``, the same keys as ContactCentre's): leads, sent, accepted, declined,
expired, abandoned, served (an agent joined), completed, ``busy_s`` (agent busy time, chats in progress
included), ``present_s`` (logged-in agent time), ``handle_s`` (handle time of completed chats), and the
current queued, pending, busy and leaving. Invariants: accepted = served + abandoned + queued; sent =
accepted + declined + expired + pending; served = completed + busy.

Implementation: one global heap of events (invitation answered, patience over, chat over, lead arrival
while an allowance is open), processed in time order (ties by insertion order); abandonment events of
visitors already served are skipped lazily. Random variates are drawn in blocks of 16,384 (standard
exponentials, normals and uniforms) and consumed one by one; counters are ``array.array`` so that a
snapshot is a memory copy. Fixed-grid work (snapshots every ``tick_s``, window buckets every
``interval_s``, drifts every ``drift_step_s``) runs between events.

The exponential case (``patience_shape`` 1, ``handle_cv`` 0, ``response_min_s`` 0, ``stats_delay_s`` 0) is
the count simulator's model in continuous time; tests/pacing/test_individual_simulator.py checks that the two
agree within noise and that a static Poisson stream of accepts reproduces Erlang A (M/M/n+M).
"""

from __future__ import annotations

import heapq
import math
import time
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import numpy as np

from pacing.engine import EngineConfig, TargetState, compute_invitations

__all__ = ["PARAMS", "IndividualCentre", "weibull_scale"]

# Per-target parameters and their defaults (ours). Shared names mean what they mean in ContactCentre.
PARAMS: dict[str, float] = {
    "agents": 10,              # agents logged in
    "aht_s": 300.0,            # mean handle time, s
    "handle_cv": 0.0,          # <= 0: exponential handle times; > 0: lognormal with this coefficient of variation
    "patience_s": 60.0,        # mean patience of an accepted visitor waiting for an agent, s
    "patience_shape": 1.0,     # Weibull shape of the patience: 1 exponential, < 1 heavy-tailed, > 1 light-tailed
    "accept_delay_s": 20.0,    # mean time from invitation to answer, s (response_min_s included)
    "response_min_s": 0.0,     # nobody answers sooner than this after the invitation, s
    "p_accept": 0.3,           # probability that an answered invitation is accepted
    "expire_share": 0.3,       # of the invitations not accepted, the share that expire (the rest are declined)
    "lead_rate": math.inf,     # hot leads arriving per second (inf: unlimited)
    "lead_lifetime_s": 120.0,  # mean time a hot lead stays on the site, s
    "goal_pct": 3.0,           # optimizationGoal given to the engine
    "stats_delay_s": 0.0,      # age of the Stat Server snapshot the engine sees (agents, queue, window), s
}

# Cumulative counters (rows of the snapshots); "handle" is the handle time of completed chats, seconds.
_CUM = ("sent", "accepted", "declined", "expired", "abandoned", "completed", "handle")
_STATE = ("ready", "busy", "queued")
_CUMX = _CUM + ("busy_time",)     # + agent busy time so far (completed chats and the elapsed part of the others)
_ROWS = _STATE + _CUMX
_R = {name: i for i, name in enumerate(_ROWS)}

# Event kinds (the third element of a heap entry).
_RESOLVE, _PATIENCE, _END, _LEAD = 0, 1, 2, 3

_BLOCK = 16384
_EPS = 1e-9


def weibull_scale(mean, shape):
    """The Weibull scale whose distribution has this mean: mean / Gamma(1 + 1/shape)."""
    mean = np.asarray(mean, dtype=np.float64)
    shape = np.asarray(shape, dtype=np.float64)
    g = np.exp(np.vectorize(math.lgamma, otypes=[float])(1.0 + 1.0 / shape))
    return mean / g


@dataclass
class _Change:
    at_s: float
    values: dict[str, Any]
    targets: np.ndarray | None
    order: int


@dataclass
class _Drift:
    times: np.ndarray                  # knot times, s (increasing)
    values: dict[str, np.ndarray]      # param -> (knots, len(targets)) or (knots, 1)
    targets: np.ndarray | None


def _stream(draw):
    """An endless iterator over blocks of variates from ``draw(n)`` (one generator: deterministic order)."""
    while True:
        yield from draw(_BLOCK).tolist()


def _snapshot_class():
    try:
        from pacing.stats import StatsSnapshot  # noqa: PLC0415 - optional, and Django-free callers need not have it
    except ImportError:
        from pacing.simulators.contact_centre import _Fallback  # noqa: PLC0415
        return _Fallback
    return StatsSnapshot


class IndividualCentre:
    """Many pacing targets, every visitor and chat an individual, in continuous time. See the module docstring.

    Parameters (each a scalar or one entry per target): see ``PARAMS``. ``n_targets`` may be omitted when
    ``names`` is given or a parameter is an array. ``tick_s``: the snapshot grid (stats delays are rounded up
    to it); ``drift_step_s``: how often drifts are applied (default ``interval_s``); ``max_delay_s``: the
    longest stats delay kept without reallocating (grown when a larger one is set).
    """

    def __init__(self, n_targets: int | None = None, *, names: Sequence[str] | None = None, seed: int | None = 0,
                 interval_s: float = 5.0, window_s: float = 900.0, tick_s: float = 1.0,
                 drift_step_s: float | None = None, max_delay_s: float = 60.0, initial_leads: bool = True,
                 aht_stat: str = "window", **params: Any) -> None:
        _check(params)
        if aht_stat not in ("window", "censored"):
            raise ValueError("aht_stat must be 'window' or 'censored'")
        self.aht_stat = aht_stat
        if n_targets is None:
            if names is not None:
                n_targets = len(names)
            else:
                sizes = [np.size(v) for v in params.values() if np.ndim(v)]
                n_targets = max(sizes) if sizes else 1
        size = int(n_targets)
        names = list(names) if names is not None else [f"target-{i}" for i in range(size)]
        if len(names) != size:
            raise ValueError("names and n_targets disagree")
        self.interval_s = float(interval_s)
        self.tick_s = float(tick_s)
        self.bucket_ticks = max(1, round(self.interval_s / self.tick_s))
        self.window_buckets = max(1, round(window_s / (self.bucket_ticks * self.tick_s)))
        self.window_s = self.window_buckets * self.bucket_ticks * self.tick_s
        self.drift_ticks = max(1, round((self.interval_s if drift_step_s is None else drift_step_s) / self.tick_s))
        self.initial_leads = bool(initial_leads)
        #: the engine's protection of other traffic (TargetState.reserve_agents / max_rate_share); off by default
        self.reserve_agents = None
        self.max_rate_share = None

        self.rng = np.random.default_rng(seed)
        self._exp = _stream(self.rng.standard_exponential).__next__
        self._norm = _stream(self.rng.standard_normal).__next__
        self._unif = _stream(self.rng.random).__next__
        self._heap: list = []
        self._seq = count()
        self._t = 0.0                     # simulated time, s
        self._tick = 0                    # ticks done (snapshot k taken at k * tick_s)
        self._changes: list[_Change] = []
        self._change_count = 0
        self._drifts: list[_Drift] = []

        self.size = 0
        self.names: list[str] = []
        self.p: dict[str, np.ndarray] = {k: np.zeros(0) for k in PARAMS}
        self.p["agents"] = np.zeros(0, dtype=np.int64)
        # per-target state (Python lists and array.array: fast scalar access in the event loop)
        self._queue: list[deque] = []
        self._idle: list[deque] = []
        self._busy_set: list[set] = []
        self._leaving: list[set] = []
        self._next_agent: list[int] = []
        self._leads: list[int] = []       # leads present (not invited) at _lead_clock
        self._lead_clock: list[float] = []
        self._lead_wait: list[bool] = []  # a lead-arrival event is in the heap
        self._allow: list[int] = []
        self._allow_until: list[float] = []
        self._c = {k: array("d" if k == "handle" else "q") for k in _CUM}
        self._ready = array("q")
        self._busy = array("q")
        self._queued = array("q")
        self._pending = array("q")
        self._n_leaving = array("q")
        self._served = array("q")
        self._leads_total = array("q")
        self._start_sum = array("d")      # sum of start times of the chats in progress
        self._present = array("d")        # logged-in agent-seconds up to _present_at
        self._present_at = array("d")
        self._derived: dict[str, list] = {}
        self._ring_len = self._ticks_for(max_delay_s) + 2
        self._snap = np.zeros((self._ring_len, len(_ROWS), 0))
        self._buckets = np.zeros((self.window_buckets + self._ring_len // self.bucket_ticks + 3, len(_CUMX), 0))
        self._alloc(names, params)
        self._record_tick()               # snapshot 0 (and bucket 0)

    # ------------------------------------------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------------------------------------------

    def _ticks_for(self, seconds: float) -> int:
        return max(0, math.ceil(float(seconds) / self.tick_s - _EPS))

    @staticmethod
    def _param(value: Any, size: int) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float64)
        return np.array(np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (size,)), dtype=np.float64)

    def _alloc(self, names: Sequence[str], params: dict[str, Any]) -> np.ndarray:
        k = len(names)
        first = self.size
        for key, default in PARAMS.items():
            extra = self._param(params.get(key, default), k)
            if key == "agents":
                extra = np.maximum(np.rint(extra), 0).astype(np.int64)
            self.p[key] = np.concatenate([self.p[key], extra])
        self.names.extend(names)
        self.size += k
        zeros_q = array("q", bytes(8 * k))
        zeros_d = array("d", bytes(8 * k))
        for arr in (self._ready, self._busy, self._queued, self._pending, self._n_leaving, self._served,
                    self._leads_total):
            arr.extend(zeros_q)
        for key in _CUM:
            self._c[key].extend(zeros_d if key == "handle" else zeros_q)
        self._start_sum.extend(zeros_d)
        self._present.extend(zeros_d)
        self._present_at.extend(array("d", [self._t] * k))
        for _ in range(k):
            self._queue.append(deque())
            self._idle.append(deque())
            self._busy_set.append(set())
            self._leaving.append(set())
            self._next_agent.append(0)
            self._leads.append(0)
            self._lead_clock.append(self._t)
            self._lead_wait.append(False)
            self._allow.append(0)
            self._allow_until.append(-1.0)
        pad = np.zeros(self._snap.shape[:2] + (k,))
        self._snap = np.concatenate([self._snap, pad], axis=2)
        self._buckets = np.concatenate([self._buckets, np.zeros(self._buckets.shape[:2] + (k,))], axis=2)
        new = np.arange(first, self.size)
        self._derive(None, new)
        for i in new.tolist():
            self._set_agents(i, int(self.p["agents"][i]))
        if self.initial_leads:
            for i in new.tolist():
                rate = self._derived["lead_rate"][i]
                if math.isfinite(rate) and rate > 0:
                    life = self._derived["lead_life"][i]
                    self._leads[i] = int(self.rng.poisson(rate * life))
        self._check_delay()
        return new

    def add_targets(self, names: Sequence[str], **params: Any) -> np.ndarray:
        """Append targets (parameters as in the constructor); returns their indices."""
        _check(params)
        return self._alloc(list(names), params)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def _derive(self, keys, idx) -> None:
        """Refresh the per-target values the event loop reads (Python lists) for these params and targets."""
        p = self.p
        d = self._derived
        size = self.size
        idx = np.arange(size) if idx is None else np.asarray(idx, dtype=np.int64).reshape(-1)
        if not d:
            for name in ("p_accept", "expire_share", "aht", "cv_sigma", "cv_mu", "pat_scale", "pat_inv_shape",
                         "resp_min", "resp_rand", "lead_rate", "lead_life"):
                d[name] = []
        for name in d:
            if len(d[name]) < size:
                d[name].extend([0.0] * (size - len(d[name])))
        if idx.size == 0:
            return
        keys = set(PARAMS) if keys is None else set(keys)

        def put(name, values):
            lst = d[name]
            for j, v in zip(idx.tolist(), np.asarray(values, dtype=np.float64).tolist(), strict=True):
                lst[j] = v

        if keys & {"p_accept"}:
            put("p_accept", np.clip(p["p_accept"][idx], 0.0, 1.0))
        if keys & {"expire_share"}:
            put("expire_share", np.clip(p["expire_share"][idx], 0.0, 1.0))
        if keys & {"aht_s", "handle_cv"}:
            aht = np.maximum(p["aht_s"][idx], 1e-9)
            cv = np.maximum(p["handle_cv"][idx], 0.0)
            sigma = np.sqrt(np.log1p(cv * cv))
            put("aht", aht)
            put("cv_sigma", sigma)
            put("cv_mu", np.log(aht) - 0.5 * sigma * sigma)
        if keys & {"patience_s", "patience_shape"}:
            shape = np.clip(p["patience_shape"][idx], 0.05, 50.0)
            put("pat_scale", weibull_scale(np.maximum(p["patience_s"][idx], 1e-9), shape))
            put("pat_inv_shape", 1.0 / shape)
        if keys & {"accept_delay_s", "response_min_s"}:
            lo = np.maximum(p["response_min_s"][idx], 0.0)
            put("resp_min", lo)
            put("resp_rand", np.maximum(p["accept_delay_s"][idx] - lo, 0.0))
        if keys & {"lead_rate", "lead_lifetime_s"}:
            rate = p["lead_rate"][idx]
            put("lead_rate", np.where(np.isnan(rate), 0.0, np.maximum(rate, 0.0)))
            put("lead_life", np.maximum(p["lead_lifetime_s"][idx], 1e-9))
        if "stats_delay_s" in keys:
            self._check_delay()

    def _check_delay(self) -> None:
        """Grow the snapshot ring when a stats delay longer than it holds is set (history kept)."""
        if not self.size:
            return
        need = self._ticks_for(float(np.max(np.maximum(self.p["stats_delay_s"], 0.0)))) + 2
        if need <= self._ring_len:
            return
        old = self._snap
        new = np.zeros((need,) + old.shape[1:])
        for k in range(max(0, self._tick - self._ring_len + 1), self._tick + 1):
            new[k % need] = old[k % self._ring_len]
        self._snap, self._ring_len = new, need
        nb = self.window_buckets + need // self.bucket_ticks + 3
        if nb > self._buckets.shape[0]:
            oldb = self._buckets
            newb = np.zeros((nb,) + oldb.shape[1:])
            last = self._tick // self.bucket_ticks
            for b in range(max(0, last - oldb.shape[0] + 1), last + 1):
                newb[b % nb] = oldb[b % oldb.shape[0]]
            self._buckets = newb

    def schedule(self, at_s: float, targets: Sequence[int] | np.ndarray | None = None, **values: Any) -> None:
        """At simulated time ``at_s`` set these parameters (scalars or arrays matching ``targets``)."""
        _check(values)
        idx = None if targets is None else np.asarray(targets, dtype=np.int64).reshape(-1)
        self._change_count += 1
        self._changes.append(_Change(float(at_s), dict(values), idx, self._change_count))
        self._changes.sort(key=lambda c: (c.at_s, c.order))

    def drift(self, times_s: Sequence[float], targets: Sequence[int] | np.ndarray | None = None,
              **values: Sequence[Any]) -> None:
        """Piecewise-linear schedules: each parameter goes through ``values[k]`` at ``times_s[k]`` (linear in
        between; nothing before the first knot, the last value after the last), applied every ``drift_step_s``.
        A knot value is a scalar or an array matching ``targets``.
        E.g. ``drift([3600, 7200, 10800], p_accept=[0.3, 0.1, 0.3])``."""
        _check(values)
        times = np.asarray(times_s, dtype=np.float64).reshape(-1)
        if times.size == 0 or np.any(np.diff(times) < 0):
            raise ValueError("drift knot times must be given in increasing order")
        idx = None if targets is None else np.asarray(targets, dtype=np.int64).reshape(-1)
        width = self.size if idx is None else idx.size
        knots = {}
        for key, seq in values.items():
            rows = [self._param(v, width) for v in seq]
            if len(rows) != times.size:
                raise ValueError(f"{key}: {len(rows)} values for {times.size} knot times")
            knots[key] = np.stack(rows)
        self._drifts.append(_Drift(times, knots, idx))
        self._apply_drifts(self._t)

    def set(self, targets: Sequence[int] | np.ndarray | None = None, **values: Any) -> None:
        """Change parameters now (``agents``: log-ins, or log-outs -- idle first, busy ones finish first)."""
        _check(values)
        idx = np.arange(self.size) if targets is None else np.asarray(targets, dtype=np.int64).reshape(-1)
        for key, value in values.items():
            arr = self.p[key]
            value = np.asarray(value, dtype=np.float64)
            if key == "agents":
                value = np.maximum(np.rint(value), 0).astype(np.int64)
                arr[idx] = value
                for i, n in zip(idx.tolist(), np.broadcast_to(value, idx.shape).tolist(), strict=True):
                    self._set_agents(i, n)
            else:
                arr[idx] = value
        self._derive(values.keys(), idx)

    # ------------------------------------------------------------------------------------------------------
    # agents
    # ------------------------------------------------------------------------------------------------------

    def _present_mark(self, i: int) -> None:
        t = self._t
        self._present[i] += (self._ready[i] + self._busy[i]) * (t - self._present_at[i])
        self._present_at[i] = t

    def _set_agents(self, i: int, n: int) -> None:
        """Log agents in or out so that ``n`` are logged in and staying (leaving ones excluded)."""
        staying = self._ready[i] + self._busy[i] - self._n_leaving[i]
        if n == staying:
            return
        self._present_mark(i)
        if n > staying:
            idle = self._idle[i]
            for _ in range(n - staying):
                idle.append(self._next_agent[i])
                self._next_agent[i] += 1
            self._ready[i] += n - staying
            self._serve_queue(i, self._t)
            return
        drop = staying - n
        idle = self._idle[i]
        k = min(drop, len(idle))
        for _ in range(k):
            idle.popleft()                                # the longest idle logs out first
        self._ready[i] -= k
        drop -= k
        if drop:
            leaving = self._leaving[i]
            candidates = sorted(self._busy_set[i] - leaving)
            picks = self.rng.choice(len(candidates), size=drop, replace=False)
            for j in sorted(picks.tolist()):
                leaving.add(candidates[j])
            self._n_leaving[i] += drop

    # ------------------------------------------------------------------------------------------------------
    # the simulation
    # ------------------------------------------------------------------------------------------------------

    @property
    def now_s(self) -> float:
        return self._t

    def invite(self, counts, valid_s: float | None = None, targets: Sequence[int] | np.ndarray | None = None) -> None:
        """Allow ``counts`` invitations per target (all, or ``targets``) until ``valid_s`` from now (default:
        one interval). They are sent as leads allow, from now on; the previous allowance is replaced."""
        counts = np.asarray(counts, dtype=np.float64)
        idx = np.arange(self.size) if targets is None else np.asarray(targets, dtype=np.int64).reshape(-1)
        counts = np.broadcast_to(counts.reshape(-1) if counts.ndim else counts, idx.shape)
        counts = np.where(np.isfinite(counts) & (counts > 0), np.floor(counts), 0).astype(np.int64)
        until = self._t + (self.interval_s if valid_s is None else float(valid_s))
        t = self._t
        rates = self._derived["lead_rate"]
        for i, c in zip(idx.tolist(), counts.tolist(), strict=True):
            self._allow[i] = c
            self._allow_until[i] = until
            if not c:
                continue
            if math.isinf(rates[i]):
                self._allow[i] = 0
                self._send(i, c, t)
                continue
            self._refresh_leads(i, t)
            k = min(c, self._leads[i])
            if k:
                self._leads[i] -= k
                self._allow[i] = c - k
                self._send(i, k, t)
            if self._allow[i] and not self._lead_wait[i] and rates[i] > 0:
                self._lead_wait[i] = True
                heapq.heappush(self._heap, (t + self._exp() / rates[i], next(self._seq), _LEAD, i, None, None))

    def _refresh_leads(self, i: int, t: float) -> None:
        """Leads present at ``t``: each of those present at the lead clock is still there with probability
        exp(-span/life); arrivals since the clock (none while a lead-arrival event is pending: that event is
        the next arrival) are Poisson(rate span), each still there with probability life (1 - exp(-span/life))
        / span (its arrival time uniform over the span)."""
        span = t - self._lead_clock[i]
        if span <= 0:
            return
        self._lead_clock[i] = t
        life = self._derived["lead_life"][i]
        stay = math.exp(-span / life)
        if self._leads[i]:
            self._leads[i] = int(self.rng.binomial(self._leads[i], stay))
        if self._lead_wait[i]:
            return
        rate = self._derived["lead_rate"][i]
        if not rate > 0 or math.isinf(rate):
            return
        m = int(self.rng.poisson(rate * span))
        if m:
            self._leads_total[i] += m
            self._leads[i] += int(self.rng.binomial(m, min(1.0, life * -math.expm1(-span / life) / span)))

    def _send(self, i: int, k: int, t: float) -> None:
        """``k`` invitations sent at ``t``: each answered after its own response time."""
        self._pending[i] += k
        self._c["sent"][i] += k
        lo = self._derived["resp_min"][i]
        rand = self._derived["resp_rand"][i]
        heap, seq, exp = self._heap, self._seq, self._exp
        push = heapq.heappush
        for _ in range(k):
            push(heap, (t + lo + rand * exp(), next(seq), _RESOLVE, i, None, None))

    def _serve_queue(self, i: int, t: float) -> None:
        """Free agents take the waiting visitors, first come first served."""
        queue, idle = self._queue[i], self._idle[i]
        while idle and self._queued[i]:
            visitor = queue.popleft()
            if visitor[0]:
                continue                                  # abandoned already
            visitor[0] = 2
            self._queued[i] -= 1
            self._start(i, idle.popleft(), t)

    def _start(self, i: int, agent: int, t: float) -> None:
        d = self._derived
        sigma = d["cv_sigma"][i]
        dur = math.exp(d["cv_mu"][i] + sigma * self._norm()) if sigma > 0 else d["aht"][i] * self._exp()
        self._ready[i] -= 1
        self._busy[i] += 1
        self._served[i] += 1
        self._start_sum[i] += t
        self._busy_set[i].add(agent)
        heapq.heappush(self._heap, (t + dur, next(self._seq), _END, i, agent, t))

    def _run_events(self, limit: float) -> None:
        """Process every event at or before ``limit`` (simulated seconds)."""
        heap = self._heap
        pop, push = heapq.heappop, heapq.heappush
        seq, exp, unif = self._seq, self._exp, self._unif
        d = self._derived
        p_acc, exp_share = d["p_accept"], d["expire_share"]
        pat_scale, pat_inv = d["pat_scale"], d["pat_inv_shape"]
        c = self._c
        c_acc, c_dec, c_exp, c_ab, c_done, c_handle = (c["accepted"], c["declined"], c["expired"], c["abandoned"],
                                                      c["completed"], c["handle"])
        pending, queued, ready, busy = self._pending, self._queued, self._ready, self._busy
        queues, idles, leaving_sets, busy_sets = self._queue, self._idle, self._leaving, self._busy_set
        n_leaving, start_sum = self._n_leaving, self._start_sum
        start = self._start
        while heap and heap[0][0] <= limit:
            t, _, kind, i, a, b = pop(heap)
            self._t = t
            if kind == _RESOLVE:
                pending[i] -= 1
                u = unif()
                p = p_acc[i]
                if u < p:
                    c_acc[i] += 1
                    idle = idles[i]
                    if idle and not queued[i]:
                        start(i, idle.popleft(), t)
                    else:
                        visitor = [0]
                        queues[i].append(visitor)
                        queued[i] += 1
                        push(heap, (t + pat_scale[i] * exp() ** pat_inv[i], next(seq), _PATIENCE, i, visitor,
                                    None))
                elif u - p < (1.0 - p) * exp_share[i]:
                    c_exp[i] += 1
                else:
                    c_dec[i] += 1
            elif kind == _END:
                busy[i] -= 1
                start_sum[i] -= b
                c_done[i] += 1
                c_handle[i] += t - b
                busy_sets[i].discard(a)
                leaving = leaving_sets[i]
                if leaving and a in leaving:
                    ready[i] += 1                         # counted for the present time up to now
                    self._present_mark(i)
                    ready[i] -= 1
                    leaving.discard(a)
                    n_leaving[i] -= 1
                    continue
                ready[i] += 1
                idles[i].append(a)
                if queued[i]:
                    self._serve_queue(i, t)
            elif kind == _PATIENCE:
                if a[0] == 0:
                    a[0] = 1
                    queued[i] -= 1
                    c_ab[i] += 1
            else:                                         # _LEAD: a hot lead arrives while an allowance is open
                self._lead_event(i, t)

    def _lead_event(self, i: int, t: float) -> None:
        self._refresh_leads(i, t)                         # the stock's departures up to now (no arrivals)
        self._leads_total[i] += 1
        rate = self._derived["lead_rate"][i]
        if self._allow[i] and self._allow_until[i] > t:
            self._allow[i] -= 1
            self._send(i, 1, t)
        else:
            self._leads[i] += 1
        if self._allow[i] and self._allow_until[i] > t and rate > 0:
            heapq.heappush(self._heap, (t + self._exp() / rate, next(self._seq), _LEAD, i, None, None))
        else:
            self._lead_wait[i] = False

    def _record_tick(self) -> None:
        """Snapshot of agents, queue and cumulative counters at tick ``self._tick`` (and at bucket edges)."""
        k = self._tick
        row = self._snap[k % self._ring_len]
        if self.size:
            self._fill_row(row)
        if k % self.bucket_ticks == 0:
            self._buckets[(k // self.bucket_ticks) % self._buckets.shape[0]] = row[len(_STATE):]

    def _apply_changes(self, t: float) -> None:
        while self._changes and self._changes[0].at_s <= t + _EPS:
            change = self._changes.pop(0)
            self.set(change.targets, **change.values)

    def _apply_drifts(self, t: float) -> None:
        for dr in self._drifts:
            if t < dr.times[0] - _EPS:
                continue                                  # not started
            if t > dr.times[-1] + self.drift_ticks * self.tick_s:
                continue                                  # finished (its last value applied already)
            k = int(np.searchsorted(dr.times, t, side="right"))
            if k == 0:
                frac, lo, hi = 0.0, 0, 0
            elif k >= dr.times.size:
                frac, lo, hi = 0.0, dr.times.size - 1, dr.times.size - 1
            else:
                span = dr.times[k] - dr.times[k - 1]
                frac, lo, hi = (t - dr.times[k - 1]) / span if span > 0 else 1.0, k - 1, k
            values = {key: knots[lo] + frac * (knots[hi] - knots[lo]) for key, knots in dr.values.items()}
            self.set(dr.targets, **values)

    def advance(self, seconds: float) -> None:
        """Simulate ``seconds`` more (events in time order; snapshots, buckets, changes and drifts on the grid)."""
        end = self._t + max(0.0, float(seconds))
        tick_s = self.tick_s
        while True:
            t_next = (self._tick + 1) * tick_s
            if t_next > end + _EPS:
                self._run_events(end)
                self._t = end
                return
            self._run_events(t_next)
            self._t = t_next
            self._tick += 1
            if self._changes and self._changes[0].at_s <= t_next + _EPS:
                self._apply_changes(t_next)
            if self._drifts and self._tick % self.drift_ticks == 0:
                self._apply_drifts(t_next)
            self._record_tick()

    # ------------------------------------------------------------------------------------------------------
    # what Stat Server would report; the engine in a closed loop
    # ------------------------------------------------------------------------------------------------------

    @property
    def busy(self) -> np.ndarray:
        return np.frombuffer(self._busy, dtype=np.int64).copy()

    @property
    def queued(self) -> np.ndarray:
        return np.frombuffer(self._queued, dtype=np.int64).copy()

    @property
    def pending(self) -> np.ndarray:
        return np.frombuffer(self._pending, dtype=np.int64).copy()

    @property
    def leaving(self) -> np.ndarray:
        return np.frombuffer(self._n_leaving, dtype=np.int64).copy()

    def ready(self) -> np.ndarray:
        """Idle logged-in agents now (live)."""
        return np.frombuffer(self._ready, dtype=np.int64).copy()

    def _fill_row(self, row: np.ndarray) -> None:
        """The state now and the cumulative counters now, into ``row`` (len(_ROWS) x size)."""
        for j, name in enumerate(_STATE):
            row[j] = np.frombuffer(getattr(self, "_" + name), dtype=np.int64)
        for j, name in enumerate(_CUM):
            row[len(_STATE) + j] = np.frombuffer(self._c[name], dtype=np.float64 if name == "handle" else np.int64)
        row[_R["busy_time"]] = row[_R["handle"]] + row[_R["busy"]] * self._t - np.frombuffer(self._start_sum)

    def _live_row(self) -> np.ndarray:
        row = np.empty((len(_ROWS), self.size))
        self._fill_row(row)
        return row

    def _window_start(self, tick: np.ndarray) -> np.ndarray:
        """Cumulative counters at the start of the window ending at each target's snapshot tick."""
        first_bucket = tick // self.bucket_ticks - self.window_buckets
        out = np.zeros((len(_CUMX), self.size))
        ok = first_bucket >= 0
        if ok.any():
            cols = np.flatnonzero(ok)
            out[:, cols] = self._buckets[first_bucket[cols] % self._buckets.shape[0], :, cols].T
        return out

    def observed(self) -> dict[str, np.ndarray]:
        """What Stat Server reports to the engine now, per target: ready, busy, queued (at the snapshot),
        the window counts sent … completed and ``aht_s`` of that snapshot, and ``age_s`` (its age)."""
        if self.size == 0:
            out = {k: np.zeros(0) for k in (*_STATE, *_CUM[:-1], "aht_s", "age_s")}
            out["tick"] = np.zeros(0, dtype=np.int64)
            return out
        delay = self._ticks_for_array(self.p["stats_delay_s"])
        live = delay == 0
        now_tick = self._tick
        snap_tick = np.maximum(now_tick - delay, 0)
        rows = self._snap[snap_tick % self._ring_len, :, np.arange(self.size)].T      # (rows, size)
        if live.any():
            lv = self._live_row()
            rows[:, live] = lv[:, live]
        # a live target's window is that of the current tick (partial bucket included)
        start = self._window_start(np.where(live, now_tick, snap_tick))
        cum = rows[len(_STATE):]
        win = cum - start
        out = {name: rows[j].copy() for j, name in enumerate(_STATE)}
        for j, name in enumerate(_CUM[:-1]):
            out[name] = win[j]
        work = "handle" if self.aht_stat == "window" else "busy_time"
        done = win[_CUMX.index("completed")]
        handle = win[_CUMX.index(work)]
        all_done = cum[_CUMX.index("completed")]
        all_handle = cum[_CUMX.index(work)]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["aht_s"] = np.where(done > 0, handle / np.maximum(done, 1),
                                    np.where(all_done > 0, all_handle / np.maximum(all_done, 1), np.nan))
        out["age_s"] = np.where(live, 0.0, self._t - snap_tick * self.tick_s)
        out["tick"] = np.where(live, -1, snap_tick)
        return out

    def _ticks_for_array(self, seconds: np.ndarray) -> np.ndarray:
        ticks = np.ceil(np.maximum(np.asarray(seconds, dtype=np.float64), 0.0) / self.tick_s - _EPS)
        return np.minimum(ticks.astype(np.int64), self._ring_len - 2)

    def sent_since_snapshot(self, obs: dict | None = None) -> np.ndarray:
        """Invitations sent since each target's statistics snapshot (0 when the stats are live)."""
        obs = self.observed() if obs is None else obs
        now = np.frombuffer(self._c["sent"], dtype=np.int64).astype(np.float64)
        snap_tick = obs["tick"]
        at = np.where(snap_tick < 0, now,
                      self._snap[np.maximum(snap_tick, 0) % self._ring_len, _R["sent"], np.arange(self.size)])
        return now - at

    def pending_at_snapshot(self, obs: dict | None = None) -> np.ndarray:
        """Invitations pending when each target's statistics snapshot was taken (now when the stats are live):
        sent - accepted - declined - expired, cumulative, at the snapshot's tick."""
        obs = self.observed() if obs is None else obs
        snap_tick = obs["tick"]
        cols = np.arange(self.size)
        rows = self._snap[np.maximum(snap_tick, 0) % self._ring_len, :, cols].T
        at = rows[_R["sent"]] - rows[_R["accepted"]] - rows[_R["declined"]] - rows[_R["expired"]]
        now = np.frombuffer(self._pending, dtype=np.int64).astype(np.float64)
        return np.where(snap_tick < 0, now, at)

    def window(self) -> dict[str, np.ndarray]:
        """LIVE counters over the sliding window ending now (the current partial bucket included)."""
        lv = self._live_row()[len(_STATE):]
        win = lv - self._window_start(np.full(self.size, self._tick))
        return {name: win[j].astype(np.int64) for j, name in enumerate(_CUM[:-1])}

    def target_state(self, *, know_times: bool = True, goal_pct=None) -> TargetState:
        """The engine's input from the statistics as Stat Server reports them (``observed()``), the pending
        invitations from GPE (current) and ``stats_age_s``. ``know_times``: pass the configured mean
        patience and mean response time (as an operator would set them); otherwise the engine's defaults."""
        obs = self.observed()
        return TargetState(
            ready_agents=obs["ready"], busy_agents=obs["busy"], queued=obs["queued"],
            pending=np.frombuffer(self._pending, dtype=np.int64).astype(np.float64),
            accepted=obs["accepted"], abandoned=obs["abandoned"], sent=obs["sent"], aht_s=obs["aht_s"],
            goal_pct=self.p["goal_pct"].copy() if goal_pct is None else goal_pct,
            interval_s=self.interval_s, declined=obs["declined"], expired=obs["expired"],
            patience_s=self.p["patience_s"].copy() if know_times else None,
            accept_delay_s=self.p["accept_delay_s"].copy() if know_times else None,
            reserve_agents=self.reserve_agents, max_rate_share=self.max_rate_share,
            stats_age_s=obs["age_s"], sent_since_snapshot=self.sent_since_snapshot(obs),
            pending_at_snapshot=self.pending_at_snapshot(obs),
        )

    def pace(self, config: EngineConfig | None = None, *, know_times: bool = True) -> np.ndarray:
        """One pacing cycle: observed stats -> ``compute_invitations`` -> allowance for the next interval."""
        invitations = compute_invitations(self.target_state(know_times=know_times), config)
        self.invite(invitations)
        return invitations

    def run(self, seconds: float, config: EngineConfig | None = None, *, store=None, know_times: bool = True,
            on_cycle=None) -> None:
        """The closed loop for ``seconds``: every interval one engine cycle (fed to ``store`` if given, before
        the cycle), then the interval simulated."""
        cycles = max(0, round(seconds / self.interval_s))
        for _ in range(cycles):
            if store is not None:
                self.feed(store)
            invitations = self.pace(config, know_times=know_times)
            if on_cycle is not None:
                on_cycle(self, invitations)
            self.advance(self.interval_s)

    def snapshots(self, taken_at: float | None = None, targets: Sequence[int] | None = None) -> list:
        """One ``StatsSnapshot`` per target, as Stat Server reports it (delayed; ``taken_at`` = the given
        stamp, default now, minus each snapshot's age)."""
        cls = _snapshot_class()
        stamp = time.time() if taken_at is None else float(taken_at)
        obs = self.observed()
        out = []
        for i in range(self.size) if targets is None else targets:
            out.append(cls(target=self.names[i], ready_agents=float(obs["ready"][i]),
                           busy_agents=float(obs["busy"][i]), current=float(obs["queued"][i]),
                           accepted=float(obs["accepted"][i]), abandoned=float(obs["abandoned"][i]),
                           aht_s=float(obs["aht_s"][i]), sent=float(obs["sent"][i]),
                           declined=float(obs["declined"][i]), expired=float(obs["expired"][i]),
                           taken_at=stamp - float(obs["age_s"][i])))
        return out

    def feed(self, store, taken_at: float | None = None) -> int:
        """Put one snapshot per target into a stats store (anything with ``put_many``); returns the count."""
        snaps = self.snapshots(taken_at)
        if snaps:
            store.put_many(snaps)
        return len(snaps)

    # ------------------------------------------------------------------------------------------------------
    # accounting
    # ------------------------------------------------------------------------------------------------------

    def totals(self) -> dict[str, np.ndarray]:
        """Run totals per target (copies; the keys of ContactCentre.totals); times in seconds."""
        def q(arr):
            return np.frombuffer(arr, dtype=np.int64).copy()

        def f(arr):
            return np.frombuffer(arr, dtype=np.float64).copy()

        t = self._t
        busy = q(self._busy)
        ready = q(self._ready)
        out = {
            "leads": q(self._leads_total), "sent": q(self._c["sent"]), "accepted": q(self._c["accepted"]),
            "declined": q(self._c["declined"]), "expired": q(self._c["expired"]),
            "abandoned": q(self._c["abandoned"]), "served": q(self._served), "completed": q(self._c["completed"]),
        }
        handle = f(self._c["handle"])
        out["handle_s"] = handle
        out["busy_s"] = handle + busy * t - f(self._start_sum)
        out["present_s"] = f(self._present) + (ready + busy) * (t - f(self._present_at))
        out["queued"] = q(self._queued)
        out["pending"] = q(self._pending)
        out["busy"] = busy
        out["leaving"] = q(self._n_leaving)
        return out


def _check(params: dict) -> None:
    unknown = set(params) - set(PARAMS)
    if unknown:
        raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
