"""A discrete-time contact-centre simulator of many pacing targets at once (numpy, vectorised over targets).

What it stands in for: the visitors GPE invites and Stat Server's view of the agents, so that the pacing
engine can be driven in a closed loop on one machine (the quality benchmark, the tests, the GPE simulator
of the demo). Everything here is OURS; the model is deliberately simple and every random draw comes from
one seeded ``numpy.random.Generator`` (same seed, same parameters, same calls -> the same trajectory).

The model, per target, in steps of ``dt`` seconds (default 1 s):

* **Hot leads** (visitors GPE may invite) arrive as a Poisson process (``lead_rate`` per second) and leave
  the site after an exponential time (mean ``lead_lifetime_s``); ``lead_rate = inf`` means unlimited.
* **Invitations.** ``invite(counts)`` gives each target an allowance for the next interval; the allowance
  is spent on the leads present, as they arrive, and lapses after ``interval_s`` (or the ``valid_s`` given).
  A sent invitation is *pending* for an exponential time (mean ``accept_delay_s``), then resolves:
  accepted with probability ``p_accept``, otherwise expired (share ``expire_share`` of the rest) or declined.
* **Queue.** An accepted visitor waits for an agent (PACS_VQ_Current) and closes the chat, *abandons*,
  after an exponential patience (mean ``patience_s``) if no agent joins first. Free agents take waiting
  visitors at once (memoryless patience: counters, not objects, are exact).
* **Agents.** ``agents`` are logged in; each serves one interaction at a time for a handle time drawn from
  an exponential (``handle_sigma <= 0``) or a lognormal (``handle_sigma`` = sigma of log, mean ``aht_s``),
  rounded to whole steps (at least 1), kept in a calendar ring of completions (durations are capped at the
  ring's length, 8 x the largest AHT by default). When ``agents`` drops, idle agents log out first; busy
  ones become *leaving*: they finish their interaction, take no other, then log out (a completion is a
  leaving agent's with probability leaving / busy: hypergeometric draws). They still count as busy (they
  handle an interaction) and as logged in until they finish; ready = agents - (busy - leaving).
* **Scheduled changes** (``schedule(at_s, targets=None, agents=..., lead_rate=..., p_accept=...)``): log-ins
  and log-outs, lead surges, a change of visitors' behaviour.

Order within a step: scheduled changes, completions, lead arrivals and departures, resolution of pending
invitations (accepted ones join the queue), invitations sent from the allowance, free agents take waiting
visitors, abandonment of those still waiting, accounting.

Observed statistics (what Stat Server would report): ready, busy, queued now; sent, accepted, declined,
expired, abandoned and completed over a sliding ``window_s`` (buckets of ``interval_s``); the average handle
time of the interactions completed since the start (NaN before the first one). ``target_state()`` turns
them into the engine's ``TargetState``; ``pace()`` runs one engine cycle; ``run()`` the closed loop;
``snapshots()`` / ``feed(store)`` produce ``pacing.stats.StatsSnapshot`` objects for a stats store.

Accounting over the run (``totals()``): leads, sent, accepted, declined, expired, abandoned (before an agent
joined), served (an agent joined), completed, agent busy-seconds and logged-in agent-seconds (occupancy =
busy / logged in). Invariants: accepted = served + abandoned + queued; sent = accepted + declined +
expired + pending.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pacing.engine import EngineConfig, TargetState, compute_invitations

__all__ = ["PARAMS", "ContactCentre", "Change", "erlang_a_occupancy_bound"]

# Per-target parameters and their defaults (ours).
PARAMS: dict[str, float] = {
    "agents": 10,              # agents logged in
    "aht_s": 300.0,            # mean handle time, s
    "handle_sigma": 0.0,       # <= 0: exponential handle times; > 0: lognormal with this sigma (of the log)
    "patience_s": 60.0,        # mean patience of an accepted visitor waiting for an agent, s
    "accept_delay_s": 20.0,    # mean time from invitation to answer, s
    "p_accept": 0.3,           # probability that an answered invitation is accepted
    "expire_share": 0.3,       # of the invitations not accepted, the share that expire (the rest are declined)
    "lead_rate": math.inf,     # hot leads arriving per second (inf: unlimited)
    "lead_lifetime_s": 120.0,  # mean time a hot lead stays on the site, s
    "goal_pct": 3.0,           # optimizationGoal given to the engine
}

# Counters of the sliding window (rows of the window arrays).
_WIN = ("sent", "accepted", "declined", "expired", "abandoned", "completed")
_W = {name: i for i, name in enumerate(_WIN)}

# Totals kept over the whole run.
_TOTALS = ("leads", "sent", "accepted", "declined", "expired", "abandoned", "served", "completed",
           "handle_steps", "busy_steps", "present_steps")


@dataclass
class Change:
    """A scheduled change of per-target parameters at simulated time ``at_s`` (targets None = all)."""

    at_s: float
    values: dict[str, Any]
    targets: np.ndarray | None = None
    order: int = 0


@dataclass
class _Fallback:
    """Stands in for pacing.stats.StatsSnapshot when that module is not importable (same fields)."""

    target: str
    ready_agents: float
    busy_agents: float
    current: float
    accepted: float
    abandoned: float
    aht_s: float                       # NaN: unknown
    sent: float | None = None
    declined: float | None = None
    expired: float | None = None
    taken_at: float = 0.0


def _snapshot_class():
    try:
        from pacing.stats import StatsSnapshot  # noqa: PLC0415 - optional, and Django-free callers need not have it
    except ImportError:
        return _Fallback
    return StatsSnapshot


class ContactCentre:
    """Many pacing targets, simulated together in discrete time. See the module docstring for the model.

    Parameters (each a scalar or an array with one entry per target): see ``PARAMS``. ``n_targets`` may be
    omitted when ``names`` is given or a parameter is an array.
    """

    def __init__(self, n_targets: int | None = None, *, names: Sequence[str] | None = None, seed: int | None = 0,
                 dt: float = 1.0, interval_s: float = 5.0, window_s: float = 900.0,
                 max_handle_s: float | None = None, initial_leads: bool = True, aht_stat: str = "censored",
                 **params: Any) -> None:
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
        if n_targets is None:
            if names is not None:
                n_targets = len(names)
            else:
                sizes = [np.size(v) for v in params.values() if np.ndim(v)]
                n_targets = max(sizes) if sizes else 1
        self.size = int(n_targets)
        self.names = list(names) if names is not None else [f"target-{i}" for i in range(self.size)]
        if len(self.names) != self.size:
            raise ValueError("names and n_targets disagree")
        if aht_stat not in ("censored", "completed"):
            raise ValueError("aht_stat must be 'censored' or 'completed'")
        self.aht_stat = aht_stat
        self.dt = float(dt)
        self.interval_s = float(interval_s)
        #: the engine's protection of other traffic (TargetState.reserve_agents / max_rate_share); off by default
        self.reserve_agents = None
        self.max_rate_share = None
        self.bucket_steps = max(1, round(self.interval_s / self.dt))
        self.window_buckets = max(1, round(window_s / (self.bucket_steps * self.dt)))
        self.window_s = self.window_buckets * self.bucket_steps * self.dt
        self.rng = np.random.default_rng(seed)
        self.t = 0                                        # steps done
        self._changes: list[Change] = []
        self._change_count = 0

        self.p = {k: self._param(params.get(k, default), self.size) for k, default in PARAMS.items()}
        self.p["agents"] = np.rint(self.p["agents"]).astype(np.int64)
        aht_max = float(self.p["aht_s"].max()) if self.size else PARAMS["aht_s"]
        self.horizon = self._horizon(max_handle_s if max_handle_s is not None else 8.0 * aht_max)

        zeros = np.zeros(self.size, dtype=np.int64)
        self.leads = zeros.copy()
        self.pending = zeros.copy()
        self.queued = zeros.copy()
        self.busy = zeros.copy()
        self.leaving = zeros.copy()                       # busy agents who logged out (finishing a chat)
        self.allowance = zeros.copy()
        self.allowance_until = zeros.copy()               # step at which the allowance lapses
        self.ends = np.zeros((self.horizon, self.size), dtype=np.int32)        # completions per future step
        self.ends_steps = np.zeros((self.horizon, self.size), dtype=np.int64)  # their handle steps
        self.win_ring = np.zeros((self.window_buckets, len(_WIN), self.size), dtype=np.int64)
        self.win_sum = np.zeros((len(_WIN), self.size), dtype=np.int64)
        self.win_cur = np.zeros((len(_WIN), self.size), dtype=np.int64)
        self.tot = {k: zeros.copy() for k in _TOTALS}
        self._derive()
        if initial_leads:
            finite = np.isfinite(self.p["lead_rate"])
            mean = np.where(finite, self.p["lead_rate"] * self.p["lead_lifetime_s"], 0.0)
            self.leads = self.rng.poisson(mean).astype(np.int64)

    # ------------------------------------------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------------------------------------------

    @staticmethod
    def _param(value: Any, size: int) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float64)
        return np.array(np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (size,)), dtype=np.float64)

    def _horizon(self, max_handle_s: float) -> int:
        return max(16, math.ceil(max(max_handle_s, 1.0) / self.dt) + 1)

    def _derive(self) -> None:
        """Per-step probabilities from the parameters (recomputed after every change)."""
        p, dt = self.p, self.dt
        self.q_resolve = -np.expm1(-dt / np.maximum(p["accept_delay_s"], 1e-9))
        self.q_abandon = -np.expm1(-dt / np.maximum(p["patience_s"], 1e-9))
        self.q_lead_leaves = -np.expm1(-dt / np.maximum(p["lead_lifetime_s"], 1e-9))
        self.p_accept = np.clip(p["p_accept"], 0.0, 1.0)
        self.expire_share = np.clip(p["expire_share"], 0.0, 1.0)
        self.unlimited = ~np.isfinite(p["lead_rate"])
        self.lead_mean = np.where(self.unlimited, 0.0, np.maximum(p["lead_rate"], 0.0) * dt)
        sigma = p["handle_sigma"]
        self.lognormal = sigma > 0
        self.log_mu = np.log(np.maximum(p["aht_s"], 1e-9)) - 0.5 * np.where(self.lognormal, sigma, 0.0) ** 2
        need = self._horizon(8.0 * float(p["aht_s"].max())) if self.size else self.horizon
        if need > self.horizon:
            self._grow_ring(need)

    def _grow_ring(self, horizon: int) -> None:
        """A longer calendar: scheduled completions keep their absolute step."""
        steps = self.t + np.arange(self.horizon)
        old, new = steps % self.horizon, steps % horizon
        ends = np.zeros((horizon, self.size), dtype=np.int32)
        ends_steps = np.zeros((horizon, self.size), dtype=np.int64)
        ends[new] = self.ends[old]
        ends_steps[new] = self.ends_steps[old]
        self.ends, self.ends_steps, self.horizon = ends, ends_steps, horizon

    def add_targets(self, names: Sequence[str], **params: Any) -> np.ndarray:
        """Append targets (parameters as in the constructor); returns their indices."""
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
        k = len(names)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        first = self.size
        for key, default in PARAMS.items():
            extra = self._param(params.get(key, default), k)
            if key == "agents":
                extra = np.rint(extra).astype(np.int64)
            self.p[key] = np.concatenate([self.p[key], extra])
        z = np.zeros(k, dtype=np.int64)
        for attr in ("leads", "pending", "queued", "busy", "leaving", "allowance", "allowance_until"):
            setattr(self, attr, np.concatenate([getattr(self, attr), z]))
        self.ends = np.concatenate([self.ends, np.zeros((self.horizon, k), dtype=np.int32)], axis=1)
        self.ends_steps = np.concatenate([self.ends_steps, np.zeros((self.horizon, k), dtype=np.int64)], axis=1)
        self.win_ring = np.concatenate([self.win_ring, np.zeros(self.win_ring.shape[:2] + (k,), np.int64)], axis=2)
        self.win_sum = np.concatenate([self.win_sum, np.zeros((len(_WIN), k), np.int64)], axis=1)
        self.win_cur = np.concatenate([self.win_cur, np.zeros((len(_WIN), k), np.int64)], axis=1)
        for key in _TOTALS:
            self.tot[key] = np.concatenate([self.tot[key], z])
        self.names.extend(names)
        self.size += k
        self._derive()
        new = np.arange(first, self.size)
        finite = np.isfinite(self.p["lead_rate"][new])
        mean = np.where(finite, self.p["lead_rate"][new] * self.p["lead_lifetime_s"][new], 0.0)
        self.leads[new] = self.rng.poisson(mean)
        return new

    def index(self, name: str) -> int:
        return self.names.index(name)

    def schedule(self, at_s: float, targets: Sequence[int] | np.ndarray | None = None, **values: Any) -> None:
        """At simulated time ``at_s`` set these parameters (scalars or arrays matching ``targets``)."""
        unknown = set(values) - set(PARAMS)
        if unknown:
            raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
        idx = None if targets is None else np.asarray(targets, dtype=np.int64).reshape(-1)
        self._change_count += 1
        self._changes.append(Change(float(at_s), dict(values), idx, self._change_count))
        self._changes.sort(key=lambda c: (c.at_s, c.order))

    def set(self, targets: Sequence[int] | np.ndarray | None = None, **values: Any) -> None:
        """Change parameters now."""
        for key, value in values.items():
            if key not in PARAMS:
                raise TypeError(f"unknown parameter: {key}")
            arr = self.p[key]
            value = np.asarray(value, dtype=np.float64)
            idx = slice(None) if targets is None else np.asarray(targets, dtype=np.int64)
            if key == "agents":
                value = np.rint(value).astype(np.int64)
                old = arr.copy()
                arr[idx] = value
                # log-outs: idle agents first, then busy ones finish their interaction (leaving)
                drop = np.maximum(old - arr, 0)
                idle = np.maximum(old - (self.busy - self.leaving), 0)
                self.leaving += np.minimum(drop - np.minimum(drop, idle), self.busy - self.leaving)
            else:
                arr[idx] = value
        self._derive()

    # ------------------------------------------------------------------------------------------------------
    # the simulation
    # ------------------------------------------------------------------------------------------------------

    @property
    def now_s(self) -> float:
        return self.t * self.dt

    def _binomial(self, n: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.int64)
        idx = np.flatnonzero(n)
        if idx.size:
            out[idx] = self.rng.binomial(n[idx], p[idx])
        return out

    def invite(self, counts, valid_s: float | None = None, targets: Sequence[int] | np.ndarray | None = None) -> None:
        """Allow ``counts`` invitations per target (all, or ``targets``) until ``valid_s`` from now (default:
        one interval). They are sent as leads allow, from this step on; the previous allowance is replaced."""
        counts = np.asarray(counts)
        counts = np.where(np.isfinite(counts) & (counts > 0), counts, 0).astype(np.int64)
        until = self.t + max(1, round((self.interval_s if valid_s is None else valid_s) / self.dt))
        if targets is None:
            self.allowance[:] = counts
            self.allowance_until[:] = until
        else:
            idx = np.asarray(targets, dtype=np.int64)
            self.allowance[idx] = counts
            self.allowance_until[idx] = until
        self._send()

    def _send(self) -> np.ndarray:
        """Spend the allowance on the leads present (all of it where leads are unlimited)."""
        sent = np.where(self.unlimited, self.allowance, np.minimum(self.allowance, self.leads))
        if sent.any():
            self.allowance -= sent
            self.leads -= np.where(self.unlimited, 0, sent)
            self.pending += sent
            self.win_cur[_W["sent"]] += sent
            self.tot["sent"] += sent
        return sent

    def _apply_changes(self) -> None:
        now = self.t * self.dt + 1e-9
        changed = False
        while self._changes and self._changes[0].at_s <= now:
            change = self._changes.pop(0)
            self.set(change.targets, **change.values)
            changed = True
        if changed:
            self._derive()

    def step(self) -> None:
        """Advance one step of ``dt`` seconds."""
        if self._changes:
            self._apply_changes()
        tot, cur, rng = self.tot, self.win_cur, self.rng
        # the allowance lapses at the end of its interval
        lapsed = self.allowance_until <= self.t
        if lapsed.any():
            self.allowance[lapsed] = 0

        # completions due now
        slot = self.t % self.horizon
        done = self.ends[slot]
        if done.any():
            done = done.astype(np.int64)
            if self.leaving.any():
                who = np.flatnonzero((self.leaving > 0) & (done > 0))
                if who.size:
                    self.leaving[who] -= self.rng.hypergeometric(self.leaving[who], self.busy[who] - self.leaving[who],
                                                                 done[who])
            self.busy -= done
            cur[_W["completed"]] += done
            tot["completed"] += done
            tot["handle_steps"] += self.ends_steps[slot]
            self.ends[slot] = 0
            self.ends_steps[slot] = 0

        # hot leads
        if not self.unlimited.all():
            arrived = rng.poisson(self.lead_mean)
            left = self._binomial(self.leads, self.q_lead_leaves)
            self.leads += arrived - left
            tot["leads"] += arrived

        # pending invitations resolve
        resolved = self._binomial(self.pending, self.q_resolve)
        if resolved.any():
            accepted = self._binomial(resolved, self.p_accept)
            expired = self._binomial(resolved - accepted, self.expire_share)
            declined = resolved - accepted - expired
            self.pending -= resolved
            self.queued += accepted
            for key, value in (("accepted", accepted), ("expired", expired), ("declined", declined)):
                cur[_W[key]] += value
                tot[key] += value

        # invitations go out as leads allow
        if self.allowance.any():
            self._send()

        # free agents take waiting visitors
        if self.queued.any():
            free = np.maximum(self.p["agents"] - (self.busy - self.leaving), 0)
            take = np.minimum(free, self.queued)
            if take.any():
                self.queued -= take
                self.busy += take
                tot["served"] += take
                self._start_service(take)
            # those still waiting may abandon
            gone = self._binomial(self.queued, self.q_abandon)
            if gone.any():
                self.queued -= gone
                cur[_W["abandoned"]] += gone
                tot["abandoned"] += gone

        tot["busy_steps"] += self.busy
        tot["present_steps"] += self.p["agents"] + self.leaving
        self.t += 1
        if self.t % self.bucket_steps == 0:
            self._roll_window()

    def _start_service(self, take: np.ndarray) -> None:
        idx = np.flatnonzero(take)
        who = np.repeat(idx, take[idx])
        m = who.size
        dur = np.empty(m)
        logn = self.lognormal[who]
        if logn.any():
            dur[logn] = self.rng.lognormal(self.log_mu[who[logn]], self.p["handle_sigma"][who[logn]])
        expo = ~logn
        if expo.any():
            dur[expo] = self.rng.exponential(self.p["aht_s"][who[expo]])
        steps = np.clip(np.rint(dur / self.dt), 1, self.horizon - 1).astype(np.int64)
        slots = (self.t + steps) % self.horizon
        np.add.at(self.ends, (slots, who), 1)
        np.add.at(self.ends_steps, (slots, who), steps)

    def _roll_window(self) -> None:
        i = (self.t // self.bucket_steps) % self.window_buckets
        self.win_sum += self.win_cur
        self.win_sum -= self.win_ring[i]
        self.win_ring[i] = self.win_cur
        self.win_cur = np.zeros_like(self.win_cur)

    def advance(self, seconds: float) -> None:
        for _ in range(max(0, round(seconds / self.dt))):
            self.step()

    # ------------------------------------------------------------------------------------------------------
    # what Stat Server would report; the engine in a closed loop
    # ------------------------------------------------------------------------------------------------------

    def window(self) -> dict[str, np.ndarray]:
        """Counters over the sliding window (the current partial bucket included)."""
        total = self.win_sum + self.win_cur
        return {name: total[i].copy() for i, name in enumerate(_WIN)}

    def ready(self) -> np.ndarray:
        return np.maximum(self.p["agents"] - (self.busy - self.leaving), 0)

    def observed_aht(self) -> np.ndarray:
        """The AHT statistic since the start; NaN before the first completed interaction.

        ``aht_stat="censored"`` (default): agent busy time (completed interactions and the elapsed part of
        those in progress) / completed interactions -- the time-on-test estimator, unbiased for exponential
        handle times even in the first minutes. ``"completed"``: handle time of the completed interactions
        / their number -- what a naive statistic reports; biased low until about one AHT after a cold start
        (only the short interactions have ended), which makes the engine over-invite (docs/pacing.md).
        """
        done = self.tot["completed"]
        work = self.tot["busy_steps"] if self.aht_stat == "censored" else self.tot["handle_steps"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(done > 0, work * self.dt / np.maximum(done, 1), np.nan)

    def target_state(self, *, know_times: bool = True, goal_pct=None) -> TargetState:
        """The engine's input from the observed statistics. ``know_times``: pass the configured patience and
        accept delay (as an operator would set them); otherwise the engine uses its defaults."""
        w = self.window()
        f = np.float64
        return TargetState(
            ready_agents=self.ready().astype(f), busy_agents=self.busy.astype(f), queued=self.queued.astype(f),
            pending=self.pending.astype(f), accepted=w["accepted"].astype(f), abandoned=w["abandoned"].astype(f),
            sent=w["sent"].astype(f), aht_s=self.observed_aht(),
            goal_pct=self.p["goal_pct"].copy() if goal_pct is None else goal_pct,
            interval_s=self.interval_s, declined=w["declined"].astype(f), expired=w["expired"].astype(f),
            patience_s=self.p["patience_s"].copy() if know_times else None,
            accept_delay_s=self.p["accept_delay_s"].copy() if know_times else None,
            reserve_agents=self.reserve_agents, max_rate_share=self.max_rate_share,
        )

    def pace(self, config: EngineConfig | None = None, *, know_times: bool = True) -> np.ndarray:
        """One pacing cycle: observed stats -> ``compute_invitations`` -> allowance for the next interval."""
        invitations = compute_invitations(self.target_state(know_times=know_times), config)
        self.invite(invitations)
        return invitations

    def run(self, seconds: float, config: EngineConfig | None = None, *, store=None, know_times: bool = True,
            on_cycle=None) -> None:
        """The closed loop for ``seconds``: every interval one engine cycle (fed to ``store`` if given,
        before the cycle, as the pacing service reads the store), then the interval simulated."""
        cycles = max(0, round(seconds / self.interval_s))
        for _ in range(cycles):
            if store is not None:
                self.feed(store)
            invitations = self.pace(config, know_times=know_times)
            if on_cycle is not None:
                on_cycle(self, invitations)
            self.advance(self.interval_s)

    def snapshots(self, taken_at: float | None = None, targets: Sequence[int] | None = None) -> list:
        """One ``StatsSnapshot`` per target (window counters; AHT since the start, NaN when unknown)."""
        cls = _snapshot_class()
        stamp = time.time() if taken_at is None else float(taken_at)
        w = self.window()
        ready, aht = self.ready(), self.observed_aht()
        out = []
        for i in range(self.size) if targets is None else targets:
            out.append(cls(target=self.names[i], ready_agents=float(ready[i]), busy_agents=float(self.busy[i]),
                           current=float(self.queued[i]), accepted=float(w["accepted"][i]),
                           abandoned=float(w["abandoned"][i]), aht_s=float(aht[i]), sent=float(w["sent"][i]),
                           declined=float(w["declined"][i]), expired=float(w["expired"][i]), taken_at=stamp))
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
        """Run totals per target (copies); times in seconds (``busy_s``, ``present_s``, ``handle_s``)."""
        out = {k: v.copy() for k, v in self.tot.items() if not k.endswith("_steps")}
        out["busy_s"] = self.tot["busy_steps"] * self.dt
        out["present_s"] = self.tot["present_steps"] * self.dt
        out["handle_s"] = self.tot["handle_steps"] * self.dt
        out["queued"] = self.queued.copy()
        out["pending"] = self.pending.copy()
        out["busy"] = self.busy.copy()
        out["leaving"] = self.leaving.copy()
        return out


def erlang_a_occupancy_bound(agents, aht_s, patience_s, goal_pct) -> np.ndarray:
    """The occupancy Erlang A allows at the goal: a* (1 - P(Ab)) / n with a* the largest offered load whose
    P(Ab) <= goal (Poisson arrivals, exponential handle times and patience). 0 without agents."""
    from pacing.queueing import erlang_a_load, erlang_a_max_load

    n = np.asarray(agents, dtype=np.float64)
    r = np.asarray(aht_s, dtype=np.float64) / np.asarray(patience_s, dtype=np.float64)
    g = np.asarray(goal_pct, dtype=np.float64) / 100.0
    n, r, g = np.broadcast_arrays(n, r, g)
    a = erlang_a_max_load(n, r, g, steps=50)
    p_ab = erlang_a_load(n, a, r)[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, a * (1.0 - p_ab) / np.where(n > 0, n, 1.0), 0.0)
